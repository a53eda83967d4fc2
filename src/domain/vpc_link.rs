//! A REST API's VPC link (`apigateway`): a named way to a private backend (AWS: a Network
//! Load Balancer, named by its ARN in `targetArns`). Integrations with `connectionType:
//! VPC_LINK` name it by id; a worker reaches its target at the URL `--aws-endpoint ARN=URL`
//! gives for the target's ARN.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Whether `arn` names a Network Load Balancer (what a REST API's VPC link targets).
pub fn is_load_balancer_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    matches!(parts.as_slice(), ["arn", _, "elasticloadbalancing", _, _, resource] if resource.starts_with("loadbalancer/net/"))
}

/// A VPC link as GetVpcLink answers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VpcLink {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub target_arns: Vec<String>,
    /// `PENDING` in CreateVpcLink's answer, `AVAILABLE` after: there is nothing to provision.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
    /// Shown by GetVpcLink and UpdateVpcLink even when empty, as AWS shows them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
}

impl VpcLink {
    /// As AWS lists or creates a link: its tags only when it has some.
    pub fn without_empty_tags(mut self) -> Self {
        if self.tags.as_ref().is_some_and(BTreeMap::is_empty) {
            self.tags = None;
        }
        self
    }

    /// As GetVpcLink shows it: its tags, even none.
    pub fn with_tags(mut self) -> Self {
        self.tags.get_or_insert_with(BTreeMap::new);
        self
    }
}

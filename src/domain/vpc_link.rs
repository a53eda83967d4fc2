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
    /// `AVAILABLE` at once: there is nothing to provision.
    pub status: String,
    pub status_message: String,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

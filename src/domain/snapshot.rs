//! A deployment snapshot: the whole definition of a REST API frozen by `CreateDeployment`.
//!
//! It is stored once per distinct content (keyed by the SHA-256 of its canonical JSON) and never
//! edited; stages point at deployments, deployments at snapshots. Workers fetch snapshots by hash.
//! Canonical JSON is what `serde_json` writes for these types: struct fields in declaration order,
//! maps as `BTreeMap` (sorted), resources sorted by path, so equal definitions hash equally.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::http_api::{Authorizer as HttpAuthorizer, HttpApi, Integration as HttpIntegration, Route};
use super::rest_api::{
    ApiSummary, Authorizer, GatewayResponse, MethodSnapshot, Model, RequestValidator, Resource, RestApi,
};

/// Bumped when the snapshot's shape changes incompatibly, so old workers refuse new snapshots.
pub const SNAPSHOT_FORMAT: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    pub format: u32,
    pub rest_api: RestApi,
    /// Every resource with its methods (integrations and responses included), sorted by path.
    pub resources: Vec<Resource>,
    /// Models by name, validators and authorizers by id, customised gateway responses by type.
    #[serde(default)]
    pub models: BTreeMap<String, Model>,
    #[serde(default)]
    pub request_validators: BTreeMap<String, RequestValidator>,
    #[serde(default)]
    pub authorizers: BTreeMap<String, Authorizer>,
    #[serde(default)]
    pub gateway_responses: BTreeMap<String, GatewayResponse>,
    /// The tenant's VPC links (id → target ARN), when an integration reaches its backend
    /// through one.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub vpc_links: BTreeMap<String, String>,
}

impl Snapshot {
    pub fn new(rest_api: RestApi, mut resources: Vec<Resource>) -> Self {
        resources.sort_by(|a, b| a.path.cmp(&b.path));
        // Tags are live metadata, not part of what a deployment serves.
        let rest_api = RestApi {
            tags: BTreeMap::new(),
            ..rest_api
        };
        Self {
            format: SNAPSHOT_FORMAT,
            rest_api,
            resources,
            models: BTreeMap::new(),
            request_validators: BTreeMap::new(),
            authorizers: BTreeMap::new(),
            gateway_responses: BTreeMap::new(),
            vpc_links: BTreeMap::new(),
        }
    }

    /// The canonical bytes and their SHA-256, hex-encoded.
    pub fn canonical(&self) -> (Vec<u8>, String) {
        let bytes = serde_json::to_vec(self).expect("a snapshot always serialises");
        let hash = hex::encode(Sha256::digest(&bytes));
        (bytes, hash)
    }

    pub fn method_count(&self) -> usize {
        self.resources
            .iter()
            .map(|r| r.resource_methods.as_ref().map_or(0, BTreeMap::len))
            .sum()
    }

    /// AWS's `apiSummary`: per path, per method, the authorization type and API-key flag.
    pub fn api_summary(&self) -> ApiSummary {
        self.resources
            .iter()
            .filter_map(|r| {
                let methods = r.resource_methods.as_ref().filter(|m| !m.is_empty())?;
                let summary = methods
                    .iter()
                    .map(|(verb, m)| {
                        let s = MethodSnapshot {
                            authorization_type: m.authorization_type,
                            api_key_required: m.api_key_required,
                        };
                        (verb.clone(), s)
                    })
                    .collect();
                Some((r.path.clone(), summary))
            })
            .collect()
    }
}

/// A deployment snapshot of an HTTP or WebSocket API: the API (without its tags), its routes
/// (sorted by route key) and the integrations they target (by id).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpSnapshot {
    pub format: u32,
    pub http_api: HttpApi,
    pub routes: Vec<Route>,
    #[serde(default)]
    pub integrations: BTreeMap<String, HttpIntegration>,
    /// The authorizers routes name, by id.
    #[serde(default)]
    pub authorizers: BTreeMap<String, HttpAuthorizer>,
    /// A WebSocket API's route responses, by route id (what a route sends back).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub route_responses: BTreeMap<String, Vec<crate::domain::http_api::RouteResponse>>,
    /// A WebSocket API's integration responses, by integration id (how an answer becomes
    /// the message sent back).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub integration_responses: BTreeMap<String, Vec<crate::domain::http_api::IntegrationResponse>>,
    /// A WebSocket API's models, by name (what routes' request models validate messages
    /// against).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub models: BTreeMap<String, crate::domain::http_api::Model>,
}

impl HttpSnapshot {
    pub fn new(api: HttpApi, mut routes: Vec<Route>, integrations: Vec<HttpIntegration>) -> Self {
        routes.sort_by(|a, b| a.route_key.cmp(&b.route_key));
        Self {
            format: SNAPSHOT_FORMAT,
            http_api: HttpApi {
                tags: BTreeMap::new(),
                ..api
            },
            routes,
            integrations: integrations
                .into_iter()
                .map(|i| (i.integration_id.clone(), i))
                .collect(),
            authorizers: BTreeMap::new(),
            route_responses: BTreeMap::new(),
            integration_responses: BTreeMap::new(),
            models: BTreeMap::new(),
        }
    }

    /// The canonical bytes and their SHA-256, hex-encoded.
    pub fn canonical(&self) -> (Vec<u8>, String) {
        let bytes = serde_json::to_vec(self).expect("a snapshot always serialises");
        let hash = hex::encode(Sha256::digest(&bytes));
        (bytes, hash)
    }
}

/// What a worker fetches by hash: a snapshot of either kind, told apart by its API's field
/// (`restApi` or `httpApi`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum AnySnapshot {
    Rest(Box<Snapshot>),
    Http(Box<HttpSnapshot>),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::enums::*;
    use crate::domain::rest_api::*;

    fn api() -> RestApi {
        RestApi {
            id: "abc".into(),
            name: "n".into(),
            description: None,
            created_date: 1,
            version: None,
            warnings: vec![],
            binary_media_types: vec![],
            minimum_compression_size: None,
            api_key_source: ApiKeySource::Header,
            endpoint_configuration: EndpointConfiguration {
                types: vec![EndpointType::Edge],
                ip_address_type: Some(IpAddressType::Ipv4),
                vpc_endpoint_ids: vec![],
            },
            policy: None,
            tags: BTreeMap::new(),
            disable_execute_api_endpoint: false,
            root_resource_id: "r".into(),
        }
    }

    fn resource(id: &str, path: &str) -> Resource {
        Resource {
            id: id.into(),
            parent_id: None,
            path_part: None,
            path: path.into(),
            resource_methods: None,
        }
    }

    #[test]
    fn equal_definitions_hash_equally_whatever_the_order() {
        let a = Snapshot::new(api(), vec![resource("1", "/"), resource("2", "/b")]);
        let b = Snapshot::new(api(), vec![resource("2", "/b"), resource("1", "/")]);
        assert_eq!(a.canonical().1, b.canonical().1);
        let c = Snapshot::new(api(), vec![resource("1", "/"), resource("2", "/c")]);
        assert_ne!(a.canonical().1, c.canonical().1);
    }

    #[test]
    fn tags_do_not_change_the_hash() {
        let mut tagged = api();
        tagged.tags.insert("k".into(), "v".into());
        assert_eq!(
            Snapshot::new(api(), vec![]).canonical().1,
            Snapshot::new(tagged, vec![]).canonical().1
        );
    }
}

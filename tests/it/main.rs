//! The one integration-test binary: every test starts the real server on an ephemeral port with
//! a fresh database and drives it with the AWS SDK for Rust (or a raw HTTP client where the SDK
//! would refuse to send what is being tested).

mod helpers;

mod api_documents;
mod auth;
mod aws_integrations;
mod backends;
mod binary;
mod client_certificates;
mod conformance;
mod dataplane;
mod deployments;
mod distribution;
mod documentation;
mod domains;
mod http_apis;
mod import_export;
mod integrations;
mod methods;
mod openapi;
mod operations;
mod resources;
mod rest_apis;
mod serve;
mod stages;
mod tags;
mod templates;
mod test_invoke;
mod usage_plans;
mod validation;
mod vpc_links;
mod wire;

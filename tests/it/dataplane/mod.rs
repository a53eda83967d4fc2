//! The data plane through the whole stack: control plane, workers, real clients and backends,
//! one module per area.

mod authorize;
mod cache;
mod http;
mod http_api;
mod lambda;
mod observe;
mod routing;
mod throttle;
pub(crate) mod websocket;
mod websocket_mapping;
mod websocket_requests;

use aws_sdk_apigateway::Client;

use crate::helpers::*;

/// An API with `GET /pets` (MOCK, answering a fixed body) deployed to `stage`.
pub async fn mock_api(c: &Client, stage: &str) -> String {
    let (api, root) = create_api(c, "mock").await;
    let pets = c
        .create_resource()
        .rest_api_id(&api)
        .parent_id(&root)
        .path_part("pets")
        .send()
        .await
        .unwrap();
    let pets = pets.id().unwrap();
    put_mock_method(c, &api, pets, "GET").await;
    c.put_method_response()
        .rest_api_id(&api)
        .resource_id(pets)
        .http_method("GET")
        .status_code("200")
        .send()
        .await
        .unwrap();
    c.put_integration_response()
        .rest_api_id(&api)
        .resource_id(pets)
        .http_method("GET")
        .status_code("200")
        .selection_pattern("")
        .response_templates("application/json", r#"{"pets": ["rex"]}"#)
        .response_parameters("method.response.header.X-Mock", "'yes'")
        .send()
        .await
        .unwrap();
    c.create_deployment()
        .rest_api_id(&api)
        .stage_name(stage)
        .send()
        .await
        .unwrap();
    api
}

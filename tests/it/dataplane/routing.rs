//! Routing: both invoke URL forms, AWS's precedence of literal, `{param}` and greedy paths, and paths that would climb out of a backend URI.

use aws_sdk_apigateway::types::IntegrationType;
use serde_json::Value;

use super::mock_api;
use crate::backends::echo_backend;
use crate::helpers::*;

#[tokio::test]
async fn a_mock_api_answers_on_both_url_forms_and_unknown_routes_are_403() {
    let app = spawn_app().await;
    let c = app.client();
    let api = mock_api(&c, "dev").await;
    let worker = app.start_worker(None, None).await;
    assert!(
        serving(&worker, &api, "dev").await,
        "the worker got the deployment"
    );
    let http = invoker(&api, &worker);

    let res = http
        .get(invoke_url(&api, &worker, "dev", "/pets"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["x-mock"], "yes");
    assert!(res.headers().contains_key("x-amzn-requestid"));
    assert!(res.headers().contains_key("x-amz-apigw-id"));
    // AWS traces what integrations answer, not what a MOCK does (its recordings).
    assert!(res.headers().get("x-amzn-trace-id").is_none());
    assert_eq!(res.text().await.unwrap(), r#"{"pets": ["rex"]}"#);

    let path_form = format!("{}/restapis/{api}/dev/_user_request_/pets", worker.url());
    let res = reqwest::get(&path_form).await.unwrap();
    assert_eq!(res.status(), 200);

    for url in [
        invoke_url(&api, &worker, "dev", "/nope"),
        invoke_url(&api, &worker, "prod", "/pets"),
        format!("{}/restapis/unknown/dev/_user_request_/pets", worker.url()),
    ] {
        let res = http.get(&url).send().await.unwrap();
        assert_eq!(res.status(), 403, "{url}");
        assert_eq!(
            res.headers()["x-amzn-errortype"],
            "MissingAuthenticationTokenException"
        );
        assert!(
            res.headers().get("x-amzn-trace-id").is_none(),
            "a gateway response"
        );
        assert_eq!(
            res.text().await.unwrap(),
            r#"{"message":"Missing Authentication Token"}"#
        );
    }
    let res = http
        .post(invoke_url(&api, &worker, "dev", "/pets"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403, "no POST method");
}

#[tokio::test]
async fn routing_prefers_literals_then_params_then_greedy_paths() {
    let app = spawn_app().await;
    let c = app.client();
    let (api, root) = create_api(&c, "routes").await;
    let pets = c
        .create_resource()
        .rest_api_id(&api)
        .parent_id(&root)
        .path_part("pets")
        .send()
        .await
        .unwrap();
    let id = c
        .create_resource()
        .rest_api_id(&api)
        .parent_id(pets.id().unwrap())
        .path_part("{id}")
        .send()
        .await
        .unwrap();
    let mine = c
        .create_resource()
        .rest_api_id(&api)
        .parent_id(pets.id().unwrap())
        .path_part("mine")
        .send()
        .await
        .unwrap();
    let proxy = c
        .create_resource()
        .rest_api_id(&api)
        .parent_id(&root)
        .path_part("{proxy+}")
        .send()
        .await
        .unwrap();
    for (resource, answer) in [
        (id.id().unwrap(), "param"),
        (mine.id().unwrap(), "literal"),
        (proxy.id().unwrap(), "greedy"),
    ] {
        put_mock_method(&c, &api, resource, "ANY").await;
        c.put_integration_response()
            .rest_api_id(&api)
            .resource_id(resource)
            .http_method("ANY")
            .status_code("200")
            .response_templates("application/json", answer)
            .send()
            .await
            .unwrap();
    }
    c.create_deployment()
        .rest_api_id(&api)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    let worker = app.start_worker(None, None).await;
    assert!(serving(&worker, &api, "dev").await);
    let http = invoker(&api, &worker);
    for (path, answer) in [
        ("/pets/mine", "literal"),
        ("/pets/7", "param"),
        ("/pets/7/toys", "greedy"),
        ("/a/b/c", "greedy"),
    ] {
        let res = http
            .delete(invoke_url(&api, &worker, "dev", path))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(res.text().await.unwrap(), answer, "{path}");
    }
}

#[tokio::test]
async fn path_values_cannot_climb_out_of_the_backend_uri() {
    let app = spawn_app().await;
    let c = app.client();
    let backend = echo_backend().await;
    let (api, root) = create_api(&c, "traversal").await;
    let users = c
        .create_resource()
        .rest_api_id(&api)
        .parent_id(&root)
        .path_part("users")
        .send()
        .await
        .unwrap();
    let id = c
        .create_resource()
        .rest_api_id(&api)
        .parent_id(users.id().unwrap())
        .path_part("{id}")
        .send()
        .await
        .unwrap();
    let id = id.id().unwrap();
    c.put_method()
        .rest_api_id(&api)
        .resource_id(id)
        .http_method("GET")
        .authorization_type("NONE")
        .send()
        .await
        .unwrap();
    c.put_integration()
        .rest_api_id(&api)
        .resource_id(id)
        .http_method("GET")
        .r#type(IntegrationType::HttpProxy)
        .integration_http_method("GET")
        .uri(format!("http://{backend}/api/users/{{id}}"))
        .request_parameters("integration.request.path.id", "method.request.path.id")
        .send()
        .await
        .unwrap();
    c.create_deployment()
        .rest_api_id(&api)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    let worker = app.start_worker(None, None).await;
    assert!(serving(&worker, &api, "dev").await);
    let http = invoker(&api, &worker);
    let res = http
        .get(invoke_url(&api, &worker, "dev", "/users/a%2Fb%2Fc"))
        .send()
        .await
        .unwrap();
    let echo: Value = res.json().await.unwrap();
    assert_eq!(
        echo["path"], "/api/users/a%2Fb%2Fc",
        "the value stays one segment"
    );
    // A value that is a climb once decoded is refused, not passed on: a backend that decodes
    // `%2F` (or a server between) would resolve it.
    let res = http
        .get(invoke_url(&api, &worker, "dev", "/users/..%2F..%2Fadmin"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(
        res.json::<Value>().await.unwrap()["message"],
        "Invalid request path"
    );
    // HTTP clients normalise dot segments away; a raw request sends them as they are.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    for path in ["/dev/users/%2E%2E", "/dev/users/.."] {
        let mut tcp = tokio::net::TcpStream::connect(worker.addr).await.unwrap();
        let head =
            format!("GET {path} HTTP/1.1\r\nHost: {api}.execute-api.localhost\r\nConnection: close\r\n\r\n");
        tcp.write_all(head.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        tcp.read_to_end(&mut answer).await.unwrap();
        let answer = String::from_utf8_lossy(&answer);
        assert!(
            answer.starts_with("HTTP/1.1 400"),
            "dot segments are refused: {path}: {answer}"
        );
    }
}

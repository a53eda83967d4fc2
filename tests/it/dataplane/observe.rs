//! What the gateway says about requests: customised gateway responses, access logs and metrics.

use std::time::Duration;

use aws_sdk_apigateway::types::{Op, PatchOperation};
use serde_json::Value;

use super::mock_api;
use crate::helpers::*;

#[tokio::test]
async fn customised_gateway_responses_are_applied() {
    let app = spawn_app().await;
    let c = app.client();
    let api = mock_api(&c, "dev").await;
    c.put_gateway_response()
        .rest_api_id(&api)
        .response_type(aws_sdk_apigateway::types::GatewayResponseType::MissingAuthenticationToken)
        .status_code("404")
        .response_templates(
            "application/json",
            r#"{"error": $context.error.messageString, "type": "$context.error.responseType"}"#,
        )
        .response_parameters("gatewayresponse.header.X-Custom", "'custom'")
        .response_parameters(
            "gatewayresponse.header.Access-Control-Allow-Origin",
            "method.request.header.Origin",
        )
        .response_parameters("gatewayresponse.header.X-Stage", "context.stage")
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
    let http = invoker(&api, &worker);
    assert!(
        eventually(Duration::from_secs(5), || async {
            http.get(invoke_url(&api, &worker, "dev", "/nope"))
                .send()
                .await
                .unwrap()
                .status()
                == 404
        })
        .await
    );
    let res = http
        .get(invoke_url(&api, &worker, "dev", "/nope"))
        .header("origin", "https://app.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-custom"], "custom");
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "https://app.example"
    );
    assert_eq!(res.headers()["x-stage"], "dev");
    assert_eq!(
        res.text().await.unwrap(),
        r#"{"error": "Missing Authentication Token", "type": "MISSING_AUTHENTICATION_TOKEN"}"#
    );
}

#[tokio::test]
async fn access_logs_and_metrics_describe_each_request() {
    let app = spawn_app().await;
    let c = app.client();
    let api = mock_api(&c, "dev").await;
    let group = format!("gh-test-{}", uuid::Uuid::new_v4());
    c.update_stage()
        .rest_api_id(&api)
        .stage_name("dev")
        .patch_operations(
            PatchOperation::builder()
                .op(Op::Replace)
                .path("/accessLogSettings/destinationArn")
                .value(format!("arn:aws:logs:us-east-1:000000000000:log-group:{group}"))
                .build(),
        )
        .patch_operations(
            PatchOperation::builder()
                .op(Op::Replace)
                .path("/accessLogSettings/format")
                .value(r#"{"requestId":"$context.requestId","status":"$context.status","path":"$context.resourcePath","ip":"$context.identity.sourceIp"}"#)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let worker = app.start_worker(None, None).await;
    assert!(
        eventually(Duration::from_secs(5), || async {
            worker
                .runtime
                .load()
                .stage(&api, "dev")
                .is_some_and(|s| s.access_log.is_some())
        })
        .await
    );
    let http = invoker(&api, &worker);
    let ok = http
        .get(invoke_url(&api, &worker, "dev", "/pets"))
        .send()
        .await
        .unwrap();
    let request_id = ok.headers()["x-amzn-requestid"].to_str().unwrap().to_owned();
    assert_eq!(
        http.get(invoke_url(&api, &worker, "dev", "/nope"))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );

    let file = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("access-logs")
        .join(format!("{group}.log"));
    assert!(
        eventually(Duration::from_secs(5), || async {
            std::fs::read_to_string(&file).is_ok_and(|t| t.lines().count() >= 2)
        })
        .await,
        "two access log lines in {}",
        file.display()
    );
    let lines: Vec<Value> = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["requestId"], request_id.as_str());
    assert_eq!(lines[0]["status"], "200");
    assert_eq!(lines[0]["path"], "/pets");
    assert_eq!(lines[0]["ip"], "127.0.0.1");
    assert_eq!(lines[1]["status"], "403");

    let metrics_at = worker.metrics_addr.expect("the tests' workers serve metrics");
    assert_ne!(metrics_at.port(), worker.addr.port(), "apart from API traffic");
    let metrics = reqwest::get(format!("http://{metrics_at}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let series = format!(
        r#"gatehouse_requests_total{{api="{api}",stage="dev",resource="/pets",method="GET",canary="false"}} 1"#
    );
    assert!(metrics.contains(&series), "{metrics}");
    assert!(metrics.contains(&format!(
        r#"gatehouse_4xx_errors_total{{api="{api}",stage="dev",resource="-",method="-",canary="false"}} 1"#
    )));
    assert!(metrics.contains("gatehouse_latency_ms_bucket"));
    // The data-plane port lists nothing: `/metrics` there is a path like any other.
    let leaked = reqwest::get(format!("{}/metrics", worker.url())).await.unwrap();
    assert_eq!(leaked.status(), 403);
    let cp_metrics = reqwest::get(format!("{}/metrics", app.url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(cp_metrics.contains("gatehouse_config_revision "), "{cp_metrics}");
    assert!(cp_metrics.contains(&format!(
        "gatehouse_worker_revision_lag{{worker=\"{}\"}}",
        worker.worker_id
    )));
}

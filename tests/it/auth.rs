//! SigV4 verification and tenant isolation.

use std::time::{Duration, SystemTime};

use aws_smithy_async::time::StaticTimeSource;

use crate::helpers::*;

#[tokio::test]
async fn unsigned_requests_get_missing_authentication_token() {
    let app = spawn_app().await;
    let res = reqwest::get(format!("{}/restapis", app.url())).await.unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(
        res.headers()["x-amzn-errortype"],
        "MissingAuthenticationTokenException"
    );
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(
        body,
        serde_json::json!({"message": "Missing Authentication Token"})
    );
}

#[tokio::test]
async fn a_wrong_secret_is_an_invalid_signature() {
    let app = spawn_app().await;
    let e = err_of(
        app.client_as("test", "not-the-secret", REGION)
            .get_rest_apis()
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.0, "InvalidSignatureException");
    assert!(e.1.starts_with("The request signature we calculated does not match"));
}

#[tokio::test]
async fn an_unknown_access_key_is_unrecognized() {
    let app = spawn_app().await;
    let e = err_of(
        app.client_as("AKIANOBODY", "x", REGION)
            .get_rest_apis()
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(
        e,
        (
            "UnrecognizedClientException".into(),
            "The security token included in the request is invalid.".into()
        )
    );
}

#[tokio::test]
async fn a_tampered_body_fails_the_signature() {
    // Sign one body, send another: the server hashes what it received.
    let app = spawn_app().await;
    let c = app.client();
    let (id, root) = create_api(&c, "api").await;
    let signed = c
        .create_resource()
        .rest_api_id(&id)
        .parent_id(&root)
        .path_part("a")
        .send()
        .await;
    assert!(signed.is_ok());
    let auth_header = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/apigateway/aws4_request, \
                       SignedHeaders=host;x-amz-date, Signature=0000000000000000000000000000000000000000000000000000000000000000";
    let res = reqwest::Client::new()
        .post(format!("{}/restapis/{id}/resources/{root}", app.url()))
        .header("authorization", auth_header)
        .header(
            "x-amz-date",
            chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string(),
        )
        .body(r#"{"pathPart":"b"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(res.headers()["x-amzn-errortype"], "InvalidSignatureException");
}

#[tokio::test]
async fn signatures_older_than_15_minutes_are_expired() {
    let app = spawn_app().await;
    // Retries off: the SDK would otherwise correct its clock from our `Date` header and retry,
    // as it does against AWS (checked below).
    let skewed = |offset: Duration, future: bool| {
        let now = SystemTime::now();
        let t = if future { now + offset } else { now - offset };
        aws_sdk_apigateway::Client::from_conf(
            app.config_builder("test", "test", REGION)
                .time_source(StaticTimeSource::new(t))
                .retry_config(aws_sdk_apigateway::config::retry::RetryConfig::disabled())
                .build(),
        )
    };
    let e = err_of(
        skewed(Duration::from_secs(20 * 60), false)
            .get_rest_apis()
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.0, "InvalidSignatureException");
    assert!(e.1.starts_with("Signature expired:"), "{}", e.1);
    let e = err_of(
        skewed(Duration::from_secs(20 * 60), true)
            .get_rest_apis()
            .send()
            .await
            .unwrap_err(),
    );
    assert!(e.1.starts_with("Signature not yet current:"), "{}", e.1);
    // Within the window is fine.
    skewed(Duration::from_secs(5 * 60), false)
        .get_rest_apis()
        .send()
        .await
        .unwrap();

    // With its default retries, the SDK recovers from a skewed clock the way it does with AWS.
    let recovering = aws_sdk_apigateway::Client::from_conf(
        app.config_builder("test", "test", REGION)
            .time_source(StaticTimeSource::new(
                SystemTime::now() - Duration::from_secs(3600),
            ))
            .build(),
    );
    recovering.get_rest_apis().send().await.unwrap();
}

#[tokio::test]
async fn one_account_never_sees_anothers_apis() {
    let app = spawn_app().await;
    let mine = app.client();
    let theirs = app.other_client();
    let (id, root) = create_api(&mine, "mine").await;

    assert!(theirs.get_rest_apis().send().await.unwrap().items().is_empty());
    let e = err_of(theirs.get_rest_api().rest_api_id(&id).send().await.unwrap_err());
    assert_eq!(
        e,
        (
            "NotFoundException".into(),
            format!("Invalid API identifier specified {OTHER_ACCOUNT}:{id}")
        )
    );
    assert_eq!(
        err_of(
            theirs
                .delete_rest_api()
                .rest_api_id(&id)
                .send()
                .await
                .unwrap_err()
        )
        .0,
        "NotFoundException"
    );
    assert_eq!(
        err_of(
            theirs
                .create_resource()
                .rest_api_id(&id)
                .parent_id(&root)
                .path_part("x")
                .send()
                .await
                .unwrap_err()
        )
        .0,
        "NotFoundException"
    );
    assert_eq!(
        err_of(theirs.get_resources().rest_api_id(&id).send().await.unwrap_err()).0,
        "NotFoundException"
    );
    // Still there for its owner.
    mine.get_rest_api().rest_api_id(&id).send().await.unwrap();
}

#[tokio::test]
async fn regions_are_separate_tenants_of_one_account() {
    let app = spawn_app().await;
    let (id, _) = create_api(&app.client(), "east").await;
    let west = app.client_as("test", "test", "eu-west-1");
    assert!(west.get_rest_apis().send().await.unwrap().items().is_empty());
    assert_eq!(
        err_of(west.get_rest_api().rest_api_id(&id).send().await.unwrap_err()).0,
        "NotFoundException"
    );
}

#[tokio::test]
async fn oversized_bodies_are_refused_before_anything_else() {
    let app = spawn_app().await;
    let body = vec![b' '; 11 << 20];
    let res = reqwest::Client::new()
        .post(format!("{}/restapis", app.url()))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
}

/// Every management answer names its request (`x-amzn-RequestId`), as the SDKs report it:
/// successes and errors of both APIs, and calls refused before any handler ran.
#[tokio::test]
async fn every_answer_carries_a_request_id() {
    use aws_sdk_apigateway::operation::RequestId;
    let app = spawn_app().await;
    let c = app.client();
    let mut ids = Vec::new();
    let listed = c.get_rest_apis().send().await.unwrap();
    ids.push(listed.request_id().map(str::to_owned));
    let missing = c.get_rest_api().rest_api_id("nope").send().await.unwrap_err();
    ids.push(missing.request_id().map(str::to_owned));
    let refused = app
        .client_as("test", "not-the-secret", REGION)
        .get_rest_apis()
        .send()
        .await
        .unwrap_err();
    ids.push(refused.request_id().map(str::to_owned));
    let v2 = app.v2_client().get_apis().send().await.unwrap();
    ids.push(aws_sdk_apigatewayv2::operation::RequestId::request_id(&v2).map(str::to_owned));
    let unsigned = reqwest::get(format!("{}/restapis", app.url())).await.unwrap();
    ids.push(
        unsigned
            .headers()
            .get("x-amzn-requestid")
            .map(|v| v.to_str().unwrap().to_owned()),
    );
    let ids: Vec<String> = ids.into_iter().map(|id| id.expect("a request id")).collect();
    for id in &ids {
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    }
    let distinct: std::collections::HashSet<_> = ids.iter().collect();
    assert_eq!(distinct.len(), ids.len());
}

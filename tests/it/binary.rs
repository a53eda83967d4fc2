//! Binary media through an S3 AWS integration, against the tables AWS recorded in
//! test_apigateway_s3 (`test_apigw_s3_binary_support_*`): binaryMediaTypes and contentHandling
//! (none, CONVERT_TO_TEXT, CONVERT_TO_BINARY) on the request and on the response side.

use std::time::Duration;

use aws_sdk_apigateway::Client;
use aws_sdk_apigateway::types::{ContentHandlingStrategy, IntegrationType, Op, PatchOperation};
use base64::Engine;
use bytes::Bytes;
use gatehouse::dataplane::settings::AwsSettings;

use crate::backends::{Objects, fake_s3};
use crate::helpers::*;

/// gzip output: not UTF-8.
const RAW_HEX: &str = "1f8b0800146cee6302ff4bcecf2d284a2d2e4e4d5148492c49d45128cec82fcd4951484a55c8cc2b4bccc94c51080d71d3b550282e29cacc4b0700b83910572f000000";
const TEXT: &str = "this is a UTF8 text typed object";

/// What an object or answer should hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    Raw,
    /// base64(raw)
    Encoded,
    Text,
    /// raw read as UTF-8, invalid bytes replaced (99 bytes)
    Mangled,
    B64Encoded,
    B64Text,
    Fail,
}

fn b64(b: &[u8]) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.encode(b).into_bytes()
}

fn raw() -> Vec<u8> {
    hex::decode(RAW_HEX).unwrap()
}

fn bytes_of(w: Want) -> Vec<u8> {
    match w {
        Want::Raw => raw(),
        Want::Encoded => b64(&raw()),
        Want::Text => TEXT.as_bytes().to_vec(),
        Want::Mangled => String::from_utf8_lossy(&raw()).into_owned().into_bytes(),
        Want::B64Encoded => b64(&b64(&raw())),
        Want::B64Text => b64(TEXT.as_bytes()),
        Want::Fail => unreachable!(),
    }
}

fn handling(name: &str) -> Option<ContentHandlingStrategy> {
    match name {
        "text" => Some(ContentHandlingStrategy::ConvertToText),
        "binary" => Some(ContentHandlingStrategy::ConvertToBinary),
        _ => None,
    }
}

/// `ANY /{prefix}/{object_path+}` → S3 `bucket/{object_path}`, as the recordings set it up.
async fn s3_route(
    c: &Client,
    api: &str,
    root: &str,
    prefix: &str,
    request: Option<ContentHandlingStrategy>,
    response: Option<ContentHandlingStrategy>,
) {
    let parent = add_resource(c, api, root, prefix).await;
    let object = add_resource(c, api, &parent, "{object_path+}").await;
    c.put_method()
        .rest_api_id(api)
        .resource_id(&object)
        .http_method("ANY")
        .authorization_type("NONE")
        .request_parameters("method.request.path.object_path", true)
        .request_parameters("method.request.header.Content-Type", false)
        .request_parameters("method.request.header.response-content-type", false)
        .send()
        .await
        .unwrap();
    c.put_method_response()
        .rest_api_id(api)
        .resource_id(&object)
        .http_method("ANY")
        .status_code("200")
        .response_parameters("method.response.header.ETag", false)
        .send()
        .await
        .unwrap();
    c.put_integration()
        .rest_api_id(api)
        .resource_id(&object)
        .http_method("ANY")
        .r#type(IntegrationType::Aws)
        .integration_http_method("ANY")
        .uri("arn:aws:apigateway:us-east-1:s3:path/bucket/{object_path}")
        .credentials("arn:aws:iam::000000000000:role/apigw-s3")
        .request_parameters(
            "integration.request.path.object_path",
            "method.request.path.object_path",
        )
        .request_parameters(
            "integration.request.header.Content-Type",
            "method.request.header.Content-Type",
        )
        .request_parameters(
            "integration.request.querystring.response-content-type",
            "method.request.header.response-content-type",
        )
        .set_content_handling(request)
        .send()
        .await
        .unwrap();
    c.put_integration_response()
        .rest_api_id(api)
        .resource_id(&object)
        .http_method("ANY")
        .status_code("200")
        .response_parameters("method.response.header.ETag", "integration.response.header.ETag")
        .set_content_handling(response)
        .send()
        .await
        .unwrap();
}

/// Deploys `test` (no binary media types), then adds `image/png` and deploys `test2`; returns a
/// worker serving both.
async fn deploy_both(app: &TestApp, api: &str, s3: std::net::SocketAddr) -> gatehouse::server::Worker {
    let c = app.client();
    let deploy = |stage: &'static str| c.create_deployment().rest_api_id(api).stage_name(stage).send();
    deploy("test").await.unwrap();
    c.update_rest_api()
        .rest_api_id(api)
        .patch_operations(
            PatchOperation::builder()
                .op(Op::Add)
                .path("/binaryMediaTypes/image~1png")
                .build(),
        )
        .send()
        .await
        .unwrap();
    deploy("test2").await.unwrap();
    let aws = AwsSettings {
        endpoints: [("s3".to_owned(), format!("http://{s3}"))].into(),
        ..AwsSettings::default()
    };
    let worker = WorkerBuilder::new(&app.url()).aws(aws).start().await;
    assert!(
        eventually(Duration::from_secs(5), || async {
            let rt = worker.runtime.load();
            rt.stage(api, "test").is_some() && rt.stage(api, "test2").is_some()
        })
        .await
    );
    worker
}

fn stored(objects: &Objects, key: &str) -> Option<Bytes> {
    objects
        .lock()
        .unwrap()
        .get(&format!("bucket/{key}"))
        .map(|(b, _)| b.clone())
}

#[tokio::test]
async fn request_payloads_convert_as_aws_records() {
    let app = spawn_app().await;
    let c = app.client();
    let (s3, objects) = fake_s3().await;
    let (api, root) = create_api(&c, "s3-request").await;
    for h in ["none", "text", "binary"] {
        s3_route(&c, &api, &root, h, handling(h), None).await;
    }
    // ..._convert_to_binary_with_request_template
    s3_route(&c, &api, &root, "binary-template", handling("binary"), None).await;
    let resources = c.get_resources().rest_api_id(&api).send().await.unwrap();
    let object = resources
        .items()
        .iter()
        .find(|r| r.path() == Some("/binary-template/{object_path+}"))
        .and_then(|r| r.id())
        .unwrap()
        .to_owned();
    c.update_integration()
        .rest_api_id(&api)
        .resource_id(&object)
        .http_method("ANY")
        .patch_operations(
            PatchOperation::builder()
                .op(Op::Add)
                .path("/requestTemplates/application~1json")
                .value(r#"{"data": "$input.body"}"#)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let worker = deploy_both(&app, &api, s3).await;
    let http = invoker(&api, &worker);

    use Want::*;
    let cases: &[(&str, &str, &str, [Option<Want>; 3])] = &[
        // handling, stage, Content-Type, [raw, encoded, text]
        (
            "none",
            "test",
            "image/png",
            [Some(Mangled), Some(Encoded), Some(Text)],
        ),
        (
            "none",
            "test2",
            "image/png",
            [Some(Raw), Some(Encoded), Some(Text)],
        ),
        (
            "none",
            "test2",
            "text/plain",
            [Some(Mangled), Some(Encoded), Some(Text)],
        ),
        (
            "text",
            "test",
            "image/png",
            [Some(Mangled), Some(Encoded), Some(Text)],
        ),
        (
            "text",
            "test2",
            "image/png",
            [Some(Encoded), Some(B64Encoded), Some(B64Text)],
        ),
        (
            "text",
            "test2",
            "text/plain",
            [Some(Mangled), Some(Encoded), Some(Text)],
        ),
        ("binary", "test", "image/png", [Some(Fail), Some(Raw), None]),
        ("binary", "test", "text/plain", [None, None, Some(Fail)]),
        (
            "binary",
            "test2",
            "image/png",
            [Some(Raw), Some(Encoded), Some(Text)],
        ),
        (
            "binary",
            "test2",
            "text/plain",
            [Some(Fail), Some(Raw), Some(Fail)],
        ),
        ("binary-template", "test", "image/png", [None, Some(Raw), None]),
        // The template matches; its output is not base64.
        (
            "binary-template",
            "test",
            "application/json",
            [None, Some(Fail), None],
        ),
    ];
    let bodies = [(Raw, "raw"), (Encoded, "encoded"), (Text, "text")];
    for (h, stage, content_type, wants) in cases {
        for ((body, kind), want) in bodies.iter().zip(wants) {
            let Some(want) = want else { continue };
            let key = format!("{h}-{stage}-{}-{kind}", content_type.replace('/', "_"));
            let res = http
                .put(invoke_url(&api, &worker, stage, &format!("/{h}/{key}")))
                .header("content-type", *content_type)
                .body(bytes_of(*body))
                .send()
                .await
                .unwrap();
            let case = format!("{h} {stage} {content_type} {kind}");
            if *want == Fail {
                assert_eq!(res.status(), 500, "{case}");
                assert!(stored(&objects, &key).is_none(), "{case}: nothing reached S3");
            } else {
                assert_eq!(res.status(), 200, "{case}");
                assert_eq!(
                    stored(&objects, &key).as_deref(),
                    Some(bytes_of(*want).as_slice()),
                    "{case}: {want:?}"
                );
            }
        }
    }
}

#[tokio::test]
async fn response_payloads_convert_as_aws_records() {
    let app = spawn_app().await;
    let c = app.client();
    let (s3, objects) = fake_s3().await;
    let (api, root) = create_api(&c, "s3-response").await;
    for h in ["none", "text", "binary"] {
        s3_route(&c, &api, &root, h, None, handling(h)).await;
    }
    // ..._response_convert_to_binary_with_request_template, with either handling.
    for h in ["text", "binary"] {
        let prefix = format!("{h}-template");
        s3_route(&c, &api, &root, &prefix, None, handling(h)).await;
        let resources = c.get_resources().rest_api_id(&api).send().await.unwrap();
        let path = format!("/{prefix}/{{object_path+}}");
        let object = resources
            .items()
            .iter()
            .find(|r| r.path() == Some(path.as_str()))
            .and_then(|r| r.id())
            .unwrap()
            .to_owned();
        c.update_integration_response()
            .rest_api_id(&api)
            .resource_id(&object)
            .http_method("ANY")
            .status_code("200")
            .patch_operations(
                PatchOperation::builder()
                    .op(Op::Add)
                    .path("/responseTemplates/application~1json")
                    .value(r#"{"data": "$input.body"}"#)
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }
    for (kind, want) in [
        ("raw", Want::Raw),
        ("encoded", Want::Encoded),
        ("text", Want::Text),
    ] {
        objects.lock().unwrap().insert(
            format!("bucket/obj-{kind}"),
            (Bytes::from(bytes_of(want)), "binary/octet-stream".into()),
        );
    }
    let worker = deploy_both(&app, &api, s3).await;
    let http = invoker(&api, &worker);

    use Want::*;
    // stage, Accept, response-content-type, object → [none, CONVERT_TO_TEXT, CONVERT_TO_BINARY]
    let cases: &[(&str, &str, &str, &str, [Want; 3])] = &[
        (
            "test",
            "text/plain",
            "binary/octet-stream",
            "text",
            [Text, Text, Fail],
        ),
        (
            "test",
            "image/png",
            "binary/octet-stream",
            "raw",
            [Mangled, Mangled, Fail],
        ),
        (
            "test",
            "image/png",
            "binary/octet-stream",
            "encoded",
            [Encoded, Encoded, Raw],
        ),
        // Text payload, binary Accept.
        (
            "test2",
            "image/png",
            "binary/octet-stream",
            "encoded",
            [Raw, Encoded, Raw],
        ),
        (
            "test2",
            "image/png",
            "binary/octet-stream",
            "raw",
            [Fail, Mangled, Fail],
        ),
        (
            "test2",
            "image/png",
            "binary/octet-stream",
            "text",
            [Fail, Text, Fail],
        ),
        // Binary payload, binary Accept.
        (
            "test2",
            "image/png",
            "image/png",
            "encoded",
            [Encoded, B64Encoded, Encoded],
        ),
        ("test2", "image/png", "image/png", "raw", [Raw, Encoded, Raw]),
        ("test2", "image/png", "image/png", "text", [Text, B64Text, Text]),
        // Text payload, text Accept.
        (
            "test2",
            "text/plain",
            "binary/octet-stream",
            "encoded",
            [Encoded, Encoded, Raw],
        ),
        (
            "test2",
            "text/plain",
            "binary/octet-stream",
            "raw",
            [Mangled, Mangled, Fail],
        ),
        (
            "test2",
            "text/plain",
            "binary/octet-stream",
            "text",
            [Text, Text, Fail],
        ),
        // Binary payload, text Accept.
        (
            "test2",
            "text/plain",
            "image/png",
            "encoded",
            [B64Encoded, B64Encoded, Encoded],
        ),
        ("test2", "text/plain", "image/png", "raw", [Encoded, Encoded, Raw]),
        (
            "test2",
            "text/plain",
            "image/png",
            "text",
            [B64Text, B64Text, Text],
        ),
    ];
    for (stage, accept, rct, object, wants) in cases {
        for (h, want) in ["none", "text", "binary"].iter().zip(wants) {
            let res = http
                .get(invoke_url(&api, &worker, stage, &format!("/{h}/obj-{object}")))
                .header("accept", *accept)
                .header("response-content-type", *rct)
                .send()
                .await
                .unwrap();
            let case = format!("{h}: {stage} accept {accept}, payload {rct}, {object}");
            if *want == Fail {
                assert_eq!(res.status(), 500, "{case}");
                continue;
            }
            assert_eq!(res.status(), 200, "{case}");
            assert!(res.headers().contains_key("etag"), "{case}: the ETag is mapped");
            assert_eq!(
                res.bytes().await.unwrap().as_ref(),
                bytes_of(*want).as_slice(),
                "{case}: {want:?}"
            );
        }
    }

    // A response template reads the text payload; a payload converted to binary it cannot.
    let get = |prefix: &str| {
        http.get(invoke_url(
            &api,
            &worker,
            "test",
            &format!("/{prefix}/obj-encoded"),
        ))
        .header("accept", "image/png")
        .send()
    };
    let res = get("text-template").await.unwrap();
    assert_eq!(res.status(), 200);
    let expected = format!(
        r#"{{"data": "{}"}}"#,
        String::from_utf8(bytes_of(Want::Encoded)).unwrap()
    );
    assert_eq!(res.text().await.unwrap(), expected);
    assert_eq!(get("binary-template").await.unwrap().status(), 500);
}

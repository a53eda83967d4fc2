//! Mapping templates through deployed APIs, with the answers AWS recorded (the
//! `tests/data/aws-recorded` cases named in each test) as expectations.

use aws_sdk_apigateway::Client;
use aws_sdk_apigateway::types::IntegrationType;
use serde_json::{Value, json};

use crate::backends::echo_backend;
use crate::helpers::*;

/// One method with its integration and a single integration response (status 200 unless the
/// selection pattern's answer says otherwise).
pub struct Route<'a> {
    pub verb: &'a str,
    pub kind: IntegrationType,
    pub uri: Option<String>,
    pub passthrough: Option<&'a str>,
    pub request_templates: Vec<(&'a str, &'a str)>,
    pub selection_pattern: Option<&'a str>,
    pub response_templates: Vec<(&'a str, &'a str)>,
}

impl Default for Route<'_> {
    fn default() -> Self {
        Self {
            verb: "GET",
            kind: IntegrationType::Mock,
            uri: None,
            passthrough: None,
            request_templates: Vec::new(),
            selection_pattern: None,
            response_templates: Vec::new(),
        }
    }
}

impl Route<'_> {
    pub async fn put(&self, c: &Client, api: &str, resource: &str) {
        c.put_method()
            .rest_api_id(api)
            .resource_id(resource)
            .http_method(self.verb)
            .authorization_type("NONE")
            .send()
            .await
            .unwrap();
        c.put_method_response()
            .rest_api_id(api)
            .resource_id(resource)
            .http_method(self.verb)
            .status_code("200")
            .send()
            .await
            .unwrap();
        let mut put = c
            .put_integration()
            .rest_api_id(api)
            .resource_id(resource)
            .http_method(self.verb)
            .r#type(self.kind.clone())
            .set_uri(self.uri.clone())
            .set_passthrough_behavior(self.passthrough.map(str::to_owned));
        if self.kind != IntegrationType::Mock {
            put = put.integration_http_method("POST");
        }
        for (ct, t) in &self.request_templates {
            put = put.request_templates(*ct, *t);
        }
        put.send().await.unwrap();
        let mut put = c
            .put_integration_response()
            .rest_api_id(api)
            .resource_id(resource)
            .http_method(self.verb)
            .status_code("200")
            .set_selection_pattern(self.selection_pattern.map(str::to_owned));
        for (ct, t) in &self.response_templates {
            put = put.response_templates(*ct, *t);
        }
        put.send().await.unwrap();
    }
}

/// Deploys `api` to `stage` and returns a worker serving it with a client for it.
pub async fn deploy(app: &TestApp, api: &str, stage: &str) -> (gatehouse::server::Worker, reqwest::Client) {
    deploy_with(app, api, stage, Default::default()).await
}

/// [`deploy`], with a worker calling AWS services where `aws` says.
pub async fn deploy_with(
    app: &TestApp,
    api: &str,
    stage: &str,
    aws: gatehouse::dataplane::settings::AwsSettings,
) -> (gatehouse::server::Worker, reqwest::Client) {
    app.client()
        .create_deployment()
        .rest_api_id(api)
        .stage_name(stage)
        .send()
        .await
        .unwrap();
    let worker = WorkerBuilder::new(&app.url()).aws(aws).start().await;
    assert!(serving(&worker, api, stage).await);
    let http = invoker(api, &worker);
    (worker, http)
}

/// test_apigateway_integrations: MOCK overrides (request → response template), response
/// overrides of status and headers, map assignment, and a non-JSON `{statusCode: 200}`.
#[tokio::test]
async fn mock_templates_and_context_overrides_match_aws() {
    let app = spawn_app().await;
    let c = app.client();
    let (api, root) = create_api(&c, "overrides").await;

    // test_integration_mock_with_request_overrides_in_response_template
    let over = add_resource(&c, &api, &root, "over").await;
    let over = add_resource(&c, &api, &over, "{testPath}").await;
    let req = "#set($body = $util.base64Decode($input.params('testPath')))\n    #set($context.requestOverride.path.body = $body)\n    {\n      \"statusCode\": 200\n    }\n";
    let resp = "\n#set($body = $util.parseJson($context.requestOverride.path.body))\n#set($inputBody = $body.message)\n#if($inputBody == \"path1\")\n{\n   \"response\": \"path was path one\"\n}\n#elseif($inputBody == \"path2\")\n{\n   \"response\": \"path was path two\"\n}\n#else\n{\n  \"response\": \"this is the else clause\"\n}\n#end\n";
    Route {
        request_templates: vec![("application/json", req)],
        selection_pattern: Some(r"2\d{2}"),
        response_templates: vec![("application/json", resp)],
        ..Route::default()
    }
    .put(&c, &api, &over)
    .await;

    // test_integration_mock_with_response_override_in_request_template[True|False]
    let req = "\n#set($context.responseOverride.status = 444)\n#set($context.responseOverride.header.foo = \"bar\")\n#set($context.responseOverride.custom = \"is also passed around\")\n{\n  \"statusCode\": 200\n}\n";
    let resp = "\n#set($statusOverride = $context.responseOverride.status)\n#set($fooHeader = $context.responseOverride.header.foo)\n#set($custom = $context.responseOverride.custom)\n{\n    \"statusOverride\": \"$statusOverride\",\n    \"fooHeader\": \"$fooHeader\",\n    \"custom\": \"$custom\"\n}\n";
    let with = add_resource(&c, &api, &root, "status-with-template").await;
    let without = add_resource(&c, &api, &root, "status-without-template").await;
    for (resource, templates) in [(&with, vec![("application/json", resp)]), (&without, vec![])] {
        Route {
            request_templates: vec![("application/json", req)],
            selection_pattern: Some(r"2\d{2}"),
            response_templates: templates,
            ..Route::default()
        }
        .put(&c, &api, resource)
        .await;
    }

    // test_integration_mock_with_vtl_map_assignation
    let req = "\n#set($paramName = \"foo\")\n#set($context.requestOverride.querystring[$paramName] = \"bar\")\n#set($paramPutName = \"putfoo\")\n$context.requestOverride.querystring.put($paramPutName, \"putBar\")\n#set($context[\"requestOverride\"].querystring[\"nestedfoo\"] = \"nestedFoo\")\n{\n  \"statusCode\": 200\n}\n";
    let resp = "\n#set($value = $context.requestOverride.querystring[\"foo\"])\n#set($value2 = $context.requestOverride.querystring[\"putfoo\"])\n#set($value3 = $context.requestOverride.querystring[\"nestedfoo\"])\n{\n    \"value\": \"$value\",\n    \"value2\": \"$value2\",\n    \"value3\": \"$value3\"\n}\n";
    let map = add_resource(&c, &api, &root, "map").await;
    Route {
        request_templates: vec![("application/json", req)],
        selection_pattern: Some(r"2\d{2}"),
        response_templates: vec![("application/json", resp)],
        ..Route::default()
    }
    .put(&c, &api, &map)
    .await;

    // test_integration_mock_with_path_param: `{statusCode: 200}` is not JSON, yet AWS reads it.
    let param = add_resource(&c, &api, &root, "param").await;
    let param = add_resource(&c, &api, &param, "{testPath}").await;
    Route {
        request_templates: vec![("application/json", "{statusCode: 200}")],
        selection_pattern: Some(r"2\d{2}"),
        ..Route::default()
    }
    .put(&c, &api, &param)
    .await;

    let (worker, http) = deploy(&app, &api, "dev").await;
    let get = |path: &str| http.get(invoke_url(&api, &worker, "dev", path)).send();

    for (segment, expected) in [
        ("eyJtZXNzYWdlIjogInBhdGgxIn0=", "path was path one"),
        ("eyJtZXNzYWdlIjogInBhdGgyIn0=", "path was path two"),
        ("eyJtZXNzYWdlIjogIndoYXRldmVyIn0=", "this is the else clause"),
    ] {
        let res = get(&format!("/over/{segment}")).await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.json::<Value>().await.unwrap(), json!({"response": expected}));
    }

    let res = get("/status-with-template").await.unwrap();
    assert_eq!(res.status(), 444);
    assert_eq!(res.headers()["foo"], "bar");
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"custom": "is also passed around", "fooHeader": "bar", "statusOverride": "444"})
    );
    let res = get("/status-without-template").await.unwrap();
    assert_eq!(res.status(), 444);
    assert_eq!(res.headers()["foo"], "bar");
    assert_eq!(res.bytes().await.unwrap().as_ref(), b"");

    let res = get("/map").await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"value": "bar", "value2": "putBar", "value3": "nestedFoo"})
    );

    let res = get("/param/test-path").await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.bytes().await.unwrap().as_ref(), b"");
}

/// test_apigateway_common::test_input_path_template_formatting: `$input.path` prints maps as
/// Java does and lists as JSON; a missing value prints nothing and equals both null and "".
#[tokio::test]
async fn input_path_formatting_matches_aws() {
    let app = spawn_app().await;
    let c = app.client();
    let backend = echo_backend().await;
    let (api, root) = create_api(&c, "formatting").await;
    let checks = r##"{"body": $result, "nested": $result.nested, "isNull": #if( $result == $null )"true"#else"false"#end, "isEmptyString": #if( $result == "" )"true"#else"false"#end}"##;
    let invalid = format!(r#"#set($result = $input.path("$.nonExisting")){checks}"#);
    let nested_list = format!(r#"#set($result = $input.path("$.json.listValue")){checks}"#);
    let routes = [
        ("path", r#"#set($result = $input.path("$.json"))$result"#),
        ("nested", r#"#set($result = $input.path("$.json"))$result.nested"#),
        ("list", r#"#set($result = $input.path("$.json"))$result[0]"#),
        (
            "to-string",
            r#"#set($result = $input.path("$.json"))$result.toString()"#,
        ),
        ("invalid-path", invalid.as_str()),
        ("nested-list", nested_list.as_str()),
    ];
    for (part, template) in routes {
        let resource = add_resource(&c, &api, &root, part).await;
        Route {
            verb: "POST",
            kind: IntegrationType::Http,
            uri: Some(format!("http://{backend}/post")),
            selection_pattern: Some(""),
            response_templates: vec![("application/json", template)],
            ..Route::default()
        }
        .put(&c, &api, &resource)
        .await;
    }
    let (worker, http) = deploy(&app, &api, "dev").await;

    let cases: [(&str, &str, Option<Value>, &str); 13] = [
        ("dict-response", "/path", Some(json!({"foo": "bar"})), "{foo=bar}"),
        (
            "json-list",
            "/path",
            Some(json!([{"foo": "bar"}])),
            r#"[{"foo":"bar"}]"#,
        ),
        (
            "nested-dict",
            "/nested",
            Some(json!({"nested": {"foo": "bar"}})),
            "{foo=bar}",
        ),
        (
            "nested-list",
            "/nested",
            Some(json!({"nested": [{"foo": "bar"}]})),
            r#"[{"foo":"bar"}]"#,
        ),
        (
            "dict-in-list",
            "/list",
            Some(json!([{"foo": "bar"}])),
            "{foo=bar}",
        ),
        (
            "list-with-nested-list",
            "/list",
            Some(json!([[{"foo": "bar"}]])),
            r#"[{"foo":"bar"}]"#,
        ),
        (
            "dict-with-nested-list",
            "/path",
            Some(json!({"foo": [{"nested": "bar"}]})),
            r#"{foo=[{"nested":"bar"}]}"#,
        ),
        (
            "bigger-dict",
            "/path",
            Some(json!({"bigger": "dict", "to": "test", "with": "separators"})),
            "{bigger=dict, to=test, with=separators}",
        ),
        (
            "to-string",
            "/to-string",
            Some(json!({"foo": "bar"})),
            "{foo=bar}",
        ),
        (
            "list-to-string",
            "/to-string",
            Some(json!({"list": [{"foo": "bar"}]})),
            r#"{list=[{"foo":"bar"}]}"#,
        ),
        (
            "empty-body",
            "/invalid-path",
            None,
            r#"{"body": , "nested": , "isNull": "true", "isEmptyString": "true"}"#,
        ),
        (
            "nested-empty-list",
            "/nested-list",
            Some(json!({"listValue": []})),
            r#"{"body": [], "nested": , "isNull": "false", "isEmptyString": "false"}"#,
        ),
        (
            "nested-null-list",
            "/nested-list",
            Some(json!({"listValue": null})),
            r#"{"body": , "nested": , "isNull": "true", "isEmptyString": "true"}"#,
        ),
    ];
    for (case, path, body, expected) in cases {
        let mut req = http.post(invoke_url(&api, &worker, "dev", path));
        if let Some(body) = body {
            // As Python's json.dumps writes it, which the recordings used.
            let text = serde_json::to_string(&body).unwrap();
            req = req.header("content-type", "application/json").body(text);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 200, "{case}");
        assert_eq!(res.text().await.unwrap(), expected, "{case}");
    }
}

/// test_apigateway_common::test_input_body_formatting: `$input.body` is the raw payload, `{}`
/// when there is none, in request and response templates alike.
#[tokio::test]
async fn input_body_formatting_matches_aws() {
    let app = spawn_app().await;
    let c = app.client();
    let backend = echo_backend().await;
    let (api, root) = create_api(&c, "body").await;
    let raw_body = "#set($result = $input.body)$result";
    let body_in_str = "Action=SendMessage&MessageBody=$input.body";
    let attr_access = "#set($result = $input.body.testAccess)$result";
    let url_encode =
        "EncodedBody=$util.urlEncode($input.body)&EncodedBodyAccess=$util.urlEncode($input.body.testAccess)";
    let routes = [
        ("raw-body", raw_body, raw_body),
        ("str-body-input", body_in_str, raw_body),
        ("str-body-output", raw_body, body_in_str),
        ("str-body-all", body_in_str, body_in_str),
        ("body-attr-access", attr_access, raw_body),
        ("url-encode", url_encode, raw_body),
    ];
    for (part, req, resp) in routes {
        let resource = add_resource(&c, &api, &root, part).await;
        Route {
            verb: "POST",
            kind: IntegrationType::Http,
            uri: Some(format!("http://{backend}/raw")),
            request_templates: vec![("application/json", req)],
            selection_pattern: Some(""),
            response_templates: vec![("application/json", resp)],
            ..Route::default()
        }
        .put(&c, &api, &resource)
        .await;
    }
    let (worker, http) = deploy(&app, &api, "dev").await;
    let expected: [(&str, [&str; 3]); 6] = [
        ("raw-body", ["{}", r#"{"some": "value"}"#, "some raw data"]),
        (
            "str-body-input",
            [
                "Action=SendMessage&MessageBody={}",
                r#"Action=SendMessage&MessageBody={"some": "value"}"#,
                "Action=SendMessage&MessageBody=some raw data",
            ],
        ),
        (
            "str-body-output",
            [
                "Action=SendMessage&MessageBody={}",
                r#"Action=SendMessage&MessageBody={"some": "value"}"#,
                "Action=SendMessage&MessageBody=some raw data",
            ],
        ),
        (
            "str-body-all",
            [
                "Action=SendMessage&MessageBody=Action=SendMessage&MessageBody={}",
                r#"Action=SendMessage&MessageBody=Action=SendMessage&MessageBody={"some": "value"}"#,
                "Action=SendMessage&MessageBody=Action=SendMessage&MessageBody=some raw data",
            ],
        ),
        ("body-attr-access", ["{}", "{}", "{}"]),
        (
            "url-encode",
            [
                "EncodedBody=%7B%7D&EncodedBodyAccess=",
                "EncodedBody=%7B%22some%22%3A+%22value%22%7D&EncodedBodyAccess=",
                "EncodedBody=some+raw+data&EncodedBodyAccess=",
            ],
        ),
    ];
    for (route, answers) in expected {
        for (body, answer) in ["", r#"{"some": "value"}"#, "some raw data"].iter().zip(answers) {
            let res = http
                .post(invoke_url(&api, &worker, "dev", &format!("/{route}")))
                .header("content-type", "application/json")
                .body(*body)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200, "{route} {body:?}");
            assert_eq!(res.text().await.unwrap(), answer, "{route} {body:?}");
        }
    }
}

/// test_apigateway_basic: MOCK with every passthrough behaviour answers through its template
/// when the Content-Type matches; with no Content-Type the `application/json` template applies.
/// Where no template matches, NEVER and WHEN_NO_TEMPLATES (with templates) refuse with 415.
#[tokio::test]
async fn passthrough_behaviours_match_aws() {
    let app = spawn_app().await;
    let c = app.client();
    let (api, root) = create_api(&c, "mock-api").await;
    for behaviour in ["WHEN_NO_MATCH", "NEVER", "WHEN_NO_TEMPLATES"] {
        let parent = add_resource(&c, &api, &root, &behaviour.to_lowercase()).await;
        let id = add_resource(&c, &api, &parent, "{id}").await;
        for verb in ["GET", "POST"] {
            Route {
                verb,
                passthrough: Some(behaviour),
                request_templates: vec![("application/json", r#"{"statusCode":200}"#)],
                response_templates: vec![(
                    "application/json",
                    r#"{"statusCode": 200, "id": $input.params().path.id}"#,
                )],
                ..Route::default()
            }
            .put(&c, &api, &id)
            .await;
        }
    }
    let echo = add_resource(&c, &api, &root, "echo").await;
    let data = add_resource(&c, &api, &echo, "{data}").await;
    Route {
        verb: "ANY",
        passthrough: Some("WHEN_NO_TEMPLATES"),
        request_templates: vec![("application/json", r#"{"statusCode": 200}"#)],
        selection_pattern: Some(""),
        response_templates: vec![(
            "application/json",
            r#"{"echo": "$input.params('data')", "response": "mocked"}"#,
        )],
        ..Route::default()
    }
    .put(&c, &api, &data)
    .await;
    let (worker, http) = deploy(&app, &api, "test").await;

    for behaviour in ["when_no_match", "never", "when_no_templates"] {
        for verb in [reqwest::Method::GET, reqwest::Method::POST] {
            for url in [
                invoke_url(&api, &worker, "test", &format!("/{behaviour}/42")),
                format!(
                    "{}/restapis/{api}/test/_user_request_/{behaviour}/42",
                    worker.url()
                ),
            ] {
                let res = http
                    .request(verb.clone(), &url)
                    .header("content-type", "application/json")
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), 200, "{verb} {url}");
                assert_eq!(
                    res.json::<Value>().await.unwrap(),
                    json!({"id": 42, "statusCode": 200})
                );
            }
            let res = http
                .request(
                    verb.clone(),
                    invoke_url(&api, &worker, "test", &format!("/{behaviour}/42")),
                )
                .header("content-type", "text/plain")
                .body("hello")
                .send()
                .await
                .unwrap();
            if behaviour == "when_no_match" {
                assert_eq!(res.status(), 200, "{behaviour}: text/plain passes through");
            } else {
                assert_eq!(res.status(), 415, "{behaviour}");
                assert_eq!(
                    res.json::<Value>().await.unwrap(),
                    json!({"message": "Unsupported Media Type"})
                );
            }
        }
    }

    let res = http
        .get(invoke_url(&api, &worker, "test", "/echo/foobar"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"echo": "foobar", "response": "mocked"})
    );
}

/// Request templates shape what an HTTP backend receives, including the headers, query string
/// and path parameters `$context.requestOverride` sets; `$stageVariables` and `$context` read.
#[tokio::test]
async fn request_templates_and_overrides_reach_an_http_backend() {
    let app = spawn_app().await;
    let c = app.client();
    let backend = echo_backend().await;
    let (api, root) = create_api(&c, "shaping").await;
    let orders = add_resource(&c, &api, &root, "orders").await;
    let template = r#"#set($context.requestOverride.header.X-Tenant = "t-$input.params('tenant')")
#set($context.requestOverride.querystring.page = "2")
#set($context.requestOverride.path.item = "a b/c")
{
  "customer": "$util.escapeJavaScript($input.path('$.customer')).replaceAll("\\'","'")",
  "items": [
  #foreach($item in $input.path('$.items'))
    {"sku": "$item.sku", "qty": $item.qty}#if($foreach.hasNext),#end
  #end
  ],
  "total": #set($t = 0)#foreach($item in $input.path('$.items'))#set($t = $t + $item.qty)#end$t,
  "stage": "$context.stage",
  "env": "$stageVariables.env",
  "method": "$context.httpMethod"
}"#;
    Route {
        verb: "POST",
        kind: IntegrationType::Http,
        uri: Some(format!("http://{backend}/orders/{{item}}")),
        request_templates: vec![("application/json", template)],
        selection_pattern: Some(""),
        ..Route::default()
    }
    .put(&c, &api, &orders)
    .await;
    c.create_deployment()
        .rest_api_id(&api)
        .stage_name("prod")
        .variables("env", "production")
        .send()
        .await
        .unwrap();
    let (worker, http) = deploy(&app, &api, "prod").await;

    let res = http
        .post(invoke_url(&api, &worker, "prod", "/orders?tenant=acme"))
        .json(
            &json!({"customer": "O'Brien \"Jr\"", "items": [{"sku": "a", "qty": 2}, {"sku": "b", "qty": 3}]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let seen: Value = res.json().await.unwrap();
    assert_eq!(seen["path"], "/orders/a%20b%2Fc");
    assert_eq!(seen["query"], "page=2");
    assert_eq!(seen["headers"]["x-tenant"], "t-acme");
    assert_eq!(seen["headers"]["content-type"], "application/json");
    let sent: Value = serde_json::from_str(seen["body"].as_str().unwrap()).unwrap_or_else(|e| {
        panic!("the template made JSON: {e}: {}", seen["body"]);
    });
    assert_eq!(
        sent,
        json!({
            "customer": "O'Brien \"Jr\"",
            "items": [{"sku": "a", "qty": 2}, {"sku": "b", "qty": 3}],
            "total": 5,
            "stage": "prod",
            "env": "production",
            "method": "POST"
        })
    );
}

/// A payload that is not JSON where a template reads it as JSON is the client's 400; a template
/// that fails or does not parse is AWS's 500. Neither reaches the backend's answer.
#[tokio::test]
async fn template_failures_get_aws_answers() {
    let app = spawn_app().await;
    let c = app.client();
    let (api, root) = create_api(&c, "failures").await;
    let routes = [
        ("json", r#"{"statusCode": 200, "v": $input.json('$.a')}"#),
        (
            "runtime",
            r#"$context.httpMethod.substring(9){"statusCode": 200}"#,
        ),
        ("syntax", r#"#if($x {"statusCode": 200}"#),
    ];
    for (part, template) in routes {
        let resource = add_resource(&c, &api, &root, part).await;
        Route {
            verb: "POST",
            request_templates: vec![("application/json", template)],
            ..Route::default()
        }
        .put(&c, &api, &resource)
        .await;
    }
    let (worker, http) = deploy(&app, &api, "dev").await;
    let post = |path: &str, body: &'static str| {
        http.post(invoke_url(&api, &worker, "dev", path))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let res = post("/json", r#"{"a": 1}"#).await.unwrap();
    assert_eq!(res.status(), 200);
    let res = post("/json", "not json").await.unwrap();
    assert_eq!(res.status(), 400);
    let message = res.json::<Value>().await.unwrap()["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        message.starts_with("Could not parse request body into json"),
        "{message}"
    );
    for path in ["/runtime", "/syntax"] {
        let res = post(path, "{}").await.unwrap();
        assert_eq!(res.status(), 500, "{path}");
        assert_eq!(
            res.json::<Value>().await.unwrap(),
            json!({"message": "Internal server error"})
        );
    }
}

/// `method.request.body.{path}` and `integration.response.body.{path}` map JSON values into
/// headers, as requestParameters and responseParameters.
#[tokio::test]
async fn body_values_map_into_headers_both_ways() {
    let app = spawn_app().await;
    let c = app.client();
    let backend = echo_backend().await;
    let (api, root) = create_api(&c, "body-mappings").await;
    Route {
        verb: "POST",
        kind: IntegrationType::Http,
        uri: Some(format!("http://{backend}/orders")),
        selection_pattern: Some(""),
        ..Route::default()
    }
    .put(&c, &api, &root)
    .await;
    c.update_integration()
        .rest_api_id(&api)
        .resource_id(&root)
        .http_method("POST")
        .patch_operations(
            aws_sdk_apigateway::types::PatchOperation::builder()
                .op(aws_sdk_apigateway::types::Op::Add)
                .path("/requestParameters/integration.request.header.X-Order")
                .value("method.request.body.order.id")
                .build(),
        )
        .patch_operations(
            aws_sdk_apigateway::types::PatchOperation::builder()
                .op(aws_sdk_apigateway::types::Op::Add)
                .path("/requestParameters/integration.request.header.X-Items")
                .value("method.request.body.order.items")
                .build(),
        )
        .send()
        .await
        .unwrap();
    c.put_integration_response()
        .rest_api_id(&api)
        .resource_id(&root)
        .http_method("POST")
        .status_code("200")
        .selection_pattern("")
        .response_parameters(
            "method.response.header.X-Backend-Path",
            "integration.response.body.path",
        )
        .response_parameters(
            "method.response.header.X-Method",
            "integration.response.body.method",
        )
        .send()
        .await
        .unwrap();
    let (worker, http) = deploy(&app, &api, "dev").await;
    let res = http
        .post(invoke_url(&api, &worker, "dev", "/"))
        .json(&json!({"order": {"id": "o-17", "items": [1, 2]}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["x-backend-path"], "/orders");
    assert_eq!(res.headers()["x-method"], "POST");
    let seen: Value = res.json().await.unwrap();
    assert_eq!(seen["headers"]["x-order"], "o-17");
    assert_eq!(seen["headers"]["x-items"], "[1,2]");
}

/// The CORS preflight CDK and SAM generate: OPTIONS answered by a MOCK whose request template
/// is `{ statusCode: 200 }` (not JSON) and whose integration response sets the headers.
#[tokio::test]
async fn a_cors_preflight_mock_answers_with_its_headers() {
    let app = spawn_app().await;
    let c = app.client();
    let (api, root) = create_api(&c, "cors").await;
    let items = add_resource(&c, &api, &root, "items").await;
    c.put_method()
        .rest_api_id(&api)
        .resource_id(&items)
        .http_method("OPTIONS")
        .authorization_type("NONE")
        .send()
        .await
        .unwrap();
    c.put_method_response()
        .rest_api_id(&api)
        .resource_id(&items)
        .http_method("OPTIONS")
        .status_code("204")
        .response_parameters("method.response.header.Access-Control-Allow-Origin", true)
        .response_parameters("method.response.header.Access-Control-Allow-Methods", true)
        .send()
        .await
        .unwrap();
    c.put_integration()
        .rest_api_id(&api)
        .resource_id(&items)
        .http_method("OPTIONS")
        .r#type(IntegrationType::Mock)
        .request_templates("application/json", "{ statusCode: 200 }")
        .send()
        .await
        .unwrap();
    c.put_integration_response()
        .rest_api_id(&api)
        .resource_id(&items)
        .http_method("OPTIONS")
        .status_code("204")
        .response_parameters(
            "method.response.header.Access-Control-Allow-Origin",
            "'https://app.example'",
        )
        .response_parameters(
            "method.response.header.Access-Control-Allow-Methods",
            "'OPTIONS,GET,POST'",
        )
        .send()
        .await
        .unwrap();
    let (worker, http) = deploy(&app, &api, "prod").await;
    let res = http
        .request(
            reqwest::Method::OPTIONS,
            invoke_url(&api, &worker, "prod", "/items"),
        )
        .header("origin", "https://app.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "https://app.example"
    );
    assert_eq!(res.headers()["access-control-allow-methods"], "OPTIONS,GET,POST");
}

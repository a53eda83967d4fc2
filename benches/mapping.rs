//! The mapping hot path: a typical request template (10 fields, one `#foreach` over 20 items)
//! rendered as a request renders it — `$input`, `$util` and `$context` built, the body parsed —
//! (goal: <= 5 us), and a 1 KB JSON body parsed and validated against a draft-4 model (goal:
//! <= 5 us).
//!
//! `cargo bench --bench mapping`

use std::collections::BTreeMap;

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use gatehouse::compiler::MappingTemplate;
use gatehouse::dataplane::context::RequestContext;
use gatehouse::dataplane::request::MethodRequest;
use gatehouse::dataplane::template;
use serde_json::json;

// As in the gatehouse binary.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TEMPLATE: &str = r#"#set($body = $input.path('$'))
{
  "orderId": "$body.orderId",
  "customer": "$util.escapeJavaScript($body.customer.name)",
  "email": "$body.customer.email",
  "currency": "$body.currency",
  "total": $body.total,
  "requestId": "$context.requestId",
  "stage": "$context.stage",
  "sourceIp": "$context.identity.sourceIp",
  "userAgent": "$input.params('user-agent')",
  "tenant": "$input.params('tenant')",
  "items": [
  #foreach($item in $body.items)
    {"sku": "$item.sku", "qty": $item.qty}#if($foreach.hasNext),#end
  #end
  ]
}"#;

fn order() -> serde_json::Value {
    let items: Vec<_> = (0..20)
        .map(|i| json!({"sku": format!("sku-{i:04}"), "name": format!("Widget {i:02}"), "qty": i % 5 + 1}))
        .collect();
    json!({
        "orderId": "o-123456",
        "customer": {"name": "Ann \"Annie\" Oneil", "email": "ann@example.com"},
        "currency": "EUR",
        "total": 129.5,
        "items": items
    })
}

fn templates(c: &mut Criterion) {
    let compiled = MappingTemplate::compile(TEMPLATE);
    assert!(compiled.parsed.is_ok());
    let body = Bytes::from(order().to_string());
    let variables = BTreeMap::new();
    let mut headers = http::HeaderMap::new();
    headers.insert("user-agent", "bench/1.0".parse().unwrap());
    headers.insert("content-type", "application/json".parse().unwrap());
    let fields = gatehouse::dataplane::h1::RawFields::default();
    let req = MethodRequest {
        method: http::Method::POST,
        fields: &fields,
        header_map: headers.into(),
        raw_query: Some("tenant=acme".into()),
        query: vec![("tenant".into(), "acme".into())],
        path_params: vec![],
        variables: &variables,
        body: None,
    };
    let uri = http::Uri::from_static("/prod/orders");
    let peer = gatehouse::dataplane::context::Peer::new("127.0.0.1:9999".parse().unwrap(), 8080);
    let mut ctx = RequestContext::new(
        &http::Method::POST,
        &uri,
        gatehouse::dataplane::context::RequestFields {
            host: Some(b"abc.execute-api.localhost"),
            user_agent: Some(b"bench/1.0"),
            trace_id: None,
        },
        &peer,
        std::time::Instant::now(),
    );
    let out = template::render(&compiled, &body, &req, &mut ctx).unwrap();
    serde_json::from_str::<serde_json::Value>(&out).expect("the template renders JSON");
    c.bench_function("request template: 10 fields, #foreach over 20 items", |b| {
        b.iter(|| template::render(&compiled, &body, &req, &mut ctx).unwrap())
    });
    let text = std::str::from_utf8(&body).unwrap();
    c.bench_function("of which: parse the 1 KB body into template values", |b| {
        b.iter(|| gatehouse::vtl::apigateway::parse_json(text).unwrap())
    });
    // The same template with the body already parsed: evaluation alone.
    let eval_only = gatehouse::vtl::Template::parse(TEMPLATE.split_once('\n').unwrap().1).unwrap();
    let mut vars = gatehouse::vtl::Vars::default();
    vars.insert(
        "body".into(),
        gatehouse::vtl::apigateway::parse_json(text).unwrap(),
    );
    let params = gatehouse::vtl::apigateway::Params {
        path: vec![],
        querystring: vec![("tenant".into(), "acme".into())],
        header: vec![("user-agent".into(), "bench/1.0".into())],
    };
    vars.insert(
        "input".into(),
        gatehouse::vtl::Value::Object(std::rc::Rc::new(gatehouse::vtl::apigateway::Input::new(
            b"", params,
        ))),
    );
    vars.insert(
        "util".into(),
        gatehouse::vtl::Value::Object(std::rc::Rc::new(gatehouse::vtl::apigateway::Util)),
    );
    let mut context = gatehouse::vtl::value::entries(4);
    context.insert("requestId".into(), "8d3f...".into());
    context.insert("stage".into(), "prod".into());
    let mut identity = gatehouse::vtl::value::entries(1);
    identity.insert("sourceIp".into(), "127.0.0.1".into());
    context.insert("identity".into(), gatehouse::vtl::Value::map(identity));
    vars.insert("context".into(), gatehouse::vtl::Value::map(context));
    let limits = gatehouse::vtl::Limits::default();
    c.bench_function("of which: evaluation alone (body parsed, variables built)", |b| {
        b.iter(|| eval_only.render(&vars, &limits).unwrap())
    });
    c.bench_function("parse the same template (once per deployment)", |b| {
        b.iter(|| gatehouse::vtl::Template::parse(TEMPLATE).unwrap())
    });
}

fn validation(c: &mut Criterion) {
    let schema = json!({
        "$schema": "http://json-schema.org/draft-04/schema#",
        "type": "object",
        "required": ["orderId", "customer", "currency", "total", "items"],
        "properties": {
            "orderId": {"type": "string", "pattern": "^o-[0-9]+$"},
            "customer": {
                "type": "object",
                "required": ["name", "email"],
                "properties": {"name": {"type": "string", "maxLength": 100}, "email": {"type": "string"}}
            },
            "currency": {"enum": ["EUR", "USD", "GBP"]},
            "total": {"type": "number", "minimum": 0},
            "items": {
                "type": "array",
                "maxItems": 100,
                "items": {
                    "type": "object",
                    "required": ["sku", "qty"],
                    "properties": {"sku": {"type": "string"}, "qty": {"type": "integer", "minimum": 1}}
                }
            }
        }
    });
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .build(&schema)
        .unwrap();
    let body = order().to_string().into_bytes();
    assert!(
        (900..1300).contains(&body.len()),
        "a body of about 1 KB: {}",
        body.len()
    );
    let parsed: serde_json::Value = serde_json::from_slice(&body).unwrap();
    c.bench_function("of which: the draft-4 schema alone", |b| {
        b.iter(|| assert!(validator.is_valid(&parsed)))
    });
    c.bench_function("validate a 1 KB body (parse + draft-4 schema)", |b| {
        b.iter(|| {
            let instance: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert!(validator.is_valid(&instance));
        })
    });
}

criterion_group!(benches, templates, validation);
criterion_main!(benches);

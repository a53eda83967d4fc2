//! Route lookup on a compiled REST API of 10,000 resources and an HTTP API of 10,000 routes
//! (goal: <= 1 us per lookup), and the snapshot compiles that build them.
//!
//! `cargo bench --bench routing`

use std::collections::BTreeMap;

use criterion::{Criterion, criterion_group, criterion_main};
use gatehouse::compiler::compile;
use gatehouse::domain::enums::*;
use gatehouse::domain::rest_api::*;
use gatehouse::domain::snapshot::Snapshot;

fn method() -> Method {
    Method {
        http_method: HttpMethod::Get,
        authorization_type: AuthorizationType::None,
        authorizer_id: None,
        api_key_required: false,
        request_validator_id: None,
        operation_name: None,
        request_parameters: BTreeMap::new(),
        request_models: BTreeMap::new(),
        method_responses: BTreeMap::new(),
        method_integration: Some(Integration {
            kind: IntegrationType::Mock,
            http_method: None,
            uri: None,
            connection_type: None,
            connection_id: None,
            credentials: None,
            request_parameters: BTreeMap::new(),
            request_templates: BTreeMap::from([("application/json".into(), r#"{"statusCode": 200}"#.into())]),
            passthrough_behavior: Some(PassthroughBehavior::WhenNoMatch),
            content_handling: None,
            timeout_in_millis: 29000,
            cache_namespace: None,
            cache_key_parameters: vec![],
            integration_responses: BTreeMap::new(),
            tls_config: None,
        }),
        authorization_scopes: vec![],
    }
}

/// 10,000 resources: 2,500 collections, each with `/items`, `/items/{id}` and a literal child.
fn snapshot() -> Snapshot {
    let api = RestApi {
        id: "bench".into(),
        name: "bench".into(),
        description: None,
        created_date: 0,
        version: None,
        warnings: vec![],
        binary_media_types: vec![],
        minimum_compression_size: None,
        api_key_source: ApiKeySource::Header,
        endpoint_configuration: EndpointConfiguration {
            types: vec![EndpointType::Regional],
            ip_address_type: None,
            vpc_endpoint_ids: vec![],
        },
        policy: None,
        tags: BTreeMap::new(),
        disable_execute_api_endpoint: false,
        root_resource_id: "root".into(),
    };
    let mut resources = vec![Resource {
        id: "root".into(),
        parent_id: None,
        path_part: None,
        path: "/".into(),
        resource_methods: None,
    }];
    for i in 0..2500 {
        for (j, path) in [
            format!("/c{i}"),
            format!("/c{i}/items"),
            format!("/c{i}/items/{{id}}"),
            format!("/c{i}/items/{{id}}/detail"),
        ]
        .into_iter()
        .enumerate()
        {
            resources.push(Resource {
                id: format!("r{i}-{j}"),
                parent_id: None,
                path_part: None,
                path,
                resource_methods: Some(BTreeMap::from([("GET".into(), method())])),
            });
        }
    }
    Snapshot::new(api, resources)
}

fn bench(c: &mut Criterion) {
    let snapshot = snapshot();
    let hash = snapshot.canonical().1;
    c.bench_function("compile a 10k-resource snapshot", |b| {
        b.iter(|| compile(&snapshot, &hash).unwrap())
    });
    let gatehouse::compiler::CompiledApi::Rest(api) = compile(&snapshot, &hash).unwrap() else {
        unreachable!("a REST snapshot compiles to a REST API")
    };
    assert_eq!(api.routes.len(), 10_001);
    c.bench_function("route lookup, 10k resources, param match", |b| {
        b.iter(|| {
            let m = api
                .routes
                .lookup(std::hint::black_box("/c1777/items/42/detail"))
                .unwrap();
            std::hint::black_box(m.value.method("GET"))
        })
    });
    c.bench_function("route lookup, 10k resources, miss", |b| {
        b.iter(|| {
            api.routes
                .lookup(std::hint::black_box("/c1777/nothing/here"))
                .is_none()
        })
    });
}

/// 10,000 HTTP API routes: 2,500 collections, each with `GET /cN/items`, `GET` and `DELETE`
/// `/cN/items/{id}`, `GET /cN/items/{id}/detail`; and a `$default` route.
fn http_snapshot() -> gatehouse::domain::snapshot::HttpSnapshot {
    use gatehouse::domain::http_api::{HttpApi, Route};
    let api = HttpApi {
        api_id: "bench".into(),
        name: "bench".into(),
        protocol_type: "HTTP".into(),
        api_endpoint: String::new(),
        api_key_selection_expression: None,
        cors_configuration: None,
        created_date: String::new(),
        description: None,
        disable_schema_validation: None,
        disable_execute_api_endpoint: false,
        ip_address_type: "ipv4".into(),
        route_selection_expression: "$request.method $request.path".into(),
        tags: BTreeMap::new(),
        version: None,
    };
    let route = |id: String, key: String| Route {
        route_id: id,
        route_key: key,
        api_gateway_managed: false,
        api_key_required: false,
        authorization_scopes: vec![],
        authorization_type: "NONE".into(),
        authorizer_id: None,
        model_selection_expression: None,
        operation_name: None,
        request_models: BTreeMap::new(),
        request_parameters: BTreeMap::new(),
        route_response_selection_expression: None,
        target: None,
    };
    let mut routes = vec![route("default".into(), "$default".into())];
    for i in 0..2500 {
        for (j, key) in [
            format!("GET /c{i}/items"),
            format!("GET /c{i}/items/{{id}}"),
            format!("DELETE /c{i}/items/{{id}}"),
            format!("GET /c{i}/items/{{id}}/detail"),
        ]
        .into_iter()
        .enumerate()
        {
            routes.push(route(format!("r{i}-{j}"), key));
        }
    }
    gatehouse::domain::snapshot::HttpSnapshot::new(api, routes, vec![])
}

fn bench_http(c: &mut Criterion) {
    let snapshot = http_snapshot();
    c.bench_function("compile a 10k-route HTTP API", |b| {
        b.iter(|| gatehouse::compiler::http_api::compile(&snapshot, "h").unwrap())
    });
    let api = gatehouse::compiler::http_api::compile(&snapshot, "h").unwrap();
    c.bench_function("route lookup, 10k HTTP API routes, param match", |b| {
        b.iter(|| {
            let m = api
                .route("DELETE", std::hint::black_box("/c1777/items/42"))
                .unwrap();
            std::hint::black_box(m.value)
        })
    });
    c.bench_function("route lookup, 10k HTTP API routes, to $default", |b| {
        b.iter(|| {
            let m = api
                .route("POST", std::hint::black_box("/c1777/items/42/detail"))
                .unwrap();
            std::hint::black_box(m.value)
        })
    });
}

criterion_group!(benches, bench, bench_http);
criterion_main!(benches);

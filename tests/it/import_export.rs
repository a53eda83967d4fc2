//! REST APIs as OpenAPI documents through the AWS SDK for Rust: ImportRestApi (Swagger 2.0 and
//! OpenAPI 3.0, JSON and YAML), what it makes (resources, methods, integrations, models,
//! validators, authorizers, gateway responses) and serves; PutRestApi's merge and overwrite;
//! GetExport (swagger and oas30, JSON and YAML, with API Gateway's extensions) and the round
//! trip export → import; AWS's answers to documents it cannot read.

use aws_sdk_apigateway::primitives::Blob;
use aws_sdk_apigateway::types::{IntegrationType, PutMode};
use serde_json::{Value, json};

use crate::helpers::*;

/// A PetStore of our own: models (one referring to another), a default request validator, a
/// token authorizer, an API key, MOCK and HTTP_PROXY integrations, a gateway response.
fn petstore(backend: &str) -> Value {
    json!({
        "swagger": "2.0",
        "info": {"title": "PetStore", "version": "1.0.0", "description": "Pets, imported"},
        "basePath": "/v1",
        "schemes": ["https"],
        "x-amazon-apigateway-binary-media-types": ["image/png"],
        "x-amazon-apigateway-request-validators": {
            "all": {"validateRequestBody": true, "validateRequestParameters": true},
            "none": {"validateRequestBody": false, "validateRequestParameters": false}
        },
        "x-amazon-apigateway-request-validator": "all",
        "x-amazon-apigateway-gateway-responses": {
            "MISSING_AUTHENTICATION_TOKEN": {
                "statusCode": "404",
                "responseTemplates": {"application/json": "{\"message\": \"no such pet path\"}"}
            }
        },
        "securityDefinitions": {
            "api_key": {"type": "apiKey", "name": "x-api-key", "in": "header"},
            "token": {
                "type": "apiKey", "name": "Authorization", "in": "header",
                "x-amazon-apigateway-authtype": "custom",
                "x-amazon-apigateway-authorizer": {
                    "type": "token",
                    "authorizerUri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:auth/invocations",
                    "authorizerResultTtlInSeconds": 60
                }
            }
        },
        "paths": {
            "/pets": {
                "get": {
                    "operationId": "ListPets",
                    "produces": ["application/json"],
                    "parameters": [{"name": "type", "in": "query", "required": false, "type": "string"}],
                    "responses": {
                        "200": {"description": "pets", "schema": {"$ref": "#/definitions/Pets"},
                                "headers": {"Access-Control-Allow-Origin": {"type": "string"}}}
                    },
                    "x-amazon-apigateway-request-validator": "none",
                    "x-amazon-apigateway-integration": {
                        "type": "mock",
                        "httpMethod": "POST",
                        "requestTemplates": {"application/json": "{\"statusCode\": 200}"},
                        "passthroughBehavior": "when_no_match",
                        "responses": {
                            "default": {
                                "statusCode": "200",
                                "responseParameters": {"method.response.header.Access-Control-Allow-Origin": "'*'"},
                                "responseTemplates": {"application/json": "[{\"id\": 1, \"type\": \"$input.params('type')\"}]"}
                            }
                        }
                    }
                },
                "post": {
                    "operationId": "CreatePet",
                    "consumes": ["application/json"],
                    "parameters": [{"in": "body", "name": "Pet", "required": true, "schema": {"$ref": "#/definitions/Pet"}}],
                    "security": [{"api_key": []}],
                    "responses": {"200": {"description": "made"}},
                    "x-amazon-apigateway-integration": {
                        "type": "mock",
                        "requestTemplates": {"application/json": "{\"statusCode\": 200}"},
                        "responses": {"default": {"statusCode": "200", "responseTemplates": {"application/json": "{\"made\": true}"}}}
                    }
                }
            },
            "/pets/{petId}": {
                "parameters": [{"name": "petId", "in": "path", "required": true, "type": "string"}],
                "put": {
                    "consumes": ["application/json"],
                    "parameters": [{"in": "body", "name": "Pet", "required": true, "schema": {"$ref": "#/definitions/Pet"}}],
                    "responses": {"200": {"description": "kept"}},
                    "x-amazon-apigateway-integration": {
                        "type": "mock",
                        "requestTemplates": {"application/json": "{\"statusCode\": 200}"},
                        "responses": {"default": {"statusCode": "200", "responseTemplates": {"application/json": "{\"kept\": true}"}}}
                    }
                },
                "get": {
                    "security": [{"token": []}],
                    "responses": {"200": {"description": "a pet", "schema": {"$ref": "#/definitions/Pet"}}},
                    "x-amazon-apigateway-integration": {
                        "type": "http_proxy",
                        "httpMethod": "GET",
                        "uri": format!("http://{backend}/pets/{{id}}"),
                        "requestParameters": {"integration.request.path.id": "method.request.path.petId"}
                    }
                }
            },
            "/shop/{proxy+}": {
                "x-amazon-apigateway-any-method": {
                    "parameters": [{"name": "proxy", "in": "path", "required": true, "type": "string"}],
                    "responses": {},
                    "x-amazon-apigateway-integration": {
                        "type": "http_proxy",
                        "httpMethod": "ANY",
                        "uri": format!("http://{backend}/shop/{{proxy}}"),
                        "requestParameters": {"integration.request.path.proxy": "method.request.path.proxy"}
                    }
                }
            }
        },
        "definitions": {
            "Pet": {
                "type": "object",
                "required": ["name"],
                "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}
            },
            "Pets": {"type": "array", "items": {"$ref": "#/definitions/Pet"}}
        }
    })
}

/// Every resource path with its methods' definitions, ids left out (two APIs compared).
async fn definition(c: &aws_sdk_apigateway::Client, api: &str) -> Value {
    let resources = c
        .get_resources()
        .rest_api_id(api)
        .embed("methods")
        .limit(500)
        .send()
        .await
        .unwrap();
    let authorizers = c.get_authorizers().rest_api_id(api).send().await.unwrap();
    let authorizer_name = |id: &str| {
        authorizers
            .items()
            .iter()
            .find(|a| a.id() == Some(id))
            .and_then(|a| a.name())
            .map(str::to_owned)
    };
    let validators = c.get_request_validators().rest_api_id(api).send().await.unwrap();
    let validator_name = |id: &str| {
        validators
            .items()
            .iter()
            .find(|v| v.id() == Some(id))
            .and_then(|v| v.name())
            .map(str::to_owned)
    };
    let mut out = serde_json::Map::new();
    for r in resources.items() {
        for (verb, _) in r.resource_methods().into_iter().flatten() {
            let m = c
                .get_method()
                .rest_api_id(api)
                .resource_id(r.id().unwrap())
                .http_method(verb)
                .send()
                .await
                .unwrap();
            let i = m.method_integration();
            out.insert(
                format!("{verb} {}", r.path().unwrap()),
                json!({
                    "authorization": m.authorization_type(),
                    "authorizer": m.authorizer_id().and_then(authorizer_name),
                    "apiKey": m.api_key_required(),
                    "validator": m.request_validator_id().and_then(validator_name),
                    "operation": m.operation_name(),
                    "parameters": format!("{:?}", m.request_parameters().map(|p| p.iter().collect::<std::collections::BTreeMap<_, _>>())),
                    "models": format!("{:?}", m.request_models().map(|p| p.iter().collect::<std::collections::BTreeMap<_, _>>())),
                    "responses": format!("{:?}", m.method_responses().map(|p| p.keys().collect::<std::collections::BTreeSet<_>>())),
                    "integration": i.map(|i| json!({
                        "type": i.r#type().map(|t| t.as_str().to_owned()),
                        "uri": i.uri(),
                        "httpMethod": i.http_method(),
                        "templates": format!("{:?}", i.request_templates().map(|p| p.iter().collect::<std::collections::BTreeMap<_, _>>())),
                        "responses": format!("{:?}", i.integration_responses().map(|p| p.keys().collect::<std::collections::BTreeSet<_>>())),
                    })),
                }),
            );
        }
    }
    let models = c.get_models().rest_api_id(api).send().await.unwrap();
    let mut names: Vec<&str> = models.items().iter().filter_map(|m| m.name()).collect();
    names.sort_unstable();
    out.insert("models".into(), json!(names));
    Value::Object(out)
}

#[tokio::test]
async fn an_imported_petstore_is_defined_served_exported_and_imported_again() {
    let app = spawn_app().await;
    let c = app.client();
    let backend = crate::backends::echo_backend().await;
    let doc = petstore(&backend.to_string());
    let imported = c
        .import_rest_api()
        .body(Blob::new(doc.to_string()))
        .parameters("basepath", "prepend")
        .send()
        .await
        .unwrap();
    let api = imported.id().unwrap().to_owned();
    assert_eq!(imported.name(), Some("PetStore"));
    assert_eq!(imported.version(), Some("1.0.0"));
    assert_eq!(imported.description(), Some("Pets, imported"));
    assert_eq!(imported.binary_media_types(), ["image/png"]);

    // The resources, under the prepended base path, each with its methods.
    let resources = c
        .get_resources()
        .rest_api_id(&api)
        .limit(500)
        .send()
        .await
        .unwrap();
    let mut paths: Vec<&str> = resources.items().iter().filter_map(|r| r.path()).collect();
    paths.sort_unstable();
    assert_eq!(
        paths,
        [
            "/",
            "/v1",
            "/v1/pets",
            "/v1/pets/{petId}",
            "/v1/shop",
            "/v1/shop/{proxy+}"
        ]
    );
    let id_of = |path: &str| {
        resources
            .items()
            .iter()
            .find(|r| r.path() == Some(path))
            .and_then(|r| r.id())
            .unwrap()
            .to_owned()
    };
    let pets = id_of("/v1/pets");
    let list = c
        .get_method()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("GET")
        .send()
        .await
        .unwrap();
    assert_eq!(list.operation_name(), Some("ListPets"));
    assert_eq!(list.authorization_type(), Some("NONE"));
    assert!(!list.request_parameters().unwrap()["method.request.querystring.type"]);
    assert_eq!(
        list.method_responses().unwrap()["200"].response_models().unwrap()["application/json"],
        "Pets"
    );
    let mock = list.method_integration().unwrap();
    assert_eq!(mock.r#type(), Some(&IntegrationType::Mock));
    assert_eq!(
        mock.http_method(),
        None,
        "AWS keeps no method for a MOCK integration"
    );
    assert_eq!(mock.cache_namespace(), Some(pets.as_str()));
    assert_eq!(mock.timeout_in_millis(), 29_000);
    assert_eq!(mock.passthrough_behavior(), Some("WHEN_NO_MATCH"));
    let default = &mock.integration_responses().unwrap()["200"];
    assert_eq!(default.selection_pattern(), None);
    let create = c
        .get_method()
        .rest_api_id(&api)
        .resource_id(&pets)
        .http_method("POST")
        .send()
        .await
        .unwrap();
    assert_eq!(create.api_key_required(), Some(true));
    assert_eq!(create.request_models().unwrap()["application/json"], "Pet");
    let validators = c.get_request_validators().rest_api_id(&api).send().await.unwrap();
    let all = validators
        .items()
        .iter()
        .find(|v| v.name() == Some("all"))
        .unwrap();
    assert_eq!(
        create.request_validator_id(),
        all.id(),
        "the document's default validator"
    );
    assert_ne!(list.request_validator_id(), all.id(), "the operation's own");
    let one = c
        .get_method()
        .rest_api_id(&api)
        .resource_id(id_of("/v1/pets/{petId}"))
        .http_method("GET")
        .send()
        .await
        .unwrap();
    assert_eq!(one.authorization_type(), Some("CUSTOM"));
    let authorizers = c.get_authorizers().rest_api_id(&api).send().await.unwrap();
    assert_eq!(authorizers.items().len(), 1);
    assert_eq!(one.authorizer_id(), authorizers.items()[0].id());
    assert_eq!(
        authorizers.items()[0].identity_source(),
        Some("method.request.header.Authorization")
    );
    assert_eq!(
        authorizers.items()[0].authorizer_result_ttl_in_seconds(),
        Some(60)
    );
    assert!(one.request_parameters().unwrap()["method.request.path.petId"]);
    let pet = c
        .get_model()
        .rest_api_id(&api)
        .model_name("Pets")
        .send()
        .await
        .unwrap();
    assert!(
        pet.schema().unwrap().contains(&format!(
            "https://apigateway.amazonaws.com/restapis/{api}/models/Pet"
        )),
        "references between models are model URLs: {:?}",
        pet.schema()
    );
    let gateway = c
        .get_gateway_response()
        .rest_api_id(&api)
        .response_type(aws_sdk_apigateway::types::GatewayResponseType::MissingAuthenticationToken)
        .send()
        .await
        .unwrap();
    assert_eq!(gateway.status_code(), Some("404"));

    // Deployed, it serves: the MOCK with its template, the validator, the HTTP_PROXY.
    c.create_deployment()
        .rest_api_id(&api)
        .stage_name("prod")
        .send()
        .await
        .unwrap();
    let worker = app.start_worker(None, None).await;
    assert!(serving(&worker, &api, "prod").await);
    let client = invoker(&api, &worker);
    let res = client
        .get(invoke_url(&api, &worker, "prod", "/v1/pets?type=cat"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["access-control-allow-origin"], "*");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body, json!([{"id": 1, "type": "cat"}]));
    // The document's default validator checks bodies against the imported model.
    let put = |body: &'static str| {
        client
            .put(invoke_url(&api, &worker, "prod", "/v1/pets/7"))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let res = put(r#"{"id": 7}"#).await.unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(
        res.json::<Value>().await.unwrap()["message"],
        "Invalid request body"
    );
    assert_eq!(put(r#"{"name": "rex"}"#).await.unwrap().status(), 200);
    // The API key the document's security asks for.
    let res = client
        .post(invoke_url(&api, &worker, "prod", "/v1/pets"))
        .body(r#"{"name": "rex"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = client
        .get(invoke_url(&api, &worker, "prod", "/v1/shop/toys/ball"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["path"], "/shop/toys/ball");
    let res = client
        .get(invoke_url(&api, &worker, "prod", "/v1/nowhere"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404, "the imported gateway response");

    // YAML, as Accept asks (the SDKs for Rust and others always send their own JSON Accept,
    // so this one is signed by hand, as the AWS CLI sends it).
    let raw = crate::conformance::SignedClient::of_first_account(&app)
        .execute(
            "GET",
            &format!("/restapis/{api}/stages/prod/exports/oas30?extensions=apigateway"),
            vec![],
            &[("accept", "application/yaml")],
        )
        .await;
    assert_eq!(raw.status(), 200);
    assert_eq!(raw.headers()["content-type"], "application/yaml");
    let yaml = raw.text().await.unwrap();
    assert_eq!(
        gatehouse::openapi::parse(&yaml).unwrap()["openapi"],
        "3.0.1",
        "{yaml}"
    );
    let from_yaml = c.import_rest_api().body(Blob::new(yaml)).send().await.unwrap();
    assert_eq!(
        definition(&c, from_yaml.id().unwrap()).await,
        definition(&c, &api).await,
        "a YAML export imports as the same API"
    );

    // Exported with API Gateway's extensions, in both formats, and imported again: the same API.
    for (kind, accept) in [("swagger", "application/json"), ("oas30", "application/json")] {
        let export = c
            .get_export()
            .rest_api_id(&api)
            .stage_name("prod")
            .export_type(kind)
            .accepts(accept)
            .parameters("extensions", "apigateway")
            .send()
            .await
            .unwrap();
        assert_eq!(export.content_type(), Some(accept));
        assert!(
            export
                .content_disposition()
                .unwrap()
                .starts_with(&format!("attachment; filename=\"{kind}_")),
            "{:?}",
            export.content_disposition()
        );
        let text = String::from_utf8(export.body().unwrap().as_ref().to_vec()).unwrap();
        let exported = gatehouse::openapi::parse(&text).unwrap();
        if kind == "swagger" {
            assert_eq!(exported["swagger"], "2.0");
            assert_eq!(exported["basePath"], "/prod");
            assert!(exported["definitions"]["Pets"]["items"]["$ref"] == "#/definitions/Pet");
        } else {
            assert_eq!(exported["openapi"], "3.0.1");
            assert_eq!(exported["servers"][0]["variables"]["basePath"]["default"], "prod");
            assert!(exported["components"]["schemas"]["Pets"]["items"]["$ref"] == "#/components/schemas/Pet");
        }
        assert!(exported["paths"]["/v1/pets"]["get"]["x-amazon-apigateway-integration"].is_object());
        let again = c.import_rest_api().body(Blob::new(text)).send().await.unwrap();
        assert_eq!(again.name(), Some("PetStore"));
        assert_eq!(
            definition(&c, again.id().unwrap()).await,
            definition(&c, &api).await,
            "{kind}: export → import gives the same API"
        );
    }
    // Without extensions, no integration is exported.
    let plain = c
        .get_export()
        .rest_api_id(&api)
        .stage_name("prod")
        .export_type("oas30")
        .send()
        .await
        .unwrap();
    let text = String::from_utf8(plain.body().unwrap().as_ref().to_vec()).unwrap();
    assert!(!text.contains("x-amazon-apigateway-integration"));
    let unknown = c
        .get_export()
        .rest_api_id(&api)
        .stage_name("nope")
        .export_type("oas30")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(unknown).0, "NotFoundException");
}

#[tokio::test]
async fn put_rest_api_merges_or_overwrites_and_bad_documents_make_nothing() {
    let app = spawn_app().await;
    let c = app.client();
    let api = c
        .create_rest_api()
        .name("pets")
        .binary_media_types("image/heif")
        .send()
        .await
        .unwrap();
    let id = api.id().unwrap().to_owned();
    let doc = |paths: Value| {
        json!({
            "openapi": "3.0.1",
            "info": {"title": "pets-2", "version": "1.0.0"},
            "x-amazon-apigateway-binary-media-types": ["image/png", "image/jpg"],
            "paths": paths,
        })
        .to_string()
    };
    let mock = json!({"get": {"responses": {"200": {"description": "ok"}},
        "x-amazon-apigateway-integration": {"type": "mock", "requestTemplates": {"application/json": "{\"statusCode\": 200}"}}}});
    let merged = c
        .put_rest_api()
        .rest_api_id(&id)
        .mode(PutMode::Merge)
        .body(Blob::new(doc(json!({"/a": mock}))))
        .send()
        .await
        .unwrap();
    // As AWS: the title renames the API, media types are merged.
    assert_eq!(merged.name(), Some("pets-2"));
    assert_eq!(merged.version(), Some("1.0.0"));
    assert_eq!(
        merged.binary_media_types(),
        ["image/heif", "image/png", "image/jpg"]
    );
    c.put_rest_api()
        .rest_api_id(&id)
        .mode(PutMode::Merge)
        .body(Blob::new(doc(json!({"/b": mock}))))
        .send()
        .await
        .unwrap();
    let paths = |c: aws_sdk_apigateway::Client, id: String| async move {
        let r = c.get_resources().rest_api_id(&id).send().await.unwrap();
        let mut p: Vec<String> = r
            .items()
            .iter()
            .filter_map(|r| r.path().map(str::to_owned))
            .collect();
        p.sort();
        p
    };
    assert_eq!(paths(c.clone(), id.clone()).await, ["/", "/a", "/b"]);
    let overwritten = c
        .put_rest_api()
        .rest_api_id(&id)
        .mode(PutMode::Overwrite)
        .body(Blob::new(doc(json!({"/c": mock}))))
        .send()
        .await
        .unwrap();
    assert_eq!(overwritten.binary_media_types(), ["image/png", "image/jpg"]);
    assert_eq!(paths(c.clone(), id.clone()).await, ["/", "/c"]);
    let method = c
        .get_method()
        .rest_api_id(&id)
        .resource_id(
            c.get_resources()
                .rest_api_id(&id)
                .send()
                .await
                .unwrap()
                .items()
                .iter()
                .find(|r| r.path() == Some("/c"))
                .unwrap()
                .id()
                .unwrap(),
        )
        .http_method("GET")
        .send()
        .await
        .unwrap();
    assert_eq!(method.authorization_type(), Some("NONE"));

    // What cannot be read is AWS's one answer, whatever the API (even none), and makes nothing.
    for bad in ["{\"openapi\": ", "a: [b", "{\"info\": {\"title\": \"x\"}}"] {
        let e = c.import_rest_api().body(Blob::new(bad)).send().await.unwrap_err();
        assert_eq!(
            err_of(e),
            ("BadRequestException".into(), "Invalid OpenAPI input.".into())
        );
        let e = c
            .put_rest_api()
            .rest_api_id("nope000000")
            .body(Blob::new(bad))
            .send()
            .await
            .unwrap_err();
        assert_eq!(err_of(e).1, "Invalid OpenAPI input.");
    }
    // A warning with failonwarnings: nothing is made; without it, the rest is.
    let warned = json!({
        "swagger": "2.0",
        "info": {"title": "warned", "version": "1"},
        "paths": {"/x": {"get": {"responses": {}, "x-amazon-apigateway-integration": {"type": "nonsense"}}}}
    })
    .to_string();
    let before = c.get_rest_apis().send().await.unwrap().items().len();
    let e = c
        .import_rest_api()
        .body(Blob::new(warned.clone()))
        .fail_on_warnings(true)
        .send()
        .await
        .unwrap_err();
    assert!(err_of(e).1.starts_with("Warnings found during import"));
    assert_eq!(c.get_rest_apis().send().await.unwrap().items().len(), before);
    let made = c.import_rest_api().body(Blob::new(warned)).send().await.unwrap();
    assert_eq!(made.warnings().len(), 1, "{:?}", made.warnings());

    // What would make an API other than the document says is refused, warnings or not: a
    // security scheme nothing defines (the method would be open), siblings both variables.
    for refused in [
        json!({"swagger": "2.0", "info": {"title": "open", "version": "1"},
               "paths": {"/x": {"get": {"security": [{"nobody": []}], "responses": {}}}}}),
        json!({"swagger": "2.0", "info": {"title": "siblings", "version": "1"},
               "paths": {"/p/{a}": {"get": {"responses": {}}}, "/p/{b}": {"get": {"responses": {}}}}}),
        json!({"swagger": "2.0", "info": {"title": "greedy", "version": "1"},
               "paths": {"/p/{proxy+}/x": {"get": {"responses": {}}}}}),
    ] {
        let e = c
            .import_rest_api()
            .body(Blob::new(refused.to_string()))
            .send()
            .await
            .unwrap_err();
        let (kind, message) = err_of(e);
        assert_eq!(kind, "BadRequestException");
        assert!(message.starts_with("Errors found during import"), "{message}");
    }
    assert_eq!(c.get_rest_apis().send().await.unwrap().items().len(), before + 1);

    // A policy and an API key source round-trip; overwrite returns what a document leaves out
    // to AWS's defaults.
    let policy = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*",
        "Action": "execute-api:Invoke", "Resource": "execute-api:/*"}]});
    let with_policy = json!({
        "openapi": "3.0.1", "info": {"title": "guarded", "version": "1"},
        "x-amazon-apigateway-policy": policy,
        "x-amazon-apigateway-api-key-source": "AUTHORIZER",
        "paths": {"/a": mock}
    });
    let guarded = c
        .import_rest_api()
        .body(Blob::new(with_policy.to_string()))
        .send()
        .await
        .unwrap();
    let guarded_id = guarded.id().unwrap().to_owned();
    assert_eq!(guarded.api_key_source().map(|s| s.as_str()), Some("AUTHORIZER"));
    assert!(guarded.policy().unwrap().contains("execute-api:Invoke"));
    c.create_deployment()
        .rest_api_id(&guarded_id)
        .stage_name("s")
        .send()
        .await
        .unwrap();
    let export = c
        .get_export()
        .rest_api_id(&guarded_id)
        .stage_name("s")
        .export_type("oas30")
        .parameters("extensions", "apigateway")
        .send()
        .await
        .unwrap();
    let exported: Value = serde_json::from_slice(export.body().unwrap().as_ref()).unwrap();
    assert_eq!(exported["x-amazon-apigateway-policy"], policy);
    assert_eq!(exported["x-amazon-apigateway-api-key-source"], "AUTHORIZER");
    let reset = c
        .put_rest_api()
        .rest_api_id(&guarded_id)
        .mode(PutMode::Overwrite)
        .body(Blob::new(doc(json!({"/a": mock}))))
        .send()
        .await
        .unwrap();
    assert_eq!(reset.api_key_source().map(|s| s.as_str()), Some("HEADER"));
    assert_eq!(reset.policy(), None);

    // Documentation parts travel with the document (unless ignored), and back with
    // `extensions=documentation`; `endpointConfigurationTypes` makes a regional API.
    let documented = json!({
        "swagger": "2.0", "info": {"title": "documented", "version": "1"},
        "paths": {"/a": mock},
        "x-amazon-apigateway-documentation": {"version": "1", "documentationParts": [
            {"location": {"type": "API"}, "properties": {"description": "the API"}},
            {"location": {"type": "METHOD", "path": "/a", "method": "GET"}, "properties": {"summary": "get a"}}
        ]}
    })
    .to_string();
    let regional = c
        .import_rest_api()
        .body(Blob::new(documented.clone()))
        .parameters("endpointConfigurationTypes", "REGIONAL")
        .send()
        .await
        .unwrap();
    let regional_id = regional.id().unwrap().to_owned();
    assert_eq!(
        regional.endpoint_configuration().unwrap().types(),
        [aws_sdk_apigateway::types::EndpointType::Regional]
    );
    let parts = c
        .get_documentation_parts()
        .rest_api_id(&regional_id)
        .send()
        .await
        .unwrap();
    assert_eq!(parts.items().len(), 2);
    c.create_deployment()
        .rest_api_id(&regional_id)
        .stage_name("s")
        .send()
        .await
        .unwrap();
    let export = c
        .get_export()
        .rest_api_id(&regional_id)
        .stage_name("s")
        .export_type("swagger")
        .parameters("extensions", "documentation")
        .send()
        .await
        .unwrap();
    let exported: Value = serde_json::from_slice(export.body().unwrap().as_ref()).unwrap();
    let listed = exported["x-amazon-apigateway-documentation"]["documentationParts"]
        .as_array()
        .unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().any(|p| p["properties"]["summary"] == "get a"));
    let ignoring = c
        .import_rest_api()
        .body(Blob::new(documented))
        .parameters("ignore", "documentation")
        .send()
        .await
        .unwrap();
    let none = c
        .get_documentation_parts()
        .rest_api_id(ignoring.id().unwrap())
        .send()
        .await
        .unwrap();
    assert!(none.items().is_empty());

    // Shared parameters, request bodies and responses, by reference.
    let shared = json!({
        "openapi": "3.0.1", "info": {"title": "shared", "version": "1"},
        "paths": {"/pets/{petId}": {"put": {
            "parameters": [{"$ref": "#/components/parameters/petId"}, {"$ref": "#/components/parameters/trace"}],
            "requestBody": {"$ref": "#/components/requestBodies/Pet"},
            "responses": {"200": {"$ref": "#/components/responses/Kept"}},
            "x-amazon-apigateway-integration": {"type": "mock", "requestTemplates": {"application/json": "{\"statusCode\": 200}"}}
        }}},
        "components": {
            "parameters": {
                "petId": {"name": "petId", "in": "path", "required": true, "schema": {"type": "string"}},
                "trace": {"name": "X-Trace", "in": "header", "required": true, "schema": {"type": "string"}}
            },
            "requestBodies": {"Pet": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}}}},
            "responses": {"Kept": {"description": "kept", "headers": {"X-Kept": {"schema": {"type": "string"}}},
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}}}},
            "schemas": {"Pet": {"type": "object", "properties": {"name": {"type": "string"}}}}
        }
    })
    .to_string();
    let made = c.import_rest_api().body(Blob::new(shared)).send().await.unwrap();
    let made_id = made.id().unwrap().to_owned();
    let resources = c.get_resources().rest_api_id(&made_id).send().await.unwrap();
    let pet = resources
        .items()
        .iter()
        .find(|r| r.path() == Some("/pets/{petId}"))
        .unwrap()
        .id()
        .unwrap()
        .to_owned();
    let put = c
        .get_method()
        .rest_api_id(&made_id)
        .resource_id(&pet)
        .http_method("PUT")
        .send()
        .await
        .unwrap();
    let params = put.request_parameters().unwrap();
    assert!(params["method.request.path.petId"] && params["method.request.header.X-Trace"]);
    assert_eq!(put.request_models().unwrap()["application/json"], "Pet");
    let kept = &put.method_responses().unwrap()["200"];
    assert_eq!(kept.response_models().unwrap()["application/json"], "Pet");
    assert!(
        kept.response_parameters()
            .unwrap()
            .contains_key("method.response.header.X-Kept")
    );

    // OpenAPI 3 in YAML, its server's base path variable split off.
    let yaml = "openapi: 3.0.1\ninfo:\n  title: split\n  version: 2.0\nservers:\n  - url: https://example.com/{basePath}\n    variables:\n      basePath:\n        default: /api/v2\npaths:\n  /things:\n    get:\n      responses:\n        200:\n          description: ok\n      x-amazon-apigateway-integration:\n        type: mock\n        requestTemplates:\n          application/json: '{\"statusCode\": 200}'\n        responses:\n          default:\n            statusCode: 200\n";
    let split = c
        .import_rest_api()
        .body(Blob::new(yaml))
        .parameters("basepath", "split")
        .send()
        .await
        .unwrap();
    assert_eq!(split.version(), Some("2.0"));
    assert_eq!(
        paths(c.clone(), split.id().unwrap().to_owned()).await,
        ["/", "/v2", "/v2/things"]
    );
}

//! Documentation of REST APIs: parts (one per location, AWS's location rules and defaults,
//! properties a JSON object, listing filters and paging, ImportDocumentationParts merging or
//! overwriting) and versions (made from the parts, naming a stage's version).

use aws_sdk_apigateway::primitives::Blob;
use aws_sdk_apigateway::types::{
    DocumentationPartLocation, DocumentationPartType, Op, PatchOperation, PutMode,
};

use crate::helpers::*;

fn location(
    kind: DocumentationPartType,
) -> aws_sdk_apigateway::types::builders::DocumentationPartLocationBuilder {
    DocumentationPartLocation::builder().r#type(kind)
}

#[tokio::test]
async fn documentation_parts_and_versions() {
    let app = spawn_app().await;
    let c = app.client();
    let api = crate::dataplane::mock_api(&c, "dev").await;
    let api_part = c
        .create_documentation_part()
        .rest_api_id(&api)
        .location(location(DocumentationPartType::Api).build().unwrap())
        .properties(r#"{"info": {"description": "Pets"}}"#)
        .send()
        .await
        .unwrap();
    let method = c
        .create_documentation_part()
        .rest_api_id(&api)
        .location(
            location(DocumentationPartType::Method)
                .path("/pets")
                .method("get")
                .build()
                .unwrap(),
        )
        .properties(r#"{"summary": "List pets"}"#)
        .send()
        .await
        .unwrap();
    let at = method.location().unwrap();
    assert_eq!((at.path(), at.method()), (Some("/pets"), Some("GET")));

    // What AWS refuses: a second part for a location, a location of the wrong shape,
    // properties that are not a JSON object.
    let e = c
        .create_documentation_part()
        .rest_api_id(&api)
        .location(location(DocumentationPartType::Api).build().unwrap())
        .properties("{}")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(e).0, "ConflictException");
    let e = c
        .create_documentation_part()
        .rest_api_id(&api)
        .location(location(DocumentationPartType::Model).build().unwrap())
        .properties("{}")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(e).0, "BadRequestException");
    let e = c
        .create_documentation_part()
        .rest_api_id(&api)
        .location(
            location(DocumentationPartType::Resource)
                .path("/pets")
                .build()
                .unwrap(),
        )
        .properties("not json")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(e).0, "BadRequestException");

    // AWS's answers (recorded): an unknown type, a part of an unknown API.
    let e = c
        .create_documentation_part()
        .rest_api_id(&api)
        .location(location(DocumentationPartType::from("INVALID")).build().unwrap())
        .properties("{}")
        .send()
        .await
        .unwrap_err();
    let (kind, message) = err_of(e);
    assert_eq!(kind, "ValidationException");
    assert!(
        message.starts_with(
            "1 validation error detected: Value 'INVALID' at 'createDocumentationPartInput.location.type'"
        ),
        "{message}"
    );
    let e = c
        .get_documentation_part()
        .rest_api_id("nope")
        .documentation_part_id(method.id().unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err_of(e),
        (
            "NotFoundException".into(),
            "Invalid Documentation part identifier specified".into()
        )
    );
    let e = c
        .import_documentation_parts()
        .rest_api_id(&api)
        .body(Blob::new("not: [valid"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err_of(e),
        (
            "BadRequestException".into(),
            "Unable to build importer with provided input.".into()
        )
    );

    // Listed by type, a page at a time; updated; deleted.
    let methods = c
        .get_documentation_parts()
        .rest_api_id(&api)
        .r#type(DocumentationPartType::Method)
        .send()
        .await
        .unwrap();
    assert_eq!(methods.items().len(), 1);
    let first = c
        .get_documentation_parts()
        .rest_api_id(&api)
        .limit(1)
        .send()
        .await
        .unwrap();
    assert_eq!(first.items().len(), 1);
    let rest = c
        .get_documentation_parts()
        .rest_api_id(&api)
        .position(first.position().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(rest.items().len(), 1);
    assert!(rest.position().is_none());
    let updated = c
        .update_documentation_part()
        .rest_api_id(&api)
        .documentation_part_id(method.id().unwrap())
        .patch_operations(
            PatchOperation::builder()
                .op(Op::Replace)
                .path("/properties")
                .value(r#"{"summary": "All the pets"}"#)
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(updated.properties(), Some(r#"{"summary": "All the pets"}"#));

    // Imported from an OpenAPI document: the API's part merged, a new one added.
    let document = serde_json::json!({
        "openapi": "3.0.1",
        "info": {"title": "pets", "version": "1"},
        "paths": {},
        "x-amazon-apigateway-documentation": {
            "version": "1",
            "documentationParts": [
                {"location": {"type": "API"}, "properties": {"info": {"description": "Imported"}}},
                {"location": {"type": "RESPONSE", "path": "/pets", "method": "GET", "statusCode": "200"},
                 "properties": {"description": "The pets"}}
            ]
        }
    });
    let imported = c
        .import_documentation_parts()
        .rest_api_id(&api)
        .mode(PutMode::Merge)
        .body(Blob::new(document.to_string()))
        .send()
        .await
        .unwrap();
    assert_eq!(imported.ids().len(), 2);
    assert_eq!(
        imported.ids()[0],
        api_part.id().unwrap(),
        "the API's part, merged"
    );
    let merged = c
        .get_documentation_part()
        .rest_api_id(&api)
        .documentation_part_id(api_part.id().unwrap())
        .send()
        .await
        .unwrap();
    assert!(merged.properties().unwrap().contains("Imported"));
    // With failonwarnings, a bad part refuses the whole import.
    let bad = serde_json::json!({"x-amazon-apigateway-documentation": {"documentationParts": [
        {"location": {"type": "NOPE"}, "properties": {}}]}});
    let e = c
        .import_documentation_parts()
        .rest_api_id(&api)
        .mode(PutMode::Overwrite)
        .fail_on_warnings(true)
        .body(Blob::new(bad.to_string()))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(e).0, "BadRequestException");
    let all = c
        .get_documentation_parts()
        .rest_api_id(&api)
        .send()
        .await
        .unwrap();
    assert_eq!(all.items().len(), 3, "nothing was overwritten");

    // A version, named by a stage; its description updated; a second of the same name refused.
    let version = c
        .create_documentation_version()
        .rest_api_id(&api)
        .documentation_version("v1")
        .stage_name("dev")
        .description("first")
        .send()
        .await
        .unwrap();
    assert_eq!(version.version(), Some("v1"));
    let stage = c
        .get_stage()
        .rest_api_id(&api)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    assert_eq!(stage.documentation_version(), Some("v1"));
    let e = c
        .create_documentation_version()
        .rest_api_id(&api)
        .documentation_version("v1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(e).0, "ConflictException");
    let updated = c
        .update_documentation_version()
        .rest_api_id(&api)
        .documentation_version("v1")
        .patch_operations(
            PatchOperation::builder()
                .op(Op::Replace)
                .path("/description")
                .value("renamed")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(updated.description(), Some("renamed"));
    let versions = c
        .get_documentation_versions()
        .rest_api_id(&api)
        .send()
        .await
        .unwrap();
    assert_eq!(versions.items().len(), 1);
    c.delete_documentation_version()
        .rest_api_id(&api)
        .documentation_version("v1")
        .send()
        .await
        .unwrap();
    c.delete_documentation_part()
        .rest_api_id(&api)
        .documentation_part_id(method.id().unwrap())
        .send()
        .await
        .unwrap();
    let e = c
        .get_documentation_part()
        .rest_api_id(&api)
        .documentation_part_id(method.id().unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(e).0, "NotFoundException");
    let e = c
        .get_documentation_version()
        .rest_api_id(&api)
        .documentation_version("v1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(e).0, "NotFoundException");
}

//! Resource tree: create, read (with embedded methods), move, rename, cascade delete.

use aws_sdk_apigateway::types::{Op, PatchOperation};

use crate::helpers::*;

fn replace(path: &str, value: &str) -> PatchOperation {
    PatchOperation::builder()
        .op(Op::Replace)
        .path(path)
        .value(value)
        .build()
}

#[tokio::test]
async fn resources_form_a_tree_with_derived_paths() {
    let app = spawn_app().await;
    let c = app.client();
    let (api, root) = create_api(&c, "api").await;
    let pets = c
        .create_resource()
        .rest_api_id(&api)
        .parent_id(&root)
        .path_part("pets")
        .send()
        .await
        .unwrap();
    assert_eq!(pets.path(), Some("/pets"));
    assert_eq!(pets.parent_id(), Some(root.as_str()));
    let id = c
        .create_resource()
        .rest_api_id(&api)
        .parent_id(pets.id().unwrap())
        .path_part("{id}")
        .send()
        .await
        .unwrap();
    assert_eq!(id.path(), Some("/pets/{id}"));

    // Renaming a parent renames every path below it.
    let renamed = c
        .update_resource()
        .rest_api_id(&api)
        .resource_id(pets.id().unwrap())
        .patch_operations(replace("/pathPart", "dogs"))
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.path(), Some("/dogs"));
    let child = c
        .get_resource()
        .rest_api_id(&api)
        .resource_id(id.id().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(child.path(), Some("/dogs/{id}"));

    // Moving under the root.
    let moved = c
        .update_resource()
        .rest_api_id(&api)
        .resource_id(id.id().unwrap())
        .patch_operations(replace("/parentId", &root))
        .send()
        .await
        .unwrap();
    assert_eq!(moved.path(), Some("/{id}"));
}

#[tokio::test]
async fn sibling_and_greedy_rules_match_aws() {
    let app = spawn_app().await;
    let c = app.client();
    let (api, root) = create_api(&c, "api").await;
    let create = |parent: String, part: &'static str| {
        let c = c.clone();
        let api = api.clone();
        async move {
            c.create_resource()
                .rest_api_id(api)
                .parent_id(parent)
                .path_part(part)
                .send()
                .await
        }
    };
    let proxy = create(root.clone(), "{proxy+}").await.unwrap();
    let e = err_of(create(root.clone(), "{id}").await.unwrap_err());
    assert_eq!(
        e,
        (
            "BadRequestException".into(),
            "A sibling ({proxy+}) of this resource already has a variable path part -- only one is allowed"
                .into()
        )
    );
    let e = err_of(create(proxy.id().unwrap().to_owned(), "child").await.unwrap_err());
    assert_eq!(
        e.1,
        "Cannot create a child of a resource with a greedy path variable: {proxy+}"
    );
    create(root.clone(), "pets").await.unwrap();
    let e = err_of(create(root.clone(), "pets").await.unwrap_err());
    assert_eq!(
        e,
        (
            "ConflictException".into(),
            "Another resource with the same parent already has this name: pets".into()
        )
    );
    let e = err_of(create("nope00".into(), "x").await.unwrap_err());
    assert_eq!(
        e,
        (
            "NotFoundException".into(),
            "Invalid Resource identifier specified".into()
        )
    );
    let e = err_of(create(root.clone(), "bad/part").await.unwrap_err());
    assert_eq!(e.0, "BadRequestException");
}

#[tokio::test]
async fn update_resource_errors_match_aws() {
    let app = spawn_app().await;
    let c = app.client();
    let (api, root) = create_api(&c, "api").await;
    let pets = c
        .create_resource()
        .rest_api_id(&api)
        .parent_id(&root)
        .path_part("pets")
        .send()
        .await
        .unwrap();
    let sub = c
        .create_resource()
        .rest_api_id(&api)
        .parent_id(pets.id().unwrap())
        .path_part("sub")
        .send()
        .await
        .unwrap();
    let update = |id: String, op: PatchOperation| {
        let c = c.clone();
        let api = api.clone();
        async move {
            c.update_resource()
                .rest_api_id(api)
                .resource_id(id)
                .patch_operations(op)
                .send()
                .await
        }
    };
    let pid = pets.id().unwrap().to_owned();
    let e = err_of(update(pid.clone(), replace("/invalid", "x")).await.unwrap_err());
    assert_eq!(
        e.1,
        "Invalid patch path  '/invalid' specified for op 'replace'. Must be one of: [/parentId, /pathPart]"
    );
    let e = err_of(
        update(
            pid.clone(),
            PatchOperation::builder().op(Op::Remove).path("/pathPart").build(),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(
        e.1,
        "Invalid patch path  '/pathPart' specified for op 'remove'. Please choose supported operations"
    );
    let e = err_of(
        update(pid.clone(), replace("/parentId", sub.id().unwrap()))
            .await
            .unwrap_err(),
    );
    assert_eq!(e.1, "Resources cannot be cyclical.");
    let e = err_of(update(root.clone(), replace("/pathPart", "x")).await.unwrap_err());
    assert_eq!(e.1, "Root resource cannot update its pathPart.");
    let e = err_of(
        update("nope00".into(), replace("/pathPart", "x"))
            .await
            .unwrap_err(),
    );
    assert_eq!(e.0, "NotFoundException");
}

#[tokio::test]
async fn deleting_a_resource_deletes_its_subtree_and_methods() {
    let app = spawn_app().await;
    let c = app.client();
    let (api, root) = create_api(&c, "api").await;
    let pets = c
        .create_resource()
        .rest_api_id(&api)
        .parent_id(&root)
        .path_part("pets")
        .send()
        .await
        .unwrap();
    let sub = c
        .create_resource()
        .rest_api_id(&api)
        .parent_id(pets.id().unwrap())
        .path_part("sub")
        .send()
        .await
        .unwrap();
    put_mock_method(&c, &api, sub.id().unwrap(), "GET").await;
    c.delete_resource()
        .rest_api_id(&api)
        .resource_id(pets.id().unwrap())
        .send()
        .await
        .unwrap();
    let left = c.get_resources().rest_api_id(&api).send().await.unwrap();
    assert_eq!(left.items().len(), 1);
    let e = err_of(
        c.get_method()
            .rest_api_id(&api)
            .resource_id(sub.id().unwrap())
            .http_method("GET")
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.1, "Invalid Resource identifier specified");
    let e = err_of(
        c.delete_resource()
            .rest_api_id(&api)
            .resource_id(pets.id().unwrap())
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.0, "NotFoundException");
}

#[tokio::test]
async fn get_resources_embeds_methods_only_when_asked() {
    let app = spawn_app().await;
    let c = app.client();
    let (api, root) = create_api(&c, "api").await;
    put_mock_method(&c, &api, &root, "GET").await;
    let plain = c.get_resources().rest_api_id(&api).send().await.unwrap();
    let methods = plain.items()[0].resource_methods().unwrap();
    assert!(methods["GET"].http_method().is_none());
    let embedded = c
        .get_resources()
        .rest_api_id(&api)
        .embed("methods")
        .send()
        .await
        .unwrap();
    let get = &embedded.items()[0].resource_methods().unwrap()["GET"];
    assert_eq!(get.http_method(), Some("GET"));
    assert!(get.method_integration().is_some());
    // Pagination over resources.
    for i in 0..4 {
        c.create_resource()
            .rest_api_id(&api)
            .parent_id(&root)
            .path_part(format!("r{i}"))
            .send()
            .await
            .unwrap();
    }
    let page = c.get_resources().rest_api_id(&api).limit(3).send().await.unwrap();
    assert_eq!(page.items().len(), 3);
    let rest = c
        .get_resources()
        .rest_api_id(&api)
        .limit(3)
        .position(page.position().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(rest.items().len(), 2);
    assert!(rest.position().is_none());
}

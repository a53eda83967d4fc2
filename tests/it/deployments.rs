//! Deployments: immutable snapshots, stage creation, deletion rules.

use aws_sdk_apigateway::types::{IntegrationType, Op, PatchOperation};
use gatehouse::domain::snapshot::Snapshot;
use gatehouse::store::deployments;

use crate::helpers::*;

async fn snapshot_of(app: &TestApp, api: &str, deployment: &str) -> Snapshot {
    let mut conn = app.store.pool().acquire().await.unwrap();
    let (_, hash) =
        deployments::get::<gatehouse::domain::rest_api::Deployment>(&mut conn, api, deployment, false)
            .await
            .unwrap();
    let bytes = deployments::get_snapshot(&mut conn, &hash).await.unwrap();
    let snapshot: Snapshot = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(snapshot.canonical().1, hash, "stored bytes hash to their key");
    snapshot
}

#[tokio::test]
async fn deploying_an_api_without_methods_is_refused() {
    let app = spawn_app().await;
    let c = app.client();
    let (api, _) = create_api(&c, "api").await;
    let e = err_of(c.create_deployment().rest_api_id(&api).send().await.unwrap_err());
    assert_eq!(
        e,
        (
            "BadRequestException".into(),
            "The REST API doesn't contain any methods".into()
        )
    );
    assert!(
        c.get_deployments()
            .rest_api_id(&api)
            .send()
            .await
            .unwrap()
            .items()
            .is_empty()
    );
}

#[tokio::test]
async fn a_deployment_is_an_immutable_snapshot() {
    let app = spawn_app().await;
    let c = app.client();
    let (api, root) = create_api(&c, "api").await;
    put_mock_method(&c, &api, &root, "GET").await;
    let d1 = c
        .create_deployment()
        .rest_api_id(&api)
        .description("first")
        .send()
        .await
        .unwrap();
    let d1 = d1.id().unwrap().to_owned();
    let before = snapshot_of(&app, &api, &d1).await;
    assert_eq!(before.resources.len(), 1);
    let get = &before.resources[0].resource_methods.as_ref().unwrap()["GET"];
    assert_eq!(get.method_integration.as_ref().unwrap().kind.as_str(), "MOCK");

    // Edit the API after deploying: a new resource, and the old method's integration replaced.
    let pets = c
        .create_resource()
        .rest_api_id(&api)
        .parent_id(&root)
        .path_part("pets")
        .send()
        .await
        .unwrap();
    put_mock_method(&c, &api, pets.id().unwrap(), "POST").await;
    c.put_integration()
        .rest_api_id(&api)
        .resource_id(&root)
        .http_method("GET")
        .r#type(IntegrationType::HttpProxy)
        .integration_http_method("GET")
        .uri("http://example.com")
        .send()
        .await
        .unwrap();

    let after = snapshot_of(&app, &api, &d1).await;
    assert_eq!(
        before, after,
        "the first deployment still serves what was deployed"
    );
    let summary = c
        .get_deployment()
        .rest_api_id(&api)
        .deployment_id(&d1)
        .embed("apisummary")
        .send()
        .await
        .unwrap();
    let summary = summary.api_summary().unwrap();
    assert_eq!(summary.keys().collect::<Vec<_>>(), ["/"]);

    let d2 = c
        .create_deployment()
        .rest_api_id(&api)
        .send()
        .await
        .unwrap()
        .id()
        .unwrap()
        .to_owned();
    let second = snapshot_of(&app, &api, &d2).await;
    assert_eq!(second.resources.len(), 2);
    assert_ne!(second.canonical().1, before.canonical().1);

    // An unchanged definition deployed again shares the stored snapshot.
    let d3 = c
        .create_deployment()
        .rest_api_id(&api)
        .send()
        .await
        .unwrap()
        .id()
        .unwrap()
        .to_owned();
    assert_eq!(
        snapshot_of(&app, &api, &d3).await.canonical().1,
        second.canonical().1
    );
    let (count,): (i64,) = sqlx::query_as("SELECT count(*) FROM snapshots")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert_eq!(count, 2);
}

#[tokio::test]
async fn create_deployment_with_a_stage_name_creates_or_moves_the_stage() {
    let app = spawn_app().await;
    let c = app.client();
    let (api, root) = create_api(&c, "api").await;
    put_mock_method(&c, &api, &root, "GET").await;
    let d1 = c
        .create_deployment()
        .rest_api_id(&api)
        .stage_name("dev")
        .stage_description("dev stage")
        .variables("v", "1")
        .send()
        .await
        .unwrap();
    let stage = c
        .get_stage()
        .rest_api_id(&api)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    assert_eq!(stage.deployment_id(), d1.id());
    assert_eq!(stage.description(), Some("dev stage"));
    assert_eq!(stage.variables().unwrap()["v"], "1");
    assert_eq!(
        stage.cache_cluster_status().map(|s| s.as_str()),
        Some("NOT_AVAILABLE")
    );

    let d2 = c
        .create_deployment()
        .rest_api_id(&api)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    let stage = c
        .get_stage()
        .rest_api_id(&api)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    assert_eq!(stage.deployment_id(), d2.id());

    // The first is no longer in use and can go; the second cannot.
    c.delete_deployment()
        .rest_api_id(&api)
        .deployment_id(d1.id().unwrap())
        .send()
        .await
        .unwrap();
    let e = err_of(
        c.delete_deployment()
            .rest_api_id(&api)
            .deployment_id(d2.id().unwrap())
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(
        e,
        (
            "BadRequestException".into(),
            "Active stages pointing to this deployment must be moved or deleted".into()
        )
    );
    let e = err_of(
        c.get_deployment()
            .rest_api_id(&api)
            .deployment_id(d1.id().unwrap())
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(
        e,
        (
            "NotFoundException".into(),
            "Invalid Deployment identifier specified".into()
        )
    );

    // Deleting the API takes deployments and stages with it.
    c.delete_rest_api().rest_api_id(&api).send().await.unwrap();
    let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM stages")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert_eq!(n, 0);
}

#[tokio::test]
async fn canary_deployments_need_an_existing_stage() {
    let app = spawn_app().await;
    let c = app.client();
    let (api, root) = create_api(&c, "api").await;
    put_mock_method(&c, &api, &root, "GET").await;
    let canary = aws_sdk_apigateway::types::DeploymentCanarySettings::builder()
        .percent_traffic(10.0)
        .build();
    let e = err_of(
        c.create_deployment()
            .rest_api_id(&api)
            .canary_settings(canary.clone())
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(
        e.1,
        "Invalid deployment content specified.Non null and non empty stageName must be provided for canary deployment. Provided value is null"
    );
    let e = err_of(
        c.create_deployment()
            .rest_api_id(&api)
            .stage_name("non-existing")
            .canary_settings(canary.clone())
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(
        e.1,
        "Invalid deployment content specified.Stage non-existing must already be created before making a canary release deployment"
    );
    let base = c
        .create_deployment()
        .rest_api_id(&api)
        .stage_name("prod")
        .send()
        .await
        .unwrap();
    let canary_deployment = c
        .create_deployment()
        .rest_api_id(&api)
        .stage_name("prod")
        .canary_settings(
            aws_sdk_apigateway::types::DeploymentCanarySettings::builder()
                .percent_traffic(10.0)
                .stage_variable_overrides("v", "canary")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let stage = c
        .get_stage()
        .rest_api_id(&api)
        .stage_name("prod")
        .send()
        .await
        .unwrap();
    assert_eq!(
        stage.deployment_id(),
        base.id(),
        "a canary deployment leaves the stage's own deployment"
    );
    let cs = stage.canary_settings().unwrap();
    assert_eq!(cs.deployment_id(), canary_deployment.id());
    assert_eq!(cs.percent_traffic(), 10.0);
    assert_eq!(cs.stage_variable_overrides().unwrap()["v"], "canary");
    // In use as a canary: not deletable either.
    let e = err_of(
        c.delete_deployment()
            .rest_api_id(&api)
            .deployment_id(canary_deployment.id().unwrap())
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.0, "BadRequestException");
}

#[tokio::test]
async fn update_deployment_changes_only_the_description() {
    let app = spawn_app().await;
    let c = app.client();
    let (api, root) = create_api(&c, "api").await;
    put_mock_method(&c, &api, &root, "GET").await;
    let d = c.create_deployment().rest_api_id(&api).send().await.unwrap();
    let id = d.id().unwrap();
    let u = c
        .update_deployment()
        .rest_api_id(&api)
        .deployment_id(id)
        .patch_operations(
            PatchOperation::builder()
                .op(Op::Replace)
                .path("/description")
                .value("new")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(u.description(), Some("new"));
    let e = err_of(
        c.update_deployment()
            .rest_api_id(&api)
            .deployment_id(id)
            .patch_operations(
                PatchOperation::builder()
                    .op(Op::Replace)
                    .path("/id")
                    .value("x")
                    .build(),
            )
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.0, "BadRequestException");
    let list = c.get_deployments().rest_api_id(&api).send().await.unwrap();
    assert_eq!(list.items().len(), 1);
    assert_eq!(list.items()[0].description(), Some("new"));
}

#[tokio::test]
async fn unused_snapshots_are_collected_after_a_grace_period() {
    let app = spawn_app().await;
    let c = app.client();
    let (api, root) = create_api(&c, "api").await;
    put_mock_method(&c, &api, &root, "GET").await;
    let d = c.create_deployment().rest_api_id(&api).send().await.unwrap();
    let mut conn = app.store.pool().acquire().await.unwrap();
    // Referenced: kept, however old.
    sqlx::query("UPDATE snapshots SET created_at = now() - interval '2 hours'")
        .execute(&mut *conn)
        .await
        .unwrap();
    assert_eq!(
        deployments::collect_garbage(&mut conn, std::time::Duration::from_secs(3600))
            .await
            .unwrap(),
        0
    );
    c.delete_deployment()
        .rest_api_id(&api)
        .deployment_id(d.id().unwrap())
        .send()
        .await
        .unwrap();
    // Unreferenced but recent: kept; unreferenced and old: collected.
    assert_eq!(
        deployments::collect_garbage(&mut conn, std::time::Duration::from_secs(3 * 3600))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        deployments::collect_garbage(&mut conn, std::time::Duration::from_secs(3600))
            .await
            .unwrap(),
        1
    );
    // Deploying the same definition again stores it again.
    c.create_deployment().rest_api_id(&api).send().await.unwrap();
    let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM snapshots")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(n, 1);
}

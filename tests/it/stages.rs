//! Stages: settings by AWS's patch paths, canary and promotion, live-config revisions.

use aws_sdk_apigateway::types::{CanarySettings, Op, PatchOperation};
use gatehouse::store::revision;

use crate::helpers::*;

fn op(op: Op, path: &str, value: Option<&str>) -> PatchOperation {
    PatchOperation::builder()
        .op(op)
        .path(path)
        .set_value(value.map(str::to_owned))
        .build()
}

async fn deployed_api(c: &aws_sdk_apigateway::Client) -> (String, String) {
    let (api, root) = create_api(c, "api").await;
    put_mock_method(c, &api, &root, "GET").await;
    let d = c.create_deployment().rest_api_id(&api).send().await.unwrap();
    (api, d.id().unwrap().to_owned())
}

async fn current_revision(app: &TestApp) -> i64 {
    revision::current(&mut app.store.pool().acquire().await.unwrap())
        .await
        .unwrap()
}

#[tokio::test]
async fn stage_lifecycle_bumps_the_live_config_revision() {
    let app = spawn_app().await;
    let c = app.client();
    let (api, d) = deployed_api(&c).await;
    let r0 = current_revision(&app).await;
    let s = c
        .create_stage()
        .rest_api_id(&api)
        .stage_name("dev")
        .deployment_id(&d)
        .description("my stage")
        .variables("a", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(s.stage_name(), Some("dev"));
    assert!(!s.cache_cluster_enabled());
    assert!(s.method_settings().unwrap().is_empty());
    let r1 = current_revision(&app).await;
    assert!(r1 > r0);

    let e = err_of(
        c.create_stage()
            .rest_api_id(&api)
            .stage_name("dev")
            .deployment_id(&d)
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e, ("ConflictException".into(), "Stage already exists".into()));
    let e = err_of(
        c.create_stage()
            .rest_api_id(&api)
            .stage_name("x")
            .deployment_id("nope")
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.0, "NotFoundException");

    let s = c
        .update_stage()
        .rest_api_id(&api)
        .stage_name("dev")
        .patch_operations(op(Op::Replace, "/variables/b", Some("2")))
        .patch_operations(op(Op::Remove, "/variables/a", None))
        .patch_operations(op(Op::Replace, "/*/*/throttling/rateLimit", Some("100")))
        .patch_operations(op(Op::Replace, "/~1pets/GET/caching/enabled", Some("true")))
        .patch_operations(op(Op::Replace, "/tracingEnabled", Some("true")))
        .patch_operations(op(
            Op::Replace,
            "/accessLogSettings/destinationArn",
            Some("arn:aws:logs:us-east-1:000000000000:log-group:g"),
        ))
        .patch_operations(op(
            Op::Replace,
            "/accessLogSettings/format",
            Some("$context.requestId"),
        ))
        .send()
        .await
        .unwrap();
    let vars = s.variables().unwrap();
    assert_eq!(vars.len(), 1);
    assert_eq!(vars["b"], "2");
    let ms = s.method_settings().unwrap();
    assert_eq!(ms["*/*"].throttling_rate_limit(), 100.0);
    assert_eq!(ms["*/*"].throttling_burst_limit(), 5000);
    assert!(ms["pets/GET"].caching_enabled());
    assert!(s.tracing_enabled());
    assert_eq!(
        s.access_log_settings().unwrap().format(),
        Some("$context.requestId")
    );
    assert!(current_revision(&app).await > r1);

    let e = err_of(
        c.update_stage()
            .rest_api_id(&api)
            .stage_name("dev")
            .patch_operations(op(Op::Replace, "/tags/tag1", Some("x")))
            .send()
            .await
            .unwrap_err(),
    );
    assert!(e.1.starts_with(
        "Invalid method setting path: /tags/tag1. Must be one of: [/deploymentId, /description,"
    ));
    let e = err_of(
        c.update_stage()
            .rest_api_id(&api)
            .stage_name("dev")
            .patch_operations(op(Op::Remove, "/~1dogs/GET", None))
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(
        e.1,
        "Cannot remove method setting dogs/GET because there is no method setting for this method "
    );
    let e = err_of(
        c.update_stage()
            .rest_api_id(&api)
            .stage_name("dev")
            .patch_operations(op(Op::Replace, "/accessLogSettings/format", Some("")))
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.1, "Access Log value must not be empty");

    let stages = c.get_stages().rest_api_id(&api).send().await.unwrap();
    assert_eq!(stages.item().len(), 1);
    let filtered = c
        .get_stages()
        .rest_api_id(&api)
        .deployment_id("other")
        .send()
        .await
        .unwrap();
    assert!(filtered.item().is_empty());

    let before_delete = current_revision(&app).await;
    c.delete_stage()
        .rest_api_id(&api)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    assert!(current_revision(&app).await > before_delete);
    let e = err_of(
        c.get_stage()
            .rest_api_id(&api)
            .stage_name("dev")
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(
        e,
        (
            "NotFoundException".into(),
            "Invalid Stage identifier specified".into()
        )
    );
}

#[tokio::test]
async fn canary_promotion_is_an_update_stage() {
    let app = spawn_app().await;
    let c = app.client();
    let (api, d1) = deployed_api(&c).await;
    let d2 = c
        .create_deployment()
        .rest_api_id(&api)
        .send()
        .await
        .unwrap()
        .id()
        .unwrap()
        .to_owned();
    c.create_stage()
        .rest_api_id(&api)
        .stage_name("prod")
        .deployment_id(&d1)
        .variables("v", "base")
        .canary_settings(
            CanarySettings::builder()
                .deployment_id(&d2)
                .percent_traffic(10.0)
                .stage_variable_overrides("v", "canary")
                .build(),
        )
        .send()
        .await
        .unwrap();

    let e = err_of(
        c.update_stage()
            .rest_api_id(&api)
            .stage_name("prod")
            .patch_operations(op(Op::Add, "/canarySettings/deploymentId", Some(&d2)))
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(
        e.1,
        "Invalid add operation with path: /canarySettings/deploymentId"
    );
    let e = err_of(
        c.update_stage()
            .rest_api_id(&api)
            .stage_name("prod")
            .patch_operations(op(Op::Replace, "/canarySettings/deploymentId", Some("nope")))
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.1, "Deployment id does not exist");

    // AWS's promotion: copy the canary over the stage, then drop the canary.
    let promoted = c
        .update_stage()
        .rest_api_id(&api)
        .stage_name("prod")
        .patch_operations(
            PatchOperation::builder()
                .op(Op::Copy)
                .from("/canarySettings/deploymentId")
                .path("/deploymentId")
                .build(),
        )
        .patch_operations(
            PatchOperation::builder()
                .op(Op::Copy)
                .from("/canarySettings/stageVariableOverrides")
                .path("/variables")
                .build(),
        )
        .patch_operations(op(Op::Remove, "/canarySettings", None))
        .send()
        .await
        .unwrap();
    assert_eq!(promoted.deployment_id(), Some(d2.as_str()));
    assert_eq!(promoted.variables().unwrap()["v"], "canary");
    assert!(promoted.canary_settings().is_none());

    let e = err_of(
        c.update_stage()
            .rest_api_id(&api)
            .stage_name("prod")
            .patch_operations(
                PatchOperation::builder()
                    .op(Op::Copy)
                    .from("/canarySettings/deploymentId")
                    .path("/deploymentId")
                    .build(),
            )
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.1, "Promotion not available. Canary does not exist.");

    // Setting a percentage starts a canary on the stage's own deployment.
    let s = c
        .update_stage()
        .rest_api_id(&api)
        .stage_name("prod")
        .patch_operations(op(Op::Replace, "/canarySettings/percentTraffic", Some("50")))
        .send()
        .await
        .unwrap();
    let cs = s.canary_settings().unwrap();
    assert_eq!(cs.percent_traffic(), 50.0);
    assert_eq!(cs.deployment_id(), Some(d2.as_str()));
}

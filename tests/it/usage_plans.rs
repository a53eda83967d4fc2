//! API keys, usage plans and their keys through the SDK: AWS's shapes, filters, paging and
//! errors as its recordings show them, and tenants kept apart.

use aws_sdk_apigateway::types::{ApiStage, Op, QuotaPeriodType, QuotaSettings, ThrottleSettings};

use crate::helpers::*;

#[tokio::test]
async fn api_keys_are_created_listed_filtered_updated_and_deleted_as_aws_does() {
    let app = spawn_app().await;
    let c = app.client();

    let created = c.create_api_key().name("alpha-key").send().await.unwrap();
    let value = created.value().unwrap().to_owned();
    assert_eq!(value.len(), 40, "a generated value");
    assert!(!created.enabled(), "keys are disabled unless asked");
    assert!(created.stage_keys().is_empty());
    let id = created.id().unwrap().to_owned();

    let given = c
        .create_api_key()
        .name("beta-key")
        .value("my-own-value-of-at-least-20")
        .enabled(true)
        .customer_id("cust-1")
        .send()
        .await
        .unwrap();
    assert_eq!(given.value(), Some("my-own-value-of-at-least-20"));

    // AWS's checks of what a key is made of.
    let e = c.create_api_key().value("too-short").send().await.unwrap_err();
    assert_eq!(
        err_of(e),
        (
            "BadRequestException".into(),
            "API Key value should be at least 20 characters".into()
        )
    );
    let e = c
        .create_api_key()
        .value("x".repeat(129))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err_of(e).1,
        "API Key value exceeds maximum size of 128 characters"
    );
    let e = c
        .create_api_key()
        .name("n".repeat(1025))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err_of(e).1,
        "Invalid API Key name, can be at most 1024 characters."
    );
    let e = c
        .create_api_key()
        .value("my-own-value-of-at-least-20")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(e).0, "ConflictException", "one value per account");
    let unnamed = c.create_api_key().name("").send().await.unwrap();
    assert_eq!(unnamed.name(), None, "an empty name is no name");

    // The value only when asked for.
    let got = c.get_api_key().api_key(&id).send().await.unwrap();
    assert_eq!(got.value(), None);
    assert_eq!(got.tags().map(|t| t.len()), Some(0), "tags shown, empty");
    let got = c
        .get_api_key()
        .api_key(&id)
        .include_value(true)
        .send()
        .await
        .unwrap();
    assert_eq!(got.value(), Some(value.as_str()));

    let all = c.get_api_keys().send().await.unwrap();
    assert_eq!(all.items().len(), 3);
    assert!(all.items().iter().all(|k| k.value().is_none()));
    let with_values = c.get_api_keys().include_values(true).send().await.unwrap();
    assert!(with_values.items().iter().all(|k| k.value().is_some()));
    // `name` is a case-sensitive prefix.
    let names = |r: aws_sdk_apigateway::operation::get_api_keys::GetApiKeysOutput| {
        r.items()
            .iter()
            .filter_map(|k| k.name().map(str::to_owned))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(c.get_api_keys().name_query("alp").send().await.unwrap()),
        ["alpha-key"]
    );
    assert!(names(c.get_api_keys().name_query("Alp").send().await.unwrap()).is_empty());
    assert!(names(c.get_api_keys().name_query("key").send().await.unwrap()).is_empty());
    assert_eq!(
        names(c.get_api_keys().customer_id("cust-1").send().await.unwrap()),
        ["beta-key"]
    );
    let first = c.get_api_keys().limit(1).send().await.unwrap();
    assert_eq!(first.items().len(), 1);
    let rest = c
        .get_api_keys()
        .position(first.position().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(rest.items().len(), 2);

    let updated = c
        .update_api_key()
        .api_key(&id)
        .patch_operations(patch_op(Op::Replace, "/name", Some("renamed")))
        .patch_operations(patch_op(Op::Replace, "/enabled", Some("true")))
        .patch_operations(patch_op(
            Op::Replace,
            "/description",
            Some("for the walk-through"),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.name(), Some("renamed"));
    assert!(updated.enabled());
    assert_eq!(updated.value(), None);
    let e = c
        .update_api_key()
        .api_key(&id)
        .patch_operations(patch_op(Op::Replace, "/id", Some("x")))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err_of(e).1,
        "Invalid patch path  '/id' specified for op 'replace'. Must be one of: [/description, /enabled, /name, /customerId]"
    );
    // AWS reads the flag the Java way.
    let off = c
        .update_api_key()
        .api_key(&id)
        .patch_operations(patch_op(Op::Replace, "/enabled", Some("invalid")))
        .send()
        .await
        .unwrap();
    assert!(!off.enabled());

    // Another account sees none of them.
    assert!(
        app.other_client()
            .get_api_keys()
            .send()
            .await
            .unwrap()
            .items()
            .is_empty()
    );
    let e = app
        .other_client()
        .get_api_key()
        .api_key(&id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(e).0, "NotFoundException");

    c.delete_api_key().api_key(&id).send().await.unwrap();
    let e = c.get_api_key().api_key(&id).send().await.unwrap_err();
    assert_eq!(
        err_of(e),
        (
            "NotFoundException".into(),
            "Invalid API Key identifier specified".into()
        )
    );
}

#[tokio::test]
async fn api_keys_are_imported_from_csv() {
    let app = spawn_app().await;
    let c = app.client();
    let plan = c.create_usage_plan().name("imported").send().await.unwrap();
    let plan_id = plan.id().unwrap();
    let csv = format!(
        "Name,key,description,Enabled,usageplanIds\n\
         first,imported-key-value-0001,\"the first, quoted\",true,{plan_id}\n\
         second,imported-key-value-0002,,false,\n"
    );
    let imported = c
        .import_api_keys()
        .format(aws_sdk_apigateway::types::ApiKeysFormat::Csv)
        .body(aws_sdk_apigateway::primitives::Blob::new(csv.into_bytes()))
        .send()
        .await
        .unwrap();
    assert_eq!(imported.ids().len(), 2);
    assert!(imported.warnings().is_empty());
    let first = c
        .get_api_key()
        .api_key(&imported.ids()[0])
        .include_value(true)
        .send()
        .await
        .unwrap();
    assert_eq!(first.name(), Some("first"));
    assert_eq!(first.description(), Some("the first, quoted"));
    assert_eq!(first.value(), Some("imported-key-value-0001"));
    assert!(first.enabled());
    let keys = c
        .get_usage_plan_keys()
        .usage_plan_id(plan_id)
        .send()
        .await
        .unwrap();
    assert_eq!(keys.items().len(), 1, "the first row named the plan");

    // A bad row is a warning; with failOnWarnings nothing is imported.
    let bad = "key,name\nshort,third\nimported-key-value-0004,fourth\n";
    let e = c
        .import_api_keys()
        .format(aws_sdk_apigateway::types::ApiKeysFormat::Csv)
        .fail_on_warnings(true)
        .body(aws_sdk_apigateway::primitives::Blob::new(bad.as_bytes().to_vec()))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(e).0, "BadRequestException");
    assert_eq!(c.get_api_keys().send().await.unwrap().items().len(), 2);
    let warned = c
        .import_api_keys()
        .format(aws_sdk_apigateway::types::ApiKeysFormat::Csv)
        .body(aws_sdk_apigateway::primitives::Blob::new(bad.as_bytes().to_vec()))
        .send()
        .await
        .unwrap();
    assert_eq!((warned.ids().len(), warned.warnings().len()), (1, 1));
}

#[tokio::test]
async fn usage_plans_cover_stages_with_throttles_and_quotas() {
    let app = spawn_app().await;
    let c = app.client();
    let api = crate::dataplane::mock_api(&c, "dev").await;

    let plan = c
        .create_usage_plan()
        .name("gold")
        .description("five a second")
        .api_stages(ApiStage::builder().api_id(&api).stage("dev").build())
        .throttle(
            ThrottleSettings::builder()
                .rate_limit(5.0)
                .burst_limit(10)
                .build(),
        )
        .quota(
            QuotaSettings::builder()
                .limit(100)
                .period(QuotaPeriodType::Day)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let id = plan.id().unwrap().to_owned();
    assert_eq!(plan.api_stages()[0].stage(), Some("dev"));
    assert_eq!(plan.throttle().unwrap().burst_limit(), 10);
    assert_eq!(plan.quota().unwrap().limit(), 100);
    assert_eq!(plan.quota().unwrap().offset(), 0);

    let e = c
        .create_usage_plan()
        .name("bad")
        .api_stages(ApiStage::builder().api_id(&api).stage("nope").build())
        .send()
        .await
        .unwrap_err();
    let (kind, message) = err_of(e);
    assert_eq!(kind, "NotFoundException");
    assert!(
        message.starts_with(&format!(
            "Invalid API Stage {{api: {api}, stage: nope}} specified for usageplan "
        )),
        "{message}"
    );

    let updated = c
        .update_usage_plan()
        .usage_plan_id(&id)
        .patch_operations(patch_op(Op::Replace, "/throttle/rateLimit", Some("200")))
        .patch_operations(patch_op(Op::Replace, "/throttle/burstLimit", Some("100")))
        .patch_operations(patch_op(Op::Replace, "/quota/limit", Some("5000")))
        .patch_operations(patch_op(Op::Replace, "/quota/period", Some("MONTH")))
        .patch_operations(patch_op(
            Op::Replace,
            &format!("/apiStages/{api}:dev/throttle/~1pets/GET/rateLimit"),
            Some("1"),
        ))
        .patch_operations(patch_op(
            Op::Replace,
            &format!("/apiStages/{api}:dev/throttle/~1pets/GET/burstLimit"),
            Some("2"),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.throttle().unwrap().rate_limit(), 200.0);
    assert_eq!(updated.quota().unwrap().period(), Some(&QuotaPeriodType::Month));
    let per_method = updated.api_stages()[0].throttle().unwrap();
    assert_eq!(per_method["/pets/GET"].rate_limit(), 1.0);
    assert_eq!(per_method["/pets/GET"].burst_limit(), 2);

    // AWS's errors for the stages of an update.
    let stage_error = |value: Option<&'static str>| {
        let c = c.clone();
        let id = id.clone();
        async move {
            err_of(
                c.update_usage_plan()
                    .usage_plan_id(&id)
                    .patch_operations(patch_op(Op::Add, "/apiStages", value))
                    .send()
                    .await
                    .unwrap_err(),
            )
        }
    };
    assert_eq!(
        stage_error(None).await,
        ("BadRequestException".into(), "Invalid API Stage specified".into())
    );
    assert_eq!(
        stage_error(Some("no-colon")).await.1,
        "Invalid API Stage specified"
    );
    let (kind, message) = err_of(
        c.update_usage_plan()
            .usage_plan_id(&id)
            .patch_operations(patch_op(
                Op::Add,
                "/apiStages",
                Some(&format!("{api}:fakestagename")),
            ))
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(
        (kind.as_str(), message),
        (
            "NotFoundException",
            format!("Invalid API Stage {{api: {api}, stage: fakestagename}} specified for usageplan {id}")
        )
    );
    let e = c
        .update_usage_plan()
        .usage_plan_id("nope00")
        .patch_operations(patch_op(Op::Replace, "/name", Some("x")))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err_of(e),
        (
            "NotFoundException".into(),
            "Invalid Usage Plan ID specified".into()
        )
    );

    let got = c.get_usage_plan().usage_plan_id(&id).send().await.unwrap();
    assert_eq!(got.quota().unwrap().limit(), 5000);
    assert_eq!(c.get_usage_plans().send().await.unwrap().items().len(), 1);
    assert!(
        app.other_client()
            .get_usage_plans()
            .send()
            .await
            .unwrap()
            .items()
            .is_empty()
    );

    c.delete_usage_plan().usage_plan_id(&id).send().await.unwrap();
    assert!(c.get_usage_plans().send().await.unwrap().items().is_empty());
}

#[tokio::test]
async fn usage_plan_keys_tie_keys_to_plans_once_per_stage() {
    let app = spawn_app().await;
    let c = app.client();
    let api = crate::dataplane::mock_api(&c, "dev").await;
    let stage = ApiStage::builder().api_id(&api).stage("dev").build();
    let gold = c
        .create_usage_plan()
        .name("gold")
        .api_stages(stage.clone())
        .send()
        .await
        .unwrap();
    let silver = c
        .create_usage_plan()
        .name("silver")
        .api_stages(stage)
        .send()
        .await
        .unwrap();
    let (gold, silver) = (gold.id().unwrap(), silver.id().unwrap());
    let key = c.create_api_key().name("client-a").send().await.unwrap();
    let key_id = key.id().unwrap();
    let other = c.create_api_key().name("client-b").send().await.unwrap();

    let added = c
        .create_usage_plan_key()
        .usage_plan_id(gold)
        .key_id(key_id)
        .key_type("API_KEY")
        .send()
        .await
        .unwrap();
    assert_eq!(added.id(), Some(key_id));
    assert_eq!(added.r#type(), Some("API_KEY"));
    assert_eq!(added.value(), key.value());
    assert_eq!(added.name(), Some("client-a"));
    c.create_usage_plan_key()
        .usage_plan_id(gold)
        .key_id(other.id().unwrap())
        .key_type("API_KEY")
        .send()
        .await
        .unwrap();

    let e = c
        .create_usage_plan_key()
        .usage_plan_id(silver)
        .key_id(key_id)
        .key_type("API_KEY")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(e).0, "ConflictException", "one plan per key and stage");
    let e = c
        .create_usage_plan_key()
        .usage_plan_id(gold)
        .key_id("nokey00000")
        .key_type("API_KEY")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(e).0, "NotFoundException");

    let keys = c.get_usage_plan_keys().usage_plan_id(gold).send().await.unwrap();
    assert_eq!(keys.items().len(), 2);
    let named = c
        .get_usage_plan_keys()
        .usage_plan_id(gold)
        .name_query("client-a")
        .send()
        .await
        .unwrap();
    assert_eq!(named.items().len(), 1);
    assert!(
        c.get_usage_plan_keys()
            .usage_plan_id(gold)
            .name_query("Client")
            .send()
            .await
            .unwrap()
            .items()
            .is_empty()
    );
    let got = c
        .get_usage_plan_key()
        .usage_plan_id(gold)
        .key_id(key_id)
        .send()
        .await
        .unwrap();
    assert_eq!(got.value(), key.value());
    let of_key = c.get_usage_plans().key_id(key_id).send().await.unwrap();
    assert_eq!(of_key.items().len(), 1);
    assert_eq!(of_key.items()[0].id(), Some(gold));

    c.delete_usage_plan_key()
        .usage_plan_id(gold)
        .key_id(key_id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        c.get_usage_plan_keys()
            .usage_plan_id(gold)
            .send()
            .await
            .unwrap()
            .items()
            .len(),
        1
    );
    // Deleting a key takes it out of its plans.
    c.delete_api_key()
        .api_key(other.id().unwrap())
        .send()
        .await
        .unwrap();
    assert!(
        c.get_usage_plan_keys()
            .usage_plan_id(gold)
            .send()
            .await
            .unwrap()
            .items()
            .is_empty()
    );
    assert!(
        c.get_usage_plan_keys()
            .usage_plan_id("nope00")
            .send()
            .await
            .unwrap()
            .items()
            .is_empty(),
        "AWS lists no keys for an unknown plan"
    );
}

#[tokio::test]
async fn get_usage_pages_through_a_plans_keys() {
    let app = spawn_app().await;
    let c = app.client();
    let plan = c.create_usage_plan().name("paged").send().await.unwrap();
    let plan = plan.id().unwrap();
    let mut keys = vec![];
    for name in ["a", "b", "c"] {
        let key = c.create_api_key().name(name).enabled(true).send().await.unwrap();
        c.create_usage_plan_key()
            .usage_plan_id(plan)
            .key_id(key.id().unwrap())
            .key_type("API_KEY")
            .send()
            .await
            .unwrap();
        keys.push(key.id().unwrap().to_owned());
    }
    keys.sort();
    let today = chrono::Utc::now().date_naive().to_string();
    let page = |position: Option<String>| {
        c.get_usage()
            .usage_plan_id(plan)
            .start_date(&today)
            .end_date(&today)
            .limit(2)
            .set_position(position)
            .send()
    };
    let first = page(None).await.unwrap();
    let mut seen: Vec<String> = first.items().unwrap().keys().cloned().collect();
    assert_eq!(seen.len(), 2);
    let position = first.position().map(str::to_owned);
    assert!(position.is_some());
    let second = page(position).await.unwrap();
    assert_eq!(second.position(), None);
    seen.extend(second.items().unwrap().keys().cloned());
    seen.sort();
    assert_eq!(seen, keys);
    let e = page(Some("x".into())).await.unwrap_err();
    assert_eq!(err_of(e).0, "BadRequestException");
}

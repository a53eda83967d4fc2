//! Tags on REST APIs and stages, by ARN.

use crate::helpers::*;

#[tokio::test]
async fn tags_on_apis_and_stages() {
    let app = spawn_app().await;
    let c = app.client();
    let api = c
        .create_rest_api()
        .name("api")
        .tags("team", "a")
        .send()
        .await
        .unwrap();
    let id = api.id().unwrap();
    assert_eq!(api.tags().unwrap()["team"], "a");
    let arn = format!("arn:aws:apigateway:{REGION}::/restapis/{id}");
    c.tag_resource()
        .resource_arn(&arn)
        .tags("env", "dev")
        .send()
        .await
        .unwrap();
    let tags = c.get_tags().resource_arn(&arn).send().await.unwrap();
    assert_eq!(tags.tags().unwrap().len(), 2);
    c.untag_resource()
        .resource_arn(&arn)
        .tag_keys("team")
        .send()
        .await
        .unwrap();
    let tags = c.get_tags().resource_arn(&arn).send().await.unwrap();
    assert_eq!(tags.tags().unwrap().keys().collect::<Vec<_>>(), ["env"]);
    assert_eq!(
        c.get_rest_api()
            .rest_api_id(id)
            .send()
            .await
            .unwrap()
            .tags()
            .unwrap()["env"],
        "dev"
    );

    put_mock_method(&c, id, api.root_resource_id().unwrap(), "GET").await;
    c.create_deployment()
        .rest_api_id(id)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    let stage_arn = format!("{arn}/stages/dev");
    c.tag_resource()
        .resource_arn(&stage_arn)
        .tags("k", "v")
        .send()
        .await
        .unwrap();
    let stage = c
        .get_stage()
        .rest_api_id(id)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    assert_eq!(stage.tags().unwrap()["k"], "v");

    let e = err_of(c.get_tags().resource_arn("invalid-arn").send().await.unwrap_err());
    assert_eq!(e.0, "BadRequestException");
    // Another account cannot tag it.
    let e = err_of(
        app.other_client()
            .tag_resource()
            .resource_arn(&arn)
            .tags("x", "y")
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(e.0, "NotFoundException");
}

/// REST VPC links and client certificates are tagged by their ARNs too.
#[tokio::test]
async fn tags_on_vpc_links_and_client_certificates() {
    let app = spawn_app().await;
    let c = app.client();
    let link = c
        .create_vpc_link()
        .name("orders")
        .target_arns(format!(
            "arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/net/orders/1"
        ))
        .tags("team", "a")
        .send()
        .await
        .unwrap();
    let cert = c.generate_client_certificate().send().await.unwrap();
    for (arn, before) in [
        (
            format!("arn:aws:apigateway:{REGION}::/vpclinks/{}", link.id().unwrap()),
            1,
        ),
        (
            format!(
                "arn:aws:apigateway:{REGION}::/clientcertificates/{}",
                cert.client_certificate_id().unwrap()
            ),
            0,
        ),
    ] {
        let tags = c.get_tags().resource_arn(&arn).send().await.unwrap();
        assert_eq!(tags.tags().map_or(0, |t| t.len()), before, "{arn}");
        c.tag_resource()
            .resource_arn(&arn)
            .tags("env", "dev")
            .send()
            .await
            .unwrap();
        c.untag_resource()
            .resource_arn(&arn)
            .tag_keys("team")
            .send()
            .await
            .unwrap();
        let tags = c.get_tags().resource_arn(&arn).send().await.unwrap();
        assert_eq!(tags.tags().unwrap().keys().collect::<Vec<_>>(), ["env"], "{arn}");
        // Another account's caller sees nothing of them.
        let e = app
            .other_client()
            .get_tags()
            .resource_arn(&arn)
            .send()
            .await
            .unwrap_err();
        assert_eq!(err_of(e).0, "NotFoundException", "{arn}");
    }
    let got = c
        .get_client_certificate()
        .client_certificate_id(cert.client_certificate_id().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(got.tags().unwrap()["env"], "dev");
}

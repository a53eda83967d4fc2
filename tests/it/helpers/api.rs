//! REST APIs built through the SDK, as users build them: [`TestApi`] makes resources by path,
//! methods with their integrations, and deployments; the free functions are its steps, for
//! tests that need one at a time.

use aws_sdk_apigateway::Client;
use aws_sdk_apigateway::types::IntegrationType;

/// Creates an API and returns `(api_id, root_resource_id)`.
pub async fn create_api(client: &Client, name: &str) -> (String, String) {
    let api = client.create_rest_api().name(name).send().await.unwrap();
    (api.id.unwrap(), api.root_resource_id.unwrap())
}

/// Adds a `GET` with a MOCK integration on `resource_id`.
pub async fn put_mock_method(client: &Client, api_id: &str, resource_id: &str, verb: &str) {
    client
        .put_method()
        .rest_api_id(api_id)
        .resource_id(resource_id)
        .http_method(verb)
        .authorization_type("NONE")
        .send()
        .await
        .unwrap();
    client
        .put_integration()
        .rest_api_id(api_id)
        .resource_id(resource_id)
        .http_method(verb)
        .r#type(aws_sdk_apigateway::types::IntegrationType::Mock)
        .request_templates("application/json", r#"{"statusCode": 200}"#)
        .send()
        .await
        .unwrap();
}

/// Adds the resource `part` under `parent`; its id.
pub async fn add_resource(c: &Client, api: &str, parent: &str, part: &str) -> String {
    c.create_resource()
        .rest_api_id(api)
        .parent_id(parent)
        .path_part(part)
        .send()
        .await
        .unwrap()
        .id
        .unwrap()
}

/// `verb` on `resource` as an AWS_PROXY integration to Lambda function `function`.
pub async fn put_lambda_proxy(c: &Client, api: &str, resource: &str, verb: &str, function: &str) {
    c.put_method()
        .rest_api_id(api)
        .resource_id(resource)
        .http_method(verb)
        .authorization_type("NONE")
        .send()
        .await
        .unwrap();
    c.put_integration()
        .rest_api_id(api)
        .resource_id(resource)
        .http_method(verb)
        .r#type(IntegrationType::AwsProxy)
        .integration_http_method("POST")
        .uri(format!(
            "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:{function}/invocations"
        ))
        .send()
        .await
        .unwrap();
}

/// `ANY` on `resource` (a `{proxy+}` one) as HTTP_PROXY to `uri`, the greedy path mapped into
/// the URI's `{proxy}`.
pub async fn put_http_proxy(c: &Client, api: &str, resource: &str, uri: &str) {
    c.put_method()
        .rest_api_id(api)
        .resource_id(resource)
        .http_method("ANY")
        .authorization_type("NONE")
        .request_parameters("method.request.path.proxy", true)
        .send()
        .await
        .unwrap();
    c.put_integration()
        .rest_api_id(api)
        .resource_id(resource)
        .http_method("ANY")
        .r#type(IntegrationType::HttpProxy)
        .integration_http_method("ANY")
        .uri(uri)
        .request_parameters("integration.request.path.proxy", "method.request.path.proxy")
        .send()
        .await
        .unwrap();
}

/// A REST API being built: `TestApi::create(&c, "pets").await`, then its routes, then
/// [`TestApi::deploy`].
pub struct TestApi<'c> {
    pub c: &'c Client,
    pub id: String,
    pub root: String,
}

impl<'c> TestApi<'c> {
    pub async fn create(c: &'c Client, name: &str) -> Self {
        let (id, root) = create_api(c, name).await;
        Self { c, id, root }
    }

    /// The resource at `path` (`/pets/{id}`), made with the parents it needs.
    pub async fn resource(&self, path: &str) -> String {
        let mut parent = self.root.clone();
        let mut at = String::new();
        for part in path.split('/').filter(|p| !p.is_empty()) {
            at = format!("{at}/{part}");
            let existing = self
                .c
                .get_resources()
                .rest_api_id(&self.id)
                .limit(500)
                .send()
                .await
                .unwrap()
                .items
                .unwrap_or_default()
                .into_iter()
                .find(|r| r.path() == Some(at.as_str()));
            parent = match existing {
                Some(r) => r.id.unwrap(),
                None => add_resource(self.c, &self.id, &parent, part).await,
            };
        }
        parent
    }

    /// `verb` on `path` as a MOCK answering 200 with `body` (JSON).
    pub async fn mock(&self, path: &str, verb: &str, body: &str) -> &Self {
        let resource = self.resource(path).await;
        put_mock_method(self.c, &self.id, &resource, verb).await;
        self.c
            .put_integration_response()
            .rest_api_id(&self.id)
            .resource_id(&resource)
            .http_method(verb)
            .status_code("200")
            .selection_pattern("")
            .response_templates("application/json", body)
            .send()
            .await
            .unwrap();
        self
    }

    /// `ANY` on `path` (ending with `{proxy+}`) as HTTP_PROXY to `uri`.
    pub async fn http_proxy(&self, path: &str, uri: &str) -> &Self {
        let resource = self.resource(path).await;
        put_http_proxy(self.c, &self.id, &resource, uri).await;
        self
    }

    /// `verb` on `path` as AWS_PROXY to Lambda function `function`.
    pub async fn lambda_proxy(&self, path: &str, verb: &str, function: &str) -> &Self {
        let resource = self.resource(path).await;
        put_lambda_proxy(self.c, &self.id, &resource, verb, function).await;
        self
    }

    /// Deploys the API to `stage`.
    pub async fn deploy(&self, stage: &str) -> &Self {
        self.c
            .create_deployment()
            .rest_api_id(&self.id)
            .stage_name(stage)
            .send()
            .await
            .unwrap();
        self
    }
}

/// A patch operation, as every `Update*` call takes them.
pub fn patch_op(
    op: aws_sdk_apigateway::types::Op,
    path: &str,
    value: Option<&str>,
) -> aws_sdk_apigateway::types::PatchOperation {
    aws_sdk_apigateway::types::PatchOperation::builder()
        .op(op)
        .path(path)
        .set_value(value.map(str::to_owned))
        .build()
}

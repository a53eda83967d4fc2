//! Tags: TagResource, UntagResource, GetTags on the ARNs of REST APIs and their stages, and of
//! HTTP and WebSocket APIs and theirs (`/apis/...`, which `apigatewayv2`'s own tag operations
//! reach through [`edit_tags`] and [`read_tags`]).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::{StatusCode, Uri};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;

use super::find_api;
use super::stages::stage_not_found;
use crate::management::AppState;
use crate::management::error::{ApiError, ApiResult, OrNotFound};
use crate::management::extract::{AwsJson, form_pairs};
use crate::store::{RowLock, Tenant, rest_apis, stages};

/// AWS's limit of tags per resource.
const MAX_TAGS: usize = 50;

/// What an ARN names.
#[derive(Debug, PartialEq, Eq)]
enum Taggable {
    RestApi(String),
    Stage(String, String),
    /// An HTTP or WebSocket API, and a stage of one.
    Api(String),
    ApiStage(String, String),
    /// A VPC link, of HTTP APIs or of REST APIs.
    VpcLink(String),
    ClientCertificate(String),
    DomainName(String),
}

/// Parses `arn:aws:apigateway:{region}::/restapis/{id}[/stages/{name}]` for the caller's region.
fn parse_arn(arn: &str, tenant: &Tenant) -> ApiResult<Taggable> {
    let bad = || ApiError::bad_request(format!("Invalid ARN. ARN is not well formed {arn}"));
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [prefix, _partition, service, region, _account, resource] = parts[..] else {
        return Err(bad());
    };
    if prefix != "arn" || service != "apigateway" {
        return Err(bad());
    }
    if region != tenant.region {
        return Err(ApiError::bad_request("Invalid ARN specified in the request"));
    }
    let segs: Vec<&str> = resource.trim_start_matches('/').split('/').collect();
    match segs[..] {
        ["restapis", id] => Ok(Taggable::RestApi(id.to_owned())),
        ["restapis", id, "stages", name] => Ok(Taggable::Stage(id.to_owned(), name.to_owned())),
        ["apis", id] => Ok(Taggable::Api(id.to_owned())),
        ["apis", id, "stages", name] => Ok(Taggable::ApiStage(id.to_owned(), name.to_owned())),
        ["vpclinks", id] => Ok(Taggable::VpcLink(id.to_owned())),
        ["clientcertificates", id] => Ok(Taggable::ClientCertificate(id.to_owned())),
        ["domainnames", name] => Ok(Taggable::DomainName(name.to_owned())),
        _ => Err(ApiError::bad_request("Invalid ARN specified in the request")),
    }
}

/// Reads, changes and writes the tags of what `arn` names, in one transaction.
pub(crate) async fn edit_tags(
    conn: &mut PgConnection,
    tenant: &Tenant,
    arn: &str,
    edit: impl FnOnce(&mut BTreeMap<String, String>) -> ApiResult<()>,
) -> ApiResult<BTreeMap<String, String>> {
    match parse_arn(arn, tenant)? {
        Taggable::RestApi(id) => {
            let mut api = find_api(conn, tenant, &id, RowLock::Update).await?;
            edit(&mut api.tags)?;
            rest_apis::update(conn, tenant, &api).await?;
            Ok(api.tags)
        }
        Taggable::Stage(id, name) => {
            find_api(conn, tenant, &id, RowLock::None).await?;
            let mut stage = stages::get::<crate::domain::stage::Stage>(conn, &id, &name, true)
                .await
                .or_not_found(stage_not_found)?;
            edit(&mut stage.tags)?;
            stages::update(conn, &id, &stage).await?;
            Ok(stage.tags)
        }
        Taggable::Api(id) => {
            let mut api =
                crate::management::apigatewayv2::find_api(conn, tenant, &id, RowLock::Update).await?;
            edit(&mut api.tags)?;
            crate::store::http_apis::update(conn, tenant, &api).await?;
            Ok(api.tags)
        }
        Taggable::ApiStage(id, name) => {
            crate::management::apigatewayv2::find_api(conn, tenant, &id, RowLock::Update).await?;
            let mut stage = stages::get::<crate::domain::http_api::Stage>(conn, &id, &name, true)
                .await
                .or_not_found(|| crate::management::apigatewayv2::stages::stage_not_found(&name))?;
            edit(&mut stage.tags)?;
            stages::update(conn, &id, &stage).await?;
            Ok(stage.tags)
        }
        Taggable::VpcLink(id) => {
            use crate::management::apigatewayv2::vpc_links::find_vpc_link;
            // A REST API's link, else an HTTP API's (ids are unique across both).
            if let Some(mut link) = super::vpc_links::rest_link(conn, tenant, &id, RowLock::Update).await? {
                let tags = link.tags.get_or_insert_with(BTreeMap::new);
                edit(tags)?;
                let tags = tags.clone();
                crate::store::vpc_links::update(conn, &id, &link).await?;
                return Ok(tags);
            }
            let mut link = find_vpc_link(conn, tenant, &id, RowLock::Update).await?;
            edit(&mut link.tags)?;
            crate::store::vpc_links::update(conn, &id, &link).await?;
            Ok(link.tags)
        }
        Taggable::ClientCertificate(id) => {
            let mut cert = crate::store::client_certificates::get(conn, tenant, &id, RowLock::Update)
                .await
                .or_not_found(super::client_certificates::certificate_not_found)?;
            edit(&mut cert.tags)?;
            crate::store::client_certificates::update(conn, &cert).await?;
            Ok(cert.tags)
        }
        Taggable::DomainName(name) => {
            let mut d = crate::management::domains::find_domain(conn, tenant, &name, RowLock::Update).await?;
            edit(&mut d.tags)?;
            crate::store::domain_names::update(conn, &d).await?;
            Ok(d.tags)
        }
    }
}

/// The tags of what `arn` names.
pub(crate) async fn read_tags(
    conn: &mut PgConnection,
    tenant: &Tenant,
    arn: &str,
) -> ApiResult<BTreeMap<String, String>> {
    Ok(match parse_arn(arn, tenant)? {
        Taggable::RestApi(id) => find_api(conn, tenant, &id, RowLock::None).await?.tags,
        Taggable::Stage(id, name) => {
            find_api(conn, tenant, &id, RowLock::None).await?;
            stages::get::<crate::domain::stage::Stage>(conn, &id, &name, false)
                .await
                .or_not_found(stage_not_found)?
                .tags
        }
        Taggable::Api(id) => {
            crate::management::apigatewayv2::find_api(conn, tenant, &id, RowLock::None)
                .await?
                .tags
        }
        Taggable::ApiStage(id, name) => {
            crate::management::apigatewayv2::find_api(conn, tenant, &id, RowLock::None).await?;
            stages::get::<crate::domain::http_api::Stage>(conn, &id, &name, false)
                .await
                .or_not_found(|| crate::management::apigatewayv2::stages::stage_not_found(&name))?
                .tags
        }
        Taggable::VpcLink(id) => {
            use crate::management::apigatewayv2::vpc_links::find_vpc_link;
            match super::vpc_links::rest_link(conn, tenant, &id, RowLock::None).await? {
                Some(link) => link.tags.unwrap_or_default(),
                None => find_vpc_link(conn, tenant, &id, RowLock::None).await?.tags,
            }
        }
        Taggable::ClientCertificate(id) => {
            crate::store::client_certificates::get(conn, tenant, &id, RowLock::None)
                .await
                .or_not_found(super::client_certificates::certificate_not_found)?
                .tags
        }
        Taggable::DomainName(name) => {
            crate::management::domains::find_domain(conn, tenant, &name, RowLock::None)
                .await?
                .tags
        }
    })
}

/// TagResource's change: the new tags added, at most [`MAX_TAGS`] in all.
pub(crate) fn add_tags(tags: &mut BTreeMap<String, String>, new: BTreeMap<String, String>) -> ApiResult<()> {
    check_tags(&new)?;
    tags.extend(new);
    if tags.len() > MAX_TAGS {
        return Err(ApiError::bad_request(format!(
            "A resource can have at most {MAX_TAGS} tags"
        )));
    }
    Ok(())
}

/// UntagResource's keys, from the query string's `tagKeys`.
pub(crate) fn tag_keys(uri: &Uri) -> Vec<String> {
    form_pairs(uri.query().unwrap_or(""))
        .into_iter()
        .filter(|(k, _)| k == "tagKeys")
        .map(|(_, v)| v)
        .collect()
}

#[derive(Debug, Deserialize, Serialize, Default, utoipa::ToSchema)]
pub struct TagsBody {
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

pub fn check_tags(tags: &BTreeMap<String, String>) -> ApiResult<()> {
    for (k, v) in tags {
        if k.is_empty() || k.len() > 128 || k.starts_with("aws:") {
            return Err(ApiError::bad_request(format!("Invalid tag key: {k}")));
        }
        if v.len() > 256 {
            return Err(ApiError::bad_request(format!(
                "Invalid tag value for key {k}: at most 256 characters"
            )));
        }
    }
    Ok(())
}

#[utoipa::path(
    put,
    path = "/tags/{resource_arn}",
    operation_id = "TagResource",
    tag = "apigateway",
    params(("resource_arn" = String, Path)),
    request_body = TagsBody,
    responses((status = 204, description = "TagResource succeeded"), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all)]
pub async fn tag_resource(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(arn): Path<String>,
    AwsJson(body): AwsJson<TagsBody>,
) -> ApiResult<StatusCode> {
    let mut tx = app.store.begin().await?;
    edit_tags(&mut tx, &tenant, &arn, |tags| add_tags(tags, body.tags)).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    delete,
    path = "/tags/{resource_arn}",
    operation_id = "UntagResource",
    tag = "apigateway",
    params(("resource_arn" = String, Path)),
    responses((status = 204, description = "UntagResource succeeded"), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all)]
pub async fn untag_resource(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(arn): Path<String>,
    uri: Uri,
) -> ApiResult<StatusCode> {
    let keys = tag_keys(&uri);
    let mut tx = app.store.begin().await?;
    edit_tags(&mut tx, &tenant, &arn, |tags| {
        for k in &keys {
            tags.remove(k);
        }
        Ok(())
    })
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    get,
    path = "/tags/{resource_arn}",
    operation_id = "GetTags",
    tag = "apigateway",
    params(("resource_arn" = String, Path)),
    responses((status = 200, description = "GetTags succeeded", body = TagsBody), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all)]
pub async fn get_tags(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(arn): Path<String>,
) -> ApiResult<Json<TagsBody>> {
    let mut conn = app.store.pool().acquire().await?;
    let tags = read_tags(&mut conn, &tenant, &arn).await?;
    Ok(Json(TagsBody { tags }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_name_apis_and_stages_of_the_callers_region() {
        let t = Tenant {
            account_id: "000000000000".into(),
            region: "us-east-1".into(),
        };
        assert_eq!(
            parse_arn("arn:aws:apigateway:us-east-1::/restapis/abc", &t).unwrap(),
            Taggable::RestApi("abc".into())
        );
        assert_eq!(
            parse_arn("arn:aws:apigateway:us-east-1::/restapis/abc/stages/dev", &t).unwrap(),
            Taggable::Stage("abc".into(), "dev".into())
        );
        assert!(parse_arn("arn:aws:apigateway:eu-west-1::/restapis/abc", &t).is_err());
        assert!(parse_arn("invalid-arn", &t).is_err());
    }
}

//! Tags: GetTags, TagResource, UntagResource on `/v2/tags/{resource-arn}`: the ARNs of HTTP and
//! WebSocket APIs and their stages (`arn:aws:apigateway:{region}::/apis/{id}[/stages/{name}]`),
//! and REST APIs' too, as AWS's shared tagging answers both. The work is `apigateway`'s tags
//! module's; v2's wire differs only in its verbs and status codes.

use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::{StatusCode, Uri};

use crate::management::AppState;
use crate::management::apigateway::tags::{TagsBody, add_tags, edit_tags, read_tags, tag_keys};
use crate::management::error::ApiResult;
use crate::management::extract::AwsJson;
use crate::store::Tenant;

#[utoipa::path(
    get,
    path = "/v2/tags/{resource-arn}",
    operation_id = "GetTagsV2",
    tag = "apigatewayv2",
    params(("resource-arn" = String, Path)),
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

#[utoipa::path(
    post,
    path = "/v2/tags/{resource-arn}",
    operation_id = "TagResourceV2",
    tag = "apigatewayv2",
    params(("resource-arn" = String, Path)),
    request_body = TagsBody,
    responses((status = 201, description = "TagResource succeeded"), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all)]
pub async fn tag_resource(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(arn): Path<String>,
    AwsJson(body): AwsJson<TagsBody>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let mut tx = app.store.begin().await?;
    edit_tags(&mut tx, &tenant, &arn, |tags| add_tags(tags, body.tags)).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(serde_json::json!({}))))
}

#[utoipa::path(
    delete,
    path = "/v2/tags/{resource-arn}",
    operation_id = "UntagResourceV2",
    tag = "apigatewayv2",
    params(("resource-arn" = String, Path), ("tagKeys" = Vec<String>, Query)),
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

//! Resource: CreateResource, GetResource, GetResources (`embed=methods`), UpdateResource,
//! DeleteResource (children and their methods go too).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::{StatusCode, Uri};
use serde::Deserialize;
use serde_json::Value;

use super::paging::Pagination;
use super::patch::{self, Op, PatchBody};
use super::{Listing, find_api, resource_not_found};
use crate::domain::ids;
use crate::domain::rest_api::{Method, PathPartKind, Resource};
use crate::management::AppState;
use crate::management::error::{ApiError, ApiResult, OrNotFound};
use crate::management::extract::{AwsJson, query_param};
use crate::store::resources::{Node, Tree};
use crate::store::{Page, RowLock, Tenant, methods, resources};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateResourceRequest {
    pub path_part: Option<String>,
}

/// A path part AWS accepts: a literal of `a-zA-Z0-9._-:~@` (and a few more), `{name}` or `{name+}`.
pub fn parse_path_part(raw: &str) -> ApiResult<String> {
    let literal_ok = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-:~@$&'()*,;=!".contains(c))
    };
    let ok = match PathPartKind::of(raw) {
        PathPartKind::Literal => literal_ok(raw),
        PathPartKind::Param => {
            let name = &raw[1..raw.len() - 1];
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        }
        PathPartKind::Greedy => {
            let name = &raw[1..raw.len() - 2];
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        }
    };
    if ok && raw.len() <= 512 {
        Ok(raw.to_owned())
    } else {
        Err(ApiError::bad_request(
            "Resource's path part only allow a-zA-Z0-9._- and curly braces at the beginning and the end and an \
             optional plus sign before the closing brace.",
        ))
    }
}

/// Checks that `part` may sit under `parent_id` (ignoring `moving`, the node being renamed or moved).
pub(super) fn check_placement(
    tree: &Tree,
    parent_id: &str,
    part: &str,
    moving: Option<&str>,
) -> ApiResult<()> {
    let parent = tree.get(parent_id).ok_or_else(resource_not_found)?;
    if let Some(pp) = &parent.path_part
        && PathPartKind::of(pp) == PathPartKind::Greedy
    {
        return Err(ApiError::bad_request(format!(
            "Cannot create a child of a resource with a greedy path variable: {pp}"
        )));
    }
    let kind = PathPartKind::of(part);
    for sibling in tree.children(parent_id).filter(|s| Some(s.id.as_str()) != moving) {
        let sp = sibling.path_part.as_deref().unwrap_or_default();
        if sp == part {
            return Err(ApiError::conflict(format!(
                "Another resource with the same parent already has this name: {part}"
            )));
        }
        if kind.is_variable() && PathPartKind::of(sp).is_variable() {
            return Err(ApiError::bad_request(format!(
                "A sibling ({sp}) of this resource already has a variable path part -- only one is allowed"
            )));
        }
    }
    Ok(())
}

fn to_resource(tree: &Tree, node: &Node) -> Resource {
    Resource {
        id: node.id.clone(),
        parent_id: node.parent_id.clone(),
        path_part: node.path_part.clone(),
        path: tree.path_of(&node.id),
        resource_methods: None,
    }
}

/// A resource as GetResource(s) shows it: with `embed=methods` its methods in full, otherwise
/// each method as `{}` (AWS's shape), and no `resourceMethods` when it has none.
fn render(resource: Resource, methods: Option<&Vec<Method>>, embed: bool) -> Value {
    let mut v = serde_json::to_value(&resource).expect("resources serialise");
    if let Some(ms) = methods.filter(|m| !m.is_empty()) {
        let map: BTreeMap<String, Value> = ms
            .iter()
            .map(|m| {
                let body = if embed {
                    serde_json::to_value(m).expect("methods serialise")
                } else {
                    Value::Object(Default::default())
                };
                (m.http_method.as_str().to_owned(), body)
            })
            .collect();
        v["resourceMethods"] = serde_json::to_value(map).expect("maps serialise");
    }
    v
}

fn wants_methods(uri: &Uri) -> bool {
    query_param(uri.query(), "embed").is_some_and(|e| e.split(',').any(|x| x.trim() == "methods"))
}

#[utoipa::path(
    post,
    path = "/restapis/{restapi_id}/resources/{resource_id}",
    operation_id = "CreateResource",
    tag = "apigateway",
    // AWS names it `parent_id`; the router needs one name per position, so the URI says resource_id.
    params(("restapi_id" = String, Path), ("resource_id" = String, Path, description = "the parent resource's id")),
    request_body = CreateResourceRequest,
    responses((status = 201, description = "CreateResource succeeded", body = Resource), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn create_resource(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, parent_id)): Path<(String, String)>,
    AwsJson(req): AwsJson<CreateResourceRequest>,
) -> ApiResult<(StatusCode, Json<Resource>)> {
    let mut tx = app.store.begin().await?;
    // The API's row lock serialises changes to its tree, so the sibling checks below hold.
    find_api(&mut tx, &tenant, &api_id, RowLock::Update).await?;
    let tree = Tree::new(resources::all(&mut tx, &api_id).await?);
    if tree.get(&parent_id).is_none() {
        return Err(resource_not_found());
    }
    let part = parse_path_part(req.path_part.as_deref().unwrap_or_default())?;
    check_placement(&tree, &parent_id, &part, None)?;
    let node = Node {
        id: ids::resource_id(false),
        parent_id: Some(parent_id),
        path_part: Some(part),
    };
    resources::insert(&mut tx, &api_id, &node).await?;
    tx.commit().await?;
    let mut nodes = tree.nodes;
    nodes.push(node.clone());
    Ok((StatusCode::CREATED, Json(to_resource(&Tree::new(nodes), &node))))
}

#[utoipa::path(
    get,
    path = "/restapis/{restapi_id}/resources/{resource_id}",
    operation_id = "GetResource",
    tag = "apigateway",
    params(("restapi_id" = String, Path), ("resource_id" = String, Path)),
    responses((status = 200, description = "GetResource succeeded", body = Resource), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn get_resource(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, resource_id)): Path<(String, String)>,
    uri: Uri,
) -> ApiResult<Json<Value>> {
    let mut conn = app.store.pool().acquire().await?;
    find_api(&mut conn, &tenant, &api_id, RowLock::None).await?;
    let tree = Tree::new(resources::all(&mut conn, &api_id).await?);
    let node = tree.get(&resource_id).ok_or_else(resource_not_found)?;
    let methods = methods::of_resource(&mut conn, &api_id, &resource_id).await?;
    Ok(Json(render(
        to_resource(&tree, node),
        Some(&methods),
        wants_methods(&uri),
    )))
}

#[utoipa::path(
    get,
    path = "/restapis/{restapi_id}/resources",
    operation_id = "GetResources",
    tag = "apigateway",
    params(("restapi_id" = String, Path)),
    responses((status = 200, description = "GetResources succeeded", body = Listing<Resource>), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn get_resources(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path(api_id): Path<String>,
    Pagination(page): Pagination,
    uri: Uri,
) -> ApiResult<Json<Listing<Value>>> {
    let mut conn = app.store.pool().acquire().await?;
    find_api(&mut conn, &tenant, &api_id, RowLock::None).await?;
    let tree = Tree::new(resources::all(&mut conn, &api_id).await?);
    let mut by_resource: std::collections::HashMap<String, Vec<Method>> = std::collections::HashMap::new();
    for (rid, m) in methods::all(&mut conn, &api_id).await? {
        by_resource.entry(rid).or_default().push(m);
    }
    let embed = wants_methods(&uri);
    // The tree is small and wanted whole for paths; pagination is over its creation order.
    let rows: Vec<(i64, Value)> = tree
        .nodes
        .iter()
        .enumerate()
        .skip(page.after_seq as usize)
        .take(page.limit as usize + 1)
        .map(|(i, n)| {
            (
                (i + 1) as i64,
                render(to_resource(&tree, n), by_resource.get(&n.id), embed),
            )
        })
        .collect();
    Ok(Json(Page::from_rows(rows, page.limit).into()))
}

#[utoipa::path(
    patch,
    path = "/restapis/{restapi_id}/resources/{resource_id}",
    operation_id = "UpdateResource",
    tag = "apigateway",
    params(("restapi_id" = String, Path), ("resource_id" = String, Path)),
    request_body = PatchBody,
    responses((status = 200, description = "UpdateResource succeeded", body = Resource), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn update_resource(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, resource_id)): Path<(String, String)>,
    AwsJson(body): AwsJson<PatchBody>,
) -> ApiResult<Json<Resource>> {
    let ops = patch::parse(body, "updateResourceInput")?;
    let mut tx = app.store.begin().await?;
    find_api(&mut tx, &tenant, &api_id, RowLock::Update).await?;
    let mut tree = Tree::new(resources::all(&mut tx, &api_id).await?);
    let mut node = tree.get(&resource_id).cloned().ok_or_else(resource_not_found)?;
    for op in &ops {
        let field = match op.path.as_str() {
            "/pathPart" | "/parentId" => op.path.as_str(),
            _ if op.op == Op::Replace => return Err(op.invalid_path(&["/parentId", "/pathPart"])),
            _ => return Err(op.unsupported_op()),
        };
        if op.op != Op::Replace {
            return Err(op.unsupported_op());
        }
        if node.parent_id.is_none() {
            let what = if field == "/pathPart" {
                "pathPart"
            } else {
                "parentId"
            };
            return Err(ApiError::bad_request(format!(
                "Root resource cannot update its {what}."
            )));
        }
        let value = op.required_value()?;
        if field == "/pathPart" {
            let part = parse_path_part(value)?;
            check_placement(
                &tree,
                node.parent_id.as_deref().unwrap_or_default(),
                &part,
                Some(&node.id),
            )?;
            node.path_part = Some(part);
        } else {
            if tree.get(value).is_none() {
                return Err(resource_not_found());
            }
            if tree.is_ancestor_or_self(&node.id, value) {
                return Err(ApiError::bad_request("Resources cannot be cyclical."));
            }
            check_placement(
                &tree,
                value,
                node.path_part.as_deref().unwrap_or_default(),
                Some(&node.id),
            )?;
            node.parent_id = Some(value.to_owned());
        }
        let mut nodes = tree.nodes;
        if let Some(slot) = nodes.iter_mut().find(|n| n.id == node.id) {
            *slot = node.clone();
        }
        tree = Tree::new(nodes);
    }
    resources::update(&mut tx, &api_id, &node).await?;
    tx.commit().await?;
    Ok(Json(to_resource(&tree, &node)))
}

#[utoipa::path(
    delete,
    path = "/restapis/{restapi_id}/resources/{resource_id}",
    operation_id = "DeleteResource",
    tag = "apigateway",
    params(("restapi_id" = String, Path), ("resource_id" = String, Path)),
    responses((status = 202, description = "DeleteResource succeeded"), (status = "4XX", description = "AWS error", body = crate::management::error::ErrorBody))
)]
#[tracing::instrument(skip_all, fields(api.id = %api_id))]
pub async fn delete_resource(
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    Path((api_id, resource_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let mut tx = app.store.begin().await?;
    let api = find_api(&mut tx, &tenant, &api_id, RowLock::Update).await?;
    if api.root_resource_id == resource_id {
        return Err(ApiError::bad_request("Cannot delete root resource"));
    }
    resources::delete(&mut tx, &api_id, &resource_id)
        .await
        .or_not_found(resource_not_found)?;
    tx.commit().await?;
    Ok(StatusCode::ACCEPTED)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: &str, parent: Option<&str>, part: Option<&str>) -> Node {
        Node {
            id: id.into(),
            parent_id: parent.map(Into::into),
            path_part: part.map(Into::into),
        }
    }

    #[test]
    fn path_parts_are_validated() {
        assert!(parse_path_part("pets").is_ok());
        assert!(parse_path_part("{id}").is_ok());
        assert!(parse_path_part("{proxy+}").is_ok());
        assert!(parse_path_part("").is_err());
        assert!(parse_path_part("a/b").is_err());
        assert!(parse_path_part("{}").is_err());
    }

    #[test]
    fn siblings_follow_aws_rules() {
        let tree = Tree::new(vec![
            node("r", None, None),
            node("p", Some("r"), Some("{proxy+}")),
            node("a", Some("r"), Some("pets")),
        ]);
        assert_eq!(
            check_placement(&tree, "r", "pets", None).unwrap_err().kind,
            "ConflictException"
        );
        let e = check_placement(&tree, "r", "{id}", None).unwrap_err();
        assert_eq!(
            e.message,
            "A sibling ({proxy+}) of this resource already has a variable path part -- only one is allowed"
        );
        let e = check_placement(&tree, "p", "x", None).unwrap_err();
        assert_eq!(
            e.message,
            "Cannot create a child of a resource with a greedy path variable: {proxy+}"
        );
        check_placement(&tree, "r", "dogs", None).unwrap();
    }
}

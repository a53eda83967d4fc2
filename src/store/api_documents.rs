//! The documents that hang off an API by a key and nothing else: models (by name), request
//! validators and authorizers (by id), gateway responses (by type), and v2's routes and
//! integrations (by id). One shape, one repo, the tables named by [`Kind`].

use sqlx::PgConnection;
use sqlx::types::Json;

use super::error::decode;
use super::{Page, PageRequest, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Model,
    RequestValidator,
    Authorizer,
    GatewayResponse,
    /// An HTTP or WebSocket API's routes and integrations (v2).
    Route,
    Integration,
    /// An HTTP or WebSocket API's models, by id (v2).
    ApiModel,
    /// A WebSocket route's responses and an integration's responses (v2): children of their
    /// route or integration (see [`insert_child`], [`get_child`], [`list_children`]).
    RouteResponse,
    IntegrationResponse,
    /// A REST API's documentation parts (by id) and versions (by version name).
    DocumentationPart,
    DocumentationVersion,
}

impl Kind {
    /// Table and key column; fixed strings, never user input.
    fn table(self) -> (&'static str, &'static str) {
        match self {
            Kind::Model => ("models", "name"),
            Kind::RequestValidator => ("request_validators", "id"),
            Kind::Authorizer => ("authorizers", "id"),
            Kind::GatewayResponse => ("gateway_responses", "response_type"),
            Kind::Route => ("routes", "id"),
            Kind::Integration => ("integrations", "id"),
            Kind::ApiModel => ("api_models", "id"),
            Kind::RouteResponse => ("route_responses", "id"),
            Kind::IntegrationResponse => ("integration_responses", "id"),
            Kind::DocumentationPart => ("documentation_parts", "id"),
            Kind::DocumentationVersion => ("documentation_versions", "id"),
        }
    }

    fn order(self) -> &'static str {
        // Gateway responses have no creation order worth keeping; AWS lists them by type.
        if self == Kind::GatewayResponse {
            "response_type"
        } else {
            "seq"
        }
    }
}

pub async fn exists(
    conn: &mut PgConnection,
    kind: Kind,
    api_id: &str,
    key: &str,
) -> Result<bool, StoreError> {
    let (table, col) = kind.table();
    let row: Option<(i32,)> =
        sqlx::query_as(&format!("SELECT 1 FROM {table} WHERE api_id = $1 AND {col} = $2"))
            .bind(api_id)
            .bind(key)
            .fetch_optional(conn)
            .await?;
    Ok(row.is_some())
}

pub async fn get<T: serde::de::DeserializeOwned>(
    conn: &mut PgConnection,
    kind: Kind,
    api_id: &str,
    key: &str,
    lock: bool,
) -> Result<T, StoreError> {
    let (table, col) = kind.table();
    let lock = if lock { " FOR UPDATE" } else { "" };
    let (doc,): (serde_json::Value,) = sqlx::query_as(&format!(
        "SELECT doc FROM {table} WHERE api_id = $1 AND {col} = $2{lock}"
    ))
    .bind(api_id)
    .bind(key)
    .fetch_optional(conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    decode(doc)
}

/// Every document of this kind in the API, in listing order.
pub async fn all<T: serde::de::DeserializeOwned>(
    conn: &mut PgConnection,
    kind: Kind,
    api_id: &str,
) -> Result<Vec<T>, StoreError> {
    let (table, _) = kind.table();
    let rows: Vec<(serde_json::Value,)> = sqlx::query_as(&format!(
        "SELECT doc FROM {table} WHERE api_id = $1 ORDER BY {}",
        kind.order()
    ))
    .bind(api_id)
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(|(doc,)| decode(doc)).collect()
}

/// A page of documents (kinds with a creation order).
pub async fn list<T: serde::de::DeserializeOwned>(
    conn: &mut PgConnection,
    kind: Kind,
    api_id: &str,
    page: PageRequest,
) -> Result<Page<T>, StoreError> {
    let (table, _) = kind.table();
    let rows: Vec<(i64, serde_json::Value)> = sqlx::query_as(&format!(
        "SELECT seq, doc FROM {table} WHERE api_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
    ))
    .bind(api_id)
    .bind(page.after_seq)
    .bind(page.limit + 1)
    .fetch_all(conn)
    .await?;
    let rows = rows
        .into_iter()
        .map(|(seq, doc)| Ok((seq, decode(doc)?)))
        .collect::<Result<_, StoreError>>()?;
    Ok(Page::from_rows(rows, page.limit))
}

pub async fn insert<T: serde::Serialize>(
    conn: &mut PgConnection,
    kind: Kind,
    api_id: &str,
    key: &str,
    doc: &T,
) -> Result<(), StoreError> {
    let (table, col) = kind.table();
    sqlx::query(&format!(
        "INSERT INTO {table} (api_id, {col}, doc) VALUES ($1, $2, $3)"
    ))
    .bind(api_id)
    .bind(key)
    .bind(Json(doc))
    .execute(conn)
    .await?;
    Ok(())
}

/// Inserts or replaces (PutGatewayResponse).
pub async fn put<T: serde::Serialize>(
    conn: &mut PgConnection,
    kind: Kind,
    api_id: &str,
    key: &str,
    doc: &T,
) -> Result<(), StoreError> {
    let (table, col) = kind.table();
    sqlx::query(&format!(
        "INSERT INTO {table} (api_id, {col}, doc) VALUES ($1, $2, $3) ON CONFLICT (api_id, {col}) DO UPDATE SET doc = EXCLUDED.doc"
    ))
    .bind(api_id)
    .bind(key)
    .bind(Json(doc))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn update<T: serde::Serialize>(
    conn: &mut PgConnection,
    kind: Kind,
    api_id: &str,
    key: &str,
    doc: &T,
) -> Result<(), StoreError> {
    let (table, col) = kind.table();
    let done = sqlx::query(&format!(
        "UPDATE {table} SET doc = $3 WHERE api_id = $1 AND {col} = $2"
    ))
    .bind(api_id)
    .bind(key)
    .bind(Json(doc))
    .execute(conn)
    .await?;
    if done.rows_affected() == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

pub async fn delete(conn: &mut PgConnection, kind: Kind, api_id: &str, key: &str) -> Result<(), StoreError> {
    let (table, col) = kind.table();
    let done = sqlx::query(&format!("DELETE FROM {table} WHERE api_id = $1 AND {col} = $2"))
        .bind(api_id)
        .bind(key)
        .execute(conn)
        .await?;
    if done.rows_affected() == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

/// Deletes every document of this kind in the API (a reimport replacing its definition).
pub async fn delete_all(conn: &mut PgConnection, kind: Kind, api_id: &str) -> Result<(), StoreError> {
    let (table, _) = kind.table();
    sqlx::query(&format!("DELETE FROM {table} WHERE api_id = $1"))
        .bind(api_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Inserts a document under its parent (a route's response under the route).
pub async fn insert_child<T: serde::Serialize>(
    conn: &mut PgConnection,
    kind: Kind,
    api_id: &str,
    parent: &str,
    key: &str,
    doc: &T,
) -> Result<(), StoreError> {
    let (table, col) = kind.table();
    sqlx::query(&format!(
        "INSERT INTO {table} (api_id, parent_id, {col}, doc) VALUES ($1, $2, $3, $4)"
    ))
    .bind(api_id)
    .bind(parent)
    .bind(key)
    .bind(Json(doc))
    .execute(conn)
    .await?;
    Ok(())
}

/// A document under `parent` (not found when it is another parent's). Once found, [`update`]
/// and [`delete`] take it by its key alone: keys are unique within the API.
pub async fn get_child<T: serde::de::DeserializeOwned>(
    conn: &mut PgConnection,
    kind: Kind,
    api_id: &str,
    parent: &str,
    key: &str,
    lock: bool,
) -> Result<T, StoreError> {
    let (table, col) = kind.table();
    let lock = if lock { " FOR UPDATE" } else { "" };
    let (doc,): (serde_json::Value,) = sqlx::query_as(&format!(
        "SELECT doc FROM {table} WHERE api_id = $1 AND parent_id = $2 AND {col} = $3{lock}"
    ))
    .bind(api_id)
    .bind(parent)
    .bind(key)
    .fetch_optional(conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    decode(doc)
}

/// Every document of a child kind in the API, with its parent's key, in creation order.
pub async fn all_children<T: serde::de::DeserializeOwned>(
    conn: &mut PgConnection,
    kind: Kind,
    api_id: &str,
) -> Result<Vec<(String, T)>, StoreError> {
    let (table, _) = kind.table();
    let rows: Vec<(String, serde_json::Value)> = sqlx::query_as(&format!(
        "SELECT parent_id, doc FROM {table} WHERE api_id = $1 ORDER BY seq"
    ))
    .bind(api_id)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|(parent, doc)| Ok((parent, decode(doc)?)))
        .collect()
}

/// A page of the documents under `parent`, in creation order.
pub async fn list_children<T: serde::de::DeserializeOwned>(
    conn: &mut PgConnection,
    kind: Kind,
    api_id: &str,
    parent: &str,
    page: PageRequest,
) -> Result<Page<T>, StoreError> {
    let (table, _) = kind.table();
    let rows: Vec<(i64, serde_json::Value)> = sqlx::query_as(&format!(
        "SELECT seq, doc FROM {table} WHERE api_id = $1 AND parent_id = $2 AND seq > $3 ORDER BY seq LIMIT $4"
    ))
    .bind(api_id)
    .bind(parent)
    .bind(page.after_seq)
    .bind(page.limit + 1)
    .fetch_all(conn)
    .await?;
    let rows = rows
        .into_iter()
        .map(|(seq, doc)| Ok((seq, decode(doc)?)))
        .collect::<Result<_, StoreError>>()?;
    Ok(Page::from_rows(rows, page.limit))
}

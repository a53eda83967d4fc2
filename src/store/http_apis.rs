//! HTTP and WebSocket APIs (`apigatewayv2`), scoped by tenant: the [`super::apis`] that are not
//! REST APIs (which no v2 operation sees, as no REST operation sees these).

use sqlx::PgConnection;

use super::apis::{self, View};
use super::{Page, PageRequest, RowLock, StoreError, Tenant};
use crate::domain::http_api::HttpApi;

pub async fn insert(conn: &mut PgConnection, tenant: &Tenant, api: &HttpApi) -> Result<(), StoreError> {
    apis::insert(conn, tenant, &api.api_id, &api.protocol_type, api).await
}

/// The tenant's API `id`, its row locked as asked.
pub async fn get(
    conn: &mut PgConnection,
    tenant: &Tenant,
    id: &str,
    lock: RowLock,
) -> Result<HttpApi, StoreError> {
    apis::get(conn, tenant, View::V2, id, lock.sql()).await
}

pub async fn list(
    conn: &mut PgConnection,
    tenant: &Tenant,
    page: PageRequest,
) -> Result<Page<HttpApi>, StoreError> {
    apis::list(conn, tenant, View::V2, page).await
}

/// Replaces the API's document (the caller read it locked).
pub async fn update(conn: &mut PgConnection, tenant: &Tenant, api: &HttpApi) -> Result<(), StoreError> {
    apis::update(conn, tenant, View::V2, &api.api_id, api).await
}

/// Deletes the API and everything in it.
pub async fn delete(conn: &mut PgConnection, tenant: &Tenant, id: &str) -> Result<(), StoreError> {
    apis::delete(conn, tenant, View::V2, id).await
}

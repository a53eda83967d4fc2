//! REST APIs, scoped by tenant. Every lookup of anything inside an API starts here, which is what
//! keeps one account from reaching another's. They are the `apis` of protocol `REST`: HTTP and
//! WebSocket APIs share the table, and no REST API operation sees them.

use sqlx::PgConnection;

use super::apis::{self, View};
use super::{Page, PageRequest, RowLock, StoreError, Tenant};
use crate::domain::rest_api::RestApi;

pub async fn insert(conn: &mut PgConnection, tenant: &Tenant, api: &RestApi) -> Result<(), StoreError> {
    apis::insert(conn, tenant, &api.id, "REST", api).await
}

/// Reads an API of the tenant, locking its row as asked. The API's row is the lock of its whole
/// definition: writers of methods hold it shared, tree changes and deployments exclusively, so a
/// deployment always freezes a consistent definition.
pub async fn get(
    conn: &mut PgConnection,
    tenant: &Tenant,
    id: &str,
    lock: RowLock,
) -> Result<RestApi, StoreError> {
    apis::get(conn, tenant, View::Rest, id, lock.sql()).await
}

pub async fn list(
    conn: &mut PgConnection,
    tenant: &Tenant,
    page: PageRequest,
) -> Result<Page<RestApi>, StoreError> {
    apis::list(conn, tenant, View::Rest, page).await
}

pub async fn update(conn: &mut PgConnection, tenant: &Tenant, api: &RestApi) -> Result<(), StoreError> {
    apis::update(conn, tenant, View::Rest, &api.id, api).await
}

/// Deletes an API and, through cascading keys, everything in it.
pub async fn delete(conn: &mut PgConnection, tenant: &Tenant, id: &str) -> Result<(), StoreError> {
    apis::delete(conn, tenant, View::Rest, id).await
}

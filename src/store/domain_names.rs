//! Custom domain names and their mappings. A domain's name is unique across tenants (workers
//! route by Host); its mappings are one table for v1's base path mappings and v2's API
//! mappings. Every change bumps the live configuration's revision (kind `domains`): workers
//! learn the whole set of domains again, which is small.

use sqlx::PgConnection;
use sqlx::types::Json;

use super::error::decode;
use super::{Page, PageRequest, RowLock, StoreError, Tenant, revision};
use crate::domain::domain_name::{ApiMapping, DomainName, DomainNameAccessAssociation, DomainRoute};

/// The live configuration's kind of change for domains.
pub const CHANGE: &str = "domains";

/// Tells workers the domains changed (in the writer's transaction).
pub async fn changed(conn: &mut PgConnection) -> Result<(), StoreError> {
    revision::bump(conn, CHANGE, "", "").await.map(drop)
}

/// Stores a new domain; [`StoreError::AlreadyExists`] when any tenant has its name.
pub async fn insert(conn: &mut PgConnection, tenant: &Tenant, domain: &DomainName) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO domain_names (name, account_id, region, doc) VALUES ($1, $2, $3, $4)")
        .bind(&domain.domain_name)
        .bind(&tenant.account_id)
        .bind(&tenant.region)
        .bind(Json(domain))
        .execute(&mut *conn)
        .await?;
    changed(conn).await
}

pub async fn get(
    conn: &mut PgConnection,
    tenant: &Tenant,
    name: &str,
    lock: RowLock,
) -> Result<DomainName, StoreError> {
    let (doc,): (serde_json::Value,) = sqlx::query_as(&format!(
        "SELECT doc FROM domain_names WHERE name = $1 AND account_id = $2 AND region = $3{}",
        lock.sql()
    ))
    .bind(name)
    .bind(&tenant.account_id)
    .bind(&tenant.region)
    .fetch_optional(conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    decode(doc)
}

/// A page of the tenant's domains; with `endpoint_type`, of that type alone.
pub async fn list(
    conn: &mut PgConnection,
    tenant: &Tenant,
    endpoint_type: Option<&str>,
    page: PageRequest,
) -> Result<Page<DomainName>, StoreError> {
    let rows: Vec<(i64, serde_json::Value)> = sqlx::query_as(
        "SELECT seq, doc FROM domain_names WHERE account_id = $1 AND region = $2 AND seq > $3
           AND ($5::text IS NULL OR doc->>'endpointType' = $5)
         ORDER BY seq LIMIT $4",
    )
    .bind(&tenant.account_id)
    .bind(&tenant.region)
    .bind(page.after_seq)
    .bind(page.limit + 1)
    .bind(endpoint_type)
    .fetch_all(conn)
    .await?;
    let rows = rows
        .into_iter()
        .map(|(seq, doc)| Ok((seq, decode(doc)?)))
        .collect::<Result<_, StoreError>>()?;
    Ok(Page::from_rows(rows, page.limit))
}

/// Replaces a domain's document (the caller holds its row).
pub async fn update(conn: &mut PgConnection, domain: &DomainName) -> Result<(), StoreError> {
    sqlx::query("UPDATE domain_names SET doc = $2 WHERE name = $1")
        .bind(&domain.domain_name)
        .bind(Json(domain))
        .execute(&mut *conn)
        .await?;
    changed(conn).await
}

/// Deletes a domain, its mappings and its access associations.
pub async fn delete(conn: &mut PgConnection, tenant: &Tenant, name: &str) -> Result<(), StoreError> {
    let name = name.to_ascii_lowercase();
    let name = name.as_str();
    sqlx::query(
        "DELETE FROM domain_access_associations WHERE account_id = $2 AND region = $3 AND domain_arn LIKE '%:/domainnames/' || $1 || '+%'",
    )
    .bind(name)
    .bind(&tenant.account_id)
    .bind(&tenant.region)
    .execute(&mut *conn)
    .await?;
    let done = sqlx::query("DELETE FROM domain_names WHERE name = $1 AND account_id = $2 AND region = $3")
        .bind(name)
        .bind(&tenant.account_id)
        .bind(&tenant.region)
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    changed(conn).await
}

/// Whether some domain names the certificate `arn` (which then cannot be deleted).
pub async fn using_certificate(conn: &mut PgConnection, arn: &str) -> Result<Option<String>, StoreError> {
    let row: Option<(String,)> = sqlx::query_as(
        "SELECT name FROM domain_names WHERE doc->>'regionalCertificateArn' = $1 OR doc->>'certificateArn' = $1 LIMIT 1",
    )
    .bind(arn)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(n,)| n))
}

type MappingRow = (String, String, String, String);

fn mapping((id, key, api_id, stage): MappingRow) -> ApiMapping {
    ApiMapping {
        id,
        key,
        api_id,
        stage,
    }
}

/// Stores a mapping of `domain` (whose row the caller holds); [`StoreError::AlreadyExists`]
/// when the domain maps its key already.
pub async fn insert_mapping(conn: &mut PgConnection, domain: &str, m: &ApiMapping) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO api_mappings (id, domain_name, mapping_key, api_id, stage) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&m.id)
    .bind(domain)
    .bind(&m.key)
    .bind(&m.api_id)
    .bind(&m.stage)
    .execute(&mut *conn)
    .await?;
    changed(conn).await
}

const MAPPING_COLUMNS: &str = "SELECT id, mapping_key, api_id, stage FROM api_mappings";

/// The mapping of `domain` whose key is `key`.
pub async fn mapping_by_key(
    conn: &mut PgConnection,
    domain: &str,
    key: &str,
) -> Result<ApiMapping, StoreError> {
    let row: MappingRow = sqlx::query_as(&format!(
        "{MAPPING_COLUMNS} WHERE domain_name = $1 AND mapping_key = $2"
    ))
    .bind(domain)
    .bind(key)
    .fetch_optional(conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    Ok(mapping(row))
}

/// The mapping `id` of `domain`.
pub async fn mapping_by_id(
    conn: &mut PgConnection,
    domain: &str,
    id: &str,
) -> Result<ApiMapping, StoreError> {
    let row: MappingRow = sqlx::query_as(&format!("{MAPPING_COLUMNS} WHERE domain_name = $1 AND id = $2"))
        .bind(domain)
        .bind(id)
        .fetch_optional(conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok(mapping(row))
}

pub async fn mappings(
    conn: &mut PgConnection,
    domain: &str,
    page: PageRequest,
) -> Result<Page<ApiMapping>, StoreError> {
    let rows: Vec<(i64, String, String, String, String)> = sqlx::query_as(
        "SELECT seq, id, mapping_key, api_id, stage FROM api_mappings WHERE domain_name = $1 AND seq > $2 ORDER BY seq LIMIT $3",
    )
    .bind(domain)
    .bind(page.after_seq)
    .bind(page.limit + 1)
    .fetch_all(conn)
    .await?;
    let rows = rows
        .into_iter()
        .map(|(seq, id, key, api_id, stage)| (seq, mapping((id, key, api_id, stage))))
        .collect();
    Ok(Page::from_rows(rows, page.limit))
}

/// Replaces mapping `m` (by its id); [`StoreError::AlreadyExists`] when its new key is taken.
pub async fn update_mapping(conn: &mut PgConnection, m: &ApiMapping) -> Result<(), StoreError> {
    sqlx::query("UPDATE api_mappings SET mapping_key = $2, api_id = $3, stage = $4 WHERE id = $1")
        .bind(&m.id)
        .bind(&m.key)
        .bind(&m.api_id)
        .bind(&m.stage)
        .execute(&mut *conn)
        .await?;
    changed(conn).await
}

pub async fn delete_mapping(conn: &mut PgConnection, domain: &str, id: &str) -> Result<(), StoreError> {
    let done = sqlx::query("DELETE FROM api_mappings WHERE domain_name = $1 AND id = $2")
        .bind(domain)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    changed(conn).await
}

/// Every domain as workers route to it, with its certificate and truststore when they were
/// imported (`open` unseals private keys).
pub async fn routes(
    conn: &mut PgConnection,
    open: &super::certificates::Sealer,
) -> Result<Vec<DomainRoute>, StoreError> {
    let domains: Vec<(String, String, String, serde_json::Value)> =
        sqlx::query_as("SELECT name, account_id, region, doc FROM domain_names ORDER BY seq")
            .fetch_all(&mut *conn)
            .await?;
    let all: Vec<(String, String, String, String, String)> =
        sqlx::query_as("SELECT domain_name, id, mapping_key, api_id, stage FROM api_mappings ORDER BY seq")
            .fetch_all(&mut *conn)
            .await?;
    let mut routes = Vec::with_capacity(domains.len());
    for (name, account_id, region, doc) in domains {
        let domain: DomainName = decode(doc)?;
        let certificate = match domain.certificate() {
            Some(arn) => super::certificates::certified_key(conn, open, &account_id, arn).await?,
            None => None,
        };
        let truststore = match &domain.mutual_tls_authentication {
            Some(m) => super::certificates::truststore(conn, &account_id, &region, &m.truststore_uri).await?,
            None => None,
        };
        routes.push(DomainRoute {
            domain_name: name.to_ascii_lowercase(),
            mappings: all
                .iter()
                .filter(|(d, ..)| *d == name)
                .map(|(_, id, key, api_id, stage)| {
                    mapping((id.clone(), key.clone(), api_id.clone(), stage.clone()))
                })
                .collect(),
            account_id,
            security_policy: domain.security_policy,
            mutual_tls: domain.mutual_tls_authentication.is_some(),
            certificate,
            truststore,
        });
    }
    Ok(routes)
}

/// The protocol (`REST`, `HTTP`, `WEBSOCKET`) of the tenant's API `api_id`, for a mapping to it.
pub async fn api_protocol(
    conn: &mut PgConnection,
    tenant: &Tenant,
    api_id: &str,
) -> Result<Option<String>, StoreError> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT protocol FROM apis WHERE id = $1 AND account_id = $2 AND region = $3")
            .bind(api_id)
            .bind(&tenant.account_id)
            .bind(&tenant.region)
            .fetch_optional(conn)
            .await?;
    Ok(row.map(|(p,)| p))
}

/// Whether API `api_id` has a stage `stage`.
pub async fn stage_exists(conn: &mut PgConnection, api_id: &str, stage: &str) -> Result<bool, StoreError> {
    let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM stages WHERE api_id = $1 AND name = $2")
        .bind(api_id)
        .bind(stage)
        .fetch_one(conn)
        .await?;
    Ok(n > 0)
}

/// The protocols of the APIs `domain` maps but for mapping `except` (a domain serves REST and
/// HTTP APIs, or WebSocket APIs, never both).
pub async fn mapped_protocols(
    conn: &mut PgConnection,
    domain: &str,
    except: &str,
) -> Result<Vec<String>, StoreError> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT DISTINCT a.protocol FROM api_mappings m JOIN apis a ON a.id = m.api_id WHERE m.domain_name = $1 AND m.id <> $2",
    )
    .bind(domain)
    .bind(except)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|(p,)| p).collect())
}

/// Stores an access association; [`StoreError::AlreadyExists`] when its ARN is taken.
pub async fn insert_association(
    conn: &mut PgConnection,
    tenant: &Tenant,
    a: &DomainNameAccessAssociation,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO domain_access_associations (arn, account_id, region, domain_arn, doc) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&a.domain_name_access_association_arn)
    .bind(&tenant.account_id)
    .bind(&tenant.region)
    .bind(&a.domain_name_arn)
    .bind(Json(a))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn associations(
    conn: &mut PgConnection,
    tenant: &Tenant,
    page: PageRequest,
) -> Result<Page<DomainNameAccessAssociation>, StoreError> {
    let rows: Vec<(i64, serde_json::Value)> = sqlx::query_as(
        "SELECT seq, doc FROM domain_access_associations WHERE account_id = $1 AND region = $2 AND seq > $3 ORDER BY seq LIMIT $4",
    )
    .bind(&tenant.account_id)
    .bind(&tenant.region)
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

/// Deletes the tenant's association `arn`, when it is of `domain_arn` if one is given.
pub async fn delete_association(
    conn: &mut PgConnection,
    tenant: &Tenant,
    arn: &str,
    domain_arn: Option<&str>,
) -> Result<(), StoreError> {
    let done = sqlx::query(
        "DELETE FROM domain_access_associations WHERE arn = $1 AND account_id = $2 AND region = $3 AND ($4::text IS NULL OR domain_arn = $4)",
    )
    .bind(arn)
    .bind(&tenant.account_id)
    .bind(&tenant.region)
    .bind(domain_arn)
    .execute(conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Whether another account has a domain that overlaps `name` through a wildcard: `*.{parent}`
/// for a name under it, or a name under `name` when it is a wildcard.
pub async fn overlaps_another_account(
    conn: &mut PgConnection,
    tenant: &Tenant,
    name: &str,
) -> Result<bool, StoreError> {
    let Some((first, parent)) = name.split_once('.') else {
        return Ok(false);
    };
    let found: Vec<(String,)> = if first == "*" {
        sqlx::query_as("SELECT name FROM domain_names WHERE account_id <> $1 AND right(name, length($2) + 1) = '.' || $2")
            .bind(&tenant.account_id)
            .bind(parent)
            .fetch_all(conn)
            .await?
    } else {
        sqlx::query_as("SELECT name FROM domain_names WHERE account_id <> $1 AND name = '*.' || $2")
            .bind(&tenant.account_id)
            .bind(parent)
            .fetch_all(conn)
            .await?
    };
    // A wildcard covers one label.
    Ok(found.iter().any(|(n,)| {
        first != "*"
            || n.strip_suffix(parent)
                .is_some_and(|head| head.matches('.').count() == 1)
    }))
}

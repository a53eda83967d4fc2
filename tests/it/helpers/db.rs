//! The database every test (and bench) gets: a fresh one, cloned from a template with every
//! migration applied, on the PostgreSQL server of `DATABASE_URL`, or on an embedded cluster
//! under `target/tmp` when it is unset. Shared by the integration tests and the benches
//! (`#[path]`), so both set up Postgres the same way.

use gatehouse::store::embedded::EmbeddedPostgres;
use gatehouse::store::{MIGRATOR, Store};
use sqlx::{Connection, PgConnection};
use tokio::sync::OnceCell;

/// The server's admin URL (database `postgres`): `DATABASE_URL`'s server, or the embedded one.
pub async fn admin_url() -> &'static str {
    static URL: OnceCell<String> = OnceCell::const_new();
    URL.get_or_init(|| async {
        match std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty()) {
            Some(url) => with_database(&url, "postgres"),
            None => {
                let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("embedded-pg");
                let pg = EmbeddedPostgres::start(&dir, true)
                    .await
                    .expect("embedded PostgreSQL starts");
                let url = pg.url("postgres");
                // Left running for the next test run; `pg_ctl stop -D target/tmp/embedded-pg/pg` ends it.
                std::mem::forget(pg);
                url
            }
        }
    })
    .await
}

/// `url` with its database replaced by `db`.
pub fn with_database(url: &str, db: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{db}?{q}"),
        None => format!("{base}/{db}"),
    }
}

/// A template database with every migration applied, made once per migration set and reused.
async fn template() -> &'static str {
    static NAME: OnceCell<String> = OnceCell::const_new();
    NAME.get_or_init(|| async {
        let admin = admin_url().await;
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        for m in MIGRATOR.iter() {
            std::hash::Hash::hash(&m.checksum, &mut hasher);
        }
        let name = format!("gh_tpl_{:016x}", std::hash::Hasher::finish(&hasher));
        let mut conn = PgConnection::connect(admin).await.expect("connect to PostgreSQL");
        // One process at a time creates templates.
        sqlx::query("SELECT pg_advisory_lock(815)")
            .execute(&mut conn)
            .await
            .unwrap();
        let exists: Option<(i32,)> = sqlx::query_as("SELECT 1 FROM pg_database WHERE datname = $1")
            .bind(&name)
            .fetch_optional(&mut conn)
            .await
            .unwrap();
        if exists.is_none() {
            let building = format!("{name}_building");
            sqlx::query(&format!("DROP DATABASE IF EXISTS \"{building}\" WITH (FORCE)"))
                .execute(&mut conn)
                .await
                .unwrap();
            sqlx::query(&format!("CREATE DATABASE \"{building}\""))
                .execute(&mut conn)
                .await
                .unwrap();
            let store = Store::connect(&with_database(admin, &building), 2).await.unwrap();
            store.migrate().await.expect("migrations apply");
            store.pool().close().await;
            sqlx::query(&format!("ALTER DATABASE \"{building}\" RENAME TO \"{name}\""))
                .execute(&mut conn)
                .await
                .unwrap();
        }
        sqlx::query("SELECT pg_advisory_unlock(815)")
            .execute(&mut conn)
            .await
            .unwrap();
        name
    })
    .await
}

/// Drops the databases named `{prefix}_*` that earlier runs left (those of other processes), once
/// per process. Tests and benches use prefixes of their own, so that a run of one never drops
/// the databases of the other running meanwhile.
async fn sweep(admin: &str, prefix: &str) {
    static SWEPT: OnceCell<()> = OnceCell::const_new();
    SWEPT
        .get_or_init(|| async {
            let mut conn = PgConnection::connect(admin).await.expect("connect to PostgreSQL");
            let stale: Vec<(String,)> = sqlx::query_as(
                "SELECT datname FROM pg_database WHERE datname LIKE $1 AND datname NOT LIKE $2",
            )
            .bind(format!("{prefix}_%"))
            .bind(format!("{prefix}_{}_%", std::process::id()))
            .fetch_all(&mut conn)
            .await
            .unwrap();
            for (db,) in stale {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"))
                    .execute(&mut conn)
                    .await;
            }
        })
        .await;
}

/// A new database named `{prefix}_{pid}_{n}`, cloned from the migrated template: its name and
/// URL.
pub async fn fresh_database(prefix: &str) -> (String, String) {
    let admin = admin_url().await;
    let template = template().await;
    sweep(admin, prefix).await;
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let db = format!(
        "{prefix}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let mut conn = PgConnection::connect(admin).await.unwrap();
    // Cloning a template needs it idle; concurrent clones of one template can collide, so retry.
    let mut attempt = 0;
    loop {
        match sqlx::query(&format!("CREATE DATABASE \"{db}\" TEMPLATE \"{template}\""))
            .execute(&mut conn)
            .await
        {
            Ok(_) => break,
            Err(e) if attempt < 50 => {
                attempt += 1;
                tracing::debug!(error = %e, "template busy; retrying");
                tokio::time::sleep(std::time::Duration::from_millis(20 * attempt)).await;
            }
            Err(e) => panic!("creating test database: {e}"),
        }
    }
    let url = with_database(admin, &db);
    (db, url)
}

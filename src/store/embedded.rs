//! A private Postgres cluster for `serve` and tests when no `DATABASE_URL` is given.
//!
//! It lives under `{data_dir}/pg`, listens on a Unix socket only (`{data_dir}/run`), logs to
//! `{data_dir}/log/postgres.log`, and is driven
//! with the server's own tools (`initdb`, `pg_ctl`) found on `PATH` or under
//! `/usr/lib/postgresql/*/bin`. Postgres refuses to run as root, so as root the tools run as the
//! `postgres` system user. A second start on a running data dir is refused by `pg_ctl`, and said so.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use tokio::process::Command;

#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error(
        "no PostgreSQL server binaries (initdb, pg_ctl) found on PATH or under /usr/lib/postgresql/*/bin: \
         install PostgreSQL (e.g. `apt-get install postgresql`) or set DATABASE_URL to an existing server"
    )]
    NoBinaries,
    #[error(
        "running as root and there is no `postgres` system user to run PostgreSQL as: create one or set DATABASE_URL"
    )]
    NoUnprivilegedUser,
    #[error("{step} failed: {output}")]
    Command { step: &'static str, output: String },
    #[error(
        "the data directory {0} is already in use by a running Gatehouse (or PostgreSQL): stop it first or pick another --data-dir"
    )]
    InUse(PathBuf),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// A running embedded cluster; `stop` shuts it down cleanly.
pub struct EmbeddedPostgres {
    bin: PathBuf,
    pg_dir: PathBuf,
    socket_dir: PathBuf,
    run_as: Option<(u32, u32)>,
    /// Whether this process started the server (and so stops it), or adopted a running one.
    owned: bool,
}

impl EmbeddedPostgres {
    /// Initialises the cluster if needed and starts it. With `reuse_running`, a cluster already
    /// running on this data dir is adopted instead of refused (tests share one cluster).
    pub async fn start(data_dir: &Path, reuse_running: bool) -> Result<Self, EmbeddedError> {
        let bin = find_binaries().ok_or(EmbeddedError::NoBinaries)?;
        let run_as = if is_root() {
            Some(postgres_user().ok_or(EmbeddedError::NoUnprivilegedUser)?)
        } else {
            None
        };
        std::fs::create_dir_all(data_dir)?;
        let data_dir = std::fs::canonicalize(data_dir)?;
        let mut pg = Self {
            bin,
            pg_dir: data_dir.join("pg"),
            socket_dir: data_dir.join("run"),
            run_as,
            owned: false,
        };
        let log_dir = data_dir.join("log");
        for dir in [&pg.pg_dir, &pg.socket_dir, &log_dir] {
            std::fs::create_dir_all(dir)?;
            pg.hand_over(dir).await?;
        }
        if run_as.is_some() {
            // The unprivileged user must be able to reach the directories below the data dir.
            pg.allow_traversal(&data_dir)?;
        }
        if !pg.pg_dir.join("PG_VERSION").exists() {
            pg.run(
                "initdb",
                &[
                    "-D",
                    path_str(&pg.pg_dir),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--no-instructions",
                ],
            )
            .await?;
        }
        if pg.is_running().await {
            if reuse_running {
                return Ok(pg);
            }
            return Err(EmbeddedError::InUse(data_dir));
        }
        let options = format!(
            "-c listen_addresses='' -k {} -c max_connections=200",
            path_str(&pg.socket_dir)
        );
        let log = log_dir.join("postgres.log");
        let started = pg
            .run(
                "pg_ctl start",
                &[
                    "start",
                    "-w",
                    "-t",
                    "60",
                    "-D",
                    path_str(&pg.pg_dir),
                    "-l",
                    path_str(&log),
                    "-o",
                    &options,
                ],
            )
            .await;
        if let Err(e) = started {
            if pg.is_running().await {
                return if reuse_running {
                    Ok(pg)
                } else {
                    Err(EmbeddedError::InUse(data_dir))
                };
            }
            return Err(e);
        }
        pg.owned = true;
        Ok(pg)
    }

    /// The connection URL (Unix socket, trust auth) of database `db`.
    pub fn url(&self, db: &str) -> String {
        let socket = utf8_percent(path_str(&self.socket_dir));
        format!("postgres://postgres@localhost/{db}?host={socket}")
    }

    /// Stops the server if this process started it; an adopted one is left to its owner.
    pub async fn stop(self) -> Result<(), EmbeddedError> {
        if !self.owned {
            return Ok(());
        }
        self.run(
            "pg_ctl stop",
            &["stop", "-m", "fast", "-w", "-D", path_str(&self.pg_dir)],
        )
        .await
        .map(|_| ())
    }

    async fn is_running(&self) -> bool {
        self.run("pg_ctl status", &["status", "-D", path_str(&self.pg_dir)])
            .await
            .is_ok()
    }

    async fn run(&self, step: &'static str, args: &[&str]) -> Result<String, EmbeddedError> {
        let program = if step == "initdb" { "initdb" } else { "pg_ctl" };
        let mut cmd = Command::new(self.bin.join(program));
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // `pg_ctl start` forks the server; its output goes to the log file, not to our pipes.
        if let Some((uid, gid)) = self.run_as {
            cmd.uid(uid).gid(gid);
        }
        cmd.current_dir(&self.socket_dir);
        let out = cmd.output().await?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if out.status.success() {
            Ok(text)
        } else {
            Err(EmbeddedError::Command {
                step,
                output: text.trim().to_owned(),
            })
        }
    }

    async fn hand_over(&self, dir: &Path) -> Result<(), EmbeddedError> {
        if let Some((uid, gid)) = self.run_as {
            std::os::unix::fs::chown(dir, Some(uid), Some(gid))?;
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
        Ok(())
    }

    fn allow_traversal(&self, dir: &Path) -> Result<(), EmbeddedError> {
        use std::os::unix::fs::PermissionsExt;
        let mut cur = Some(dir);
        while let Some(d) = cur {
            let meta = std::fs::metadata(d)?;
            let mode = meta.permissions().mode();
            if mode & 0o001 == 0 {
                std::fs::set_permissions(d, std::fs::Permissions::from_mode(mode | 0o001))?;
            }
            cur = d.parent();
        }
        Ok(())
    }
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap_or_default()
}

fn utf8_percent(raw: &str) -> String {
    percent_encoding::utf8_percent_encode(raw, percent_encoding::NON_ALPHANUMERIC).to_string()
}

fn is_root() -> bool {
    // The effective uid is what Postgres checks; /proc/self/status has it without libc.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

/// The uid and gid of the `postgres` system user, from /etc/passwd.
fn postgres_user() -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let f: Vec<&str> = line.split(':').collect();
        (f.first() == Some(&"postgres") && f.len() > 3)
            .then(|| Some((f[2].parse().ok()?, f[3].parse().ok()?)))?
    })
}

/// The directory holding `initdb` and `pg_ctl`: `PATH` first, then the newest Debian layout.
fn find_binaries() -> Option<PathBuf> {
    let has_tools = |d: &Path| d.join("initdb").is_file() && d.join("pg_ctl").is_file();
    if let Some(path) = std::env::var_os("PATH")
        && let Some(d) = std::env::split_paths(&path).find(|d| has_tools(d))
    {
        return Some(d);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| {
            let e = e.ok()?;
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            has_tools(&bin).then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

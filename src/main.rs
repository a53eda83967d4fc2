//! The `gatehouse` command: a thin CLI over the library's roles.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use gatehouse::config::{Config, parse_account_id};
use gatehouse::domain::ids;
use gatehouse::server::{self, Database};
use gatehouse::store::credentials;

/// mimalloc: the data plane allocates a little per request on every core; glibc's malloc was
/// ~8% of a proxied request's CPU in `perf`, mimalloc about half of that.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "gatehouse", version, about = "A self-hostable Amazon API Gateway")]
struct Cli {
    /// PostgreSQL URL; without it `serve` runs an embedded cluster under --data-dir.
    #[arg(long, global = true, env = "DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// Where Gatehouse keeps local state (the embedded cluster lives in DATA_DIR/pg).
    #[arg(long, global = true, env = "GATEHOUSE_DATA_DIR")]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// All in one: the control plane and one embedded worker.
    Serve {
        /// Management API address.
        #[arg(long, env = "GATEHOUSE_MANAGEMENT_ADDR")]
        listen: Option<SocketAddr>,
        /// Data-plane address of the embedded worker.
        #[arg(long, env = "GATEHOUSE_DATA_PLANE_ADDR")]
        data_plane: Option<SocketAddr>,
        /// Where the embedded worker serves custom domains over HTTPS, each with its imported
        /// certificate, chosen by SNI (GATEHOUSE_DATA_PLANE_TLS_ADDR; default: nowhere).
        #[arg(long)]
        listen_tls: Option<SocketAddr>,
        /// Where the embedded worker serves its Prometheus metrics (default 127.0.0.1:9102;
        /// GATEHOUSE_METRICS_ADDR=off for nowhere). Kept off the data-plane port, which anyone
        /// calling an API can reach.
        #[arg(long)]
        metrics_listen: Option<SocketAddr>,
        /// Base URL of the Lambda Invoke API for Lambda integrations (default: AWS's).
        #[arg(long, env = "GATEHOUSE_LAMBDA_ENDPOINT")]
        lambda_endpoint: Option<String>,
        /// SERVICE=URL: where AWS service integrations call a service (repeatable; default:
        /// AWS's regional endpoint), e.g. `--aws-endpoint sqs=http://localhost:4566`; or ARN=URL:
        /// where a private integration's load balancer listener (or Cloud Map service) is, or a
        /// REST API's VPC link's Network Load Balancer.
        #[arg(long = "aws-endpoint", value_parser = parse_aws_endpoint)]
        aws_endpoints: Vec<(String, String)>,
        /// Where rate limits are kept: `local` (each worker its share, the default) or a Redis
        /// URL (`redis://127.0.0.1:6379`) for limits exact across the fleet.
        #[arg(long, env = "GATEHOUSE_RATE_LIMIT_BACKEND")]
        rate_limit_backend: Option<String>,
    },
    /// The control plane alone (management API + configuration for workers), on an existing
    /// PostgreSQL (DATABASE_URL). Run as many replicas as you like.
    ControlPlane {
        #[arg(long, env = "GATEHOUSE_MANAGEMENT_ADDR")]
        listen: Option<SocketAddr>,
        /// The token workers present (default: generated into DATA_DIR/cluster-token).
        #[arg(long, env = "GATEHOUSE_CLUSTER_TOKEN", hide_env_values = true)]
        cluster_token: Option<String>,
    },
    /// A stateless data-plane worker fed by a control plane.
    Worker {
        /// The control plane's base URL, e.g. http://127.0.0.1:9000.
        #[arg(long, env = "GATEHOUSE_CONTROL_PLANE")]
        control_plane: String,
        /// Data-plane address.
        #[arg(long, env = "GATEHOUSE_DATA_PLANE_ADDR")]
        listen: Option<SocketAddr>,
        /// Where custom domains are served over HTTPS, each with its imported certificate,
        /// chosen by SNI (GATEHOUSE_DATA_PLANE_TLS_ADDR; default: nowhere).
        #[arg(long)]
        listen_tls: Option<SocketAddr>,
        /// Where the worker serves its Prometheus metrics (default 127.0.0.1:9102;
        /// GATEHOUSE_METRICS_ADDR=off for nowhere).
        #[arg(long)]
        metrics_listen: Option<SocketAddr>,
        /// Keep the last configuration here and start from it when the control plane is down.
        #[arg(long, env = "GATEHOUSE_CONFIG_CACHE")]
        config_cache: Option<PathBuf>,
        #[arg(long, env = "GATEHOUSE_CLUSTER_TOKEN", hide_env_values = true)]
        cluster_token: Option<String>,
        #[arg(long, env = "GATEHOUSE_LAMBDA_ENDPOINT")]
        lambda_endpoint: Option<String>,
        /// SERVICE=URL: where AWS service integrations call a service; ARN=URL: where a private
        /// integration's target is (repeatable).
        #[arg(long = "aws-endpoint", value_parser = parse_aws_endpoint)]
        aws_endpoints: Vec<(String, String)>,
        /// This worker's name in the fleet view (default: generated).
        #[arg(long)]
        worker_id: Option<String>,
        /// Where rate limits are kept: `local` (each worker its share, the default) or a Redis
        /// URL (`redis://127.0.0.1:6379`) for limits exact across the fleet.
        #[arg(long, env = "GATEHOUSE_RATE_LIMIT_BACKEND")]
        rate_limit_backend: Option<String>,
    },
    /// Prints the fleet of workers a control plane knows.
    Fleet {
        #[arg(long, env = "GATEHOUSE_CONTROL_PLANE")]
        control_plane: Option<String>,
        #[arg(long, env = "GATEHOUSE_CLUSTER_TOKEN", hide_env_values = true)]
        cluster_token: Option<String>,
    },
    /// Applies the migrations and exits.
    Migrate,
    /// Prints the management API's OpenAPI document.
    Openapi,
    /// Manages the access keys that sign management calls.
    Credentials {
        #[command(subcommand)]
        action: CredentialsAction,
    },
    /// Manages the certificates custom domains present (Gatehouse's stand-in for ACM), and the
    /// truststores of mutual TLS.
    Certificates {
        #[command(subcommand)]
        action: CertificatesAction,
    },
}

#[derive(Subcommand)]
enum CertificatesAction {
    /// Imports a certificate and its private key (PEM) for an account's domains and prints
    /// its ARN, which CreateDomainName's (regional)CertificateArn names. The key is kept sealed
    /// under the certificate key (GATEHOUSE_CERTIFICATE_KEY, else DATA_DIR/certificate-key).
    Import {
        #[arg(long)]
        account_id: String,
        #[arg(long, default_value = "us-east-1")]
        region: String,
        /// The ARN to import it under (a certificate imported again under its ARN replaces
        /// it); default: a new ACM ARN.
        #[arg(long)]
        arn: Option<String>,
        /// The certificate, PEM.
        #[arg(long)]
        cert: PathBuf,
        /// Its private key, PEM.
        #[arg(long)]
        key: PathBuf,
        /// The intermediate certificates, PEM.
        #[arg(long)]
        chain: Option<PathBuf>,
    },
    /// Imports the CA bundle (PEM) a domain's mutualTlsAuthentication.truststoreUri names.
    ImportTruststore {
        #[arg(long)]
        account_id: String,
        #[arg(long, default_value = "us-east-1")]
        region: String,
        /// The URI domains name it by (`s3://bucket/key`).
        #[arg(long)]
        uri: String,
        #[arg(long)]
        pem: PathBuf,
    },
    /// Lists the imported certificates: ARN, account, region, names, expiry.
    List,
    /// Seals every private key (imported certificates', client certificates') again under a
    /// new certificate key, in one transaction; then give every control plane the new key
    /// (the key file in DATA_DIR, when the current key came from it, is rewritten).
    RotateKey {
        /// The new key: 64 hex digits or the base64 of 32 bytes.
        #[arg(long, env = "GATEHOUSE_NEW_CERTIFICATE_KEY", hide_env_values = true)]
        new_key: String,
    },
    /// Deletes an imported certificate no domain presents.
    Delete { arn: String },
}

#[derive(Subcommand)]
enum CredentialsAction {
    /// Creates an access key for an account and prints it (the secret is shown only here).
    Create {
        #[arg(long)]
        account_id: String,
        /// Use this key id instead of a generated one.
        #[arg(long)]
        access_key_id: Option<String>,
        /// Use this secret instead of a generated one.
        #[arg(long, env = "GATEHOUSE_NEW_SECRET_ACCESS_KEY", hide_env_values = true)]
        secret_access_key: Option<String>,
        /// Makes the key a caller of deployed APIs' AWS_IAM methods, standing for this principal:
        /// `arn:aws:iam::{account}:user/{name}`, `...:role/{name}`, or a role session
        /// `arn:aws:sts::{account}:assumed-role/{role}/{session}`.
        #[arg(long)]
        principal: Option<String>,
        /// An identity policy (JSON file) attached to the caller; repeatable.
        #[arg(long = "policy-file", requires = "principal")]
        policy_files: Vec<PathBuf>,
        /// The session token of a temporary credential (callers must send it).
        #[arg(
            long,
            env = "GATEHOUSE_NEW_SESSION_TOKEN",
            requires = "principal",
            hide_env_values = true
        )]
        session_token: Option<String>,
    },
    /// Lists access key ids and their accounts (never secrets).
    List,
    /// Deletes an access key.
    Delete { access_key_id: String },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,tower_http=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let mut config = Config::from_process_env()?;
    if let Some(url) = cli.database_url {
        config.database_url = Some(url);
    }
    if let Some(dir) = cli.data_dir {
        config.data_dir = dir;
    }
    match cli.command {
        Command::Serve {
            listen,
            data_plane,
            listen_tls,
            metrics_listen,
            lambda_endpoint,
            aws_endpoints,
            rate_limit_backend,
        } => {
            config.data_plane_tls_addr = listen_tls.or(config.data_plane_tls_addr);
            config.set_rate_limit_backend(rate_limit_backend)?;
            config.set_metrics_addr(metrics_listen);
            config.management_addr = listen.unwrap_or(config.management_addr);
            config.data_plane_addr = data_plane.unwrap_or(config.data_plane_addr);
            config.aws_endpoints.extend(aws_endpoints);
            if let Some(url) = lambda_endpoint {
                config.aws_endpoints.insert("lambda".into(), url);
            }
            server::run_control_plane(config, true).await
        }
        Command::ControlPlane {
            listen,
            cluster_token,
        } => {
            config.management_addr = listen.unwrap_or(config.management_addr);
            config.cluster_token = cluster_token.or(config.cluster_token);
            server::run_control_plane(config, false).await
        }
        Command::Worker {
            control_plane,
            listen,
            listen_tls,
            metrics_listen,
            config_cache,
            cluster_token,
            lambda_endpoint,
            aws_endpoints,
            worker_id,
            rate_limit_backend,
        } => {
            config.set_rate_limit_backend(rate_limit_backend)?;
            config.set_metrics_addr(metrics_listen);
            config.control_plane_url = Some(control_plane);
            config.data_plane_tls_addr = listen_tls.or(config.data_plane_tls_addr);
            config.data_plane_addr = listen.unwrap_or(config.data_plane_addr);
            config.config_cache = config_cache.or(config.config_cache);
            config.cluster_token = cluster_token.or(config.cluster_token);
            config.aws_endpoints.extend(aws_endpoints);
            if let Some(url) = lambda_endpoint {
                config.aws_endpoints.insert("lambda".into(), url);
            }
            server::run_worker(config, worker_id).await
        }
        Command::Fleet {
            control_plane,
            cluster_token,
        } => {
            config.control_plane_url = control_plane.or(config.control_plane_url);
            config.cluster_token = cluster_token.or(config.cluster_token);
            server::print_fleet(&config).await
        }
        Command::Migrate => {
            let db = Database::open(&config, true, true).await?;
            println!("migrations applied");
            db.close().await
        }
        Command::Credentials { action } => credentials_command(config, action).await,
        Command::Certificates { action } => certificates_command(config, action).await,
        Command::Openapi => {
            println!("{}", gatehouse::management::openapi().to_pretty_json()?);
            Ok(())
        }
    }
}

async fn credentials_command(config: Config, action: CredentialsAction) -> anyhow::Result<()> {
    // A running `serve` owns the embedded cluster; adopt it rather than refuse.
    let db = Database::open(&config, true, true).await?;
    let mut conn = db.store.pool().acquire().await?;
    match action {
        CredentialsAction::Create {
            account_id,
            access_key_id,
            secret_access_key,
            principal,
            policy_files,
            session_token,
        } => {
            let account_id = parse_account_id(&account_id)?;
            let c = credentials::Credential {
                access_key_id: access_key_id.unwrap_or_else(ids::access_key_id),
                secret_access_key: secret_access_key.unwrap_or_else(ids::secret_access_key),
                account_id,
            };
            let created = match principal {
                None => credentials::create_if_absent(&mut conn, &c).await?,
                Some(principal_arn) => {
                    anyhow::ensure!(
                        gatehouse::domain::caller::is_principal_of(&principal_arn, &c.account_id),
                        "{principal_arn} is not a user, role or role session of account {}",
                        c.account_id
                    );
                    let mut policies = Vec::new();
                    for file in policy_files {
                        let text = std::fs::read_to_string(&file)
                            .with_context(|| format!("reading {}", file.display()))?;
                        gatehouse::iam::Policy::parse(&text).with_context(|| {
                            format!("{} is not a policy Gatehouse evaluates", file.display())
                        })?;
                        policies.push(text);
                    }
                    let caller = gatehouse::domain::caller::CallerConfig {
                        access_key_id: c.access_key_id.clone(),
                        secret_access_key: c.secret_access_key.clone(),
                        account_id: c.account_id.clone(),
                        principal_arn,
                        session_token,
                        policies,
                    };
                    credentials::create_caller(&mut conn, &caller).await?
                }
            };
            anyhow::ensure!(created, "access key id {} already exists", c.access_key_id);
            println!(
                "access_key_id     {}\nsecret_access_key {}\naccount_id        {}",
                c.access_key_id, c.secret_access_key, c.account_id
            );
        }
        CredentialsAction::List => {
            for (key, account) in credentials::list(&mut conn).await? {
                println!("{key}\t{account}");
            }
        }
        CredentialsAction::Delete { access_key_id } => {
            credentials::delete(&mut conn, &access_key_id)
                .await
                .with_context(|| format!("no access key {access_key_id}"))?;
            println!("deleted {access_key_id}");
        }
    }
    drop(conn);
    // Leave an adopted cluster running for its owner; stop one this command started.
    db.close().await
}

async fn certificates_command(config: Config, action: CertificatesAction) -> anyhow::Result<()> {
    use gatehouse::store::{Tenant, certificates};
    let read = |p: &PathBuf| std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()));
    let db = Database::open(&config, true, true).await?;
    let mut conn = db.store.pool().acquire().await?;
    match action {
        CertificatesAction::Import {
            account_id,
            region,
            arn,
            cert,
            key,
            chain,
        } => {
            let tenant = Tenant {
                account_id: parse_account_id(&account_id)?,
                region,
            };
            let mut pem = read(&cert)?;
            if let Some(chain) = &chain {
                pem.push('\n');
                pem.push_str(&read(chain)?);
            }
            let sealer = server::certificate_sealer(&config, true)?;
            let imported =
                server::import_certificate(&mut conn, &sealer, &tenant, arn, &pem, &read(&key)?).await?;
            println!("{}", imported.arn);
            eprintln!(
                "covers {}; valid until {}",
                imported.domain_names.join(", "),
                imported.not_after
            );
        }
        CertificatesAction::ImportTruststore {
            account_id,
            region,
            uri,
            pem,
        } => {
            let tenant = Tenant {
                account_id: parse_account_id(&account_id)?,
                region,
            };
            anyhow::ensure!(
                uri.starts_with("s3://"),
                "the truststore URI must be an s3:// URI, as domains name it"
            );
            let pem = read(&pem)?;
            let cas = gatehouse::tls::parse_chain(&pem).map_err(anyhow::Error::msg)?;
            certificates::import_truststore(&mut conn, &tenant, &uri, &pem).await?;
            println!("imported {} certificates under {uri}", cas.len());
        }
        CertificatesAction::RotateKey { new_key } => {
            let old = server::certificate_sealer(&config, false)?;
            let new = certificates::Sealer::parse(&new_key).map_err(anyhow::Error::msg)?;
            // A key file is replaced only once the keys are sealed under the new key; it is
            // written first, so that a failure to write it leaves the keys as they were.
            let key_file = config.certificate_key.is_none().then(|| {
                (
                    config.data_dir.join("certificate-key"),
                    config.data_dir.join("certificate-key.new"),
                )
            });
            if let Some((_, tmp)) = &key_file {
                let _ = std::fs::remove_file(tmp);
                server::write_new_secret(tmp, new_key.trim())?;
            }
            let mut tx = sqlx::Acquire::begin(&mut *conn).await?;
            let (certs, clients) = certificates::reseal_all(&mut tx, &old, &new).await?;
            tx.commit().await?;
            if let Some((path, tmp)) = &key_file {
                std::fs::rename(tmp, path)?;
                println!("{} holds the new key", path.display());
            } else {
                println!(
                    "set GATEHOUSE_CERTIFICATE_KEY to the new key on every control plane and restart them"
                );
            }
            println!("sealed again: {certs} certificate keys, {clients} client certificate keys");
        }
        CertificatesAction::List => {
            for (account, region, c) in certificates::list(&mut conn).await? {
                println!(
                    "{}\t{account}\t{region}\t{}\t{}",
                    c.arn,
                    c.domain_names.join(","),
                    c.not_after
                );
            }
        }
        CertificatesAction::Delete { arn } => {
            let used = certificates::delete(&mut conn, &arn)
                .await
                .with_context(|| format!("no certificate {arn}"))?;
            if let Some(domain) = used {
                anyhow::bail!(
                    "domain {domain} presents {arn}: delete the domain or give it another certificate first"
                );
            }
            println!("deleted {arn}");
        }
    }
    drop(conn);
    db.close().await
}

fn parse_aws_endpoint(raw: &str) -> Result<(String, String), String> {
    gatehouse::dataplane::settings::parse_endpoint(raw)
}

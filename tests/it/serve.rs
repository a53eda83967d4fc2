//! `gatehouse serve` as a user runs it: one command, an embedded PostgreSQL, data that survives a
//! restart, and a clear refusal to share a data directory.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::helpers::*;

/// Starts `gatehouse serve` on ephemeral ports; returns it with its management and data-plane URLs.
async fn serve(data_dir: &std::path::Path) -> (Child, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--data-plane",
            "127.0.0.1:0",
            "--data-dir",
        ])
        .arg(data_dir)
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let urls = tokio::time::timeout(Duration::from_secs(60), async {
        let mut management = None;
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(rest) = line.strip_prefix("Gatehouse management API on ") {
                management = Some(rest.split_whitespace().next().unwrap().to_owned());
            }
            if let Some(rest) = line.strip_prefix("Gatehouse data plane on ") {
                return (
                    management.unwrap(),
                    rest.split_whitespace().next().unwrap().to_owned(),
                );
            }
        }
        panic!("serve exited before listening");
    })
    .await
    .expect("serve starts within 60 s");
    // Keep reading so the child never writes to a closed pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, urls.0, urls.1)
}

fn client(url: &str) -> aws_sdk_apigateway::Client {
    use aws_sdk_apigateway::config::{BehaviorVersion, Credentials, Region};
    aws_sdk_apigateway::Client::from_conf(
        aws_sdk_apigateway::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(REGION))
            .credentials_provider(Credentials::new("test", "test", None, None, "serve-test"))
            .endpoint_url(url)
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .build(),
    )
}

async fn stop(mut child: Child) {
    let pid = child.id().unwrap().to_string();
    // SIGTERM: serve shuts down gracefully and stops its PostgreSQL.
    Command::new("kill").args(["-TERM", &pid]).status().await.unwrap();
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "serve exits cleanly: {status}");
}

#[tokio::test]
async fn serve_keeps_its_data_across_restarts_and_guards_its_data_dir() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("serve-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);

    let (first, url, data_plane) = serve(&dir).await;
    let c = client(&url);
    let (id, root) = create_api(&c, "survivor").await;
    put_mock_method(&c, &id, &root, "GET").await;
    c.put_integration_response()
        .rest_api_id(&id)
        .resource_id(&root)
        .http_method("GET")
        .status_code("200")
        .response_templates("application/json", "hello from serve")
        .send()
        .await
        .unwrap();
    c.create_deployment()
        .rest_api_id(&id)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    // The embedded worker serves it on the data-plane port.
    let invoke = format!("{data_plane}/restapis/{id}/dev/_user_request_/");
    assert!(
        eventually(Duration::from_secs(5), || async {
            let res = reqwest::get(&invoke).await.unwrap();
            res.status() == 200 && res.text().await.unwrap() == "hello from serve"
        })
        .await
    );

    // A second serve on the same data dir refuses, saying why.
    let second = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--data-plane",
            "127.0.0.1:0",
            "--data-dir",
        ])
        .arg(&dir)
        .env_remove("DATABASE_URL")
        .output()
        .await
        .unwrap();
    assert!(!second.status.success());
    assert!(
        String::from_utf8_lossy(&second.stderr).contains("already in use"),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );

    // `gatehouse fleet` finds the token in the data dir and lists the embedded worker.
    let fleet = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(["fleet", "--control-plane", &url, "--data-dir"])
        .arg(&dir)
        .env_remove("GATEHOUSE_CLUSTER_TOKEN")
        .output()
        .await
        .unwrap();
    let listing = String::from_utf8_lossy(&fleet.stdout);
    assert!(
        fleet.status.success(),
        "{}",
        String::from_utf8_lossy(&fleet.stderr)
    );
    assert!(
        listing
            .lines()
            .any(|l| l.starts_with("embedded") && l.contains(" ok")),
        "{listing}"
    );

    stop(first).await;
    let (again, url, _) = serve(&dir).await;
    let api = client(&url).get_rest_api().rest_api_id(&id).send().await.unwrap();
    assert_eq!(api.name(), Some("survivor"));
    stop(again).await;
    let _ = std::fs::remove_dir_all(&dir);
}

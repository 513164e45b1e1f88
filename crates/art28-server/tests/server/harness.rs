//! Starting and stopping a server in-process on a free port.

use art28_server::config::Config;
use art28_service::clock::ManualClock;
use std::path::Path;
use std::sync::Arc;
use tokio::sync::oneshot;

pub struct TestServer {
    pub clock: Arc<ManualClock>,
    pub base: String,
    pub token: String,
    pub client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<art28_core::Result<()>>>,
}

pub fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new("2026-11-22T10:00:00Z".parse().expect("time")))
}

pub async fn start(dir: &Path, demo: bool) -> TestServer {
    try_start(dir, demo).await.expect("server starts")
}

pub async fn try_start(dir: &Path, demo: bool) -> art28_core::Result<TestServer> {
    try_start_with(dir, demo, None).await
}

/// A server that sends breach notices through the SMTP relay at `relay` (`host:port`).
pub async fn start_mailing(dir: &Path, relay: &str) -> TestServer {
    try_start_with(dir, true, Some(relay.to_string()))
        .await
        .expect("server starts")
}

async fn try_start_with(dir: &Path, demo: bool, smtp_relay: Option<String>) -> art28_core::Result<TestServer> {
    try_start_configured(dir, |c| {
        c.demo = demo;
        c.smtp_relay = smtp_relay;
    })
    .await
}

/// A server with the demo loaded and the tests' settings, changed by `adjust` (the SMTP
/// relay, its login and CA).
pub async fn try_start_configured(dir: &Path, adjust: impl FnOnce(&mut Config)) -> art28_core::Result<TestServer> {
    let mut config = Config {
        data_dir: dir.to_path_buf(),
        listen: "127.0.0.1:0".parse().expect("addr"),
        demo: true,
        max_body_bytes: 64 * 1024,
        mail_from: "Noordlicht meldpunt <meldpunt@noordlicht.example>".into(),
        ..Config::default()
    };
    adjust(&mut config);
    let clock = clock();
    let bound = art28_server::bind(&config, clock.clone()).await?;
    let addr = bound.local_addr()?;
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(bound.run(async {
        let _ = rx.await;
    }));
    let token = std::fs::read_to_string(dir.join("operator.token")).expect("token file");
    Ok(TestServer {
        clock,
        base: format!("http://{addr}"),
        token: token.trim().to_string(),
        client: reqwest::Client::new(),
        stop: Some(tx),
        task: Some(task),
    })
}

impl TestServer {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.get(self.url(path)).bearer_auth(&self.token)
    }

    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.post(self.url(path)).bearer_auth(&self.token)
    }

    /// Stop gracefully and wait until the data directory is released.
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("join").expect("clean stop");
        }
    }
}

/// The error code of a JSON error response.
pub async fn code(resp: reqwest::Response) -> (u16, String, serde_json::Value) {
    let status = resp.status().as_u16();
    let body: serde_json::Value = resp.json().await.expect("json error body");
    let code = body["error"]["code"].as_str().unwrap_or_default().to_string();
    (status, code, body)
}

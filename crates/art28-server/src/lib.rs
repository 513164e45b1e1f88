//! # art28-server: the HTTP face of art28
//!
//! An axum server with a JSON API under `/api/v1`, described by an OpenAPI 3.1 document that
//! is generated from the handlers themselves (aide + schemars, the same derives that produce
//! the agreement's JSON Schema), so the document cannot drift from the code.
//!
//! - [`config`]: one configuration struct from file, `ART28_*` environment and flags.
//! - [`datadir`]: the data directory: created on first start, locked against a second
//!   server, holding the SQLite database and the operator token.
//! - [`api`]: routes and handlers; handlers only extract, call the service and map.
//! - [`auth`]: who is calling; [`error`]: the single error-to-HTTP mapping.
//! - [`serve`]: the accept loop (header and idle timeouts, connection caps, TLS);
//!   [`headers`]: the security headers on every answer.
//!
//! Rules live in `art28-service` and `art28-core`, never here.

pub mod api;
pub mod auth;
pub mod config;
pub mod datadir;
pub mod deadline_api;
pub mod error;
pub mod extract;
pub mod headers;
pub mod incident_api;
pub mod log_api;
pub mod portal;
pub mod serve;
pub mod session_api;
pub mod staff_access_api;
pub mod state;
pub mod subprocessor_api;
pub mod vault_api;

use crate::error::ApiError;
use crate::state::AppState;
use art28_core::{Error, ErrorCode, Result};
use art28_service::clock::Clock;
use art28_service::ledger::Ledger;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Request, StatusCode};
use jiff::SignedDuration;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tower_http::request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

/// Build the application router around a state. `headers` go on every answer, the router's
/// own refusals (404, 405, 408, 413) included.
pub fn app(state: AppState, max_body_bytes: usize, headers: headers::SecurityHeaders) -> Router {
    let mut api = api::base_doc();
    let router = api::routes().finish_api(&mut api);
    let state = AppState {
        openapi: Arc::new(serde_json::to_value(&api).unwrap_or_default()),
        ..state
    };
    let router = router
        .merge(portal::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(axum::middleware::from_fn(uri_limit))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
            let id = req
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-");
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(RandomRequestId));
    headers.layer(router)
}

/// An unknown path: the API's JSON error under `/api`, the portal's page elsewhere.
async fn not_found(uri: axum::http::Uri, headers: axum::http::HeaderMap) -> axum::response::Response {
    if portal::is_portal_path(uri.path()) {
        return portal::not_found(headers).await;
    }
    axum::response::IntoResponse::into_response(ApiError::new(
        ErrorCode::RouteNotFound,
        "there is no such route; see /api/openapi.json",
    ))
}

async fn method_not_allowed(uri: axum::http::Uri, headers: axum::http::HeaderMap) -> axum::response::Response {
    if portal::is_portal_path(uri.path()) {
        return portal::method_not_allowed(&headers);
    }
    error::router_error(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not accept that method; see /api/openapi.json".into(),
    )
}

/// The longest path and query string served, in bytes: far more than any route needs, far less
/// than hyper's own limit (64 KiB), which it enforces with an empty answer of its own.
pub const MAX_URI_BYTES: usize = 8 * 1024;

/// Longer request targets are refused with `414 uri_too_long` in the API's error form.
async fn uri_limit(req: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    let len = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if len > MAX_URI_BYTES {
        return error::router_error(
            StatusCode::URI_TOO_LONG,
            "uri_too_long",
            format!("the path and query may be at most {MAX_URI_BYTES} bytes long"),
        );
    }
    next.run(req).await
}

#[derive(Clone, Copy)]
struct RandomRequestId;

impl MakeRequestId for RandomRequestId {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let id: u128 = rand::random();
        axum::http::HeaderValue::from_str(&format!("{id:032x}"))
            .ok()
            .map(RequestId::new)
    }
}

/// A server bound to its address, not yet serving.
#[derive(Debug)]
pub struct Bound {
    listener: tokio::net::TcpListener,
    tls: Option<serve::Tls>,
    limits: serve::Limits,
    router: Router,
    folder: Folder,
    outbox: Outbox,
    demo: Option<Demo>,
    _data: datadir::DataDir,
}

/// What the demo's people go through, kept for [`Bound::populate_demo`].
#[derive(Clone)]
struct Demo {
    accounts: Arc<art28_service::accounts::Accounts>,
    vault: Arc<art28_service::vault::Vault>,
    staff_access: Arc<art28_service::staff_access::StaffAccess>,
    incidents: Arc<art28_service::incidents::Incidents>,
    subprocessors: Arc<art28_service::subprocessors::Subprocessors>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Demo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Demo").finish_non_exhaustive()
    }
}

/// Folds the access log into its tree and signs checkpoints, every second while running.
#[derive(Clone)]
struct Folder {
    cluster: Arc<art28_service::cluster::Cluster>,
    staff_credential_expiry: art28_core::duration::IsoDuration,
    log: Arc<art28_service::access_log::AccessLog>,
    vault: Arc<art28_service::vault::Vault>,
    accounts: Arc<art28_service::accounts::Accounts>,
}

/// Delivers queued breach notices (every second, and at once when woken) and raises notice
/// deadlines that are due soon or overdue to the security officer as security events.
#[derive(Clone)]
struct Outbox {
    cluster: Arc<art28_service::cluster::Cluster>,
    incidents: Arc<art28_service::incidents::Incidents>,
    subprocessors: Arc<art28_service::subprocessors::Subprocessors>,
    couriers: Vec<Arc<dyn art28_service::incidents::Courier>>,
    wake: Arc<tokio::sync::Notify>,
}

impl Outbox {
    async fn deliver(&self) {
        match self.incidents.deliver_due(&self.couriers, 100).await {
            Ok(r) if r.sent + r.failed > 0 => tracing::info!(sent = r.sent, failed = r.failed, "outbox run"),
            Ok(_) => {}
            Err(e) => tracing::error!(code = %e.code, "the outbox failed; retrying"),
        }
        match self.subprocessors.deliver_due(&self.couriers, 100).await {
            Ok(r) if r.sent + r.failed > 0 => {
                tracing::info!(
                    sent = r.sent,
                    failed = r.failed,
                    "outbox run (sub-processor announcements)"
                )
            }
            Ok(_) => {}
            Err(e) => tracing::error!(code = %e.code, "the announcement outbox failed; retrying"),
        }
    }

    /// Raise due-soon and overdue first notices, each once while this node runs the jobs
    /// (deadlines move in hours; looking every 5 seconds is plenty).
    async fn watch(
        &self,
        raised: &mut art28_service::incidents::Raised,
        raised_sp: &mut art28_service::subprocessors::Raised,
    ) {
        let (incidents, subprocessors) = (&self.incidents, &self.subprocessors);
        let job = || async move {
            incidents.raise_alerts(raised).await?;
            subprocessors.raise_alerts(raised_sp).await.map(drop)
        };
        if let Err(e) = self
            .cluster
            .run_if_due(
                "incidents.alerts",
                SignedDuration::from_secs(5),
                SignedDuration::from_secs(60),
                job,
            )
            .await
        {
            tracing::error!(code = %e.code, "checking notice deadlines failed; retrying");
        }
    }

    async fn run(self, mut stop: tokio::sync::watch::Receiver<bool>) {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut raised = art28_service::incidents::Raised::new();
        let mut raised_sp = art28_service::subprocessors::Raised::new();
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    self.deliver().await;
                    self.watch(&mut raised, &mut raised_sp).await;
                }
                _ = self.wake.notified() => self.deliver().await,
                _ = stop.changed() => break,
            }
        }
    }
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox")
            .field("couriers", &self.couriers)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Folder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Folder").field("log", &self.log).finish_non_exhaustive()
    }
}

impl Folder {
    async fn fold(&self) {
        if let Err(e) = self.log.fold().await {
            tracing::error!(code = %e.code, "folding the access log failed; retrying");
        }
    }

    /// Disable credentials unused for longer than their term, once an hour per cluster. A
    /// scan of the current state, so it is idempotent and nothing is lost across restarts.
    async fn expire(&self) {
        let (accounts, term) = (&self.accounts, &self.staff_credential_expiry);
        let job = || async move {
            let disabled = accounts.expire_unused(term).await?;
            if !disabled.is_empty() {
                tracing::info!(count = disabled.len(), "unused credentials disabled");
            }
            Ok(())
        };
        if let Err(e) = self
            .cluster
            .run_if_due(
                "credentials.expire",
                SignedDuration::from_hours(1),
                SignedDuration::from_mins(10),
                job,
            )
            .await
        {
            tracing::error!(code = %e.code, "expiring unused credentials failed; retrying later");
        }
    }

    /// Purge the sealed rows of erased customers, a bounded step a second per cluster (their
    /// keys are gone already, so nothing of them is readable while this runs).
    async fn purge(&self) {
        let vault = &self.vault;
        let job = || async move {
            let p = vault.purge_step(5_000).await?;
            if p.removed > 0 {
                tracing::info!(rows = p.removed, done = p.done, "purged erased data");
            }
            Ok(())
        };
        if let Err(e) = self
            .cluster
            .run_if_due(
                "vault.purge",
                SignedDuration::from_secs(1),
                SignedDuration::from_secs(60),
                job,
            )
            .await
        {
            tracing::error!(code = %e.code, "purging erased data failed; retrying");
        }
    }

    /// Every second: fold on the node that holds the role, and the periodic jobs that are due.
    async fn run(self, mut stop: tokio::sync::watch::Receiver<bool>) {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    if self.cluster.leads(art28_service::cluster::FOLD).await {
                        self.fold().await;
                    }
                    self.purge().await;
                    self.expire().await;
                }
                _ = stop.changed() => break,
            }
        }
    }
}

impl Bound {
    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> Result<SocketAddr> {
        self.listener
            .local_addr()
            .map_err(|e| Error::new(ErrorCode::Internal, format!("no local address: {e}")))
    }

    /// Whether it speaks HTTPS.
    pub fn tls(&self) -> bool {
        self.tls.is_some()
    }

    /// With `demo`: make the demo's accounts, vault data, staff access grants and breach,
    /// each through its door, on a data directory that has none of them
    /// ([`art28_service::demo::populate`]); `None` without `demo`. The new accounts' passwords
    /// come back for the caller to show once; they are not logged. Separate from [`bind`],
    /// which loads only the processor and the example agreements, so a server that needs just
    /// the example customers (tests) gets nothing more.
    pub async fn populate_demo(&self) -> Result<Option<art28_service::demo::Setup>> {
        let Some(d) = &self.demo else { return Ok(None) };
        let setup = art28_service::demo::populate(art28_service::demo::Doors {
            accounts: &d.accounts,
            vault: &d.vault,
            staff_access: &d.staff_access,
            incidents: &d.incidents,
            subprocessors: &d.subprocessors,
            clock: d.clock.as_ref(),
        })
        .await?;
        match &setup {
            art28_service::demo::Setup::Created(made) => tracing::info!(
                accounts = made.len(),
                "demo accounts, vault data, access grants and incident made"
            ),
            art28_service::demo::Setup::Present => tracing::info!("demo accounts present; nothing added"),
            art28_service::demo::Setup::Incomplete => tracing::warn!(
                "the demo is incomplete in this data directory (an earlier start stopped midway, or a demo user name is taken); remove the data directory for a whole demo"
            ),
        }
        Ok(Some(setup))
    }

    /// Serve until `shutdown` completes, then finish the requests in flight.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<()> {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let folder = self.folder.clone();
        let delivering = tokio::spawn(self.outbox.clone().run(stop_rx.clone()));
        let folding = tokio::spawn(folder.run(stop_rx));
        serve::serve(self.listener, self.tls, self.limits, self.router, shutdown).await;
        let _ = stop_tx.send(true);
        let _ = folding.await;
        let _ = delivering.await;
        // Everything logged by the last requests gets into a signed checkpoint before exit.
        self.folder.fold().await;
        tracing::info!("server stopped");
        Ok(())
    }
}

/// Open the data directory, load the demo if asked, and bind the listener.
pub async fn bind(config: &config::Config, clock: Arc<dyn Clock>) -> Result<Bound> {
    // A certificate that cannot be used stops the start before anything else is opened.
    let tls = match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => Some(serve::tls_acceptor(cert, key)?),
        (None, None) => None,
        _ => {
            return Err(Error::new(
                ErrorCode::ConfigInvalid,
                "tls_cert and tls_key go together: name both files or neither",
            ));
        }
    };
    // SMTP settings that cannot work stop the start before anything is written.
    let mailer = match &config.smtp_relay {
        Some(relay) => Some(art28_service::mail::SmtpMailer::new(
            &art28_service::mail::SmtpSettings {
                relay: relay.clone(),
                from: config.mail_from.clone(),
                username: config.smtp_username.clone(),
                password: config.smtp_password.as_ref().map(|p| p.0.clone()),
                password_file: config.smtp_password_file.clone(),
                ca_file: config.smtp_ca_file.clone(),
            },
        )?),
        None => None,
    };
    let keys = datadir::KeyFiles {
        log_signing_key: config.log_signing_key_file.clone(),
        vault_keys: config.vault_keys_file.clone(),
    };
    let data = datadir::DataDir::open(&config.data_dir, config.database.as_ref(), &keys).await?;
    let store = data.store();
    if config.demo {
        let report = art28_service::demo::load_demo(store.as_ref(), clock.as_ref()).await?;
        tracing::info!(
            recorded = report.recorded,
            already_present = report.present,
            "demo data loaded"
        );
    }
    let ledger = Arc::new(Ledger::new(data.log_signer(&config.log_origin)?));
    let keyring = data.keyring()?;
    let cluster = Arc::new(art28_service::cluster::Cluster::new(
        store.clone(),
        clock.clone(),
        art28_service::cluster::node_name(),
    ));
    // A node whose keys differ from those the database was written with stops here, before
    // it signs or wraps anything.
    cluster.check_keys(&ledger.verifier().to_vkey(), &keyring).await?;
    tracing::info!(node = %cluster.node(), "node started");
    // Sign the first checkpoint (or fold what a crash left unfolded) before serving.
    ledger.fold(store.as_ref(), clock.as_ref()).await?;
    tracing::info!(key = %ledger.verifier().to_vkey(), "access log ready");
    let vault = Arc::new(art28_service::vault::Vault::new(
        store.clone(),
        clock.clone(),
        keyring,
        data.erasure_journal(),
    ));
    // A restored backup may hold keys erased since: destroy them again before serving.
    let back = vault.replay_journal().await?;
    if back > 0 {
        tracing::warn!(erasures = back, "erasures replayed from the journal");
    }
    // Records written under an older normalisation of identifiers (phone numbers as bare
    // digits) get their blind indexes made again before any lookup is served; after the first
    // start of this version it finds nothing to do.
    vault.reindex_blind().await?;
    let webhook_policy = art28_service::webhook::WebhookPolicy {
        allow_loopback: config.webhook_allow_loopback,
    };
    if config.webhook_allow_loopback {
        tracing::warn!("webhook_allow_loopback is on: customers' webhooks may reach this machine's loopback services");
    }
    let mut couriers: Vec<Arc<dyn art28_service::incidents::Courier>> = vec![Arc::new(
        art28_service::webhook::WebhookSender::new(store.clone(), vault.clone(), clock.clone(), webhook_policy)?,
    )];
    match mailer {
        Some(mailer) => {
            tracing::info!(relay = %mailer.relay(), "breach notices by e-mail go through the SMTP relay");
            couriers.push(Arc::new(mailer));
        }
        None => tracing::warn!("no smtp_relay configured: breach notices by e-mail wait in the outbox until one is"),
    }
    let incidents = Arc::new(
        art28_service::incidents::Incidents::new(store.clone(), clock.clone(), vault.clone())
            .with_webhook_policy(webhook_policy),
    );
    let subprocessors = Arc::new(art28_service::subprocessors::Subprocessors::new(incidents.clone()));
    let outbox_wake = Arc::new(tokio::sync::Notify::new());
    let log = Arc::new(art28_service::access_log::AccessLog::new(
        store.clone(),
        clock.clone(),
        ledger,
    ));
    let accounts = Arc::new(art28_service::accounts::Accounts::new(
        store.clone(),
        clock.clone(),
        art28_service::passwords::PasswordHasher::default(),
        art28_core::auth::LockoutPolicy::default(),
    ));
    let staff_access = Arc::new(art28_service::staff_access::StaffAccess::new(
        store.clone(),
        clock.clone(),
    ));
    let state = AppState {
        agreements: Arc::new(art28_service::agreements::Agreements::new(store.clone(), clock.clone())),
        log: log.clone(),
        outbox_wake: outbox_wake.clone(),
        vault: vault.clone(),
        incidents: incidents.clone(),
        deadlines: Arc::new(art28_service::deadlines::Deadlines::new(
            incidents.clone(),
            subprocessors.clone(),
            clock.clone(),
        )),
        subprocessors: subprocessors.clone(),
        save_keyring: Arc::new(data.keyring_saver()),
        operator: data.operator_digest(),
        accounts: accounts.clone(),
        staff_access: staff_access.clone(),
        openapi: Arc::new(serde_json::Value::Null),
    };
    let demo = config.demo.then(|| Demo {
        accounts: accounts.clone(),
        vault: vault.clone(),
        staff_access,
        incidents: incidents.clone(),
        subprocessors: subprocessors.clone(),
        clock: clock.clone(),
    });
    let router = app(
        state,
        config.max_body_bytes,
        headers::SecurityHeaders::api(tls.is_some()),
    );
    let listener = tokio::net::TcpListener::bind(config.listen).await.map_err(|e| {
        Error::new(
            ErrorCode::ConfigInvalid,
            format!("cannot listen on {}: {e}", config.listen),
        )
    })?;
    Ok(Bound {
        listener,
        tls,
        limits: serve::Limits::of(config),
        router,
        folder: Folder {
            cluster: cluster.clone(),
            staff_credential_expiry: config.staff_credential_expiry,
            log,
            vault,
            accounts,
        },
        outbox: Outbox {
            cluster,
            incidents,
            subprocessors,
            couriers,
            wake: outbox_wake,
        },
        demo,
        _data: data,
    })
}

/// Completes on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("interrupt received, shutting down"),
        () = term => tracing::info!("SIGTERM received, shutting down"),
    }
}

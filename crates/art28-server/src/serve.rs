//! Serving connections: our own accept loop over hyper's HTTP/1 connections, because
//! `axum::serve` bounds nothing a client does before its request reaches the router.
//!
//! - **Header timeout**: a client has `header_read_timeout` to send a request's headers,
//!   counted from the connection's start (the TLS handshake included) and, on a kept-alive
//!   connection, from the first byte of its next request. A client that sends half its headers
//!   is cut off then, not held open.
//! - **Idle timeout**: a kept-alive connection waits `idle_timeout` for its next request.
//!   Once a request's headers are in, the router's own timeout (30 s) bounds the request.
//! - **Connection caps**: at most `max_connections_per_client` open connections per client
//!   address (IPv6: per /64, which one client usually holds whole) and `max_connections` in
//!   all. A connection over a cap is closed as soon as it is accepted, without an answer: a
//!   flood gets no work done, and the others are served as before.
//! - **TLS** (optional): rustls with the ring provider, TLS 1.2 and 1.3, ALPN `http/1.1`.
//!
//! hyper's own header timeout is not used: it runs from the moment hyper waits for a head, so
//! it would also close kept-alive connections after the header timeout. Instead each
//! connection has an [`Activity`]: the byte stream under hyper (and under TLS) notes the first
//! byte of a request, the service notes when a request starts and its answer is done, and a
//! watchdog beside the connection closes it when the deadline that applies has passed.
//!
//! On shutdown the loop stops accepting, idle connections close, and requests in flight are
//! finished (hyper-util's `GracefulShutdown`).

use art28_core::{Error, ErrorCode, Result};
use axum::Router;
use axum::body::{Body, HttpBody};
use axum::extract::ConnectInfo;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;
use tower::ServiceExt;

/// What the server allows a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Time to send a request's headers (see the module's doc).
    pub header_read_timeout: Duration,
    /// Time a kept-alive connection may wait for its next request.
    pub idle_timeout: Duration,
    /// Open connections per client address (IPv6: per /64).
    pub per_client: usize,
    /// Open connections in all.
    pub total: usize,
}

impl Limits {
    /// The limits a configuration sets.
    pub fn of(config: &crate::config::Config) -> Self {
        Self {
            header_read_timeout: Duration::from_secs(config.header_read_timeout_secs),
            idle_timeout: Duration::from_secs(config.idle_timeout_secs),
            per_client: config.max_connections_per_client,
            total: config.max_connections,
        }
    }
}

/// The server's TLS setup: its certificate and key, loaded once at start.
#[derive(Clone)]
pub struct Tls(TlsAcceptor);

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls").finish_non_exhaustive()
    }
}

/// Read the certificate chain and key (PEM) and make the TLS setup. Every failure is one
/// `config_invalid` error naming the file.
pub fn tls_acceptor(cert: &Path, key: &Path) -> Result<Tls> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let bad = |what: &str, path: &Path, e: &dyn std::fmt::Display| {
        Error::new(ErrorCode::ConfigInvalid, format!("{what} {}: {e}", path.display()))
    };
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<std::result::Result<Vec<_>, _>>())
        .map_err(|e| bad("tls_cert", cert, &pem_error(&e)))?;
    if certs.is_empty() {
        return Err(bad("tls_cert", cert, &"no PEM certificate in the file"));
    }
    let private = PrivateKeyDer::from_pem_file(key).map_err(|e| bad("tls_key", key, &pem_error(&e)))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| Error::new(ErrorCode::Internal, format!("TLS setup: {e}")))?
        .with_no_client_auth()
        .with_single_cert(certs, private)
        .map_err(|e| match e {
            rustls::Error::InconsistentKeys(_) => bad(
                "tls_key",
                key,
                &format!("does not belong to the certificate in {}", cert.display()),
            ),
            e => bad("tls_key", key, &format!("unusable with {}: {e}", cert.display())),
        })?;
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Tls(TlsAcceptor::from(Arc::new(tls))))
}

fn pem_error(e: &rustls::pki_types::pem::Error) -> String {
    use rustls::pki_types::pem::Error as E;
    match e {
        E::Io(e) => format!("cannot read: {e}"),
        E::NoItemsFound => "no PEM item of the expected kind in the file".into(),
        e => format!("not valid PEM: {e:?}"),
    }
}

/// Accept connections on `listener` and serve `router` on each until `shutdown` completes,
/// then finish what is in flight.
pub(crate) async fn serve(
    listener: TcpListener,
    tls: Option<Tls>,
    limits: Limits,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let admission = Arc::new(Admission::new(limits));
    let mut refused = Refused::default();
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    // The header timeout is ours (see the module's doc); hyper's would also cut idle
    // connections at the same moment.
    http.keep_alive(true).header_read_timeout(None);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    if !is_connection_error(&e) {
                        // Out of file descriptors and the like: wait rather than spin.
                        tracing::error!(error = %e, "accepting a connection failed");
                        tokio::select! {
                            () = tokio::time::sleep(Duration::from_secs(1)) => {}
                            () = &mut shutdown => break,
                        }
                    }
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(slot) = admission.admit(peer.ip()) else {
            drop(stream);
            refused.note(peer.ip());
            continue;
        };
        let _ = stream.set_nodelay(true);
        let connection = Connection {
            peer,
            router: router.clone(),
            http: http.clone(),
            limits,
            watcher: graceful.watcher(),
            _slot: slot,
        };
        tokio::spawn(connection.run(stream, tls.clone()));
    }
    drop(listener);
    tracing::info!(
        connections = graceful.count(),
        "no longer accepting; finishing requests in flight"
    );
    // A client that stops reading a long answer would hold its connection, and so the stop,
    // for ever: the requests in flight get as long as one request may take, then are cut.
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await.is_err() {
        tracing::warn!(
            seconds = SHUTDOWN_GRACE.as_secs(),
            "connections still open after the grace period were closed"
        );
    }
}

/// How long a stop waits for the requests in flight: the router's request timeout (30 s) and a
/// little more for their answers to be written.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(35);

/// Connections closed over a cap, told in the server log at most once a minute, so a flood
/// does not also flood the log.
#[derive(Debug, Default)]
struct Refused {
    since_told: u64,
    told: Option<Instant>,
}

impl Refused {
    fn note(&mut self, client: IpAddr) {
        self.since_told += 1;
        tracing::debug!(%client, "connection closed: over a connection cap");
        if self.told.is_none_or(|t| t.elapsed() >= Duration::from_secs(60)) {
            tracing::warn!(
                connections = self.since_told,
                last_client = %client,
                "connections closed over max_connections_per_client or max_connections"
            );
            self.since_told = 0;
            self.told = Some(Instant::now());
        }
    }
}

/// Errors of one connection that `accept` reports; the listener is fine.
fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(e.kind(), ConnectionRefused | ConnectionAborted | ConnectionReset)
}

/// One accepted connection, with what it needs to be served.
struct Connection {
    peer: SocketAddr,
    router: Router,
    http: hyper::server::conn::http1::Builder,
    limits: Limits,
    watcher: Watcher,
    _slot: Slot,
}

impl Connection {
    async fn run(self, stream: TcpStream, tls: Option<Tls>) {
        let Connection {
            peer,
            router,
            http,
            limits,
            watcher,
            _slot,
        } = self;
        let activity = Arc::new(Activity::new());
        let io = Watched {
            io: stream,
            activity: activity.clone(),
        };
        let served = async {
            match tls {
                Some(Tls(acceptor)) => match acceptor.accept(io).await {
                    Ok(tls) => serve_http(tls, peer, router, &http, watcher, activity.clone()).await,
                    Err(e) => tracing::debug!(client = %peer, error = %e, "TLS handshake failed"),
                },
                None => serve_http(io, peer, router, &http, watcher, activity.clone()).await,
            }
        };
        tokio::select! {
            () = served => {}
            () = activity.expired(limits) => {
                tracing::debug!(client = %peer, "connection closed: header or idle timeout");
            }
        }
    }
}

/// Serve HTTP/1 on an accepted (and, with TLS, decrypted) connection.
async fn serve_http<I>(
    io: I,
    peer: SocketAddr,
    router: Router,
    http: &hyper::server::conn::http1::Builder,
    watcher: Watcher,
    activity: Arc<Activity>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        // What `into_make_service_with_connect_info::<SocketAddr>()` gave handlers.
        request.extensions_mut().insert(ConnectInfo(peer));
        let busy = Busy::start(activity.clone());
        let router = router.clone();
        async move {
            let response = match router.oneshot(request).await {
                Ok(r) => r,
                Err(never) => match never {},
            };
            Ok::<_, Infallible>(response.map(|inner| Answer { inner, _busy: busy }))
        }
    });
    let connection = http.serve_connection(TokioIo::new(io), service);
    if let Err(e) = watcher.watch(connection).await {
        tracing::debug!(client = %peer, error = %e, "connection ended with an error");
    }
}

/// What a connection is doing, for its watchdog.
#[derive(Debug)]
struct Activity {
    phase: Mutex<Phase>,
    changed: Notify,
}

/// Exactly one of these applies at a time, so the deadline follows from it alone.
#[derive(Debug, Clone, Copy)]
enum Phase {
    /// A request's head is due, since the connection's start (the first request's head and
    /// the TLS handshake) or since the first byte of its next request.
    Head(Instant),
    /// This many requests started whose answers are not done; no deadline of ours applies.
    Busy(usize),
    /// Kept alive, waiting for its next request since this moment.
    Idle(Instant),
}

impl Activity {
    fn new() -> Self {
        Self {
            phase: Mutex::new(Phase::Head(Instant::now())),
            changed: Notify::new(),
        }
    }

    fn phase(&self) -> std::sync::MutexGuard<'_, Phase> {
        self.phase.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Bytes came in: on an idle connection, the next request's head has begun.
    fn read(&self) {
        let mut p = self.phase();
        if matches!(*p, Phase::Idle(_)) {
            *p = Phase::Head(Instant::now());
            drop(p);
            self.changed.notify_one();
        }
    }

    fn start(&self) {
        let mut p = self.phase();
        *p = match *p {
            Phase::Busy(n) => Phase::Busy(n + 1),
            Phase::Head(_) | Phase::Idle(_) => Phase::Busy(1),
        };
    }

    fn done(&self) {
        let mut p = self.phase();
        match *p {
            Phase::Busy(n) if n > 1 => *p = Phase::Busy(n - 1),
            Phase::Busy(_) => {
                *p = Phase::Idle(Instant::now());
                drop(p);
                self.changed.notify_one();
            }
            Phase::Head(_) | Phase::Idle(_) => {}
        }
    }

    /// When the connection is to be closed if nothing changes; none while a request runs.
    fn deadline(&self, limits: Limits) -> Option<Instant> {
        match *self.phase() {
            Phase::Head(since) => Some(since + limits.header_read_timeout),
            Phase::Busy(_) => None,
            Phase::Idle(since) => Some(since + limits.idle_timeout),
        }
    }

    /// Completes when the deadline that applies has passed.
    async fn expired(&self, limits: Limits) {
        loop {
            let changed = self.changed.notified();
            match self.deadline(limits) {
                None => changed.await,
                Some(at) if at <= Instant::now() => return,
                Some(at) => {
                    tokio::select! {
                        () = tokio::time::sleep_until(at) => {}
                        () = changed => {}
                    }
                }
            }
        }
    }
}

/// A request being served, until its answer is done (or dropped with the connection).
#[derive(Debug)]
struct Busy(Arc<Activity>);

impl Busy {
    fn start(activity: Arc<Activity>) -> Self {
        activity.start();
        Self(activity)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.done();
    }
}

/// An answer's body, holding its request's [`Busy`] until hyper has sent the last of it.
struct Answer {
    inner: Body,
    _busy: Busy,
}

impl HttpBody for Answer {
    type Data = <Body as HttpBody>::Data;
    type Error = <Body as HttpBody>::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<std::result::Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The byte stream under hyper (and TLS), telling the connection's [`Activity`] of reads.
struct Watched<T> {
    io: T,
    activity: Arc<Activity>,
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.io).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.read();
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// Counts open connections, per client and in all.
#[derive(Debug)]
struct Admission {
    limits: Limits,
    open: Mutex<Open>,
}

#[derive(Debug, Default)]
struct Open {
    total: usize,
    by_client: HashMap<IpAddr, usize>,
}

impl Admission {
    fn new(limits: Limits) -> Self {
        Self {
            limits,
            open: Mutex::new(Open::default()),
        }
    }

    fn open(&self) -> std::sync::MutexGuard<'_, Open> {
        self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A slot for a connection from `ip`, or none when a cap is reached.
    fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<Slot> {
        let client = client_of(ip);
        let mut open = self.open();
        if open.total >= self.limits.total {
            return None;
        }
        let count = open.by_client.entry(client).or_insert(0);
        if *count >= self.limits.per_client {
            return None;
        }
        *count += 1;
        open.total += 1;
        Some(Slot {
            admission: self.clone(),
            client,
        })
    }
}

/// The client a cap counts for: an IPv4 address (also when mapped into IPv6), or an IPv6 /64.
fn client_of(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
        },
    }
}

/// One admitted connection; dropping it frees its place.
#[derive(Debug)]
struct Slot {
    admission: Arc<Admission>,
    client: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.admission.open();
        open.total = open.total.saturating_sub(1);
        if let Some(count) = open.by_client.get_mut(&self.client) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.by_client.remove(&self.client);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_count_per_client_and_in_all_and_free_on_drop() {
        let admission = Arc::new(Admission::new(Limits {
            header_read_timeout: Duration::from_secs(1),
            idle_timeout: Duration::from_secs(1),
            per_client: 2,
            total: 3,
        }));
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "2001:db8::1".parse().unwrap();
        let b_same_64: IpAddr = "2001:db8::ffff:1".parse().unwrap();
        let a1 = admission.admit(a).unwrap();
        let _a2 = admission.admit(a).unwrap();
        assert!(admission.admit(a).is_none(), "per client");
        let _b1 = admission.admit(b).unwrap();
        assert!(admission.admit(b_same_64).is_none(), "in all");
        drop(a1);
        let _b2 = admission.admit(b_same_64).unwrap();
        assert!(admission.admit(b).is_none(), "one /64 is one client");
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(client_of(mapped), a);
    }
}

//! The connection layer: slow and idle clients are cut off, connections over a cap are closed,
//! every answer carries the security headers, and TLS. Raw TCP where the point is what a
//! client does below HTTP; every wait is bounded, so a server that holds on fails the test
//! instead of hanging it.

use crate::harness::{TestServer, try_start_configured};
use art28_core::ErrorCode;
use art28_server::config::Config;
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Far longer than any timeout the tests configure.
const BOUND: Duration = Duration::from_secs(10);

async fn start_with(dir: &Path, configure: impl FnOnce(&mut Config)) -> TestServer {
    try_start_configured(dir, false, configure)
        .await
        .expect("server starts")
}

/// Read until the server closes the connection (end of stream or reset); what came before.
async fn until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    tokio::time::timeout(BOUND, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await
    .expect("the server closed the connection");
    got
}

/// Read the first bytes of an answer, or nothing when the server closes first.
async fn until_closed_or_answer(stream: &mut TcpStream) -> Vec<u8> {
    let mut buf = [0u8; 4096];
    match tokio::time::timeout(BOUND, stream.read(&mut buf))
        .await
        .expect("answered or closed")
    {
        Ok(n) => buf[..n].to_vec(),
        Err(_) => Vec::new(),
    }
}

/// One GET on a kept-alive connection; the status line and the whole answer.
async fn get(stream: &mut TcpStream, path: &str) -> (String, String) {
    let request = format!("GET {path} HTTP/1.1\r\nHost: art28.test\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let answer = tokio::time::timeout(BOUND, async {
        loop {
            let n = stream.read(&mut buf).await.expect("read");
            assert!(n > 0, "closed before the answer was complete");
            got.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&got).to_string();
            if let Some(end) = text.find("\r\n\r\n") {
                let length = text[..end]
                    .lines()
                    .find_map(|l| {
                        let (name, value) = l.split_once(':')?;
                        name.eq_ignore_ascii_case("content-length")
                            .then(|| value.trim().parse::<usize>().ok())?
                    })
                    .expect("content-length");
                if got.len() >= end + 4 + length {
                    return text;
                }
            }
        }
    })
    .await
    .expect("an answer in time");
    let status = answer.lines().next().unwrap_or_default().to_string();
    (status, answer)
}

#[tokio::test]
async fn half_sent_headers_are_cut_off_at_the_header_timeout() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = start_with(dir.path(), |c| {
        c.header_read_timeout_secs = 1;
        c.idle_timeout_secs = 60;
    })
    .await;
    let mut stream = TcpStream::connect(s.addr).await.expect("connect");
    let started = Instant::now();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: art28.test\r\nX-Slow: ")
        .await
        .expect("write");
    let got = until_closed(&mut stream).await;
    assert!(
        !String::from_utf8_lossy(&got).contains(" 200 "),
        "no answer to half a request"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "closed by the timeout, not at once: {:?}",
        started.elapsed()
    );
    // A connection that sends nothing at all is bounded the same way.
    let mut silent = TcpStream::connect(s.addr).await.expect("connect");
    until_closed(&mut silent).await;
    // And the server still serves everyone else.
    let mut fresh = TcpStream::connect(s.addr).await.expect("connect");
    assert!(get(&mut fresh, "/healthz").await.0.contains("200"));
    s.stop().await;
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed_after_the_idle_timeout() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = start_with(dir.path(), |c| {
        c.header_read_timeout_secs = 1;
        c.idle_timeout_secs = 4;
    })
    .await;
    let mut stream = TcpStream::connect(s.addr).await.expect("connect");
    let (status, _) = get(&mut stream, "/healthz").await;
    assert!(status.contains("200"), "{status}");
    let answered = Instant::now();
    // Idle is not half a request: the header timeout (1 s) does not close it.
    let mut byte = [0u8; 1];
    let early = tokio::time::timeout(Duration::from_secs(2), stream.read(&mut byte)).await;
    assert!(early.is_err(), "still open within the idle timeout: {early:?}");
    // The connection still serves, and its idle time starts again after this answer.
    let (status, _) = get(&mut stream, "/healthz").await;
    assert!(status.contains("200"), "{status}");
    let answered_again = Instant::now();
    assert!(answered_again.duration_since(answered) >= Duration::from_secs(2));
    until_closed(&mut stream).await;
    assert!(
        answered_again.elapsed() >= Duration::from_secs(3),
        "closed by the idle timeout: {:?}",
        answered_again.elapsed()
    );
    s.stop().await;
}

#[tokio::test]
async fn a_half_sent_next_request_on_a_kept_alive_connection_is_cut_off_at_the_header_timeout() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = start_with(dir.path(), |c| {
        c.header_read_timeout_secs = 1;
        c.idle_timeout_secs = 60;
    })
    .await;
    let mut stream = TcpStream::connect(s.addr).await.expect("connect");
    assert!(get(&mut stream, "/healthz").await.0.contains("200"));
    // The first byte of the next request starts its header timeout, not the idle timeout
    // (60 s, far beyond `BOUND`).
    let started = Instant::now();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: art28.test\r\nX-Slow: ")
        .await
        .expect("write");
    let got = until_closed(&mut stream).await;
    assert!(
        got.is_empty(),
        "no answer to half a request: {}",
        String::from_utf8_lossy(&got)
    );
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "closed by the timeout, not at once: {:?}",
        started.elapsed()
    );
    s.stop().await;
}

#[tokio::test]
async fn connections_over_the_per_client_cap_are_closed_while_the_first_still_work() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = start_with(dir.path(), |c| {
        c.max_connections_per_client = 2;
        c.header_read_timeout_secs = 60;
    })
    .await;
    // The server accepts in order, so the third is the one over the cap.
    let mut first = TcpStream::connect(s.addr).await.expect("connect");
    let mut second = TcpStream::connect(s.addr).await.expect("connect");
    let mut third = TcpStream::connect(s.addr).await.expect("connect");
    let got = until_closed(&mut third).await;
    assert!(
        got.is_empty(),
        "closed without an answer: {}",
        String::from_utf8_lossy(&got)
    );
    assert!(get(&mut first, "/healthz").await.0.contains("200"));
    assert!(get(&mut second, "/healthz").await.0.contains("200"));
    assert!(get(&mut first, "/healthz").await.0.contains("200"), "kept alive");
    // A closed connection frees its place (as soon as the server has seen it close).
    drop(first);
    let mut freed = false;
    for _ in 0..100 {
        let mut next = TcpStream::connect(s.addr).await.expect("connect");
        let request = b"GET /healthz HTTP/1.1\r\nHost: art28.test\r\n\r\n";
        if next.write_all(request).await.is_ok()
            && String::from_utf8_lossy(&until_closed_or_answer(&mut next).await).contains(" 200 ")
        {
            freed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(freed, "the place of a closed connection is given to a new one");
    s.stop().await;
}

#[tokio::test]
async fn connections_over_the_overall_cap_are_closed() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = start_with(dir.path(), |c| {
        c.max_connections = 1;
        c.header_read_timeout_secs = 60;
    })
    .await;
    let mut first = TcpStream::connect(s.addr).await.expect("connect");
    let mut second = TcpStream::connect(s.addr).await.expect("connect");
    assert!(until_closed(&mut second).await.is_empty());
    assert!(get(&mut first, "/healthz").await.0.contains("200"));
    s.stop().await;
}

fn assert_security_headers(resp: &reqwest::Response, what: &str) {
    let h = resp.headers();
    let expected = [
        ("content-security-policy", "default-src 'none'; frame-ancestors 'none'"),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("x-frame-options", "DENY"),
        ("cache-control", "no-store"),
    ];
    for (name, value) in expected {
        assert_eq!(
            h.get(name).and_then(|v| v.to_str().ok()),
            Some(value),
            "{name} on {what}"
        );
    }
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = start_with(dir.path(), |_| {}).await;
    let ok = s.client.get(s.url("/healthz")).send().await.expect("send");
    assert_eq!(ok.status(), 200);
    assert_security_headers(&ok, "a 200");
    assert!(
        ok.headers().get("strict-transport-security").is_none(),
        "no HSTS over plain HTTP"
    );
    let missing = s.get("/api/v1/no-such-route").send().await.expect("send");
    assert_eq!(missing.status(), 404);
    assert_security_headers(&missing, "a 404");
    let refused = s.client.get(s.url("/api/v1/customers")).send().await.expect("send");
    assert_eq!(refused.status(), 401);
    assert_security_headers(&refused, "a 401");
    let wrong_method = s.client.delete(s.url("/healthz")).send().await.expect("send");
    assert_eq!(wrong_method.status(), 405);
    assert_security_headers(&wrong_method, "a 405");
    s.stop().await;
}

/// A self-signed certificate for localhost and 127.0.0.1, written as PEM into `dir`.
fn certificate(dir: &Path, name: &str) -> (std::path::PathBuf, std::path::PathBuf, String) {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_string(), "127.0.0.1".to_string()])
        .expect("certificate");
    let cert_pem = made.cert.pem();
    let cert = dir.join(format!("{name}.crt"));
    let key = dir.join(format!("{name}.key"));
    std::fs::write(&cert, &cert_pem).expect("write cert");
    std::fs::write(&key, made.signing_key.serialize_pem()).expect("write key");
    (cert, key, cert_pem)
}

#[tokio::test]
async fn with_tls_it_serves_https_with_hsts_and_refuses_plain_http() {
    let dir = tempfile::tempdir().expect("tmp");
    let (cert, key, pem) = certificate(dir.path(), "server");
    let data = dir.path().join("data");
    let s = start_with(&data, |c| {
        c.tls_cert = Some(cert);
        c.tls_key = Some(key);
        c.header_read_timeout_secs = 1;
    })
    .await;
    assert!(s.base.starts_with("https://"), "{}", s.base);
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).expect("pem"))
        .build()
        .expect("client");
    let resp = client.get(s.url("/healthz")).send().await.expect("https");
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()
            .get("strict-transport-security")
            .and_then(|v| v.to_str().ok()),
        Some("max-age=31536000; includeSubDomains")
    );
    assert_security_headers(&resp, "an HTTPS 200");
    // Authenticated calls (which log the client's address) work over TLS too; errors get HSTS.
    let customers = client
        .get(s.url("/api/v1/customers"))
        .bearer_auth(&s.token)
        .send()
        .await
        .expect("https");
    assert_eq!(customers.status(), 200);
    let missing = client.get(s.url("/api/v1/nothing")).send().await.expect("https");
    assert_eq!(missing.status(), 404);
    assert!(missing.headers().contains_key("strict-transport-security"));
    // Plain HTTP to the TLS port gets no answer.
    let plain = tokio::time::timeout(
        BOUND,
        reqwest::Client::new().get(format!("http://{}/healthz", s.addr)).send(),
    )
    .await
    .expect("plain HTTP fails in time");
    assert!(plain.is_err(), "plain HTTP refused: {plain:?}");
    // A connection that never starts its handshake is cut off at the header timeout.
    let mut silent = TcpStream::connect(s.addr).await.expect("connect");
    until_closed(&mut silent).await;
    s.stop().await;
}

#[tokio::test]
async fn a_tls_file_that_is_missing_bad_or_not_matching_stops_the_start_with_config_invalid() {
    let dir = tempfile::tempdir().expect("tmp");
    let (cert, key, _) = certificate(dir.path(), "one");
    let (_, other_key, _) = certificate(dir.path(), "two");
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "not a certificate\n").expect("write");
    let cases = [
        (cert.clone(), dir.path().join("absent.key"), "tls_key"),
        (cert.clone(), other_key, "does not belong"),
        (garbage.clone(), key.clone(), "tls_cert"),
        (cert.clone(), garbage, "tls_key"),
        (cert.clone(), cert.clone(), "tls_key"),
    ];
    for (i, (cert, key, says)) in cases.into_iter().enumerate() {
        let data = dir.path().join(format!("data-{i}"));
        let err = try_start_configured(&data, false, |c| {
            c.tls_cert = Some(cert.clone());
            c.tls_key = Some(key.clone());
        })
        .await
        .err()
        .unwrap_or_else(|| panic!("case {i} starts"));
        assert_eq!(err.code, ErrorCode::ConfigInvalid, "case {i}: {}", err.message);
        assert!(err.message.contains(says), "case {i}: {}", err.message);
        assert!(!err.message.contains('\n'), "one line: {}", err.message);
    }
}

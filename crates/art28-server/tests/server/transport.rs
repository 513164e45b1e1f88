//! The connection layer. First: every answer carries the security headers.

use crate::harness::start;

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
    let s = start(dir.path(), false).await;
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

use crate::harness::{code, start};
use serde_json::{Value, json};

const ERP: &str = include_str!("../../../../examples/agreements/erp-integrator-klant.toml");
const STANDARD: &str = include_str!("../../../../examples/agreements/saas-standard.toml");
const DEVIATION: &str = include_str!("../../../../examples/agreements/bakkerij-de-vries.toml");

#[tokio::test]
async fn health_and_openapi_need_no_token() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = start(dir.path(), false).await;
    let r = s.client.get(s.url("/healthz")).send().await.expect("send");
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.expect("json")["status"], "ok");
    let doc: Value = s
        .client
        .get(s.url("/api/openapi.json"))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")),
        "{}",
        doc["openapi"]
    );
    assert!(doc["paths"]["/api/v1/customers/{customer}/agreement"]["get"].is_object());
    assert!(
        doc["components"]["schemas"]["ProcessorAgreement"].is_object(),
        "agreement schema is in the document"
    );
    s.stop().await;
}

#[tokio::test]
async fn every_api_route_refuses_a_missing_or_wrong_token() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = start(dir.path(), true).await;
    let doc: Value = s
        .client
        .get(s.url("/api/openapi.json"))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let paths = doc["paths"].as_object().expect("paths");
    let mut checked = 0;
    let mut public = Vec::new();
    for (path, item) in paths {
        if !path.starts_with("/api/v1") {
            continue;
        }
        let concrete = path
            .replace("{customer}", "bakkerij-de-vries")
            .replace("{agreement}", "saas-standard")
            .replace("{version}", "1");
        for (method, op) in item.as_object().expect("item") {
            if op["security"].as_array().is_none_or(|a| a.is_empty()) {
                public.push(format!("{method} {path}"));
                continue;
            }
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            for auth in [None, Some("Bearer wrong"), Some("Basic YTpi"), Some("Bearer ")] {
                let mut req = s.client.request(m.clone(), s.url(&concrete));
                if let Some(a) = auth {
                    req = req.header("authorization", a);
                }
                let r = req.body("{}").send().await.expect("send");
                assert!(r.headers().contains_key("www-authenticate"), "{method} {concrete}");
                let (status, code, _) = code(r).await;
                assert_eq!(
                    (status, code.as_str()),
                    (401, "authentication_required"),
                    "{method} {concrete} with {auth:?}"
                );
                checked += 1;
            }
        }
    }
    assert_eq!(
        public,
        vec!["post /api/v1/session".to_string()],
        "only logging in is open"
    );
    assert!(checked >= 4 * 13, "only {checked} checks");
    // Nothing was created by the refused writes.
    let customers: Vec<Value> = s
        .get("/api/v1/customers")
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(customers.len(), 3);
    s.stop().await;
}

#[tokio::test]
async fn customers_can_be_added_with_clear_refusals() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = start(dir.path(), false).await;
    let r = s
        .post("/api/v1/customers")
        .json(&json!({"id": "acme-bv", "name": "Acme B.V.", "language": "en"}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.expect("json");
    assert_eq!(
        created["created_at"], "2026-11-22T10:00:00Z",
        "time comes from the injected clock"
    );

    for (body, status, expected) in [
        (json!({"id": "acme-bv", "name": "Again"}), 409, "customer_exists"),
        (json!({"id": "Acme BV!", "name": "Bad id"}), 400, "invalid_id"),
        (json!({"id": "ok-id", "name": "  "}), 400, "bad_request"),
        (json!({"id": "ok-id", "name": "X", "colour": "red"}), 400, "bad_request"),
        (json!({"id": "ok-id"}), 400, "bad_request"),
        (
            json!({"id": "ok-id", "name": "X", "language": "fr"}),
            400,
            "bad_request",
        ),
    ] {
        let r = s.post("/api/v1/customers").json(&body).send().await.expect("send");
        let (st, c, _) = code(r).await;
        assert_eq!((st, c.as_str()), (status, expected), "{body}");
    }
    let r = s
        .post("/api/v1/customers")
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("send");
    assert_eq!(code(r).await.1, "bad_request");
    let r = s
        .post("/api/v1/customers")
        .header("content-type", "application/json")
        .body(vec![b' '; 100 * 1024])
        .send()
        .await
        .expect("send");
    assert_eq!(code(r).await.0, 413);

    let r = s.get("/api/v1/customers/acme-bv").send().await.expect("send");
    let detail: Value = r.json().await.expect("json");
    assert_eq!(detail["customer"]["name"], "Acme B.V.");
    assert_eq!(detail["agreement_in_force"], Value::Null);
    let (st, c, _) = code(s.get("/api/v1/customers/nobody").send().await.expect("send")).await;
    assert_eq!((st, c.as_str()), (404, "customer_not_found"));
    let (st, c, _) = code(s.get("/api/v1/customers/acme-bv/agreement").send().await.expect("send")).await;
    assert_eq!((st, c.as_str()), (404, "agreement_not_found"));
    let (st, c, _) = code(s.get("/api/v1/nothing-here").send().await.expect("send")).await;
    assert_eq!((st, c.as_str()), (404, "route_not_found"));
    s.stop().await;
}

#[tokio::test]
async fn agreements_are_recorded_versioned_and_rendered() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = start(dir.path(), false).await;
    let post = |body: String| {
        s.post("/api/v1/agreements")
            .header("content-type", "application/toml")
            .body(body)
            .send()
    };

    // A deviation before its standard is refused.
    let (st, c, _) = code(post(DEVIATION.to_string()).await.expect("send")).await;
    assert_eq!((st, c.as_str()), (400, "agreement_base_missing"));

    assert_eq!(post(STANDARD.to_string()).await.expect("send").status(), 201);
    let r = post(DEVIATION.to_string()).await.expect("send");
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["based_on"], "saas-standard@1");
    assert_eq!(v["recorded_at"], "2026-11-22T10:00:00Z");
    let (st, c, _) = code(post(DEVIATION.to_string()).await.expect("send")).await;
    assert_eq!((st, c.as_str()), (409, "agreement_version_conflict"));

    // An invalid agreement is refused with itemised, located problems and nothing is stored.
    let bad = ERP.replacen(
        "format = \"art28/agreement/v1\"",
        "format = \"art28/agreement/v1\"\nsurprise = 1",
        1,
    );
    let line = bad.lines().position(|l| l.starts_with("surprise")).expect("line") + 1;
    let (st, c, body) = code(post(bad).await.expect("send")).await;
    assert_eq!((st, c.as_str()), (400, "agreement_invalid"));
    let details = body["error"]["details"].as_array().expect("details");
    assert!(
        details[0]
            .as_str()
            .is_some_and(|d| d.contains(&format!("request body:{line}:1: surprise:")) && d.contains("unknown_field")),
        "{details:?}"
    );
    let (st, _, _) = code(
        s.get("/api/v1/agreements/erp-integratie-klant/versions")
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(st, 404);
    let r = s
        .post("/api/v1/agreements")
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .expect("send");
    assert_eq!(code(r).await.1, "bad_request");
    let (st, c, _) = code(post("\u{0}\u{1}binary".into()).await.expect("send")).await;
    assert_eq!((st, c.as_str()), (400, "agreement_invalid"));

    // The customer was onboarded by its first agreement, with contacts.
    let customers: Vec<Value> = s
        .get("/api/v1/customers")
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(customers.len(), 1);
    let id = customers[0]["id"].as_str().expect("id").to_string();
    let detail: Value = s
        .get(&format!("/api/v1/customers/{id}"))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert!(
        detail["contacts"]
            .as_array()
            .is_some_and(|c| { c.iter().any(|k| k["roles"].to_string().contains("breach_notice")) })
    );
    let inforce: Value = s
        .get(&format!("/api/v1/customers/{id}/agreement"))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(
        inforce["agreement"]["breach"]["notice"], "PT48H",
        "the standard's term came through the merge"
    );
    let history: Vec<Value> = s
        .get(&format!("/api/v1/customers/{id}/agreements"))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(history.len(), 1);
    assert_eq!(history[0]["recorded_by"], "operator");
    let (st, c, _) = code(
        s.get(&format!("/api/v1/customers/{id}/agreement?on=1999-01-01"))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!((st, c.as_str()), (404, "agreement_not_found"));
    let (st, c, _) = code(
        s.get(&format!("/api/v1/customers/{id}/agreement?on=yesterday"))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!((st, c.as_str()), (400, "bad_request"));

    // Source text comes back exactly as submitted.
    let src = s
        .get("/api/v1/agreements/saas-standard/versions/1/source")
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("text");
    assert_eq!(src, STANDARD);
    let (st, c, _) = code(
        s.get("/api/v1/agreements/saas-standard/versions/0")
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!((st, c.as_str()), (400, "bad_request"));

    // Documents in both languages and formats.
    let html = s
        .get(&format!("/api/v1/customers/{id}/agreement/document?lang=en"))
        .send()
        .await
        .expect("send");
    assert!(
        html.headers()["content-type"]
            .to_str()
            .expect("ct")
            .starts_with("text/html")
    );
    let html = html.text().await.expect("text");
    assert!(html.contains("<html lang=\"en\"") && html.contains("48 hours"));
    let md = s
        .get(&format!("/api/v1/customers/{id}/agreement/document?lang=nl&format=md"))
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("text");
    assert!(md.contains("48 uur"));
    let (st, c, _) = code(
        s.get(&format!("/api/v1/customers/{id}/agreement/document?format=pdf"))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!((st, c.as_str()), (400, "bad_request"));
    s.stop().await;
}

#[tokio::test]
async fn vocabulary_lists_dpv_mappings() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = start(dir.path(), false).await;
    let v: Value = s
        .get("/api/v1/vocabulary")
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let health = v["personal_data"]
        .as_array()
        .expect("list")
        .iter()
        .find(|t| t["id"] == "health")
        .expect("health")
        .clone();
    assert_eq!(health["special"], true);
    assert!(
        health["dpv"]
            .as_str()
            .is_some_and(|d| d.starts_with("https://w3id.org/dpv"))
    );
    s.stop().await;
}

/// Another customer's agreement, asked for by id, reads as one that does not exist: the same
/// status, code and message; the attempt goes to the owner's access log.
#[tokio::test]
async fn another_customers_agreement_reads_as_not_found() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = start(dir.path(), true).await;
    let other = crate::accounts::account(
        &s,
        "henk.admin",
        "customer_admin",
        Some("hanzeveld-installatietechniek"),
    )
    .await;
    let c = &s.client;
    let ask = |path: String| {
        let r = c.get(s.url(&path)).bearer_auth(&other).send();
        async move { code(r.await.expect("send")).await }
    };
    for tail in ["/versions", "/versions/1", "/versions/1/source"] {
        let (status, rule, body) = ask(format!("/api/v1/agreements/bakkerij-de-vries{tail}")).await;
        let (m_status, m_rule, m_body) = ask(format!("/api/v1/agreements/no-such-agreement{tail}")).await;
        assert_eq!((status, rule.as_str()), (404, "agreement_not_found"), "{tail}: {body}");
        assert_eq!((m_status, m_rule.as_str()), (404, "agreement_not_found"), "{tail}");
        let message = |b: &Value, id: &str| b["error"]["message"].as_str().unwrap_or_default().replace(id, "X");
        assert_eq!(
            message(&body, "bakkerij-de-vries"),
            message(&m_body, "no-such-agreement"),
            "{tail}: the answers differ only in the id asked for"
        );
    }
    // The owner sees the attempts, refused with the rule.
    let log: Value = s
        .get("/api/v1/customers/bakkerij-de-vries/log")
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let refused: Vec<&Value> = log["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["entry"]["decision"] == "refused" && e["entry"]["actor"]["id"] == "henk.admin")
        .collect();
    assert_eq!(refused.len(), 3);
    assert!(refused.iter().all(|e| e["entry"]["rule"] == "tenant_mismatch"));
    s.stop().await;
}

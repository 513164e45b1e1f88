use crate::harness::{TestServer, code, start};
use serde_json::{Value, json};

const STRONG: &str = "Zeilboot-Lauwersmeer-1987!";

async fn login(s: &TestServer, username: &str, password: &str) -> reqwest::Response {
    s.client
        .post(s.url("/api/v1/session"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .expect("send")
}

async fn session(s: &TestServer, username: &str, password: &str) -> String {
    let r = login(s, username, password).await;
    assert_eq!(r.status(), 201, "login {username}");
    r.json::<Value>().await.expect("json")["token"]
        .as_str()
        .expect("token")
        .to_string()
}

/// A new session for an account made by [`account`].
pub(crate) async fn session_of(s: &TestServer, username: &str) -> String {
    session(s, username, &format!("{STRONG}-{username}")).await
}

/// Create an account as the operator, then log in and set a permanent password.
pub(crate) async fn account(s: &TestServer, username: &str, role: &str, customer: Option<&str>) -> String {
    let initial = format!("{STRONG}-{username}-start");
    let r = s
        .post("/api/v1/accounts")
        .json(&json!({"username": username, "display_name": username, "password": initial, "role": role, "customer": customer}))
        .send()
        .await
        .expect("send");
    assert_eq!(
        r.status(),
        201,
        "create {username}: {}",
        r.text().await.unwrap_or_default()
    );
    let token = session(s, username, &initial).await;
    // Nothing but the password change works until the password is changed.
    let r = s
        .client
        .get(s.url("/api/v1/vocabulary"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("send");
    assert_eq!(code(r).await.1, "password_change_required");
    let permanent = format!("{STRONG}-{username}");
    let r = s
        .client
        .post(s.url("/api/v1/session/password"))
        .bearer_auth(&token)
        .json(&json!({"old_password": initial, "new_password": permanent}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 204);
    session(s, username, &permanent).await
}

#[tokio::test]
async fn login_lockout_and_password_rules() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = start(dir.path(), true).await;
    let weak = s
        .post("/api/v1/accounts")
        .json(&json!({"username": "piet", "display_name": "Piet", "password": "piet1234", "role": "customer_user", "customer": "bakkerij-de-vries"}))
        .send()
        .await
        .expect("send");
    let (st, c, body) = code(weak).await;
    assert_eq!((st, c.as_str()), (400, "password_too_weak"));
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("Wachtwoord") && m.contains("Password")),
        "{body}"
    );
    let bad_scope = s
        .post("/api/v1/accounts")
        .json(&json!({"username": "piet", "display_name": "Piet", "password": STRONG, "role": "customer_user"}))
        .send()
        .await
        .expect("send");
    assert_eq!(code(bad_scope).await.1, "role_scope_invalid");

    let token = account(&s, "piet", "customer_user", Some("bakkerij-de-vries")).await;
    let r = s
        .client
        .get(s.url("/api/v1/customers/bakkerij-de-vries/agreement"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    // The same user name can never be taken again.
    let again = s
        .post("/api/v1/accounts")
        .json(&json!({"username": "PIET", "display_name": "Other", "password": STRONG, "role": "customer_user", "customer": "bakkerij-de-vries"}))
        .send()
        .await
        .expect("send");
    assert_eq!(code(again).await.1, "account_exists");

    // Wrong passwords and unknown users get the same answer; repeated failures lock.
    let (st, c, unknown) = code(login(&s, "nobody", "whatever-password").await).await;
    let (_, _, wrong) = code(login(&s, "piet", "whatever-password").await).await;
    assert_eq!((st, c.as_str()), (401, "authentication_required"));
    assert_eq!(unknown, wrong);
    // Failures first slow down further attempts, then lock; time moves by the injected clock.
    let mut throttled = 0;
    let mut locked = false;
    for _ in 0..40 {
        let (_, c, _) = code(login(&s, "piet", "still-the-wrong-password").await).await;
        match c.as_str() {
            "login_throttled" => {
                throttled += 1;
                s.clock.advance(jiff::SignedDuration::from_secs(31));
            }
            "account_locked" => {
                locked = true;
                break;
            }
            _ => {}
        }
    }
    assert!(throttled > 0, "repeated failures slow down");
    assert!(locked, "and then lock the account");
    let (_, c, _) = code(login(&s, "piet", &format!("{STRONG}-piet")).await).await;
    assert_eq!(
        c, "account_locked",
        "even the right password waits for the lock to lift"
    );
    s.clock.advance(jiff::SignedDuration::from_mins(16));
    assert_eq!(
        login(&s, "piet", &format!("{STRONG}-piet")).await.status(),
        201,
        "the lock lifts by itself"
    );

    // The security officer (here: the operator) sees every failure and lock.
    let events: Vec<String> = accounts_events(&s).await;
    assert!(
        events.iter().any(|k| k == "login_failed")
            && events.iter().any(|k| k == "account_locked")
            && events.iter().any(|k| k == "login_throttled"),
        "{events:?}"
    );
    s.stop().await;
}

#[tokio::test]
async fn a_customer_account_never_reaches_another_customer_through_any_route() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = start(dir.path(), true).await;
    let own = "bakkerij-de-vries";
    let admin = account(&s, "anke.admin", "customer_admin", Some(own)).await;
    let auditor = account(&s, "audit.bureau", "customer_auditor", Some(own)).await;
    let other_customer = "hanzeveld-installatietechniek";

    let doc: Value = s
        .client
        .get(s.url("/api/openapi.json"))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let other_agreement = "erp-integrator-klant"; // belongs to the other customer
    let mut checked = 0;
    for token in [&admin, &auditor] {
        for (path, item) in doc["paths"].as_object().expect("paths") {
            if !path.starts_with("/api/v1") || path.starts_with("/api/v1/session") {
                continue;
            }
            let foreign = path
                .replace("{customer}", other_customer)
                .replace("{agreement}", other_agreement)
                .replace("{version}", "2");
            for method in item.as_object().expect("item").keys() {
                let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
                let body = if path == "/api/v1/agreements" {
                    std::fs::read_to_string(concat!(
                        env!("CARGO_MANIFEST_DIR"),
                        "/../../examples/agreements/erp-integrator-klant.toml"
                    ))
                    .expect("example")
                } else if path == "/api/v1/accounts" {
                    json!({"username": format!("x{checked}"), "display_name": "X", "password": STRONG, "role": "customer_user", "customer": other_customer}).to_string()
                } else {
                    "{}".to_string()
                };
                let ctype = if path == "/api/v1/agreements" {
                    "application/toml"
                } else {
                    "application/json"
                };
                let r = s
                    .client
                    .request(m, s.url(&foreign))
                    .bearer_auth(token)
                    .header("content-type", ctype)
                    .body(body)
                    .send()
                    .await
                    .expect("send");
                let status = r.status().as_u16();
                let text = r.text().await.unwrap_or_default();
                // Either refused, or (for routes without a customer) answering with nothing of the other customer.
                if status == 200 {
                    assert!(
                        !text.contains(other_customer) && !text.contains("Hanzeveld"),
                        "{method} {foreign} leaked: {text}"
                    );
                } else {
                    assert!(matches!(status, 403 | 404 | 400), "{method} {foreign}: {status} {text}");
                    assert!(
                        !text.contains("Hanzeveld"),
                        "{method} {foreign} leaked in an error: {text}"
                    );
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 30, "only {checked}");

    // Its own customer is reachable, and the list shows only it.
    let list: Vec<Value> = s
        .client
        .get(s.url("/api/v1/customers"))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(
        list.iter().map(|c| c["id"].as_str().unwrap_or("")).collect::<Vec<_>>(),
        vec![own]
    );
    let r = s
        .client
        .get(s.url(&format!("/api/v1/customers/{own}/log")))
        .bearer_auth(&auditor)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    // The auditor reads agreements and the log, but may not add accounts.
    let r = s
        .client
        .get(s.url(&format!("/api/v1/customers/{own}/agreement/document")))
        .bearer_auth(&auditor)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let r = s
        .client
        .post(s.url("/api/v1/accounts"))
        .bearer_auth(&auditor)
        .json(&json!({"username": "sneaky", "display_name": "S", "password": STRONG, "role": "customer_admin", "customer": own}))
        .send()
        .await
        .expect("send");
    assert_eq!(code(r).await.1, "permission_denied");

    // Refusals for the other customer are in that customer's access log, naming the rule.
    let page: Value = s
        .get(&format!("/api/v1/customers/{other_customer}/log"))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let refused: Vec<&Value> = page["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["entry"]["decision"] == "refused")
        .collect();
    assert!(!refused.is_empty());
    let rule_ok = |e: &&Value| {
        matches!(
            e["entry"]["rule"].as_str(),
            Some("tenant_mismatch" | "permission_denied")
        )
    };
    assert!(
        refused
            .iter()
            .all(|e| rule_ok(e) && e["entry"]["actor"]["kind"] == "user"),
        "{} refused entries",
        refused.len()
    );
    assert!(refused.iter().any(|e| e["entry"]["rule"] == "tenant_mismatch"));
    s.stop().await;
}

async fn accounts_events(s: &TestServer) -> Vec<String> {
    let v: Value = s
        .get("/api/v1/security/events")
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    v.as_array()
        .expect("events")
        .iter()
        .map(|e| e["kind"].as_str().unwrap_or("").to_string())
        .collect()
}

#[tokio::test]
async fn machine_tokens_are_narrow_revocable_and_expire_and_the_register_keeps_history() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = start(dir.path(), true).await;
    let own = "bakkerij-de-vries";
    let admin = account(&s, "anke.admin", "customer_admin", Some(own)).await;
    let user = account(&s, "piet", "customer_user", Some(own)).await;
    let issue = |token: String, body: Value| {
        let (c, url) = (s.client.clone(), s.url(&format!("/api/v1/customers/{own}/tokens")));
        async move { c.post(url).bearer_auth(token).json(&body).send().await.expect("send") }
    };

    // Nobody hands out what they do not hold; purposes must be in the agreement.
    let r = issue(user.clone(), json!({"operations": ["agreements_read"], "days": 30})).await;
    assert_eq!(
        code(r).await.1,
        "permission_denied",
        "a customer user may not issue tokens"
    );
    let r = issue(admin.clone(), json!({"operations": ["customers_manage"], "days": 30})).await;
    assert_eq!(code(r).await.1, "permission_denied");
    let r = issue(
        admin.clone(),
        json!({"operations": ["agreements_read"], "purposes": ["marketing"], "days": 30}),
    )
    .await;
    assert_eq!(code(r).await.1, "permission_denied");
    let r = issue(admin.clone(), json!({"operations": ["agreements_read"], "days": 400})).await;
    assert_eq!(code(r).await.1, "bad_request");

    let r = issue(
        admin.clone(),
        json!({"operations": ["agreements_read"], "purposes": ["service_provision"], "days": 30}),
    )
    .await;
    assert_eq!(r.status(), 201);
    let issued: Value = r.json().await.expect("json");
    let token = issued["token"].as_str().expect("secret shown once").to_string();
    let id = issued["id"].as_str().expect("id").to_string();
    let listed: Vec<Value> = s
        .client
        .get(s.url(&format!("/api/v1/customers/{own}/tokens")))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert!(
        listed.iter().all(|t| t.get("token").is_none()),
        "secrets are never listed"
    );

    let get = |path: String| {
        let (c, url, t) = (s.client.clone(), s.url(&path), token.clone());
        async move { c.get(url).bearer_auth(t).send().await.expect("send") }
    };
    assert_eq!(get(format!("/api/v1/customers/{own}/agreement")).await.status(), 200);
    assert_eq!(
        code(get(format!("/api/v1/customers/{own}/log")).await).await.1,
        "permission_denied",
        "not in the token's operations"
    );
    assert_eq!(
        code(get("/api/v1/customers/hanzeveld-installatietechniek/agreement".into()).await)
            .await
            .1,
        "tenant_mismatch"
    );
    // The token's reads are logged as a token acting.
    let page: Value = s
        .get(&format!("/api/v1/customers/{own}/log"))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert!(
        page["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .any(|e| e["entry"]["actor"]["kind"] == "token" && e["entry"]["decision"] == "granted")
    );

    // Expiry by the injected clock, and revocation.
    s.clock.advance(jiff::SignedDuration::from_hours(24 * 31));
    assert_eq!(
        code(get(format!("/api/v1/customers/{own}/agreement")).await).await.1,
        "authentication_required"
    );
    let admin = session(&s, "anke.admin", &format!("{STRONG}-anke.admin")).await;
    let r = s
        .client
        .delete(s.url(&format!("/api/v1/customers/{own}/tokens/{id}")))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 204);
    let r = s
        .client
        .delete(s.url(&format!("/api/v1/customers/{own}/tokens/{id}")))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("send");
    assert_eq!(code(r).await.1, "token_not_found");

    // The register: a role given and taken back, with who and when.
    let accounts: Vec<Value> = s
        .get(&format!("/api/v1/accounts?customer={own}"))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let piet = accounts.iter().find(|a| a["username"] == "piet").expect("piet")["id"]
        .as_u64()
        .expect("id");
    let r = s
        .post(&format!("/api/v1/accounts/{piet}/grants"))
        .json(&json!({"role": "customer_auditor", "customer": own}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 201);
    let grant: Value = r.json().await.expect("json");
    let r = s
        .post(&format!("/api/v1/accounts/{piet}/grants"))
        .json(&json!({"role": "support_engineer"}))
        .send()
        .await
        .expect("send");
    assert_eq!(
        code(r).await.1,
        "role_scope_invalid",
        "a staff role for a customer account"
    );
    let r = s
        .client
        .delete(s.url(&format!("/api/v1/grants/{}", grant["id"])))
        .bearer_auth(&s.token)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let register: Vec<Value> = s
        .client
        .get(s.url(&format!("/api/v1/grants?customer={own}")))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let entry = register
        .iter()
        .find(|g| g["id"] == grant["id"])
        .expect("kept in the register");
    assert_eq!(
        (entry["granted_by"].as_str(), entry["revoked_by"].as_str()),
        (Some("operator"), Some("operator"))
    );
    s.stop().await;
}

#[tokio::test]
async fn staff_ask_for_access_and_the_customer_sees_and_approves_it() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = start(dir.path(), true).await;
    let customer = "scheldepoort-documentbeheer"; // its agreement asks for approval
    let support = account(&s, "sanne.support", "support_engineer", None).await;
    let boss = account(&s, "els.beheer", "customer_admin", Some(customer)).await;
    let ends = "2026-11-23T10:00:00Z";
    let ask = |token: &str, body: Value| {
        let (c, url, t) = (
            s.client.clone(),
            s.url(&format!("/api/v1/customers/{customer}/access-grants")),
            token.to_string(),
        );
        async move { c.post(url).bearer_auth(t).json(&body).send().await.expect("send") }
    };
    let r = ask(&support, json!({"reason": "curiosity", "ticket": "X", "ends_at": ends})).await;
    assert_eq!(code(r).await.1, "bad_request", "only the listed reasons");
    let r = ask(
        &boss,
        json!({"reason": "support_ticket", "ticket": "X", "ends_at": ends}),
    )
    .await;
    assert_eq!(
        code(r).await.1,
        "permission_denied",
        "customers do not ask for staff access"
    );
    let r = ask(
        &support,
        json!({"reason": "support_ticket", "ticket": "SUP-77", "ends_at": ends}),
    )
    .await;
    assert_eq!(r.status(), 201);
    let g: Value = r.json().await.expect("json");
    assert_eq!(g["status"], "requested");

    let list: Vec<Value> = s
        .client
        .get(s.url(&format!("/api/v1/customers/{customer}/access-grants")))
        .bearer_auth(&boss)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(
        (list.len(), list[0]["username"].as_str(), list[0]["ticket"].as_str()),
        (1, Some("sanne.support"), Some("SUP-77"))
    );
    let decide = |action: &str, token: &str| {
        let (c, url, t) = (
            s.client.clone(),
            s.url(&format!(
                "/api/v1/customers/{customer}/access-grants/{}/{action}",
                g["id"]
            )),
            token.to_string(),
        );
        async move { c.post(url).bearer_auth(t).send().await.expect("send") }
    };
    assert_eq!(
        code(decide("approve", &support).await).await.1,
        "permission_denied",
        "no self-approval"
    );
    let r = decide("approve", &boss).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.expect("json")["decided_by"], "els.beheer");
    assert_eq!(code(decide("explode", &boss).await).await.1, "bad_request");
    assert_eq!(
        decide("revoke", &support).await.status(),
        200,
        "the holder may end it early"
    );
    s.stop().await;
}

#[tokio::test]
async fn portal_sessions_use_a_strict_cookie_and_unsafe_requests_need_the_csrf_token() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = start(dir.path(), true).await;
    let own = "bakkerij-de-vries";
    account(&s, "anke.admin", "customer_admin", Some(own)).await;
    let r = login(&s, "anke.admin", &format!("{STRONG}-anke.admin")).await;
    let set_cookie = r.headers()["set-cookie"].to_str().expect("cookie").to_string();
    for attr in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(set_cookie.contains(attr), "{set_cookie}");
    }
    let body: Value = r.json().await.expect("json");
    let cookie = set_cookie.split(';').next().expect("pair").to_string();
    let csrf = body["csrf_token"].as_str().expect("csrf").to_string();

    // Reading with the cookie works without more.
    let r = s
        .client
        .get(s.url(&format!("/api/v1/customers/{own}/agreement")))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    // A change with the cookie alone, as a forged cross-site form would send it, is refused.
    let token_body = json!({"operations": ["agreements_read"], "days": 7});
    let url = s.url(&format!("/api/v1/customers/{own}/tokens"));
    let r = s
        .client
        .post(&url)
        .header("cookie", &cookie)
        .json(&token_body)
        .send()
        .await
        .expect("send");
    assert_eq!(code(r).await.1, "permission_denied");
    let r = s
        .client
        .post(&url)
        .header("cookie", &cookie)
        .header("x-csrf-token", "0".repeat(64))
        .json(&token_body)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 403);
    let r = s
        .client
        .post(&url)
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .json(&token_body)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 201);

    // Logging out ends the session and clears the cookie.
    let r = s
        .client
        .delete(s.url("/api/v1/session"))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 204);
    assert!(
        r.headers()["set-cookie"]
            .to_str()
            .expect("cookie")
            .contains("Max-Age=0")
    );
    let r = s
        .client
        .get(s.url(&format!("/api/v1/customers/{own}/agreement")))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 401);
    s.stop().await;
}

/// A customer's log entries as far as the latest checkpoint, oldest first.
async fn log_entries(s: &TestServer, customer: &str) -> Vec<Value> {
    let page: Value = s
        .get(&format!("/api/v1/customers/{customer}/log"))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    page["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e["entry"].clone())
        .collect()
}

#[tokio::test]
async fn another_customers_account_or_grant_named_by_id_answers_as_unknown_over_http() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = start(dir.path(), true).await;
    let (own, other) = ("bakkerij-de-vries", "hanzeveld-installatietechniek");
    let admin = account(&s, "anke.admin", "customer_admin", Some(own)).await;
    account(&s, "hans.admin", "customer_admin", Some(other)).await;
    let theirs: Vec<Value> = s
        .get(&format!("/api/v1/accounts?customer={other}"))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let hans = theirs[0]["id"].as_u64().expect("id");
    let register: Vec<Value> = s
        .get(&format!("/api/v1/grants?customer={other}"))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let hans_grant = register[0]["id"].as_u64().expect("id");
    let unknown = 999_999u64;

    let call = |method: reqwest::Method, path: String, body: Value| {
        let (c, url, t) = (s.client.clone(), s.url(&path), admin.clone());
        async move {
            let r = c
                .request(method, url)
                .bearer_auth(t)
                .json(&body)
                .send()
                .await
                .expect("send");
            code(r).await
        }
    };
    let post = reqwest::Method::POST;
    let mut refusals = 0;
    for (path, body) in [
        ("enable", json!({"reason": "why not"})),
        ("block", json!({"hours": 2, "grounds": "why not"})),
        ("password-disclosed", json!({"reason": "why not"})),
        ("grants", json!({"role": "customer_user", "customer": own})),
    ] {
        let (st, c, body_theirs) = call(post.clone(), format!("/api/v1/accounts/{hans}/{path}"), body.clone()).await;
        let (st_u, c_u, body_unknown) = call(post.clone(), format!("/api/v1/accounts/{unknown}/{path}"), body).await;
        assert_eq!((st, c.as_str()), (404, "account_not_found"), "{path}: {body_theirs}");
        assert_eq!((st_u, c_u), (st, c), "{path}");
        let text = body_theirs.to_string();
        assert!(!text.contains(other) && !text.contains("Hanzeveld"), "{path}: {text}");
        assert_eq!(
            text.replace(&hans.to_string(), "N"),
            body_unknown.to_string().replace(&unknown.to_string(), "N")
        );
        refusals += 2;
    }
    let (st, c, body) = call(
        reqwest::Method::DELETE,
        format!("/api/v1/grants/{hans_grant}"),
        json!({}),
    )
    .await;
    assert_eq!((st, c.as_str()), (404, "grant_not_found"), "{body}");
    refusals += 1;

    // The refusals are in the caller's own log once folded; none of them in the other's.
    let mut mine = Vec::new();
    for _ in 0..50 {
        mine = log_entries(&s, own)
            .await
            .into_iter()
            .filter(|e| e["actor"]["id"] == "anke.admin" && e["decision"] == "refused")
            .collect();
        if mine.len() >= refusals {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(mine.len(), refusals);
    assert!(
        mine.iter()
            .all(|e| matches!(e["rule"].as_str(), Some("account_not_found" | "grant_not_found")))
    );
    assert!(
        log_entries(&s, other)
            .await
            .iter()
            .all(|e| e["actor"]["id"] != "anke.admin"),
        "nothing of it in the other customer's log"
    );
    s.stop().await;
}

//! The vault over HTTP: judged, sealed, logged; refusals name their rule; data survives a
//! restart and erasure holds.

use crate::accounts::account;
use crate::harness::{code, start};
use serde_json::{Value, json};

const COLLECTIONS: &str = "/api/v1/customers/bakkerij-de-vries/vault/collections";
const RECORDS: &str = "/api/v1/customers/bakkerij-de-vries/vault/collections/employees/records";

fn employees() -> Value {
    json!({"name": "employees", "fields": [
        {"name": "name", "category": "identification", "required": true},
        {"name": "email", "category": "contact", "identifier": "email"},
        {"name": "salary", "category": "salary"}
    ]})
}

#[tokio::test]
async fn the_vault_over_http_judges_seals_logs_and_erases() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = start(dir.path(), true).await;
    let admin = account(&s, "anna.admin", "customer_admin", Some("bakkerij-de-vries")).await;
    let other = account(
        &s,
        "henk.admin",
        "customer_admin",
        Some("hanzeveld-installatietechniek"),
    )
    .await;
    let c = &s.client;

    // A category outside the agreement is refused at definition time, naming the rule.
    let mut bad = employees();
    bad["fields"]
        .as_array_mut()
        .expect("fields")
        .push(json!({"name": "diagnosis", "category": "health"}));
    let r = c
        .post(s.url(COLLECTIONS))
        .bearer_auth(&admin)
        .json(&bad)
        .send()
        .await
        .expect("send");
    let (status, rule, _) = code(r).await;
    assert_eq!((status, rule.as_str()), (403, "special_category_not_allowed"));
    let r = c
        .post(s.url(COLLECTIONS))
        .bearer_auth(&admin)
        .json(&employees())
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 201);
    assert!(r.headers().contains_key("x-art28-access-id"));

    let r = c
        .post(s.url(&format!("{RECORDS}?purpose=payroll")))
        .bearer_auth(&admin)
        .json(&json!({"subject": "emp-7", "values": {"name": "Anna", "email": "Anna@Example.nl", "salary": "3100"}}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.expect("json");
    let id = created["id"].as_str().expect("id").to_string();
    let r = c
        .get(s.url(&format!("{RECORDS}/{id}?purpose=payroll")))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let access_id = r.headers()["x-art28-access-id"].to_str().expect("hdr").to_string();
    let rec: Value = r.json().await.expect("json");
    assert_eq!(rec["values"]["name"], "Anna");
    assert_eq!(rec["subject"], "emp-7");
    assert!(access_id.starts_with("acc_"));

    // Without a purpose, with another customer's account, with unknown fields: refused.
    let r = c
        .get(s.url(&format!("{RECORDS}/{id}")))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("send");
    assert_eq!(code(r).await.1, "purpose_required");
    let r = c
        .get(s.url(&format!("{RECORDS}/{id}?purpose=payroll")))
        .bearer_auth(&other)
        .send()
        .await
        .expect("send");
    let (status, rule, body) = code(r).await;
    assert_eq!((status, rule.as_str()), (403, "tenant_mismatch"));
    assert!(!body.to_string().contains("Anna"));
    let r = c
        .post(s.url("/api/v1/customers/bakkerij-de-vries/vault/lookup?purpose=payroll"))
        .bearer_auth(&other)
        .json(&json!({"email": "anna@example.nl"}))
        .send()
        .await
        .expect("send");
    assert_eq!(code(r).await.0, 403);
    let r = c
        .post(s.url(&format!("{RECORDS}?purpose=payroll")))
        .bearer_auth(&admin)
        .json(&json!({"subject": "emp-8", "values": {"name": "B", "shoe": "42"}}))
        .send()
        .await
        .expect("send");
    assert_eq!(code(r).await.1, "record_invalid");
    let r = c
        .post(s.url("/api/v1/customers/bakkerij-de-vries/vault/lookup?purpose=payroll"))
        .bearer_auth(&admin)
        .json(&json!({"email": "a@b.nl", "subject": "x"}))
        .send()
        .await
        .expect("send");
    assert_eq!(code(r).await.1, "bad_request");

    // Lookup by e-mail, normalised; the identifier travels in the body.
    let r = c
        .post(s.url("/api/v1/customers/bakkerij-de-vries/vault/lookup?purpose=payroll"))
        .bearer_auth(&admin)
        .json(&json!({"email": " ANNA@example.nl"}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let found: Value = r.json().await.expect("json");
    assert_eq!(found["records"][0]["id"], id.as_str());

    // A second subject, kept across a restart.
    let r = c
        .post(s.url(&format!("{RECORDS}?purpose=payroll")))
        .bearer_auth(&admin)
        .json(&json!({"subject": "emp-9", "values": {"name": "Bram"}}))
        .send()
        .await
        .expect("send");
    let kept = r.json::<Value>().await.expect("json")["id"]
        .as_str()
        .expect("id")
        .to_string();
    let r = c
        .post(s.url("/api/v1/customers/bakkerij-de-vries/vault/erase-subject"))
        .bearer_auth(&admin)
        .json(&json!({"subject": "emp-7"}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let r = c
        .get(s.url(&format!("{RECORDS}/{id}?purpose=payroll")))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("send");
    assert_eq!(code(r).await.1, "record_not_found");
    assert!(dir.path().join("vault.keys").exists());
    assert!(dir.path().join("erasures.journal").exists());
    s.stop().await;

    let s = start(dir.path(), false).await;
    let admin = crate::accounts::session_of(&s, "anna.admin").await;
    let r = s
        .client
        .get(s.url(&format!("{RECORDS}/{kept}?purpose=payroll")))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200, "readable after restart");
    assert_eq!(r.json::<Value>().await.expect("json")["values"]["name"], "Bram");
    s.stop().await;
}

#[tokio::test]
async fn a_phone_number_is_looked_up_in_e164_and_a_bad_one_is_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = start(dir.path(), true).await;
    let admin = account(&s, "anna.admin", "customer_admin", Some("bakkerij-de-vries")).await;
    let c = &s.client;
    let contacts = json!({"name": "contacts", "fields": [
        {"name": "name", "category": "identification"},
        {"name": "phone", "category": "contact", "identifier": "phone"}
    ]});
    let r = c
        .post(s.url(COLLECTIONS))
        .bearer_auth(&admin)
        .json(&contacts)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 201);
    let records = "/api/v1/customers/bakkerij-de-vries/vault/collections/contacts/records?purpose=payroll";
    let lookup = "/api/v1/customers/bakkerij-de-vries/vault/lookup?purpose=payroll";
    let r = c
        .post(s.url(records))
        .bearer_auth(&admin)
        .json(&json!({"subject": "emp-7", "values": {"name": "Joost", "phone": "06 12345678"}}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.expect("json");
    for phone in ["+31 6 12345678", "0031612345678"] {
        let r = c
            .post(s.url(lookup))
            .bearer_auth(&admin)
            .json(&json!({ "phone": phone }))
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 200);
        let found: Value = r.json().await.expect("json");
        assert_eq!(found["records"][0]["id"], created["id"], "{phone}");
        assert_eq!(found["records"].as_array().map(Vec::len), Some(1));
    }

    let r = c
        .post(s.url(records))
        .bearer_auth(&admin)
        .json(&json!({"subject": "emp-8", "values": {"name": "Kees", "phone": "not a number"}}))
        .send()
        .await
        .expect("send");
    let (status, rule, body) = code(r).await;
    assert_eq!((status, rule.as_str()), (400, "phone_invalid"));
    assert!(
        body["error"]["message"].as_str().is_some_and(|m| m.contains("`phone`")),
        "{body}"
    );
    let r = c
        .post(s.url(lookup))
        .bearer_auth(&admin)
        .json(&json!({"phone": "12"}))
        .send()
        .await
        .expect("send");
    let (status, rule, _) = code(r).await;
    assert_eq!((status, rule.as_str()), (400, "phone_invalid"));
}

/// Listing collections and legal holds over HTTP: one access entry each (its id in the header),
/// refused for another customer's administrator, which learns nothing of them.
#[tokio::test]
async fn listing_collections_and_holds_is_logged_and_refused_for_another_customer() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = start(dir.path(), true).await;
    let admin = account(&s, "anna.admin", "customer_admin", Some("bakkerij-de-vries")).await;
    let other = account(
        &s,
        "henk.admin",
        "customer_admin",
        Some("hanzeveld-installatietechniek"),
    )
    .await;
    let c = &s.client;
    let r = c
        .post(s.url(COLLECTIONS))
        .bearer_auth(&admin)
        .json(&employees())
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 201);
    let holds = "/api/v1/customers/bakkerij-de-vries/vault/legal-holds";
    let r = c
        .post(s.url(holds))
        .bearer_auth(&admin)
        .json(&json!({"reason": "fiscal retention, 7 years"}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 201);

    for (path, expect) in [(COLLECTIONS, "employees"), (holds, "fiscal retention, 7 years")] {
        let r = c.get(s.url(path)).bearer_auth(&admin).send().await.expect("send");
        assert_eq!(r.status(), 200, "{path}");
        let access_id = r.headers()["x-art28-access-id"].to_str().expect("hdr").to_string();
        let body = r.text().await.expect("body");
        assert!(body.contains(expect), "{path}: {body}");
        let log: Value = c
            .get(s.url("/api/v1/customers/bakkerij-de-vries/log"))
            .bearer_auth(&admin)
            .send()
            .await
            .expect("send")
            .json()
            .await
            .expect("json");
        let entries = log["entries"].as_array().expect("entries");
        let mine: Vec<&Value> = entries
            .iter()
            .filter(|e| e["entry"]["access_id"] == access_id.as_str())
            .collect();
        assert_eq!(mine.len(), 1, "{path}: one entry for the listing");
        assert_eq!(mine[0]["entry"]["decision"], "granted");

        let r = c.get(s.url(path)).bearer_auth(&other).send().await.expect("send");
        let (status, rule, body) = code(r).await;
        assert_eq!((status, rule.as_str()), (403, "tenant_mismatch"), "{path}");
        assert!(!body.to_string().contains(expect), "{path}: {body}");
    }
    s.stop().await;
}

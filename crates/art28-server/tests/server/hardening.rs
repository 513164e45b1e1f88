//! What probing the running server found (issue "Hardening"), each as a test, and the classes
//! behind them checked over every route of the OpenAPI document, so a new route or field that
//! makes the same mistake fails here.

use crate::accounts::account;
use crate::harness::{TestServer, code, start};
use serde_json::{Value, json};

async fn openapi(s: &TestServer) -> Value {
    s.json("/api/openapi.json").await
}

/// Every schema a request takes (parameters and bodies), with its place, `$ref`s resolved.
fn request_schemas(doc: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("item") {
            for p in op["parameters"].as_array().into_iter().flatten() {
                out.push((
                    format!(
                        "{method} {path} {}:{}",
                        p["in"].as_str().unwrap_or(""),
                        p["name"].as_str().unwrap_or("")
                    ),
                    p["schema"].clone(),
                ));
            }
            for (ct, media) in op["requestBody"]["content"].as_object().into_iter().flatten() {
                if ct == "application/json" {
                    out.push((format!("{method} {path} body"), media["schema"].clone()));
                }
            }
        }
    }
    out
}

/// Walk a schema, calling `each` on every sub-schema with its place.
fn walk(doc: &Value, schema: &Value, place: &str, seen: &mut Vec<String>, each: &mut dyn FnMut(&str, &Value)) {
    let mut s = schema;
    if let Some(r) = s["$ref"].as_str() {
        let name = r.rsplit('/').next().unwrap_or(r).to_string();
        if seen.contains(&name) {
            return;
        }
        seen.push(name.clone());
        s = &doc["components"]["schemas"][&name];
    }
    each(place, s);
    for (k, v) in s["properties"].as_object().into_iter().flatten() {
        walk(doc, v, &format!("{place}.{k}"), seen, each);
    }
    if s["items"].is_object() {
        walk(doc, &s["items"], &format!("{place}[]"), seen, each);
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        for v in s[key].as_array().into_iter().flatten() {
            walk(doc, v, place, seen, each);
        }
    }
    if s["additionalProperties"].is_object() {
        walk(doc, &s["additionalProperties"], &format!("{place}{{}}"), seen, each);
    }
}

fn has_type(s: &Value, t: &str) -> bool {
    s["type"] == t || s["type"].as_array().is_some_and(|a| a.iter().any(|x| x == t))
}

/// The class behind "a panic on a large number" and "500s on out-of-range numbers": every
/// integer a request takes states its range, and every list its length, because the types
/// that read them (`Bounded`, `List`, `at_most`) refuse what lies outside while parsing.
#[tokio::test]
async fn every_number_and_list_a_request_takes_has_a_range() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = start(dir.path(), false).await;
    let doc = openapi(&s).await;
    let (mut unbounded, mut checked) = (Vec::new(), 0);
    for (place, schema) in request_schemas(&doc) {
        let mut seen = Vec::new();
        walk(&doc, &schema, &place, &mut seen, &mut |at, s| {
            if has_type(s, "integer") {
                checked += 1;
                if !(s["minimum"].is_number() && s["maximum"].is_number()) {
                    unbounded.push(format!("{at}: integer without minimum and maximum"));
                }
                let too_big = s["maximum"].as_f64().is_some_and(|m| m > 9.223_372_036_854_776e18);
                if too_big {
                    unbounded.push(format!("{at}: maximum beyond what the store holds"));
                }
            }
            if has_type(s, "array") {
                checked += 1;
                if !s["maxItems"].is_number() {
                    unbounded.push(format!("{at}: list without maxItems"));
                }
            }
        });
    }
    assert!(checked >= 40, "only {checked} numbers and lists seen");
    assert!(unbounded.is_empty(), "{}", unbounded.join("\n"));
    s.stop().await;
}

/// The class behind "errors that leave the API's form": every route, with each path parameter
/// and each integer query parameter replaced by values that do not parse or lie out of range,
/// answers 4xx in the JSON error form with a code; none answers 5xx or plain text.
#[tokio::test]
async fn malformed_urls_answer_in_the_api_error_form_on_every_route() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = start(dir.path(), true).await;
    let doc = openapi(&s).await;
    // `0` is a valid position (query) but no id (path).
    // Only an optional sign and digits are an integer: not ` 1`, `1e3`, `0x10` or 100 digits.
    let nines = "9".repeat(100);
    let bad_values = [
        "-1",
        "18446744073709551615",
        "9223372036854775808",
        "abc",
        "%FF%FE",
        "0",
        "%201",
        "1e3",
        "0x10",
        nines.as_str(),
    ];
    let mut tried = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("item") {
            let params: Vec<&Value> = op["parameters"].as_array().into_iter().flatten().collect();
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let mut urls = Vec::new();
            for p in &params {
                let name = p["name"].as_str().expect("name");
                let is_int = has_type(&p["schema"], "integer");
                for bad in &bad_values {
                    if p["in"] == "path" {
                        // The others keep a plausible value, so only this one is wrong.
                        let mut u = path.replace(&format!("{{{name}}}"), bad);
                        for q in &params {
                            let n = q["name"].as_str().unwrap_or("");
                            let v = if has_type(&q["schema"], "integer") {
                                "1"
                            } else {
                                "bakkerij-de-vries"
                            };
                            u = u.replace(&format!("{{{n}}}"), v);
                        }
                        urls.push(u);
                    } else if is_int && *bad != "0" {
                        let mut u = path.clone();
                        for q in &params {
                            let n = q["name"].as_str().unwrap_or("");
                            let v = if has_type(&q["schema"], "integer") {
                                "1"
                            } else {
                                "bakkerij-de-vries"
                            };
                            u = u.replace(&format!("{{{n}}}"), v);
                        }
                        urls.push(format!("{u}?{name}={bad}"));
                    }
                }
            }
            for u in urls {
                let r = s
                    .client
                    .request(m.clone(), s.url(&u))
                    .bearer_auth(&s.token)
                    .header("content-type", "application/json")
                    .body("{}")
                    .send()
                    .await
                    .expect("send");
                let status = r.status().as_u16();
                let ctype = r
                    .headers()
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                let text = r.text().await.unwrap_or_default();
                assert!((400..500).contains(&status), "{method} {u}: {status} {text}");
                assert!(ctype.starts_with("application/json"), "{method} {u}: {ctype} {text}");
                let body: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{method} {u}: {e}: {text}"));
                assert!(
                    body["error"]["code"].as_str().is_some_and(|c| !c.is_empty()),
                    "{method} {u}: {text}"
                );
                assert!(
                    !text.contains("-1\"") || u.contains("-1"),
                    "{method} {u}: a wrapped number: {text}"
                );
                tried += 1;
            }
        }
    }
    assert!(tried >= 200, "only {tried} malformed requests");

    // A request target beyond the server's limit (and below hyper's own) is refused in the
    // same form.
    let long = format!("/api/v1/customers/{}", "a".repeat(20_000));
    let r = s.get(&long).send().await.expect("send");
    assert_eq!(r.status(), 414);
    assert_eq!(code(r).await.1, "uri_too_long");
    s.stop().await;
}

/// Each finding of the probe, refused as it should be.
#[tokio::test]
async fn what_the_probe_found_is_refused_with_the_right_code() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = start(dir.path(), true).await;
    let own = "bakkerij-de-vries";
    let admin = account(&s, "anke.admin", "customer_admin", Some(own)).await;
    account(&s, "bert.user", "customer_user", Some(own)).await;
    let ours: Vec<Value> =
        serde_json::from_value(s.json(&format!("/api/v1/accounts?customer={own}")).await).expect("list");
    let bert = ours
        .iter()
        .find(|a| a["username"] == "bert.user")
        .and_then(|a| a["id"].as_u64())
        .expect("bert");
    let as_admin = |m: reqwest::Method, path: String, body: String| {
        let (c, url, t) = (s.client.clone(), s.url(&path), admin.clone());
        async move {
            let r = c
                .request(m, url)
                .bearer_auth(t)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .expect("send");
            code(r).await
        }
    };
    let post = reqwest::Method::POST;

    // 2. A block of i64::MAX hours: refused while reading, not a dropped connection; the
    //    largest the reader takes is refused by the agreement's term.
    let (st, c, body) = as_admin(
        post.clone(),
        format!("/api/v1/accounts/{bert}/block"),
        json!({"hours": 9_223_372_036_854_775_807_i64, "grounds": "probe"}).to_string(),
    )
    .await;
    assert_eq!((st, c.as_str()), (400, "bad_request"), "{body}");
    let (st, c, body) = as_admin(
        post.clone(),
        format!("/api/v1/accounts/{bert}/block"),
        json!({"hours": 8784, "grounds": "probe"}).to_string(),
    )
    .await;
    assert_eq!((st, c.as_str()), (403, "block_too_long"), "{body}");
    let (st, c, body) = as_admin(
        post.clone(),
        format!("/api/v1/accounts/{bert}/block"),
        json!({"hours": 8785, "grounds": "probe"}).to_string(),
    )
    .await;
    assert_eq!((st, c.as_str()), (400, "bad_request"), "{body}");

    // 7. Duplicate keys, at the top and deeper down.
    let (st, c, body) = as_admin(
        post.clone(),
        format!("/api/v1/accounts/{bert}/block"),
        r#"{"hours": 2, "hours": 3, "grounds": "probe"}"#.into(),
    )
    .await;
    assert_eq!((st, c.as_str()), (400, "bad_request"), "{body}");
    let (st, c, body) = as_admin(
        post.clone(),
        format!("/api/v1/customers/{own}/vault/collections"),
        r#"{"name": "x", "fields": [{"name": "a", "category": "contact", "category": "health"}]}"#.into(),
    )
    .await;
    assert_eq!((st, c.as_str()), (400, "bad_request"), "{body}");
    assert!(body.to_string().contains("twice"), "{body}");

    // 7. A token naming one operation many times (the probe sent 10,000; past 64 the list is
    //    refused while reading), or twice.
    let many: Vec<&str> = vec!["agreements_read"; 100];
    for ops in [many, vec!["agreements_read", "agreements_read"]] {
        let (st, c, body) = as_admin(
            post.clone(),
            format!("/api/v1/customers/{own}/tokens"),
            json!({"operations": ops, "days": 30}).to_string(),
        )
        .await;
        assert_eq!((st, c.as_str()), (400, "bad_request"), "{body}");
    }
    let (st, _, body) = as_admin(
        post.clone(),
        format!("/api/v1/customers/{own}/tokens"),
        json!({"operations": ["agreements_read"], "days": 30}).to_string(),
    )
    .await;
    assert_eq!(st, 201, "{body}");

    // 3. Log positions past i64::MAX.
    for q in [
        format!("/api/v1/customers/{own}/log?from=9223372036854775808"),
        format!("/api/v1/customers/{own}/log/bundle?from=9223372036854775808"),
        "/api/v1/log/consistency?old=1&new=9223372036854775808".to_string(),
    ] {
        let (st, c, body) = as_admin(reqwest::Method::GET, q.clone(), String::new()).await;
        assert_eq!((st, c.as_str()), (400, "bad_request"), "{q}: {body}");
    }

    // 6. A notice id past i64::MAX is not "notice -1"; a missing legal hold is named so.
    let (st, c, body) = as_admin(
        post.clone(),
        format!("/api/v1/customers/{own}/notices/18446744073709551615/acknowledge"),
        "{}".into(),
    )
    .await;
    assert_eq!((st, c.as_str()), (400, "bad_request"), "{body}");
    assert!(!body.to_string().contains("-1"), "{body}");
    let (st, c, body) = as_admin(
        reqwest::Method::DELETE,
        format!("/api/v1/customers/{own}/vault/legal-holds/4242"),
        String::new(),
    )
    .await;
    assert_eq!((st, c.as_str()), (404, "legal_hold_not_found"), "{body}");

    // 6 and 7, as the processor: an unknown customer added to an incident, an awareness in
    // year 1.
    let r = s
        .post("/api/v1/incidents")
        .json(&json!({"details": {"summary": "probe"}, "aware_at": "0001-01-01T00:00:00Z"}))
        .send()
        .await
        .expect("send");
    assert_eq!(code(r).await.1, "incident_invalid");
    let r = s
        .post("/api/v1/incidents")
        .json(&json!({"details": {"summary": "probe"}}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 201);
    let inc: Value = r.json().await.expect("json");
    let id = inc["id"].as_u64().expect("id");
    let r = s
        .client
        .put(s.url(&format!("/api/v1/incidents/{id}/customers")))
        .bearer_auth(&s.token)
        .json(&json!({"version": inc["version"], "add": [{"customer": "no-such-customer"}]}))
        .send()
        .await
        .expect("send");
    let (st, c, body) = code(r).await;
    assert_eq!((st, c.as_str()), (404, "customer_not_found"), "{body}");

    // 6. A query that does not parse answers JSON, not text.
    let (st, c, body) = as_admin(
        reqwest::Method::GET,
        format!("/api/v1/customers/{own}/log?limit=-1"),
        String::new(),
    )
    .await;
    assert_eq!((st, c.as_str()), (400, "bad_request"), "{body}");
    s.stop().await;
}

/// Finding 1's class: a second customer's admin calls every route of the OpenAPI document with
/// the first customer's real ids (its customer, agreement, account, role grant, token,
/// collection, legal hold, incident) and again with ids that exist nowhere. Each pair of
/// answers is the same (status, code and message, once the ids are blanked), and no answer
/// holds a name or id of the first customer that the caller did not send.
#[tokio::test]
async fn not_yours_and_absent_answer_alike_on_every_route() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = start(dir.path(), true).await;
    let (first, second) = ("hanzeveld-installatietechniek", "bakkerij-de-vries");
    let hans = account(&s, "hans.admin", "customer_admin", Some(first)).await;
    let caller = account(&s, "anke.admin", "customer_admin", Some(second)).await;
    let send = |token: &str, m: reqwest::Method, path: &str, body: Value| {
        let (c, url, t) = (s.client.clone(), s.url(path), token.to_string());
        async move { c.request(m, url).bearer_auth(t).json(&body).send().await.expect("send") }
    };
    let post = reqwest::Method::POST;
    // The first customer's objects, made by its own admin and by the processor.
    let theirs: Vec<Value> =
        serde_json::from_value(s.json(&format!("/api/v1/accounts?customer={first}")).await).expect("list");
    let account_id = theirs[0]["id"].as_u64().expect("id").to_string();
    let grants: Vec<Value> =
        serde_json::from_value(s.json(&format!("/api/v1/grants?customer={first}")).await).expect("list");
    let grant_id = grants[0]["id"].as_u64().expect("id").to_string();
    let r = send(
        &hans,
        post.clone(),
        &format!("/api/v1/customers/{first}/tokens"),
        json!({"operations": ["agreements_read"], "days": 30}),
    )
    .await;
    assert_eq!(r.status(), 201);
    let token_id = r.json::<Value>().await.expect("json")["id"]
        .as_str()
        .expect("id")
        .to_string();
    let r = send(
        &hans,
        post.clone(),
        &format!("/api/v1/customers/{first}/vault/collections"),
        json!({"name": "hanzeveld_monteurs", "fields": [{"name": "name", "category": "identification"}]}),
    )
    .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    let r = send(
        &hans,
        post.clone(),
        &format!("/api/v1/customers/{first}/vault/legal-holds"),
        json!({"reason": "a court case"}),
    )
    .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    let hold_id = r.json::<Value>().await.expect("json")["id"]
        .as_u64()
        .expect("id")
        .to_string();
    let r = s
        .post("/api/v1/incidents")
        .json(&json!({"details": {"summary": "a lost laptop"}}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 201);
    let incident_id = r.json::<Value>().await.expect("json")["id"]
        .as_u64()
        .expect("id")
        .to_string();

    // Each path parameter: (the first customer's value, a value that exists nowhere).
    let ids: Vec<(&str, String, String)> = vec![
        ("customer", first.into(), "no-such-customer".into()),
        ("agreement", "erp-integrator-klant".into(), "no-such-agreement".into()),
        ("version", "1".into(), "1".into()),
        ("account", account_id.clone(), "999999".into()),
        ("grant", grant_id.clone(), "999998".into()),
        ("token", token_id.clone(), "tok_000000000000".into()),
        ("collection", "hanzeveld_monteurs".into(), "no-such-collection".into()),
        ("id", incident_id.clone(), "999997".into()),
        ("notice", "1".into(), "999996".into()),
        ("action", "approve".into(), "approve".into()),
    ];
    // What the caller never sent and must never read.
    let foreign = [
        first,
        "Hanzeveld",
        "hans.admin",
        "erp-integrator-klant",
        token_id.as_str(),
        "hanzeveld_monteurs",
    ];
    let doc = openapi(&s).await;
    let body_for = |path: &str| match path.rsplit('/').next().unwrap_or("") {
        "block" => json!({"hours": 2, "grounds": "probe"}),
        "enable" | "password-disclosed" => json!({"reason": "probe"}),
        "grants" => json!({"role": "customer_user", "customer": second}),
        _ => json!({}),
    };
    let blank = |text: &str, values: &[&str]| {
        let mut t = text.to_string();
        let mut sorted: Vec<&&str> = values
            .iter()
            .filter(|v| v.len() > 1 && !v.bytes().all(|b| b.is_ascii_digit()))
            .collect();
        sorted.sort_by_key(|v| std::cmp::Reverse(v.len()));
        for v in sorted {
            t = t.replace(*v, "<ID>");
        }
        // Numeric ids (and any other number) alike: every run of digits is one mark.
        let mut out = String::with_capacity(t.len());
        for ch in t.chars() {
            if ch.is_ascii_digit() {
                if !out.ends_with('#') {
                    out.push('#');
                }
            } else {
                out.push(ch);
            }
        }
        out
    };
    let mut compared = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        if !path.starts_with("/api/v1") || !path.contains('{') {
            continue;
        }
        for method in item.as_object().expect("item").keys() {
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let (mut theirs, mut absent) = (path.clone(), path.clone());
            for (name, real, made_up) in &ids {
                theirs = theirs.replace(&format!("{{{name}}}"), real);
                absent = absent.replace(&format!("{{{name}}}"), made_up);
            }
            if path.contains("/records/") {
                theirs = theirs.replace("{id}", "rec_000000000000");
            }
            let theirs = theirs.replace(
                &format!("/legal-holds/{incident_id}"),
                &format!("/legal-holds/{hold_id}"),
            );
            let a = send(&caller, m.clone(), &theirs, body_for(path)).await;
            let b = send(&caller, m.clone(), &absent, body_for(path)).await;
            let (sa, sb) = (a.status().as_u16(), b.status().as_u16());
            let (ta, tb) = (a.text().await.unwrap_or_default(), b.text().await.unwrap_or_default());
            assert!(matches!(sa, 400 | 403 | 404), "{method} {theirs}: {sa} {ta}");
            for f in &foreign {
                // Only what the caller put in the URL itself may come back.
                if !theirs.contains(f) {
                    assert!(!ta.contains(f), "{method} {theirs} names `{f}`: {ta}");
                }
            }
            let reals: Vec<&str> = ids
                .iter()
                .map(|(_, r, _)| r.as_str())
                .chain([hold_id.as_str()])
                .collect();
            let made: Vec<&str> = ids.iter().map(|(_, _, m)| m.as_str()).collect();
            assert_eq!(
                (sa, blank(&ta, &reals)),
                (sb, blank(&tb, &made)),
                "{method} {path}: not yours ({theirs}) and absent ({absent}) differ"
            );
            compared += 1;
        }
    }
    assert!(compared >= 45, "only {compared} routes compared");
    // The lists that take a customer in the query.
    for list in [
        "/api/v1/accounts",
        "/api/v1/grants",
        "/api/v1/deadlines",
        "/api/v1/deadlines.ics",
    ] {
        let a = send(
            &caller,
            reqwest::Method::GET,
            &format!("{list}?customer={first}"),
            json!({}),
        )
        .await;
        let b = send(
            &caller,
            reqwest::Method::GET,
            &format!("{list}?customer=no-such-customer"),
            json!({}),
        )
        .await;
        let (sa, sb) = (a.status().as_u16(), b.status().as_u16());
        let (ta, tb) = (a.text().await.unwrap_or_default(), b.text().await.unwrap_or_default());
        assert_eq!(
            (sa, blank(&ta, &[first])),
            (sb, blank(&tb, &["no-such-customer"])),
            "{list}"
        );
        assert!(!ta.contains("Hanzeveld") && !ta.contains("hans.admin"), "{list}: {ta}");
    }
    s.stop().await;
}

/// 7. An e-mail address is found whether it is written composed (NFC) or decomposed (NFD).
#[tokio::test]
async fn an_email_address_is_found_in_either_unicode_form() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = start(dir.path(), true).await;
    let own = "bakkerij-de-vries";
    let admin = account(&s, "anke.admin", "customer_admin", Some(own)).await;
    let c = &s.client;
    let r = c
        .post(s.url(&format!("/api/v1/customers/{own}/vault/collections")))
        .bearer_auth(&admin)
        .json(&json!({"name": "staff", "fields": [
            {"name": "name", "category": "identification"},
            {"name": "email", "category": "contact", "identifier": "email"}
        ]}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 201);
    let composed = "Jos\u{e9}.M\u{fc}ller@bakkerij.example";
    let decomposed = "jose\u{301}.mu\u{308}ller@bakkerij.example";
    assert_ne!(composed.to_lowercase(), decomposed);
    let r = c
        .post(s.url(&format!(
            "/api/v1/customers/{own}/vault/collections/staff/records?purpose=payroll"
        )))
        .bearer_auth(&admin)
        .json(&json!({"subject": "emp-1", "values": {"name": "José", "email": composed}}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.expect("json");
    for form in [composed, decomposed] {
        let r = c
            .post(s.url(&format!("/api/v1/customers/{own}/vault/lookup?purpose=payroll")))
            .bearer_auth(&admin)
            .json(&json!({ "email": form }))
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 200);
        let found: Value = r.json().await.expect("json");
        assert_eq!(found["records"][0]["id"], created["id"], "{form:?}");
    }
    s.stop().await;
}

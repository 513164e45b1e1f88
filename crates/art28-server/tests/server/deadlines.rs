//! The one deadlines view (`/api/v1/deadlines`, `/api/v1/deadlines.ics`) through HTTP, with
//! the server's clock moved by hand and breach notices delivered to a real SMTP server
//! (aiosmtpd, installed by scripts/test).

use crate::accounts::account;
use crate::aiosmtpd::{Smtp, free_port};
use crate::harness::{TestServer, code, start_mailing};
use crate::incidents::eventually;
use serde_json::{Value, json};
use std::collections::BTreeSet;

const BAKKERIJ: &str = "bakkerij-de-vries";
const HANZEVELD: &str = "hanzeveld-installatietechniek";

async fn json_of(r: reqwest::Response) -> Value {
    let status = r.status();
    let text = r.text().await.expect("body");
    assert!(status.is_success(), "{status}: {text}");
    serde_json::from_str(&text).expect("json")
}

/// A breach the processor became aware of at `aware_at`, touching `customers`, ready for its
/// notices: its id and version.
async fn breach(s: &TestServer, summary: &str, aware_at: &str, customers: &[&str]) -> (u64, u64) {
    let inc = json_of(
        s.post("/api/v1/incidents")
            .json(&json!({"aware_at": aware_at, "details": {
                "summary": summary,
                "actions": ["reading"],
                "cause": "A laptop left on a train",
                "failed_measure": "Disk encryption was not enforced"
            }}))
            .send()
            .await
            .expect("send"),
    )
    .await;
    let id = inc["id"].as_u64().expect("id");
    let mut v = inc["version"].as_u64().expect("v");
    for step in ["triage", "breach"] {
        let inc = json_of(
            s.post(&format!("/api/v1/incidents/{id}/step"))
                .json(&json!({"version": v, "step": step}))
                .send()
                .await
                .expect("send"),
        )
        .await;
        v = inc["version"].as_u64().expect("v");
    }
    let add: Vec<Value> = customers.iter().map(|c| json!({"customer": c})).collect();
    let inc = json_of(
        s.client
            .put(s.url(&format!("/api/v1/incidents/{id}/customers")))
            .bearer_auth(&s.token)
            .json(&json!({"version": v, "add": add}))
            .send()
            .await
            .expect("send"),
    )
    .await;
    (id, inc["version"].as_u64().expect("v"))
}

async fn send_notices(s: &TestServer, id: u64) {
    let v = json_of(s.get(&format!("/api/v1/incidents/{id}")).send().await.expect("send")).await["version"]
        .as_u64()
        .expect("v");
    let r = s
        .post(&format!("/api/v1/incidents/{id}/notices"))
        .json(&json!({"version": v}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
}

/// The view as `token` sees it, as (incident, customer, state).
async fn view(s: &TestServer, token: &str, query: &str) -> Vec<(u64, String, String)> {
    let list = json_of(
        s.client
            .get(s.url(&format!("/api/v1/deadlines{query}")))
            .bearer_auth(token)
            .send()
            .await
            .expect("send"),
    )
    .await;
    list.as_array()
        .expect("list")
        .iter()
        .map(|d| {
            (
                d["subject"]["number"].as_u64().expect("number"),
                d["customer"].as_str().expect("customer").to_string(),
                d["state"].as_str().expect("state").to_string(),
            )
        })
        .collect()
}

/// The operations and resources in a customer's access log, oldest first, without the
/// operator's own reads of it.
async fn logged(s: &TestServer, customer: &str) -> Vec<(String, String, Option<String>)> {
    let page = json_of(
        s.get(&format!("/api/v1/customers/{customer}/log"))
            .send()
            .await
            .expect("send"),
    )
    .await;
    page["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| {
            let e = &e["entry"];
            (
                e["operation"].as_str().unwrap_or_default().to_string(),
                e["resource"].as_str().unwrap_or_default().to_string(),
                e["rule"].as_str().map(str::to_string),
            )
        })
        .filter(|(op, _, _)| op != "log.read")
        .collect()
}

/// An iCalendar feed checked line by line (CRLF, at most 75 octets, continuations start with
/// a space) and unfolded: its events, each as its properties.
fn parse_ics(raw: &str) -> Vec<Vec<(String, String)>> {
    assert!(raw.ends_with("\r\n"), "the feed ends with CRLF");
    assert!(
        !raw.replace("\r\n", "").contains(['\r', '\n']),
        "every line ends in CRLF"
    );
    let physical: Vec<&str> = raw.trim_end_matches("\r\n").split("\r\n").collect();
    for l in &physical {
        assert!(l.len() <= 75, "a line of {} octets: {l}", l.len());
    }
    let mut lines: Vec<String> = Vec::new();
    for l in physical {
        match l.strip_prefix(' ') {
            Some(rest) => lines.last_mut().expect("a folded line continues one").push_str(rest),
            None => lines.push(l.to_string()),
        }
    }
    assert_eq!(lines.first().map(String::as_str), Some("BEGIN:VCALENDAR"));
    assert_eq!(lines.last().map(String::as_str), Some("END:VCALENDAR"));
    assert!(lines.iter().any(|l| l == "VERSION:2.0"));
    assert!(lines.iter().any(|l| l.starts_with("PRODID:")));
    let mut events = Vec::new();
    let mut current: Option<Vec<(String, String)>> = None;
    for l in lines {
        match l.as_str() {
            "BEGIN:VEVENT" => {
                assert!(current.is_none(), "events do not nest");
                current = Some(Vec::new());
            }
            "END:VEVENT" => events.push(current.take().expect("an event ends after it began")),
            _ => {
                if let Some(ev) = current.as_mut() {
                    let (k, v) = l.split_once(':').expect("NAME:value");
                    ev.push((k.to_string(), v.to_string()));
                }
            }
        }
    }
    assert!(current.is_none(), "every event ends");
    for ev in &events {
        for need in ["UID", "DTSTAMP", "DTSTART", "SUMMARY"] {
            assert_eq!(ev.iter().filter(|(k, _)| k == need).count(), 1, "{need} once: {ev:?}");
        }
    }
    events
}

fn prop<'a>(ev: &'a [(String, String)], name: &str) -> &'a str {
    ev.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_default()
}

async fn feed(s: &TestServer, query: &str) -> Vec<Vec<(String, String)>> {
    let r = s
        .get(&format!("/api/v1/deadlines.ics{query}"))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers().get("content-type").and_then(|v| v.to_str().ok()),
        Some("text/calendar; charset=utf-8")
    );
    parse_ics(&r.text().await.expect("body"))
}

#[tokio::test]
async fn every_notice_deadline_is_in_one_view_that_follows_the_clock_and_the_notices() {
    let dir = tempfile::tempdir().expect("tmp");
    let maildir = dir.path().join("mail");
    let port = free_port();
    let _smtp = Smtp::start(port, &maildir);
    let s = start_mailing(&dir.path().join("data"), &format!("127.0.0.1:{port}")).await;
    let op = s.token.clone();
    let anna = account(&s, "anna.admin", "customer_admin", Some(BAKKERIJ)).await;
    let henk = account(&s, "henk.admin", "customer_admin", Some(HANZEVELD)).await;
    let kees = account(&s, "kees", "customer_user", Some(BAKKERIJ)).await;
    assert!(view(&s, &op, "").await.is_empty());

    // A breach touching both customers, known now (2026-11-22T10:00Z); an older one touching
    // Bakkerij only. Both agreements give the processor 48 hours (`PT48H`).
    let long_title = "Laptop kwijt; wachtwoorden, back-ups en \"alles\" \u{2014} ".repeat(3);
    let (a, _) = breach(&s, &long_title, "2026-11-22T10:00:00Z", &[HANZEVELD, BAKKERIJ]).await;
    let (b, _) = breach(&s, "Misdirected export", "2026-11-21T08:00:00Z", &[BAKKERIJ]).await;
    let all = json_of(s.get("/api/v1/deadlines").send().await.expect("send")).await;
    let all = all.as_array().expect("list");
    assert_eq!(all.len(), 3, "{all:?}");
    for d in all.iter().filter(|d| d["subject"]["number"] == a) {
        assert_eq!(d["kind"], "breach_notice");
        assert_eq!(d["due"], "2026-11-24T10:00:00Z", "awareness + 48 hours");
        assert_eq!(d["subject"]["title"], long_title.as_str());
        assert_eq!(d["state"], "open");
        assert!(d.get("done").is_none(), "{d}");
    }
    let a_customers: BTreeSet<&str> = all
        .iter()
        .filter(|d| d["subject"]["number"] == a)
        .filter_map(|d| d["customer"].as_str())
        .collect();
    assert_eq!(a_customers, BTreeSet::from([BAKKERIJ, HANZEVELD]));
    assert_eq!(
        view(&s, &op, "").await,
        vec![
            (b, BAKKERIJ.into(), "open".into()),
            (a, BAKKERIJ.into(), "open".into()),
            (a, HANZEVELD.into(), "open".into()),
        ],
        "open ones by due date"
    );

    // Each customer sees its own deadlines only; one entry per call in its own log.
    let before = logged(&s, BAKKERIJ).await.len();
    assert_eq!(
        view(&s, &anna, "").await,
        vec![(b, BAKKERIJ.into(), "open".into()), (a, BAKKERIJ.into(), "open".into())]
    );
    assert_eq!(view(&s, &anna, &format!("?customer={BAKKERIJ}")).await.len(), 2);
    assert_eq!(view(&s, &henk, "").await, vec![(a, HANZEVELD.into(), "open".into())]);
    let bakkerij = logged(&s, BAKKERIJ).await;
    assert_eq!(
        bakkerij[before..],
        [
            ("deadline.read".into(), "deadlines".into(), None),
            ("deadline.read".into(), "deadlines".into(), None),
        ],
        "one entry per call"
    );
    assert!(
        !logged(&s, HANZEVELD).await.iter().any(|(_, _, rule)| rule.is_some()),
        "Henk's own read refused nothing"
    );
    // Not theirs answers as a customer that does not exist, naming nothing of the other.
    let ask = |token: &str, q: String| {
        let (c, url, t) = (s.client.clone(), s.url(&q), token.to_string());
        async move { code(c.get(url).bearer_auth(t).send().await.expect("send")).await }
    };
    for path in ["/api/v1/deadlines", "/api/v1/deadlines.ics"] {
        let (st_a, code_a, body_a) = ask(&henk, format!("{path}?customer={BAKKERIJ}")).await;
        let (st_b, code_b, body_b) = ask(&henk, format!("{path}?customer=no-such-customer")).await;
        assert_eq!((st_a, code_a.as_str()), (403, "tenant_mismatch"), "{body_a}");
        assert_eq!(
            (st_a, code_a, body_a.to_string().replace(BAKKERIJ, "<ID>")),
            (st_b, code_b, body_b.to_string().replace("no-such-customer", "<ID>")),
            "{path}"
        );
    }
    // Without the permission: refused, and the refusal is in the customer's log.
    let (st, rule, _) = ask(&kees, "/api/v1/deadlines".into()).await;
    assert_eq!((st, rule.as_str()), (403, "permission_denied"));
    assert_eq!(
        logged(&s, BAKKERIJ).await.last(),
        Some(&(
            "deadline.read".into(),
            "deadlines".into(),
            Some("permission_denied".into())
        ))
    );
    // A bad filter is the API's error form.
    let (st, rule, _) = ask(&op, "/api/v1/deadlines?state=late".into()).await;
    assert_eq!((st, rule.as_str()), (400, "bad_request"));
    let (st, rule, _) = ask(&op, "/api/v1/deadlines?customer=no-such-customer".into()).await;
    assert_eq!((st, rule.as_str()), (404, "customer_not_found"));
    // The portal's session cookie is as good as the bearer token.
    let r = s
        .client
        .get(s.url("/api/v1/deadlines.ics"))
        .header("cookie", format!("art28_session={anna}"))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    assert_eq!(parse_ics(&r.text().await.expect("body")).len(), 2);

    // 13 hours on, the older breach's notice is due within 12 hours.
    s.clock.advance(jiff::SignedDuration::from_hours(13));
    assert_eq!(
        view(&s, &op, "").await,
        vec![
            (b, BAKKERIJ.into(), "due_soon".into()),
            (a, BAKKERIJ.into(), "open".into()),
            (a, HANZEVELD.into(), "open".into()),
        ]
    );
    // A day later it is overdue and the new breach's are due soon: overdue first.
    s.clock.advance(jiff::SignedDuration::from_hours(24));
    assert_eq!(
        view(&s, &op, "").await,
        vec![
            (b, BAKKERIJ.into(), "overdue".into()),
            (a, BAKKERIJ.into(), "due_soon".into()),
            (a, HANZEVELD.into(), "due_soon".into()),
        ]
    );
    assert_eq!(
        view(&s, &op, "?state=overdue").await,
        vec![(b, BAKKERIJ.into(), "overdue".into())]
    );
    assert_eq!(
        view(&s, &op, &format!("?customer={HANZEVELD}")).await,
        vec![(a, HANZEVELD.into(), "due_soon".into())]
    );

    // The feed: one event per running deadline, its UID the same in every fetch.
    let first = feed(&s, "").await;
    let second = feed(&s, "?lang=en").await;
    assert_eq!(first.len(), 3);
    let uids = |evs: &[Vec<(String, String)>]| -> BTreeSet<String> {
        evs.iter().map(|e| prop(e, "UID").to_string()).collect()
    };
    assert_eq!(uids(&first), uids(&second), "UIDs are stable");
    assert_eq!(uids(&first).len(), 3, "one UID per deadline");
    let hanze = second
        .iter()
        .find(|e| prop(e, "UID").contains(HANZEVELD))
        .expect("Hanzeveld's event");
    assert_eq!(prop(hanze, "DTSTART"), "20261124T100000Z");
    assert_eq!(prop(hanze, "DTSTAMP"), "20261123T230000Z");
    let summary = prop(hanze, "SUMMARY");
    assert!(
        summary.starts_with(&format!("Breach notice: incident {a} ")),
        "{summary}"
    );
    assert!(
        summary.contains("Laptop kwijt\\; wachtwoorden\\, back-ups"),
        "text is escaped: {summary}"
    );
    assert!(
        prop(&first[0], "SUMMARY").starts_with("Melding datalek"),
        "Dutch unless asked"
    );

    // The notices of the new breach go out before the deadline: met. The older one's go out
    // late: met late. Only running deadlines stay in the feed.
    send_notices(&s, a).await;
    let met = eventually("notices of the new breach not delivered", || async {
        let v = view(&s, &op, "").await;
        v.iter().filter(|(_, _, st)| st == "met").count().eq(&2).then_some(v)
    })
    .await;
    assert_eq!(met[0], (b, BAKKERIJ.into(), "overdue".into()), "{met:?}");
    let only = feed(&s, "").await;
    assert_eq!(only.len(), 1);
    assert_eq!(
        prop(&only[0], "UID"),
        uids(&first)
            .into_iter()
            .find(|u| u.contains(&format!("-{b}-")))
            .expect("b's UID")
    );
    s.clock.advance(jiff::SignedDuration::from_mins(1));
    send_notices(&s, b).await;
    let done = eventually("the late notice not delivered", || async {
        let v = view(&s, &op, "").await;
        v.iter().any(|(_, _, st)| st == "met_late").then_some(v)
    })
    .await;
    // Done ones, most recently done first.
    assert_eq!(done[0], (b, BAKKERIJ.into(), "met_late".into()), "{done:?}");
    assert!(done[1..].iter().all(|(n, _, st)| *n == a && st == "met"), "{done:?}");
    assert!(feed(&s, "").await.is_empty());
    s.stop().await;
}

/// The document declares what the routes answer (schemathesis checks answers against it).
#[tokio::test]
async fn the_openapi_document_declares_the_views_answers() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = crate::harness::start(dir.path(), false).await;
    let doc = s.json("/api/openapi.json").await;
    let list = &doc["paths"]["/api/v1/deadlines"]["get"];
    let ok = &list["responses"]["200"]["content"]["application/json"]["schema"];
    assert_eq!(ok["type"], "array", "{list}");
    let params: BTreeSet<&str> = list["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(params, BTreeSet::from(["customer", "state"]));
    let ics = &doc["paths"]["/api/v1/deadlines.ics"]["get"]["responses"]["200"]["content"];
    assert!(ics["text/calendar"].is_object(), "{ics}");
    assert!(ics.get("text/plain; charset=utf-8").is_none(), "{ics}");
    let deadline = &doc["components"]["schemas"]["Deadline"]["properties"];
    for field in ["kind", "customer", "subject", "due", "done", "state"] {
        assert!(deadline[field].is_object(), "Deadline.{field}: {deadline}");
    }
    assert_eq!(ok["items"]["$ref"], "#/components/schemas/Deadline");
    let names: Vec<&String> = doc["components"]["schemas"]
        .as_object()
        .expect("schemas")
        .keys()
        .filter(|k| k.starts_with("Deadline"))
        .collect();
    assert!(
        !names.iter().any(|n| n.ends_with('2')),
        "two schemas share a name: {names:?}"
    );
    s.stop().await;
}

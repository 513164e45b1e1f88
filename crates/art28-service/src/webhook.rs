//! Breach notices to a customer's own system: an HTTPS POST of the notice as JSON, signed
//! with HMAC-SHA256.
//!
//! Headers: `Idempotency-Key` (the outbox key; the same on every retry), `X-Art28-Timestamp`
//! (Unix seconds) and `X-Art28-Signature: v1=<hex>`, the HMAC-SHA256 of `<timestamp>.<body>`
//! under the customer's webhook secret. The secret is derived from the customer's key and the
//! webhook's generation ([`crate::vault::Vault::webhook_key`]); it is shown once, when the
//! webhook is set, and never stored. Redirects are not followed.
//!
//! A customer sets, reads and removes its webhook through [`Incidents`]; each call leaves one
//! entry in its access log (resource `webhook`).

use crate::access::{Access, RequestContext, log_read};
use crate::clock::Clock;
use crate::incidents::{Courier, Fail, Incidents};
use crate::staff_access::event;
use crate::vault::Vault;
use art28_core::auth::Principal;
use art28_core::ids::CustomerId;
use art28_core::operation::Operation;
use art28_core::{Error, ErrorCode, Result};
use art28_store::{DeliveryRecord, NoticeRecord, Store, WebhookRecord};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::sync::Arc;
use std::time::Duration;

/// The resource every webhook entry names.
const RESOURCE: &str = "webhook";

/// Posts notices to customers' webhooks.
#[derive(Clone)]
pub struct WebhookSender {
    client: reqwest::Client,
    store: Arc<dyn Store>,
    vault: Arc<Vault>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for WebhookSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSender").finish_non_exhaustive()
    }
}

impl WebhookSender {
    /// A sender with a 20-second timeout that follows no redirects.
    pub fn new(store: Arc<dyn Store>, vault: Arc<Vault>, clock: Arc<dyn Clock>) -> Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("art28/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::new(ErrorCode::Internal, format!("no HTTP client: {e}")))?;
        Ok(Self {
            client,
            store,
            vault,
            clock,
        })
    }
}

/// The signature header's value for a body sent at `timestamp` (Unix seconds).
fn signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(secret) {
        Ok(m) => m,
        // HMAC takes keys of any length; this arm is never taken.
        Err(_) => return String::new(),
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1={}", hex::encode(mac.finalize().into_bytes()))
}

#[async_trait::async_trait]
impl Courier for WebhookSender {
    fn channel(&self) -> &'static str {
        "webhook"
    }

    async fn send(&self, d: &DeliveryRecord, n: &NoticeRecord) -> std::result::Result<(), String> {
        let hook = self
            .store
            .webhook(&n.customer)
            .await
            .map_err(|e| e.message)?
            .ok_or("the customer removed its webhook")?;
        if hook.url != d.recipient {
            // The customer moved its webhook since the notice was queued: send to the new one.
            tracing::info!(
                delivery = d.id,
                "webhook changed since queued; sending to the current one"
            );
        }
        let key = self
            .vault
            .webhook_key(&n.customer, hook.generation, false)
            .await
            .map_err(|e| e.message)?;
        let body = serde_json::to_vec(&serde_json::json!({
            "type": "art28.breach_notice",
            "notice": n.id,
            "incident": n.incident_id,
            "customer": n.customer,
            "step": n.step,
            "language": n.language.tag(),
            "subject": n.subject,
            "body": n.body,
            "content": n.content,
        }))
        .map_err(|e| format!("notice not serialised: {e}"))?;
        let ts = self.clock.now().as_second();
        let sig = signature(key.expose(), ts, &body);
        let resp = self
            .client
            .post(&hook.url)
            .header("content-type", "application/json")
            .header("idempotency-key", &d.idempotency_key)
            .header("x-art28-timestamp", ts.to_string())
            .header("x-art28-signature", sig)
            .body(body)
            .send()
            .await
            .map_err(|e| format!("webhook not reached: {}", e.without_url()))?;
        if resp.status().is_success() {
            Ok(())
        } else {
            Err(format!("webhook answered {}", resp.status()))
        }
    }
}

/// Check a webhook address: `https://…`, or `http://` to this machine (for a local relay).
fn check_url(url: &str) -> Result<()> {
    let bad = |m: &str| Error::new(ErrorCode::WebhookInvalid, m.to_string());
    if url.len() > 2000 {
        return Err(bad("the webhook address is longer than 2000 characters"));
    }
    let u = reqwest::Url::parse(url).map_err(|_| bad("the webhook address is not a URL"))?;
    if !u.username().is_empty() || u.password().is_some() {
        return Err(bad(
            "put no credentials in the webhook address; requests are signed instead",
        ));
    }
    let local = matches!(u.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    // Not into the processor's own network by address (names that resolve there are not
    // caught here; a firewall for outgoing webhook traffic should be the second line).
    let host_ip = u
        .host_str()
        .map(|h| h.trim_start_matches('[').trim_end_matches(']'))
        .and_then(|h| h.parse::<std::net::IpAddr>().ok());
    let internal = match host_ip {
        Some(std::net::IpAddr::V4(ip)) => {
            ip.is_private() || ip.is_link_local() || ip.is_unspecified() || ip.is_broadcast()
        }
        Some(std::net::IpAddr::V6(ip)) => {
            let first = ip.segments()[0];
            ip.is_unspecified() || (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80
        }
        None => false,
    };
    if internal {
        return Err(bad("a webhook address may not point into a private network"));
    }
    match u.scheme() {
        "https" if u.host_str().is_some() => Ok(()),
        "http" if local => Ok(()),
        _ => Err(bad(
            "a webhook address is https://…; plain http only to this machine (localhost)",
        )),
    }
}

impl Incidents {
    /// Set (or replace) a customer's webhook; the new secret (hex) is in the answer, once. One
    /// entry in the customer's log, written with the change (or the refusal: a bad address).
    pub async fn set_webhook(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        tenant: &CustomerId,
        url: &str,
    ) -> Result<(WebhookRecord, String)> {
        let op = Operation::WebhookSet;
        let step = async {
            self.judge(who, tenant, op).await?;
            let url = url.trim();
            check_url(url)?;
            let now = self.clock.now();
            let event = event(
                now,
                who,
                "webhook_set",
                format!("{tenant}: breach notices also to {url}"),
            );
            let entry = self.entry(ctx, tenant, op, RESOURCE);
            let hook = self
                .store
                .set_webhook(tenant, Some(url), now, &who.username, &[event], &entry)
                .await?
                .ok_or_else(|| Fail::Failed(Error::new(ErrorCode::WebhookNotFound, "the webhook was not kept")))?;
            // The entry is written: what fails from here is a failure, not a refusal.
            let key = self
                .vault
                .webhook_key(tenant, hook.generation, true)
                .await
                .map_err(Fail::Failed)?;
            Ok((hook, hex::encode(key.expose())))
        }
        .await;
        self.door(ctx, tenant, op, RESOURCE, step).await
    }

    /// The customer's webhook (without its secret); one entry in its log.
    pub async fn webhook(&self, ctx: &RequestContext, who: &Principal, tenant: &CustomerId) -> Result<WebhookRecord> {
        let op = Operation::WebhookRead;
        let step = async {
            self.judge(who, tenant, op).await?;
            let hook = self.store.webhook(tenant).await?.ok_or_else(|| {
                Error::new(
                    ErrorCode::WebhookNotFound,
                    format!("customer `{tenant}` has no webhook"),
                )
            })?;
            log_read(
                self.store.as_ref(),
                self.clock.as_ref(),
                ctx,
                Access {
                    tenant: Some(tenant),
                    operation: op,
                    resource: RESOURCE.into(),
                },
            )
            .await
            .map_err(Fail::Failed)?;
            Ok(hook)
        }
        .await;
        self.door(ctx, tenant, op, RESOURCE, step).await
    }

    /// Remove the customer's webhook; notices still go by e-mail. One entry in its log (a
    /// refusal, `webhook_not_found`, when it has none).
    pub async fn remove_webhook(&self, ctx: &RequestContext, who: &Principal, tenant: &CustomerId) -> Result<()> {
        let op = Operation::WebhookSet;
        let step = async {
            self.judge(who, tenant, op).await?;
            let now = self.clock.now();
            let event = event(now, who, "webhook_removed", format!("{tenant}: webhook removed"));
            let entry = self.entry(ctx, tenant, op, RESOURCE);
            self.store
                .set_webhook(tenant, None, now, &who.username, &[event], &entry)
                .await?;
            Ok(())
        }
        .await;
        self.door(ctx, tenant, op, RESOURCE, step).await
    }
}

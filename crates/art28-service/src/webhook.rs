//! Breach notices to a customer's own system: an HTTPS POST of the notice as JSON, signed
//! with HMAC-SHA256.
//!
//! Headers: `Idempotency-Key` (the outbox key; the same on every retry), `X-Art28-Timestamp`
//! (Unix seconds) and `X-Art28-Signature: v1=<hex>`, the HMAC-SHA256 of `<timestamp>.<body>`
//! under the customer's webhook secret. The secret is derived from the customer's key and the
//! webhook's generation ([`crate::vault::Vault::webhook_key`]); it is shown once, when the
//! webhook is set, and never stored. Redirects are not followed.
//!
//! Where a webhook may lead ([`WebhookPolicy`]): the public internet only, judged by
//! [`art28_core::net::reach`], and this machine's loopback where the operator allows it (a
//! local relay). The address is judged when the webhook is set (IP literals; `localhost`) and
//! again on every delivery at the address actually connected to: IP literals before sending,
//! host names by the client's resolver ([`GuardedResolver`]), which drops every address not
//! allowed, so a name that resolves (or is re-pointed) into a private range is not reached.
//! No proxy is used: a proxy would connect to addresses this check never sees.
//!
//! A customer sets, reads and removes its webhook through [`Incidents`]; each call leaves one
//! entry in its access log (resource `webhook`).

use crate::access::{Access, RequestContext, log_read};
use crate::clock::Clock;
use crate::incidents::{Courier, Fail, Incidents, Outgoing};
use crate::staff_access::event;
use crate::vault::Vault;
use art28_core::auth::Principal;
use art28_core::ids::CustomerId;
use art28_core::net::{Reach, reach};
use art28_core::operation::Operation;
use art28_core::{Error, ErrorCode, Result};
use art28_store::{DeliveryRecord, Store, WebhookRecord};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

/// The resource every webhook entry names.
const RESOURCE: &str = "webhook";

/// Which addresses webhooks may reach: the public internet, and this machine's loopback only
/// where the operator allows it (setting `webhook_allow_loopback`); never other ranges.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WebhookPolicy {
    /// Allow loopback addresses (127.0.0.0/8, ::1) and plain `http://` to them.
    pub allow_loopback: bool,
}

impl WebhookPolicy {
    /// Whether a webhook may connect to `ip`; the refusal says why.
    pub fn admits(self, ip: IpAddr) -> std::result::Result<(), String> {
        match reach(ip) {
            Reach::Public => Ok(()),
            Reach::Loopback if self.allow_loopback => Ok(()),
            Reach::Loopback => Err(format!("the address {ip} is not allowed: loopback (this machine)")),
            Reach::Special(range) => Err(format!("the address {ip} is not allowed: {range}")),
        }
    }
}

/// The client's resolver for webhooks: resolves with the system's resolver (through tokio) and
/// keeps only the addresses the policy admits; a name left with none is refused.
#[derive(Debug)]
pub struct GuardedResolver {
    policy: WebhookPolicy,
}

impl GuardedResolver {
    /// A resolver keeping the addresses `policy` admits.
    pub fn new(policy: WebhookPolicy) -> Self {
        Self { policy }
    }
}

/// A host name that resolved to no address a webhook may reach.
#[derive(Debug)]
struct Refused(String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let mut refused = Vec::new();
            let mut allowed = Vec::new();
            for addr in tokio::net::lookup_host((host.as_str(), 0)).await? {
                match policy.admits(addr.ip()) {
                    Ok(()) => allowed.push(addr),
                    Err(why) => refused.push(why),
                }
            }
            if allowed.is_empty() {
                let why = if refused.is_empty() {
                    format!("{host} resolves to no address")
                } else {
                    format!("{host} resolves to no address allowed: {}", refused.join("; "))
                };
                return Err(Box::new(Refused(why)) as Box<dyn std::error::Error + Send + Sync>);
            }
            if !refused.is_empty() {
                tracing::warn!(
                    host,
                    refused = refused.join("; "),
                    "webhook host resolves partly to addresses not allowed; those are skipped"
                );
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Why a request failed, for the delivery's record: a refused address as it is, else the error
/// with its causes (reqwest's own message alone says only "error sending request").
fn failure(e: &reqwest::Error) -> String {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    let mut parts = Vec::new();
    while let Some(c) = cause {
        if let Some(r) = c.downcast_ref::<Refused>() {
            return format!("webhook not sent: {r}");
        }
        let text = c.to_string();
        if !parts.iter().any(|p: &String| p.contains(&text)) {
            parts.push(text);
        }
        cause = c.source();
    }
    format!("webhook not reached: {}", parts.join(": "))
}

/// Posts notices to customers' webhooks.
#[derive(Clone)]
pub struct WebhookSender {
    client: reqwest::Client,
    policy: WebhookPolicy,
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
    /// A sender that connects only where `policy` admits, within 5 seconds, answers within 20,
    /// follows no redirects and uses no proxy.
    pub fn new(store: Arc<dyn Store>, vault: Arc<Vault>, clock: Arc<dyn Clock>, policy: WebhookPolicy) -> Result<Self> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(20))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver::new(policy)))
            .user_agent(concat!("art28/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::new(ErrorCode::Internal, format!("no HTTP client: {e}")))?;
        Ok(Self {
            client,
            policy,
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

    async fn send(&self, d: &DeliveryRecord, n: &Outgoing) -> std::result::Result<(), String> {
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
        // An IP literal is connected to without the resolver: judge it here.
        let url = reqwest::Url::parse(&hook.url).map_err(|_| "the webhook address is not a URL".to_string())?;
        if let Some(ip) = literal(&url) {
            self.policy
                .admits(ip)
                .map_err(|why| format!("webhook not sent: {why}"))?;
        }
        let key = self
            .vault
            .webhook_key(&n.customer, hook.generation, false)
            .await
            .map_err(|e| e.message)?;
        let body = serde_json::to_vec(&n.payload).map_err(|e| format!("message not serialised: {e}"))?;
        let ts = self.clock.now().as_second();
        let sig = signature(key.expose(), ts, &body);
        let resp = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("idempotency-key", &d.idempotency_key)
            .header("x-art28-timestamp", ts.to_string())
            .header("x-art28-signature", sig)
            .body(body)
            .send()
            .await
            .map_err(|e| failure(&e.without_url()))?;
        if resp.status().is_success() {
            Ok(())
        } else {
            Err(format!("webhook answered {}", resp.status()))
        }
    }
}

/// The host of `url` when it is an IP address (the parser has normalised every IPv4 spelling of
/// an http(s) host, `0x7f.1` or `2130706433`, to the address).
fn literal(url: &reqwest::Url) -> Option<IpAddr> {
    match url.host()? {
        url::Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
        url::Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
        url::Host::Domain(_) => None,
    }
}

/// Check a webhook address when it is set: `https://` to a public address, or, where `policy`
/// allows loopback, also `http://` to this machine (for a local relay). Only IP literals and
/// `localhost` names can be judged here; every delivery judges the address it connects to.
fn check_url(url: &str, policy: WebhookPolicy) -> Result<()> {
    let bad = |m: &str| Error::new(ErrorCode::WebhookInvalid, m.to_string());
    if url.len() > 2000 {
        return Err(bad("the webhook address is longer than 2000 characters"));
    }
    // The URL parser would strip tabs and line breaks and accept the rest; what is stored and
    // shown must be what was checked.
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad(
            "the webhook address contains a space, line break or other control character",
        ));
    }
    let u = reqwest::Url::parse(url).map_err(|_| bad("the webhook address is not a URL"))?;
    if !u.username().is_empty() || u.password().is_some() {
        return Err(bad(
            "put no credentials in the webhook address; requests are signed instead",
        ));
    }
    let ip = literal(&u);
    if let Some(ip) = ip {
        policy.admits(ip).map_err(|why| bad(&why))?;
    }
    // RFC 6761: `localhost` and names under it are this machine.
    let local_name = u.domain().is_some_and(|d| {
        let d = d.trim_end_matches('.');
        d == "localhost" || d.ends_with(".localhost")
    });
    if local_name && !policy.allow_loopback {
        return Err(bad("the webhook address is not allowed: localhost is this machine"));
    }
    // Past the checks above, an address on this machine means the policy allows loopback.
    let local = local_name || ip.is_some_and(|ip| reach(ip) == Reach::Loopback);
    match u.scheme() {
        // The parser gives an https URL a host or refuses it.
        "https" => Ok(()),
        "http" if local => Ok(()),
        _ if policy.allow_loopback => Err(bad(
            "a webhook address is https://…; plain http only to this machine (loopback)",
        )),
        _ => Err(bad("a webhook address is https://…")),
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
            check_url(url, self.webhook_policy)?;
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

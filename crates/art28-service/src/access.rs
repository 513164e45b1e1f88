//! Writing access entries: who, for whom, what, why, and whether it was allowed.
//!
//! Reads are logged before their data is returned, so there is no access without its entry;
//! a failure to log is a failure of the request. Refusals are logged on their own, since the
//! state change they refused never happened.

use crate::clock::Clock;
use art28_core::access::{AccessEntry, Actor, Decision};
use art28_core::ids::CustomerId;
use art28_core::operation::Operation;
use art28_core::{Error, Result};
use art28_store::{LogReceipt, Store};

/// Who is asking and from where; carried from the door (HTTP, CLI, job) to the log.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// Who acts.
    pub actor: Actor,
    /// The customer on whose instruction the actor acts, if any.
    pub on_behalf_of: Option<CustomerId>,
    /// Request id, to find the request in the server log.
    pub request_id: Option<String>,
    /// Client network address.
    pub client: Option<String>,
    /// The purpose given for the access.
    pub purpose: Option<String>,
    /// Instruction, access grant or ticket reference.
    pub reference: Option<String>,
}

impl RequestContext {
    /// A context for an actor with nothing else known.
    pub fn of(actor: Actor) -> Self {
        Self {
            actor,
            on_behalf_of: None,
            request_id: None,
            client: None,
            purpose: None,
            reference: None,
        }
    }
}

/// What is being done to which resource of which customer.
#[derive(Debug, Clone)]
pub struct Access<'a> {
    /// The customer whose data is touched.
    pub tenant: Option<&'a CustomerId>,
    /// What is done (its name in the log, e.g. `agreement.read`).
    pub operation: Operation,
    /// Resource by id, e.g. `agreement/saas-standard@1`.
    pub resource: String,
}

/// Make an entry. Ids and nonce are random; the time is the clock's.
pub fn entry(ctx: &RequestContext, clock: &dyn Clock, access: &Access<'_>, refused_by: Option<&str>) -> AccessEntry {
    let id: [u8; 16] = rand::random();
    let nonce: [u8; 16] = rand::random();
    AccessEntry {
        access_id: format!("acc_{}", hex::encode(id)),
        time: clock.now(),
        actor: ctx.actor.clone(),
        on_behalf_of: ctx.on_behalf_of.clone(),
        tenant: access.tenant.cloned(),
        operation: access.operation.as_str().to_string(),
        resource: access.resource.clone(),
        purpose: ctx.purpose.clone(),
        reference: ctx.reference.clone(),
        decision: if refused_by.is_some() {
            Decision::Refused
        } else {
            Decision::Granted
        },
        rule: refused_by.map(str::to_string),
        request_id: ctx.request_id.clone(),
        client: ctx.client.clone(),
        nonce: hex::encode(nonce),
    }
}

/// Log a granted read; call before the data leaves.
pub async fn log_read(
    store: &dyn Store,
    clock: &dyn Clock,
    ctx: &RequestContext,
    access: Access<'_>,
) -> Result<LogReceipt> {
    store.log_access(&entry(ctx, clock, &access, None)).await
}

/// Log a refusal, naming the rule (the error's stable code), and hand the error back.
pub async fn log_refusal(
    store: &dyn Store,
    clock: &dyn Clock,
    ctx: &RequestContext,
    access: Access<'_>,
    error: Error,
) -> Error {
    if let Err(log_error) = store
        .log_access(&entry(ctx, clock, &access, Some(error.code.as_str())))
        .await
    {
        tracing::error!(code = %log_error.code, "a refusal could not be logged");
        return log_error;
    }
    error
}

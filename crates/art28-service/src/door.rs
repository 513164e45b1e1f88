//! One access entry per call, for the accounts, tokens, the permission register and staff
//! access grants.
//!
//! Each call is judged inside its service with its [`Operation`] and ends in [`finish`] or
//! [`finish_carried`]: a change carries its granted entry into the store's transaction
//! ([`Carried`]), a read logs it before the data leaves the service, and a failure leaves a
//! refused entry naming the rule (the error's code). Both go
//! to the log of the customer the call concerns; a call that concerns no customer (a staff
//! account, a list across all customers) leaves none.
//!
//! Which customer that is must not tell a caller anything it may not know. A customer the
//! caller names itself (in the path or the body) gets the entry, refused or not, if it exists.
//! An object the caller names by id (an account, a role grant) that belongs to a customer the
//! caller cannot see answers exactly as one that does not exist ([`sees`]), and its entry goes
//! to the caller's own customer ([`home`]), or nowhere for staff — never to the other customer.

use crate::access::{Access, RequestContext, entry, log_read, log_refusal};
use crate::clock::Clock;
use art28_core::access::AccessEntry;
use art28_core::auth::Principal;
use art28_core::ids::CustomerId;
use art28_core::operation::Operation;
use art28_core::{Error, ErrorCode, ErrorKind, Result};
use art28_store::Store;

/// The customer a caller acts for: its token's, or its customer grants' (an account belongs
/// to one customer); `None` for the processor's staff.
pub(crate) fn home(who: &Principal) -> Option<CustomerId> {
    match &who.token_limit {
        Some(limit) => Some(limit.tenant.clone()),
        None => who.customers().first().map(|c| (*c).clone()),
    }
}

/// Whether the caller may know that something of `tenant` (`None`: of the processor, such as a
/// staff account) exists: a grant of any role covers it (staff grants cover every customer), and
/// a token is for that customer. What it may do with it is for [`Operation::authorize`].
pub(crate) fn sees(who: &Principal, tenant: Option<&CustomerId>) -> bool {
    if let Some(limit) = &who.token_limit
        && tenant != Some(&limit.tenant)
    {
        return false;
    }
    who.grants
        .iter()
        .filter(|g| g.is_valid())
        .any(|g| match g.scope.customer() {
            None => true,
            Some(own) => Some(own) == tenant,
        })
}

/// A customer the operation needs, once the caller is authorized for it (so only staff learn
/// that an id is unknown): `customer_not_found`.
pub(crate) async fn existing_customer(store: &dyn Store, tenant: &CustomerId) -> Result<()> {
    match store.customer(tenant).await? {
        Some(_) => Ok(()),
        None => Err(Error::new(
            ErrorCode::CustomerNotFound,
            format!("customer `{tenant}` does not exist"),
        )),
    }
}

/// End a call with its one entry in `tenant`'s log: granted for `Ok`, refused naming the
/// error's code otherwise. A refusal for a customer that does not exist, and a failure of
/// art28 itself (no rule refused; the log is likely failing too), leave no entry.
pub(crate) async fn finish<T>(
    store: &dyn Store,
    clock: &dyn Clock,
    ctx: &RequestContext,
    tenant: Option<&CustomerId>,
    operation: Operation,
    resource: String,
    result: Result<T>,
) -> Result<T> {
    let Some(tenant) = tenant else { return result };
    let access = Access {
        tenant: Some(tenant),
        operation,
        resource,
    };
    match result {
        Ok(v) => {
            log_read(store, clock, ctx, access).await?;
            Ok(v)
        }
        Err(e) if matches!(e.kind(), ErrorKind::Internal | ErrorKind::Unavailable) => Err(e),
        Err(e) => match store.customer(tenant).await {
            Ok(Some(_)) => Err(log_refusal(store, clock, ctx, access, e).await),
            Ok(None) => Err(e),
            Err(read) => Err(read),
        },
    }
}

/// The granted entry of a call that changes something, made before the change so the store
/// writes it in the change's transaction: the change and its entry are durable together. It
/// knows the customer, operation and resource of its call, so the call ends with
/// [`Carried::finish`] alone. The first change of the call takes the entry ([`Carried::take`]);
/// if none did (a call that ended without changing anything), `finish` logs it afterwards.
pub(crate) struct Carried {
    tenant: Option<CustomerId>,
    operation: Operation,
    resource: String,
    entry: std::sync::Mutex<Option<AccessEntry>>,
}

impl Carried {
    /// The entry for `tenant`'s log (none for a call that concerns no customer).
    pub(crate) fn new(
        ctx: &RequestContext,
        clock: &dyn Clock,
        tenant: Option<&CustomerId>,
        operation: Operation,
        resource: String,
    ) -> Self {
        let entry = tenant.map(|t| {
            entry(
                ctx,
                clock,
                &Access {
                    tenant: Some(t),
                    operation,
                    resource: resource.clone(),
                },
                None,
            )
        });
        Self {
            tenant: tenant.cloned(),
            operation,
            resource,
            entry: std::sync::Mutex::new(entry),
        }
    }

    /// The entry, for the change that carries it; later changes of the call get `None`.
    pub(crate) fn take(&self) -> Option<AccessEntry> {
        self.entry.lock().ok().and_then(|mut e| e.take())
    }

    /// [`finish`] for the call: a success logs the entry only if no change took it; a failure
    /// (the change, with its entry, rolled back) logs the refusal.
    pub(crate) async fn finish<T>(
        &self,
        store: &dyn Store,
        clock: &dyn Clock,
        ctx: &RequestContext,
        result: Result<T>,
    ) -> Result<T> {
        match result {
            Ok(v) => {
                if let Some(e) = self.take() {
                    store.log_access(&e).await?;
                }
                Ok(v)
            }
            Err(e) => {
                let (tenant, op, resource) = (self.tenant.as_ref(), self.operation, self.resource.clone());
                finish(store, clock, ctx, tenant, op, resource, Err(e)).await
            }
        }
    }
}

//! Customers of the processor.

use crate::access::{Access, RequestContext, entry, log_refusal};
use crate::clock::Clock;
use art28_core::ids::CustomerId;
use art28_core::lang::Lang;
use art28_core::{Error, ErrorCode, Result};
use art28_store::{CustomerRecord, Logged, NewCustomer, Store};

/// Add a customer, logged; a refusal (`customer_exists`, `bad_request`) is logged too.
pub(crate) async fn create_customer(
    store: &dyn Store,
    clock: &dyn Clock,
    ctx: &RequestContext,
    id: CustomerId,
    name: &str,
    language: Lang,
) -> Result<Logged<CustomerRecord>> {
    let access = Access {
        tenant: Some(&id),
        operation: art28_core::operation::Operation::CustomerCreate,
        resource: format!("customer/{id}"),
    };
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        let e = Error::new(ErrorCode::BadRequest, "the name must have 1 to 200 characters");
        return Err(log_refusal(store, clock, ctx, access, e).await);
    }
    let new = NewCustomer {
        id: id.clone(),
        name: name.to_string(),
        language,
        created_at: clock.now(),
        created_by: ctx.actor.id.clone(),
    };
    // The entry names a tenant that exists only once the insert succeeds; on refusal it is
    // logged without one, so an entry never points at a customer that is not there.
    match store.create_customer(&new, &entry(ctx, clock, &access, None)).await {
        Ok(v) => Ok(v),
        Err(e) if e.kind() == art28_core::ErrorKind::Internal => Err(e),
        Err(e) if e.code == ErrorCode::CustomerExists => Err(log_refusal(store, clock, ctx, access, e).await),
        Err(e) => Err(log_refusal(store, clock, ctx, Access { tenant: None, ..access }, e).await),
    }
}

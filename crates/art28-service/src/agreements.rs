//! Recording and reading processor agreements.

use crate::access::{Access, RequestContext, entry, log_refusal};
use crate::clock::{Clock, today};
use art28_core::agreement::{
    AgreementKind, BaseRef, Latest, ProcessorAgreement, Source, check_set, check_succession, header,
};
use art28_core::ids::CustomerId;
use art28_core::{Error, ErrorCode, Result};
use art28_store::{AgreementVersion, Logged, NewAgreementVersion, NewCustomer, Store};

/// Validate an agreement text and record it as a new version, with its access entry.
///
/// A customer deviation (`based_on`) is resolved against the standard agreement version in
/// the store. The first agreement of an unknown customer onboards that customer in the same
/// transaction. Refused with `agreement_invalid` (itemised per problem, each naming field and
/// line), `agreement_base_missing`, `agreement_version_conflict` or
/// `agreement_customer_mismatch`; every refusal is logged with the rule that refused.
pub async fn record_agreement(
    store: &dyn Store,
    clock: &dyn Clock,
    ctx: &RequestContext,
    name: &str,
    text: &[u8],
) -> Result<Logged<AgreementVersion>> {
    let head = header(text);
    let resource = head.as_ref().map_or_else(
        || "agreement/unknown".to_string(),
        |h| format!("agreement/{}@{}", h.id, h.version),
    );
    let agreement = match validate(store, name, text, head.and_then(|h| h.based_on)).await {
        Ok(a) => a,
        Err(e) => {
            let access = Access {
                tenant: None,
                operation: "agreement.record",
                resource,
            };
            return Err(log_refusal(store, clock, ctx, access, e).await);
        }
    };
    let tenant = agreement.customer.as_ref().map(|c| c.id.clone());
    let access = Access {
        tenant: tenant.as_ref(),
        operation: "agreement.record",
        resource,
    };
    // Which version may follow which is core's rule, checked against the stored history; the
    // store writes only if that history is still the same.
    let history = store.agreement_versions(&agreement.id).await?;
    let latest = history.last();
    let succession = check_succession(
        latest.map(|m| Latest {
            version: m.version,
            customer: m.customer.as_ref(),
        }),
        &agreement,
    );
    if let Err(e) = succession {
        return Err(log_refusal(store, clock, ctx, access, e).await);
    }
    let follows = latest.map(|m| m.version);
    let now = clock.now();
    let onboard = match &agreement.customer {
        Some(party) if store.customer(&party.id).await?.is_none() => Some(NewCustomer {
            id: party.id.clone(),
            name: party.name.clone(),
            language: agreement.language,
            created_at: now,
            created_by: ctx.actor.id.clone(),
        }),
        _ => None,
    };
    let new = NewAgreementVersion {
        onboard,
        agreement,
        follows,
        source: String::from_utf8_lossy(text).into_owned(),
        recorded_by: ctx.actor.id.clone(),
        recorded_at: now,
    };
    match store
        .put_agreement_version(&new, &entry(ctx, clock, &access, None))
        .await
    {
        Ok(v) => {
            tracing::info!(agreement = %v.value.meta.id, version = v.value.meta.version, access_id = %v.receipt.access_id, "agreement version recorded");
            Ok(v)
        }
        Err(e) if e.kind() == art28_core::ErrorKind::Internal => Err(e),
        Err(e) => Err(log_refusal(store, clock, ctx, access, e).await),
    }
}

/// Check the text, resolving its base from the store.
async fn validate(store: &dyn Store, name: &str, text: &[u8], base: Option<BaseRef>) -> Result<ProcessorAgreement> {
    let mut sources = Vec::new();
    if let Some(BaseRef { id, version }) = base {
        match store.agreement_version(&id, version).await? {
            Some(b) if b.meta.kind == AgreementKind::Standard => {
                sources.push(Source::new(format!("{id} v{version} (stored)"), b.source.into_bytes()));
            }
            _ => {
                return Err(Error::new(
                    ErrorCode::AgreementBaseMissing,
                    format!("the standard agreement `{id}` version {version} is not recorded; record it first"),
                ));
            }
        }
    }
    sources.push(Source::new(name, text.to_vec()));
    let checked = check_set(&sources)
        .pop()
        .ok_or_else(|| Error::new(ErrorCode::Internal, "nothing was checked"))?;
    checked.result.map_err(|diagnostics| {
        Error::new(
            ErrorCode::AgreementInvalid,
            format!(
                "the agreement is not valid ({} problem{})",
                diagnostics.len(),
                if diagnostics.len() == 1 { "" } else { "s" }
            ),
        )
        .with_details(diagnostics.iter().map(ToString::to_string).collect())
    })
}

/// The customer's agreement in force today.
pub async fn in_force_today(store: &dyn Store, clock: &dyn Clock, customer: &CustomerId) -> Result<AgreementVersion> {
    store.agreement_in_force(customer, today(clock)).await?.ok_or_else(|| {
        Error::new(
            ErrorCode::AgreementNotFound,
            format!("customer `{customer}` has no agreement in force today"),
        )
    })
}

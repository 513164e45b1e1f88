//! Recording and reading processor agreements.

use crate::clock::{Clock, today};
use art28_core::agreement::{AgreementKind, BaseRef, Source, check_set, header};
use art28_core::ids::CustomerId;
use art28_core::{Error, ErrorCode, Result};
use art28_store::{AgreementVersion, NewAgreementVersion, NewCustomer, Store};

/// Who did something, as recorded in histories.
pub type Actor = str;

/// Validate an agreement text and record it as a new version.
///
/// A customer deviation (`based_on`) is resolved against the standard agreement version in
/// the store. The first agreement of an unknown customer onboards that customer. Refused with
/// `agreement_invalid` (itemised per problem, each naming field and line), `agreement_base_missing`,
/// `agreement_version_conflict` or `agreement_customer_mismatch`.
pub async fn record_agreement(
    store: &dyn Store,
    clock: &dyn Clock,
    actor: &Actor,
    name: &str,
    text: &[u8],
) -> Result<AgreementVersion> {
    let mut sources = Vec::new();
    if let Some(BaseRef {
        id: base_id,
        version: base_version,
    }) = header(text).and_then(|h| h.based_on)
    {
        match store.agreement_version(&base_id, base_version).await? {
            Some(base) if base.meta.kind == AgreementKind::Standard => {
                sources.push(Source::new(
                    format!("{base_id} v{base_version} (stored)"),
                    base.source.into_bytes(),
                ));
            }
            _ => {
                return Err(Error::new(
                    ErrorCode::AgreementBaseMissing,
                    format!(
                        "the standard agreement `{base_id}` version {base_version} is not recorded; record it first"
                    ),
                ));
            }
        }
    }
    sources.push(Source::new(name, text.to_vec()));
    let checked = check_set(&sources)
        .pop()
        .ok_or_else(|| Error::new(ErrorCode::Internal, "nothing was checked"))?;
    let agreement = checked.result.map_err(|diagnostics| {
        Error::new(
            ErrorCode::AgreementInvalid,
            format!(
                "the agreement is not valid ({} problem{})",
                diagnostics.len(),
                if diagnostics.len() == 1 { "" } else { "s" }
            ),
        )
        .with_details(diagnostics.iter().map(ToString::to_string).collect())
    })?;
    let now = clock.now();
    if let Some(party) = &agreement.customer
        && store.customer(&party.id).await?.is_none()
    {
        store
            .create_customer(&NewCustomer {
                id: party.id.clone(),
                name: party.name.clone(),
                language: agreement.language,
                created_at: now,
                created_by: actor.to_string(),
            })
            .await?;
        tracing::info!(customer = %party.id, "customer onboarded with its first agreement");
    }
    let source = String::from_utf8_lossy(text).into_owned();
    let version = store
        .put_agreement_version(&NewAgreementVersion {
            agreement,
            source,
            recorded_by: actor.to_string(),
            recorded_at: now,
        })
        .await?;
    tracing::info!(agreement = %version.meta.id, version = version.meta.version, "agreement version recorded");
    Ok(version)
}

/// The customer's agreement in force today.
pub async fn in_force_today(
    store: &dyn Store,
    clock: &dyn Clock,
    customer: &CustomerId,
) -> Result<AgreementVersion> {
    store
        .agreement_in_force(customer, today(clock))
        .await?
        .ok_or_else(|| {
            Error::new(
                ErrorCode::AgreementNotFound,
                format!("customer `{customer}` has no agreement in force today"),
            )
        })
}

//! The demo processor behind `art28 serve --demo`: Noordlicht Systemen B.V., a fictional
//! Dutch IT supplier, with the example agreements from `examples/agreements/` built in, so a
//! newcomer sees a working system from any directory.
//!
//! Two stages. [`load_demo`] records the processor and the example agreements (straight into
//! the store, as recording agreements has always done at start). [`populate`] then goes
//! through the doors, as people would, so the access log holds the entries real use leaves:
//! an account per role ([`people`]), a vault collection of fictional customers of Bakkerij de
//! Vries with reads, lookups and one refusal, staff access grants (one waiting for
//! Scheldepoort's approval) and a breach with its notices queued in the outbox ([`story`]).
//! Passwords are made here, handed back once as secrets and never logged.

use crate::access::RequestContext;
use crate::agreements::record_agreement;
use crate::clock::Clock;
use art28_core::access::Actor;
use art28_core::agreement::{AgreementKind, header, parse_one};
use art28_core::{Error, ErrorCode, Result};
use art28_store::{ProcessorProfile, Store};

pub mod people;
pub mod story;

pub use people::{DemoAccount, Doors, Setup, populate};

/// The example agreements, standard agreements first.
pub const EXAMPLES: &[(&str, &str)] = &[
    (
        "saas-standard.toml",
        include_str!("../../../../examples/agreements/saas-standard.toml"),
    ),
    (
        "bakkerij-de-vries.toml",
        include_str!("../../../../examples/agreements/bakkerij-de-vries.toml"),
    ),
    (
        "erp-integrator-klant.toml",
        include_str!("../../../../examples/agreements/erp-integrator-klant.toml"),
    ),
    (
        "belgisch-addendum.toml",
        include_str!("../../../../examples/agreements/belgisch-addendum.toml"),
    ),
];

/// What loading the demo did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DemoReport {
    /// Agreement versions recorded now.
    pub recorded: usize,
    /// Agreement versions that were there already.
    pub present: usize,
}

/// Load the demo processor and its customers. Idempotent: what is already there is kept.
pub async fn load_demo(store: &dyn Store, clock: &dyn Clock) -> Result<DemoReport> {
    let mut report = DemoReport::default();
    for (name, text) in EXAMPLES {
        // The standard agreement alone is self-contained; customer deviations are resolved
        // against the stored standard by `record_agreement`.
        if let Some(h) = header(text.as_bytes())
            && store.agreement_version(&h.id, h.version).await?.is_some()
        {
            report.present += 1;
            continue;
        }
        if store.processor().await?.is_none()
            && let Ok(a) = parse_one(name, text.as_bytes())
            && a.kind == AgreementKind::Standard
        {
            store
                .set_processor(&ProcessorProfile {
                    name: a.processor.name.clone(),
                    registration: a.processor.registration.clone(),
                    country: a.processor.country.clone(),
                })
                .await?;
        }
        record_agreement(
            store,
            clock,
            &RequestContext::of(Actor::job("demo")),
            name,
            text.as_bytes(),
        )
        .await
        .map_err(|e| {
            Error::new(
                ErrorCode::Internal,
                format!("demo agreement {name} could not be loaded: {}", e.message),
            )
            .with_details(e.details)
        })?;
        report.recorded += 1;
    }
    Ok(report)
}

//! The conformance suite: what every `Store` implementation must do, one module per aggregate.
//!
//! Each suite function takes a fresh store (`&dyn Store`) and uses nothing of a particular
//! backend. [`conformance!`] turns every function into a `#[tokio::test]` over a store from a
//! factory, so a backend runs the whole suite with one line:
//!
//! ```ignore
//! conformance!(sqlite, sqlite_store);
//! ```
//!
//! where `sqlite_store` is an `async fn() -> (Guard, S)`: the guard keeps what the store needs
//! alive (a temporary directory, a database), `S` derefs to something that is a `Store`
//! (`Arc<dyn Store>`, `Box<SqliteStore>`, …). `coverage` checks that the suite calls every
//! method of every store trait.

pub mod accounts;
pub mod agreements;
pub mod coverage;
pub mod incidents;
pub mod jobs;
pub mod log;
pub mod staff_access;
pub mod subprocessors;
pub mod vault;

use art28_core::access::{AccessEntry, Actor, Decision};
use art28_core::agreement::{ProcessorAgreement, parse_one};
use art28_core::ids::CustomerId;
use art28_core::lang::Lang;
use art28_store::prelude::*;
use art28_store::{NewAgreementVersion, NewCustomer, NewSecurityEvent};
use jiff::Timestamp;

/// Every suite function, by module: `conformance!` makes one test of each. A function added to
/// a module but not here is not run; `coverage` checks that each listed one exists by calling
/// it, and the compiler checks the names.
#[macro_export]
macro_rules! conformance_suite {
    ($callback:ident!($($args:tt)*)) => {
        $callback!($($args)*;
            agreements {
                the_processor_profile_is_absent_then_set_then_replaced,
                customers_are_created_once_and_listed_in_id_order,
                a_customer_version_replaces_the_contacts_and_reads_back_exactly,
                a_version_is_written_only_if_the_newest_is_still_the_one_it_follows,
                a_version_for_an_unknown_customer_is_refused,
                onboarding_creates_the_customer_in_the_same_transaction,
                the_version_in_force_depends_on_the_date,
                standard_agreements_are_listed_at_their_latest_version,
            }
            log {
                entries_are_appended_with_gapless_indices_alone_or_in_batches,
                a_tenant_sees_only_its_own_entries_across_folds_and_pages,
                folds_give_checkpoints_proofs_and_a_restorable_frontier,
                a_fold_ignores_the_levels_the_store_does_not_keep,
                inclusion_proofs_in_one_go_match_the_single_ones,
                the_log_window_holds_customers_entries_in_a_time_range,
            }
            accounts {
                accounts_are_unique_by_user_name_for_ever,
                accounts_are_listed_all_or_by_customer_and_found_by_user_name,
                every_account_change_is_applied_with_its_events,
                accounts_unused_since_a_time_are_the_active_ones_not_used_since,
                the_grant_register_keeps_revoked_grants_and_filters,
                security_events_are_recorded_in_order_and_paged,
                tokens_are_found_by_digest_touched_and_revoked_once,
                sessions_end_one_at_a_time_or_all_of_an_account,
                failed_logins_count_per_user_name_until_a_success,
                account_changes_carry_their_entries_and_a_refused_one_keeps_none,
            }
            staff_access {
                access_grants_are_created_approved_at_once_or_requested,
                a_decision_applies_only_from_the_state_it_names,
                access_grants_are_listed_by_customer_and_by_account,
                grant_changes_carry_their_entries_and_a_refused_one_keeps_none,
            }
            vault {
                the_context_reads_customer_agreement_key_collection_subjects_and_record,
                a_tenant_key_is_kept_once_and_refused_for_unknown_or_erased_customers,
                tenant_keys_are_rewrapped_only_from_the_current_row,
                collections_are_defined_once,
                records_are_created_for_new_and_existing_subjects,
                a_conflicting_new_subject_writes_nothing,
                a_record_for_a_subject_that_is_gone_writes_nothing,
                fresh_records_are_not_stale_and_a_reindex_leaves_them,
                a_read_of_a_missing_record_writes_nothing,
                an_update_applies_only_at_the_version_it_read,
                a_delete_removes_the_record_and_its_blind_indexes,
                records_are_queried_by_subject_and_by_identifier,
                records_are_listed_in_pages_with_or_without_an_entry,
                erasing_a_subject_removes_its_key_records_and_indexes,
                an_unknown_or_held_subject_is_not_erased_and_nothing_is_written,
                erasing_a_customer_destroys_its_key_and_the_purge_removes_its_rows,
                a_replayed_erasure_destroys_what_came_back_once,
                legal_holds_are_placed_lifted_once_and_listed,
                recoveries_are_recorded_and_listed,
                reach_counts_current_records_and_their_subjects,
                imports_sent_at_once_are_each_answered_as_alone,
                lookups_sent_at_once_are_each_answered_as_alone,
            }
            incidents {
                incidents_are_registered_and_listed_by_customer,
                a_change_needs_the_current_version_and_status,
                notices_are_stored_with_exactly_their_deliveries,
                a_duplicate_delivery_key_leaves_nothing_of_the_call,
                the_outbox_serves_due_deliveries_per_channel_and_records_outcomes,
                a_leased_delivery_goes_to_one_caller_until_its_lease_runs_out,
                pending_first_notices_end_with_the_first_delivery,
                the_first_acknowledgement_stays_and_only_the_customer_gives_it,
                removing_a_customer_just_removes_it,
                webhooks_get_a_new_generation_each_change_and_a_tombstone,
                register_writes_carry_their_entries_and_a_refused_one_keeps_none,
            }
            subprocessors {
                entries_are_registered_once_by_name_and_versioned,
                a_contract_is_kept_with_its_document_and_replaced,
                a_change_is_announced_with_its_customers_and_entries,
                a_change_that_fails_writes_nothing,
                an_answer_applies_only_from_the_state_it_names,
                announcement_deliveries_are_leased_once_and_recorded,
                list_requests_are_answered_once_and_listed_per_customer,
                feed_generations_start_at_zero_and_grow,
            }
            jobs {
                a_job_runs_under_one_lease_at_a_time_and_waits_until_due,
                a_lone_store_leads_every_role,
                a_pin_keeps_its_first_value_unless_replaced,
            }
        );
    };
}

/// Instantiate the conformance suite for a backend: `conformance!(name, factory)` makes a
/// module `name` with one `#[tokio::test]` per suite function, each over a fresh store from
/// `factory` (an `async fn() -> (guard, store)`).
#[macro_export]
macro_rules! conformance {
    ($backend:ident, $factory:expr) => {
        $crate::conformance_suite!(conformance!(@tests $backend, $factory));
    };
    (@tests $backend:ident, $factory:expr; $($group:ident { $($test:ident),* $(,)? })*) => {
        mod $backend {
            #[allow(unused_imports)]
            use super::*;
            $(
                mod $group {
                    #[allow(unused_imports)]
                    use super::*;
                    $(
                        #[tokio::test]
                        async fn $test() {
                            let (_guard, store) = ($factory)().await;
                            $crate::suite::$group::$test(&*store).await;
                        }
                    )*
                }
            )*
        }
    };
}

const ERP: &str = include_str!("../../../../../examples/agreements/erp-integrator-klant.toml");
const STANDARD: &str = include_str!("../../../../../examples/agreements/saas-standard.toml");

/// The example customer agreement (customer `erp-klant`'s).
pub fn erp() -> ProcessorAgreement {
    parse_one("erp.toml", ERP.as_bytes()).expect("example valid")
}

/// The example standard agreement.
pub fn standard() -> ProcessorAgreement {
    parse_one("std.toml", STANDARD.as_bytes()).expect("standard valid")
}

pub fn ts(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

/// An access entry as the service would make it.
pub fn entry(tenant: Option<&CustomerId>, operation: &str, n: u64) -> AccessEntry {
    AccessEntry {
        access_id: format!("acc_test_{operation}_{n}_{}", tenant.map(|t| t.as_str()).unwrap_or("-")),
        time: ts("2026-01-01T09:00:00Z"),
        actor: Actor::operator(),
        on_behalf_of: None,
        tenant: tenant.cloned(),
        operation: operation.into(),
        resource: format!("test/{n}"),
        purpose: None,
        reference: None,
        decision: Decision::Granted,
        rule: None,
        request_id: None,
        client: None,
        nonce: format!("{n:032x}"),
    }
}

static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// An entry with an access id of its own.
pub fn next_entry(tenant: Option<&CustomerId>, operation: &str) -> AccessEntry {
    entry(
        tenant,
        operation,
        COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
    )
}

/// A first version of an agreement (`follows: None`).
pub fn new_version(a: ProcessorAgreement, at: &str) -> NewAgreementVersion {
    NewAgreementVersion {
        onboard: None,
        source: format!("# source of {} v{}\n", a.id, a.version),
        agreement: a,
        follows: None,
        recorded_by: "tester".into(),
        recorded_at: ts(at),
    }
}

/// A version recorded after `follows`.
pub fn next_version(a: ProcessorAgreement, follows: u32, at: &str) -> NewAgreementVersion {
    NewAgreementVersion {
        follows: Some(follows),
        ..new_version(a, at)
    }
}

/// A customer to add.
pub fn new_customer(id: &CustomerId, name: &str) -> NewCustomer {
    NewCustomer {
        id: id.clone(),
        name: name.into(),
        language: Lang::Nl,
        created_at: ts("2026-01-01T09:00:00Z"),
        created_by: "tester".into(),
    }
}

pub fn id(s: &str) -> CustomerId {
    s.parse().expect("customer id")
}

/// Add a customer without an agreement.
pub async fn add_customer(store: &dyn Store, id: &CustomerId) {
    store
        .create_customer(&new_customer(id, "Klant"), &next_entry(None, "customer.create"))
        .await
        .expect("create customer");
}

/// Put one customer with one agreement version in the store.
pub async fn seed(store: &dyn Store) -> CustomerId {
    let a = erp();
    let customer = a.customer.as_ref().expect("customer").id.clone();
    store
        .create_customer(
            &new_customer(&customer, "ERP klant"),
            &next_entry(None, "customer.create"),
        )
        .await
        .expect("create");
    store
        .put_agreement_version(
            &new_version(a, "2026-01-01T09:00:00Z"),
            &next_entry(None, "agreement.record"),
        )
        .await
        .expect("put");
    customer
}

/// A security event of a kind.
pub fn event(kind: &str) -> NewSecurityEvent {
    NewSecurityEvent {
        time: ts("2026-05-01T08:00:00Z"),
        account_id: None,
        username: None,
        kind: kind.into(),
        detail: format!("test {kind}"),
        client: Some("192.0.2.1".into()),
    }
}

/// The kinds of every security event recorded so far, oldest first.
pub async fn event_kinds(store: &dyn Store) -> Vec<String> {
    store
        .security_events(0, 10_000)
        .await
        .expect("events")
        .into_iter()
        .map(|e| e.kind)
        .collect()
}

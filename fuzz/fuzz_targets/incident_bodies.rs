//! Feed arbitrary bytes to the JSON bodies of the incident routes, read as the server reads them
//! (`axum::Json::from_bytes` into the handlers' own request types), then give whatever parses to
//! the pure rules the register applies: the details' validation, each workflow step from every
//! state, customer ids, and the removal rule. None of it may panic, whatever the input.
#![no_main]

use art28_core::ids::CustomerId;
use art28_core::incident::{Status, check_removal, transition};
use art28_server::incident_api::{CustomersBody, DetailsBody, NoticeBody, StepBody, WebhookBody};
use art28_service::incidents::{Report, ScopeQuery};
use axum::Json;
use libfuzzer_sys::fuzz_target;
use serde::de::DeserializeOwned;

const STATES: [Status; 6] = [
    Status::Reported,
    Status::Triaged,
    Status::NotABreach,
    Status::Breach,
    Status::Notified,
    Status::Closed,
];

fn body<T: DeserializeOwned>(data: &[u8]) -> Option<T> {
    Json::<T>::from_bytes(data).ok().map(|Json(v)| v)
}

fuzz_target!(|data: &[u8]| {
    if let Some(r) = body::<Report>(data) {
        let _ = r.details.validate();
        let _ = r.details.missing_for_notice();
    }
    if let Some(b) = body::<DetailsBody>(data) {
        let _ = b.details.validate();
        let _ = b.details.missing_for_notice();
    }
    if let Some(b) = body::<StepBody>(data) {
        let waiting = ["bakkerij-de-vries".to_string()];
        for from in STATES {
            let _ = transition(from, b.step, &[]);
            let _ = transition(from, b.step, &waiting);
        }
    }
    if let Some(b) = body::<CustomersBody>(data) {
        let added: Vec<CustomerId> = b.add.iter().filter_map(|a| a.customer.parse().ok()).collect();
        let removed: Vec<CustomerId> = b.remove.iter().filter_map(|c| c.parse().ok()).collect();
        let noticed: Vec<&CustomerId> = added.iter().collect();
        let _ = check_removal(1, &removed, &noticed);
    }
    let _ = body::<NoticeBody>(data);
    let _ = body::<ScopeQuery>(data);
    let _ = body::<WebhookBody>(data);
});

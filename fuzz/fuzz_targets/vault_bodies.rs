//! Feed arbitrary bytes to the JSON bodies of the vault routes, read as the server reads them
//! (`axum::Json::from_bytes` into the handlers' own request types), then give whatever parses to
//! the checks the vault makes before it touches the store: a collection's form, a record's
//! subject and values against an example collection, and the phone and e-mail forms of lookups.
//! None of it may panic, whatever the input.
#![no_main]

use art28_core::vault::{CollectionDef, PhoneRegion, check_subject, check_values, normalize_phone};
use art28_crypto::{normalize_email, normalize_id};
use art28_server::vault_api::{
    EraseSubjectBody, ExportBody, HoldBody, ImportBody, LookupBody, NewRecordBody, UpdateBody,
};
use axum::Json;
use libfuzzer_sys::fuzz_target;
use serde::de::DeserializeOwned;
use std::sync::OnceLock;

/// The collection the record checks run against: every identifier kind, one required field.
const EMPLOYEES: &str = r#"{"name": "employees", "fields": [
    {"name": "name", "category": "name", "required": true},
    {"name": "email", "category": "email", "identifier": "email"},
    {"name": "phone", "category": "phone", "identifier": "phone"},
    {"name": "staff_no", "category": "identifier", "identifier": "id"}
]}"#;

fn employees() -> Option<&'static CollectionDef> {
    static DEF: OnceLock<Option<CollectionDef>> = OnceLock::new();
    DEF.get_or_init(|| serde_json::from_str(EMPLOYEES).ok()).as_ref()
}

fn body<T: DeserializeOwned>(data: &[u8]) -> Option<T> {
    Json::<T>::from_bytes(data).ok().map(|Json(v)| v)
}

fn record(subject: &str, values: &art28_core::vault::Values, partial: bool) {
    let _ = check_subject(subject);
    if let Some(def) = employees() {
        let _ = check_values(def, values, partial);
    }
}

fuzz_target!(|data: &[u8]| {
    if let Some(def) = body::<CollectionDef>(data) {
        let _ = def.check_form();
    }
    if let Some(b) = body::<NewRecordBody>(data) {
        record(&b.subject, &b.values, false);
    }
    if let Some(b) = body::<ImportBody>(data) {
        for r in &b.records {
            record(&r.subject, &r.values, false);
        }
    }
    if let Some(b) = body::<UpdateBody>(data) {
        record("subject", &b.values, true);
    }
    if let Some(b) = body::<LookupBody>(data) {
        if let Some(s) = &b.subject {
            let _ = check_subject(s);
        }
        if let Some(e) = &b.email {
            let _ = normalize_email(e);
        }
        if let Some(p) = &b.phone
            && let Some(nl) = PhoneRegion::parse("NL")
        {
            let _ = normalize_phone(p, nl);
        }
        if let Some(i) = &b.id {
            let _ = normalize_id(i);
        }
    }
    if let Some(b) = body::<EraseSubjectBody>(data) {
        let _ = check_subject(&b.subject);
    }
    if let Some(b) = body::<HoldBody>(data)
        && let Some(s) = &b.subject
    {
        let _ = check_subject(s);
    }
    let _ = body::<ExportBody>(data);
});

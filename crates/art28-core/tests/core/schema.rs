//! The JSON Schema in docs/ must be the one the code generates.

#[test]
fn docs_schema_is_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/agreement.schema.json");
    let generated = serde_json::to_string_pretty(&art28_core::agreement::json_schema()).expect("json") + "\n";
    if std::env::var_os("ART28_UPDATE_SCHEMA").is_some() {
        std::fs::write(path, &generated).expect("write schema");
    }
    let stored = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        stored == generated,
        "docs/agreement.schema.json is stale: run `ART28_UPDATE_SCHEMA=1 cargo test -p art28-core --test core schema` and commit it"
    );
}

#[test]
fn schema_describes_the_durations_and_forbids_unknown_fields() {
    let schema = art28_core::agreement::json_schema();
    let text = schema.to_string();
    assert!(
        text.contains("\"additionalProperties\":false"),
        "deny_unknown_fields must show in the schema"
    );
    assert!(text.contains("PT48H"));
    assert_eq!(schema["title"], "ProcessorAgreement");
}

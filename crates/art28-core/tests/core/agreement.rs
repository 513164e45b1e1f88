use art28_core::agreement::{Diagnostic, Source, check_set, parse_one};
use art28_core::lang::Lang;

const FIXTURE: &str = include_str!("fixture.toml");

fn examples() -> Vec<Source> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/agreements");
    let mut out: Vec<Source> = std::fs::read_dir(dir)
        .expect("examples dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| Source::new(p.display().to_string(), std::fs::read(&p).expect("read")))
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// Replace exactly one occurrence of `from` in the fixture.
fn edit(from: &str, to: &str) -> String {
    assert_eq!(FIXTURE.matches(from).count(), 1, "fixture must contain `{from}` once");
    FIXTURE.replace(from, to)
}

fn errors(text: &str) -> Vec<Diagnostic> {
    match parse_one("t.toml", text.as_bytes()) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(d) => d,
    }
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).expect("needle") + 1
}

/// The single diagnostic with this code, asserted to exist.
fn one(ds: &[Diagnostic], code: &str) -> Diagnostic {
    let found: Vec<_> = ds.iter().filter(|d| d.code == code).collect();
    assert_eq!(found.len(), 1, "expected one `{code}` in {ds:#?}");
    found[0].clone()
}

#[test]
fn fixture_is_valid_and_reads_back() {
    let a = parse_one("t.toml", FIXTURE.as_bytes()).expect("valid");
    assert_eq!(a.version, 2);
    assert_eq!(a.breach.notice.to_string(), "PT48H");
    assert_eq!(a.breach.notice.describe(Lang::Nl), "48 uur");
    assert_eq!(a.end.retention.describe(Lang::En), "3 months");
    assert_eq!(a.effective_from.to_string(), "2026-01-01");
    assert_eq!(a.customer.as_ref().map(|c| c.id.as_str()), Some("test-klant"));
}

#[test]
fn every_example_agreement_is_valid() {
    let sources = examples();
    assert!(sources.len() >= 4, "expected at least four examples");
    for c in check_set(&sources) {
        if let Err(ds) = &c.result {
            panic!("{} invalid: {ds:#?}", c.name);
        }
    }
}

#[test]
fn unknown_field_names_file_path_and_line() {
    let text = edit(
        "block_max = \"PT48H\"",
        "block_max = \"PT48H\"\nblock_maximum = \"PT48H\"",
    );
    let d = one(&errors(&text), "unknown_field");
    assert_eq!(d.file, "t.toml");
    assert_eq!(d.path, "accounts.block_maximum");
    assert_eq!(d.line, Some(line_of(&text, "block_maximum")));
    assert!(d.message.contains("block_maximum"), "{d}");
}

#[test]
fn missing_field_is_named() {
    let text = edit("retention = \"P3M\"\n", "");
    let d = one(&errors(&text), "missing_field");
    assert!(d.message.contains("retention"), "{d}");
    assert_eq!(d.path, "end");
    assert_eq!(d.line, Some(line_of(&text, "[end]")));
}

#[test]
fn unparsable_negative_and_zero_durations_are_refused() {
    for (bad, needle) in [
        ("48 hours", "not an ISO 8601 duration"),
        ("-PT48H", "negative"),
        ("PT0H", "zero"),
        ("PT1.5H", "fraction"),
    ] {
        let text = edit("notice = \"PT48H\"", &format!("notice = \"{bad}\""));
        let d = one(&errors(&text), "invalid_duration");
        assert_eq!(d.path, "breach.notice", "{d}");
        assert_eq!(d.line, Some(line_of(&text, &format!("notice = \"{bad}\""))), "{d}");
        assert!(d.message.contains(needle), "{bad}: {d}");
    }
}

#[test]
fn unknown_category_id_gets_a_suggestion() {
    let text = edit(
        "personal_data = [\"identification\", \"contact\"]",
        "personal_data = [\"identification\", \"contcat\"]",
    );
    let d = one(&errors(&text), "unknown_term");
    assert_eq!(d.path, "processing.personal_data[1]");
    assert!(d.message.contains("did you mean `contact`"), "{d}");
    assert_eq!(d.line, Some(line_of(&text, "contcat")));
}

#[test]
fn special_category_needs_explicit_permission() {
    let text = edit(
        "personal_data = [\"identification\", \"contact\"]",
        "personal_data = [\"identification\", \"health\"]",
    );
    let d = one(&errors(&text), "special_category_not_allowed");
    assert_eq!(d.path, "processing.personal_data[1]");
    // Allowing it makes the same agreement valid.
    let allowed = text.replace(
        "personal_data = [\"identification\", \"health\"]",
        "personal_data = [\"identification\", \"health\"]\nspecial_categories_allowed = [\"health\"]",
    );
    assert!(parse_one("t.toml", allowed.as_bytes()).is_ok());
}

#[test]
fn transfer_outside_the_eea_needs_a_safeguard() {
    let transfer = "\n[[transfers]]\nrecipient = \"Support Desk Pvt Ltd\"\ncountry = \"IN\"\npurpose = { nl = \"Support\", en = \"Support\" }\n";
    let text = edit(
        "[locations]\nstorage = [\"NL\"]",
        &format!("[locations]\nstorage = [\"NL\"]\naccess = [\"IN\"]\n{transfer}"),
    );
    let d = one(&errors(&text), "transfer_without_safeguard");
    assert_eq!(d.path, "transfers[0].safeguard");
    // An adequacy decision India does not have is refused too.
    let adequacy = text.replace(
        "purpose = { nl = \"Support\", en = \"Support\" }",
        "purpose = { nl = \"Support\", en = \"Support\" }\nsafeguard = \"adequacy_decision\"",
    );
    one(&errors(&adequacy), "no_adequacy_decision");
    let scc = text.replace(
        "purpose = { nl = \"Support\", en = \"Support\" }",
        "purpose = { nl = \"Support\", en = \"Support\" }\nsafeguard = \"standard_contractual_clauses\"",
    );
    assert!(parse_one("t.toml", scc.as_bytes()).is_ok());
    // Access from outside the EEA without any transfer listed is refused as well.
    let undocumented = edit(
        "[locations]\nstorage = [\"NL\"]",
        "[locations]\nstorage = [\"NL\"]\naccess = [\"US\"]",
    );
    one(&errors(&undocumented), "transfer_not_documented");
}

#[test]
fn customer_agreement_needs_a_breach_contact() {
    let text = edit("roles = [\"breach_notice\", \"privacy\"]", "roles = [\"privacy\"]");
    let d = one(&errors(&text), "breach_contact_missing");
    assert_eq!(d.path, "customer.contacts");
}

#[test]
fn several_rule_breaches_are_all_reported() {
    let text = edit(
        "data_subjects = [\"customer\", \"employee\"]",
        "data_subjects = [\"customer\", \"customer\", \"martian\"]",
    )
    .replace("storage = [\"NL\"]", "storage = [\"XX\"]");
    let ds = errors(&text);
    one(&ds, "duplicate");
    one(&ds, "unknown_term");
    one(&ds, "unknown_location");
}

#[test]
fn wrong_enum_value_and_wrong_type_are_refused() {
    let d = one(
        &errors(&edit("authorisation = \"general\"", "authorisation = \"whatever\"")),
        "unknown_value",
    );
    assert_eq!(d.path, "subprocessors.authorisation");
    let d = one(&errors(&edit("version = 2", "version = \"two\"")), "invalid_type");
    assert_eq!(d.path, "version");
    let d = one(&errors(&edit("version = 2", "version = -1")), "invalid_value");
    assert_eq!(d.path, "version");
}

#[test]
fn syntax_error_has_a_line() {
    let text = edit("[security]", "[security");
    let d = one(&errors(&text), "syntax");
    assert_eq!(d.line, Some(line_of(&text, "[security")));
}

#[test]
fn binary_non_utf8_empty_and_oversized_files_are_refused() {
    let mut binary = FIXTURE.as_bytes().to_vec();
    binary.insert(10, 0);
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (binary, "binary"),
        (vec![b'i', b'd', b' ', b'=', b' ', b'"', 0xff, 0xfe, b'"'], "not_utf8"),
        (Vec::new(), "empty"),
        (b"  \n\t\n".to_vec(), "empty"),
        (
            format!("{FIXTURE}\n# {}\n", "x".repeat(art28_core::agreement::MAX_BYTES)).into_bytes(),
            "too_large",
        ),
        (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec(), "binary"),
    ];
    for (bytes, code) in cases {
        let ds = parse_one("t.toml", &bytes).expect_err(code);
        assert_eq!(ds.len(), 1);
        assert_eq!(ds[0].code, code, "{:?}", ds[0]);
    }
}

#[test]
fn every_truncation_is_refused_without_panic() {
    let bytes = FIXTURE.as_bytes();
    let accepted: Vec<String> = (0..bytes.len())
        .filter(|&cut| parse_one("t.toml", &bytes[..cut]).is_ok())
        .map(|cut| String::from_utf8_lossy(&bytes[cut..]).into_owned())
        .collect();
    // A cut at a table boundary can leave a shorter valid agreement (annexes are optional);
    // every other cut must be refused.
    assert!(!accepted.is_empty());
    for rest in &accepted {
        let rest = rest.trim_start();
        assert!(
            rest.is_empty() || rest.starts_with("[[annexes]]"),
            "a cut before {rest:?} was accepted"
        );
    }
}

#[test]
fn random_mutations_never_panic() {
    // A small deterministic generator; the fuzz target in fuzz/ explores far more.
    let mut state: u64 = 0x2028_0028;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let base = FIXTURE.as_bytes();
    for _ in 0..3000 {
        let mut b = base.to_vec();
        for _ in 0..(next() % 4 + 1) {
            let i = (next() as usize) % b.len();
            match next() % 3 {
                0 => b[i] = (next() % 256) as u8,
                1 => {
                    b.remove(i);
                }
                _ => b.insert(i, b"[]=\"{},.\n#'"[(next() % 11) as usize]),
            }
        }
        let _ = parse_one("m.toml", &b);
    }
}

#[test]
fn deviation_merges_onto_its_standard_and_errors_point_at_the_right_file() {
    let standard = FIXTURE
        .replace("id = \"test-agreement\"", "id = \"std\"")
        .replace("version = 2", "version = 1")
        .replace("kind = \"customer\"", "kind = \"standard\"");
    let standard = standard[..standard.find("[customer]").expect("customer")].to_string()
        + &standard[standard.find("[service]").expect("service")..];
    let standard = standard.replace("[[annexes]]", "[[ignored]]");
    let standard = standard[..standard.find("[[ignored]]").expect("annex")].to_string();
    let deviation = "format = \"art28/agreement/v1\"\nid = \"dev\"\nversion = 1\nkind = \"customer\"\neffective_from = 2026-02-01\nbased_on = { id = \"std\", version = 1 }\ntitle = { nl = \"Afwijking\", en = \"Deviation\" }\n\n[customer]\nid = \"klant-x\"\nname = \"Klant X\"\nregistration = \"KvK 3\"\naddress = \"Weg 3\"\ncountry = \"NL\"\ncontacts = [{ name = \"A\", email = \"a@x.example\", roles = [\"breach_notice\"] }]\n\n[breach]\nnotice = \"PT24H\"\n";
    let results = check_set(&[
        Source::new("std.toml", standard.clone()),
        Source::new("dev.toml", deviation),
    ]);
    let std_agreement = results[0].result.as_ref().expect("standard valid");
    assert_eq!(std_agreement.breach.notice.to_string(), "PT48H");
    let merged = results[1].result.as_ref().expect("deviation valid");
    assert_eq!(merged.breach.notice.to_string(), "PT24H", "deviation overrides");
    assert_eq!(
        merged.breach.complete_information.map(|d| d.to_string()).as_deref(),
        Some("PT72H"),
        "base kept"
    );
    assert_eq!(merged.end.retention.to_string(), "P3M");

    // A fault in the deviation points at the deviation file.
    let bad_dev = deviation.replace("notice = \"PT24H\"", "notice = \"soon\"");
    let results = check_set(&[
        Source::new("std.toml", standard.clone()),
        Source::new("dev.toml", bad_dev.clone()),
    ]);
    let d = one(results[1].result.as_ref().expect_err("invalid"), "invalid_duration");
    assert_eq!((d.file.as_str(), d.line), ("dev.toml", Some(line_of(&bad_dev, "soon"))));

    // A fault that only the merge reveals, in a field the deviation does not touch, points at the standard.
    let bad_std = standard.replace(
        "measures = [\"encryption_at_rest\", \"access_logging\"]",
        "measures = [\"encryption_at_rest\", \"acces_logging\"]",
    );
    let results = check_set(&[
        Source::new("std.toml", bad_std.clone()),
        Source::new("dev.toml", deviation),
    ]);
    let d = one(results[1].result.as_ref().expect_err("invalid"), "unknown_term");
    assert_eq!(
        (d.file.as_str(), d.line),
        ("std.toml", Some(line_of(&bad_std, "acces_logging")))
    );

    // Without its base, the deviation is refused.
    let results = check_set(&[Source::new("dev.toml", deviation)]);
    one(results[0].result.as_ref().expect_err("no base"), "base_missing");
}

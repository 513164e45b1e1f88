use crate::{art28, examples, stderr, stdout};

fn example_files() -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(examples())
        .expect("dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    v.sort();
    v
}

#[test]
fn check_passes_on_the_examples() {
    let files = example_files();
    let out = art28()
        .arg("agreement")
        .arg("check")
        .args(&files)
        .output()
        .expect("run");
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(
        stdout(&out).contains(&format!("{n} file(s): {n} valid, 0 invalid", n = files.len())),
        "{}",
        stdout(&out)
    );
}

#[test]
fn check_resolves_a_standard_agreement_from_the_same_directory() {
    let out = art28()
        .args(["agreement", "check"])
        .arg(examples().join("bakkerij-de-vries.toml"))
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(stdout(&out).contains("1 file(s): 1 valid"));
}

#[test]
fn check_fails_with_file_line_and_rule_for_each_bad_file() {
    let dir = tempfile::tempdir().expect("tmp");
    let good = std::fs::read_to_string(examples().join("erp-integrator-klant.toml")).expect("read");
    let bad = good.replacen("\"P3M\"", "\"three months\"", 1);
    assert_ne!(good, bad, "the example has a P3M term");
    let bad_path = dir.path().join("bad.toml");
    std::fs::write(&bad_path, &bad).expect("write");
    let line = bad.lines().position(|l| l.contains("three months")).expect("line") + 1;
    let binary = dir.path().join("binary.toml");
    std::fs::write(&binary, [0x7f, b'E', b'L', b'F', 0, 0, 1]).expect("write");
    let huge = dir.path().join("huge.toml");
    std::fs::write(&huge, "# padding\n".repeat(40_000)).expect("write");
    let missing = dir.path().join("missing.toml");

    let out = art28()
        .args(["agreement", "check"])
        .arg(examples().join("saas-standard.toml"))
        .args([&bad_path, &binary, &huge, &missing])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains(&format!("{}:{line}:", bad_path.display())), "{text}");
    assert!(text.contains("[invalid_duration]"), "{text}");
    assert!(
        text.contains("[binary]") && text.contains("[too_large]") && text.contains("cannot read"),
        "{text}"
    );
    assert!(text.contains("5 file(s): 1 valid, 4 invalid"), "{text}");

    let json = art28()
        .args(["agreement", "check", "--json"])
        .arg(&bad_path)
        .output()
        .expect("run");
    assert_eq!(json.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json output");
    assert_eq!(v[0]["problems"][0]["code"], "invalid_duration");
    assert_eq!(v[0]["problems"][0]["line"], line);
}

#[test]
fn render_produces_documents_in_both_languages() {
    let file = examples().join("saas-standard.toml");
    let nl = art28()
        .args(["agreement", "render", "--lang", "nl"])
        .arg(&file)
        .output()
        .expect("run");
    assert!(nl.status.success(), "{}", stderr(&nl));
    assert!(stdout(&nl).contains("48 uur"));
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("doc.html");
    let en = art28()
        .args(["agreement", "render", "--lang", "en", "--format", "html", "-o"])
        .arg(&out)
        .arg(&file)
        .output()
        .expect("run");
    assert!(en.status.success(), "{}", stderr(&en));
    let html = std::fs::read_to_string(&out).expect("written");
    assert!(
        html.starts_with("<!doctype html>") || html.starts_with("<!DOCTYPE html>"),
        "{}",
        &html[..40.min(html.len())]
    );
    assert!(html.contains("48 hours"));

    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "format = \"art28/agreement/v1\"\n").expect("write");
    let r = art28().args(["agreement", "render"]).arg(&bad).output().expect("run");
    assert_eq!(r.status.code(), Some(1));
    assert!(stderr(&r).contains("missing_field"), "{}", stderr(&r));
}

#[test]
fn schema_command_prints_the_committed_schema() {
    let out = art28().args(["agreement", "schema"]).output().expect("run");
    assert!(out.status.success());
    let stored = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/agreement.schema.json"))
        .expect("schema");
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let stored: serde_json::Value = serde_json::from_str(&stored).expect("json");
    assert_eq!(printed, stored);
}

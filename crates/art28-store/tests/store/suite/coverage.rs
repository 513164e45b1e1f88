//! The suite calls every method of every store trait: a method added to a trait in
//! `src/lib.rs` without a call in the suite fails `the_conformance_suite_calls_every_trait_method`.
//!
//! Methods are read from the `pub trait …Store` blocks of `src/lib.rs` (every `fn name` in
//! them); a call is `store.name(` in a suite module (whitespace ignored, comment lines skipped),
//! so a call on some other value of the same name does not count. Suite functions must be
//! listed in `conformance_suite!`, else they would not run and their calls would not count.

use std::collections::BTreeMap;

/// The suite's own modules (not this one): where calls count.
const SUITE: &[&str] = &[
    "agreements.rs",
    "log.rs",
    "accounts.rs",
    "staff_access.rs",
    "vault.rs",
    "incidents.rs",
    "subprocessors.rs",
    "jobs.rs",
];

fn read(rel: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// The methods of every `pub trait …Store` in `src`, by trait, in order.
pub fn trait_methods(src: &str) -> BTreeMap<String, Vec<String>> {
    let mut traits = BTreeMap::new();
    let mut rest = src;
    while let Some(at) = rest.find("pub trait ") {
        rest = &rest[at + "pub trait ".len()..];
        let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        let Some(open) = rest.find('{') else { break };
        // The block up to its matching brace.
        let mut depth = 0;
        let mut end = open;
        for (i, c) in rest[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = open + i;
                        break;
                    }
                }
                _ => {}
            }
        }
        if !name.ends_with("Store") {
            rest = &rest[end..];
            continue;
        }
        let body = &rest[open..end];
        let mut methods = Vec::new();
        for line in body.lines().map(str::trim).filter(|l| !l.starts_with("//")) {
            let mut words = line;
            while let Some(f) = words.find("fn ") {
                let before = &words[..f];
                let after = &words[f + 3..];
                let boundary = before.is_empty() || before.ends_with(' ') || before.ends_with('(');
                let method: String = after.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                if boundary && !method.is_empty() && after[method.len()..].trim_start().starts_with(['(', '<']) {
                    methods.push(method);
                }
                words = after;
            }
        }
        traits.insert(name, methods);
        rest = &rest[end..];
    }
    traits
}

/// The suite's text with comment lines dropped and all whitespace removed.
fn calls_text(sources: &[String]) -> String {
    sources
        .iter()
        .flat_map(|s| s.lines())
        .filter(|l| !l.trim_start().starts_with("//"))
        .flat_map(|l| l.chars().filter(|c| !c.is_whitespace()))
        .collect()
}

/// Each method with whether the suite calls it.
pub fn coverage(lib: &str, sources: &[String]) -> Vec<(String, String, bool)> {
    let text = calls_text(sources);
    trait_methods(lib)
        .into_iter()
        .flat_map(|(t, methods)| methods.into_iter().map(move |m| (t.clone(), m)))
        .map(|(t, m)| {
            let called = text.contains(&format!("store.{m}("));
            (t, m, called)
        })
        .collect()
}

/// Suite functions (`pub async fn name(store: &dyn Store)`) of a module.
fn suite_functions(src: &str) -> Vec<String> {
    src.lines()
        .filter_map(|l| l.strip_prefix("pub async fn "))
        .filter(|l| l.contains("(store: &dyn Store)"))
        .map(|l| l.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect())
        .collect()
}

#[test]
fn the_conformance_suite_calls_every_trait_method() {
    let lib = read("src/lib.rs");
    let sources: Vec<String> = SUITE.iter().map(|f| read(&format!("tests/store/suite/{f}"))).collect();
    let report = coverage(&lib, &sources);
    let traits = trait_methods(&lib);
    for t in [
        "AgreementStore",
        "LogStore",
        "AccountStore",
        "StaffAccessStore",
        "VaultStore",
        "IncidentStore",
        "SubprocessorStore",
    ] {
        assert!(
            traits.get(t).is_some_and(|m| !m.is_empty()),
            "found no methods of {t} in src/lib.rs: the parser is out of step ({traits:?})"
        );
    }
    assert!(report.iter().any(|(_, m, _)| m == "keeps_level"), "plain fns count too");
    println!("{} trait methods:", report.len());
    for (t, m, called) in &report {
        let name = format!("{t}::{m}");
        println!("  {name:<46} {}", if *called { "called" } else { "MISSING" });
    }
    let missing: Vec<String> = report
        .iter()
        .filter(|(_, _, called)| !called)
        .map(|(t, m, _)| format!("{t}::{m}"))
        .collect();
    assert!(missing.is_empty(), "the conformance suite never calls: {missing:?}");

    // Every suite function is run by `conformance!`.
    let listed = calls_text(&[read("tests/store/suite/mod.rs")]);
    for (file, src) in SUITE.iter().zip(&sources) {
        let module = file.trim_end_matches(".rs");
        let functions = suite_functions(src);
        assert!(!functions.is_empty(), "{file} has no suite functions");
        for f in functions {
            assert!(
                listed.contains(&format!("{f},")) || listed.contains(&format!("{f}}}")),
                "{module}::{f} is not listed in conformance_suite!, so it never runs"
            );
        }
    }
}

#[test]
fn the_coverage_check_notices_a_method_without_a_call() {
    let lib = read("src/lib.rs");
    let sources: Vec<String> = SUITE.iter().map(|f| read(&format!("tests/store/suite/{f}"))).collect();
    // A new method in a trait, on one line or over several, generic or not.
    let grown = lib
        .replacen(
            "pub trait VaultStore: Send + Sync + 'static {",
            "pub trait VaultStore: Send + Sync + 'static {\n    /// New.\n    async fn vault_brand_new(&self, x: u8) -> Result<()>;\n    fn keeps_everything<T>(\n        &self,\n    ) -> bool;",
            1,
        );
    assert_ne!(grown, lib, "the trait header is where the test expects it");
    let missing: Vec<String> = coverage(&grown, &sources)
        .into_iter()
        .filter(|(_, _, called)| !called)
        .map(|(_, m, _)| m)
        .collect();
    assert_eq!(missing, vec!["vault_brand_new", "keeps_everything"]);
    // A name that only appears in a comment or on another receiver is no call.
    let fake = vec!["// store.vault_brand_new(1)\nlet x = other.vault_brand_new(1);".to_string()];
    assert!(
        coverage(&grown, &fake)
            .iter()
            .any(|(_, m, called)| m == "vault_brand_new" && !called)
    );
    let real = vec!["store\n    .vault_brand_new(1)".to_string()];
    assert!(
        coverage(&grown, &real)
            .iter()
            .any(|(_, m, called)| m == "vault_brand_new" && *called)
    );
}

//! Integration tests of art28-render: the example agreements load, and every document made
//! from them says what the agreement says, in the right language, without letting agreement
//! text turn into markup.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod content;
mod escaping;
mod examples;
mod format;

use art28_core::agreement::{ProcessorAgreement, Source, check_set};
use art28_core::lang::Lang;
use art28_render::{DocFormat, render_agreement};

/// The example agreements, in an order where the standard comes before the customer file
/// that builds on it (check_set does not need that order; people reading the list do).
const EXAMPLES: [(&str, &str); 4] = [
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

const LANGS: [Lang; 2] = [Lang::Nl, Lang::En];

/// All example agreements, read together (the customer file needs its base), merged and
/// validated.
fn examples() -> Vec<(&'static str, ProcessorAgreement)> {
    let sources: Vec<Source> = EXAMPLES.iter().map(|(name, text)| Source::new(*name, *text)).collect();
    check_set(&sources)
        .into_iter()
        .zip(EXAMPLES)
        .map(|(checked, (name, _))| match checked.result {
            Ok(a) => (name, a),
            Err(diagnostics) => {
                let lines: Vec<String> = diagnostics.iter().map(ToString::to_string).collect();
                panic!("{name} is not valid:\n{}", lines.join("\n"))
            }
        })
        .collect()
}

fn example(name: &str) -> ProcessorAgreement {
    examples()
        .into_iter()
        .find(|(n, _)| *n == name)
        .map(|(_, a)| a)
        .unwrap_or_else(|| panic!("no example {name}"))
}

fn markdown(a: &ProcessorAgreement, lang: Lang) -> String {
    render_agreement(a, lang, DocFormat::Markdown).unwrap_or_else(|e| panic!("{}: {e}", a.id))
}

fn html(a: &ProcessorAgreement, lang: Lang) -> String {
    render_agreement(a, lang, DocFormat::Html).unwrap_or_else(|e| panic!("{}: {e}", a.id))
}

/// The section headings of a Markdown document (lines starting with `#`), without the title
/// and annex headings, whose text comes from the agreement.
fn section_headings(md: &str) -> Vec<String> {
    md.lines()
        .filter(|l| l.starts_with("## ") || l.starts_with("### "))
        .map(str::to_string)
        .collect()
}

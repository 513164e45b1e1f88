//! # art28-render: processor agreements as documents people read
//!
//! An agreement in art28 is data (a TOML file, see `art28-core`); the customer, its data
//! protection officer and an auditor need it as a document (R1.5). This crate turns a
//! [`ProcessorAgreement`] into that document, in Dutch or English, as Markdown or as a
//! complete HTML page. Rendering is pure: no IO, no clock, the same agreement always gives
//! the same bytes, so the CLI, the server and tests all share one result.
//!
//! The document follows a Data Pro Statement (part A: parties, service, data, locations,
//! sub-processors, requests, security, breach protocol) and then the clauses (part B:
//! instructions, audits, the end of the agreement, confidentiality, accounts, changes,
//! precedence, annexes), closing with the version and date.
//!
//! How it is built, and why:
//!
//! - `view`: a view model built in Rust from the agreement. Every value a reader sees, a
//!   term such as "48 uur", a vocabulary label, a date such as "1 januari 2026", is decided
//!   there, so the templates hold no numbers and no lookups, and the compiler checks each
//!   field of the agreement is used the way the model means it.
//! - `templates/agreement.{nl,en}.md`: one Markdown template per language, embedded with
//!   `include_str!`. Each is written as its own legal text in its own language rather than
//!   translated phrase by phrase, because Dutch and English contracts are built differently.
//! - `markdown`: every string from the agreement is escaped before it reaches a template, so
//!   a name with `|`, `#` or `<script>` cannot break a table, add a heading or inject HTML.
//! - `html`: the Markdown is rendered with pulldown-cmark; raw HTML is turned into text and
//!   links and images are dropped (defence in depth behind the escaping), then wrapped in
//!   `templates/document.html` with a small print-friendly stylesheet, so the page prints
//!   or saves as PDF without anything else.
//! - [`notice`]: breach notices (R4.3) as plain-text e-mail in the customer's language.
//! - [`ics`]: the deadlines view as an iCalendar (RFC 5545) feed.
//! - `words`: month names, country names and labels of enum values in both languages.

mod html;
pub mod ics;
mod markdown;
pub mod notice;
pub mod subprocessors;
mod view;
mod words;

use art28_core::agreement::ProcessorAgreement;
use art28_core::lang::Lang;
use art28_core::{Error, ErrorCode};
use minijinja::{Environment, UndefinedBehavior};
use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

/// The form of a rendered document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocFormat {
    /// CommonMark with GFM tables.
    Markdown,
    /// A complete HTML5 document with embedded styles.
    Html,
    /// The HTML of the document's body alone, to be placed in a page of one's own (the
    /// portal's, whose policy allows no embedded styles).
    HtmlBody,
}

impl DocFormat {
    /// The media type, for an HTTP `Content-Type` header.
    pub fn media_type(self) -> &'static str {
        match self {
            DocFormat::Markdown => "text/markdown; charset=utf-8",
            DocFormat::Html | DocFormat::HtmlBody => "text/html; charset=utf-8",
        }
    }

    /// The usual file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            DocFormat::Markdown => "md",
            DocFormat::Html | DocFormat::HtmlBody => "html",
        }
    }
}

impl fmt::Display for DocFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.extension())
    }
}

impl FromStr for DocFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "md" | "markdown" => Ok(DocFormat::Markdown),
            "html" | "htm" => Ok(DocFormat::Html),
            other => Err(format!(
                "unknown document format `{}`; use `md` or `html`",
                other.chars().take(32).collect::<String>()
            )),
        }
    }
}

/// Render an agreement as a document in one language.
///
/// The agreement should have passed validation (as every agreement read through
/// `art28_core::agreement::check_set` has); an unknown vocabulary id or a template failure is
/// reported as [`ErrorCode::Internal`].
pub fn render_agreement(agreement: &ProcessorAgreement, lang: Lang, format: DocFormat) -> Result<String, Error> {
    let view = view::build(agreement, lang)?;
    let env = environment()?;
    let name = match lang {
        Lang::Nl => AGREEMENT_NL,
        Lang::En => AGREEMENT_EN,
    };
    let markdown = env
        .get_template(name)
        .and_then(|t| t.render(minijinja::value::Serde(&view)))
        .map_err(template_error)?;
    match format {
        DocFormat::Markdown => Ok(markdown),
        DocFormat::HtmlBody => Ok(html::body(&markdown)),
        DocFormat::Html => env
            .get_template(DOCUMENT_HTML)
            .and_then(|t| {
                t.render(minijinja::context! {
                    lang => lang.tag(),
                    title => agreement.title.get(lang),
                    body => html::body(&markdown),
                })
            })
            .map_err(template_error),
    }
}

/// A complete HTML document around Markdown `md`, with the agreement document's styles.
pub(crate) fn document(lang: Lang, title: &str, md: &str) -> Result<String, Error> {
    environment()?
        .get_template(DOCUMENT_HTML)
        .and_then(|t| {
            t.render(minijinja::context! {
                lang => lang.tag(),
                title => title,
                body => html::body(md),
            })
        })
        .map_err(subprocessors::bad)
}

const AGREEMENT_NL: &str = "agreement.nl.md";
const AGREEMENT_EN: &str = "agreement.en.md";
const DOCUMENT_HTML: &str = "document.html";

/// The templates, parsed once. A template that does not parse is a bug in this crate; it is
/// kept as an error (not a panic) and caught by the tests, which render every example.
static ENVIRONMENT: LazyLock<Result<Environment<'static>, minijinja::Error>> = LazyLock::new(|| {
    let mut env = Environment::new();
    // A misspelt field must fail the render, not print as an empty string in a contract.
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_syntax(
        minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .keep_trailing_newline(true)
            .build()?,
    );
    // Markdown templates get no auto-escaping (the view model escapes for Markdown);
    // the HTML wrapper escapes everything except the body marked safe.
    env.add_template(AGREEMENT_NL, include_str!("../templates/agreement.nl.md"))?;
    env.add_template(AGREEMENT_EN, include_str!("../templates/agreement.en.md"))?;
    env.add_template(DOCUMENT_HTML, include_str!("../templates/document.html"))?;
    Ok(env)
});

fn environment() -> Result<&'static Environment<'static>, Error> {
    ENVIRONMENT.as_ref().map_err(template_error)
}

fn template_error(e: impl fmt::Display) -> Error {
    Error::new(
        ErrorCode::Internal,
        format!("the agreement document could not be rendered: {e}"),
    )
}

//! Reading agreement files: size and encoding checks, TOML syntax, merging a customer's
//! deviations onto its standard agreement, the shape (serde) and the rules (validate).
//!
//! Every problem becomes a [`Diagnostic`] naming the file, the field path and the line, so an
//! author can go straight to it. Nothing here panics on any input; the fuzz target in
//! `fuzz/` holds us to that.

use super::model::{AgreementKind, BaseRef, ProcessorAgreement};
use super::path::{Path, Seg};
use super::validate::validate;
use serde_spanned::Spanned;
use std::fmt;
use std::ops::Range;
use toml::de::{DeTable, DeValue};

/// Largest agreement file accepted. Real agreements are a few kilobytes.
pub const MAX_BYTES: usize = 256 * 1024;

/// A file to read.
#[derive(Debug, Clone)]
pub struct Source {
    /// Name shown in diagnostics (usually the path).
    pub name: String,
    /// Raw content.
    pub bytes: Vec<u8>,
}

impl Source {
    /// A source from text.
    pub fn new(name: impl Into<String>, text: impl Into<Vec<u8>>) -> Self {
        Self {
            name: name.into(),
            bytes: text.into(),
        }
    }
}

/// One problem in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file.
    pub file: String,
    /// The field path, empty for the whole file.
    pub path: String,
    /// 1-based line, where known.
    pub line: Option<usize>,
    /// 1-based column, where known.
    pub column: Option<usize>,
    /// Stable rule code.
    pub code: &'static str,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        write!(f, ": ")?;
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        write!(f, "{} [{}]", self.message, self.code)
    }
}

/// The outcome for one file.
#[derive(Debug)]
pub struct Checked {
    /// The file name.
    pub name: String,
    /// The agreement (merged with its base for a customer deviation), or what is wrong.
    pub result: Result<ProcessorAgreement, Vec<Diagnostic>>,
}

/// A file that passed the syntax stage.
struct Parsed<'a> {
    name: &'a str,
    text: &'a str,
    spans: Spanned<DeTable<'a>>,
    table: toml::Table,
}

/// Read one self-contained agreement (a standard or a customer agreement without `based_on`).
pub fn parse_one(name: &str, bytes: &[u8]) -> Result<ProcessorAgreement, Vec<Diagnostic>> {
    let sources = [Source::new(name, bytes.to_vec())];
    match check_set(&sources).pop() {
        Some(c) => c.result,
        None => Err(Vec::new()),
    }
}

/// The identity of an agreement text, read without checking the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Agreement id.
    pub id: crate::ids::AgreementId,
    /// Version.
    pub version: u32,
    /// The standard agreement it builds on, if any.
    pub based_on: Option<BaseRef>,
}

/// Read id, version and `based_on` of an agreement text, if it is TOML and they are
/// well-formed. Anything malformed is left for [`check_set`] to report with its line.
pub fn header(bytes: &[u8]) -> Option<Header> {
    if bytes.len() > MAX_BYTES {
        return None;
    }
    let table: toml::Table = std::str::from_utf8(bytes).ok()?.parse().ok()?;
    let version = |v: &toml::Value| v.as_integer().and_then(|n| u32::try_from(n).ok());
    let based_on = table.get("based_on").and_then(|b| {
        Some(BaseRef {
            id: b.get("id")?.as_str()?.parse().ok()?,
            version: version(b.get("version")?)?,
        })
    });
    Some(Header {
        id: table.get("id")?.as_str()?.parse().ok()?,
        version: version(table.get("version")?)?,
        based_on,
    })
}

/// Read a set of files, resolving `based_on` references among them. Results come in the
/// order of the input.
pub fn check_set(sources: &[Source]) -> Vec<Checked> {
    let parsed: Vec<Result<Parsed<'_>, Vec<Diagnostic>>> = sources.iter().map(parse_syntax).collect();
    sources
        .iter()
        .zip(&parsed)
        .map(|(src, p)| Checked {
            name: src.name.clone(),
            result: match p {
                Err(d) => Err(d.clone()),
                Ok(p) => resolve(p, &parsed),
            },
        })
        .collect()
}

fn whole_file(name: &str, code: &'static str, message: String) -> Vec<Diagnostic> {
    vec![Diagnostic {
        file: name.to_string(),
        path: String::new(),
        line: None,
        column: None,
        code,
        message,
    }]
}

fn parse_syntax(src: &Source) -> Result<Parsed<'_>, Vec<Diagnostic>> {
    let name = src.name.as_str();
    if src.bytes.len() > MAX_BYTES {
        return Err(whole_file(
            name,
            "too_large",
            format!(
                "the file is {} bytes; agreements are limited to {MAX_BYTES} bytes",
                src.bytes.len()
            ),
        ));
    }
    if src.bytes.is_empty() || src.bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(whole_file(name, "empty", "the file is empty".into()));
    }
    if src.bytes.contains(&0) {
        return Err(whole_file(
            name,
            "binary",
            "the file holds binary data (a NUL byte), not TOML text".into(),
        ));
    }
    let text = match std::str::from_utf8(&src.bytes) {
        Ok(t) => t,
        Err(e) => {
            let (line, column) = line_col(&String::from_utf8_lossy(&src.bytes[..e.valid_up_to()]), e.valid_up_to());
            return Err(vec![Diagnostic {
                file: name.to_string(),
                path: String::new(),
                line: Some(line),
                column: Some(column),
                code: "not_utf8",
                message: "the file is not UTF-8 text".into(),
            }]);
        }
    };
    let spans = DeTable::parse(text).map_err(|e| {
        let (line, column) = e.span().map_or((None, None), |s| {
            let (l, c) = line_col(text, s.start);
            (Some(l), Some(c))
        });
        vec![Diagnostic {
            file: name.to_string(),
            path: String::new(),
            line,
            column,
            code: "syntax",
            message: format!("TOML syntax: {}", first_line(e.message())),
        }]
    })?;
    let table: toml::Table = toml::from_str(text)
        .map_err(|e| whole_file(name, "syntax", format!("TOML syntax: {}", first_line(e.message()))))?;
    Ok(Parsed {
        name,
        text,
        spans,
        table,
    })
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or(s).trim().to_string()
}

/// Find the standard agreement a customer file builds on, merge, deserialize and validate.
fn resolve(p: &Parsed<'_>, all: &[Result<Parsed<'_>, Vec<Diagnostic>>]) -> Result<ProcessorAgreement, Vec<Diagnostic>> {
    let mut layers: Vec<&Parsed<'_>> = vec![p];
    let mut merged = p.table.clone();
    if let Some(base) = p.table.get("based_on") {
        let id = base.get("id").and_then(|v| v.as_str());
        let version = base.get("version").and_then(|v| v.as_integer());
        let (Some(id), Some(version)) = (id, version) else {
            return Err(diag_at(
                p,
                &Path::root().key("based_on"),
                "invalid_value",
                "based_on needs `id` and `version`".into(),
            ));
        };
        let found = all.iter().filter_map(|r| r.as_ref().ok()).find(|b| {
            b.table.get("id").and_then(|v| v.as_str()) == Some(id)
                && b.table.get("version").and_then(|v| v.as_integer()) == Some(version)
                && b.table.get("kind").and_then(|v| v.as_str()) == Some("standard")
        });
        let Some(base) = found else {
            return Err(diag_at(
                p,
                &Path::root().key("based_on"),
                "base_missing",
                format!("the standard agreement `{id}` version {version} is not among the files given"),
            ));
        };
        merged = base.table.clone();
        merge(&mut merged, p.table.clone());
        layers.push(base);
    }

    let value = toml::Value::Table(merged);
    let agreement: ProcessorAgreement = serde_path_to_error::deserialize(value).map_err(|e| {
        let path = Path::from_serde(e.path());
        let message = e.inner().message().trim().to_string();
        let code = classify(&message);
        vec![diag_layers(&layers, &path, code, message)]
    })?;
    if agreement.kind == AgreementKind::Standard && layers.len() > 1 {
        return Err(vec![diag_layers(
            &layers,
            &Path::root().key("kind"),
            "base_of_standard",
            "only a customer agreement can be based on a standard agreement".into(),
        )]);
    }
    let findings = validate(&agreement);
    if findings.is_empty() {
        Ok(agreement)
    } else {
        Err(findings
            .into_iter()
            .map(|f| diag_layers(&layers, &f.path, f.code, f.message))
            .collect())
    }
}

fn classify(message: &str) -> &'static str {
    if message.starts_with("unknown field") {
        "unknown_field"
    } else if message.starts_with("missing field") {
        "missing_field"
    } else if message.contains("ISO 8601")
        || message.contains("a term must be positive")
        || message.contains("whole units")
    {
        "invalid_duration"
    } else if message.starts_with("unknown variant") {
        "unknown_value"
    } else if message.starts_with("invalid type") {
        "invalid_type"
    } else {
        "invalid_value"
    }
}

/// Deep-merge `over` into `base`: tables merge key by key, everything else is replaced.
fn merge(base: &mut toml::Table, over: toml::Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

/// Point a diagnostic at the first layer (customer file, then its base) that holds the path.
fn diag_layers(layers: &[&Parsed<'_>], path: &Path, code: &'static str, message: String) -> Diagnostic {
    let mut best: Option<(&Parsed<'_>, Range<usize>, usize)> = None;
    for layer in layers {
        let (span, depth) = locate(&layer.spans, path);
        if depth == path.0.len() {
            return make(layer, path, span, code, message);
        }
        if best.as_ref().is_none_or(|(_, _, d)| depth > *d) {
            best = Some((layer, span, depth));
        }
    }
    match best {
        Some((layer, span, _)) => make(layer, path, span, code, message),
        None => Diagnostic {
            file: String::new(),
            path: path.to_string(),
            line: None,
            column: None,
            code,
            message,
        },
    }
}

fn diag_at(p: &Parsed<'_>, path: &Path, code: &'static str, message: String) -> Vec<Diagnostic> {
    vec![diag_layers(&[p], path, code, message)]
}

fn make(layer: &Parsed<'_>, path: &Path, span: Range<usize>, code: &'static str, message: String) -> Diagnostic {
    let (line, column) = line_col(layer.text, span.start);
    Diagnostic {
        file: layer.name.to_string(),
        path: path.to_string(),
        line: Some(line),
        column: Some(column),
        code,
        message,
    }
}

/// The span of the deepest element of `path` present in the document, and how many steps
/// of the path were found. For a key, the span is the key's (where an author looks).
fn locate(root: &Spanned<DeTable<'_>>, path: &Path) -> (Range<usize>, usize) {
    let mut span = 0..0;
    let mut depth = 0;
    let mut table: Option<&DeTable<'_>> = Some(root.get_ref());
    let mut array: Option<&toml::de::DeArray<'_>> = None;
    for seg in &path.0 {
        let next: Option<&Spanned<DeValue<'_>>> = match seg {
            Seg::Key(k) => table
                .and_then(|t| t.iter().find(|(key, _)| key.get_ref().as_ref() == k.as_str()))
                .map(|(key, v)| {
                    span = key.span();
                    v
                }),
            Seg::Index(i) => array.and_then(|a| a.get(*i)).inspect(|v| span = v.span()),
        };
        let Some(value) = next else { break };
        depth += 1;
        table = None;
        array = None;
        match value.get_ref() {
            DeValue::Table(t) => table = Some(t),
            DeValue::Array(a) => array = Some(a),
            _ => {}
        }
    }
    (span, depth)
}

/// 1-based line and column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let upto = text.get(..offset.min(text.len())).unwrap_or(text);
    let line = upto.matches('\n').count() + 1;
    let column = upto.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

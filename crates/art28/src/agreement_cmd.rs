//! `art28 agreement …`: offline work on agreement files.

use art28_core::agreement::{Checked, MAX_BYTES, Source, check_set, header};
use art28_core::lang::Lang;
use art28_render::DocFormat;
use clap::{Subcommand, ValueEnum};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Subcommand, Debug)]
pub enum AgreementCommand {
    /// Check agreement files; exit 0 only when all are valid.
    Check {
        /// Agreement files (TOML).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Print results as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Render an agreement as a readable document.
    Render {
        /// Agreement file (TOML).
        file: PathBuf,
        /// Language.
        #[arg(long, value_enum, default_value = "nl")]
        lang: LangArg,
        /// Output format.
        #[arg(long, value_enum, default_value = "md")]
        format: FormatArg,
        /// Write to this file instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Print the JSON Schema of the agreement format.
    Schema,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum LangArg {
    Nl,
    En,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum FormatArg {
    Md,
    Html,
}

pub fn run(cmd: AgreementCommand) -> ExitCode {
    match cmd {
        AgreementCommand::Check { files, json } => check(&files, json),
        AgreementCommand::Render {
            file,
            lang,
            format,
            output,
        } => render(&file, lang, format, output.as_deref()),
        AgreementCommand::Schema => crate::print_json(&art28_core::agreement::json_schema()),
    }
}

/// Read a file, but never more than one byte past the limit, so a huge file is refused
/// without being loaded.
fn read_limited(path: &Path) -> std::io::Result<Vec<u8>> {
    let file = std::fs::File::open(path)?;
    if file.metadata()?.is_dir() {
        return Err(std::io::Error::other("is a directory"));
    }
    let mut bytes = Vec::new();
    file.take(MAX_BYTES as u64 + 1).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Read the named files plus, for any `based_on` not among them, the standard agreements in
/// the same directories. Returns the sources, how many were named, and read failures.
fn gather(files: &[PathBuf]) -> (Vec<Source>, usize, Vec<String>) {
    let mut sources = Vec::new();
    let mut failures = Vec::new();
    for path in files {
        match read_limited(path) {
            Ok(bytes) => sources.push(Source::new(path.display().to_string(), bytes)),
            Err(e) => failures.push(format!("{}: cannot read: {e}", path.display())),
        }
    }
    let named = sources.len();
    let have = |sources: &[Source], id: &str, version: u32| {
        sources
            .iter()
            .any(|s| header(&s.bytes).is_some_and(|h| h.id.as_str() == id && h.version == version))
    };
    let wanted: Vec<(PathBuf, art28_core::agreement::BaseRef)> = files
        .iter()
        .zip(sources.iter())
        .filter_map(|(p, s)| header(&s.bytes).and_then(|h| h.based_on).map(|b| (p.clone(), b)))
        .collect();
    for (path, base) in wanted {
        if have(&sources, base.id.as_str(), base.version) {
            continue;
        }
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let p = entry.path();
            if p.extension().is_some_and(|e| e == "toml")
                && let Ok(bytes) = read_limited(&p)
                && header(&bytes).is_some_and(|h| h.id == base.id && h.version == base.version)
            {
                sources.push(Source::new(p.display().to_string(), bytes));
                break;
            }
        }
    }
    (sources, named, failures)
}

fn check(files: &[PathBuf], json: bool) -> ExitCode {
    let (sources, named, failures) = gather(files);
    let results: Vec<Checked> = check_set(&sources).into_iter().take(named).collect();
    let invalid = results.iter().filter(|c| c.result.is_err()).count() + failures.len();
    if json {
        let items: Vec<serde_json::Value> = results
            .iter()
            .map(|c| match &c.result {
                Ok(a) => {
                    serde_json::json!({"file": c.name, "valid": true, "id": a.id, "version": a.version, "kind": a.kind})
                }
                Err(ds) => {
                    serde_json::json!({"file": c.name, "valid": false, "problems": ds.iter().map(|d| serde_json::json!({
                    "path": d.path, "line": d.line, "column": d.column, "code": d.code, "message": d.message
                })).collect::<Vec<_>>()})
                }
            })
            .chain(failures.iter().map(|f| serde_json::json!({"valid": false, "error": f})))
            .collect();
        println!("{}", serde_json::Value::Array(items));
    } else {
        for c in &results {
            match &c.result {
                Ok(a) => println!("ok    {} ({} version {}, {:?})", c.name, a.id, a.version, a.kind),
                Err(ds) => {
                    println!(
                        "FAIL  {} ({} problem{})",
                        c.name,
                        ds.len(),
                        if ds.len() == 1 { "" } else { "s" }
                    );
                    for d in ds {
                        println!("  {d}");
                    }
                }
            }
        }
        for f in &failures {
            println!("FAIL  {f}");
        }
        println!(
            "{} file(s): {} valid, {invalid} invalid",
            results.len() + failures.len(),
            results.len() + failures.len() - invalid
        );
    }
    if invalid == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn render(file: &Path, lang: LangArg, format: FormatArg, output: Option<&Path>) -> ExitCode {
    let (sources, named, failures) = gather(std::slice::from_ref(&file.to_path_buf()));
    if let Some(f) = failures.first() {
        eprintln!("error: {f}");
        return ExitCode::from(2);
    }
    let Some(checked) = check_set(&sources).into_iter().take(named).next() else {
        return ExitCode::from(2);
    };
    let agreement = match checked.result {
        Ok(a) => a,
        Err(ds) => {
            eprintln!("error: {} is not a valid agreement:", checked.name);
            for d in ds {
                eprintln!("  {d}");
            }
            return ExitCode::from(1);
        }
    };
    let lang = match lang {
        LangArg::Nl => Lang::Nl,
        LangArg::En => Lang::En,
    };
    let format = match format {
        FormatArg::Md => DocFormat::Markdown,
        FormatArg::Html => DocFormat::Html,
    };
    let text = match art28_render::render_agreement(&agreement, lang, format) {
        Ok(t) => t,
        Err(e) => {
            crate::report(&e);
            return ExitCode::FAILURE;
        }
    };
    match output {
        None => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Some(path) => match std::fs::write(path, text) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: cannot write {}: {e}", path.display());
                ExitCode::from(2)
            }
        },
    }
}

//! The server reaches the store only where it is assembled: every other module goes through
//! the service's doors. A handler that took a shortcut to the store would skip the judgement
//! and the access entry; this test finds it by reading the sources.

/// Modules allowed to name the store: the data directory opens it, `lib.rs` assembles the
/// doors over it in `bind`.
const ASSEMBLY: &[&str] = &["datadir.rs", "lib.rs"];

/// Every `.rs` file under `src/`, sub-modules (the portal's) included, with its path from `src/`.
fn sources() -> Vec<(String, std::path::PathBuf)> {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Vec::new();
    let mut dirs = vec![src.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().and_then(|e| e.to_str()) == Some("rs") {
                let name = path.strip_prefix(&src).unwrap_or(&path).display().to_string();
                out.push((name, path));
            }
        }
    }
    assert!(out.len() > 5, "the sources were not found at {}", src.display());
    out
}

#[test]
fn only_the_assembly_names_the_store() {
    let mut offenders = Vec::new();
    for (name, path) in sources() {
        let text = std::fs::read_to_string(&path).expect("read");
        let uses = text
            .lines()
            .enumerate()
            .filter(|(_, l)| l.contains("art28_store") && !l.trim_start().starts_with("//"))
            .map(|(i, l)| format!("{name}:{}: {}", i + 1, l.trim()))
            .collect::<Vec<_>>();
        if !ASSEMBLY.contains(&name.as_str()) {
            offenders.extend(uses);
        }
    }
    assert!(
        offenders.is_empty(),
        "these modules reach the store directly instead of through a door:\n{}",
        offenders.join("\n")
    );
}

/// Handlers read the URL and the body only through `art28_server::extract`, whose rejections
/// are the API's JSON errors; axum's own `Path`, `Query` and `Json` extractors answer plain text
/// (`?limit=-1` once did). `Json` stays allowed as a response (`Json<…>` in a return type).
#[test]
fn handlers_take_only_the_api_extractors() {
    let mut offenders = Vec::new();
    for (name, path) in sources() {
        if name == "extract.rs" {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("read");
        for (i, line) in text.lines().enumerate() {
            let l = line.trim();
            if l.starts_with("//") {
                continue;
            }
            // `axum::extract::Path`, or `Path`/`Query` in a `use axum::extract::{…}` list.
            let axum_extractor = l.contains("axum::extract::Path") || l.contains("axum::extract::Query") || {
                l.starts_with("use axum::extract::")
                    && l.trim_start_matches("use axum::extract::")
                        .split(|c: char| !c.is_alphanumeric() && c != '_')
                        .any(|item| item == "Path" || item == "Query")
            };
            // `Json(x): Json<T>` as a parameter is axum's body extractor.
            let json_param = l.contains("Json(") && l.contains("): Json<") && !l.contains("ApiJson");
            if axum_extractor || json_param {
                offenders.push(format!("{name}:{}: {l}", i + 1));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "these lines use axum's extractors instead of art28_server::extract:\n{}",
        offenders.join("\n")
    );
}

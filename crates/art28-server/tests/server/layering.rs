//! The server reaches the store only where it is assembled: every other module goes through
//! the service's doors. A handler that took a shortcut to the store would skip the judgement
//! and the access entry; this test finds it by reading the sources.

/// Modules allowed to name the store: the data directory opens it, `lib.rs` assembles the
/// doors over it in `bind`.
const ASSEMBLY: &[&str] = &["datadir.rs", "lib.rs"];

#[test]
fn only_the_assembly_names_the_store() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut offenders = Vec::new();
    let mut read = 0;
    for entry in std::fs::read_dir(&src).expect("src") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        if path.extension().and_then(|e| e.to_str()) != Some("rs") {
            continue;
        }
        read += 1;
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
    assert!(read > 5, "the sources were not found at {}", src.display());
    assert!(
        offenders.is_empty(),
        "these modules reach the store directly instead of through a door:\n{}",
        offenders.join("\n")
    );
}

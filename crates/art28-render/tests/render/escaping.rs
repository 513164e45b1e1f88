//! Text from an agreement is shown as text: it cannot break a table, add a heading or put
//! HTML into the page.

use super::*;
use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};

const HOSTILE: &str = "<script>alert(1)</script> | # * _x_ [a](javascript:b) `c`";

/// An agreement whose customer, contacts, sub-processors and annex carry hostile text.
fn hostile() -> ProcessorAgreement {
    let mut a = example("bakkerij-de-vries.toml");
    let customer = a.customer.as_mut().unwrap();
    customer.name = HOSTILE.to_string();
    customer.address = format!("# Heading\n| a | b |\n- item\n{HOSTILE}");
    customer.contacts[0].name = HOSTILE.to_string();
    customer.contacts[0].phone = Some("| 1 |".to_string());
    a.subprocessors.list[0].name = HOSTILE.to_string();
    a.subprocessors.list[0].region = Some("1. first\n2. second".to_string());
    a.annexes[0].title.nl = HOSTILE.to_string();
    a.annexes[0].title.en = HOSTILE.to_string();
    a.annexes[0].text.en = format!("<div onclick=\"x()\">\n\n{HOSTILE}\n\n</div>");
    a.annexes[0].text.nl = a.annexes[0].text.en.clone();
    a.service.description.nl = format!("```\n{HOSTILE}\n```");
    a.service.description.en = a.service.description.nl.clone();
    a
}

/// The rows of every table in a Markdown document, each row as its cells' plain text.
fn tables(md: &str) -> Vec<Vec<Vec<String>>> {
    let mut tables = Vec::new();
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut cells: Vec<String> = Vec::new();
    let mut cell: Option<String> = None;
    for event in Parser::new_ext(md, Options::ENABLE_TABLES) {
        match event {
            Event::Start(Tag::TableCell) => cell = Some(String::new()),
            Event::End(TagEnd::TableCell) => cells.extend(cell.take()),
            Event::End(TagEnd::TableHead | TagEnd::TableRow) => rows.push(std::mem::take(&mut cells)),
            Event::End(TagEnd::Table) => tables.push(std::mem::take(&mut rows)),
            Event::Text(t) | Event::Code(t) => {
                if let Some(c) = cell.as_mut() {
                    c.push_str(&t);
                }
            }
            _ => {}
        }
    }
    tables
}

/// The headings of a Markdown document as (level, plain text).
fn headings(md: &str) -> Vec<(HeadingLevel, String)> {
    let mut out = Vec::new();
    let mut current: Option<(HeadingLevel, String)> = None;
    for event in Parser::new_ext(md, Options::ENABLE_TABLES) {
        match event {
            Event::Start(Tag::Heading { level, .. }) => current = Some((level, String::new())),
            Event::End(TagEnd::Heading(_)) => out.extend(current.take()),
            Event::Text(t) | Event::Code(t) => {
                if let Some((_, h)) = current.as_mut() {
                    h.push_str(&t);
                }
            }
            _ => {}
        }
    }
    out
}

#[test]
fn hostile_text_does_not_break_markdown_tables() {
    let a = hostile();
    for lang in LANGS {
        let md = markdown(&a, lang);
        let tables = tables(&md);
        assert_eq!(tables.len(), 2, "contacts and sub-processors ({lang})");
        for table in &tables {
            let width = table[0].len();
            for row in table {
                assert_eq!(row.len(), width, "{lang}: row {row:?} in\n{md}");
            }
        }
        // A telephone number brings its column with it.
        assert!(md.contains(lang.pick("| Telefoon |", "| Telephone |")), "{md}");
        let contacts = &tables[0];
        assert!(
            contacts
                .iter()
                .any(|row| row[0] == HOSTILE && row[1] == HOSTILE && row[3] == "| 1 |"),
            "{contacts:?}"
        );
        let subprocessors = &tables[1];
        assert_eq!(subprocessors[1][0], HOSTILE);
        assert_eq!(subprocessors[1][3], "1. first 2. second");
    }
}

#[test]
fn hostile_text_adds_no_headings_lists_or_code() {
    let a = hostile();
    let clean = example("bakkerij-de-vries.toml");
    for lang in LANGS {
        let md = markdown(&a, lang);
        let found = headings(&md);
        let expected = headings(&markdown(&clean, lang));
        assert_eq!(found.len(), expected.len(), "{lang}: {found:?}");
        for (level, text) in &found {
            // Only the annex heading may carry agreement text, and it stays one level-4 heading.
            if text.contains("alert") {
                assert_eq!(*level, HeadingLevel::H4, "{text}");
                assert!(text.ends_with(HOSTILE), "{text}");
            }
        }
        let code_blocks = Parser::new_ext(&md, Options::ENABLE_TABLES)
            .filter(|e| matches!(e, Event::Start(Tag::CodeBlock(_)) | Event::Code(_)))
            .count();
        assert_eq!(code_blocks, 0, "{lang}");
        let markup = |md: &str| {
            Parser::new_ext(md, Options::ENABLE_TABLES)
                .filter(|e| {
                    matches!(
                        e,
                        Event::Start(Tag::Link { .. } | Tag::Emphasis | Tag::Strong | Tag::Item)
                            | Event::Html(_)
                            | Event::InlineHtml(_)
                    )
                })
                .count()
        };
        // The template's own emphasis and list items are there; the data adds none.
        assert_eq!(
            markup(&md),
            markup(&markdown(&clean, lang)),
            "{lang}: links, emphasis, items or raw HTML from data"
        );
        // The address's fake heading, table and list stay on the customer's line.
        assert!(md.contains("\\# Heading \\| a \\| b \\| - item"), "{md}");
    }
}

#[test]
fn hostile_text_is_shown_not_run_in_html() {
    let a = hostile();
    for lang in LANGS {
        let page = html(&a, lang);
        assert!(!page.contains("<script"), "{lang}: {page}");
        assert!(!page.contains("<div onclick"), "{lang}");
        assert!(!page.contains("<a "), "{lang}");
        assert!(!page.contains("<code>"), "{lang}");
        assert!(
            page.contains("&lt;script&gt;alert(1)&lt;/script&gt; | # * _x_ [a](javascript:b) `c`"),
            "{lang}: {page}"
        );
        // The annex heading carries the hostile title as text.
        assert!(
            page.contains(&format!("<h4>{} A1: &lt;script&gt;", lang.pick("Bijlage", "Annex"))),
            "{page}"
        );
    }
}

#[test]
fn a_hostile_title_is_escaped_in_the_head() {
    let mut a = example("saas-standard.toml");
    a.title.nl = "</title><script>alert(1)</script>".to_string();
    let page = html(&a, Lang::Nl);
    // minijinja's HTML escaping also escapes `/`.
    assert!(
        page.contains("<title>&lt;&#x2f;title&gt;&lt;script&gt;alert(1)&lt;&#x2f;script&gt;</title>"),
        "{page}"
    );
    assert!(!page.contains("<script"));
    let md = markdown(&a, Lang::Nl);
    assert!(
        md.starts_with("# \\</title\\>\\<script\\>alert(1)\\</script\\>\n"),
        "{md}"
    );
}

//! The two output forms, the public helpers and the errors.

use super::*;
use art28_core::ErrorCode;

#[test]
fn html_is_a_complete_document_in_the_right_language() {
    for (name, a) in examples() {
        for lang in LANGS {
            let page = html(&a, lang);
            assert!(page.starts_with("<!doctype html>\n"), "{name}");
            assert!(
                page.contains(&format!("<html lang=\"{}\">", lang.tag())),
                "{name} {lang}"
            );
            assert!(page.contains("<meta charset=\"utf-8\">"));
            assert!(
                page.contains(&format!("<title>{}</title>", a.title.get(lang))),
                "{name} {lang}"
            );
            assert!(page.contains("<style>") && page.contains("@media print"));
            assert!(
                page.contains("<table>") && page.contains("<th>"),
                "{name}: tables rendered"
            );
            assert!(page.contains("<h2>"), "{name}");
            assert!(page.trim_end().ends_with("</html>"));
            assert!(!page.contains("<script"));
            assert!(!page.contains("\\|"), "{name}: Markdown escapes leaked into HTML");
        }
    }
}

#[test]
fn html_and_markdown_say_the_same() {
    let a = example("belgisch-addendum.toml");
    let page = html(&a, Lang::Nl);
    assert!(page.contains("<h3>Protocol bij datalekken</h3>"), "{page}");
    assert!(page.contains("binnen 48 uur na de ontdekking"));
    assert!(page.contains("<td>Sahyadri Support Services Pvt. Ltd.</td>"));
    let page = html(&a, Lang::En);
    assert!(page.contains("<h3>Breach protocol</h3>"));
    assert!(page.contains("<strong>Notice.</strong>"));
}

#[test]
fn doc_format_parses_and_describes_itself() {
    assert_eq!("md".parse::<DocFormat>(), Ok(DocFormat::Markdown));
    assert_eq!("Markdown".parse::<DocFormat>(), Ok(DocFormat::Markdown));
    assert_eq!("html".parse::<DocFormat>(), Ok(DocFormat::Html));
    assert!("pdf".parse::<DocFormat>().is_err());
    assert_eq!(DocFormat::Html.media_type(), "text/html; charset=utf-8");
    assert_eq!(DocFormat::Markdown.extension(), "md");
    assert_eq!(DocFormat::Html.to_string(), "html");
}

#[test]
fn an_unknown_vocabulary_id_is_an_error_not_a_guess() {
    let mut a = example("saas-standard.toml");
    a.processing.data_subjects.push("martians".to_string());
    let err = render_agreement(&a, Lang::En, DocFormat::Markdown).unwrap_err();
    assert_eq!(err.code, ErrorCode::Internal);
    assert!(err.message.contains("martians"), "{}", err.message);
}

#[test]
fn templates_hold_no_numbers_but_article_references() {
    for (name, template) in [
        ("agreement.nl.md", include_str!("../../templates/agreement.nl.md")),
        ("agreement.en.md", include_str!("../../templates/agreement.en.md")),
    ] {
        for (i, _) in template.match_indices(|c: char| c.is_ascii_digit()) {
            let before = &template[..i];
            let previous_is_digit = before.chars().next_back().is_some_and(|c| c.is_ascii_digit());
            assert!(
                previous_is_digit || before.ends_with("artikel ") || before.ends_with("Article "),
                "{name}: a number that is not an article reference near `{}`",
                template
                    .get(i.saturating_sub(30)..(i + 5).min(template.len()))
                    .unwrap_or(&template[i..])
            );
        }
    }
}

//! From the Markdown document to a complete, self-contained HTML page.
//!
//! The Markdown is already escaped (see [`crate::markdown`]), but the HTML path does not rely
//! on that alone: raw HTML is turned into text and links and images are dropped, so even a
//! string that slipped past the escaping shows as characters and never runs or loads
//! anything. An agreement document has no reason to link anywhere.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

/// The HTML body for a Markdown document.
pub(crate) fn body(markdown: &str) -> String {
    let events = Parser::new_ext(markdown, Options::ENABLE_TABLES).filter_map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Some(Event::Text(raw)),
        // An HTML block becomes an ordinary paragraph holding its text.
        Event::Start(Tag::HtmlBlock) => Some(Event::Start(Tag::Paragraph)),
        Event::End(TagEnd::HtmlBlock) => Some(Event::End(TagEnd::Paragraph)),
        // The text of a link or the alt text of an image stays; the target goes.
        Event::Start(Tag::Link { .. } | Tag::Image { .. }) | Event::End(TagEnd::Link | TagEnd::Image) => None,
        other => Some(other),
    });
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events);
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_html_is_shown_as_text() {
        let html = body("<script>alert(1)</script>\n\nHello <b onclick=\"x()\">there</b>\n");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<b "), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{html}");
        assert!(html.contains("&lt;b onclick=\"x()\"&gt;there&lt;/b&gt;"), "{html}");
    }

    #[test]
    fn links_and_images_are_dropped() {
        let html =
            body("[click](javascript:alert(1)) ![logo](https://example.invalid/x.png) <https://example.invalid>\n");
        assert!(!html.contains("<a"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(html.contains("click"), "{html}");
    }

    #[test]
    fn tables_are_rendered() {
        let html = body("| a | b |\n|---|---|\n| 1 | 2 \\| 3 |\n");
        assert!(html.contains("<table>"), "{html}");
        assert!(html.contains("<td>2 | 3</td>"), "{html}");
    }
}

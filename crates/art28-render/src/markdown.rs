//! Escaping agreement text for Markdown.
//!
//! Names, addresses and clauses come from agreement files, and a customer name is not to
//! be trusted to be only a name: `Foo | Bar` would split a table cell, `# Foo` would become a
//! heading, `<script>` raw HTML. Every string from the agreement passes through here before
//! it reaches a template, so the Markdown document shows exactly the characters the file holds
//! and nothing in them is read as markup.

/// Characters that have a meaning somewhere in a line of CommonMark or a GFM table. Each gets
/// a backslash; CommonMark defines a backslash before any ASCII punctuation as the literal.
/// `.`, `(`, `)` and `-` are left alone except at the start (see [`inline`]) to keep names
/// such as `B.V.` readable in the Markdown source.
const SPECIAL: &[char] = &['\\', '`', '*', '_', '[', ']', '<', '>', '#', '|', '&', '~'];

/// One line of text, safe anywhere in a line of Markdown, including a table cell and a
/// heading. Runs of white space, line breaks included, become one space; control characters
/// are dropped.
pub(crate) fn inline(s: &str) -> String {
    let words: Vec<&str> = s.split_whitespace().collect();
    let text: String = words.join(" ").chars().filter(|c| !c.is_control()).collect();
    let mut out = String::with_capacity(text.len() + 8);
    // A line that starts with `-`, `+` or `=` can become a list item or a heading underline.
    if text.starts_with(['-', '+', '=']) {
        out.push('\\');
    }
    // A line that starts with digits and `.` or `)` becomes an ordered list item.
    let digits = text.chars().take_while(char::is_ascii_digit).count();
    for (i, c) in text.chars().enumerate() {
        if SPECIAL.contains(&c) || (i == digits && digits > 0 && matches!(c, '.' | ')')) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A text of one or more paragraphs (separated by blank lines), each escaped as a line.
pub(crate) fn paragraphs(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in s.lines() {
        if line.trim().is_empty() {
            if !current.trim().is_empty() {
                out.push(inline(&current));
            }
            current.clear();
        } else {
            current.push(' ');
            current.push_str(line);
        }
    }
    if !current.trim().is_empty() {
        out.push(inline(&current));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_becomes_literal() {
        assert_eq!(inline("a | b"), "a \\| b");
        assert_eq!(inline("# Kop"), "\\# Kop");
        assert_eq!(inline("<script>"), "\\<script\\>");
        assert_eq!(inline("- item"), "\\- item");
        assert_eq!(inline("12. item"), "12\\. item");
        assert_eq!(inline("B.V. 12.5"), "B.V. 12.5");
        assert_eq!(inline("[x](javascript:y)"), "\\[x\\](javascript:y)");
        assert_eq!(inline("&amp;"), "\\&amp;");
    }

    #[test]
    fn whitespace_is_one_line() {
        assert_eq!(inline("  a\n\n# b\t c\u{7} "), "a \\# b c");
        assert_eq!(paragraphs("one\ntwo\n\n\nthree\n"), vec!["one two", "three"]);
        assert!(paragraphs(" \n\n").is_empty());
    }
}

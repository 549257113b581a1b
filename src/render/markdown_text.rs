//! Markdown → plain text for the `text/plain` part, built from the Markdown events (not by
//! stripping the HTML), so it reads like a letter:
//!
//! ```text
//! Bouwen aan vertrouwen
//! ---------------------
//!
//! We maken de keuze om iemand te vertrouwen of te wantrouwen in
//! milliseconden. Lees meer (https://voorbeeld.nl/posts/meer).
//!
//! - een punt
//! - nog een punt
//!
//! > een citaat
//! ```
//!
//! Every link keeps its address, in parentheses after its text. Lines wrap at [`TEXT_WIDTH`]
//! and never inside a word, so addresses stay whole.

use pulldown_cmark::{Event, HeadingLevel, Tag, TagEnd};

use crate::content::markdown_options;

/// Wrap width of the text part: comfortable in every client and below RFC 5322's 78.
pub const TEXT_WIDTH: usize = 72;

/// Wrapping at spaces only: never inside a word, a hyphenated word or an address.
pub fn wrap_options<'a>(width: usize) -> textwrap::Options<'a> {
    textwrap::Options::new(width).break_words(false).word_splitter(textwrap::WordSplitter::NoHyphenation)
}

enum Context {
    Quote,
    List {
        next: Option<u64>,
    },
    /// A list item: its bullet until its first line is written, then its indent.
    Item {
        bullet: Option<String>,
        indent: usize,
    },
}

struct Writer<'a> {
    out: &'a mut String,
    inline: String,
    stack: Vec<Context>,
    links: Vec<(String, usize)>,
    /// True while inside a paragraph (loose list items have one; tight ones do not).
    in_paragraph: bool,
    in_code: bool,
}

/// Appends the plain text of `markdown` to `out`. `link` turns a destination as written into
/// the absolute URL.
pub fn push_text(out: &mut String, markdown: &str, link: &dyn Fn(&str) -> String) {
    let mut w = Writer {
        out,
        inline: String::new(),
        stack: Vec::new(),
        links: Vec::new(),
        in_paragraph: false,
        in_code: false,
    };
    let mut image: Option<(String, String)> = None;
    for event in pulldown_cmark::Parser::new_ext(markdown, markdown_options()) {
        if let Some((_, alt)) = image.as_mut() {
            match event {
                Event::Text(t) | Event::Code(t) => alt.push_str(&t),
                Event::End(TagEnd::Image) => {
                    let (url, alt) = image.take().unwrap_or_default();
                    w.inline.push_str(&format!("[Afbeelding: {}] ({url})", alt.trim()));
                }
                _ => {}
            }
            continue;
        }
        match event {
            Event::Start(Tag::Paragraph) => w.in_paragraph = true,
            Event::End(TagEnd::Paragraph) => {
                w.flush(true);
                w.in_paragraph = false;
            }
            Event::Start(Tag::Heading { .. }) => w.flush(true),
            Event::End(TagEnd::Heading(level)) => {
                let underline = match level {
                    HeadingLevel::H1 | HeadingLevel::H2 => Some('-'),
                    _ => None,
                };
                w.flush_heading(underline);
            }
            Event::Start(Tag::BlockQuote(_)) => {
                w.flush(true);
                w.stack.push(Context::Quote);
            }
            Event::Start(Tag::List(start)) => {
                w.flush(false);
                w.stack.push(Context::List { next: start });
            }
            Event::Start(Tag::Item) => {
                w.flush(false);
                let bullet = match w.stack.last_mut() {
                    Some(Context::List { next: Some(n) }) => {
                        *n += 1;
                        format!("{}. ", *n - 1)
                    }
                    _ => "- ".to_owned(),
                };
                let indent = bullet.chars().count();
                w.stack.push(Context::Item { bullet: Some(bullet), indent });
            }
            Event::End(TagEnd::Item) => {
                w.flush(false);
                w.stack.pop();
            }
            Event::End(TagEnd::BlockQuote(_) | TagEnd::List(_)) => {
                w.flush(false);
                w.stack.pop();
                w.blank_line();
            }
            Event::Start(Tag::CodeBlock(_)) => {
                w.flush(true);
                w.in_code = true;
            }
            Event::End(TagEnd::CodeBlock) => {
                w.in_code = false;
                w.blank_line();
            }
            Event::Start(Tag::Link { dest_url, .. }) => w.links.push((link(&dest_url), w.inline.len())),
            Event::End(TagEnd::Link) => {
                if let Some((url, start)) = w.links.pop() {
                    let text = w.inline[start..].trim();
                    let bare = url.strip_prefix("mailto:").unwrap_or(&url);
                    if text != url && text != bare {
                        w.inline.push_str(&format!(" ({url})"));
                    }
                }
            }
            Event::Start(Tag::Image { dest_url, .. }) => image = Some((link(&dest_url), String::new())),
            Event::Text(text) if w.in_code_block() => w.code(&text),
            Event::Text(text) | Event::Code(text) | Event::Html(text) | Event::InlineHtml(text) => {
                w.inline.push_str(&text)
            }
            Event::SoftBreak => w.inline.push(' '),
            Event::HardBreak => w.inline.push('\n'),
            Event::Rule => {
                w.flush(true);
                w.line("* * *");
            }
            _ => {}
        }
    }
    w.flush(false);
    while w.out.ends_with("\n\n") {
        w.out.pop();
    }
}

impl Writer<'_> {
    fn in_code_block(&self) -> bool {
        self.in_code
    }

    /// Code keeps its lines as written (no wrapping), indented by four spaces.
    fn code(&mut self, text: &str) {
        let (_, rest) = self.prefixes();
        for line in text.lines() {
            self.out.push_str(format!("{rest}    {line}").trim_end());
            self.out.push('\n');
        }
    }

    /// The prefixes of the first and the following lines of the next block.
    fn prefixes(&mut self) -> (String, String) {
        let (mut first, mut rest) = (String::new(), String::new());
        for ctx in &mut self.stack {
            match ctx {
                Context::Quote => {
                    first.push_str("> ");
                    rest.push_str("> ");
                }
                Context::List { .. } => {}
                Context::Item { bullet, indent } => {
                    match bullet.take() {
                        Some(b) => first.push_str(&b),
                        None => first.push_str(&" ".repeat(*indent)),
                    }
                    rest.push_str(&" ".repeat(*indent));
                }
            }
        }
        (first, rest)
    }

    fn blank_line(&mut self) {
        if !self.out.is_empty() && !self.out.ends_with("\n\n") {
            self.out.push('\n');
        }
    }

    fn line(&mut self, text: &str) {
        let (first, _) = self.prefixes();
        self.out.push_str(first.trim_end());
        if !text.is_empty() {
            if !first.is_empty() {
                self.out.truncate(self.out.trim_end().len());
                self.out.push(' ');
            }
            self.out.push_str(text);
        }
        self.out.push('\n');
        self.blank_line();
    }

    /// Writes the inline text gathered so far as one wrapped block. `blank_after` separates
    /// paragraphs; tight list items follow each other line by line.
    fn flush(&mut self, blank_after: bool) {
        let text = std::mem::take(&mut self.inline);
        let text = text.trim();
        if text.is_empty() {
            return;
        }
        let (first, rest) = self.prefixes();
        let mut first_prefix = first;
        for hard_line in text.split('\n') {
            let options = wrap_options(TEXT_WIDTH).initial_indent(&first_prefix).subsequent_indent(&rest);
            for line in textwrap::wrap(hard_line.trim(), &options) {
                self.out.push_str(line.trim_end());
                self.out.push('\n');
            }
            first_prefix = rest.clone();
        }
        if blank_after || self.in_paragraph {
            self.blank_line();
        }
    }

    fn flush_heading(&mut self, underline: Option<char>) {
        let text = std::mem::take(&mut self.inline);
        let text = text.trim();
        if text.is_empty() {
            return;
        }
        self.blank_line();
        self.out.push_str(text);
        self.out.push('\n');
        if let Some(ch) = underline {
            self.out.push_str(&ch.to_string().repeat(text.chars().count()));
            self.out.push('\n');
        }
        self.blank_line();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(md: &str) -> String {
        let mut out = String::new();
        push_text(&mut out, md, &|d| d.replace("/posts/", "https://x.nl/posts/"));
        out
    }

    #[test]
    fn headings_paragraphs_lists_quotes_and_code() {
        let md = "## Kop\n\nEen [link](/posts/a) en <https://x.nl/b>.\n\n- een\n- twee\n\n1. eerst\n2. dan\n\n> citaat\n\n    let x = 1;\n\n---\n\nEinde";
        assert_eq!(
            text(md),
            "Kop\n---\n\nEen link (https://x.nl/posts/a) en https://x.nl/b.\n\n- een\n- twee\n\n1. eerst\n2. dan\n\n> citaat\n\n    let x = 1;\n\n* * *\n\nEinde\n"
        );
    }

    #[test]
    fn wraps_at_the_text_width_without_breaking_addresses() {
        let long_url = format!("https://x.nl/{}", "a".repeat(90));
        let md = format!("{} [hier]({long_url}) {}", "woord ".repeat(20), "woord ".repeat(20));
        let out = text(&md);
        for line in out.lines() {
            assert!(line.chars().count() <= TEXT_WIDTH || line.contains(&long_url), "{line:?}");
        }
        assert!(out.contains(&long_url));
    }

    #[test]
    fn never_breaks_at_hyphens() {
        let url = "https://x.nl/confirm/AQAAAAEAAAAAawlU5h8-AT9z80r0nTEy6nN2CKgOkpfXhMRjgEGt9p2CgnYy";
        let out = text(&format!("{} e-mailadres <{url}>", "woord ".repeat(10)));
        assert!(out.contains("e-mailadres"), "{out}");
        assert!(out.contains(url), "{out}");
    }

    #[test]
    fn list_items_wrap_with_a_hanging_indent() {
        let out = text(&format!("- {}", "woord ".repeat(30)));
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines[0].starts_with("- woord"));
        assert!(lines[1].starts_with("  woord"), "{out}");
    }

    #[test]
    fn images_keep_alt_text_and_address() {
        assert_eq!(text("![Een boom](https://x.nl/a.png)"), "[Afbeelding: Een boom] (https://x.nl/a.png)\n");
    }
}

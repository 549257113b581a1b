//! Markdown → HTML straight from the pulldown-cmark events, with each element's inline style
//! written as it is emitted.
//!
//! Emails need inline styles (Gmail and Outlook drop most `<style>` rules). Running a CSS
//! inliner over every finished email would re-parse the whole document per post; instead the
//! fixed template is inlined once (see [`super::email`]) and the Markdown's own elements get
//! their styles here, from [`ElementStyles`]. Web pages use the same renderer with
//! [`ElementStyles::NONE`] and a stylesheet.

use pulldown_cmark::{Event, HeadingLevel, Tag, TagEnd};
use pulldown_cmark_escape::{escape_href, escape_html, escape_html_body_text};

use crate::content::markdown_options;

/// The `style` attribute of each element the Markdown can produce. Empty means no attribute.
#[derive(Debug, Clone, Copy)]
pub struct ElementStyles {
    pub p: &'static str,
    pub h2: &'static str,
    pub h3: &'static str,
    pub h4: &'static str,
    pub a: &'static str,
    pub ul: &'static str,
    pub ol: &'static str,
    pub li: &'static str,
    pub blockquote: &'static str,
    pub code: &'static str,
    pub pre: &'static str,
    pub hr: &'static str,
    pub img: &'static str,
    /// Small print a letter adds itself (not from Markdown), such as the address under a button.
    pub small: &'static str,
    /// `width` attribute for images (Outlook ignores CSS widths); empty for none.
    pub img_width: &'static str,
}

macro_rules! body_font {
    () => {
        "font-family:Georgia,'Times New Roman',serif;color:#2b2b2b;"
    };
}
macro_rules! heading_font {
    () => {
        "font-family:Helvetica,Arial,sans-serif;color:#1f2a37;font-weight:bold;line-height:1.3;"
    };
}

impl ElementStyles {
    /// Styles for the email body, matching the template's 600 px card with 32 px padding.
    pub const EMAIL: ElementStyles = ElementStyles {
        p: concat!(body_font!(), "margin:0 0 18px;font-size:18px;line-height:1.6;"),
        h2: concat!(heading_font!(), "margin:32px 0 12px;font-size:24px;"),
        h3: concat!(heading_font!(), "margin:28px 0 10px;font-size:20px;"),
        h4: concat!(heading_font!(), "margin:24px 0 8px;font-size:18px;"),
        a: "color:#0b6e69;text-decoration:underline;",
        ul: "margin:0 0 18px;padding:0 0 0 24px;",
        ol: "margin:0 0 18px;padding:0 0 0 24px;",
        li: concat!(body_font!(), "margin:0 0 8px;font-size:18px;line-height:1.6;"),
        blockquote: "margin:0 0 18px;padding:4px 0 4px 20px;border-left:4px solid #0b6e69;font-style:italic;",
        code: "font-family:Menlo,Consolas,monospace;font-size:15px;background-color:#f1efe9;padding:1px 4px;",
        pre: "margin:0 0 18px;padding:12px;background-color:#f1efe9;font-family:Menlo,Consolas,monospace;font-size:14px;line-height:1.5;white-space:pre-wrap;",
        hr: "border:0;border-top:1px solid #e2ded6;margin:32px 0;",
        img: "display:block;width:100%;max-width:536px;height:auto;border:0;margin:0 0 18px;",
        img_width: "536",
        small: "font-family:Helvetica,Arial,sans-serif;color:#5e5e5e;margin:0 0 18px;font-size:14px;line-height:1.5;",
    };

    /// No inline styles: the web pages style elements with a stylesheet.
    pub const NONE: ElementStyles = ElementStyles {
        p: "",
        h2: "",
        h3: "",
        h4: "",
        a: "",
        ul: "",
        ol: "",
        li: "",
        blockquote: "",
        code: "",
        pre: "",
        hr: "",
        img: "",
        img_width: "",
        small: "",
    };
}

/// Appends the HTML of `markdown` to `out`. `link` turns a destination as written into the
/// absolute URL to use (links to other posts become `https://…/posts/slug`).
pub fn push_html(out: &mut String, markdown: &str, styles: &ElementStyles, link: &dyn Fn(&str) -> String) {
    push_html_with_pictures(out, markdown, styles, link, &|_, _| None);
}

/// [`push_html`] where `picture(destination, alt)` may give the whole HTML of an image (the
/// web's `<picture>` of a processed image); `None` writes the usual `<img>`.
pub fn push_html_with_pictures(
    out: &mut String,
    markdown: &str,
    styles: &ElementStyles,
    link: &dyn Fn(&str) -> String,
    picture: &dyn Fn(&str, &str) -> Option<String>,
) {
    // Alt text of an image in progress: images hold inline events that must not be emitted.
    let mut image_alt: Option<String> = None;
    // Where the image in progress points, as written (for `picture`), and where the `<img>`
    // of it starts in `out` (replaced when `picture` gives its own HTML).
    let mut image_start: Option<(String, usize)> = None;
    for event in pulldown_cmark::Parser::new_ext(markdown, markdown_options()) {
        if let Some(alt) = image_alt.as_mut() {
            match event {
                Event::Text(t) | Event::Code(t) => alt.push_str(&t),
                Event::End(TagEnd::Image) => {
                    let alt = image_alt.take().unwrap_or_default();
                    if let Some((dest, start)) = image_start.take()
                        && let Some(html) = picture(&dest, &alt)
                    {
                        out.truncate(start);
                        out.push_str(&html);
                        continue;
                    }
                    out.push_str("\" alt=\"");
                    let _ = escape_html(&mut *out, &alt);
                    out.push('"');
                    attr(out, "width", styles.img_width);
                    attr(out, "style", styles.img);
                    out.push('>');
                }
                _ => {}
            }
            continue;
        }
        match event {
            Event::Start(tag) => match tag {
                Tag::Paragraph => open(out, "p", styles.p),
                Tag::Heading { level, .. } => match level {
                    HeadingLevel::H1 | HeadingLevel::H2 => open(out, "h2", styles.h2),
                    HeadingLevel::H3 => open(out, "h3", styles.h3),
                    _ => open(out, "h4", styles.h4),
                },
                Tag::BlockQuote(_) => open(out, "blockquote", styles.blockquote),
                Tag::CodeBlock(_) => {
                    open(out, "pre", styles.pre);
                    out.push_str("<code>");
                }
                Tag::List(None) => open(out, "ul", styles.ul),
                Tag::List(Some(start)) => {
                    out.push_str("<ol");
                    if start != 1 {
                        attr(out, "start", &start.to_string());
                    }
                    attr(out, "style", styles.ol);
                    out.push('>');
                }
                Tag::Item => open(out, "li", styles.li),
                Tag::Emphasis => out.push_str("<em>"),
                Tag::Strong => out.push_str("<strong>"),
                Tag::Strikethrough => out.push_str("<del>"),
                Tag::Link { dest_url, title, .. } => {
                    out.push_str("<a href=\"");
                    let _ = escape_href(&mut *out, &link(&dest_url));
                    out.push('"');
                    if !title.is_empty() {
                        out.push_str(" title=\"");
                        let _ = escape_html(&mut *out, &title);
                        out.push('"');
                    }
                    attr(out, "style", styles.a);
                    out.push('>');
                }
                Tag::Image { dest_url, .. } => {
                    image_start = Some((dest_url.to_string(), out.len()));
                    out.push_str("<img src=\"");
                    let _ = escape_href(&mut *out, &link(&dest_url));
                    image_alt = Some(String::new());
                }
                // Not enabled in `markdown_options`; nothing to emit.
                _ => {}
            },
            Event::End(tag) => out.push_str(match tag {
                TagEnd::Paragraph => "</p>\n",
                TagEnd::Heading(HeadingLevel::H1 | HeadingLevel::H2) => "</h2>\n",
                TagEnd::Heading(HeadingLevel::H3) => "</h3>\n",
                TagEnd::Heading(_) => "</h4>\n",
                TagEnd::BlockQuote(_) => "</blockquote>\n",
                TagEnd::CodeBlock => "</code></pre>\n",
                TagEnd::List(false) => "</ul>\n",
                TagEnd::List(true) => "</ol>\n",
                TagEnd::Item => "</li>\n",
                TagEnd::Emphasis => "</em>",
                TagEnd::Strong => "</strong>",
                TagEnd::Strikethrough => "</del>",
                TagEnd::Link => "</a>",
                _ => "",
            }),
            Event::Text(text) => {
                let _ = escape_html_body_text(&mut *out, &text);
            }
            Event::Code(code) => {
                open(out, "code", styles.code);
                let _ = escape_html_body_text(&mut *out, &code);
                out.push_str("</code>");
            }
            // Validation rejects raw HTML; should any reach here, it is shown, never executed.
            Event::Html(html) | Event::InlineHtml(html) => {
                let _ = escape_html_body_text(&mut *out, &html);
            }
            Event::SoftBreak => out.push('\n'),
            Event::HardBreak => out.push_str("<br>\n"),
            Event::Rule => {
                open(out, "hr", styles.hr);
                out.push('\n');
            }
            _ => {}
        }
    }
}

fn open(out: &mut String, tag: &str, style: &str) {
    out.push('<');
    out.push_str(tag);
    attr(out, "style", style);
    out.push('>');
}

fn attr(out: &mut String, name: &str, value: &str) {
    if !value.is_empty() {
        out.push(' ');
        out.push_str(name);
        out.push_str("=\"");
        let _ = escape_html(&mut *out, value);
        out.push('"');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn html(md: &str, styles: &ElementStyles) -> String {
        let mut out = String::new();
        push_html(&mut out, md, styles, &|d| d.replace("/posts/", "https://x.nl/posts/"));
        out
    }

    #[test]
    fn emits_styled_elements() {
        let out = html("## Kop\n\nTekst met [link](/posts/a) en `code`.\n", &ElementStyles::EMAIL);
        assert!(out.starts_with("<h2 style=\"font-family:Helvetica"), "{out}");
        assert!(out.contains("<a href=\"https://x.nl/posts/a\" style=\"color:#0b6e69;"), "{out}");
        assert!(out.contains("<code style="), "{out}");
    }

    #[test]
    fn unstyled_output_has_no_style_attributes() {
        let out = html("## Kop\n\n- een\n- twee\n\n> citaat\n", &ElementStyles::NONE);
        assert_eq!(
            out,
            "<h2>Kop</h2>\n<ul><li>een</li>\n<li>twee</li>\n</ul>\n<blockquote><p>citaat</p>\n</blockquote>\n"
        );
    }

    #[test]
    fn images_carry_their_alt_text_and_escape_it() {
        let out = html("![Een \"boom\" *groot*](https://x.nl/a.png)", &ElementStyles::EMAIL);
        assert!(
            out.contains("<img src=\"https://x.nl/a.png\" alt=\"Een &quot;boom&quot; groot\" width=\"536\""),
            "{out}"
        );
    }

    #[test]
    fn text_and_raw_html_are_escaped() {
        let out = html("a < b & <script>x</script>", &ElementStyles::NONE);
        assert!(!out.contains("<script"), "{out}");
        assert!(out.contains("a &lt; b &amp;"), "{out}");
    }
}

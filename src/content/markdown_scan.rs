//! One pass over a post's Markdown that finds what an email cannot carry: raw HTML, a second
//! `#` title, images without alt text, and links that are neither absolute https/mailto nor
//! a link to another post.

use std::path::Path;

use pulldown_cmark::{Event, HeadingLevel, Tag, TagEnd};

use super::problem::LineIndex;

/// The Markdown dialect of posts: CommonMark plus ~~strikethrough~~. Shared by validation and
/// rendering, so both see exactly the same document.
pub fn markdown_options() -> pulldown_cmark::Options {
    pulldown_cmark::Options::ENABLE_STRIKETHROUGH
}

/// A link destination as written, with its line.
#[derive(Debug, Clone)]
pub(crate) struct WrittenLink {
    pub dest: String,
    pub line: usize,
}

/// What the scan found: problems that need no other post to decide, and links to check
/// against the whole catalogue.
#[derive(Debug, Default)]
pub(crate) struct Scan {
    pub problems: Vec<(usize, String)>,
    pub links: Vec<WrittenLink>,
    /// Images, to check against the content folder (files) or as addresses.
    pub images: Vec<WrittenLink>,
    pub words: usize,
}

const RAW_HTML: &str = "raw HTML is not allowed in a post (mail clients strip or block it); write it in Markdown";

pub(crate) fn scan(body: &str, body_first_line: usize) -> Scan {
    let lines = LineIndex::new(body);
    let line_of = |offset: usize| lines.line(offset) + body_first_line - 1;
    let mut out = Scan::default();
    let mut image: Option<(usize, String, String)> = None;
    let mut has_content = false;
    for (event, range) in pulldown_cmark::Parser::new_ext(body, markdown_options()).into_offset_iter() {
        let line = line_of(range.start);
        match event {
            Event::Start(Tag::Heading { level: HeadingLevel::H1, .. }) => out.problems.push((
                line,
                "a `#` heading repeats the title; the title comes from the front matter, so start sections with `##`"
                    .into(),
            )),
            Event::Start(Tag::Link { dest_url, .. }) => {
                out.links.push(WrittenLink { dest: dest_url.to_string(), line })
            }
            Event::Start(Tag::Image { dest_url, .. }) => {
                image = Some((line, dest_url.to_string(), String::new()));
            }
            Event::End(TagEnd::Image) => {
                if let Some((line, dest, alt)) = image.take() {
                    if alt.trim().is_empty() {
                        out.problems.push((line, format!("the image `{dest}` has no alt text; describe it between the brackets: `![what the image shows]({dest})`")));
                    }
                    out.images.push(WrittenLink { dest, line });
                }
            }
            Event::Html(_) | Event::InlineHtml(_) => {
                let problem = (line, RAW_HTML.to_owned());
                // `<b>x</b>` is two events on one line: say it once.
                if out.problems.last() != Some(&problem) {
                    out.problems.push(problem);
                }
            }
            Event::Text(text) | Event::Code(text) => {
                has_content |= !text.trim().is_empty();
                out.words += text.split_whitespace().count();
                if let Some((_, _, alt)) = image.as_mut() {
                    alt.push_str(&text);
                }
            }
            Event::Rule => has_content = true,
            _ => {}
        }
    }
    if !has_content {
        out.problems.push((body_first_line, "the post has no text after the front matter".into()));
    }
    out
}

/// Where a link written in a post leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LinkTarget {
    /// `https://…` or `mailto:…`: used as written.
    External,
    /// `/posts/slug` or a relative path to another post's file (`02-next.md`), with an
    /// optional `#fragment`.
    Post {
        slug: Option<String>,
        file: Option<String>,
        fragment: Option<String>,
    },
    Invalid(String),
}

/// Classifies `dest`, written in the post at `post_path` (relative to the content root).
pub(crate) fn classify_link(dest: &str, post_path: &Path) -> LinkTarget {
    let lower = dest.to_ascii_lowercase();
    if lower.starts_with("https://") {
        return match url::Url::parse(dest) {
            Ok(url) if url.host_str().is_some_and(|h| !h.is_empty()) => LinkTarget::External,
            _ => LinkTarget::Invalid(format!("the link `{dest}` is not a valid web address")),
        };
    }
    if lower.starts_with("mailto:") {
        return if dest.len() > "mailto:".len() && dest.contains('@') {
            LinkTarget::External
        } else {
            LinkTarget::Invalid(format!("the link `{dest}` has no email address after `mailto:`"))
        };
    }
    if lower.starts_with("http://") {
        return LinkTarget::Invalid(format!(
            "the link `{dest}` uses http://; write https:// so mail clients and browsers trust it"
        ));
    }
    let (path, fragment) = match dest.split_once('#') {
        Some((p, f)) => (p, Some(f.to_owned())),
        None => (dest, None),
    };
    if let Some(slug) = path.strip_prefix("/posts/") {
        return LinkTarget::Post { slug: Some(slug.trim_end_matches('/').to_owned()), file: None, fragment };
    }
    if path.ends_with(".md") && !path.contains(':') && !path.starts_with('/') {
        let base = post_path.parent().unwrap_or(Path::new(""));
        return LinkTarget::Post { slug: None, file: normalise(&base.join(path)), fragment };
    }
    LinkTarget::Invalid(format!(
        "the link `{dest}` is not an absolute https:// or mailto: link and does not point to another post (write `/posts/SLUG` or the post's file name, like `02-next.md`)"
    ))
}

/// Resolves `.` and `..` in a relative path; `None` when it climbs out of the content folder.
fn normalise(path: &Path) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.to_str()?.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_links() {
        let here = Path::new("leiderschap/01-a.md");
        assert_eq!(classify_link("https://example.nl/x", here), LinkTarget::External);
        assert_eq!(classify_link("mailto:rene@example.nl", here), LinkTarget::External);
        assert!(matches!(classify_link("http://example.nl", here), LinkTarget::Invalid(_)));
        assert!(matches!(classify_link("https://", here), LinkTarget::Invalid(_)));
        assert!(matches!(classify_link("mailto:", here), LinkTarget::Invalid(_)));
        assert!(matches!(classify_link("#top", here), LinkTarget::Invalid(_)));
        assert!(matches!(classify_link("javascript:alert(1)", here), LinkTarget::Invalid(_)));
        assert_eq!(
            classify_link("/posts/b#x", here),
            LinkTarget::Post { slug: Some("b".into()), file: None, fragment: Some("x".into()) }
        );
        assert_eq!(
            classify_link("../posts/c.md", here),
            LinkTarget::Post { slug: None, file: Some("posts/c.md".into()), fragment: None }
        );
        assert_eq!(classify_link("../../c.md", here), LinkTarget::Post { slug: None, file: None, fragment: None });
    }

    #[test]
    fn scan_reports_lines_in_the_file() {
        let body = "\nText\n\n# Title\n\n![](https://x.nl/a.png)\n\n<b>x</b>\n";
        let scan = scan(body, 5);
        let lines: Vec<usize> = scan.problems.iter().map(|p| p.0).collect();
        assert_eq!(lines, vec![8, 10, 12]);
    }

    #[test]
    fn an_empty_body_is_a_problem() {
        assert_eq!(scan("\n  \n", 4).problems.len(), 1);
        assert!(scan("Tekst", 4).problems.is_empty());
    }
}

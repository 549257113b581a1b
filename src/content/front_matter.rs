//! TOML front matter between `+++` lines, read field by field with line numbers.
//!
//! ```text
//! +++
//! title = "Leiderschap en vertrouwen"
//! slug = "leiderschap-en-vertrouwen"
//! order = 1
//! summary = "Deze tijd vraagt om leiders die …"
//! +++
//! Dit blog gaat over …
//! ```
//!
//! The same [`Fields`] reader serves the small settings files (`site.toml`, `series.toml`), so
//! every file reports a missing, empty, mistyped or unknown key in the same words.

use std::collections::BTreeSet;
use std::path::Path;

use toml::de::{DeTable, DeValue};

use super::problem::{LineIndex, Problem};

/// The delimiter line around front matter (Hugo's and Zola's TOML convention).
const FENCE: &str = "+++";

/// A Markdown file cut into its front matter and body.
#[derive(Debug)]
pub(crate) struct Split<'a> {
    pub toml: &'a str,
    /// 1-based line of the first front-matter line (the line after the opening fence).
    pub toml_first_line: usize,
    pub body: &'a str,
    /// 1-based line of the first body line.
    pub body_first_line: usize,
}

/// Cuts `text` into front matter and body; explains the mistake when the fences are wrong.
pub(crate) fn split(text: &str) -> Result<Split<'_>, (usize, String)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.split_inclusive('\n');
    let first = lines.next().unwrap_or("");
    if first.trim_end() != FENCE {
        return Err((
            1,
            format!(
                "the file must start with a front matter block: a line `{FENCE}`, the fields, and another line `{FENCE}`"
            ),
        ));
    }
    let toml_start = first.len();
    let mut offset = toml_start;
    for (line, l) in (2..).zip(lines) {
        if l.trim_end() == FENCE {
            return Ok(Split {
                toml: &text[toml_start..offset],
                toml_first_line: 2,
                body: &text[offset + l.len()..],
                body_first_line: line + 1,
            });
        }
        offset += l.len();
    }
    Err((1, format!("the front matter block opened here is never closed with a `{FENCE}` line")))
}

/// [`split`], with a mistake in the fences recorded as a problem of `path`.
pub(crate) fn split_reporting<'a>(path: &Path, text: &'a str, problems: &mut Vec<Problem>) -> Option<Split<'a>> {
    split(text).map_err(|(line, message)| problems.push(Problem::new(path, line, message))).ok()
}

/// A value with the line it was found on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located<T> {
    pub value: T,
    pub line: usize,
}

/// Reads typed fields out of one TOML table, recording every problem instead of stopping.
pub(crate) struct Fields<'a> {
    path: &'a Path,
    table: DeTable<'a>,
    lines: LineIndex,
    first_line: usize,
    /// Line reported for a field that is missing altogether.
    missing_line: usize,
    read: BTreeSet<&'static str>,
    pub problems: Vec<Problem>,
}

impl<'a> Fields<'a> {
    /// Parses `toml` (starting at `first_line` of `path`); syntax errors become problems and the
    /// part that could be read is still checked.
    pub(crate) fn parse(path: &'a Path, toml: &'a str, first_line: usize, missing_line: usize) -> Self {
        let lines = LineIndex::new(toml);
        let (table, errors) = DeTable::parse_recoverable(toml);
        let problems = errors
            .iter()
            .map(|e| {
                let line = e.span().map_or(0, |s| lines.line(s.start)) + first_line;
                Problem::new(
                    path,
                    line.saturating_sub(1).max(first_line),
                    format!("this is not valid TOML: {}", e.message().trim()),
                )
            })
            .collect();
        Fields { path, table: table.into_inner(), lines, first_line, missing_line, read: BTreeSet::new(), problems }
    }

    fn line_of(&self, offset: usize) -> usize {
        self.lines.line(offset) + self.first_line - 1
    }

    fn problem(&mut self, line: usize, message: String) {
        self.problems.push(Problem::new(self.path, line, message));
    }

    fn get(&mut self, key: &'static str) -> Option<(DeValue<'a>, usize)> {
        self.read.insert(key);
        let (k, v) = self.table.get_key_value(key)?;
        let line = self.line_of(k.span().start);
        Some((v.get_ref().clone(), line))
    }

    /// A key nothing uses any more: present, it is a problem that says why and what to do (so
    /// an old file is not silently half-read), without listing it among the known fields.
    pub(crate) fn retired(&mut self, key: &'static str, why: &str) {
        if let Some((k, _)) = self.table.get_key_value(key) {
            let line = self.line_of(k.span().start);
            self.table.remove(key);
            self.problem(line, format!("`{key}` is not used any more: {why}; remove this line"));
        }
    }

    /// A string that may be absent; present but empty is a problem.
    pub(crate) fn optional_str(&mut self, key: &'static str) -> Option<Located<String>> {
        let (value, line) = self.get(key)?;
        match value {
            DeValue::String(s) if s.trim().is_empty() => {
                self.problem(line, format!("`{key}` is empty"));
                None
            }
            DeValue::String(s) => Some(Located { value: s.trim().to_owned(), line }),
            other => {
                self.problem(line, format!("`{key}` must be text in quotes, not {}", describe(&other)));
                None
            }
        }
    }

    /// A string that must be present and non-empty.
    pub(crate) fn required_str(&mut self, key: &'static str) -> Option<Located<String>> {
        if !self.table.contains_key(key) {
            self.read.insert(key);
            let line = self.missing_line;
            self.problem(line, format!("the required field `{key}` is missing"));
            return None;
        }
        self.optional_str(key)
    }

    /// A list of strings, like `form_origins = ["https://a.nl", "https://b.nl"]`.
    pub(crate) fn optional_str_list(&mut self, key: &'static str) -> Option<Located<Vec<String>>> {
        let (value, line) = self.get(key)?;
        let items: Option<Vec<String>> = match &value {
            DeValue::Array(items) => items
                .iter()
                .map(|item| match item.get_ref() {
                    DeValue::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
                    _ => None,
                })
                .collect(),
            _ => None,
        };
        match items {
            Some(value) => Some(Located { value, line }),
            None => {
                self.problem(line, format!("`{key}` must be a list of texts in quotes, like `{key} = [\"…\"]`"));
                None
            }
        }
    }

    /// A whole number of at least 1.
    pub(crate) fn optional_positive(&mut self, key: &'static str) -> Option<Located<u32>> {
        let (value, line) = self.get(key)?;
        let number = match &value {
            DeValue::Integer(i) => u32::from_str_radix(i.as_str(), i.radix()).ok(),
            _ => None,
        };
        match number {
            Some(n) if n >= 1 => Some(Located { value: n, line }),
            _ => {
                self.problem(line, format!("`{key}` must be a whole number of 1 or more, like `{key} = 1`"));
                None
            }
        }
    }

    /// `true` or `false`.
    pub(crate) fn optional_bool(&mut self, key: &'static str) -> Option<Located<bool>> {
        let (value, line) = self.get(key)?;
        match value {
            DeValue::Boolean(b) => Some(Located { value: b, line }),
            other => {
                self.problem(line, format!("`{key}` must be true or false, not {}", describe(&other)));
                None
            }
        }
    }

    /// A calendar date, written as a TOML date (`date = 2026-12-01`) or a string.
    pub(crate) fn optional_date(&mut self, key: &'static str) -> Option<Located<jiff::civil::Date>> {
        let (value, line) = self.get(key)?;
        let text = match &value {
            DeValue::Datetime(d) if d.time.is_none() && d.offset.is_none() => d.to_string(),
            DeValue::String(s) => s.trim().to_owned(),
            _ => String::new(),
        };
        match text.parse::<jiff::civil::Date>() {
            Ok(date) if text.len() == 10 => Some(Located { value: date, line }),
            _ => {
                self.problem(
                    line,
                    format!("`{key}` must be a date written as year-month-day, like `{key} = 2026-12-01`"),
                );
                None
            }
        }
    }

    /// A local date and time (Europe/Amsterdam is the caller's business), written as a TOML
    /// local date-time (`2026-12-03T14:00:00`) or a string (`"2026-12-03 14:00"`).
    pub(crate) fn optional_datetime(&mut self, key: &'static str) -> Option<Located<jiff::civil::DateTime>> {
        let (value, line) = self.get(key)?;
        let text = match &value {
            DeValue::Datetime(d) if d.date.is_some() && d.time.is_some() && d.offset.is_none() => d.to_string(),
            DeValue::String(s) => s.trim().replacen(' ', "T", 1),
            _ => String::new(),
        };
        match text.parse::<jiff::civil::DateTime>() {
            Ok(moment) => Some(Located { value: moment, line }),
            Err(_) => {
                self.problem(
                    line,
                    format!(
                        "`{key}` must be a date and time in Europe/Amsterdam, like `{key} = 2026-12-03T14:00:00` (no time zone offset)"
                    ),
                );
                None
            }
        }
    }

    /// Reports every key that no reader asked for, and hands back the problems.
    pub(crate) fn finish(mut self) -> Vec<Problem> {
        let unknown: Vec<(String, usize)> = self
            .table
            .iter()
            .filter(|(k, _)| !self.read.contains(k.get_ref().as_ref()))
            .map(|(k, _)| (k.get_ref().to_string(), self.line_of(k.span().start)))
            .collect();
        let known = self.read.iter().copied().collect::<Vec<_>>().join("`, `");
        for (key, line) in unknown {
            self.problem(line, format!("unknown field `{key}`; the fields here are `{known}`"));
        }
        self.problems
    }
}

fn describe(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "text",
        DeValue::Integer(_) => "a number",
        DeValue::Float(_) => "a decimal number",
        DeValue::Boolean(_) => "true/false",
        DeValue::Datetime(_) => "a date",
        DeValue::Array(_) => "a list",
        DeValue::Table(_) => "a table",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_front_matter_from_body_with_line_numbers() {
        let text = "+++\ntitle = \"A\"\n+++\n\nBody\n";
        let split = split(text).unwrap();
        assert_eq!(split.toml, "title = \"A\"\n");
        assert_eq!(split.toml_first_line, 2);
        assert_eq!(split.body, "\nBody\n");
        assert_eq!(split.body_first_line, 4);
    }

    #[test]
    fn a_missing_fence_is_reported_on_line_one() {
        assert_eq!(split("title = 1\n").unwrap_err().0, 1);
        assert_eq!(split("+++\ntitle = 1\n").unwrap_err().0, 1);
    }

    #[test]
    fn fields_report_lines_in_the_file() {
        let path = Path::new("p.md");
        let toml = "title = \"\"\norder = 0\nsulg = \"x\"\n";
        let mut fields = Fields::parse(path, toml, 2, 1);
        assert!(fields.required_str("title").is_none());
        assert!(fields.optional_positive("order").is_none());
        assert!(fields.required_str("slug").is_none());
        let problems: Vec<String> = fields.finish().iter().map(|p| p.to_string()).collect();
        assert_eq!(
            problems,
            [
                "p.md:2: `title` is empty",
                "p.md:3: `order` must be a whole number of 1 or more, like `order = 1`",
                "p.md:1: the required field `slug` is missing",
                "p.md:4: unknown field `sulg`; the fields here are `order`, `slug`, `title`",
            ]
        );
    }

    #[test]
    fn toml_syntax_errors_point_at_their_line() {
        let path = Path::new("p.md");
        let fields = Fields::parse(path, "title = \"A\"\nslug = oops\n", 2, 1);
        let problems = fields.finish();
        assert_eq!(problems[0].line, 3, "{problems:?}");
        assert!(problems[0].message.starts_with("this is not valid TOML"));
    }
}

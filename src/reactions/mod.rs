//! Reactions under a post: what a reader writes ("Laat een reactie achter en ik neem contact
//! met je op"), waiting until the author publishes or deletes it. Pure: the types, how typed
//! text is cleaned and checked, and what approving, answering and retention change. The use
//! cases (storing, the author's notice, the signed moderation links) are in
//! `app::reactions`.
//!
//! ```text
//!   form POST            approve (link or CLI)
//!   ─────────► waiting ───────────────────────► published ──► (answer, optional)
//!                 │ delete, or older than the retention      │ delete
//!                 ▼                                           ▼
//!               gone for good                              gone for good
//! ```
//!
//! A reaction keeps the address typed with it, so the author can answer; it is never shown,
//! never mailed by postbode (the author's notice carries it as `Reply-To`), and goes with
//! the reader's export and erase.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::subscribers::{SubscriberEmail, clean_text};

/// The longest reaction kept, in characters (a long letter, not an essay).
pub const MAX_TEXT: usize = 4000;
/// The longest name kept, in characters.
pub const MAX_NAME: usize = 60;
/// The longest answer of the author, in characters.
pub const MAX_ANSWER: usize = 4000;

crate::random_id!(
    /// A reaction's random id: 16 bytes, shown as 32 hex digits (the CLI takes any unique
    /// beginning of it, as git does).
    ReactionId,
    "reaction id"
);

impl ReactionId {
    /// The first eight digits: what `postbode reactions list` shows.
    pub fn short(&self) -> String {
        self.to_string()[..8].to_owned()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReactionStatus {
    /// Stored, seen by nobody but the author.
    Waiting,
    /// Shown under the post.
    Published,
}

/// The author's answer, shown under the reaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    pub text: String,
    pub at: Timestamp,
}

/// One reaction under one post.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reaction {
    pub id: ReactionId,
    /// The post it is under.
    pub slug: String,
    /// The name as typed (cleaned): shown.
    pub name: String,
    /// To be contacted: never shown, never mailed by postbode.
    pub email: SubscriberEmail,
    /// Plain text, paragraphs parted by an empty line.
    pub text: String,
    pub status: ReactionStatus,
    pub created_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<Answer>,
    /// Whether a notice to the author has listed it (a flood is one digest: see
    /// `app::reactions::notify_author`).
    #[serde(default)]
    pub notified: bool,
}

/// Why a reaction is refused; each is said to the reader in Dutch by the web layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReactionError {
    #[error("the name is empty")]
    NoName,
    #[error("the text is empty")]
    NoText,
    #[error("the text is longer than {MAX_TEXT} characters")]
    TooLong,
}

/// A name from a form: cleaned as a first name is ([`crate::subscribers::clean_first_name`]:
/// one line, no hidden or control characters), at most [`MAX_NAME`] characters.
pub fn clean_name(raw: &str) -> Result<String, ReactionError> {
    let name: String = one_line(raw);
    let name: String = name.chars().take(MAX_NAME).collect();
    if name.is_empty() { Err(ReactionError::NoName) } else { Ok(name) }
}

/// A text from a form: hidden and control characters removed (the line breaks kept), each
/// line's trailing space dropped, runs of empty lines made one (paragraphs are what is kept),
/// trimmed. Longer than `max` characters is refused, never cut: the reader's words are theirs.
pub fn clean_body(raw: &str, max: usize) -> Result<String, ReactionError> {
    let unified = raw.replace("\r\n", "\n").replace('\r', "\n");
    let mut paragraphs: Vec<String> = Vec::new();
    let mut current: Vec<String> = Vec::new();
    for line in unified.split('\n') {
        let line = one_line(line);
        if line.is_empty() {
            if !current.is_empty() {
                paragraphs.push(current.join("\n"));
                current.clear();
            }
        } else {
            current.push(line);
        }
    }
    if !current.is_empty() {
        paragraphs.push(current.join("\n"));
    }
    let text = paragraphs.join("\n\n");
    if text.is_empty() {
        Err(ReactionError::NoText)
    } else if text.chars().count() > max {
        Err(ReactionError::TooLong)
    } else {
        Ok(text)
    }
}

/// `raw` as one line of words: any white space (tabs, line breaks) parts words, hidden and
/// control characters go, runs of spaces become one.
fn one_line(raw: &str) -> String {
    let spaced: String = raw.chars().map(|c| if c.is_whitespace() { ' ' } else { c }).collect();
    clean_text(&spaced).split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Reaction {
    /// A new, waiting reaction.
    pub fn new(slug: &str, name: String, email: SubscriberEmail, text: String, now: Timestamp) -> Reaction {
        Reaction {
            id: ReactionId::random(),
            slug: slug.to_owned(),
            name,
            email,
            text,
            status: ReactionStatus::Waiting,
            created_at: now,
            published_at: None,
            answer: None,
            notified: false,
        }
    }

    /// The paragraphs of the text, each with its lines: what a page shows, as text.
    pub fn paragraphs(&self) -> Vec<Vec<&str>> {
        paragraphs(&self.text)
    }

    /// Published now, if it was waiting; `None` when it is published already.
    pub fn approved(&self, now: Timestamp) -> Option<Reaction> {
        (self.status == ReactionStatus::Waiting).then(|| Reaction {
            status: ReactionStatus::Published,
            published_at: Some(now),
            ..self.clone()
        })
    }

    /// Whether a waiting reaction is past the retention period (`months`) at `now`: erased
    /// then, as an unconfirmed subscriber is. Published reactions stay until deleted.
    pub fn waited_too_long(&self, months: u32, now: Timestamp) -> bool {
        let limit = self
            .created_at
            .to_zoned(jiff::tz::TimeZone::UTC)
            .checked_add(jiff::Span::new().months(i64::from(months)))
            .map(|z| z.timestamp())
            .unwrap_or(Timestamp::MAX);
        self.status == ReactionStatus::Waiting && limit <= now
    }
}

/// Paragraphs of a cleaned text, each with its lines.
pub fn paragraphs(text: &str) -> Vec<Vec<&str>> {
    text.split("\n\n").map(|p| p.split('\n').collect()).filter(|p: &Vec<&str>| !p.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ids_round_trip_and_refuse_garbage() {
        let id = ReactionId::random();
        assert_eq!(id.to_string().parse::<ReactionId>().unwrap(), id);
        assert_eq!(id.short().len(), 8);
        for bad in ["", "xyz", &"g".repeat(32), &"é".repeat(16), &"a".repeat(31)] {
            assert!(bad.parse::<ReactionId>().is_err(), "{bad}");
        }
    }

    #[test]
    fn paragraphs_are_kept_and_everything_else_cleaned() {
        let text = clean_body("  Hallo René,\r\n\r\n\r\nIk  wil\u{202e} graag\npraten. \n\n\n", MAX_TEXT).unwrap();
        assert_eq!(text, "Hallo René,\n\nIk wil graag\npraten.");
        assert_eq!(paragraphs(&text), vec![vec!["Hallo René,"], vec!["Ik wil graag", "praten."]]);
        assert_eq!(clean_body(" \n\u{200b}\n ", MAX_TEXT), Err(ReactionError::NoText));
        assert_eq!(clean_body(&"a".repeat(MAX_TEXT + 1), MAX_TEXT), Err(ReactionError::TooLong));
        assert!(clean_body(&"é".repeat(MAX_TEXT), MAX_TEXT).is_ok(), "characters, not bytes");
    }

    #[test]
    fn names_are_one_clean_line() {
        assert_eq!(clean_name("  Anna\u{2028}de\tVries\u{202e} ").unwrap(), "Anna de Vries");
        assert_eq!(clean_name("\u{200b} "), Err(ReactionError::NoName));
        assert_eq!(clean_name(&"x".repeat(100)).unwrap().len(), MAX_NAME);
    }

    #[test]
    fn only_a_waiting_reaction_is_approved_and_only_it_expires() {
        let at = |s: &str| s.parse::<Timestamp>().unwrap();
        let email = SubscriberEmail::parse("lezer@example.org").unwrap();
        let waiting = Reaction::new("post", "Anna".into(), email, "Hoi".into(), at("2026-01-31T10:00:00Z"));
        assert!(!waiting.waited_too_long(1, at("2026-02-27T10:00:00Z")));
        assert!(waiting.waited_too_long(1, at("2026-02-28T10:00:00Z")));
        let published = waiting.approved(at("2026-02-01T00:00:00Z")).unwrap();
        assert_eq!(published.status, ReactionStatus::Published);
        assert!(published.approved(at("2026-02-02T00:00:00Z")).is_none());
        assert!(!published.waited_too_long(1, at("2027-01-01T00:00:00Z")));
    }

    proptest! {
        /// Whatever is typed, what is kept has no hidden or control character but the line
        /// breaks that part its lines and paragraphs, and cleaning it again changes nothing.
        #[test]
        fn cleaned_text_is_clean_and_stable(raw in "\\PC{0,200}|[\\u{0}-\\u{40}\\u{200b}-\\u{202f}a\\n\\r ]{0,200}") {
            if let Ok(text) = clean_body(&raw, MAX_TEXT) {
                prop_assert!(text.chars().all(|c| c == '\n' || !crate::subscribers::is_hidden_or_control(c)));
                prop_assert!(!text.contains("\n\n\n"));
                prop_assert_eq!(clean_body(&text, MAX_TEXT), Ok(text.clone()));
            }
        }
    }
}

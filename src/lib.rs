//! # postbode
//!
//! A serverless newsletter and content-delivery system for a Dutch leadership blog.
//!
//! The author writes posts as Markdown in `content/`; postbode validates them
//! ([`content`]) and renders them to email and web ([`render`]). Readers subscribe with double
//! opt-in and unsubscribe with one click ([`app::subscription`]); the sender
//! ([`app::sender`]) mails the "leiderschap" series one post at a time on its schedule
//! ([`schedule`]), and broadcasts once to everyone, through SES ([`mail`]) from DynamoDB
//! ([`store`]); or, locally, from SQLite into an outbox of `.eml` files.
//!
//! Parsing the content, the first thing everything else rests on:
//!
//! ```
//! use postbode::content::{Catalogue, SourceFile};
//! use std::path::Path;
//!
//! let files = vec![
//!     SourceFile::text("site.toml", concat!(
//!         "title = \"Blog\"\nauthor = \"René\"\nidentity = \"René Rensen\"\n",
//!         "consent_text = \"Ja, mail mij.\"\nwhitepaper_title = \"Tips\"\n",
//!         "whitepaper_url = \"https://example.org/tips.pdf\"\ncontact_email = \"rene@example.org\"\n",
//!         "business_name = \"Rensen\"\nbusiness_address = \"Kerkstraat 1, Utrecht\"\nkvk_number = \"12345678\"\n",
//!     )),
//!     SourceFile::text("privacy.md", "+++\ntitle = \"Privacy\"\n+++\nMail {{contact_email}}.\n"),
//!     SourceFile::text("posts/hallo.md", "+++\ntitle = \"Hallo\"\nslug = \"hallo\"\nsummary = \"Een groet.\"\ndate = 2026-12-01\n+++\nHallo lezer!\n"),
//! ];
//! let catalogue = Catalogue::parse(Path::new("content"), &files).unwrap();
//! assert_eq!(catalogue.post("hallo").unwrap().title, "Hallo");
//! ```
//!
//! ## Layers
//!
//! One rule: **each layer uses only the layers below it**, and no two modules use each other
//! (checked by `tests/suite/architecture.rs`, which reads every `crate::` path in `src/`).
//! `docs/architecture.md` has the longer tour.
//!
//! 1. **core**: pure, no I/O, no AWS, no web.
//!    - [`content`]: parses and validates `content/` (front matter, Markdown, series, site);
//!    - [`render`]: emails (HTML with inlined CSS, text part, MIME), letters, web pages;
//!    - [`schedule`]: who is due, and when next;
//!    - [`subscribers`]: the lifecycle, consent proof, caps, import rules, list figures;
//!    - [`reactions`]: readers' reactions under a post, waiting for the author, cleaned;
//!    - [`tokens`]: signed, purpose-bound links.
//! 2. **ports and adapters**: where the world is touched.
//!    - [`store`]: the `Store` port, DynamoDB and SQLite;
//!    - [`mail`]: the `Mailer` port, SES and the outbox, `MailKind` (SES tags, ledgers), and
//!      the `MailDomains` port (DNS: can mail reach a domain?);
//!    - [`content_io`]: the content folder from disk or compiled into the binary;
//!    - [`images`]: resizes the content's images, with a cache (the CLI and the build script);
//!    - [`telemetry`]: JSON logs.
//! 3. **application**: [`app`], every use case on the ports (subscribe, confirm, unsubscribe,
//!    the confirmations worker, the sender, SES events, the operator's commands, previews).
//! 4. **composition**: [`config`] reads settings; [`startup`] chooses the adapters and builds
//!    `App` and `Sender` for Lambda, the local mode, the CLI and the tests.
//! 5. **entry points**: they parse input, call the application, format output.
//!    - [`http`]: the one axum router (API Gateway and local);
//!    - [`lambda`]: the four Lambda functions of the one binary;
//!    - [`local`]: `postbode dev` (server, timers, outbox pages);
//!    - [`cli`]: the `postbode` command, one file per group of commands.

/// A random, opaque 16-byte id, shown (and stored) as 32 hex digits, parsed back from them:
/// `SubscriberId`, `ReactionId`. `$what` names it in a parse error.
macro_rules! random_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name([u8; $name::LEN]);

        impl $name {
            pub const LEN: usize = 16;

            pub fn random() -> $name {
                $name(*uuid::Uuid::new_v4().as_bytes())
            }

            pub fn from_bytes(bytes: &[u8]) -> Option<$name> {
                bytes.try_into().ok().map($name)
            }

            pub fn as_bytes(&self) -> &[u8; $name::LEN] {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let id = uuid::Uuid::try_parse(s).map_err(|_| format!("`{s}` is not a {}", $what))?;
                Ok($name(*id.as_bytes()))
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                value.parse()
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.to_string()
            }
        }
    };
}
pub(crate) use random_id;

pub mod app;
pub mod cli;
pub mod config;
pub mod content;
pub mod content_io;
pub mod http;
#[cfg(feature = "images")]
pub mod images;
pub mod lambda;
pub mod local;
pub mod mail;
pub mod reactions;
pub mod render;
pub mod schedule;
pub mod startup;
pub mod store;
pub mod subscribers;
pub mod telemetry;
pub mod tokens;

/// An error with its causes on one line: "cannot write to X: permission denied".
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

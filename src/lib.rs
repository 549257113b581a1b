//! # postbode
//!
//! A serverless newsletter and content-delivery system for a Dutch leadership blog.
//!
//! The author writes posts as Markdown in `content/`; postbode validates them
//! ([`content`]), renders them to email and web ([`render`]), and (in later modules) sends the
//! "leiderschap" series one post at a time to confirmed subscribers.
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
//!     )),
//!     SourceFile::text("privacy.md", "+++\ntitle = \"Privacy\"\n+++\nMail {{contact_email}}.\n"),
//!     SourceFile::text("posts/hallo.md", "+++\ntitle = \"Hallo\"\nslug = \"hallo\"\nsummary = \"Een groet.\"\ndate = 2026-12-01\n+++\nHallo lezer!\n"),
//! ];
//! let catalogue = Catalogue::parse(Path::new("content"), &files).unwrap();
//! assert_eq!(catalogue.post("hallo").unwrap().title, "Hallo");
//! ```
//!
//! Module map, and the house rule: the core (`content`, `render`) does no I/O and knows no AWS;
//! reading the content folder from disk or from the binary lives in [`content_io`].

pub mod app;
pub mod cli;
pub mod config;
pub mod content;
pub mod content_io;
pub mod http;
pub mod lambda;
pub mod local;
pub mod mail;
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

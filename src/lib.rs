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
//!     SourceFile { path: "site.toml".into(), text: "title = \"Blog\"\nauthor = \"René\"\nidentity = \"René Rensen\"\n".into() },
//!     SourceFile { path: "posts/hallo.md".into(), text: "+++\ntitle = \"Hallo\"\nslug = \"hallo\"\nsummary = \"Een groet.\"\ndate = 2026-12-01\n+++\nHallo lezer!\n".into() },
//! ];
//! let catalogue = Catalogue::parse(Path::new("content"), &files).unwrap();
//! assert_eq!(catalogue.post("hallo").unwrap().title, "Hallo");
//! ```
//!
//! Module map, and the house rule: the core (`content`, `render`) does no I/O and knows no AWS;
//! reading and writing files for the author's CLI lives in [`files`].

pub mod content;
pub mod files;
pub mod mail;
pub mod preview;
pub mod render;
pub mod store;
pub mod subscribers;
pub mod tokens;

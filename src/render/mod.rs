//! Rendering: posts to email (HTML with inlined CSS, a text part, MIME bytes) and, in later
//! modules, to web pages. Pure code: no I/O, no clock (the caller passes the date).

pub mod dutch;
pub mod email;
pub mod letters;
pub mod markdown_html;
pub mod markdown_text;
pub mod reactions;
mod template;
pub mod web;

pub use email::{BaseUrl, EmailSettings, PreparedEmail, Recipient, RenderError, RenderedEmail};

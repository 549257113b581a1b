//! The `postbode` command line, one file per group of commands:
//!
//! - [`author`]: `check`, `new`, `preview`, `form` (writing and checking posts);
//! - [`operator`]: `subscribers …`, `sending …`, `stats`, `smoke`, `send-test` (the deployed
//!   stack, or the local store with `--local DIR`);
//! - [`reactions`]: `reactions …` (the author's moderation, as the buttons in his notice);
//! - [`local`]: `dev`, `send` (the whole system on this machine).
//!
//! `src/bin/postbode.rs` parses the arguments and calls the function here that has the
//! command's name.

pub mod author;
pub mod local;
pub mod operator;
pub mod preflight;
pub mod reactions;
pub mod smoke;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::content::{Catalogue, Problems};
use crate::content_io::ContentError;

/// Why a command failed: the author's content (every problem as `path:line: message`), or
/// anything else (one sentence).
#[derive(Debug)]
pub enum Failure {
    Problems(Problems),
    Message(String),
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Failure::Message(message)
    }
}

impl From<&str> for Failure {
    fn from(message: &str) -> Self {
        Failure::Message(message.to_owned())
    }
}

impl Failure {
    /// Prints the failure and gives the process's exit code: 1 for content problems, 2 for
    /// anything else.
    pub fn report(self) -> ExitCode {
        match self {
            Failure::Problems(problems) => {
                eprintln!("{problems}");
                ExitCode::from(1)
            }
            Failure::Message(message) => {
                eprintln!("error: {message}");
                ExitCode::from(2)
            }
        }
    }
}

pub type CommandResult = Result<ExitCode, Failure>;

/// Which store an operator command works on.
#[derive(clap::Args, Debug, Clone)]
pub struct Target {
    /// The local store in this data folder.
    #[arg(long, global = true, conflicts_with = "table")]
    pub local: Option<PathBuf>,
    /// The stack's DynamoDB table (credentials and region from the usual AWS settings).
    #[arg(long, global = true, env = "POSTBODE_TABLE")]
    pub table: Option<String>,
}

impl Target {
    /// The secret behind tokens and suppression hashes: the local one, or the stack's (from
    /// SSM or POSTBODE_TOKEN_SECRET).
    pub async fn tokens(&self) -> Result<crate::tokens::TokenKey, String> {
        match &self.local {
            Some(dir) => crate::config::local_token_key(dir).map_err(|e| e.to_string()),
            None => crate::config::token_key(&aws().await).await.map_err(|e| e.to_string()),
        }
    }

    pub async fn store(&self) -> Result<std::sync::Arc<dyn crate::store::Store>, String> {
        match (&self.local, &self.table) {
            (Some(dir), _) => Ok(std::sync::Arc::new(crate::startup::local_store(dir)?)),
            (None, Some(table)) => Ok(std::sync::Arc::new(crate::startup::dynamo_store(&aws().await, table))),
            (None, None) => Err("say which store: --local DATA_DIR, or --table NAME (or POSTBODE_TABLE)".into()),
        }
    }

    /// Where mail goes: the local outbox, or SES with the stack's configuration set.
    pub async fn mailer(&self, configuration_set: Option<String>) -> Result<Box<dyn crate::mail::Mailer>, String> {
        Ok(match &self.local {
            Some(dir) => Box::new(crate::startup::local_mailer(dir)?),
            None => Box::new(crate::startup::ses_mailer(&aws().await, configuration_set)),
        })
    }
}

async fn aws() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}

/// The content folder, validated.
pub fn catalogue(content: &Path) -> Result<Catalogue, Failure> {
    // With its images processed (cached), as pages and mails show them.
    #[cfg(feature = "images")]
    let loaded = crate::content_io::load_catalogue_with_pictures(content);
    #[cfg(not(feature = "images"))]
    let loaded = crate::content_io::load_catalogue(content);
    loaded.map_err(|e| match e {
        ContentError::Invalid(problems) => Failure::Problems(problems),
        other => Failure::Message(crate::error_chain(&other)),
    })
}

pub fn email_arg(raw: &str) -> Result<crate::subscribers::SubscriberEmail, String> {
    crate::subscribers::SubscriberEmail::parse(raw).map_err(|e| format!("`{raw}` is not an email address: {e}"))
}

pub fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Runtime::new().map_err(|e| format!("cannot start the async runtime: {e}"))
}

/// An RFC 3339 time given as `--flag`, or now.
pub fn time_arg(flag: &str, value: Option<&str>) -> Result<jiff::Timestamp, String> {
    match value {
        Some(t) => {
            t.parse().map_err(|e| format!("--{flag} `{t}` is not an RFC 3339 time like 2026-12-01T08:00:00+01:00: {e}"))
        }
        None => Ok(jiff::Timestamp::now()),
    }
}

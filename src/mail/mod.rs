//! The Mailer port: hands finished MIME bytes to whoever delivers them.
//!
//! - [`ses::SesMailer`]: SESv2 `SendEmail` with raw content and the stack's configuration set;
//! - [`outbox::OutboxMailer`]: writes each message as an `.eml` file (the local mode).
//!
//! Both get exactly the bytes the renderer produced: what a preview or test sees is what is
//! sent.

pub mod domains;
mod kind;
pub mod outbox;
pub mod ses;

pub use kind::{LEDGER_TAG, Ledger, MAIL_TAG, MailKind, POST_TAG, SUBSCRIBER_TAG};

use async_trait::async_trait;

/// One message ready to go.
#[derive(Debug, Clone, Copy)]
pub struct Outgoing<'a> {
    /// Envelope recipient (the address in `To:`).
    pub to: &'a str,
    pub mime: &'a [u8],
    /// What kind of mail it is: its SES tags (for a post to a subscriber also who and which
    /// post, so SES's events settle a send whose answer was lost, see
    /// `Store::record_send_event`), the ledger its events count on, its outbox file name.
    pub kind: MailKind<'a>,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// Over the sending rate: wait and try again.
    #[error("sending is throttled: {0}")]
    Throttled(String),
    /// A passing fault (5xx, timeout, network): try again later.
    #[error("sending failed for now: {0}")]
    Transient(String),
    /// This message will never go out as it is (rejected address, bad content).
    #[error("the message was rejected: {0}")]
    Permanent(String),
    /// The request may have reached the delivery system and been accepted, but no answer came
    /// (a timeout, a dropped connection, an unreadable answer): the message may be on its way.
    /// Never sent again blindly.
    #[error("the outcome of the send is unknown: {0}")]
    Unknown(String),
    /// A fault of the account or its set-up, not of this message (access denied, missing
    /// configuration set, sandbox, account paused, daily quota used): every send would fail
    /// alike, so the run stops and nobody moves on.
    #[error("sending is not possible for this account: {0}")]
    Account(String),
}

#[async_trait]
pub trait Mailer: Send + Sync + 'static {
    /// Sends the message; returns the delivery system's message id.
    async fn send(&self, message: Outgoing<'_>) -> Result<String, MailError>;

    /// The most messages per second the delivery system accepts, if it has a limit.
    async fn max_send_rate(&self) -> Result<Option<f64>, MailError> {
        Ok(self.account().await?.map(|a| a.max_send_rate).filter(|r| *r > 0.0))
    }

    /// What the delivery system says about the account (SES's `GetAccount`); `None` where
    /// there is no account (the outbox).
    async fn account(&self) -> Result<Option<AccountFacts>, MailError> {
        Ok(None)
    }

    /// Takes the address off the delivery system's own list of addresses it will not mail:
    /// SES's account-level suppression list, where every hard bounce and complaint of the
    /// configuration set lands, in plain text, until someone deletes it. Called whenever a
    /// person's record is erased, so nothing of the address stays behind with AWS; postbode's
    /// own salted hash keeps it from being mailed again. An address not on the list is fine.
    /// The outbox keeps no such list.
    async fn forget_suppressed(&self, _address: &str) -> Result<(), MailError> {
        Ok(())
    }
}

/// The SES account as `GetAccount` describes it: whether it may mail anyone, and how much.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct AccountFacts {
    /// Out of the sandbox (may mail unverified addresses).
    pub production_access: bool,
    pub sending_enabled: bool,
    /// SES's enforcement status: HEALTHY, PROBATION or SHUTDOWN.
    pub enforcement: Option<String>,
    pub max_24_hour_send: f64,
    pub max_send_rate: f64,
    pub sent_last_24_hours: f64,
}

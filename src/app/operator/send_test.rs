//! `postbode send-test`: one post or letter, exactly as readers get it, to the operator's
//! address (never to someone erased), counted on its ledger.

use jiff::Timestamp;

use crate::app::Parts;
use crate::content::Post;
use crate::mail::{MailError, MailKind, Outgoing};
use crate::render::letters::LetterKind;
use crate::render::{PreparedEmail, Recipient, RenderError};
use crate::store::StoreError;
use crate::subscribers::{SubscriberEmail, SubscriberId};
use crate::tokens::Purpose;

/// What to send: a post, or a letter with example links.
#[derive(Debug, Clone, Copy)]
pub enum TestMail<'a> {
    Post(&'a Post),
    Letter(LetterKind),
}

/// A test mail that went out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestSent {
    pub subject: String,
    pub message_id: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SendTestError {
    #[error("{0} was erased and is on the suppression list; it is not mailed")]
    Suppressed(String),
    #[error("the mail could not be made")]
    Render(#[from] RenderError),
    #[error("the mail was not sent")]
    Mail(#[from] MailError),
    #[error("the store failed")]
    Store(#[from] StoreError),
}

/// Renders `what` for `to` (with an unsubscribe link of no subscriber: it only shows the page)
/// and sends it through the parts' mailer.
pub async fn send_test(
    parts: &Parts,
    what: TestMail<'_>,
    to: &SubscriberEmail,
    now: Timestamp,
) -> Result<TestSent, SendTestError> {
    if super::is_suppressed(parts.store.as_ref(), &parts.tokens, to).await? {
        return Err(SendTestError::Suppressed(to.to_string()));
    }
    // A parsed SubscriberEmail is a subset of what lettre accepts.
    let address: lettre::Address =
        to.as_str().parse().map_err(|e| MailError::Permanent(format!("`{to}` is not an address: {e}")))?;
    let recipient = Recipient {
        to: lettre::message::Mailbox::new(None, address),
        first_name: None,
        unsubscribe_token: parts.tokens.sign(Purpose::Unsubscribe, &SubscriberId::random(), 1, now),
        preferences_token: Some(parts.tokens.sign(Purpose::Preferences, &SubscriberId::random(), 1, now)),
    };
    let (catalogue, settings) = (parts.catalogue.as_ref(), &parts.email);
    let (email, kind) = match what {
        TestMail::Post(post) => (
            PreparedEmail::new(catalogue, post, settings)?.render(&recipient, now.into())?,
            MailKind::TestPost { slug: post.slug.as_str() },
        ),
        TestMail::Letter(letter) => (
            letter.render_example(catalogue, settings, &recipient, now.into())?,
            MailKind::TestLetter { name: letter.name() },
        ),
    };
    let message_id = parts.mailer.send(Outgoing { to: to.as_str(), mime: &email.mime, kind }).await?;
    // A test send counts on its ledger (the list's: it is in the breaker's denominator).
    crate::app::subscription::count_sent(parts.store.as_ref(), kind, now).await;
    Ok(TestSent { subject: email.subject, message_id })
}

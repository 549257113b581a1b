//! SESv2 raw sending.

use async_trait::async_trait;
use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{Destination, EmailContent, MessageTag, RawMessage};

use super::{MailError, Mailer, Outgoing};

#[derive(Clone, Debug)]
pub struct SesMailer {
    client: Client,
    configuration_set: Option<String>,
}

impl SesMailer {
    pub fn new(client: Client, configuration_set: Option<String>) -> SesMailer {
        SesMailer { client, configuration_set }
    }
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, message: Outgoing<'_>) -> Result<String, MailError> {
        let raw = RawMessage::builder()
            .data(Blob::new(message.mime))
            .build()
            .map_err(|e| MailError::Permanent(e.to_string()))?;
        let out = self
            .client
            .send_email()
            .destination(Destination::builder().to_addresses(message.to).build())
            .content(EmailContent::builder().raw(raw).build())
            .set_configuration_set_name(self.configuration_set.clone())
            // The mail's kind, in every event SES publishes about it (see jobs::ses_events).
            .email_tags(
                MessageTag::builder()
                    .name(crate::jobs::ses_events::MAIL_TAG)
                    .value(tag_value(message.tag))
                    .build()
                    .map_err(|e| MailError::Permanent(e.to_string()))?,
            )
            .send()
            .await
            .map_err(classify)?;
        Ok(out.message_id.unwrap_or_default())
    }

    /// SES's `MaxSendRate` from `GetAccount` (1 in the sandbox, 14 and up in production).
    async fn max_send_rate(&self) -> Result<Option<f64>, MailError> {
        let account = self.client.get_account().send().await.map_err(classify)?;
        Ok(account.send_quota.map(|q| q.max_send_rate).filter(|r| *r > 0.0))
    }
}

/// SES accepts tag values of letters, digits, `_` and `-` (up to 256): other characters
/// become `-`.
fn tag_value(tag: &str) -> String {
    let value: String = tag
        .chars()
        .take(256)
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '-' })
        .collect();
    if value.is_empty() { "mail".into() } else { value }
}

/// Sorts SES failures into wait-and-retry or give-up.
fn classify<E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static>(
    err: SdkError<E, aws_sdk_sesv2::config::http::HttpResponse>,
) -> MailError {
    let text = match err.message() {
        Some(m) => format!("{}: {m}", err.code().unwrap_or("error")),
        None => aws_smithy_error_text(&err),
    };
    match (&err, err.code()) {
        (_, Some("TooManyRequestsException" | "ThrottlingException" | "LimitExceededException")) => {
            MailError::Throttled(text)
        }
        (_, Some("SendingPausedException" | "AccountSuspendedException" | "MailFromDomainNotVerifiedException")) => {
            MailError::Transient(text)
        }
        (SdkError::ServiceError(ctx), _) if ctx.raw().status().is_server_error() => MailError::Transient(text),
        (SdkError::ServiceError(_), _) => MailError::Permanent(text),
        // Timeouts, dispatch and response errors: the request may not have arrived.
        _ => MailError::Transient(text),
    }
}

fn aws_smithy_error_text(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

//! SESv2 raw sending.

use async_trait::async_trait;
use std::time::Duration;

use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::config::retry::RetryConfig;
use aws_sdk_sesv2::config::timeout::TimeoutConfig;
use aws_sdk_sesv2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{Destination, EmailContent, MessageTag, RawMessage};

use super::{AccountFacts, MailError, Mailer, Outgoing};

#[derive(Clone, Debug)]
pub struct SesMailer {
    client: Client,
    configuration_set: Option<String>,
}

/// How long one SES call may take before its outcome counts as unknown.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);

impl SesMailer {
    /// Sends through `client`, with the SDK's own retries turned off and a timeout per call:
    /// the SDK would repeat a send that timed out or lost its connection, and SES may have
    /// accepted the first. The sender retries itself, and only where nothing was accepted.
    pub fn new(client: Client, configuration_set: Option<String>) -> SesMailer {
        SesMailer::with_timeout(client, configuration_set, SEND_TIMEOUT)
    }

    /// As [`SesMailer::new`], with another timeout per call (the fault tests use a short one).
    pub fn with_timeout(client: Client, configuration_set: Option<String>, timeout: Duration) -> SesMailer {
        let config = client
            .config()
            .to_builder()
            .retry_config(RetryConfig::standard().with_max_attempts(1))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(3).min(timeout))
                    .operation_attempt_timeout(timeout)
                    .operation_timeout(timeout)
                    .build(),
            )
            .build();
        SesMailer { client: Client::from_conf(config), configuration_set }
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
            // The mail's kind, and for posts (subscriber, post), in every event SES publishes
            // about it (see app::ses_events).
            .set_email_tags(Some(tags(&message)?))
            .send()
            .await
            .map_err(classify)?;
        Ok(out.message_id.unwrap_or_default())
    }

    /// `GetAccount`: the sandbox, sending, enforcement and the quota (`MaxSendRate` is 1 in
    /// the sandbox, 14 and up in production).
    async fn account(&self) -> Result<Option<AccountFacts>, MailError> {
        let account = self.client.get_account().send().await.map_err(classify)?;
        let quota = account.send_quota.unwrap_or_else(|| aws_sdk_sesv2::types::SendQuota::builder().build());
        Ok(Some(AccountFacts {
            production_access: account.production_access_enabled,
            sending_enabled: account.sending_enabled,
            enforcement: account.enforcement_status,
            max_24_hour_send: quota.max24_hour_send,
            max_send_rate: quota.max_send_rate,
            sent_last_24_hours: quota.sent_last24_hours,
        }))
    }

    /// `DeleteSuppressedDestination`; SES answers `NotFoundException` for an address that is
    /// not on the list, which is what was wanted.
    async fn forget_suppressed(&self, address: &str) -> Result<(), MailError> {
        match self.client.delete_suppressed_destination().email_address(address).send().await {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("NotFoundException") => Ok(()),
            Err(e) => Err(classify(e)),
        }
    }
}

/// What SES says about a sending domain (`GetEmailIdentity`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IdentityFacts {
    pub verified_for_sending: bool,
    /// Easy DKIM's tokens: each wants `TOKEN._domainkey.DOMAIN CNAME TOKEN.dkim.amazonses.com`.
    pub dkim_tokens: Vec<String>,
    pub dkim_status: Option<String>,
    pub mail_from_domain: Option<String>,
}

impl SesMailer {
    /// The sending domain's identity as SES has it.
    pub async fn identity(&self, domain: &str) -> Result<IdentityFacts, MailError> {
        let identity = self.client.get_email_identity().email_identity(domain).send().await.map_err(classify)?;
        let dkim = identity.dkim_attributes;
        Ok(IdentityFacts {
            verified_for_sending: identity.verified_for_sending_status,
            dkim_tokens: dkim.as_ref().and_then(|d| d.tokens.clone()).unwrap_or_default(),
            dkim_status: dkim.and_then(|d| d.status).map(|s| s.as_str().to_owned()),
            mail_from_domain: identity.mail_from_attributes.map(|m| m.mail_from_domain),
        })
    }
}

fn tags(message: &Outgoing<'_>) -> Result<Vec<MessageTag>, MailError> {
    use super::kind::{LEDGER_TAG, MAIL_TAG, POST_TAG, SUBSCRIBER_TAG};
    let mut tags = vec![(MAIL_TAG, message.kind.tag()), (LEDGER_TAG, message.kind.ledger().tag().into())];
    if let Some((subscriber, slug)) = message.kind.post_of_subscriber() {
        tags.extend([(SUBSCRIBER_TAG, subscriber.into()), (POST_TAG, slug.into())]);
    }
    tags.into_iter()
        .map(|(name, value)| {
            MessageTag::builder()
                .name(name)
                .value(tag_value(&value))
                .build()
                .map_err(|e| MailError::Account(e.to_string()))
        })
        .collect()
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

/// Sorts SES failures: wait and retry (nothing was accepted), give up on this recipient, stop
/// for the account, or unknown (it may have been accepted).
fn classify<E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static>(
    err: SdkError<E, aws_sdk_sesv2::config::http::HttpResponse>,
) -> MailError {
    let text = match err.message() {
        Some(m) => format!("{}: {m}", err.code().unwrap_or("error")),
        None => crate::error_chain(&err),
    };
    let message = err.message().unwrap_or_default();
    match (&err, err.code()) {
        // SESv1 and v2 both answer a used-up daily quota as a throttling error; only the
        // next day (or a raised quota) helps, so it stops the run like other account faults.
        (_, Some(_)) if message.contains("Daily message quota exceeded") => MailError::Account(text),
        (_, Some("TooManyRequestsException" | "ThrottlingException" | "Throttling" | "LimitExceededException")) => {
            MailError::Throttled(text)
        }
        (
            _,
            Some(
                "AccessDeniedException"
                | "AccessDenied"
                | "AccountSuspendedException"
                | "SendingPausedException"
                | "MailFromDomainNotVerifiedException"
                | "NotFoundException"
                | "ConfigurationSetDoesNotExistException"
                | "UnrecognizedClientException"
                | "InvalidClientTokenId"
                | "SignatureDoesNotMatch"
                | "ExpiredTokenException",
            ),
        ) => MailError::Account(text),
        // The sandbox: every recipient outside the verified identities is refused alike.
        (_, Some("MessageRejected")) if message.contains("not verified") => MailError::Account(text),
        (SdkError::ServiceError(ctx), _) if ctx.raw().status().as_u16() == 403 => MailError::Account(text),
        (SdkError::ServiceError(ctx), _) if ctx.raw().status().is_server_error() => MailError::Transient(text),
        (SdkError::ServiceError(_), _) => MailError::Permanent(text),
        // The request could not be built: every send would fail alike.
        (SdkError::ConstructionFailure(_), _) => MailError::Account(text),
        // No connection was made: nothing reached SES.
        (SdkError::DispatchFailure(_), _) if refused(&err) => MailError::Transient(text),
        // A timeout, a connection lost after the request went, an answer that could not be
        // read: SES may have accepted the message.
        _ => MailError::Unknown(text),
    }
}

/// True when the connection itself was refused (so no request was sent).
fn refused(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::ConnectionRefused
        {
            return true;
        }
        source = e.source();
    }
    false
}

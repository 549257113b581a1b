//! Settings of a deployment, read once at start-up: from the environment in Lambda (set by
//! the SAM template), from flags locally. Secrets never come from the repository.

use jiff::SignedDuration;
use lettre::message::Mailbox;

use crate::render::{BaseUrl, EmailSettings};
use crate::subscribers::caps::Caps;
use crate::tokens::TokenKey;

#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

fn var(name: &str) -> Result<String, ConfigError> {
    std::env::var(name).map_err(|_| ConfigError(format!("the environment variable {name} is not set")))
}

fn optional(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The email settings from a base URL and a `From` line such as
/// `René Rensen <nieuwsbrief@voorbeeld.nl>`.
pub fn email_settings(base_url: &str, from: &str, reply_to: Option<&str>) -> Result<EmailSettings, ConfigError> {
    let base_url = BaseUrl::parse(base_url).map_err(ConfigError)?;
    let from: Mailbox = from.parse().map_err(|e| ConfigError(format!("the sender `{from}` is not an address: {e}")))?;
    let reply_to = reply_to
        .map(|r| r.parse::<Mailbox>().map_err(|e| ConfigError(format!("the reply-to `{r}` is not an address: {e}"))))
        .transpose()?;
    Ok(EmailSettings { base_url, from, reply_to })
}

/// The sender's settings: [`SenderConfig::default`](crate::app::sender::SenderConfig), with
/// `POSTBODE_MAX_SEND_RATE` as the cap on sends per second when set.
pub fn sender_config_from_env() -> Result<crate::app::sender::SenderConfig, ConfigError> {
    let rate_cap = number_from(optional, "POSTBODE_MAX_SEND_RATE", 0.01..=1_000.0, "a number of mails per second")?;
    Ok(crate::app::sender::SenderConfig { rate_cap, ..Default::default() })
}

/// The link-signing secret, read once per cold start: from the SSM SecureString named by
/// `POSTBODE_TOKEN_SECRET_PARAMETER` (how the stack runs), else from `POSTBODE_TOKEN_SECRET`
/// (for running a bin by hand). Never from the repository or a template default.
pub async fn token_key(aws: &aws_config::SdkConfig) -> Result<TokenKey, ConfigError> {
    let secret = match optional("POSTBODE_TOKEN_SECRET_PARAMETER") {
        Some(name) => aws_sdk_ssm::Client::new(aws)
            .get_parameter()
            .name(&name)
            .with_decryption(true)
            .send()
            .await
            .map_err(|e| {
                ConfigError(format!("cannot read the token secret {name} from SSM: {}", crate::error_chain(&e)))
            })?
            .parameter
            .and_then(|p| p.value)
            .ok_or_else(|| ConfigError(format!("the SSM parameter {name} has no value")))?,
        None => var("POSTBODE_TOKEN_SECRET")?,
    };
    TokenKey::new(secret.trim().as_bytes().to_vec()).map_err(ConfigError)
}

/// The caps on confirmation mail, from `POSTBODE_CAP_MAILBOX_PER_HOUR`,
/// `POSTBODE_CAP_MAILBOX_PER_DAY`, `POSTBODE_CAP_CLIENT_PER_HOUR`,
/// `POSTBODE_CAP_NETWORK_PER_HOUR`, `POSTBODE_CAP_GLOBAL_PER_HOUR` and
/// `POSTBODE_CAP_GLOBAL_PER_DAY` (whole numbers of at least 1), each defaulting to
/// [`Caps::default`]. Read alike by the `api` Lambda and `postbode dev`.
pub fn caps_from_env() -> Result<Caps, ConfigError> {
    caps_from(optional)
}

/// [`caps_from_env`] with the variables from `lookup`.
pub fn caps_from(lookup: impl Fn(&str) -> Option<String>) -> Result<Caps, ConfigError> {
    let mut caps = Caps::default();
    for (name, field) in [
        ("POSTBODE_CAP_MAILBOX_PER_HOUR", &mut caps.mailbox_per_hour),
        ("POSTBODE_CAP_MAILBOX_PER_DAY", &mut caps.mailbox_per_day),
        ("POSTBODE_CAP_CLIENT_PER_HOUR", &mut caps.client_per_hour),
        ("POSTBODE_CAP_NETWORK_PER_HOUR", &mut caps.network_per_hour),
        ("POSTBODE_CAP_GLOBAL_PER_HOUR", &mut caps.global_per_hour),
        ("POSTBODE_CAP_GLOBAL_PER_DAY", &mut caps.global_per_day),
    ] {
        if let Some(n) = number_from(&lookup, name, 1..=1_000_000, "a whole number")? {
            *field = n;
        }
    }
    Ok(caps)
}

/// `POSTBODE_CONFIRM_COOLDOWN_MINUTES`, if set: 1 minute to 7 days (without a cooldown, one
/// address could be mailed at every request).
pub fn confirm_cooldown_from_env() -> Result<Option<SignedDuration>, ConfigError> {
    let minutes = number_from(optional, "POSTBODE_CONFIRM_COOLDOWN_MINUTES", 1..=7 * 24 * 60, "whole minutes")?;
    Ok(minutes.map(SignedDuration::from_mins))
}

/// A number from the environment, checked once at start: `None` when unset or empty; a
/// clear error naming the variable when it is not a number in `range` (NaN, infinities,
/// negatives, zero where it would switch a safeguard off, and overflow never get through).
pub fn number_from<T>(
    lookup: impl Fn(&str) -> Option<String>,
    name: &str,
    range: std::ops::RangeInclusive<T>,
    what: &str,
) -> Result<Option<T>, ConfigError>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
{
    let Some(value) = lookup(name).filter(|v| !v.trim().is_empty()) else { return Ok(None) };
    match value.trim().parse::<T>() {
        Ok(n) if range.contains(&n) => Ok(Some(n)),
        _ => Err(ConfigError(format!(
            "{name} `{value}` is not valid: give {what} from {} to {}",
            range.start(),
            range.end()
        ))),
    }
}

/// What the `api` Lambda needs.
#[derive(Debug)]
pub struct ApiConfig {
    pub email: EmailSettings,
    pub table: String,
    pub configuration_set: Option<String>,
    pub confirm_cooldown: SignedDuration,
    pub caps: Caps,
}

impl ApiConfig {
    pub fn from_env() -> Result<ApiConfig, ConfigError> {
        let email = email_settings(
            &var("POSTBODE_BASE_URL")?,
            &var("POSTBODE_FROM")?,
            optional("POSTBODE_REPLY_TO").as_deref(),
        )?;
        let confirm_cooldown = confirm_cooldown_from_env()?.unwrap_or(crate::app::DEFAULT_CONFIRM_COOLDOWN);
        Ok(ApiConfig {
            email,
            table: var("POSTBODE_TABLE")?,
            configuration_set: optional("POSTBODE_CONFIGURATION_SET"),
            confirm_cooldown,
            caps: caps_from_env()?,
        })
    }
}

/// The local token secret: `DATA/token-secret`, made once with 32 random bytes and readable
/// only by its owner. Local links keep working across restarts.
pub fn local_token_key(data_dir: &std::path::Path) -> Result<TokenKey, ConfigError> {
    let path = data_dir.join("token-secret");
    let io = |e: std::io::Error| ConfigError(format!("{}: {e}", path.display()));
    if !path.exists() {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).map_err(|e| ConfigError(format!("no randomness for the token secret: {e}")))?;
        std::fs::create_dir_all(data_dir).map_err(io)?;
        std::fs::write(&path, secret).map_err(io)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
        }
    }
    TokenKey::new(std::fs::read(&path).map_err(io)?).map_err(ConfigError)
}

/// The circuit breaker's thresholds: `POSTBODE_MAX_BOUNCE_RATE` and
/// `POSTBODE_MAX_COMPLAINT_RATE` as fractions (defaults 0.04 and 0.0008).
pub fn breaker_from_env() -> Result<crate::app::ses_events::Breaker, ConfigError> {
    breaker_from(optional)
}

/// [`breaker_from_env`] with the variables from `lookup`.
pub fn breaker_from(lookup: impl Fn(&str) -> Option<String>) -> Result<crate::app::ses_events::Breaker, ConfigError> {
    let mut breaker = crate::app::ses_events::Breaker::default();
    let fraction = "a fraction like 0.04";
    if let Some(r) = number_from(&lookup, "POSTBODE_MAX_BOUNCE_RATE", 0.001..=0.05, fraction)? {
        breaker.max_bounce_rate = r;
    }
    if let Some(r) = number_from(&lookup, "POSTBODE_MAX_COMPLAINT_RATE", 0.0001..=0.001, fraction)? {
        breaker.max_complaint_rate = r;
    }
    Ok(breaker)
}

//! The composition root: where the adapters are chosen and the application is put together,
//! for each way postbode runs.
//!
//! | runs as | store | mailer | secret | built by |
//! |---|---|---|---|---|
//! | the four Lambda functions | DynamoDB (`POSTBODE_TABLE`) | SES with the configuration set | SSM | [`lambda_parts`] |
//! | `postbode dev`, `postbode send` | SQLite in the data folder | the `.eml` outbox | `DATA/token-secret` | [`local_parts`] |
//! | operator commands | either, by `--local DIR` or `--table` | either | either | [`local_store`], [`dynamo_store`], … |
//! | tests | SQLite or DynamoDB Local | outbox, SES on moto, fault injectors | fixed | their own [`Parts`] |
//!
//! Every one ends in [`Parts::app`] and [`Parts::sender`], so the wiring that production runs
//! is the wiring the tests run.

use std::path::Path;
use std::sync::Arc;

use crate::app::{App, Parts, Settings};
use crate::config::{ApiConfig, ConfigError};
use crate::content::Catalogue;
use crate::mail::outbox::OutboxMailer;
use crate::mail::ses::SesMailer;
use crate::store::dynamodb::DynamoStore;
use crate::store::sqlite::SqliteStore;

/// The settings of the subscription use cases from the environment (caps and cooldown; see
/// [`crate::config`]), on the wall clock.
pub fn settings_from_env() -> Result<Settings, ConfigError> {
    let mut settings = Settings { caps: crate::config::caps_from_env()?, ..Settings::default() };
    if let Some(cooldown) = crate::config::confirm_cooldown_from_env()? {
        settings.confirm_cooldown = cooldown;
    }
    Ok(settings)
}

/// The stack's table.
pub fn dynamo_store(aws: &aws_config::SdkConfig, table: &str) -> DynamoStore {
    DynamoStore::new(aws_sdk_dynamodb::Client::new(aws), table)
}

/// SES, sending with the stack's configuration set.
pub fn ses_mailer(aws: &aws_config::SdkConfig, configuration_set: Option<String>) -> SesMailer {
    SesMailer::new(aws_sdk_sesv2::Client::new(aws), configuration_set)
}

/// The local store: `DATA/postbode.sqlite`.
/// The data folder holds every reader's address, proof and mail: it and the database's files
/// are its owner's alone (0700 and 0600), whatever the umask.
pub fn local_store(data: &Path) -> Result<SqliteStore, String> {
    let file = data.join("postbode.sqlite");
    let io = |path: &Path, e: std::io::Error| format!("{}: {e}", path.display());
    std::fs::create_dir_all(data).map_err(|e| io(data, e))?;
    owner_only(data, 0o700).map_err(|e| io(data, e))?;
    let store = SqliteStore::open(&file).map_err(|e| crate::error_chain(&e))?;
    for suffix in ["", "-wal", "-shm"] {
        let path = data.join(format!("postbode.sqlite{suffix}"));
        if path.exists() {
            owner_only(&path, 0o600).map_err(|e| io(&path, e))?;
        }
    }
    Ok(store)
}

#[cfg(unix)]
fn owner_only(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn owner_only(_: &Path, _: u32) -> std::io::Result<()> {
    Ok(())
}

/// The local outbox: `DATA/outbox/`.
pub fn local_mailer(data: &Path) -> Result<OutboxMailer, String> {
    let outbox = data.join("outbox");
    OutboxMailer::new(&outbox).map_err(|e| format!("{}: {e}", outbox.display()))
}

/// The parts of the Lambda functions: DynamoDB, SES and the content compiled into the binary,
/// configured from the environment the template sets.
pub async fn lambda_parts(
    aws: &aws_config::SdkConfig,
    catalogue: Arc<Catalogue>,
) -> Result<Parts, Box<dyn std::error::Error + Send + Sync>> {
    let config = ApiConfig::from_env()?;
    Ok(Parts {
        store: Arc::new(dynamo_store(aws, &config.table)),
        mailer: Arc::new(ses_mailer(aws, config.configuration_set)),
        catalogue,
        email: config.email,
        tokens: crate::config::token_key(aws).await?,
    })
}

/// The app of the `api` and `confirmations` functions.
pub async fn lambda_app(
    aws: &aws_config::SdkConfig,
    catalogue: Arc<Catalogue>,
) -> Result<App, Box<dyn std::error::Error + Send + Sync>> {
    let mut settings = settings_from_env()?;
    // In AWS every address's domain is checked in DNS before a confirmation mail can go.
    settings.mail_domains = Some(Arc::new(crate::mail::domains::DnsMailDomains::system()?));
    Ok(lambda_parts(aws, catalogue).await?.app(settings))
}

/// The parts of the local mode, on the data folder: SQLite, the outbox, the local secret.
/// `clock` is the app's: the simulated SES events of the mailbox simulator happen on it.
pub fn local_parts(
    data: &Path,
    catalogue: Catalogue,
    base_url: &str,
    clock: crate::app::Clock,
) -> Result<Parts, String> {
    let from = format!("{} <nieuwsbrief@postbode.example>", catalogue.site.author.replace(['<', '>', '"'], ""));
    let store: Arc<dyn crate::store::Store> = Arc::new(local_store(data)?);
    // SES's mailbox simulator addresses get the events SES would publish, handled at once.
    let mailer = crate::app::simulator::MailboxSimulator {
        inner: Arc::new(local_mailer(data)?),
        store: store.clone(),
        breaker: crate::config::breaker_from_env().map_err(|e| e.to_string())?,
        clock,
    };
    Ok(Parts {
        store,
        mailer: Arc::new(mailer),
        catalogue: Arc::new(catalogue),
        email: crate::config::email_settings(base_url, &from, None).map_err(|e| e.to_string())?,
        tokens: crate::config::local_token_key(data).map_err(|e| e.to_string())?,
    })
}

/// The app of the local mode, on the data folder.
pub fn local_app(data: &Path, catalogue: Catalogue, base_url: &str) -> Result<App, String> {
    local_app_on(data, catalogue, base_url, crate::app::system_clock())
}

/// [`local_app`] on `clock` (`postbode dev --clock-speed`).
pub fn local_app_on(
    data: &Path,
    catalogue: Catalogue,
    base_url: &str,
    clock: crate::app::Clock,
) -> Result<App, String> {
    let settings = Settings { clock: clock.clone(), ..settings_from_env().map_err(|e| e.to_string())? };
    Ok(local_parts(data, catalogue, base_url, clock)?.app(settings))
}

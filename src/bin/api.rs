//! The `api` Lambda: the HTTP router behind API Gateway.

use std::sync::Arc;

use postbode::config::ApiConfig;
use postbode::http::{App, DEFAULT_CONFIRM_TTL, router};
use postbode::mail::ses::SesMailer;
use postbode::store::dynamodb::DynamoStore;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    postbode::telemetry::init();
    // Everything is built once per cold start, outside the handler.
    let config = ApiConfig::from_env()?;
    let catalogue = postbode::embedded::catalogue()?;
    let schedule = postbode::schedule::site_schedule(&catalogue, postbode::schedule::DEFAULT_WINDOW_LENGTH);
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let app = App {
        store: Arc::new(DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws), config.table)),
        mailer: Arc::new(SesMailer::new(aws_sdk_sesv2::Client::new(&aws), config.configuration_set)),
        catalogue,
        email: config.email,
        tokens: postbode::config::token_key(&aws).await?,
        clock: Arc::new(jiff::Timestamp::now),
        confirm_cooldown: config.confirm_cooldown,
        caps: config.caps,
        confirm_ttl: DEFAULT_CONFIRM_TTL,
        schedule,
    };
    lambda_http::run(router(Arc::new(app))).await
}

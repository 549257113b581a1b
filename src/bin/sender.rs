//! The `sender` Lambda: invoked by EventBridge Scheduler every few minutes; sends what is due.
//!
//! The schedule passes `{"scheduled_at": "<aws.scheduler.scheduled-time>"}` so a replayed or
//! late invocation is recognised and sends nothing meant for an earlier window.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use lambda_http::lambda_runtime::{self, LambdaEvent, service_fn};
use postbode::config::SenderConfigEnv;
use postbode::jobs::sender::{Run, Sender};
use postbode::mail::ses::SesMailer;
use postbode::store::dynamodb::DynamoStore;

#[derive(serde::Deserialize)]
struct Event {
    scheduled_at: Option<jiff::Timestamp>,
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    postbode::telemetry::init();
    let config = SenderConfigEnv::from_env()?;
    let catalogue = postbode::embedded::catalogue()?;
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let sender = Arc::new(Sender::new(
        Arc::new(DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws), config.table)),
        Arc::new(SesMailer::new(aws_sdk_sesv2::Client::new(&aws), config.configuration_set)),
        &catalogue,
        &config.email,
        postbode::config::token_key(&aws).await?,
        postbode::schedule::DEFAULT_WINDOW_LENGTH,
        config.sender,
    )?);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Event>| {
        let sender = sender.clone();
        async move {
            // The Lambda deadline (ms since the epoch) as an Instant.
            let left = Duration::from_millis(event.context.deadline)
                .saturating_sub(SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default());
            let run = Run {
                now: jiff::Timestamp::now(),
                scheduled_at: event.payload.scheduled_at,
                deadline: Some(Instant::now() + left),
            };
            let report = sender.run(run).await?;
            tracing::info!(report = %serde_json::to_string(&report).unwrap_or_default(), "sender run done");
            Ok::<_, lambda_runtime::Error>(report)
        }
    }))
    .await
}

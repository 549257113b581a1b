//! The four Lambda functions, run by the one binary in `lambda/` (see `template.yaml`).
//!
//! | `Handler` | Trigger | Does |
//! |---|---|---|
//! | `api` | API Gateway HTTP API | the router of [`crate::http`] |
//! | `confirmations` | the table's stream (subscribe intents) | [`crate::app::confirmations`] |
//! | `sender` | EventBridge Scheduler | [`crate::app::sender`] |
//! | `ses-events` | SNS (SES bounces and complaints) | [`crate::app::ses_events`] |
//!
//! Everything a function needs is built once per cold start, before the first Runtime API
//! call, and shared by every invocation of that instance.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use lambda_http::lambda_runtime::{self, LambdaEvent, service_fn};

use crate::app::confirmations::{StreamEvent, handle_stream};
use crate::app::sender::Run;
use crate::app::ses_events::{Breaker, SnsEvent};
use crate::content_io::embedded::EmbeddedFiles;
use crate::store::dynamodb::DynamoStore;

pub type Error = lambda_runtime::Error;

/// Which function this process is: the function's `Handler`, which Lambda passes to a custom
/// runtime as `_HANDLER`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    Api,
    Confirmations,
    Sender,
    SesEvents,
}

impl Function {
    pub const ALL: [(&'static str, Function); 4] = [
        ("api", Function::Api),
        ("confirmations", Function::Confirmations),
        ("sender", Function::Sender),
        ("ses-events", Function::SesEvents),
    ];

    pub fn parse(handler: &str) -> Result<Function, String> {
        Function::ALL.iter().find(|(name, _)| *name == handler).map(|(_, f)| *f).ok_or_else(|| {
            let names: Vec<&str> = Function::ALL.iter().map(|(name, _)| *name).collect();
            format!("the function's Handler is `{handler}`; it must be one of {}", names.join(", "))
        })
    }
}

/// Runs the function named by `_HANDLER` with the content in `files` until Lambda stops it.
pub async fn run(files: EmbeddedFiles) -> Result<(), Error> {
    crate::telemetry::init();
    let function = Function::parse(&std::env::var("_HANDLER").unwrap_or_default())?;
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    match function {
        Function::Api => api(&aws, files).await,
        Function::Confirmations => confirmations(&aws, files).await,
        Function::Sender => sender(&aws, files).await,
        Function::SesEvents => ses_events(&aws).await,
    }
}

/// The HTTP router behind API Gateway.
async fn api(aws: &aws_config::SdkConfig, files: EmbeddedFiles) -> Result<(), Error> {
    let app = crate::startup::lambda_app(aws, crate::content_io::embedded::catalogue(files)?).await?;
    lambda_http::run(crate::http::router(Arc::new(app))).await
}

/// Woken by the table's stream when `POST /subscribe` records an intent; decides and sends the
/// confirmation mail after the reader has their answer.
async fn confirmations(aws: &aws_config::SdkConfig, files: EmbeddedFiles) -> Result<(), Error> {
    let app = Arc::new(crate::startup::lambda_app(aws, crate::content_io::embedded::catalogue(files)?).await?);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<StreamEvent>| {
        let app = app.clone();
        async move {
            let report = handle_stream(&app, &event.payload).await?;
            tracing::info!(report = %serde_json::to_string(&report).unwrap_or_default(), "confirmations handled");
            Ok::<_, Error>(report)
        }
    }))
    .await
}

/// The schedule's input: `{"scheduled_at": "<aws.scheduler.scheduled-time>"}`, so a replayed
/// or late invocation is recognised and sends nothing meant for an earlier window.
#[derive(serde::Deserialize)]
struct SenderEvent {
    scheduled_at: Option<jiff::Timestamp>,
}

/// Subscribe intents a sender run tries again at most (the caps hold confirmation mail to 20
/// an hour: a run never meets more).
const RETRIES_PER_RUN: usize = 100;

/// Invoked by EventBridge Scheduler every few minutes; sends what is due.
async fn sender(aws: &aws_config::SdkConfig, files: EmbeddedFiles) -> Result<(), Error> {
    let config = crate::config::sender_config_from_env()?;
    let catalogue = crate::content_io::embedded::catalogue(files)?;
    let parts = crate::startup::lambda_parts(aws, catalogue).await?;
    let sender = Arc::new(parts.sender(config)?);
    // For the subscribe intents the stream gave up on (see `confirmations::retry_waiting`).
    let confirmations = Arc::new(parts.app(crate::startup::settings_from_env()?));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SenderEvent>| {
        let (sender, confirmations) = (sender.clone(), confirmations.clone());
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
            crate::telemetry::emit_metrics("sender", &report.metrics());
            match crate::app::confirmations::retry_waiting(&confirmations, RETRIES_PER_RUN).await {
                Ok(retried) => tracing::info!(retried = ?retried, "waiting confirmations tried again"),
                Err(e) => tracing::error!(error = %crate::error_chain(&e), "waiting confirmations not read"),
            }
            Ok::<_, Error>(report)
        }
    }))
    .await
}

/// SES bounce and complaint notifications, via SNS.
async fn ses_events(aws: &aws_config::SdkConfig) -> Result<(), Error> {
    let table = std::env::var("POSTBODE_TABLE").map_err(|_| "the environment variable POSTBODE_TABLE is not set")?;
    let breaker = crate::config::breaker_from_env()?;
    let store = Arc::new(crate::startup::dynamo_store(aws, &table));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SnsEvent>| {
        let (store, breaker): (Arc<DynamoStore>, Breaker) = (store.clone(), breaker);
        async move {
            let report =
                crate::app::ses_events::handle(store.as_ref(), &event.payload, &breaker, jiff::Timestamp::now())
                    .await?;
            tracing::info!(report = %serde_json::to_string(&report).unwrap_or_default(), "SES events handled");
            Ok::<_, Error>(report)
        }
    }))
    .await
}

#[cfg(test)]
mod tests {
    use super::Function;

    #[test]
    fn every_handler_name_parses_and_others_are_refused() {
        for (name, function) in Function::ALL {
            assert_eq!(Function::parse(name), Ok(function));
        }
        assert!(Function::parse("bootstrap").unwrap_err().contains("api, confirmations, sender, ses-events"));
    }
}

//! The `ses-events` Lambda: SES bounce and complaint notifications, via SNS.

use std::sync::Arc;

use lambda_http::lambda_runtime::{self, LambdaEvent, service_fn};
use postbode::jobs::ses_events::{Breaker, SnsEvent, handle};
use postbode::store::dynamodb::DynamoStore;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    postbode::telemetry::init();
    let table = std::env::var("POSTBODE_TABLE").map_err(|_| "the environment variable POSTBODE_TABLE is not set")?;
    let breaker = postbode::config::breaker_from_env()?;
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let store = Arc::new(DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws), table));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SnsEvent>| {
        let (store, breaker): (Arc<DynamoStore>, Breaker) = (store.clone(), breaker);
        async move {
            let report = handle(store.as_ref(), &event.payload, &breaker, jiff::Timestamp::now()).await?;
            tracing::info!(report = %serde_json::to_string(&report).unwrap_or_default(), "SES events handled");
            Ok::<_, lambda_runtime::Error>(report)
        }
    }))
    .await
}

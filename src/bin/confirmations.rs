//! The `confirmations` Lambda: woken by the table's stream when `POST /subscribe` records an
//! intent; decides and sends the confirmation mail after the reader has their answer.

use std::sync::Arc;

use lambda_http::lambda_runtime::{self, LambdaEvent, service_fn};
use postbode::jobs::confirmations::{StreamEvent, handle_stream};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    postbode::telemetry::init();
    // Everything is built once per cold start, outside the handler.
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let app = Arc::new(postbode::config::lambda_app(&aws).await?);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<StreamEvent>| {
        let app = app.clone();
        async move {
            let report = handle_stream(&app, &event.payload).await?;
            tracing::info!(report = %serde_json::to_string(&report).unwrap_or_default(), "confirmations handled");
            Ok::<_, lambda_runtime::Error>(report)
        }
    }))
    .await
}

//! The `api` Lambda: the HTTP router behind API Gateway.

use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    postbode::telemetry::init();
    // Everything is built once per cold start, outside the handler.
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let app = postbode::config::lambda_app(&aws).await?;
    lambda_http::run(postbode::http::router(Arc::new(app))).await
}

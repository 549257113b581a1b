//! Logging through `tracing`: JSON lines in Lambda (CloudWatch reads them as structured
//! logs), readable lines locally. `RUST_LOG` sets the level (default `info`).

use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        let _ = builder.json().with_current_span(true).without_time().try_init();
    } else {
        let _ = builder.with_target(false).try_init();
    }
}

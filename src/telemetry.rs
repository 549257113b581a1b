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

/// The namespace of postbode's own CloudWatch metrics: `POSTBODE_METRICS_NAMESPACE`, which the
/// template sets to `postbode/<stack name>` (two stacks in one account never mix), or
/// `postbode`.
pub fn metrics_namespace() -> String {
    std::env::var("POSTBODE_METRICS_NAMESPACE").ok().filter(|n| !n.is_empty()).unwrap_or_else(|| "postbode".into())
}

/// One log line in CloudWatch's embedded metric format: CloudWatch Logs turns it into the
/// metrics `metrics` (all `Count`), in `namespace`, with the one dimension `Function`. The
/// alarms of `template.yaml` watch these; `tests/suite/template.rs` checks that every metric an
/// alarm names is one the code writes.
///
/// ```
/// let line = postbode::telemetry::metrics_line("postbode/test", "sender", &[("SendingPaused", 1.0)], 1_700_000_000_000);
/// assert_eq!(line["SendingPaused"], 1.0);
/// assert_eq!(line["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"], "SendingPaused");
/// ```
pub fn metrics_line(namespace: &str, function: &str, metrics: &[(&str, f64)], at_millis: i64) -> serde_json::Value {
    let mut line = serde_json::Map::new();
    let names: Vec<serde_json::Value> =
        metrics.iter().map(|(name, _)| serde_json::json!({ "Name": name, "Unit": "Count" })).collect();
    line.insert(
        "_aws".into(),
        serde_json::json!({
            "Timestamp": at_millis,
            "CloudWatchMetrics": [{ "Namespace": namespace, "Dimensions": [["Function"]], "Metrics": names }],
        }),
    );
    line.insert("Function".into(), function.into());
    for (name, value) in metrics {
        line.insert((*name).into(), serde_json::json!(value));
    }
    serde_json::Value::Object(line)
}

/// Writes [`metrics_line`] to stdout, where Lambda's log agent picks it up (a JSON line is
/// passed through as it is, not wrapped). Only in Lambda: locally there is no CloudWatch.
pub fn emit_metrics(function: &str, metrics: &[(&str, f64)]) {
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_none() {
        return;
    }
    let line = metrics_line(&metrics_namespace(), function, metrics, jiff::Timestamp::now().as_millisecond());
    println!("{line}");
}

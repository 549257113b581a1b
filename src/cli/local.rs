//! The local mode's commands: `dev` (the whole system on 127.0.0.1) and `send` (one sender
//! pass against the local store).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::{CommandResult, catalogue, runtime};

/// `postbode dev`: the HTTP API, the confirmations worker and the sender, on an embedded store,
/// with mail into DATA/outbox/.
pub struct Dev {
    pub port: u16,
    pub data: PathBuf,
    pub content: PathBuf,
    pub base_url: Option<String>,
    pub send_every: u64,
    pub clock: f64,
    pub no_route_limits: bool,
}

pub fn dev(args: Dev) -> CommandResult {
    let catalogue = catalogue(&args.content)?;
    let base_url = args.base_url.unwrap_or_else(|| format!("http://127.0.0.1:{}", args.port));
    if !(args.clock.is_finite() && args.clock > 0.0) {
        return Err(format!("--clock {} must be a positive number", args.clock).into());
    }
    let options = crate::local::DevOptions {
        port: args.port,
        data: args.data,
        catalogue,
        base_url,
        send_every: std::time::Duration::from_secs(args.send_every.max(1)),
        clock_speed: args.clock,
        route_limits: !args.no_route_limits,
    };
    runtime()?.block_on(crate::local::serve(options))?;
    Ok(ExitCode::SUCCESS)
}

/// `postbode send`: one pass of the sender at `--now`, into the outbox; prints its report.
pub fn send(data: &Path, content: &Path, base_url: &str, now: Option<&str>) -> CommandResult {
    let catalogue = catalogue(content)?;
    let now = super::time_arg("now", now)?;
    let report = runtime()?.block_on(crate::local::send_once(data, catalogue, base_url, now))?;
    println!("{}", serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?);
    Ok(ExitCode::SUCCESS)
}

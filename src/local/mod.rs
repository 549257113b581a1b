//! The local mode: the same router as the `api` Lambda, on 127.0.0.1, with the embedded
//! SQLite store and the `.eml` outbox under one data folder.

pub mod outbox_pages;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use crate::app::App;
use crate::content::Catalogue;

pub struct DevOptions {
    pub port: u16,
    pub data: PathBuf,
    pub catalogue: Catalogue,
    pub base_url: String,
    /// How often the sender runs, in real time.
    pub send_every: std::time::Duration,
    /// How much faster than real time the simulated clock runs (1 = real time).
    pub clock_speed: f64,
    /// Whether the per-route limits apply (off only for load tests).
    pub route_limits: bool,
}

/// A clock that starts now and runs `speed` times faster than real time.
pub fn simulated_clock(speed: f64) -> crate::app::Clock {
    let (start, real) = (jiff::Timestamp::now(), std::time::Instant::now());
    Arc::new(move || {
        let elapsed = real.elapsed().as_secs_f64() * speed;
        start.checked_add(jiff::SignedDuration::from_secs_f64(elapsed)).unwrap_or(start)
    })
}

/// The sender of the local mode, on the app's store and outbox.
fn local_sender(app: &App) -> Result<crate::app::sender::Sender, String> {
    app.parts().sender(crate::app::sender::SenderConfig::default()).map_err(|e| crate::error_chain(&e))
}

/// Serves until Ctrl-C: the router, the outbox pages, and the sender on a timer.
pub async fn serve(options: DevOptions) -> Result<(), String> {
    crate::telemetry::init();
    let clock = simulated_clock(options.clock_speed);
    let app = Arc::new(crate::startup::local_app_on(&options.data, options.catalogue, &options.base_url, clock)?);
    let sender = local_sender(&app)?;
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, options.port));
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    println!("postbode runs on http://{addr}  (Ctrl-C stops it)");
    println!("  the blog:    http://{addr}/  (subscribe with the form on any post)");
    println!("  the outbox:  http://{addr}/_outbox  (every email sent, as the reader sees it)");
    println!("  data:        {}  (subscribers in postbode.sqlite, mails in outbox/)", options.data.display());
    if options.clock_speed != 1.0 {
        println!("  clock:       {}x real time; the sender runs every {:?}", options.clock_speed, options.send_every);
    }
    // The confirmations worker: what `POST /subscribe` recorded, a moment after the answer.
    let worker_app = app.clone();
    let worker = tokio::spawn(async move {
        let mut ticks = tokio::time::interval(std::time::Duration::from_millis(200));
        loop {
            ticks.tick().await;
            if let Err(e) = crate::app::confirmations::drain(&worker_app, 100).await {
                eprintln!("confirmations: {}", crate::error_chain(&e));
            }
        }
    });
    let timer_app = app.clone();
    let send_every = options.send_every;
    let timer = tokio::spawn(async move {
        let mut ticks = tokio::time::interval(send_every);
        loop {
            ticks.tick().await;
            let now = timer_app.now();
            match sender.run(crate::app::sender::Run { now, scheduled_at: None, deadline: None }).await {
                Ok(report) if report.sent > 0 || !report.failed.is_empty() => {
                    println!("sender at {now}: {} sent, {} failed", report.sent, report.failed.len())
                }
                Ok(_) => {}
                Err(e) => eprintln!("sender at {now}: {}", crate::error_chain(&e)),
            }
        }
    });
    let web = local_router(app, options.data.join("outbox"), options.route_limits);
    let served = axum::serve(listener, web.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| format!("the server stopped: {e}"));
    timer.abort();
    worker.abort();
    println!("postbode stopped; everything is kept in {}", options.data.display());
    served
}

/// The router of the local mode: the app's, with the outbox pages and the per-route limits
/// that API Gateway enforces in AWS.
pub fn local_router(app: Arc<App>, outbox: PathBuf, route_limits: bool) -> axum::Router {
    let limiter = route_limits.then(crate::http::route_limits::LocalLimiter::default);
    crate::http::router_with(app, outbox_pages::router(outbox), limiter)
}

/// One sender pass at `now` on the data folder, as `postbode send` and the dev timer run it.
pub async fn send_once(
    data: &std::path::Path,
    catalogue: Catalogue,
    base_url: &str,
    now: jiff::Timestamp,
) -> Result<crate::app::sender::Report, String> {
    let app = crate::startup::local_app(data, catalogue, base_url)?;
    let sender = local_sender(&app)?;
    sender
        .run(crate::app::sender::Run { now, scheduled_at: None, deadline: None })
        .await
        .map_err(|e| crate::error_chain(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_simulated_clock_runs_faster_by_its_factor() {
        let clock = simulated_clock(3600.0);
        let start = clock();
        std::thread::sleep(std::time::Duration::from_millis(50));
        let elapsed = clock().duration_since(start);
        // 50 ms of real time is at least 3 simulated minutes at 3,600×.
        assert!(elapsed >= jiff::SignedDuration::from_secs(180), "{elapsed:?}");
        assert!(elapsed < jiff::SignedDuration::from_hours(2), "{elapsed:?}");
    }
}

//! Sender benchmark: one run over 1,000, 10,000 and 100,000 confirmed subscribers due now,
//! against the embedded SQLite store and a mailer that only counts. Each size runs in a child
//! process of its own, so its peak memory (VmHWM, reset after the list is set up) belongs to
//! the run alone.
//!
//! `cargo bench --bench sender` runs all three sizes; under `cargo test --benches` it runs
//! the smallest only, as a smoke test.

mod common;

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use async_trait::async_trait;
use postbode::app::sender::{Run, SenderConfig};
use postbode::mail::{MailError, Mailer, Outgoing};
use postbode::store::Store;
use postbode::store::sqlite::SqliteStore;

struct CountingMailer(AtomicU64);

#[async_trait]
impl Mailer for CountingMailer {
    async fn send(&self, message: Outgoing<'_>) -> Result<String, MailError> {
        std::hint::black_box(message.mime);
        Ok(self.0.fetch_add(1, Ordering::Relaxed).to_string())
    }
}

fn proc_status(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// User + system CPU seconds of this process.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks: u64 = fields.get(11).and_then(|v| v.parse().ok()).unwrap_or(0)
        + fields.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
    ticks as f64 / 100.0
}

async fn measure(n: usize) {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.path().join("bench.sqlite")).unwrap());
    let now = common::window_now();
    common::add_due_subscribers(&store, n, now).await;
    let mailer = Arc::new(CountingMailer(AtomicU64::new(0)));
    let sender = postbode::app::Parts {
        store,
        mailer: mailer.clone(),
        catalogue: std::sync::Arc::new(Clone::clone(&common::catalogue())),
        email: Clone::clone(&common::settings()),
        tokens: common::tokens(),
    }
    .sender(SenderConfig::default())
    .unwrap();
    // Peak memory from here on belongs to the run.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let (cpu0, wall0) = (cpu_seconds(), Instant::now());
    let report = sender.run(Run { now, scheduled_at: None, deadline: None }).await.unwrap();
    let (cpu, wall) = (cpu_seconds() - cpu0, wall0.elapsed().as_secs_f64());
    assert_eq!(report.sent as usize, n);
    assert_eq!(mailer.0.load(Ordering::Relaxed) as usize, n);
    println!(
        "| {n:>7} | {:>7} | {cpu:>6.2} s | {wall:>6.2} s | {:>8.0} | {:>6.1} MB |",
        report.sent,
        n as f64 / cpu.max(0.01),
        proc_status("VmHWM:") as f64 / 1024.0
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(n) = args.iter().position(|a| a == "--size").and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok())
    {
        tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(measure(n));
        return;
    }
    let sizes: &[usize] = if args.iter().any(|a| a == "--bench") { &[1_000, 10_000, 100_000] } else { &[1_000] };
    println!("| subscribers | sent | CPU | wall | emails per CPU-second | peak memory of the run |");
    println!("|---|---|---|---|---|---|");
    for n in sizes {
        let status = Command::new(&args[0]).args(["--size", &n.to_string()]).status().unwrap();
        assert!(status.success());
    }
}

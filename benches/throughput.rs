//! Sender throughput: how close a run comes to the sending rate SES allows, with a mailer that
//! answers after 40 ms (SES's usual latency) and reports that rate as `MaxSendRate`.
//!
//! `cargo bench --bench throughput` measures, each case in a child process of its own:
//!
//! - achieved / allowed rate at 14, 50 and 100 mails/s for 10,000 subscribers on the embedded
//!   store (real time: about 17 minutes in all);
//! - achieved / allowed rate at 100 mails/s for 1,000 subscribers on DynamoDB Local (needs
//!   `AWS_ENDPOINT_URL_DYNAMODB`, as `infra/test-all` sets it; said so when it is missing);
//! - the time to send one post to 100,000 and to 1,000,000 subscribers at 100 mails/s across
//!   consecutive scheduled runs (every 15 minutes, each stopped 20 s before its 840 s Lambda
//!   timeout), simulated: tokio's clock is paused, so SES's 40 ms and a 5 ms round trip added
//!   to every store call pass in simulated time, and the CPU time of the run does not count.
//!
//! Under `cargo test --benches` it runs small cases (a few seconds) and checks only that
//! every subscriber got the post once; the rate figures come from `cargo bench`.

mod common;

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use jiff::SignedDuration;
use postbode::app::sender::{Run, Sender, SenderConfig};
use postbode::mail::{MailError, Mailer, Outgoing};
use postbode::store::Store;
use postbode::store::sqlite::SqliteStore;
use tokio::time::Instant;

/// Answers every send after `latency`, and says the account allows `rate` mails/s.
struct SlowMailer {
    latency: Duration,
    rate: f64,
    sent: AtomicU64,
    /// When the first and the last send began.
    first_last: std::sync::Mutex<Option<(Instant, Instant)>>,
}

impl SlowMailer {
    fn new(rate: f64) -> SlowMailer {
        SlowMailer { latency: SES_LATENCY, rate, sent: AtomicU64::new(0), first_last: std::sync::Mutex::new(None) }
    }

    /// Sends per second from the first send to the last.
    fn sending_rate(&self) -> f64 {
        let n = self.sent.load(Ordering::Relaxed) as f64;
        let span = self.first_last.lock().unwrap().map_or(0.0, |(first, last)| (last - first).as_secs_f64());
        if span > 0.0 { (n - 1.0) / span } else { 0.0 }
    }
}

#[async_trait]
impl Mailer for SlowMailer {
    async fn send(&self, message: Outgoing<'_>) -> Result<String, MailError> {
        std::hint::black_box(message.mime);
        let now = Instant::now();
        {
            let mut first_last = self.first_last.lock().unwrap();
            let first = first_last.map_or(now, |(first, _)| first);
            *first_last = Some((first, now));
        }
        tokio::time::sleep(self.latency).await;
        Ok(self.sent.fetch_add(1, Ordering::Relaxed).to_string())
    }

    async fn max_send_rate(&self) -> Result<Option<f64>, MailError> {
        Ok(Some(self.rate))
    }
}

const SES_LATENCY: Duration = Duration::from_millis(40);

fn sender(store: Arc<dyn Store>, mailer: Arc<SlowMailer>) -> Sender {
    postbode::app::Parts {
        store,
        mailer,
        catalogue: std::sync::Arc::new(Clone::clone(&common::catalogue())),
        email: Clone::clone(&common::settings()),
        tokens: common::tokens(),
    }
    .sender(SenderConfig { concurrency: concurrency(), ..SenderConfig::default() })
    .unwrap()
}

/// Visits at a time: the sender's default, or `POSTBODE_BENCH_CONCURRENCY` to try others.
fn concurrency() -> usize {
    std::env::var("POSTBODE_BENCH_CONCURRENCY")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(SenderConfig::default().concurrency)
}

/// One run over `n` subscribers due now, in real time.
async fn rate(store_kind: &str, n: usize, allowed: f64) {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = match store_kind {
        "embedded" => Arc::new(SqliteStore::open(&dir.path().join("bench.sqlite")).unwrap()),
        _ => {
            let aws = aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await;
            let client = aws_sdk_dynamodb::Client::new(&aws);
            let table = format!("postbode-bench-{}", uuid::Uuid::new_v4().simple());
            postbode::store::dynamodb::DynamoStore::create_table(&client, &table).await.unwrap();
            Arc::new(postbode::store::dynamodb::DynamoStore::new(client, table))
        }
    };
    let now = common::window_now();
    common::add_due_subscribers(&store, n, now).await;
    let mailer = Arc::new(SlowMailer::new(allowed));
    let sender = sender(store, mailer.clone());
    let started = Instant::now();
    let report = sender.run(Run { now, scheduled_at: None, deadline: None }).await.unwrap();
    let wall = started.elapsed().as_secs_f64();
    assert_eq!((report.sent as usize, mailer.sent.load(Ordering::Relaxed) as usize), (n, n), "{report:?}");
    let (whole, sending) = (n as f64 / wall, mailer.sending_rate());
    println!(
        "| {store_kind} | {n:>9} | {allowed:>5.0}/s | {sending:>7.1}/s | {:>5.1}% | {whole:>7.1}/s ({:.1}%) in {wall:.1} s |",
        100.0 * sending / allowed,
        100.0 * whole / allowed
    );
}

/// Consecutive scheduled runs until `n` subscribers have the post, on a paused clock.
async fn simulate(n: usize, allowed: f64) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.sqlite");
    let setup: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).unwrap());
    let start = common::window_now();
    common::add_due_subscribers(&setup, n, start).await;
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).unwrap().with_latency(Duration::from_millis(5)));
    let mailer = Arc::new(SlowMailer::new(allowed));
    let sender = sender(store, mailer.clone());
    let (began, cpu) = (Instant::now(), std::time::Instant::now());
    let mut runs = 0;
    let mut last_end = began;
    while (mailer.sent.load(Ordering::Relaxed) as usize) < n {
        let scheduled = began + Duration::from_secs(15 * 60 * runs);
        tokio::time::sleep_until(scheduled).await;
        let now = start.checked_add(SignedDuration::from_secs(15 * 60 * runs as i64)).unwrap();
        let deadline = (Instant::now() + Duration::from_secs(840)).into_std();
        sender.run(Run { now, scheduled_at: Some(now), deadline: Some(deadline) }).await.unwrap();
        last_end = Instant::now();
        runs += 1;
        assert!(runs < 200, "more than 200 runs for {n} subscribers");
    }
    assert_eq!(mailer.sent.load(Ordering::Relaxed) as usize, n);
    let simulated = (last_end - began).as_secs_f64();
    println!(
        "| {n:>9} | {allowed:>5.0}/s | {runs:>4} | {:>2}h {:>2}m | {:>6.1}/s | {:>6.0} s |",
        (simulated / 3600.0) as u64,
        ((simulated % 3600.0) / 60.0) as u64,
        n as f64 / simulated,
        cpu.elapsed().as_secs_f64()
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    if let (Some(kind), Some(n), Some(allowed)) = (arg("--child"), arg("--size"), arg("--rate")) {
        let (n, allowed): (usize, f64) = (n.parse().unwrap(), allowed.parse().unwrap());
        if kind == "simulate" {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build();
            runtime.unwrap().block_on(simulate(n, allowed));
        } else {
            tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(rate(&kind, n, allowed));
        }
        return;
    }
    let full = args.iter().any(|a| a == "--bench");
    let child = |kind: &str, n: usize, rate: f64| {
        let status = Command::new(&args[0])
            .args(["--child", kind, "--size", &n.to_string(), "--rate", &rate.to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "{kind} {n} at {rate}/s failed");
    };
    println!("Real time, SES answering after 40 ms, {} visits at a time:\n", concurrency());
    println!(
        "| store | subscribers | allowed | first to last send | of allowed | whole run, set-up of the run included |"
    );
    println!("|---|---|---|---|---|---|");
    let (embedded, dynamo) = if full { (10_000, 1_000) } else { (300, 200) };
    for rate in [14.0, 50.0, 100.0] {
        if full || rate == 100.0 {
            child("embedded", embedded, rate);
        }
    }
    if std::env::var_os("AWS_ENDPOINT_URL_DYNAMODB").is_some() {
        child("dynamodb-local", dynamo, 100.0);
    } else {
        println!(
            "| dynamodb-local | not measured: AWS_ENDPOINT_URL_DYNAMODB is not set (infra/test-all starts DynamoDB Local) |"
        );
    }
    println!(
        "\nSimulated (paused clock; 5 ms per store call, 40 ms per SES call; runs every 15 minutes, 820 s each):\n"
    );
    println!("| subscribers | allowed | runs | until the last is sent | overall | CPU of the simulation |");
    println!("|---|---|---|---|---|---|");
    for n in if full { vec![100_000, 1_000_000] } else { vec![2_000] } {
        child("simulate", n, 100.0);
    }
}

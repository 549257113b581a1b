//! Subscribe timing: does the answer to `POST /subscribe` take as long for a known address as
//! for a new one? (If not, timing tells who is subscribed.) Interleaved requests for a
//! confirmed address and for new addresses through the real router on the local mode's SQLite
//! file; reports median and p95 of each and fails when the medians differ by 20 % or more.
//!
//! A process of its own (`cargo bench --bench subscribe_timing`, and once in CI under
//! `cargo test --benches`), so parallel tests do not disturb the clock.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use postbode::content_io::load_catalogue;
use postbode::subscribers::caps::Caps;
use postbode::subscribers::{Evidence, Status, SubscribeOutcome, SubscriberEmail};
use tower::ServiceExt;

const ROUNDS: usize = 200;
const WARM_UP: usize = 20;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let data = tempfile::tempdir().unwrap();
    let catalogue = load_catalogue(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("content")).unwrap();
    let mut app = postbode::startup::local_app(data.path(), catalogue, "http://127.0.0.1:3000").unwrap();
    // Caps out of the way: what is measured is the work of an accepted request.
    app.settings.caps = Caps::all(u32::MAX);
    // A confirmed subscriber: the known address.
    let known = SubscriberEmail::parse("bekend@example.nl").unwrap();
    let now = jiff::Timestamp::now();
    let SubscribeOutcome::SendConfirmation(subscriber) =
        postbode::subscribers::subscribe(None, &known, None, &Evidence::default(), now, jiff::SignedDuration::ZERO)
    else {
        unreachable!("a new address is always to be confirmed")
    };
    let mut subscriber = *subscriber;
    subscriber.status = Status::Confirmed;
    app.store.insert_subscriber(&subscriber, subscriber.created_at).await.unwrap();
    let router = postbode::http::router(Arc::new(app));

    let post = |email: String| {
        let mut request = Request::builder()
            .method("POST")
            .uri("/subscribe")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(format!("email={}", email.replace('@', "%40"))))
            .unwrap();
        request.extensions_mut().insert(ConnectInfo(SocketAddr::from(([192, 0, 2, 1], 1))));
        let router = router.clone();
        async move {
            let started = Instant::now();
            let response = router.oneshot(request).await.unwrap();
            assert_eq!(response.status(), 200);
            started.elapsed()
        }
    };
    let (mut known_times, mut new_times) = (Vec::new(), Vec::new());
    for i in 0..WARM_UP + ROUNDS {
        let k = post(known.as_str().to_owned()).await;
        let n = post(format!("nieuw{i}@example.nl")).await;
        if i >= WARM_UP {
            known_times.push(k);
            new_times.push(n);
        }
    }
    known_times.sort();
    new_times.sort();
    let (k50, n50) = (percentile(&known_times, 0.5), percentile(&new_times, 0.5));
    let ratio = k50.max(n50).as_secs_f64() / k50.min(n50).as_secs_f64();
    println!("| address | requests | median | p95 |");
    println!("|---|---|---|---|");
    println!("| known (confirmed) | {ROUNDS} | {k50:.2?} | {:.2?} |", percentile(&known_times, 0.95));
    println!("| new | {ROUNDS} | {n50:.2?} | {:.2?} |", percentile(&new_times, 0.95));
    println!("ratio of medians: {ratio:.3} (must stay under 1.2)");
    if ratio >= 1.2 {
        eprintln!("the answer's timing tells known from new addresses");
        std::process::exit(1);
    }
}

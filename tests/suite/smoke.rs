//! `postbode smoke URL`: passes against `postbode dev`, fails against a server that is not
//! postbode and against a postbode whose mails link to another address, naming what is wrong.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::StatusCode;
use axum::response::IntoResponse;

use crate::helpers::{stderr, stdout};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn wait_for(port: u16) {
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < Duration::from_secs(20), "nothing listens on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `postbode dev` on a free loopback port, stopped when dropped.
struct Dev {
    child: Child,
    port: u16,
    _data: tempfile::TempDir,
}

impl Dev {
    fn start(extra: &[&str]) -> Dev {
        let data = tempfile::tempdir().unwrap();
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_postbode"))
            .args(["dev", "--port", &port.to_string(), "--data", data.path().to_str().unwrap(), "--send-every", "3600"])
            .args(extra)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_for(port);
        Dev { child, port, _data: data }
    }
}

impl Drop for Dev {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn smoke(url: String) -> Output {
    tokio::task::spawn_blocking(move || crate::helpers::postbode(&["smoke", &url])).await.unwrap()
}

/// Every check smoke runs but `https` (not applicable on loopback), by name.
const CHECKS: [&str; 9] =
    ["health", "home page", "post page", "share card", "feed", "sitemap", "privacy", "security headers", "unsubscribe"];

fn line<'a>(out: &'a str, check: &str) -> &'a str {
    out.lines()
        .find(|l| l.split_whitespace().skip(1).collect::<Vec<_>>().join(" ").starts_with(check))
        .unwrap_or_else(|| panic!("no line for {check} in:\n{out}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn smoke_passes_against_postbode_dev() {
    let dev = Dev::start(&[]);
    let out = smoke(format!("http://127.0.0.1:{}", dev.port)).await;
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    for check in CHECKS {
        assert!(line(&text, check).starts_with("ok "), "{check}:\n{text}");
    }
    // HTTPS cannot be shown on a loopback address, and the output says so instead of passing it.
    assert!(line(&text, "https").starts_with("n/a "), "{text}");
    assert!(line(&text, "health").contains(&format!("http://127.0.0.1:{}", dev.port)));
    assert!(line(&text, "post page").contains("/posts/leiderschap-en-vertrouwen"));
    assert!(line(&text, "sitemap").contains("/posts/leiderschap-en-vertrouwen</loc>"), "{text}");
    assert!(text.contains("9 of 9 checks passed"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn smoke_fails_when_mails_would_link_to_another_address() {
    // What the old template did: links on the author's site, which this stack does not serve.
    let dev = Dev::start(&["--base-url", "https://www.voorbeeld.nl"]);
    let out = smoke(format!("http://127.0.0.1:{}", dev.port)).await;
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let health = line(&text, "health");
    assert!(health.starts_with("FAIL"), "{text}");
    assert!(health.contains("builds the links in its mails on https://www.voorbeeld.nl"), "{health}");
    // The page's own address and the sitemap follow the links: wrong the same way.
    for check in ["share card", "sitemap"] {
        assert!(line(&text, check).starts_with("FAIL"), "{check}: {text}");
    }
    assert!(text.contains("3 of 9 checks failed"), "{text}");
}

/// A server that is not postbode: any other website, answering every address with its page.
async fn other_site(answer: StatusCode) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new().fallback(move || async move {
        (
            answer,
            [("content-type", "text/html")],
            "<!DOCTYPE html><html lang=\"nl\"><title>Welkom</title><p>Mijn website</p>",
        )
            .into_response()
    });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

#[tokio::test(flavor = "multi_thread")]
async fn smoke_fails_against_a_site_that_is_not_postbode_and_says_what_is_wrong() {
    for status in [StatusCode::OK, StatusCode::NOT_FOUND] {
        let addr = other_site(status).await;
        let out = smoke(format!("http://{addr}")).await;
        let text = stdout(&out);
        assert_eq!(out.status.code(), Some(1), "{text}");
        for check in CHECKS {
            assert!(line(&text, check).starts_with("FAIL"), "{status}: {check}:\n{text}");
        }
        assert!(line(&text, "unsubscribe").contains("unsubscribe links would not work here"), "{text}");
        assert!(text.contains("9 of 9 checks failed"), "{text}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn smoke_explains_an_address_where_nothing_listens() {
    let port = free_port();
    let out = smoke(format!("http://127.0.0.1:{port}")).await;
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(line(&text, "health").contains(&format!("http://127.0.0.1:{port}/health")), "{text}");
    // Anything but https (loopback aside) is refused before a single request.
    let out = smoke("http://www.voorbeeld.nl".into()).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("must be an https:// address"), "{}", stderr(&out));
}

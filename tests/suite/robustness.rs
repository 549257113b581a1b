//! Property tests: arbitrary methods, paths, headers and bodies (form, JSON, multipart, huge,
//! malformed UTF-8) thrown at the router never get a 5xx (the store and mailer are up), never
//! panic, and never leave a record that is wrong. Plus the mailbox folding behind the caps.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request};
use proptest::prelude::*;
use tower::ServiceExt;

use postbode::store::Store;
use postbode::store::sqlite::SqliteStore;
use postbode::subscribers::caps::Caps;
use postbode::subscribers::{MAX_CONSENT_RECORDS, SubscriberEmail, is_hidden_or_control};

use crate::test_app::TestApp;

const PATHS: [&str; 12] = [
    "/subscribe",
    "/confirm/",
    "/unsubscribe/",
    "/whitepaper/",
    "/posts/",
    "/",
    "/feed.xml",
    "/privacy",
    "/health",
    "/assets/site.css",
    "/_outbox",
    "/%ZZ",
];

const CONTENT_TYPES: [&str; 8] = [
    "application/x-www-form-urlencoded",
    "application/json",
    "multipart/form-data; boundary=x",
    "text/plain",
    "application/json; charset=utf-16",
    "application/x-www-form-urlencoded; charset=latin1",
    "",
    "\u{7f}garbage",
];

fn method() -> impl Strategy<Value = Method> {
    prop_oneof![
        Just(Method::GET),
        Just(Method::POST),
        Just(Method::PUT),
        Just(Method::DELETE),
        Just(Method::OPTIONS),
        Just(Method::HEAD),
        Just(Method::PATCH),
        "[A-Z]{1,12}".prop_map(|m| Method::from_bytes(m.as_bytes()).unwrap()),
    ]
}

/// Text a hostile form may carry: anything printable, hidden characters, long runs.
fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,80}",
        "[a-z.+]{1,20}@[a-z]{1,10}\\.(nl|com)",
        Just("a".repeat(5000)),
        "[\u{0}-\u{1f}\u{202a}-\u{202e}\u{2066}-\u{2069}\u{200b}\u{feff}a-z]{0,40}",
    ]
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..600),
        (field(), field(), field(), field()).prop_map(|(email, name, source, honeypot)| {
            serde_urlencoded::to_string([
                ("email", email),
                ("first_name", name),
                ("source_url", source),
                ("website", honeypot),
            ])
            .unwrap()
            .into_bytes()
        }),
        (field(), field()).prop_map(|(email, name)| {
            serde_json::json!({ "email": email, "first_name": name, "extra": [1, {"x": null}] })
                .to_string()
                .into_bytes()
        }),
        Just(b"--x\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\nmp@example.nl\r\n--x--\r\n".to_vec()),
        (1usize..4).prop_map(|n| vec![b'a'; n * 20_000]),
        Just(vec![0xff, 0xfe, b'e', b'm', 0xc3, 0x28]),
    ]
}

fn request() -> impl Strategy<Value = (Method, String, &'static str, Vec<u8>, String)> {
    let suffix = prop_oneof![Just(String::new()), "[ -~]{0,30}"];
    let anything = (
        method(),
        proptest::sample::select(PATHS.to_vec()),
        suffix,
        proptest::sample::select(CONTENT_TYPES.to_vec()),
        body(),
        "[ -~]{0,80}",
    )
        .prop_map(|(m, path, suffix, ct, body, agent)| {
            let suffix: String = url::form_urlencoded::byte_serialize(suffix.as_bytes()).collect();
            (m, format!("{path}{suffix}"), ct, body, agent)
        });
    // Half the requests are shaped like a subscribe, so the paths that store are exercised.
    let subscribe_shaped = (proptest::sample::select(CONTENT_TYPES[..2].to_vec()), body(), "[ -~]{0,80}")
        .prop_map(|(ct, body, agent)| (Method::POST, "/subscribe".to_owned(), ct, body, agent));
    prop_oneof![anything, subscribe_shaped]
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn no_request_gets_a_5xx_or_leaves_a_wrong_record(requests in proptest::collection::vec(request(), 1..6)) {
        let rt = runtime();
        rt.block_on(async {
            let caps = Caps { mailbox_per_hour: 50, mailbox_per_day: 50, ..Caps::all(500) };
            let store: Arc<dyn Store> = Arc::new(SqliteStore::in_memory().unwrap());
            let app = TestApp::with_caps(store.clone(), caps);
            for (method, path, content_type, body, agent) in requests {
                let mut builder = Request::builder().method(method.clone()).uri(path.as_str());
                if !content_type.is_empty() {
                    builder = builder.header("content-type", content_type);
                }
                if let Ok(value) = axum::http::HeaderValue::from_str(&agent) {
                    builder = builder.header("user-agent", value);
                }
                let Ok(mut request) = builder.body(Body::from(body)) else { continue };
                request.extensions_mut().insert(axum::extract::ConnectInfo(std::net::SocketAddr::from(([192, 0, 2, 1], 1))));
                let response = app.router.clone().oneshot(request).await.unwrap();
                prop_assert!(response.status().as_u16() < 500, "{method} {path} ({content_type}) → {}", response.status());
            }
            // Whatever was stored is a clean, bounded, mailable record.
            for subscriber in store.all_subscribers().await.unwrap() {
                let reparsed = SubscriberEmail::parse(subscriber.email.as_str());
                prop_assert_eq!(reparsed.as_ref(), Ok(&subscriber.email));
                if let Some(name) = &subscriber.first_name {
                    prop_assert!(!name.chars().any(is_hidden_or_control) && name.chars().count() <= 60, "{name:?}");
                    prop_assert!(!name.is_empty());
                }
                prop_assert!(subscriber.consent.len() <= MAX_CONSENT_RECORDS);
                for record in &subscriber.consent {
                    prop_assert!(record.source_url.as_deref().is_none_or(|u| u.starts_with("http") && !u.chars().any(is_hidden_or_control)));
                }
            }
            Ok(())
        })?;
    }

    /// Every way of writing one Gmail mailbox folds to one key; other domains keep their dots.
    #[test]
    fn mailbox_variants_fold_together(local in "[a-z][a-z0-9]{2,12}", dots in proptest::collection::vec(1usize..12, 0..4), tag in "[a-z0-9]{0,8}", upper in any::<bool>(), googlemail in any::<bool>()) {
        let base = SubscriberEmail::parse(&format!("{local}@gmail.com")).unwrap().mailbox();
        let mut dotted = local.clone();
        for at in dots {
            if at < dotted.len() && !dotted[..at].ends_with('.') && !dotted[at..].starts_with('.') {
                dotted.insert(at, '.');
            }
        }
        let domain = if googlemail { "googlemail.com" } else { "gmail.com" };
        let mut variant = if tag.is_empty() { format!("{dotted}@{domain}") } else { format!("{dotted}+{tag}@{domain}") };
        if upper {
            variant = variant.to_uppercase();
        }
        prop_assert_eq!(SubscriberEmail::parse(&variant).unwrap().mailbox(), base);
        let elsewhere = SubscriberEmail::parse(&format!("{dotted}+{tag}@example.nl")).unwrap().mailbox();
        prop_assert_eq!(elsewhere, format!("{dotted}@example.nl"));
    }
}

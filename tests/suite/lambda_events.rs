//! The Lambda path: API Gateway HTTP API (payload 2.0) events, as JSON fixtures, through
//! `lambda_http`'s request types into the same router.

use axum::http::StatusCode;
use http_body_util::BodyExt;
use postbode::subscribers::{Status, SubscriberEmail};
use tower::ServiceExt;

use crate::helpers::repo_path;
use crate::test_app::{TestApp, TestResponse};

/// Sends the fixture `name` (with `{{path}}` filled in) through the router, as Lambda does.
async fn invoke(app: &TestApp, name: &str, path: &str) -> TestResponse {
    let json =
        std::fs::read_to_string(repo_path(&format!("tests/fixtures/apigw/{name}"))).unwrap().replace("{{path}}", path);
    let request = lambda_http::request::from_str(&json).expect("a valid API Gateway v2 event");
    let response = app.router.clone().oneshot(request).await.unwrap();
    // What the confirmations Lambda does a moment later, woken by the table's stream.
    app.work_off_intents().await;
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    TestResponse { status, headers, body: String::from_utf8_lossy(&body).into_owned() }
}

#[tokio::test]
async fn the_flow_through_api_gateway_events() {
    let app = TestApp::spawn().await;
    assert_eq!(invoke(&app, "health.json", "").await.status, StatusCode::OK);

    // A form POST with a base64-encoded body.
    let subscribed = invoke(&app, "subscribe-form-base64.json", "").await;
    assert_eq!(subscribed.status, StatusCode::OK, "{}", subscribed.body);
    assert!(subscribed.body.contains("Kijk in je mailbox"));
    let email = SubscriberEmail::parse("lambda@example.nl").unwrap();
    let stored = app.store.subscriber_by_email(&email).await.unwrap().unwrap();
    assert_eq!(stored.status, Status::Pending);
    // The consent record has API Gateway's source IP and the browser's user agent.
    assert_eq!(stored.consent[0].ip.as_deref(), Some("198.51.100.23"));
    assert!(stored.consent[0].user_agent.as_deref().unwrap().contains("iPhone"));
    assert_eq!(stored.first_name.as_deref(), Some("Lotte"));

    let confirm = app.emails_tagged("confirm")[0].path("/confirm/");
    let page = invoke(&app, "confirm-get.json", &confirm).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<form method=\"post\">"));
    assert_eq!(app.store.subscriber_by_email(&email).await.unwrap().unwrap().status, Status::Pending);

    for _ in 0..2 {
        assert_eq!(invoke(&app, "confirm-post.json", &confirm).await.status, StatusCode::OK);
    }
    assert_eq!(app.store.subscriber_by_email(&email).await.unwrap().unwrap().status, Status::Confirmed);
    let welcome = app.emails_tagged("welcome");
    assert_eq!(welcome.len(), 1);

    let out = invoke(&app, "unsubscribe-one-click.json", &welcome[0].path("/unsubscribe/")).await;
    assert_eq!(out.status, StatusCode::OK);
    assert!(out.headers.get("location").is_none());
    assert_eq!(app.store.subscriber_by_email(&email).await.unwrap().unwrap().status, Status::Unsubscribed);
}

#[tokio::test]
async fn a_json_subscribe_event_gets_json() {
    let app = TestApp::spawn().await;
    let response = invoke(&app, "subscribe-json.json", "").await;
    assert_eq!(response.status, StatusCode::OK);
    let json: serde_json::Value = serde_json::from_str(&response.body).unwrap();
    assert_eq!(json["status"], "ok");
    assert_eq!(app.emails_tagged("confirm").len(), 1);
}

/// A processed image asked for through API Gateway: `lambda_http` hands it back as binary
/// (which it sends base64-encoded, with `isBase64Encoded: true`, as API Gateway requires),
/// in its type and with its cache header.
#[tokio::test]
async fn images_leave_the_lambda_as_binary() {
    let app = TestApp::spawn().await;
    let header = app.app.catalogue.pictures.get("beelden/PLAATSAANDUIDING-leiderschap-en-vertrouwen.jpg").unwrap();
    for variant in header.variants.iter().chain(header.share.as_ref()) {
        let json = std::fs::read_to_string(repo_path("tests/fixtures/apigw/confirm-get.json"))
            .unwrap()
            .replace("{{path}}", &variant.path);
        let request = lambda_http::request::from_str(&json).expect("a valid API Gateway v2 event");
        let response = app.router.clone().oneshot(request).await.unwrap();
        let converted = lambda_http::IntoResponse::into_response(response).await;
        assert_eq!(converted.status(), StatusCode::OK, "{}", variant.path);
        assert_eq!(converted.headers()["content-type"], variant.format.mime());
        assert_eq!(converted.headers()["cache-control"], "public, max-age=31536000, immutable");
        match converted.body() {
            lambda_http::Body::Binary(bytes) => assert_eq!(bytes[..], variant.bytes[..], "{}", variant.path),
            other => panic!("{} leaves as {other:?}, not binary", variant.path),
        }
    }
}

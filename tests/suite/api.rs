//! The subscription flow through the router: double opt-in, consent proof, one-click
//! unsubscribe, and every bad input.

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use jiff::SignedDuration;
use postbode::render::letters::CONFIRM_BUTTON;
use postbode::store::sqlite::SqliteStore;
use postbode::subscribers::caps::Caps;
use postbode::subscribers::{ConsentAction, Status, SubscriberEmail, Welcome};
use postbode::tokens::Purpose;

use crate::test_app::TestApp;

async fn status_of(app: &TestApp, email: &str) -> Option<Status> {
    app.stored(email).await.map(|s| s.status)
}

#[tokio::test]
async fn the_whole_double_opt_in_flow() {
    whole_flow(TestApp::spawn().await).await;
}

#[tokio::test]
async fn the_whole_double_opt_in_flow_on_dynamodb() {
    whole_flow(TestApp::with_store(Arc::new(crate::aws::dynamo_store().await.0))).await;
}

/// Two (and more) subscribe calls for one address at the same moment, against DynamoDB
/// Local: one subscriber, one confirmation mail, the same answer for all.
#[tokio::test]
async fn concurrent_subscribes_on_dynamodb_leave_one_subscriber_and_one_mail() {
    // Caps off for this one: it is about the store's race, not about the caps.
    let caps = Caps { mailbox_per_hour: 100, mailbox_per_day: 100, ..Caps::default() };
    let app = Arc::new(TestApp::with_caps(Arc::new(crate::aws::dynamo_store().await.0), caps));
    let calls: Vec<_> = (0..4)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move { app.subscribe("race@example.nl").await })
        })
        .collect();
    for call in calls {
        let response = call.await.unwrap();
        assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    }
    assert_eq!(app.emails_tagged("confirm").len(), 1);
    assert_eq!(status_of(&app, "race@example.nl").await, Some(Status::Pending));
}

async fn whole_flow(app: TestApp) {
    // Subscribe: pending, one confirmation mail.
    let response = app.subscribe("Anna@Example.nl").await;
    assert_eq!(response.status, StatusCode::OK);
    assert!(response.body.contains("Kijk in je mailbox"));
    assert_eq!(status_of(&app, "anna@example.nl").await, Some(Status::Pending));
    let confirmations = app.emails_tagged("confirm");
    assert_eq!(confirmations.len(), 1);
    assert_eq!(confirmations[0].to, "anna@example.nl");
    assert_eq!(confirmations[0].subject, "Bevestig je aanmelding");
    let confirm = confirmations[0].path("/confirm/");
    assert!(confirmations[0].html.contains(&format!("href=\"{}\"", confirmations[0].link("/confirm/"))));
    assert!(!confirm.contains('@') && !confirm.to_lowercase().contains("anna"), "no address in the link: {confirm}");

    // GET shows a button and changes nothing (mail scanners follow links). The page goes on
    // where the mail left off: the mail's words, the mail's button.
    let page = app.get(&confirm).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<form method=\"post\">") && page.body.contains("Nog één klik"), "{}", page.body);
    assert!(page.body.contains(CONFIRM_BUTTON) && confirmations[0].html.contains(CONFIRM_BUTTON));
    assert_eq!(status_of(&app, "anna@example.nl").await, Some(Status::Pending));
    assert!(app.emails_tagged("welcome").is_empty());

    // POST confirms; exactly one welcome mail with the whitepaper link.
    let done = app.post_form(&confirm, "").await;
    assert_eq!(done.status, StatusCode::OK);
    assert!(done.body.contains("Gelukt"));
    assert_eq!(status_of(&app, "anna@example.nl").await, Some(Status::Confirmed));
    let welcome = app.emails_tagged("welcome");
    assert_eq!(welcome.len(), 1);
    assert!(welcome[0].text.contains("Open de whitepaper:\nhttp"), "{}", welcome[0].text);

    // Pressing again: success again, no second welcome.
    for _ in 0..3 {
        let again = app.post_form(&confirm, "").await;
        assert_eq!(again.status, StatusCode::OK);
        assert!(again.body.contains("Gelukt"));
    }
    assert_eq!(app.emails_tagged("welcome").len(), 1);

    // The whitepaper link works for the confirmed subscriber.
    let download = app.get(&welcome[0].path("/whitepaper/")).await;
    assert_eq!(download.status, StatusCode::OK);
    assert_eq!(download.headers["content-type"], "application/pdf");
    assert!(download.body.starts_with("%PDF-") && download.body.contains("PLAATSAANDUIDING"));

    // One-click unsubscribe (RFC 8058): POST with the form body, 200, no redirect.
    let unsubscribe = welcome[0].path("/unsubscribe/");
    let out = app.post_form(&unsubscribe, "List-Unsubscribe=One-Click").await;
    assert_eq!(out.status, StatusCode::OK);
    assert!(out.headers.get("location").is_none());
    assert!(out.body.contains("Je bent afgemeld"));
    assert_eq!(status_of(&app, "anna@example.nl").await, Some(Status::Unsubscribed));
    // Again: success again.
    assert_eq!(app.post_form(&unsubscribe, "List-Unsubscribe=One-Click").await.status, StatusCode::OK);
    // The whitepaper is for confirmed subscribers only.
    assert_eq!(app.get(&welcome[0].path("/whitepaper/")).await.status, StatusCode::FORBIDDEN);

    // The consent proof: subscribe, confirm and unsubscribe with time, IP, agent, source, text version.
    let stored =
        app.store.subscriber_by_email(&SubscriberEmail::parse("anna@example.nl").unwrap()).await.unwrap().unwrap();
    let actions: Vec<ConsentAction> = stored.consent.iter().map(|c| c.action).collect();
    assert_eq!(actions, [ConsentAction::Subscribe, ConsentAction::Confirm, ConsentAction::Unsubscribe]);
    let subscribe = &stored.consent[0];
    assert_eq!(subscribe.ip.as_deref(), Some("192.0.2.7"));
    assert_eq!(subscribe.user_agent.as_deref(), Some("TestBrowser/1.0"));
    assert_eq!(subscribe.source_url.as_deref(), Some("https://postbode.example/posts/leiderschap-en-vertrouwen"));
    assert_eq!(subscribe.consent_text_version.len(), 16);
    assert!(matches!(stored.welcome, Welcome::Sent { .. }));
    assert_eq!(stored.first_name.as_deref(), Some("Anna"));

    // Subscribing again later works: a new confirmation mail, and nothing changes until it is
    // confirmed (anyone can type the address); the welcome is not repeated.
    app.advance(SignedDuration::from_hours(2));
    assert_eq!(app.subscribe("anna@example.nl").await.status, StatusCode::OK);
    assert_eq!(status_of(&app, "anna@example.nl").await, Some(Status::Unsubscribed));
    let confirmations = app.emails_tagged("confirm");
    assert_eq!(confirmations.len(), 2);
    assert_eq!(app.post_form(&confirmations[1].path("/confirm/"), "").await.status, StatusCode::OK);
    assert_eq!(status_of(&app, "anna@example.nl").await, Some(Status::Confirmed));
    assert_eq!(app.emails_tagged("welcome").len(), 1);
}

#[tokio::test]
async fn the_unsubscribe_page_asks_first() {
    let app = TestApp::spawn().await;
    app.subscribe("bob@example.nl").await;
    let confirmation = &app.emails_tagged("confirm")[0];
    let page = app.get(&confirmation.path("/unsubscribe/")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<form method=\"post\">"));
    assert_eq!(status_of(&app, "bob@example.nl").await, Some(Status::Pending));
    // A multipart one-click body is fine too.
    let multipart = "--x\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--x--\r\n";
    let out = app
        .request(Method::POST, &confirmation.path("/unsubscribe/"), Some("multipart/form-data; boundary=x"), multipart)
        .await;
    assert_eq!(out.status, StatusCode::OK);
    assert_eq!(status_of(&app, "bob@example.nl").await, Some(Status::Unsubscribed));
}

#[tokio::test]
async fn the_answer_is_the_same_for_new_and_known_addresses() {
    // The caps answer alike for every address (tests/suite/front_door.rs); here, below them,
    // so is everything else.
    let caps = Caps { mailbox_per_hour: 100, mailbox_per_day: 100, ..Caps::default() };
    let app = TestApp::with_caps(Arc::new(SqliteStore::in_memory().unwrap()), caps);
    let new = app.subscribe("c@example.nl").await;
    let pending = app.subscribe("c@example.nl").await;
    app.post_form(&app.emails_tagged("confirm")[0].path("/confirm/"), "").await;
    let confirmed = app.subscribe("c@example.nl").await;
    for response in [&pending, &confirmed] {
        assert_eq!((response.status, &response.body), (new.status, &new.body));
    }
    let json_new = app.post_json("/subscribe", r#"{"email":"d@example.nl"}"#).await;
    let json_known = app.post_json("/subscribe", r#"{"email":"c@example.nl"}"#).await;
    assert_eq!(json_new.status, StatusCode::OK);
    assert_eq!((json_new.status, json_new.body.clone()), (json_known.status, json_known.body));
    assert!(json_new.headers["content-type"].to_str().unwrap().starts_with("application/json"));
}

#[tokio::test]
async fn the_honeypot_stores_and_sends_nothing() {
    let app = TestApp::spawn().await;
    let human = app.subscribe("e@example.nl").await;
    let bot = app.post_form("/subscribe", "email=bot%40example.nl&website=http%3A%2F%2Fspam.example").await;
    assert_eq!((bot.status, &bot.body), (human.status, &human.body));
    assert_eq!(status_of(&app, "bot@example.nl").await, None);
    assert_eq!(app.emails().len(), 1);
}

/// Below the caps, the stored cooldown still keeps to one confirmation mail per hour.
#[tokio::test]
async fn one_confirmation_mail_per_cooldown() {
    let caps = Caps { mailbox_per_hour: 100, mailbox_per_day: 100, ..Caps::default() };
    let app = TestApp::with_caps(Arc::new(SqliteStore::in_memory().unwrap()), caps);
    for _ in 0..5 {
        assert_eq!(app.subscribe("f@example.nl").await.status, StatusCode::OK);
    }
    assert_eq!(app.emails_tagged("confirm").len(), 1);
    app.advance(SignedDuration::from_mins(59));
    app.subscribe("f@example.nl").await;
    assert_eq!(app.emails_tagged("confirm").len(), 1);
    app.advance(SignedDuration::from_mins(2));
    app.subscribe("f@example.nl").await;
    assert_eq!(app.emails_tagged("confirm").len(), 2);
}

#[tokio::test]
async fn bad_input_gets_a_dutch_4xx_and_never_a_500() {
    let app = TestApp::spawn().await;
    let cases: Vec<(&str, Option<&str>, String, StatusCode)> = vec![
        (
            "invalid address",
            Some("application/x-www-form-urlencoded"),
            "email=geen-adres".into(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        ("empty form", Some("application/x-www-form-urlencoded"), String::new(), StatusCode::UNPROCESSABLE_ENTITY),
        (
            "malformed form",
            Some("application/x-www-form-urlencoded"),
            "email=a%40b.nl&email=c%40d.nl".into(),
            StatusCode::BAD_REQUEST,
        ),
        ("malformed JSON", Some("application/json"), "{\"email\":".into(), StatusCode::BAD_REQUEST),
        ("JSON of the wrong shape", Some("application/json"), "[1,2]".into(), StatusCode::BAD_REQUEST),
        ("wrong content type", Some("text/plain"), "email=a@b.nl".into(), StatusCode::UNSUPPORTED_MEDIA_TYPE),
        ("no content type", None, "email=a@b.nl".into(), StatusCode::UNSUPPORTED_MEDIA_TYPE),
        (
            "oversized body",
            Some("application/x-www-form-urlencoded"),
            format!("email=a@b.nl&x={}", "a".repeat(20_000)),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
    ];
    for (what, content_type, body, expected) in cases {
        let response = app.request(Method::POST, "/subscribe", content_type, body).await;
        assert_eq!(response.status, expected, "{what}: {}", response.body);
        if content_type == Some("application/json") {
            let json: serde_json::Value = serde_json::from_str(&response.body).unwrap();
            assert!(!json["error"].as_str().unwrap().is_empty(), "{what}: a message for the reader");
        } else {
            assert!(response.body.contains("<html lang=\"nl\">"), "{what}: {}", response.body);
        }
    }
    assert!(app.emails().is_empty());
    assert_eq!(app.get("/bestaat-niet").await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.request(Method::DELETE, "/subscribe", None, "").await.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn tampered_foreign_expired_and_unknown_tokens_are_refused() {
    let app = TestApp::spawn().await;
    app.subscribe("g@example.nl").await;
    let mail = &app.emails_tagged("confirm")[0];
    let confirm = mail.path("/confirm/");
    let token = confirm.trim_start_matches("/confirm/").to_owned();

    let tampered = crate::helpers::tampered(&token);
    for method in [Method::GET, Method::POST] {
        let r = app.request(method.clone(), &format!("/confirm/{tampered}"), None, "").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{method}");
        assert!(r.body.contains("Deze link werkt niet") && r.body.contains("aanmeldformulier"), "{}", r.body);
        assert_eq!(app.request(method, "/confirm/niet-eens-base64!", None, "").await.status, StatusCode::BAD_REQUEST);
    }
    // A token for another purpose: the unsubscribe token does not confirm.
    let unsubscribe_token = mail.path("/unsubscribe/").trim_start_matches("/unsubscribe/").to_owned();
    assert_eq!(app.post_form(&format!("/confirm/{unsubscribe_token}"), "").await.status, StatusCode::BAD_REQUEST);
    assert_eq!(app.post_form(&format!("/unsubscribe/{token}"), "").await.status, StatusCode::BAD_REQUEST);
    assert_eq!(status_of(&app, "g@example.nl").await, Some(Status::Pending));

    // A broken unsubscribe link says how to unsubscribe anyway.
    let r = app.post_form(&format!("/unsubscribe/{tampered}"), "").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("Deze afmeldlink werkt niet") && r.body.contains("dan meld ik je af"), "{}", r.body);

    // A validly signed link whose subscriber is gone (erased): unsubscribing answers that they
    // are unsubscribed, page and RFC 8058 one-click alike; other links say how to come back.
    let gone = postbode::subscribers::SubscriberId::random();
    let stranger = app.tokens.sign(Purpose::Unsubscribe, &gone, 1, app.now());
    for r in [
        app.get(&format!("/unsubscribe/{stranger}")).await,
        app.post_form(&format!("/unsubscribe/{stranger}"), "").await,
        app.post_form(&format!("/unsubscribe/{stranger}"), "List-Unsubscribe=One-Click").await,
    ] {
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("Je bent afgemeld"), "{}", r.body);
    }
    let gone_confirm = app.tokens.sign(Purpose::Confirm, &gone, 1, app.now());
    let r = app.get(&format!("/confirm/{gone_confirm}")).await;
    assert_eq!(r.status, StatusCode::GONE);
    assert!(r.body.contains("Deze aanmelding bestaat niet meer") && r.body.contains("verwijderd"), "{}", r.body);
    assert!(
        r.body.contains("<a href=\"/privacy\">Mijn privacyverklaring</a>") && r.body.contains("href=\"/#aanmelden\""),
        "the page links what it names"
    );

    // Expired: a confirmation link works for 7 days; the page says how to get a new one.
    app.advance(SignedDuration::from_hours(24 * 7 + 1));
    let r = app.post_form(&confirm, "").await;
    assert_eq!(r.status, StatusCode::GONE);
    assert!(r.body.contains("verlopen") && r.body.contains("nieuwe bevestigingsmail"), "{}", r.body);
    assert_eq!(status_of(&app, "g@example.nl").await, Some(Status::Pending));
    // The unsubscribe link never expires, and keeps working after the other links of the
    // subscriber were revoked (a raised token version): leaving never fails on an old mail.
    let email = postbode::subscribers::SubscriberEmail::parse("g@example.nl").unwrap();
    let mut revoked = app.store.subscriber_by_email(&email).await.unwrap().unwrap();
    revoked.token_version += 1;
    app.store.update_subscriber(&revoked).await.unwrap();
    assert_eq!(app.post_form(&mail.path("/unsubscribe/"), "").await.status, StatusCode::OK);
    assert_eq!(status_of(&app, "g@example.nl").await, Some(Status::Unsubscribed));
}

#[tokio::test]
async fn pages_carry_security_headers() {
    let app = TestApp::spawn().await;
    let r = app.get("/health").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers["x-content-type-options"], "nosniff");
    assert_eq!(r.headers["referrer-policy"], "no-referrer");
    assert!(!r.headers["content-security-policy"].to_str().unwrap().contains("script-src"));
}

/// A confirmed reader who fills in the form again (the whitepaper lost, say) gets a short mail
/// with the whitepaper link again; the answer on the page is the one everybody gets, and the
/// stored cooldown keeps it to one such mail in 30 days (a stranger can cause it too).
#[tokio::test]
async fn a_confirmed_reader_who_subscribes_again_gets_the_whitepaper_link_again() {
    let app = TestApp::with_caps(
        std::sync::Arc::new(postbode::store::sqlite::SqliteStore::in_memory().unwrap()),
        postbode::subscribers::caps::Caps::all(100),
    );
    let first = app.subscribe("h@example.nl").await;
    app.post_form(&app.emails_tagged("confirm")[0].path("/confirm/"), "").await;
    app.advance(SignedDuration::from_hours(24 * 31));
    let again = app.subscribe("h@example.nl").await;
    assert_eq!((again.status, &again.body), (first.status, &first.body), "the same answer as for anyone");
    let reminders = app.emails_tagged("already");
    assert_eq!(reminders.len(), 1);
    assert_eq!(reminders[0].subject, "Je bent al aangemeld");
    let words = reminders[0].text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(words.contains("maar je bent al aangemeld"), "{words}");
    assert_eq!(app.get(&reminders[0].path("/whitepaper/")).await.status, StatusCode::OK);
    // Within 30 days: nothing more.
    app.advance(SignedDuration::from_hours(24 * 29));
    app.subscribe("h@example.nl").await;
    assert_eq!(app.emails_tagged("already").len(), 1);
    assert_eq!(app.emails_tagged("confirm").len(), 1, "never a second confirmation");
}

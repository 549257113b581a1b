//! The subscribe form is not a mail cannon: caps per mailbox (variants folded), per client
//! network and in all, whose answer never depends on the address's state; no text a stranger
//! typed in a mail before confirmation. On SQLite and on DynamoDB Local.

use std::sync::Arc;

use axum::http::StatusCode;
use jiff::SignedDuration;
use postbode::store::sqlite::SqliteStore;
use postbode::store::{Store, Subscribers};
use postbode::subscribers::caps::Caps;

use crate::test_app::TestApp;

fn sqlite() -> Arc<dyn Store> {
    Arc::new(SqliteStore::in_memory().unwrap())
}

async fn dynamodb() -> Arc<dyn Store> {
    Arc::new(crate::aws::dynamo_store().await.0)
}

const TOO_MANY: StatusCode = StatusCode::TOO_MANY_REQUESTS;

/// One mailbox, many spellings: one confirmation mail an hour, three a day.
async fn mailbox_caps(store: Arc<dyn Store>) {
    let app = TestApp::with_store(store);
    let variants = [
        "victim@gmail.com",
        "v.ictim@gmail.com",
        "victim+1@gmail.com",
        "vic.tim+win500@googlemail.com",
        "VICTIM@GMAIL.COM",
    ];
    let answers: Vec<StatusCode> = {
        let mut out = Vec::new();
        for (i, v) in variants.iter().enumerate() {
            app.set_client(&format!("198.51.100.{i}"));
            out.push(app.subscribe(v).await.status);
        }
        out
    };
    assert_eq!(answers, [StatusCode::OK, TOO_MANY, TOO_MANY, TOO_MANY, TOO_MANY]);
    assert_eq!(app.emails_tagged("confirm").len(), 1, "7 variants used to mean 7 mails");
    // Another mailbox is not affected.
    assert_eq!(app.subscribe("someone.else@gmail.com").await.status, StatusCode::OK);
    // Per day: an hour later one more, up to three in the UTC day.
    app.advance(SignedDuration::from_mins(61));
    assert_eq!(app.subscribe("victim+2@gmail.com").await.status, StatusCode::OK);
    app.advance(SignedDuration::from_mins(61));
    assert_eq!(app.subscribe("victim@gmail.com").await.status, StatusCode::OK);
    app.advance(SignedDuration::from_mins(61));
    assert_eq!(app.subscribe("victim@gmail.com").await.status, TOO_MANY, "the fourth in one day");
}

#[tokio::test]
async fn one_mailbox_gets_one_confirmation_an_hour_and_three_a_day() {
    mailbox_caps(sqlite()).await;
}

#[tokio::test]
async fn one_mailbox_gets_one_confirmation_an_hour_and_three_a_day_on_dynamodb() {
    mailbox_caps(dynamodb().await).await;
}

/// One client: ten an hour, whatever the addresses; IPv6 counts by the /64.
async fn client_caps(store: Arc<dyn Store>) {
    let app = TestApp::with_store(store);
    app.set_client("2001:db8:7:7::1");
    for i in 0..10 {
        app.set_client(&format!("2001:db8:7:7::{:x}", i + 1));
        assert_eq!(app.subscribe(&format!("lezer{i}@example.nl")).await.status, StatusCode::OK, "{i}");
    }
    app.set_client("2001:db8:7:7:ffff::1");
    assert_eq!(app.subscribe("lezer10@example.nl").await.status, TOO_MANY, "same /64");
    app.set_client("2001:db8:7:8::1");
    assert_eq!(app.subscribe("lezer11@example.nl").await.status, StatusCode::OK, "another /64");
    assert_eq!(app.emails_tagged("confirm").len(), 11);
    app.advance(SignedDuration::from_hours(1));
    app.set_client("2001:db8:7:7::1");
    assert_eq!(app.subscribe("lezer12@example.nl").await.status, StatusCode::OK, "the next hour");
}

#[tokio::test]
async fn one_client_gets_ten_an_hour() {
    client_caps(sqlite()).await;
}

#[tokio::test]
async fn one_client_gets_ten_an_hour_on_dynamodb() {
    client_caps(dynamodb().await).await;
}

/// Everyone together: the global cap (5 here, 20 an hour by default) stops a spread-out attack.
async fn global_cap(store: Arc<dyn Store>) {
    let caps = Caps { global_per_hour: 5, ..Caps::default() };
    let app = TestApp::with_caps(store, caps);
    for i in 0..5 {
        app.set_client(&format!("203.0.113.{i}"));
        assert_eq!(app.subscribe(&format!("a{i}@example.nl")).await.status, StatusCode::OK);
    }
    app.set_client("203.0.113.99");
    assert_eq!(app.subscribe("a99@example.nl").await.status, TOO_MANY);
    assert_eq!(app.emails_tagged("confirm").len(), 5);
}

#[tokio::test]
async fn the_global_cap_holds() {
    global_cap(sqlite()).await;
}

#[tokio::test]
async fn the_global_cap_holds_on_dynamodb() {
    global_cap(dynamodb().await).await;
}

/// Over a cap, known and unknown addresses get the same Dutch answer, as page and as JSON.
#[tokio::test]
async fn over_a_cap_the_answer_does_not_tell_who_is_subscribed() {
    let caps = Caps { client_per_hour: 2, ..Caps::default() };
    let app = TestApp::with_caps(sqlite(), caps);
    app.subscribe("bekend@example.nl").await;
    app.post_form(&app.emails_tagged("confirm")[0].path("/confirm/"), "").await;
    app.subscribe("ander@example.nl").await;
    let known = app.subscribe("bekend@example.nl").await;
    let unknown = app.subscribe("nieuw@example.nl").await;
    assert_eq!(known.status, TOO_MANY);
    assert_eq!((known.status, &known.body), (unknown.status, &unknown.body));
    assert!(known.body.contains("<h1>Even geduld</h1>"), "{}", known.body);
    assert!(known.body.contains("probeer het dan over een uur opnieuw"), "{}", known.body);
    assert!(!known.body.contains("adres"), "the answer does not blame the reader's address");
    let json_known = app.post_json("/subscribe", r#"{"email":"bekend@example.nl"}"#).await;
    let json_unknown = app.post_json("/subscribe", r#"{"email":"nieuw2@example.nl"}"#).await;
    assert_eq!((json_known.status, &json_known.body), (json_unknown.status, &json_unknown.body));
    assert!(json_known.body.contains("probeer het dan over een uur opnieuw"));
}

/// Nothing a stranger typed reaches a mail before the owner of the address confirmed: no
/// first name in the confirmation mail or its `To:`; the welcome mail greets by name.
#[tokio::test]
async fn the_confirmation_mail_carries_nothing_a_stranger_typed() {
    let app = TestApp::spawn().await;
    let form = "email=anna%40example.nl&first_name=Win+%E2%82%AC500%3A+https%3A%2F%2Fspam.example";
    assert_eq!(app.post_form("/subscribe", form).await.status, StatusCode::OK);
    let raw = std::fs::read(app.outbox.path().join(&app.emails_tagged("confirm")[0].file)).unwrap();
    let text = String::from_utf8_lossy(&raw);
    assert!(!text.contains("Win") && !text.contains("spam.example") && !text.contains("=E2=82=AC500"), "{text}");
    let message = mail_parser::MessageParser::default().parse(&raw).unwrap();
    let to = message.to().unwrap().first().unwrap();
    assert_eq!((to.name(), to.address()), (None, Some("anna@example.nl")));
    app.post_form(&app.emails_tagged("confirm")[0].path("/confirm/"), "").await;
    assert!(app.emails_tagged("welcome")[0].text.contains("Hoi Win €500"), "the name is used from the welcome on");
}

/// The caps are read from the environment, alike by the Lambda and `postbode dev`.
#[test]
fn caps_are_configured_through_the_environment() {
    let env = |pairs: &'static [(&str, &str)]| {
        move |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned())
    };
    assert_eq!(postbode::config::caps_from(env(&[])).unwrap(), Caps::default());
    let caps = postbode::config::caps_from(env(&[
        ("POSTBODE_CAP_MAILBOX_PER_HOUR", "2"),
        ("POSTBODE_CAP_MAILBOX_PER_DAY", "5"),
        ("POSTBODE_CAP_CLIENT_PER_HOUR", "20"),
        ("POSTBODE_CAP_NETWORK_PER_HOUR", "40"),
        ("POSTBODE_CAP_GLOBAL_PER_HOUR", "500"),
        ("POSTBODE_CAP_GLOBAL_PER_DAY", "900"),
    ]))
    .unwrap();
    let expected = Caps {
        mailbox_per_hour: 2,
        mailbox_per_day: 5,
        client_per_hour: 20,
        network_per_hour: 40,
        global_per_hour: 500,
        global_per_day: 900,
    };
    assert_eq!(caps, expected);
    let bad = postbode::config::caps_from(env(&[("POSTBODE_CAP_GLOBAL_PER_HOUR", "0")])).unwrap_err();
    assert!(
        bad.to_string().contains("POSTBODE_CAP_GLOBAL_PER_HOUR `0` is not valid: give a whole number from 1"),
        "{bad}"
    );
}

/// Names and source pages lose control, format and bidi characters on the way in.
#[tokio::test]
async fn names_and_source_pages_are_cleaned_of_hidden_characters() {
    let app = TestApp::with_site(|site| site.form_origins = vec!["https://www.voorbeeld.nl".into()]);
    let form = serde_urlencoded::to_string([
        ("email", "anna@example.nl"),
        ("first_name", "An\u{200b}na\u{202e}lanoisseforp\u{1b}[31m\u{feff}"),
        ("source_url", "https://www.voorbeeld.nl/\u{202e}pagina\u{2066}"),
    ])
    .unwrap();
    app.post_form("/subscribe", &form).await;
    let stored = app.stored("anna@example.nl").await.unwrap();
    assert_eq!(stored.first_name.as_deref(), Some("Annalanoisseforp[31m"));
    assert_eq!(stored.consent[0].source_url.as_deref(), Some("https://www.voorbeeld.nl/pagina"));
}

/// Operator output shows what older records hold without letting it act on the terminal.
#[tokio::test]
async fn operator_output_is_safe_to_print_in_a_terminal() {
    let data = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&data.path().join("postbode.sqlite")).unwrap();
    let mut s = crate::store_contract::subscriber("oud@example.nl");
    s.first_name = Some("Oud\u{202e}dlorah\u{1b}]0;pwned\u{7}".into());
    s.consent[0].user_agent = Some("Agent\u{1b}[2J".into());
    store.insert_subscriber(&s, s.created_at).await.unwrap();
    let dir = data.path().to_str().unwrap().to_owned();
    for args in [
        vec!["subscribers", "list", "--local"],
        vec!["subscribers", "show", "oud@example.nl", "--local"],
        vec!["subscribers", "export", "oud@example.nl", "--local"],
    ] {
        let dir = dir.clone();
        let out = tokio::task::spawn_blocking(move || {
            let mut args = args.clone();
            args.push(&dir);
            crate::helpers::postbode(&args)
        })
        .await
        .unwrap();
        let text = crate::helpers::stdout(&out);
        assert!(out.status.success(), "{text}");
        for hidden in ['\u{202e}', '\u{1b}', '\u{7}'] {
            assert!(!text.contains(hidden), "{hidden:?} printed raw:\n{text}");
        }
        if text.starts_with('{') {
            // The export is still exact JSON: the escapes decode to the stored name.
            let json: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(json["subscriber"]["first_name"], "Oud\u{202e}dlorah\u{1b}]0;pwned\u{7}");
        } else {
            assert!(text.contains("Oud\\u{202e}dlorah\\u{1b}]0;pwned\\u{7}"), "{text}");
        }
    }
}

/// 250 re-subscribes of one address (caps and cooldown out of the way, with the longest user
/// agent and page kept) leave a record of a few KB that still confirms and unsubscribes.
async fn records_stay_bounded(store: Arc<dyn Store>) {
    let caps = Caps::all(1000);
    let app = TestApp::with_caps(store, caps);
    let page = format!("https://www.voorbeeld.nl/{}", "x".repeat(3000));
    let agent = "A".repeat(3000);
    for _ in 0..250 {
        let form = serde_urlencoded::to_string([("email", "groei@example.nl"), ("source_url", page.as_str())]).unwrap();
        app.request_with(
            axum::http::Method::POST,
            "/subscribe",
            Some("application/x-www-form-urlencoded"),
            &[("user-agent", agent.as_str())],
            form,
        )
        .await;
        app.advance(SignedDuration::from_mins(61));
    }
    let email = postbode::subscribers::SubscriberEmail::parse("groei@example.nl").unwrap();
    let stored = app.store.subscriber_by_email(&email).await.unwrap().unwrap();
    let size = serde_json::to_vec(&stored).unwrap().len();
    assert!(size < 6 * 1024, "{size} bytes");
    // Requests are kept apart from the proof (it holds the owner's steps), the newest few.
    assert_eq!(stored.consent.len(), 1);
    assert_eq!(stored.requests.len(), postbode::subscribers::MAX_REQUESTS);
    // Still works: confirm (the newest link), then unsubscribe.
    let confirm = app.emails_tagged("confirm").last().unwrap().path("/confirm/");
    assert_eq!(app.post_form(&confirm, "").await.status, StatusCode::OK);
    let unsubscribe = app.emails_tagged("welcome")[0].path("/unsubscribe/");
    assert_eq!(app.post_form(&unsubscribe, "List-Unsubscribe=One-Click").await.status, StatusCode::OK);
    let stored = app.store.subscriber_by_email(&email).await.unwrap().unwrap();
    let actions: Vec<_> = stored.consent.iter().map(|c| c.action).collect();
    use postbode::subscribers::ConsentAction::*;
    // The first request (it made the record), the one confirmed, the confirm, the withdrawal.
    assert_eq!(actions, [Subscribe, Subscribe, Confirm, Unsubscribe], "the consent in force is kept");
}

#[tokio::test]
async fn records_stay_bounded_whatever_anyone_submits() {
    records_stay_bounded(sqlite()).await;
}

#[tokio::test]
async fn records_stay_bounded_whatever_anyone_submits_on_dynamodb() {
    records_stay_bounded(dynamodb().await).await;
}

/// `postbode dev` limits each route apart, as API Gateway does in AWS: a flood of subscribes
/// gets 429s while one-click unsubscribe and the blog still answer.
#[tokio::test]
async fn a_flood_of_subscribes_does_not_stop_unsubscribe_or_the_blog_locally() {
    let data = tempfile::tempdir().unwrap();
    let app =
        postbode::startup::local_app(data.path(), crate::helpers::seed_catalogue(), "http://127.0.0.1:3000").unwrap();
    let router = postbode::local::local_router(Arc::new(app), data.path().join("outbox"), true);
    let call = |method: &'static str, path: &'static str, body: &'static str| {
        crate::helpers::form_request(router.clone(), method, path, body, [192, 0, 2, 9])
    };
    let mut refused = 0;
    for _ in 0..40 {
        if call("POST", "/subscribe", "email=ongeldig").await.status() == TOO_MANY {
            refused += 1;
        }
    }
    assert!(refused >= 25, "{refused} of 40 refused");
    let unsubscribe = call("POST", "/unsubscribe/ongeldig", "List-Unsubscribe=One-Click").await;
    assert_eq!(unsubscribe.status(), StatusCode::BAD_REQUEST, "postbode's own answer, not a 429");
    assert_eq!(call("GET", "/", "").await.status(), StatusCode::OK);
    let page = call("POST", "/subscribe", "email=ongeldig").await;
    assert_eq!(page.status(), TOO_MANY);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8", "a Dutch page in the site's frame");
}

/// Every mail counts in the breaker's denominator: the confirmation on its own ledger, the
/// welcome on the new readers' (the sender and test sends count theirs too).
#[tokio::test]
async fn every_mail_sent_is_counted_on_its_ledger() {
    counted_on_ledgers(sqlite()).await;
}

#[tokio::test]
async fn every_mail_sent_is_counted_on_its_ledger_on_dynamodb() {
    counted_on_ledgers(dynamodb().await).await;
}

async fn counted_on_ledgers(store: Arc<dyn Store>) {
    use postbode::store::{DayStats, Ledger};
    let app = TestApp::with_store(store);
    app.subscribe("anna@example.nl").await;
    app.post_form(&app.emails_tagged("confirm")[0].path("/confirm/"), "").await;
    let today = app.now().to_zoned(jiff::tz::TimeZone::UTC).date();
    let one = DayStats { sent: 1, ..DayStats::default() };
    assert_eq!(app.store.stats(Ledger::Confirmation, today, today).await.unwrap(), one);
    assert_eq!(app.store.stats(Ledger::NewReaders, today, today).await.unwrap(), one);
    assert_eq!(app.store.stats(Ledger::List, today, today).await.unwrap(), DayStats::default());
}

/// While the list's sending is paused, confirmation mails are capped tightly too.
#[tokio::test]
async fn while_paused_confirmation_mails_are_capped_tightly() {
    paused_caps(sqlite()).await;
}

#[tokio::test]
async fn while_paused_confirmation_mails_are_capped_tightly_on_dynamodb() {
    paused_caps(dynamodb().await).await;
}

async fn paused_caps(store: Arc<dyn Store>) {
    use postbode::app::ses_events::PAUSED_CONFIRMATIONS_PER_HOUR;
    let app = TestApp::with_store(store);
    let pause = postbode::store::Pause { since: app.now(), reason: "bounce rate".into() };
    app.store
        .set_sending_state(&postbode::store::SendingState { paused: Some(pause), ..Default::default() })
        .await
        .unwrap();
    let mut answers = Vec::new();
    for i in 0..=PAUSED_CONFIRMATIONS_PER_HOUR {
        app.set_client(&format!("198.51.100.{i}"));
        answers.push(app.subscribe(&format!("p{i}@example.nl")).await.status);
    }
    assert_eq!(answers.iter().filter(|s| **s == StatusCode::OK).count() as u32, PAUSED_CONFIRMATIONS_PER_HOUR);
    assert_eq!(answers.last(), Some(&TOO_MANY));
}

/// An erased address stays suppressed when someone POSTs it again; its owner confirming lifts
/// the suppression.
async fn suppressed_until_confirmed(store: Arc<dyn Store>) {
    let app = TestApp::with_store(store);
    app.subscribe("weg@example.nl").await;
    let email = postbode::subscribers::SubscriberEmail::parse("weg@example.nl").unwrap();
    postbode::app::operator::erase(app.store.as_ref(), app.app.mailer.as_ref(), &app.tokens, &email, app.now())
        .await
        .unwrap();
    let suppressed = || postbode::app::operator::is_suppressed(app.store.as_ref(), &app.tokens, &email);
    assert!(suppressed().await.unwrap());
    app.advance(SignedDuration::from_hours(2));
    assert_eq!(app.subscribe("weg@example.nl").await.status, StatusCode::OK);
    assert!(suppressed().await.unwrap(), "a POST alone lifts nothing");
    let confirm = app.emails_tagged("confirm").last().unwrap().path("/confirm/");
    assert_eq!(app.get(&confirm).await.status, StatusCode::OK);
    assert!(suppressed().await.unwrap(), "nor does looking at the confirm page");
    assert_eq!(app.post_form(&confirm, "").await.status, StatusCode::OK);
    assert!(!suppressed().await.unwrap(), "confirming does");
}

#[tokio::test]
async fn an_erased_address_stays_suppressed_until_its_owner_confirms() {
    suppressed_until_confirmed(sqlite()).await;
}

#[tokio::test]
async fn an_erased_address_stays_suppressed_until_its_owner_confirms_on_dynamodb() {
    suppressed_until_confirmed(dynamodb().await).await;
}

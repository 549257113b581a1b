//! The operator's commands against DynamoDB Local and the SES API server (moto), through the
//! `postbode` binary as an operator runs them.

use std::sync::Arc;

use postbode::app::sender::Run;
use postbode::subscribers::SubscriberEmail;

use crate::helpers::{SEED_SLUG, seed_catalogue, settings};
use crate::test_app::TestApp;

const SECRET: &str = "test secret of thirty-two bytes or more";

/// Runs `postbode ARGS --table TABLE` with the stack's secret in the environment.
fn operator(table: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_postbode"))
        .args(args)
        .args(["--table", table])
        .env("POSTBODE_TOKEN_SECRET", SECRET)
        .env_remove("POSTBODE_TOKEN_SECRET_PARAMETER")
        .output()
        .unwrap()
}

fn text(out: &std::process::Output) -> String {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn list_show_export_stats_and_erase_on_dynamodb() {
    let (store, _, table) = crate::aws::dynamo_store().await;
    let store = Arc::new(store);
    let app = TestApp::with_store(store.clone());
    // Anna subscribes, confirms and gets post 1 from the sender; Bob stays pending.
    app.subscribe("anna@example.nl").await;
    app.post_form(&app.emails_tagged("confirm")[0].path("/confirm/"), "").await;
    app.subscribe("bob@example.nl").await;
    let outbox = tempfile::tempdir().unwrap();
    let sender = postbode::app::Parts {
        store: store.clone(),
        mailer: Arc::new(postbode::mail::outbox::OutboxMailer::new(outbox.path()).unwrap()),
        catalogue: std::sync::Arc::new(Clone::clone(&seed_catalogue())),
        email: Clone::clone(&settings()),
        tokens: postbode::tokens::TokenKey::new(SECRET.as_bytes().to_vec()).unwrap(),
    }
    .sender(Default::default())
    .unwrap();
    // Tuesday 1 December 2026, 10:30 in Amsterdam: the window is open and Anna is due.
    let report = sender
        .run(Run { now: "2026-12-01T09:30:00Z".parse().unwrap(), scheduled_at: None, deadline: None })
        .await
        .unwrap();
    assert_eq!(report.sent, 1);

    let list = text(&operator(&table, &["subscribers", "list"]));
    assert!(
        list.contains("confirmed") && list.contains("anna@example.nl") && list.contains("bob@example.nl"),
        "{list}"
    );
    assert!(list.ends_with("2 subscriber(s)\n"));
    let pending = text(&operator(&table, &["subscribers", "list", "--status", "pending"]));
    assert!(!pending.contains("anna@") && pending.contains("bob@"));

    let show = text(&operator(&table, &["subscribers", "show", "Anna@Example.nl"]));
    assert!(show.contains("Subscribe at") && show.contains("Confirm at") && show.contains("192.0.2.7"), "{show}");
    assert!(show.contains(SEED_SLUG), "{show}");

    let export: serde_json::Value =
        serde_json::from_str(&text(&operator(&table, &["subscribers", "export", "anna@example.nl"]))).unwrap();
    assert_eq!(export["subscriber"]["email"], "anna@example.nl");
    assert_eq!(export["subscriber"]["consent"].as_array().unwrap().len(), 2);
    assert_eq!(export["subscriber"]["consent"][0]["user_agent"], "TestBrowser/1.0");
    assert_eq!(export["sends"][0]["slug"], SEED_SLUG);
    assert_eq!(export["sends"][0]["state"], "sent");

    let both: serde_json::Value = serde_json::from_str(&text(&operator(&table, &["stats", "--json"]))).unwrap();
    let stats = &both["now"];
    assert_eq!(stats["subscribers"]["confirmed"], 1);
    assert_eq!(stats["subscribers"]["pending"], 1);
    assert_eq!(stats["sends_per_post"][SEED_SLUG], 1);
    // (The run above is dated 1 December 2026; the rates cover the 7 days up to the real today.)
    assert!(stats["last_7_days"]["sent"].is_u64() && stats["bounce_rate_percent"].is_f64());

    // Erase: everything about Anna goes; her address hash stays suppressed.
    let erased = text(&operator(&table, &["subscribers", "erase", "anna@example.nl"]));
    assert!(erased.starts_with("erased anna@example.nl"));
    let anna = SubscriberEmail::parse("anna@example.nl").unwrap();
    assert!(app.store.subscriber_by_email(&anna).await.unwrap().is_none());
    assert!(!operator(&table, &["subscribers", "export", "anna@example.nl"]).status.success());
    let tokens = postbode::tokens::TokenKey::new(SECRET.as_bytes().to_vec()).unwrap();
    assert!(postbode::app::operator::is_suppressed(app.store.as_ref(), &tokens, &anna).await.unwrap());
    // Nothing of her remains in the table but the hash.
    let client = crate::aws::dynamodb().await;
    let scan = client.scan().table_name(&table).send().await.unwrap();
    for item in scan.items() {
        let dump = format!("{item:?}");
        assert!(!dump.contains("anna"), "{dump}");
    }
    // The test send refuses a suppressed address.
    let refused = operator(
        &table,
        &[
            "send-test",
            SEED_SLUG,
            "--to",
            "anna@example.nl",
            "--base-url",
            "https://postbode.example",
            "--from",
            "René <nieuwsbrief@postbode.example>",
        ],
    );
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("suppression list"));
    // An anonymous POST does not lift the suppression (anyone can type the address); the
    // person confirming a new subscription does.
    app.advance(jiff::SignedDuration::from_hours(2));
    assert_eq!(app.subscribe("anna@example.nl").await.status.as_u16(), 200);
    assert!(app.store.subscriber_by_email(&anna).await.unwrap().is_some());
    assert!(postbode::app::operator::is_suppressed(app.store.as_ref(), &tokens, &anna).await.unwrap());
    let confirm = app.emails_tagged("confirm").last().unwrap().path("/confirm/");
    assert_eq!(app.post_form(&confirm, "").await.status.as_u16(), 200);
    assert!(!postbode::app::operator::is_suppressed(app.store.as_ref(), &tokens, &anna).await.unwrap());
}

#[tokio::test]
async fn send_test_goes_through_the_ses_api() {
    let (_, _, table) = crate::aws::dynamo_store().await;
    crate::aws::verified_sesv2().await;
    let to = format!("test-{}@postbode.example", uuid::Uuid::new_v4().simple());
    let out = operator(
        &table,
        &[
            "send-test",
            SEED_SLUG,
            "--to",
            &to,
            "--base-url",
            "https://postbode.example",
            "--from",
            "René Rensen <nieuwsbrief@postbode.example>",
        ],
    );
    assert!(text(&out).starts_with("sent `Leiderschap en vertrouwen`"));
    let found = crate::aws::ses_raw_messages().await.iter().filter(|raw| raw.contains(&to)).count();
    assert_eq!(found, 1);
}

#[tokio::test]
async fn sending_status_and_resume_on_dynamodb() {
    let (store, _, table) = crate::aws::dynamo_store().await;
    assert_eq!(text(&operator(&table, &["sending", "status"])).trim(), "sending is on");
    let pause = postbode::store::Pause {
        since: "2026-12-01T09:00:00Z".parse().unwrap(),
        reason: "complaint rate 0.150%".into(),
    };
    postbode::store::Counters::set_sending_state(
        &store,
        &postbode::store::SendingState { paused: Some(pause), ..Default::default() },
    )
    .await
    .unwrap();
    assert!(
        text(&operator(&table, &["sending", "status"]))
            .starts_with("paused since 2026-12-01T09:00:00Z: complaint rate 0.150%")
    );
    assert!(text(&operator(&table, &["sending", "resume"])).starts_with("resumed"));
    assert!(postbode::store::Counters::sending_state(&store).await.unwrap().paused.is_none());

    // An account-level error noted by the sender, and the dead-letter queue's count (moto's
    // SQS), next to the pause; resume does not touch the problem (the next sending run does).
    let problem = postbode::store::Pause {
        since: "2026-12-01T09:15:00Z".parse().unwrap(),
        reason: "MessageRejected: Email address is not verified".into(),
    };
    postbode::store::Counters::set_sending_problem(&store, Some(&problem)).await.unwrap();
    let sqs = aws_sdk_sqs::Client::new(&crate::aws::config().await);
    let queue = sqs.create_queue().queue_name(format!("dlq-{}", uuid::Uuid::new_v4().simple())).send().await.unwrap();
    let url = queue.queue_url().unwrap().to_owned();
    for body in ["run 1", "event 2"] {
        sqs.send_message().queue_url(&url).message_body(body).send().await.unwrap();
    }
    let status = text(&operator(&table, &["sending", "status", "--dead-letter-queue", &url]));
    assert!(
        status.starts_with("sending is on\nthe last run was stopped by SES at 2026-12-01T09:15:00Z: MessageRejected"),
        "{status}"
    );
    assert!(status.contains("dead-letter queue: 2 failed sender run(s) or SES event(s) waiting"), "{status}");
    postbode::store::Counters::set_sending_problem(&store, None).await.unwrap();
    assert_eq!(text(&operator(&table, &["sending", "status"])).trim(), "sending is on");
}

/// A sign-up whose confirmation the stream never sent (its batch in the confirmations
/// dead-letter queue): `sending status` counts it and the queue, `confirmations retry` mails
/// it once, and then nothing waits.
#[tokio::test]
async fn waiting_confirmations_are_counted_and_retried_on_dynamodb() {
    let (store, _, table) = crate::aws::dynamo_store().await;
    crate::aws::verified_sesv2().await;
    let mut app = TestApp::with_store(Arc::new(store));
    app.drain = false;
    // Half an hour ago by the command's clock: past the stream's own retries, within the day.
    let half_an_hour_ago = jiff::Timestamp::now() - jiff::SignedDuration::from_mins(30);
    app.advance(half_an_hour_ago.duration_since(app.now()));
    let to = format!("wacht-{}@example.nl", uuid::Uuid::new_v4().simple());
    app.subscribe(&to).await;
    assert!(app.emails().is_empty(), "the stream's worker did not run");

    let sqs = aws_sdk_sqs::Client::new(&crate::aws::config().await);
    let queue = sqs.create_queue().queue_name(format!("cdlq-{}", uuid::Uuid::new_v4().simple())).send().await.unwrap();
    let url = queue.queue_url().unwrap().to_owned();
    sqs.send_message().queue_url(&url).message_body("batch").send().await.unwrap();
    let status = text(&operator(&table, &["sending", "status", "--confirmations-dead-letter-queue", &url]));
    assert!(status.contains("sign-ups waiting for their confirmation mail: 1"), "{status}");
    assert!(status.contains("confirmations dead-letter queue: 1 failed batch(es) of sign-ups"), "{status}");

    let mail = ["--base-url", "https://postbode.example", "--from", "René Rensen <nieuwsbrief@postbode.example>"];
    let retried = text(&operator(&table, &[&["confirmations", "retry"][..], &mail[..]].concat()));
    assert!(retried.contains("1 handled, 0 still refused"), "{retried}");
    let mails = crate::aws::ses_raw_messages().await.iter().filter(|raw| raw.contains(&to)).count();
    assert_eq!(mails, 1);
    // Handled once: nothing waits, and a second retry mails nothing.
    assert!(!text(&operator(&table, &["sending", "status"])).contains("sign-ups waiting"));
    let again = text(&operator(&table, &[&["confirmations", "retry"][..], &mail[..]].concat()));
    assert!(again.contains("0 handled"), "{again}");
    assert_eq!(crate::aws::ses_raw_messages().await.iter().filter(|raw| raw.contains(&to)).count(), 1);
}

//! Erasing a person also takes their address off SES's account-level suppression list, where
//! every hard bounce and complaint lands in plain text (content/privacy.md promises that only
//! postbode's salted hash stays). On every path that erases: the operator's command, the
//! reader's own page, and the sender when the retention period ends. Against the SES API
//! server (moto, with the suppression list of infra/ses_server.py) and DynamoDB Local. An SES
//! that refuses leaves everything as it was, to be tried again.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use aws_sdk_sesv2::error::ProvideErrorMetadata;
use aws_sdk_sesv2::types::SuppressionListReason;
use axum::http::StatusCode;
use jiff::{SignedDuration, Timestamp};
use postbode::app::operator::{EraseError, erase, is_suppressed};
use postbode::app::sender::{Report, Run, SenderConfig};
use postbode::mail::outbox::OutboxMailer;
use postbode::mail::ses::SesMailer;
use postbode::mail::{MailError, Mailer, Outgoing};
use postbode::store::Store;
use postbode::store::sqlite::SqliteStore;
use postbode::subscribers::{Status, SubscriberEmail};

use crate::helpers::{seed_catalogue, settings};
use crate::test_app::TestApp;

/// Whether SES's suppression list holds `address` (`GetSuppressedDestination`).
async fn on_ses_list(ses: &aws_sdk_sesv2::Client, address: &str) -> bool {
    match ses.get_suppressed_destination().email_address(address).send().await {
        Ok(found) => found.suppressed_destination.is_some(),
        Err(e) if e.code() == Some("NotFoundException") => false,
        Err(e) => panic!("GetSuppressedDestination: {e:?}"),
    }
}

/// What SES does after a hard bounce of the configuration set.
async fn bounced_at_ses(ses: &aws_sdk_sesv2::Client, address: &str) {
    ses.put_suppressed_destination().email_address(address).reason(SuppressionListReason::Bounce).send().await.unwrap();
    assert!(on_ses_list(ses, address).await);
}

async fn sender_run(store: Arc<dyn Store>, mailer: Arc<dyn Mailer>, app: &TestApp, now: Timestamp) -> Report {
    let sender = postbode::app::Parts {
        store,
        mailer,
        catalogue: Arc::new(seed_catalogue()),
        email: settings(),
        tokens: app.tokens.clone(),
    }
    .sender(SenderConfig::default())
    .unwrap();
    sender.run(Run { now, scheduled_at: None, deadline: None }).await.unwrap()
}

/// Subscribes, confirms and unsubscribes `email`; returns when its record is to be erased.
async fn left_reader(app: &TestApp, email: &str) -> Timestamp {
    let welcome = app.confirmed_reader(email).await;
    assert_eq!(app.post_form(&welcome.path("/unsubscribe/"), "").await.status, StatusCode::OK);
    let left = app.now();
    left.to_zoned(jiff::tz::TimeZone::UTC)
        .checked_add(jiff::Span::new().months(i64::from(seed_catalogue().site.retention_months)))
        .unwrap()
        .timestamp()
}

#[tokio::test]
async fn every_erase_takes_the_address_off_the_ses_suppression_list_dynamodb_ses_api() {
    let (store, _, _) = crate::aws::dynamo_store().await;
    let store: Arc<dyn Store> = Arc::new(store);
    let ses = crate::aws::verified_sesv2().await;
    let mailer: Arc<dyn Mailer> = Arc::new(SesMailer::new(ses.clone(), None));
    // The readers' mail goes to the outbox (for its links); each erase goes through SES. Both
    // apps sign with the same key, so a link of one works on the other.
    let readers = TestApp::with_store(store.clone());
    let erasing = TestApp::with_mailer(store.clone(), mailer.clone());
    // The SES API server's list is shared with other tests: addresses of this run's own.
    let run = uuid::Uuid::new_v4().simple().to_string();
    let address = |name: &str| format!("{name}-{run}@example.nl");
    let gone = |email: &str| {
        let store = store.clone();
        let email = SubscriberEmail::parse(email).unwrap();
        async move { store.subscriber_by_email(&email).await.unwrap().is_none() }
    };

    // The operator's `subscribers erase`.
    let anna = address("anna");
    readers.confirmed_reader(&anna).await;
    bounced_at_ses(&ses, &anna).await;
    let email = SubscriberEmail::parse(&anna).unwrap();
    assert!(erase(store.as_ref(), mailer.as_ref(), &readers.tokens, &email, readers.now()).await.unwrap());
    assert!(!on_ses_list(&ses, &anna).await, "SES forgot the address");
    assert!(gone(&anna).await);
    assert!(is_suppressed(store.as_ref(), &readers.tokens, &email).await.unwrap(), "postbode's hash stays");

    // The reader's own page, "Alles verwijderen".
    let bob = address("bob");
    let page = readers.confirmed_reader(&bob).await.path("/voorkeuren/");
    bounced_at_ses(&ses, &bob).await;
    let erased = erasing.post_form(&page, "action=erase-confirmed").await;
    assert!(erased.body.contains("Je gegevens zijn verwijderd"), "{}", erased.body);
    assert!(!on_ses_list(&ses, &bob).await, "SES forgot the address");
    assert!(gone(&bob).await);

    // The sender, when the retention period after unsubscribing ends.
    let carla = address("carla");
    let erase_at = left_reader(&readers, &carla).await;
    bounced_at_ses(&ses, &carla).await;
    let report = sender_run(store.clone(), mailer.clone(), &readers, erase_at + SignedDuration::from_mins(1)).await;
    assert_eq!((report.erased, report.not_erased), (1, 0), "{report:?}");
    assert!(!on_ses_list(&ses, &carla).await, "SES forgot the address");
    assert!(gone(&carla).await);

    // An address SES never listed: erasing works all the same (SES's NotFoundException).
    let dirk = address("dirk");
    readers.confirmed_reader(&dirk).await;
    let email = SubscriberEmail::parse(&dirk).unwrap();
    assert!(erase(store.as_ref(), mailer.as_ref(), &readers.tokens, &email, readers.now()).await.unwrap());
    assert!(gone(&dirk).await);
}

/// An SES that will not forget (a missing permission, an outage): the fault a stand-in cannot
/// produce on cue. Mail itself goes to the outbox.
struct ForgetfulSes {
    outbox: OutboxMailer,
    refuses: AtomicBool,
}

#[async_trait]
impl Mailer for ForgetfulSes {
    async fn send(&self, message: Outgoing<'_>) -> Result<String, MailError> {
        self.outbox.send(message).await
    }

    async fn forget_suppressed(&self, _address: &str) -> Result<(), MailError> {
        if self.refuses.load(Ordering::SeqCst) {
            return Err(MailError::Account(
                "AccessDeniedException: not authorized: ses:DeleteSuppressedDestination".into(),
            ));
        }
        Ok(())
    }
}

#[tokio::test]
async fn an_erase_that_ses_refuses_removes_nothing_and_is_tried_again() {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::in_memory().unwrap());
    let outbox = tempfile::tempdir().unwrap();
    let ses =
        Arc::new(ForgetfulSes { outbox: OutboxMailer::new(outbox.path()).unwrap(), refuses: AtomicBool::new(true) });
    let readers = TestApp::with_store(store.clone());
    let erasing = TestApp::with_mailer(store.clone(), ses.clone());
    let kept = |email: &'static str| {
        let store = store.clone();
        async move { store.subscriber_by_email(&SubscriberEmail::parse(email).unwrap()).await.unwrap() }
    };

    // The operator: an error naming the cause; the record, its proof and its hash as they were.
    let page = readers.confirmed_reader("anna@example.nl").await.path("/voorkeuren/");
    let anna = SubscriberEmail::parse("anna@example.nl").unwrap();
    let refused = erase(store.as_ref(), ses.as_ref(), &readers.tokens, &anna, readers.now()).await.unwrap_err();
    assert!(matches!(refused, EraseError::SuppressionList(MailError::Account(_))), "{refused:?}");
    assert_eq!(kept("anna@example.nl").await.unwrap().status, Status::Confirmed);
    assert!(!is_suppressed(store.as_ref(), &readers.tokens, &anna).await.unwrap());

    // The reader: "try again later" in Dutch, and everything still there.
    let answer = erasing.post_form(&page, "action=erase-confirmed").await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(answer.body.contains("Probeer het over een paar minuten opnieuw"), "{}", answer.body);
    assert!(kept("anna@example.nl").await.is_some());

    // The sender: the record stays due and the run goes on; once SES forgets, it is erased.
    let erase_at = left_reader(&readers, "bob@example.nl").await;
    let after = erase_at + SignedDuration::from_mins(1);
    let report = sender_run(store.clone(), ses.clone(), &readers, after).await;
    assert_eq!((report.erased, report.not_erased), (0, 1), "{report:?}");
    assert!(kept("bob@example.nl").await.unwrap().next_due_at.is_some_and(|due| due <= after), "still due");
    ses.refuses.store(false, Ordering::SeqCst);
    let report = sender_run(store.clone(), ses.clone(), &readers, after + SignedDuration::from_hours(1)).await;
    assert_eq!((report.erased, report.not_erased), (1, 0), "{report:?}");
    assert!(kept("bob@example.nl").await.is_none());
    assert_eq!(erasing.post_form(&page, "action=erase-confirmed").await.status, StatusCode::OK);
    assert!(kept("anna@example.nl").await.is_none());
}

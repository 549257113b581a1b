//! Broadcasts on the author's terms (issue 13): `send_at`, posts public from their moment on
//! the site and in the feed (the deployed site checks the clock), and the first sender run
//! after a `send_at` reaching everyone, on SQLite and on DynamoDB Local.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use postbode::app::sender::Run;
use postbode::mail::outbox::OutboxMailer;
use postbode::store::Store;
use postbode::subscribers::{Evidence, Status, SubscribeOutcome, SubscriberEmail};

use crate::helpers::{catalogue_with, settings};
use crate::test_app::TestApp;

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

const WORKSHOP: &str = "+++\ntitle = \"Workshop in december\"\nslug = \"workshop-in-december\"\n\
summary = \"Een middag over vertrouwen.\"\ndate = 2026-12-03\nsend_at = 2026-12-03T14:00:00\n+++\n\nKom ook.\n";

const KERST: &str = "+++\ntitle = \"Kerstgroet\"\nslug = \"kerstgroet\"\n\
summary = \"Fijne dagen.\"\ndate = 2026-12-10\n+++\n\nFijne dagen.\n";

#[tokio::test]
async fn a_post_is_on_the_site_and_in_the_feed_only_from_its_moment() {
    let catalogue = catalogue_with(&[("posts/workshop.md", WORKSHOP), ("posts/kerst.md", KERST)]).unwrap();
    let app = TestApp::with_catalogue(catalogue);
    // The test clock: Tuesday 1 December 2026, 10:00 in Amsterdam.
    let visible = |home: &str, feed: &str, slug: &str| (home.contains(slug), feed.contains(slug));
    let check = |expect_workshop: bool, expect_kerst: bool| {
        let app = &app;
        async move {
            let home = app.get("/").await.body;
            let feed = app.get("/feed.xml").await.body;
            assert_eq!(visible(&home, &feed, "workshop-in-december"), (expect_workshop, expect_workshop));
            assert_eq!(visible(&home, &feed, "kerstgroet"), (expect_kerst, expect_kerst));
            // The sitemap lists exactly the home page and the public posts.
            let sitemap = app.get("/sitemap.xml").await.body;
            let locs: Vec<&str> =
                sitemap.split("<loc>").skip(1).filter_map(|rest| rest.split("</loc>").next()).collect();
            let mut expected =
                vec!["https://postbode.example/", "https://postbode.example/posts/leiderschap-en-vertrouwen"];
            if expect_workshop {
                expected.push("https://postbode.example/posts/workshop-in-december");
            }
            if expect_kerst {
                expected.push("https://postbode.example/posts/kerstgroet");
            }
            let mut found = locs.clone();
            found.sort_unstable();
            expected.sort_unstable();
            assert_eq!(found, expected, "{sitemap}");
            let status = |slug: &'static str| async move { app.get(&format!("/posts/{slug}")).await.status.as_u16() };
            assert_eq!(status("workshop-in-december").await, if expect_workshop { 200 } else { 404 });
            assert_eq!(status("kerstgroet").await, if expect_kerst { 200 } else { 404 });
            assert!(home.contains("leiderschap-en-vertrouwen"), "a post of today stays");
        }
    };
    check(false, false).await;
    // Thursday 3 December 13:59 in Amsterdam: the workshop's send_at is 14:00.
    app.advance(ts("2026-12-03T12:59:00Z").duration_since(app.now()));
    check(false, false).await;
    app.advance(SignedDuration::from_mins(1));
    check(true, false).await;
    // The Christmas post from the start of 10 December, Amsterdam (23:00 UTC the day before).
    app.advance(ts("2026-12-09T22:59:59Z").duration_since(app.now()));
    check(true, false).await;
    app.advance(SignedDuration::from_secs(1));
    check(true, true).await;
}

#[test]
fn send_at_mistakes_are_reported_at_their_line() {
    let on_series = "+++\ntitle = \"Deel twee\"\nslug = \"deel-twee\"\norder = 2\nsummary = \"x\"\nsend_at = 2026-12-03T14:00:00\n+++\n\nTekst.\n";
    let problems = catalogue_with(&[("leiderschap/02-deel-twee.md", on_series)]).unwrap_err().to_string();
    assert!(problems.contains("content/leiderschap/02-deel-twee.md:6: `send_at` is for broadcasts"), "{problems}");
    let before = WORKSHOP.replace("send_at = 2026-12-03T14:00:00", "send_at = 2026-12-02T14:00:00");
    let problems = catalogue_with(&[("posts/workshop.md", &before)]).unwrap_err().to_string();
    assert!(
        problems.contains(
            "content/posts/workshop.md:6: `send_at` (2026-12-02T14:00:00) lies before the post's `date` (2026-12-03)"
        ),
        "{problems}"
    );
    let offset = WORKSHOP.replace("send_at = 2026-12-03T14:00:00", "send_at = 2026-12-03T14:00:00+01:00");
    let problems = catalogue_with(&[("posts/workshop.md", &offset)]).unwrap_err().to_string();
    assert!(
        problems.contains("content/posts/workshop.md:6: `send_at` must be a date and time in Europe/Amsterdam"),
        "{problems}"
    );
    // Written as a string with a space, it is fine too.
    let spaced = WORKSHOP.replace("send_at = 2026-12-03T14:00:00", "send_at = \"2026-12-03 14:00\"");
    assert!(catalogue_with(&[("posts/workshop.md", &spaced)]).is_ok());
}

/// Readers booked for Tuesday 8 December's window before the workshop post was deployed get it
/// at its send_at (Thursday 3 December 14:00), from the first run after that moment, once;
/// their series post still waits for the window.
async fn send_at_reaches_everyone_booked_for_later(store: Arc<dyn Store>) {
    let catalogue = catalogue_with(&[("posts/workshop.md", WORKSHOP)]).unwrap();
    let outbox = tempfile::tempdir().unwrap();
    let tokens = postbode::tokens::TokenKey::new(vec![7; 32]).unwrap();
    let sender = postbode::app::Parts {
        store: store.clone(),
        mailer: Arc::new(OutboxMailer::new(outbox.path()).unwrap()),
        catalogue: std::sync::Arc::new(Clone::clone(&catalogue)),
        email: Clone::clone(&settings()),
        tokens,
    }
    .sender(Default::default())
    .unwrap();
    let confirmed_at = ts("2026-11-20T10:00:00Z");
    let next_window = ts("2026-12-08T07:00:00Z");
    let run_id = uuid::Uuid::new_v4().simple().to_string();
    for i in 0..5 {
        let email = SubscriberEmail::parse(&format!("lezer{i}-{run_id}@example.nl")).unwrap();
        let evidence = Evidence { consent_text_version: "v1".into(), ..Evidence::default() };
        let SubscribeOutcome::SendConfirmation(s) = postbode::subscribers::subscribe(
            None,
            &email,
            None,
            &evidence,
            confirmed_at,
            SignedDuration::from_hours(1),
        ) else {
            unreachable!()
        };
        let mut s = *s;
        s.status = Status::Confirmed;
        s.confirmed_at = Some(confirmed_at);
        s.next_due_at = Some(next_window);
        store.insert_subscriber(&s, s.created_at).await.unwrap();
    }
    let run = |now: &str| Run { now: ts(now), scheduled_at: None, deadline: None };
    let before = sender.run(run("2026-12-03T12:50:00Z")).await.unwrap();
    assert_eq!((before.visited, before.sent, before.swept), (0, 0, false), "{before:?}");
    let at = sender.run(run("2026-12-03T13:05:00Z")).await.unwrap();
    assert!(at.swept, "{at:?}");
    assert_eq!((at.visited, at.sent), (5, 5), "{at:?}");
    assert_eq!(at.sent_by_post.get("workshop-in-december"), Some(&5));
    let again = sender.run(run("2026-12-03T13:20:00Z")).await.unwrap();
    assert_eq!((again.visited, again.sent, again.swept), (0, 0, false), "once: {again:?}");
    // The series post goes in the next window, as booked.
    let window = sender.run(run("2026-12-08T07:05:00Z")).await.unwrap();
    assert_eq!((window.visited, window.sent), (5, 5), "{window:?}");
    assert_eq!(window.sent_by_post.get("leiderschap-en-vertrouwen"), Some(&5));
}

#[tokio::test]
async fn send_at_reaches_everyone_booked_for_later_locally() {
    let store = postbode::store::sqlite::SqliteStore::in_memory().unwrap();
    send_at_reaches_everyone_booked_for_later(Arc::new(store)).await;
}

#[tokio::test]
async fn send_at_reaches_everyone_booked_for_later_on_dynamodb() {
    let (store, ..) = crate::aws::dynamo_store().await;
    send_at_reaches_everyone_booked_for_later(Arc::new(store)).await;
}

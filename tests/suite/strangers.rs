//! Attacks by someone who is not the reader, written as the attack: a few addresses, a
//! domain of their own, several IP addresses, someone else's busy web page. Each test says
//! what the stranger does and what must not follow (issue 19).

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use jiff::SignedDuration;
use postbode::app::ses_events::{Breaker, handle};
use postbode::mail::{Ledger, MailKind};
use postbode::store::sqlite::SqliteStore;
use postbode::store::{DayStats, Store};
use postbode::subscribers::SubscriberEmail;
use postbode::subscribers::caps::Caps;

use crate::ses_events::about;
use crate::test_app::TestApp;

fn sqlite() -> Arc<dyn Store> {
    Arc::new(SqliteStore::in_memory().unwrap())
}

async fn dynamodb() -> Arc<dyn Store> {
    Arc::new(crate::aws::dynamo_store().await.0)
}

/// Subscribes `email` from its own client address and presses its confirmation link.
async fn confirm_from(app: &TestApp, email: &str, client: &str) {
    app.set_client(client);
    assert_eq!(app.subscribe(email).await.status, StatusCode::OK);
    let link = app.emails().into_iter().rfind(|e| e.to == email && e.file.ends_with("confirm.eml")).unwrap();
    assert_eq!(app.post_form(&link.path("/confirm/"), "").await.status, StatusCode::OK);
}

/// A stranger confirms 13 addresses at a catch-all domain of their own and bounces every
/// welcome mail, against a normal week of 300 list mails: before, 13 of 313 (4.15 %) paused
/// the whole newsletter. Now the welcome mail is on the new readers' ledger, and of one
/// domain only a few events count at all; sending keeps running.
async fn bounced_welcome_mails_leave_sending_running(store: Arc<dyn Store>) {
    let app = TestApp::with_store(store);
    let today = app.now().to_zoned(jiff::tz::TimeZone::UTC).date();
    app.store.add_stats(Ledger::List, today, DayStats { sent: 300, ..DayStats::default() }).await.unwrap();
    for i in 0..13 {
        confirm_from(&app, &format!("lezer{i}@catch-all.example"), &format!("198.51.{i}.7")).await;
    }
    let welcomes = app.emails_tagged("welcome");
    assert_eq!(welcomes.len(), 13);
    let ledger = MailKind::Welcome.ledger().tag();
    for welcome in &welcomes {
        let event = about("bounce-permanent.json", &welcome.to, "welcome", ledger);
        let report = handle(app.store.as_ref(), &event, &Breaker::default(), app.now()).await.unwrap();
        assert_eq!(report.paused, None, "{report:?}");
    }
    assert!(app.store.sending_state().await.unwrap().paused.is_none(), "the newsletter keeps going");
    assert_eq!(
        app.store.stats(Ledger::List, today, today).await.unwrap(),
        DayStats { sent: 300, ..DayStats::default() }
    );
    let new_readers = app.store.stats(Ledger::NewReaders, today, today).await.unwrap();
    assert_eq!((new_readers.sent, new_readers.bounced), (13, 3), "one domain counts 3 at most");

    // A month later they are established readers: the same trick on series mails counts
    // 3 of the domain's bounces on the list's ledger, too few to pause on.
    let event_on_list =
        |email: &str| about("bounce-permanent.json", email, "leiderschap-en-vertrouwen", Ledger::List.tag());
    for i in 0..13 {
        let report = handle(
            app.store.as_ref(),
            &event_on_list(&format!("nog{i}@catch-all.example")),
            &Breaker::default(),
            app.now(),
        )
        .await
        .unwrap();
        assert_eq!(report.paused, None);
    }
    assert_eq!(app.store.stats(Ledger::List, today, today).await.unwrap().bounced, 3);
    assert!(app.store.sending_state().await.unwrap().paused.is_none());
}

#[tokio::test]
async fn thirteen_bounced_welcome_mails_against_300_list_mails_leave_sending_running() {
    bounced_welcome_mails_leave_sending_running(sqlite()).await;
}

#[tokio::test]
async fn thirteen_bounced_welcome_mails_against_300_list_mails_leave_sending_running_on_dynamodb() {
    bounced_welcome_mails_leave_sending_running(dynamodb().await).await;
}

/// 100 confirmation mails to addresses that do not exist, all bounced: the intake breaker
/// trips (confirmation mail drops to a trickle) and the list is not paused.
async fn bounced_confirmation_mails_trip_the_intake_breaker(store: Arc<dyn Store>) {
    let app = TestApp::with_caps(store, Caps::all(1000));
    for i in 0..100 {
        app.set_client(&format!("203.0.{}.{}", i / 50, i % 50));
        assert_eq!(app.subscribe(&format!("bestaat-niet{i}@d{i}.example")).await.status, StatusCode::OK);
    }
    let confirmations = app.emails_tagged("confirm");
    assert_eq!(confirmations.len(), 100);
    let mut last = None;
    for mail in &confirmations {
        let event = about("bounce-permanent.json", &mail.to, "confirm", MailKind::Confirmation.ledger().tag());
        last = Some(handle(app.store.as_ref(), &event, &Breaker::default(), app.now()).await.unwrap());
    }
    let report = last.unwrap();
    assert!(report.intake_throttled.as_deref().is_some_and(|r| r.contains("bounce rate")), "{report:?}");
    assert_eq!(report.paused, None);
    assert!(app.store.sending_state().await.unwrap().paused.is_none(), "the list keeps going");
    // The next hour: confirmation mail is a trickle of 10, whatever the configured caps.
    app.advance(SignedDuration::from_hours(1));
    let mut accepted = 0;
    for i in 0..15 {
        app.set_client(&format!("192.0.2.{i}"));
        accepted += u32::from(app.subscribe(&format!("echt{i}@example.nl")).await.status == StatusCode::OK);
    }
    assert_eq!(accepted, postbode::app::ses_events::PAUSED_CONFIRMATIONS_PER_HOUR);
}

#[tokio::test]
async fn a_hundred_bounced_confirmation_mails_trip_the_intake_breaker_and_not_the_list() {
    bounced_confirmation_mails_trip_the_intake_breaker(sqlite()).await;
}

#[tokio::test]
async fn a_hundred_bounced_confirmation_mails_trip_the_intake_breaker_and_not_the_list_on_dynamodb() {
    bounced_confirmation_mails_trip_the_intake_breaker(dynamodb().await).await;
}

/// Any busy page could make its visitors' browsers post addresses to the form: a POST from
/// a foreign page is refused with a plain Dutch page and records nothing. The stack's own
/// pages, the author's `form_origins` and clients that are no browser are served.
#[tokio::test]
async fn a_cross_site_form_post_is_refused() {
    let mut app = TestApp::with_site(|site| site.form_origins = vec!["https://www.voorbeeld.nl".into()]);
    app.drain = false;
    let form = "email=doelwit%40example.nl";
    let content = Some("application/x-www-form-urlencoded");
    let post = async |headers: &[(&str, &str)]| {
        app.request_with(Method::POST, "/subscribe", content, headers, form.to_owned()).await
    };
    for foreign in [
        &[("origin", "https://drukke-site.example")][..],
        &[("origin", "null"), ("sec-fetch-site", "cross-site")][..],
        &[("sec-fetch-site", "cross-site")][..],
        &[("origin", "https://drukke-site.example"), ("sec-fetch-site", "cross-site")][..],
        &[("origin", "https://drukke-site.example"), ("sec-fetch-site", "same-site")][..],
    ] {
        let refused = post(foreign).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{foreign:?}");
        assert!(refused.body.contains("alleen worden verstuurd vanaf mijn eigen website"), "{}", refused.body);
    }
    assert!(app.store.pending_intents(10).await.unwrap().is_empty(), "nothing recorded");
    let own = url::Url::parse(app.app.email.base_url.as_str()).unwrap().origin().ascii_serialization();
    for allowed in [
        &[("origin", own.as_str()), ("sec-fetch-site", "same-origin")][..],
        // The stack's own page under its no-referrer policy: Chromium sends `Origin: null`.
        &[("origin", "null"), ("sec-fetch-site", "same-origin")][..],
        &[("origin", "https://www.voorbeeld.nl"), ("sec-fetch-site", "cross-site")][..],
        &[][..],
    ] {
        app.advance(SignedDuration::from_hours(25));
        assert_eq!(post(allowed).await.status, StatusCode::OK, "{allowed:?}");
    }
}

/// A client over its own cap used to burn the victim's mailbox budget on the way (caps were
/// taken one by one): five refused requests locked the victim out for the hour, without any
/// mail. Now all budgets are taken together or none.
async fn a_client_over_its_cap_spends_nothing_of_the_victim(store: Arc<dyn Store>) {
    let app = TestApp::with_caps(store, Caps { client_per_hour: 2, ..Caps::default() });
    app.set_client("198.51.100.66");
    for i in 0..2 {
        assert_eq!(app.subscribe(&format!("wegwerp{i}@example.nl")).await.status, StatusCode::OK);
    }
    for _ in 0..5 {
        assert_eq!(app.subscribe("slachtoffer@example.nl").await.status, StatusCode::TOO_MANY_REQUESTS);
    }
    app.set_client("192.0.2.44");
    assert_eq!(app.subscribe("slachtoffer@example.nl").await.status, StatusCode::OK, "the victim's own try works");
    assert_eq!(app.emails().iter().filter(|e| e.to == "slachtoffer@example.nl").count(), 1);
}

#[tokio::test]
async fn a_client_over_its_cap_leaves_the_victims_mailbox_budget_untouched() {
    a_client_over_its_cap_spends_nothing_of_the_victim(sqlite()).await;
}

#[tokio::test]
async fn a_client_over_its_cap_leaves_the_victims_mailbox_budget_untouched_on_dynamodb() {
    a_client_over_its_cap_spends_nothing_of_the_victim(dynamodb().await).await;
}

/// Route limits are shared by every caller. A stranger flooding the unsubscribe route with
/// garbage (2,000 requests at once, far past the old limit of 40) must not make a reader's
/// one-click unsubscribe fail: through `postbode dev`'s route table, which the template's
/// `RouteSettings` equal (tests/suite/template.rs).
#[tokio::test]
async fn a_valid_one_click_unsubscribe_answers_200_during_a_garbage_flood_of_its_route() {
    use postbode::http::route_limits::{ACCOUNT_LIMIT, ROUTE_LIMITS};
    for route in ["ANY /unsubscribe/{token}", "ANY /confirm/{token}"] {
        let limit = ROUTE_LIMITS.iter().find(|l| l.route == route).unwrap();
        assert_eq!((limit.rate, limit.burst), ACCOUNT_LIMIT, "{route}: no limit below the account's");
    }
    let data = tempfile::tempdir().unwrap();
    let app =
        postbode::startup::local_app(data.path(), crate::helpers::seed_catalogue(), "http://127.0.0.1:3000").unwrap();
    let mut reader = crate::store_contract::subscriber("lezer@example.nl");
    reader.status = postbode::subscribers::Status::Confirmed;
    app.store.insert_subscriber(&reader, reader.created_at).await.unwrap();
    let token = app.tokens.sign(postbode::tokens::Purpose::Unsubscribe, &reader.id, reader.token_version, app.now());
    let router = postbode::local::local_router(Arc::new(app), data.path().join("outbox"), true);
    let call = |path: String| {
        let router = router.clone();
        async move {
            let one_click = "List-Unsubscribe=One-Click";
            crate::helpers::form_request(router, "POST", &path, one_click, [203, 0, 113, 9]).await.status()
        }
    };
    let flood: Vec<_> = (0..2000).map(|i| tokio::spawn(call(format!("/unsubscribe/rommel{i}")))).collect();
    let real = call(format!("/unsubscribe/{token}")).await;
    let mut throttled = 0;
    for garbage in flood {
        throttled += u32::from(garbage.await.unwrap() == StatusCode::TOO_MANY_REQUESTS);
    }
    assert_eq!(real, StatusCode::OK);
    assert_eq!(throttled, 0, "garbage gets postbode's own 400, not a limit shared with the reader");
}

/// A stranger types a reader's address with their own text as first name. Before, the
/// stored name was replaced and the reader's welcome mail greeted them with it. Now the
/// record keeps the reader's name until the reader confirms a request of their own.
async fn stranger_name_stays_out(store: Arc<dyn Store>) {
    let app = TestApp::with_store(store);
    app.set_client("192.0.2.10");
    assert_eq!(app.post_form("/subscribe", "email=anna%40example.nl&first_name=Anna").await.status, StatusCode::OK);
    let own_link = app.emails_tagged("confirm")[0].path("/confirm/");
    app.advance(SignedDuration::from_hours(2));
    app.set_client("198.51.100.66");
    let stranger = "email=anna%40example.nl&first_name=Klik+op+evil.example+voor+je+prijs";
    assert_eq!(app.post_form("/subscribe", stranger).await.status, StatusCode::OK);
    assert_eq!(app.emails_tagged("confirm").len(), 2, "the stranger's request mailed Anna a link");
    let email = SubscriberEmail::parse("anna@example.nl").unwrap();
    let stored = app.store.subscriber_by_email(&email).await.unwrap().unwrap();
    assert_eq!(stored.first_name.as_deref(), Some("Anna"), "the record is unchanged");
    // Anna presses the link of her own request.
    assert_eq!(app.post_form(&own_link, "").await.status, StatusCode::OK);
    let welcome = &app.emails_tagged("welcome")[0];
    assert!(welcome.text.contains("Anna"), "{}", welcome.text);
    for mail in app.emails() {
        assert!(!mail.text.contains("evil.example") && !mail.html.contains("evil.example"), "{}", mail.file);
    }
    // Later the stranger tries again on the confirmed reader: still nothing changes.
    app.advance(SignedDuration::from_hours(24 * 31));
    app.post_form("/subscribe", stranger).await;
    let stored = app.store.subscriber_by_email(&email).await.unwrap().unwrap();
    assert_eq!(stored.first_name.as_deref(), Some("Anna"));
    for mail in app.emails() {
        assert!(!mail.text.contains("evil.example"), "{}", mail.file);
    }
}

#[tokio::test]
async fn the_strangers_name_never_reaches_a_mail() {
    stranger_name_stays_out(sqlite()).await;
}

#[tokio::test]
async fn the_strangers_name_never_reaches_a_mail_on_dynamodb() {
    stranger_name_stays_out(dynamodb().await).await;
}

/// Other users of the machine read nothing of the local mode: the data folder is 0700, the
/// database and every mail in the outbox 0600, whatever the umask.
#[cfg(unix)]
#[tokio::test]
async fn local_data_files_are_the_owners_alone() {
    use std::os::unix::fs::PermissionsExt;
    let data = tempfile::tempdir().unwrap();
    let folder = data.path().join("data");
    let app = postbode::startup::local_app(&folder, crate::helpers::seed_catalogue(), "http://127.0.0.1:3000").unwrap();
    let outbox = postbode::mail::outbox::OutboxMailer::new(folder.join("outbox")).unwrap();
    let mail =
        postbode::mail::Outgoing { to: "lezer@example.nl", mime: b"Subject: x\r\n\r\nx", kind: MailKind::Summary };
    let name = postbode::mail::Mailer::send(&outbox, mail).await.unwrap();
    drop(app);
    let mode = |path: std::path::PathBuf| std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(folder.clone()), 0o700);
    assert_eq!(mode(folder.join("postbode.sqlite")), 0o600);
    assert_eq!(mode(folder.join("outbox").join(name)), 0o600);
}

/// A reader's mail was forwarded, so a stranger holds their links: `postbode subscribers
/// revoke-links` makes the old confirm and whitepaper links stop working; the unsubscribe
/// link keeps working (leaving never fails on an old mail).
#[tokio::test]
async fn revoked_links_stop_working_except_unsubscribe() {
    let app = TestApp::spawn().await;
    confirm_from(&app, "anna@example.nl", "192.0.2.10").await;
    let welcome = &app.emails_tagged("welcome")[0];
    let confirm = app.emails_tagged("confirm")[0].path("/confirm/");
    assert_eq!(app.get(&welcome.path("/whitepaper/")).await.status, StatusCode::OK);
    let email = SubscriberEmail::parse("anna@example.nl").unwrap();
    let version = postbode::app::operator::revoke_links(app.store.as_ref(), &email, app.now()).await.unwrap();
    assert_eq!(version, Some(2));
    assert_eq!(app.get(&welcome.path("/whitepaper/")).await.status, StatusCode::GONE);
    assert_eq!(app.post_form(&confirm, "").await.status, StatusCode::GONE);
    let out = app.post_form(&welcome.path("/unsubscribe/"), "List-Unsubscribe=One-Click").await;
    assert_eq!(out.status, StatusCode::OK);
    let stored = app.store.subscriber_by_email(&email).await.unwrap().unwrap();
    assert_eq!(stored.status, postbode::subscribers::Status::Unsubscribed);
    let unknown = SubscriberEmail::parse("niemand@example.nl").unwrap();
    assert_eq!(postbode::app::operator::revoke_links(app.store.as_ref(), &unknown, app.now()).await.unwrap(), None);
}

/// The page a sign-up came from is shown to the author (weekly summary, `postbode stats`).
/// A stranger's text there ("log in at …") would be a phishing line in a mail from the
/// author's own domain: only pages of the stack or of `form_origins` are kept, as origin and
/// path.
#[tokio::test]
async fn a_sign_up_page_is_kept_only_as_origin_and_path_of_the_authors_own_sites() {
    let app = TestApp::with_site(|site| site.form_origins = vec!["https://www.voorbeeld.nl".into()]);
    let pages = [
        (
            "a@example.nl",
            "https://www.voorbeeld.nl/artikel?utm_source=x&email=a@example.nl#form",
            Some("https://www.voorbeeld.nl/artikel"),
        ),
        ("b@example.nl", "https://inloggen-bank.example/uw-rekening-is-geblokkeerd", None),
        ("c@example.nl", "Uw wachtwoord verloopt: https://evil.example", None),
    ];
    for (i, (email, page, _)) in pages.iter().enumerate() {
        app.set_client(&format!("192.0.2.{}", i + 1));
        let form = serde_urlencoded::to_string([("email", *email), ("source_url", *page)]).unwrap();
        assert_eq!(app.post_form("/subscribe", &form).await.status, StatusCode::OK);
    }
    for (email, _, kept) in pages {
        let stored = app.store.subscriber_by_email(&SubscriberEmail::parse(email).unwrap()).await.unwrap().unwrap();
        assert_eq!(stored.consent[0].source_url.as_deref(), kept, "{email}");
    }
}

/// A stranger fills the form with addresses at domains that do not exist: each confirmation
/// mail would bounce, on the whole SES account's reputation. Asked of a real DNS server
/// (dnsmasq, started by `infra/tools.sh`): a domain with neither MX nor address records gets
/// a plain Dutch answer, and nothing is recorded, sent or taken from any cap. The answer
/// depends on the domain alone: no oracle of who is subscribed.
#[tokio::test]
async fn no_confirmation_mail_goes_to_a_domain_without_mx_or_address_in_the_dns_server() {
    use postbode::mail::domains::{DnsMailDomains, MailDomains, Reachable};
    let server = std::env::var("POSTBODE_TEST_DNS")
        .expect("POSTBODE_TEST_DNS is not set: run the tests with ./infra/test-all, which starts the DNS server");
    let domains = Arc::new(DnsMailDomains::with_server(server.parse().unwrap()).unwrap());
    assert_eq!(domains.reachable("met-mx.example").await, Reachable::Yes);
    assert_eq!(domains.reachable("alleen-a.example").await, Reachable::Yes, "an A record serves as MX");
    assert_eq!(domains.reachable("bestaat-niet.example").await, Reachable::No);
    let app = TestApp::with_mail_domains(domains);
    for _ in 0..5 {
        let refused = app.subscribe("iemand@bestaat-niet.example").await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.body.contains("het deel na de @ bestaat niet of ontvangt geen e-mail"), "{}", refused.body);
    }
    assert!(app.emails().is_empty());
    for email in ["lezer@met-mx.example", "lezer@alleen-a.example"] {
        assert_eq!(app.subscribe(email).await.status, StatusCode::OK, "{email}: no cap was spent by the refusals");
    }
    assert_eq!(app.emails_tagged("confirm").len(), 2);
}

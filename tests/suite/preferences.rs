//! A reader's own page (issue 23), on SQLite and on DynamoDB Local: the footer's link, a mail
//! scanner's GET, which mail, a pause the sender keeps, the name, the data to take along,
//! erasing everything, the way back after unsubscribing; and the CLI for a reader who asks by
//! mail.

use std::sync::Arc;

use axum::http::StatusCode;
use jiff::SignedDuration;
use postbode::store::Store;
use postbode::subscribers::{ConsentAction, MailChoice, Status, SubscriberEmail};

use crate::test_app::TestApp;

/// Subscribes and confirms `email`; returns the path of the preference link in the welcome
/// mail's footer.
async fn confirmed_reader(app: &TestApp, email: &str) -> String {
    let welcome = app.confirmed_reader(email).await;
    assert!(welcome.html.contains(">Je voorkeuren</a>"), "the footer links the page");
    welcome.path("/voorkeuren/")
}

async fn stored(app: &TestApp, email: &str) -> postbode::subscribers::Subscriber {
    app.store.subscriber_by_email(&SubscriberEmail::parse(email).unwrap()).await.unwrap().unwrap()
}

/// Choices made on the page are stored with a step in the proof; GETs change nothing.
async fn choices_on_the_page_are_stored_with_their_proof(store: Arc<dyn Store>) {
    let app = TestApp::with_store(store);
    let page = confirmed_reader(&app, "anna@example.nl").await;
    let before = stored(&app, "anna@example.nl").await;
    for _ in 0..3 {
        let shown = app.get(&page).await;
        assert_eq!(shown.status, StatusCode::OK);
        assert!(shown.body.contains("Welke e-mail wil je?"));
        assert_eq!(shown.headers["x-robots-tag"], "noindex, nofollow");
    }
    assert_eq!(stored(&app, "anna@example.nl").await, before, "a scanner's GET changes nothing");

    let news = app.post_form(&page, "action=mail&mail=news").await;
    assert_eq!(news.status, StatusCode::OK);
    assert!(news.body.contains("Bewaard: alleen nieuws"), "{}", news.body);
    let anna = stored(&app, "anna@example.nl").await;
    assert_eq!(anna.preferences.mail, MailChoice::NewsOnly);
    let step = anna.consent.last().unwrap();
    assert_eq!((step.action, step.detail.as_deref()), (ConsentAction::Preference, Some("mail: news")));
    assert_eq!(step.user_agent.as_deref(), Some("TestBrowser/1.0"), "who did it, as for every step");

    app.post_form(&page, "action=mail&mail=both").await;
    let paused = app.post_form(&page, "action=pause&weeks=4").await;
    assert!(paused.body.contains("staat op pauze tot"), "{}", paused.body);
    let anna = stored(&app, "anna@example.nl").await;
    assert_eq!(anna.preferences.paused_until, app.now().checked_add(SignedDuration::from_hours(24 * 28)).ok());
    assert!(app.post_form(&page, "action=resume").await.body.contains("De pauze is voorbij"));
    let until = app.post_form(&page, "action=pause&until=2027-01-12").await;
    assert!(until.body.contains("12 januari 2027"), "{}", until.body);
    let too_long = app.post_form(&page, "action=pause&until=2031-01-01").await;
    assert_eq!(too_long.status, StatusCode::UNPROCESSABLE_ENTITY);

    app.post_form(&page, "action=rename&first_name=Anna+Maria%E2%80%AE").await;
    assert_eq!(stored(&app, "anna@example.nl").await.first_name.as_deref(), Some("Anna Maria"));
    let same = app.post_form(&page, "action=rename&first_name=Anna+Maria").await;
    assert!(same.body.contains("Er veranderde niets"));
    assert!(app.get(&page).await.body.contains("/whitepaper/"), "the whitepaper again");
    let figures = postbode::app::operator::stats(app.store.as_ref(), app.now()).await.unwrap();
    assert_eq!((figures.preferences.paused, figures.preferences.news_only), (1, 0));
}

/// The data as JSON, and erase after a second button: only the suppression hash stays.
async fn data_and_erase_on_the_page(store: Arc<dyn Store>) {
    let app = TestApp::with_store(store);
    let page = confirmed_reader(&app, "bob@example.nl").await;
    let data = app.post_form(&page, "action=data").await;
    assert_eq!(data.headers["content-disposition"], "attachment; filename=\"mijn-gegevens.json\"");
    let json: serde_json::Value = serde_json::from_str(&data.body).unwrap();
    assert_eq!(json["subscriber"]["email"], "bob@example.nl");
    assert!(json["subscriber"]["consent"].as_array().unwrap().len() >= 2, "the proof is in it");
    assert!(json["reactions"].as_array().unwrap().is_empty());

    let question = app.post_form(&page, "action=erase").await;
    assert!(question.body.contains("Ja, verwijder alles"));
    assert!(app.store.subscriber_by_email(&SubscriberEmail::parse("bob@example.nl").unwrap()).await.unwrap().is_some());
    let erased = app.post_form(&page, "action=erase-confirmed").await;
    assert!(erased.body.contains("Je gegevens zijn verwijderd"));
    let bob = SubscriberEmail::parse("bob@example.nl").unwrap();
    assert!(app.store.subscriber_by_email(&bob).await.unwrap().is_none(), "the record is gone");
    assert!(postbode::app::operator::is_suppressed(app.store.as_ref(), &app.tokens, &bob).await.unwrap());
    assert!(app.get(&page).await.body.contains("Je gegevens zijn verwijderd"), "the link says so afterwards");
}

/// After unsubscribing, the page offers less mail instead; choosing it subscribes again
/// (the signed link shows the address is theirs), with that step in the proof.
async fn unsubscribed_readers_can_choose_less_mail(store: Arc<dyn Store>) {
    let app = TestApp::with_store(store);
    confirmed_reader(&app, "carla@example.nl").await;
    let welcome = app.emails().into_iter().rfind(|e| e.file.ends_with("welcome.eml")).unwrap();
    let left = app.post_form(&welcome.path("/unsubscribe/"), "").await;
    assert!(left.body.contains("Kies liever minder e-mail"), "{}", left.body);
    let doc = scraper::Html::parse_document(&left.body);
    let link = doc.select(&scraper::Selector::parse("a[href*='/voorkeuren/']").unwrap()).next().unwrap();
    let page = link.value().attr("href").unwrap().trim_start_matches(crate::test_app::BASE).to_owned();
    assert!(app.get(&page).await.body.contains("Toch weer e-mail?"));
    let back = app.post_form(&page, "action=mail&mail=news").await;
    assert!(back.body.contains("Welkom terug"), "{}", back.body);
    let carla = stored(&app, "carla@example.nl").await;
    assert_eq!((carla.status, carla.preferences.mail), (Status::Confirmed, MailChoice::NewsOnly));
    assert_eq!(carla.consent.last().unwrap().action, ConsentAction::Confirm);
}

/// A forged link, or one from before the reader's links were renewed, is refused.
async fn forged_and_revoked_links_are_refused(store: Arc<dyn Store>) {
    let app = TestApp::with_store(store.clone());
    let page = confirmed_reader(&app, "dirk@example.nl").await;
    let forged = crate::helpers::tampered(&page);
    assert_eq!(app.get(&forged).await.status, StatusCode::BAD_REQUEST);
    let dirk = SubscriberEmail::parse("dirk@example.nl").unwrap();
    postbode::app::operator::revoke_links(store.as_ref(), &dirk, app.now()).await.unwrap();
    assert_eq!(app.post_form(&page, "action=mail&mail=news").await.status, StatusCode::GONE);
    assert_eq!(stored(&app, "dirk@example.nl").await.preferences.mail, MailChoice::Both, "nothing changed");
}

/// Another address: the new one gets nothing but its confirmation until its owner presses it
/// (the front door's caps apply); then the record moves, the old address's links stop working
/// but unsubscribe, and the proof says from where. Never onto an address someone else has.
async fn an_address_moves_only_when_the_new_one_confirms(store: Arc<dyn Store>) {
    let app = TestApp::with_store(store);
    let page = confirmed_reader(&app, "anna@example.nl").await;
    let welcome = app.emails().into_iter().rfind(|e| e.file.ends_with("welcome.eml")).unwrap();
    let confirm = app.emails().into_iter().rfind(|e| e.file.ends_with("confirm.eml")).unwrap();
    let asked = app.post_form(&page, "action=address&email=anna%40nieuw.example").await;
    assert!(asked.body.contains("Ik stuurde een bevestiging naar anna@nieuw.example"), "{}", asked.body);
    let to_new: Vec<_> = app.emails().into_iter().filter(|e| e.to == "anna@nieuw.example").collect();
    assert_eq!(to_new.len(), 1, "only the confirmation");
    assert!(to_new[0].file.ends_with("address.eml"));
    assert!(!to_new[0].html.contains("/voorkeuren/"), "no page of the reader in a mail to a stranger's box");
    assert_eq!(stored(&app, "anna@example.nl").await.email.as_str(), "anna@example.nl", "nothing moved yet");
    let again = app.post_form(&page, "action=address&email=anna%40nieuw.example").await;
    assert_eq!(again.status, StatusCode::TOO_MANY_REQUESTS, "the caps of the front door");

    let button = to_new[0].path("/adres/");
    for _ in 0..2 {
        assert!(app.get(&button).await.body.contains("Ja, dit is mijn nieuwe adres"));
    }
    assert_eq!(stored(&app, "anna@example.nl").await.email.as_str(), "anna@example.nl", "a GET moves nothing");
    let moved = app.post_form(&button, "").await;
    assert!(moved.body.contains("Gelukt: mijn e-mail gaat voortaan naar anna@nieuw.example"), "{}", moved.body);
    let at = moved.body.find("/voorkeuren/").unwrap();
    let new_page: String =
        moved.body[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || "/-_".contains(*c)).collect();
    assert!(app.get(&new_page).await.body.contains("Voor anna@nieuw.example"), "the new page, signed anew");
    let anna = stored(&app, "anna@nieuw.example").await;
    assert!(
        app.store.subscriber_by_email(&SubscriberEmail::parse("anna@example.nl").unwrap()).await.unwrap().is_none()
    );
    assert_eq!(anna.consent.last().unwrap().detail.as_deref(), Some("address changed from anna@example.nl"));
    assert_eq!(app.post_form(&button, "").await.status, StatusCode::GONE, "the button works once");

    // The old address's links: confirm, whitepaper and page refused; unsubscribe works.
    assert_eq!(app.post_form(&confirm.path("/confirm/"), "").await.status, StatusCode::GONE);
    assert_eq!(app.get(&welcome.path("/whitepaper/")).await.status, StatusCode::GONE);
    assert_eq!(app.get(&page).await.status, StatusCode::GONE);
    let left = app.post_form(&welcome.path("/unsubscribe/"), "").await;
    assert_eq!(left.status, StatusCode::OK);
    assert_eq!(stored(&app, "anna@nieuw.example").await.status, Status::Unsubscribed);
}

/// Moving onto an address someone is on the list with: refused when pressed, nothing moves.
async fn an_address_never_moves_onto_someone_elses(store: Arc<dyn Store>) {
    let app = TestApp::with_store(store);
    let page = confirmed_reader(&app, "anna@example.nl").await;
    app.set_client("198.51.100.3");
    confirmed_reader(&app, "bob@example.nl").await;
    app.advance(SignedDuration::from_hours(2));
    app.post_form(&page, "action=address&email=bob%40example.nl").await;
    let mail = app.emails().into_iter().rfind(|e| e.file.ends_with("address.eml")).unwrap();
    let refused = app.post_form(&mail.path("/adres/"), "").await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(refused.body.contains("staat al iemand op mijn lijst"));
    assert_eq!(stored(&app, "anna@example.nl").await.status, Status::Confirmed);
    assert_eq!(stored(&app, "bob@example.nl").await.first_name.as_deref(), Some("Anna"), "bob's record untouched");
}

crate::helpers::on_both_stores!(
    choices_on_the_page_are_stored_with_their_proof,
    data_and_erase_on_the_page,
    unsubscribed_readers_can_choose_less_mail,
    forged_and_revoked_links_are_refused,
    an_address_moves_only_when_the_new_one_confirms,
    an_address_never_moves_onto_someone_elses,
);

/// The sender keeps the choices: a 4-week pause skips 4 windows of the series (news still
/// comes) and resumes at the next post; a news-only reader gets the broadcast and no series
/// post.
async fn the_sender_keeps_a_pause_and_news_only(store: Arc<dyn Store>) {
    let post = |file: &str, order: u32| {
        (
            format!("leiderschap/{file}.md"),
            format!(
                "+++\ntitle = \"Deel {order}\"\nslug = \"{file}\"\norder = {order}\nsummary = \"Deel {order}.\"\n+++\n\nTekst.\n"
            ),
        )
    };
    let (two, three) = (post("deel-2", 2), post("deel-3", 3));
    let news = (
        "posts/nieuws.md".to_owned(),
        "+++\ntitle = \"Nieuws\"\nslug = \"nieuws\"\nsummary = \"Nieuws.\"\ndate = 2026-12-16\n+++\n\nNieuws.\n"
            .to_owned(),
    );
    let files = [two, three, news];
    let extra: Vec<(&str, &str)> = files.iter().map(|(p, t)| (p.as_str(), t.as_str())).collect();
    let app = TestApp::with_catalogue_on(store, crate::helpers::catalogue_with(&extra).unwrap());
    let sender = app.app.parts().sender(Default::default()).unwrap();
    let run = |at: &str| postbode::app::sender::Run { now: at.parse().unwrap(), scheduled_at: None, deadline: None };
    // Tuesday 1 December, in the window: both confirm; Bob wants only news.
    let anna = confirmed_reader(&app, "anna@example.nl").await;
    app.set_client("198.51.100.2");
    let bob = confirmed_reader(&app, "bob@example.nl").await;
    app.post_form(&bob, "action=mail&mail=news").await;
    sender.run(run("2026-12-01T09:05:00Z")).await.unwrap();
    // Saturday 5 December: Anna pauses the series for 4 weeks (until Saturday 2 January).
    app.advance(SignedDuration::from_hours(24 * 4));
    assert!(app.post_form(&anna, "action=pause&weeks=4").await.body.contains("2 januari 2027"));
    let got = |to: &str| {
        app.emails()
            .into_iter()
            .filter(|e| e.to == to && !e.file.ends_with("confirm.eml") && !e.file.ends_with("welcome.eml"))
            .map(|e| e.subject)
            .collect::<Vec<_>>()
    };
    let mut anna_by_day = Vec::new();
    for tuesday in ["2026-12-08", "2026-12-15", "2026-12-22", "2026-12-29", "2027-01-05", "2027-01-12"] {
        let before = got("anna@example.nl").len();
        sender.run(run(&format!("{tuesday}T07:05:00Z"))).await.unwrap();
        anna_by_day.extend(got("anna@example.nl")[before..].iter().map(|subject| (tuesday, subject.clone())));
    }
    assert_eq!(
        anna_by_day,
        [("2026-12-22", "Nieuws".to_owned()), ("2027-01-05", "Deel 2".to_owned()), ("2027-01-12", "Deel 3".to_owned())],
        "8, 15, 22 and 29 December without the series; the news still came; part 2 after the pause"
    );
    assert_eq!(got("anna@example.nl")[0], "Leiderschap en vertrouwen", "part 1 before the pause");
    assert_eq!(got("bob@example.nl"), ["Nieuws"], "news only: no series post");
}

mod sender_keeps_choices {
    #[tokio::test(flavor = "multi_thread")]
    async fn on_sqlite() {
        super::the_sender_keeps_a_pause_and_news_only(crate::helpers::sqlite_store()).await
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn on_dynamodb() {
        super::the_sender_keeps_a_pause_and_news_only(crate::helpers::dynamodb_store().await).await
    }
}

/// The author's commands for a reader who asks by mail, on the local store: pause, resume,
/// prefer, rename; `subscribers show` and `stats` show the choices, the weekly summary too.
#[tokio::test]
async fn the_author_changes_choices_on_request_from_the_command_line() {
    use crate::helpers::{postbode, stderr, stdout};
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap();
    let store: Arc<dyn Store> = Arc::new(postbode::startup::local_store(data.path()).unwrap());
    let app = TestApp::with_store(store.clone());
    confirmed_reader(&app, "anna@example.nl").await;
    drop(app);
    let run = |args: &[&str]| {
        let mut all = vec!["subscribers"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--local", dir]);
        let out = postbode(&all);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        stdout(&out)
    };
    assert!(run(&["prefer", "anna@example.nl", "news"]).contains("gets news"));
    let paused = run(&["pause", "anna@example.nl", "--weeks", "4"]);
    assert!(paused.contains("series paused until"), "{paused}");
    assert!(run(&["rename", "anna@example.nl", "Anna Maria"]).contains("name Anna Maria"));
    let shown = run(&["show", "anna@example.nl"]);
    assert!(shown.contains("gets news, series paused until"), "{shown}");
    assert!(shown.contains("postbode subscribers pause (by the operator, on the reader's request)"), "{shown}");
    assert!(shown.contains(": series paused until"), "the proof says what was chosen: {shown}");
    let stats = stdout(&postbode(&["stats", "--local", dir]));
    assert!(stats.contains("readers' choices: 1 pausing the series, 0 only the series, 1 only news"), "{stats}");
    assert!(run(&["resume", "anna@example.nl"]).contains("gets news;"));
    let wrong = postbode(&["subscribers", "prefer", "anna@example.nl", "alles", "--local", dir]);
    assert!(stderr(&wrong).contains("not a choice: both, series or news"));
    let too_long = postbode(&["subscribers", "pause", "anna@example.nl", "--weeks", "60", "--local", dir]);
    assert!(stderr(&too_long).contains("--weeks must be 1 to 52"));

    let mut figures = postbode::subscribers::figures::ListFigures::default();
    figures.choices = postbode::subscribers::figures::Choices { paused: 2, series_only: 1, news_only: 3 };
    let summary = postbode::render::letters::weekly_summary_text("René Rensen", &figures, None);
    assert!(summary.contains("Keuzes van lezers: 2 met de serie op pauze, 1 alleen de serie, 3 alleen nieuws"));
}

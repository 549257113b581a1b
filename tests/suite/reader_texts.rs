//! Every text a reader sees is true in every case it is shown: the page after the form for
//! each state an address can be in, the confirm page that goes on where the mail left off,
//! error pages with titles of their own and a way on, mails that promise only what happens,
//! and counts in good Dutch.

use std::sync::Arc;

use axum::http::StatusCode;
use jiff::SignedDuration;
use postbode::render::letters::CONFIRM_BUTTON;
use postbode::store::sqlite::SqliteStore;
use postbode::subscribers::Status;
use postbode::subscribers::caps::Caps;

use crate::no_oracle::set_status;
use crate::test_app::TestApp;

/// The text of the page's `<h1>` and its `<title>` (without the site's name).
fn heading(body: &str) -> (String, String) {
    let between = |open: &str, close: &str| {
        let start = body.find(open).map(|i| i + open.len()).unwrap_or_else(|| panic!("no {open} in {body}"));
        body[start..].split(close).next().unwrap().split(" · ").next().unwrap().to_owned()
    };
    (between("<h1>", "</h1>"), between("<title>", "</title>"))
}

/// The text with every run of white space one space (the text part is wrapped).
fn words(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Which mails went to `to` after the first `since` mails in the outbox, by kind.
fn kinds_to(app: &TestApp, since: usize, to: &str) -> Vec<String> {
    app.emails()[since..]
        .iter()
        .filter(|e| e.to == to)
        .map(|e| e.file.rsplit('-').next().unwrap().trim_end_matches(".eml").to_owned())
        .collect()
}

/// New, waiting, within the cooldown, subscribed (reminded or not) and bounced: one page for
/// all, and each of its sentences is what then happens. The caps are opened so that the
/// worker's own rules decide (the form's caps answer "Even geduld", tested below).
#[tokio::test]
async fn every_form_outcome_gets_one_page_that_is_true_for_it() {
    let app = TestApp::with_caps(Arc::new(SqliteStore::in_memory().unwrap()), Caps::all(10_000));
    for email in ["waiting@example.nl", "subscribed@example.nl", "reminded@example.nl", "bounced@example.nl"] {
        app.subscribe(email).await;
    }
    for email in ["subscribed@example.nl", "reminded@example.nl", "bounced@example.nl"] {
        let confirm = app.emails_tagged("confirm").into_iter().find(|e| e.to == email).unwrap();
        app.post_form(&confirm.path("/confirm/"), "").await;
    }
    set_status(&app, "bounced@example.nl", Status::Bounced).await;
    // A month on, "reminded" asks again and gets the short "already subscribed" mail; two hours
    // after that, "cooling" fills in the form for the first time.
    app.advance(SignedDuration::from_hours(24 * 31));
    app.subscribe("reminded@example.nl").await;
    assert_eq!(app.emails_tagged("already").len(), 1);
    app.advance(SignedDuration::from_hours(2));
    app.subscribe("cooling@example.nl").await;

    let before = app.emails().len();
    let states = [
        "new@example.nl",
        "waiting@example.nl",
        "cooling@example.nl",
        "subscribed@example.nl",
        "reminded@example.nl",
        "bounced@example.nl",
    ];
    let mut pages = Vec::new();
    for email in states {
        let page = app.subscribe(email).await;
        pages.push((page.status, page.body));
    }
    for (state, page) in states.iter().zip(&pages) {
        assert_eq!(page, &pages[0], "{state}: the same answer for every address");
    }
    let (status, page) = &pages[0];
    assert_eq!(*status, StatusCode::OK);
    assert_eq!(heading(page), ("Kijk in je mailbox".to_owned(), "Kijk in je mailbox".to_owned()));
    assert!(!page.contains("ik heb je een e-mail gestuurd"), "not true for all of them");

    // What each sentence promises, and what happened.
    let says = |sentence: &str| assert!(page.contains(sentence), "the page says {sentence:?}:\n{page}");
    says("Als je aanmelding nog bevestigd moet worden, stuur ik je een e-mail met een knop");
    assert_eq!(kinds_to(&app, before, "new@example.nl"), ["confirm"]);
    assert_eq!(kinds_to(&app, before, "waiting@example.nl"), ["confirm"]);
    says("Stuurde je het formulier minder dan een uur geleden al, dan stuur ik geen nieuwe e-mail");
    assert!(kinds_to(&app, before, "cooling@example.nl").is_empty());
    says("Ben je al aangemeld, dan stuur ik je een korte e-mail met de whitepaper, hooguit één keer per 30 dagen");
    assert_eq!(kinds_to(&app, before, "subscribed@example.nl"), ["already"]);
    let already = app.emails_tagged("already").into_iter().find(|e| e.to == "subscribed@example.nl").unwrap();
    assert!(already.text.contains("/whitepaper/"), "{}", already.text);
    assert!(kinds_to(&app, before, "reminded@example.nl").is_empty(), "reminded 2 hours ago");
    says("Kwam een eerdere e-mail van mij niet aan op dit adres, dan stuur ik er geen meer heen");
    assert!(kinds_to(&app, before, "bounced@example.nl").is_empty());
    says("De knop in de e-mail werkt 7 dagen");
}

/// The page names the cooldown in force, not the default one.
#[test]
fn the_page_after_the_form_names_the_cooldown_in_force() {
    let site = crate::helpers::seed_catalogue().site;
    let settings = postbode::app::Settings { confirm_cooldown: SignedDuration::from_mins(10), ..Default::default() };
    let page = postbode::http::pages::subscribed(&site, &settings).into_string();
    assert!(page.contains("minder dan 10 minuten geleden"), "{page}");
}

/// Pressing the form's button twice: the second press is told to wait, not that something
/// is wrong with the address.
#[tokio::test]
async fn a_double_submission_is_asked_for_patience() {
    let app = TestApp::spawn().await;
    assert_eq!(app.subscribe("twee@example.nl").await.status, StatusCode::OK);
    let again = app.subscribe("twee@example.nl").await;
    assert_eq!(again.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(heading(&again.body).0, "Even geduld");
    assert!(again.body.contains("Verstuurde je het formulier net al? Dan is mijn e-mail onderweg"), "{}", again.body);
    assert!(!again.body.contains("adres"), "nothing about the address: {}", again.body);
    let json = app.post_json("/subscribe", r#"{"email":"twee@example.nl"}"#).await;
    assert_eq!(json.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(json.body.contains("Verstuurde je het formulier net al?"), "{}", json.body);
}

/// The confirm page continues the confirmation mail: its first words, its button.
#[tokio::test]
async fn the_confirm_page_continues_the_mail() {
    let app = TestApp::spawn().await;
    app.subscribe("klik@example.nl").await;
    let mail = &app.emails_tagged("confirm")[0];
    assert!(mail.text.contains("Nog één klik") || mail.html.contains("Nog één klik"), "{}", mail.text);
    assert!(mail.html.contains(CONFIRM_BUTTON) && mail.text.contains(CONFIRM_BUTTON));
    let page = app.get(&mail.path("/confirm/")).await;
    assert_eq!(heading(&page.body).0, "Nog één klik");
    assert!(page.body.contains(&format!("<button type=\"submit\">{CONFIRM_BUTTON}</button>")), "{}", page.body);
}

/// Each error page has a title of its own, in the `<h1>` and the `<title>`; those that send
/// the reader back to the form link to it.
#[tokio::test]
async fn error_pages_have_their_own_titles_and_a_way_on() {
    let app = TestApp::spawn().await;
    let welcome = app.confirmed_reader("weg@example.nl").await;
    let whitepaper = welcome.path("/whitepaper/");
    app.post_form(&welcome.path("/unsubscribe/"), "List-Unsubscribe=One-Click").await;
    app.subscribe("wacht@example.nl").await;
    // A whitepaper link for a reader who has not confirmed (the welcome's link, signed for them).
    let waiting = app.stored("wacht@example.nl").await.unwrap();
    let token = app.tokens.sign(postbode::tokens::Purpose::Whitepaper, &waiting.id, waiting.token_version, app.now());
    let pending_whitepaper = format!("/whitepaper/{token}");

    let cases = [
        (app.get("/confirm/niet-echt").await, StatusCode::BAD_REQUEST, true),
        (app.get("/bestaat-niet").await, StatusCode::NOT_FOUND, false),
        (app.get(&whitepaper).await, StatusCode::FORBIDDEN, true),
        (app.get(&pending_whitepaper).await, StatusCode::FORBIDDEN, true),
        (app.post_form("/subscribe", "email=geen-adres").await, StatusCode::UNPROCESSABLE_ENTITY, false),
    ];
    let mut titles = Vec::new();
    for (response, status, to_form) in &cases {
        assert_eq!(response.status, *status, "{}", response.body);
        let (h1, title) = heading(&response.body);
        assert_eq!(h1, title, "the tab says what the page says");
        assert_ne!(h1, "Dat lukte niet", "a title of its own");
        assert_eq!(response.body.contains("href=\"/#aanmelden\""), *to_form, "{h1}: a link to the form");
        titles.push(h1);
    }
    let mut distinct = titles.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), titles.len(), "{titles:?}");

    // An old whitepaper link after leaving says so, not that the reader never confirmed.
    let left = &cases[2].0.body;
    assert!(left.contains("afgemeld"), "{left}");
    assert!(!left.contains("bevestigd"), "{left}");
    assert!(cases[3].0.body.contains("bevestigd"), "{}", cases[3].0.body);
}

/// After unsubscribing, "Per ongeluk afgemeld?" links to the form.
#[tokio::test]
async fn the_unsubscribed_page_links_back_to_the_form() {
    let app = TestApp::spawn().await;
    let welcome = app.confirmed_reader("terug@example.nl").await;
    let page = app.post_form(&welcome.path("/unsubscribe/"), "").await;
    assert_eq!(heading(&page.body).0, "Je bent afgemeld");
    assert!(page.body.contains("Per ongeluk afgemeld?"));
    assert!(page.body.contains("<a href=\"/#aanmelden\">Meld je opnieuw aan</a>"), "{}", page.body);
    let front = app.get("/").await;
    assert!(front.body.contains("id=\"aanmelden\""), "the link has a target");
}

/// The confirmation mail goes to someone who is not on the list (yet): its footer does not
/// speak of "these mails" as if they were; the welcome mail's does.
#[tokio::test]
async fn mail_footers_speak_to_who_the_reader_is() {
    let app = TestApp::spawn().await;
    let welcome = app.confirmed_reader("voet@example.nl").await;
    let confirm = &app.emails_tagged("confirm")[0];
    for part in [&confirm.text, &confirm.html] {
        assert!(part.contains("Niet aangemeld, of bedacht je je?"), "{part}");
        assert!(!part.contains("Wil je deze e-mails niet meer?"), "{part}");
    }
    for part in [&welcome.text, &welcome.html] {
        assert!(part.contains("Wil je deze e-mails niet meer?"), "{part}");
    }
}

/// The welcome mail promises the parts that are out, and the cadence only for those to come.
#[tokio::test]
async fn the_welcome_promises_only_parts_that_exist() {
    // The author's series has one part.
    let app = TestApp::spawn().await;
    let one = app.confirmed_reader("een@example.nl").await;
    assert!(words(&one.text).contains("Binnenkort stuur ik je het eerste deel van mijn serie"), "{}", one.text);
    assert!(!one.text.contains("te beginnen"), "{}", one.text);
    // With three parts: the number, the cadence, "te beginnen met deel 1".
    let post = |order: u32| {
        (
            format!("leiderschap/0{order}-deel.md"),
            format!(
                "+++\ntitle = \"Deel {order}\"\nslug = \"deel-{order}\"\norder = {order}\nsummary = \"Deel.\"\n+++\n\nTekst.\n"
            ),
        )
    };
    let files = [post(2), post(3)];
    let extra: Vec<(&str, &str)> = files.iter().map(|(p, t)| (p.as_str(), t.as_str())).collect();
    let app = TestApp::with_catalogue(crate::helpers::catalogue_with(&extra).unwrap());
    let three = app.confirmed_reader("drie@example.nl").await;
    assert!(
        words(&three.text).contains("de 3 delen van mijn serie Leiderschap, elke week één, te beginnen met deel 1")
    );
}

/// Series mails are signed like the letters.
#[test]
fn series_mails_are_signed() {
    let catalogue = crate::helpers::seed_catalogue();
    let mail = crate::helpers::render(&catalogue, "leiderschap-en-vertrouwen");
    let signature = format!("Hartelijke groet, {}", catalogue.site.author);
    assert!(words(&mail.text).contains(&signature), "{}", mail.text);
    assert!(mail.html.contains("Hartelijke groet,"), "{}", mail.html);
}

/// The weekly summary counts in good Dutch: "1 aanmelding", never "1 lezers".
#[test]
fn the_weekly_summary_says_one_in_the_singular() {
    use postbode::subscribers::figures::{ListFigures, PostFigures};
    let mut figures = ListFigures {
        since: "2026-11-23T00:00:00Z".parse().unwrap(),
        until: "2026-11-30T00:00:00Z".parse().unwrap(),
        list_size: vec![(jiff::civil::date(2026, 11, 30), 1)],
        ..Default::default()
    };
    figures.signups_by_source.insert("https://postbode.example/".into(), 1);
    figures.per_post.insert(
        "leiderschap-en-vertrouwen".into(),
        PostFigures { sent: 1, unsubscribed_after: 1, bounced: 0, complained: 1 },
    );
    let site = crate::helpers::seed_catalogue().site;
    let from = crate::helpers::settings().from;
    let mime = postbode::render::letters::weekly_summary(
        &site,
        &from,
        "rene@example.nl",
        &figures,
        None,
        crate::helpers::fixed_date(),
    )
    .unwrap();
    let mail = mail_parser::MessageParser::default().parse(&mime).unwrap();
    assert_eq!(mail.subject(), Some("Je nieuwsbrief deze week: 1 aanmelding, 1 lezer"));
    let text = mail.body_text(0).unwrap();
    assert!(text.contains("1 afmelding daarna") && text.contains("1 klacht"), "{text}");
    for wrong in ["1 lezers", "1 aanmeldingen", "1 afmeldingen", "1 klachten"] {
        assert!(!text.contains(wrong), "{wrong}: {text}");
    }
}

/// No page sets a cookie (the footer says "Geen cookies"): not the blog, not the form's
/// answer, not the confirm page, not an error.
#[tokio::test]
async fn no_page_sets_a_cookie() {
    let app = TestApp::spawn().await;
    let welcome = app.confirmed_reader("koek@example.nl").await;
    let confirm = &app.emails_tagged("confirm")[0];
    let responses = [
        app.get("/").await,
        app.get("/posts/leiderschap-en-vertrouwen").await,
        app.get("/privacy").await,
        app.get("/feed.xml").await,
        app.get("/bestaat-niet").await,
        app.subscribe("koek2@example.nl").await,
        app.get(&confirm.path("/confirm/")).await,
        app.get(&welcome.path("/whitepaper/")).await,
        app.get(&welcome.path("/unsubscribe/")).await,
    ];
    let front = &responses[0].body;
    assert!(front.contains("Geen cookies, geen trackers.") && front.contains("Volg mijn artikelen via RSS"));
    for response in &responses {
        assert!(response.headers.get("set-cookie").is_none(), "{:?}", response.headers);
    }
}

//! The reader's web through the router: pages, feed, status codes and headers.

use std::sync::Arc;

use axum::body::Body;
use axum::http::StatusCode;
use scraper::{Html, Selector};

use crate::test_app::TestApp;

fn count(doc: &Html, css: &str) -> usize {
    doc.select(&Selector::parse(css).unwrap()).count()
}

fn assert_good_page(body: &str) {
    let doc = Html::parse_document(body);
    assert_eq!(count(&doc, "html[lang='nl']"), 1);
    assert_eq!(count(&doc, "h1"), 1, "one h1");
    assert_eq!(count(&doc, "main"), 1);
    assert_eq!(count(&doc, "header"), 1);
    assert_eq!(count(&doc, "footer"), 1);
    assert_eq!(count(&doc, "script:not([type='application/ld+json'])"), 0, "no script but JSON-LD data");
    assert_eq!(count(&doc, "meta[name='viewport']"), 1);
    assert_eq!(count(&doc, "[style]"), 0, "no inline styles (the CSP allows none)");
    for input in doc.select(&Selector::parse("input:not([type='hidden'])").unwrap()) {
        let id = input.value().attr("id").expect("every field has an id");
        assert_eq!(count(&doc, &format!("label[for='{id}']")), 1, "a label for #{id}");
    }
}

#[tokio::test]
async fn the_blog_lists_posts_and_offers_the_whitepaper() {
    let app = TestApp::spawn().await;
    let home = app.get("/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert_good_page(&home.body);
    assert!(home.body.contains("Gratis whitepaper: „22 tips voor jouw leiderschap”"));
    assert!(home.body.contains("href=\"/posts/leiderschap-en-vertrouwen\""));
    assert!(home.body.contains("27 november 2026"));
    assert_eq!(home.headers["cache-control"], "public, max-age=300");
    let csp = home.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("style-src 'self'") && !csp.contains("unsafe-inline"));
    assert_eq!(home.headers["x-content-type-options"], "nosniff");
    assert_eq!(home.headers["referrer-policy"], "no-referrer");
}

#[tokio::test]
async fn a_post_page_has_the_article_share_links_and_the_form() {
    let app = TestApp::spawn().await;
    let page = app.get("/posts/leiderschap-en-vertrouwen").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_good_page(&page.body);
    let doc = Html::parse_document(&page.body);
    assert_eq!(
        doc.select(&Selector::parse("h1").unwrap()).next().unwrap().text().collect::<String>(),
        "Leiderschap en vertrouwen"
    );
    assert!(page.body.contains("<h2>Bouwen aan vertrouwen</h2>"));
    assert!(page.body.contains("Laat een reactie achter"));
    assert!(page.body.contains("https://www.linkedin.com/sharing/share-offsite/?url=https%3A%2F%2Fpostbode.example%2Fposts%2Fleiderschap-en-vertrouwen"));
    assert!(page.body.contains("https://wa.me/?text="));
    assert!(page.body.contains("mailto:?subject=Leiderschap%20en%20vertrouwen"));
    assert_eq!(count(&doc, "form[method='post'][action='/subscribe']"), 1);
    assert_eq!(count(&doc, "form[action='/subscribe'] input[name='website']"), 1, "the honeypot");
    assert_eq!(count(&doc, "form[action='/posts/leiderschap-en-vertrouwen/reacties'] input[name='website']"), 1);
    assert_eq!(count(&doc, "#reageer textarea[name='text'][required]"), 1, "the reaction form under the post");
    assert_eq!(count(&doc, "#reageer input[type='checkbox'][name='newsletter']:not([checked])"), 1);
    assert!(page.body.contains("value=\"https://postbode.example/posts/leiderschap-en-vertrouwen\""), "source_url");
}

/// Page views: three readers' GETs count three; a crawler's GET, a HEAD and a 404 count
/// nothing; and nothing of the reader is stored with the count.
async fn page_views_scenario(app: TestApp) {
    use axum::http::Method;
    let path = "/posts/leiderschap-en-vertrouwen";
    for _ in 0..3 {
        assert_eq!(app.get(path).await.status, StatusCode::OK);
    }
    let bot = [("user-agent", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)")];
    assert_eq!(app.request_with(Method::GET, path, None, &bot, Body::empty()).await.status, StatusCode::OK);
    assert_eq!(app.request(Method::HEAD, path, None, Body::empty()).await.status, StatusCode::OK);
    assert_eq!(app.get("/posts/bestaat-niet").await.status, StatusCode::NOT_FOUND);
    let today = app.now().to_zoned(jiff::tz::TimeZone::UTC).date();
    let views = app.store.page_views(today, today).await.unwrap();
    assert_eq!(views, [postbode::store::PageViews { day: today, slug: "leiderschap-en-vertrouwen".into(), views: 3 }]);
}

#[tokio::test]
async fn three_readers_and_a_crawler_count_three_views_locally() {
    page_views_scenario(TestApp::spawn().await).await;
}

#[tokio::test]
async fn three_readers_and_a_crawler_count_three_views_on_dynamodb() {
    let (store, client, table) = crate::aws::dynamo_store().await;
    page_views_scenario(TestApp::with_store(Arc::new(store))).await;
    // The one item the views are in holds its key and the count: no address, agent or id.
    let items = client.scan().table_name(&table).send().await.unwrap();
    let views: Vec<_> = items
        .items()
        .iter()
        .filter(|item| item.get("sk").and_then(|v| v.as_s().ok()).is_some_and(|sk| sk.starts_with("VIEWS#")))
        .collect();
    assert_eq!(views.len(), 1, "{views:?}");
    let mut names: Vec<&str> = views[0].keys().map(String::as_str).collect();
    names.sort();
    assert_eq!(names, ["pk", "post:leiderschap-en-vertrouwen", "sk"]);
}

/// The post page and the home page carry their share card and canonical address; the post
/// says who wrote it and how long it takes to read. (tests/e2e/cards.mjs reads the same cards
/// with open-graph-scraper.)
#[tokio::test]
async fn pages_carry_their_share_card_byline_and_reading_time() {
    let app = TestApp::spawn().await;
    let page = app.get("/posts/leiderschap-en-vertrouwen").await.body;
    let doc = Html::parse_document(&page);
    let meta = |property: &str| -> Vec<String> {
        let css = format!("meta[property='{property}'], meta[name='{property}']");
        doc.select(&Selector::parse(&css).unwrap()).map(|e| e.value().attr("content").unwrap().to_owned()).collect()
    };
    let url = "https://postbode.example/posts/leiderschap-en-vertrouwen";
    assert_eq!(meta("og:url"), [url]);
    assert_eq!(meta("og:type"), ["article"]);
    assert_eq!(meta("og:locale"), ["nl_NL"]);
    assert_eq!(meta("og:title"), ["Leiderschap en vertrouwen"]);
    assert_eq!(meta("article:author"), ["René Rensen"]);
    assert_eq!(meta("og:description").len(), 1);
    assert_eq!(meta("twitter:card").len(), 1);
    let canonical = doc.select(&Selector::parse("link[rel='canonical']").unwrap()).next().unwrap();
    assert_eq!(canonical.value().attr("href"), Some(url));
    let json_ld = doc.select(&Selector::parse("script[type='application/ld+json']").unwrap()).next().unwrap();
    let posting: serde_json::Value = serde_json::from_str(&json_ld.text().collect::<String>()).unwrap();
    assert_eq!((posting["@type"].as_str(), posting["url"].as_str()), (Some("BlogPosting"), Some(url)));
    assert_eq!(count(&doc, "script:not([type='application/ld+json'])"), 0, "no script that runs");
    let byline = doc.select(&Selector::parse("p.byline").unwrap()).next().unwrap().text().collect::<String>();
    assert_eq!(byline, "Geschreven door René Rensen · 4 min lezen");

    let home = Html::parse_document(&app.get("/").await.body);
    let og_type = home.select(&Selector::parse("meta[property='og:type']").unwrap()).next().unwrap();
    assert_eq!(og_type.value().attr("content"), Some("website"));
    assert!(home.root_element().text().collect::<String>().contains("4 min lezen"));
}

/// About 220 words a minute, rounded up: the seed post (about 700 words) takes 4 minutes, the
/// long fixture (about 1,000) 5; the golden mails show the same in their masthead.
#[test]
fn reading_time_of_the_seed_post_and_the_long_fixture() {
    let seed = crate::helpers::seed_catalogue();
    let seed = seed.post("leiderschap-en-vertrouwen").unwrap();
    assert!((661..=880).contains(&seed.words), "{} words", seed.words);
    assert_eq!(seed.reading_time(), "4 min lezen");
    let long = crate::helpers::long_catalogue();
    let long = long.post(crate::helpers::LONG_SLUG).unwrap();
    assert!((881..=1100).contains(&long.words), "{} words", long.words);
    assert_eq!(long.reading_time(), "5 min lezen");
}

/// The token routes are kept out of search engines twice: robots.txt, and `X-Robots-Tag`
/// on every answer there, a refusal included; the blog itself stays indexable.
#[tokio::test]
async fn search_engines_get_a_sitemap_and_never_index_a_token_route() {
    let app = TestApp::spawn().await;
    let robots = app.get("/robots.txt").await;
    assert_eq!(robots.status, StatusCode::OK);
    for line in ["User-agent: *", "Disallow: /confirm/", "Disallow: /unsubscribe/", "Disallow: /whitepaper/"] {
        assert!(robots.body.lines().any(|l| l == line), "{line}: {}", robots.body);
    }
    assert!(robots.body.contains("Sitemap: https://postbode.example/sitemap.xml"));
    let sitemap = app.get("/sitemap.xml").await;
    assert_eq!(sitemap.headers["content-type"], "application/xml; charset=utf-8");
    roxmltree::Document::parse(&sitemap.body).expect("the sitemap is XML");
    for path in ["/confirm/x", "/unsubscribe/x", "/whitepaper/x"] {
        let answer = app.get(path).await;
        assert_eq!(
            answer.headers.get("x-robots-tag").map(|v| v.to_str().unwrap()),
            Some("noindex, nofollow"),
            "{path}"
        );
    }
    for path in ["/", "/posts/leiderschap-en-vertrouwen", "/feed.xml"] {
        assert!(app.get(path).await.headers.get("x-robots-tag").is_none(), "{path}");
    }
}

#[tokio::test]
async fn unknown_pages_are_a_dutch_404() {
    let app = TestApp::spawn().await;
    let missing = app.get("/posts/bestaat-niet").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.body.contains("Pagina niet gevonden"));
    assert_good_page(&missing.body);
    // One 404 page, whichever route said "not there".
    let elsewhere = app.get("/bestaat/ook/niet").await;
    assert_eq!((elsewhere.status, &elsewhere.body), (StatusCode::NOT_FOUND, &missing.body));
    // The local outbox is never part of the Lambda router.
    assert_eq!(app.get("/_outbox").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_atom_feed_is_valid_and_has_full_content() {
    let app = TestApp::spawn().await;
    let feed = app.get("/feed.xml").await;
    assert_eq!(feed.status, StatusCode::OK);
    assert_eq!(feed.headers["content-type"], "application/atom+xml; charset=utf-8");
    let xml = roxmltree::Document::parse(&feed.body).expect("well-formed XML");
    let root = xml.root_element();
    const ATOM: &str = "http://www.w3.org/2005/Atom";
    assert_eq!((root.tag_name().namespace(), root.tag_name().name()), (Some(ATOM), "feed"));
    // RFC 4287 §4.1.1: a feed has exactly one id, title and updated, and an author.
    for name in ["id", "title", "updated", "author"] {
        assert_eq!(root.children().filter(|c| c.has_tag_name((ATOM, name))).count(), 1, "feed/{name}");
    }
    assert!(child(root, "updated").unwrap().text().unwrap().parse::<jiff::Timestamp>().is_ok());
    assert!(root.children().any(|c| c.has_tag_name((ATOM, "link")) && c.attribute("rel") == Some("self")));
    let entries: Vec<_> = root.children().filter(|c| c.has_tag_name((ATOM, "entry"))).collect();
    assert_eq!(entries.len(), 1);
    for entry in entries {
        for name in ["id", "title", "updated", "summary", "content"] {
            assert_eq!(entry.children().filter(|c| c.has_tag_name((ATOM, name))).count(), 1, "entry/{name}");
        }
        assert_eq!(child(entry, "updated").unwrap().text(), Some("2026-11-27T00:00:00Z"));
        let content = child(entry, "content").unwrap();
        assert_eq!(content.attribute("type"), Some("html"));
        let html = content.text().unwrap();
        assert!(
            html.contains("<h2>Aandacht</h2>") && html.contains("Je kunt dus vertrouwen niet nabootsen"),
            "full content"
        );
    }
}

fn child<'a, 'input>(node: roxmltree::Node<'a, 'input>, name: &str) -> Option<roxmltree::Node<'a, 'input>> {
    node.children().find(|c| c.has_tag_name(("http://www.w3.org/2005/Atom", name)))
}

/// Every image the post page names (each width of its `<picture>`, the cover, the share
/// card) answers in its format and size, cached for a year under its hashed name; on a
/// phone the page with its header image stays within its weight.
#[tokio::test]
async fn images_are_served_in_their_sizes_and_cached_for_ever() {
    let app = TestApp::spawn().await;
    let page = app.get("/posts/leiderschap-en-vertrouwen").await;
    let doc = Html::parse_document(&page.body);
    let header = doc.select(&Selector::parse("article picture img").unwrap()).next().expect("a header image");
    assert_eq!(header.value().attr("alt"), Some("Leiderschap en vertrouwen"));
    assert_eq!((header.value().attr("width"), header.value().attr("height")), (Some("1200"), Some("675")));
    assert_eq!(header.value().attr("fetchpriority"), Some("high"), "the largest paint comes first");
    let cover = doc.select(&Selector::parse(".subscribe .cover img").unwrap()).next().expect("the cover");
    assert!(cover.value().attr("alt").unwrap().starts_with("Omslag van de whitepaper"));

    // (address, width it claims, type) of every version named in a srcset.
    let mut named = Vec::new();
    for element in doc.select(&Selector::parse("picture source, picture img").unwrap()) {
        for candidate in element.value().attr("srcset").unwrap().split(", ") {
            let (url, width) = candidate.split_once(' ').unwrap();
            let width: u32 = width.trim_end_matches('w').parse().unwrap();
            let kind = match url.rsplit('.').next().unwrap() {
                "webp" => "image/webp",
                "jpg" => "image/jpeg",
                other => panic!("{other}"),
            };
            named.push((url.to_owned(), width, kind));
        }
    }
    let og = doc.select(&Selector::parse("meta[property='og:image']").unwrap()).next().unwrap();
    let share = og.value().attr("content").unwrap().trim_start_matches("https://postbode.example").to_owned();
    named.push((share, 1200, "image/jpeg"));
    assert!(named.len() >= 7, "{named:?}");
    for (url, width, kind) in &named {
        let answer = app.get(url).await;
        assert_eq!(answer.status, StatusCode::OK, "{url}");
        assert_eq!(answer.headers["content-type"], *kind, "{url}");
        assert_eq!(answer.headers["cache-control"], "public, max-age=31536000, immutable", "{url}");
        let bytes = app.get_bytes(url).await;
        let size = imagesize::blob_size(&bytes).unwrap();
        assert_eq!(size.width as u32, *width, "{url}");
    }
    let (_, _, kind) = named.last().unwrap();
    assert_eq!(*kind, "image/jpeg", "share cards are JPEG: every network reads it");
    assert_eq!(app.get("/images/0000000000000000-600.jpg").await.status, StatusCode::NOT_FOUND);

    // A phone (one CSS pixel per 600 px version): the HTML, the stylesheet and the 600 px
    // WebP of the header and the cover.
    let css = app.get("/assets/site.css").await.body;
    let html_and_css = page.body.len() + css.len();
    assert!(html_and_css <= 30_000, "HTML and CSS {html_and_css} bytes");
    let mut weight = html_and_css;
    for (url, width, kind) in &named {
        if *width == 600 && *kind == "image/webp" {
            weight += app.get_bytes(url).await.len();
        }
    }
    assert!(weight <= 250_000, "the post page weighs {weight} bytes on a phone");
}

/// The Lambda's content as its build script embeds it: every file but the images, and the
/// images processed. The catalogue takes the image's facts from the table (the original is
/// not in the binary), and the router serves the embedded versions.
#[tokio::test]
async fn the_lambda_serves_the_images_its_build_script_embedded() {
    use postbode::content_io::embedded::{Embedded, EmbeddedImage};
    let leak = |bytes: Vec<u8>| -> &'static [u8] { Box::leak(bytes.into_boxed_slice()) };
    let content = crate::helpers::repo_path("content");
    let mut files = Vec::new();
    let mut images = Vec::new();
    for file in postbode::content_io::read_content_dir(&content).unwrap() {
        match postbode::content::pictures::facts_of(&file.bytes) {
            Ok(facts) => {
                let picture = postbode::images::process(&file.bytes).unwrap();
                let variants: Vec<(u32, u32, &'static str, &'static [u8])> = picture
                    .variants
                    .iter()
                    .chain(picture.share.as_ref())
                    .map(|v| (v.width, v.height, &*Box::leak(v.path.clone().into_boxed_str()), leak(v.bytes.to_vec())))
                    .collect();
                images.push(EmbeddedImage {
                    source: Box::leak(file.path.into_boxed_str()),
                    width: facts.width,
                    height: facts.height,
                    png: facts.format == postbode::content::pictures::ImageFormat::Png,
                    variants: Box::leak(variants.into_boxed_slice()),
                });
            }
            Err(_) => files.push((&*Box::leak(file.path.into_boxed_str()), leak(file.bytes))),
        }
    }
    assert_eq!(images.len(), 2, "the header image and the cover");
    let embedded: &'static Embedded = Box::leak(Box::new(Embedded {
        files: Box::leak(files.into_boxed_slice()),
        images: Box::leak(images.into_boxed_slice()),
    }));
    let catalogue = postbode::content_io::embedded::catalogue(embedded).unwrap();
    assert_eq!(catalogue.pictures, crate::helpers::seed_catalogue().pictures, "the same versions as the CLI makes");
    let app = TestApp::with_catalogue((*catalogue).clone());
    let page = app.get("/posts/leiderschap-en-vertrouwen").await.body;
    let header = catalogue.pictures.get("beelden/PLAATSAANDUIDING-leiderschap-en-vertrouwen.jpg").unwrap();
    for variant in header.variants.iter() {
        assert!(page.contains(&variant.path), "{} is on the page", variant.path);
        let served = app.get_bytes(&variant.path).await;
        assert_eq!(served, variant.bytes.to_vec(), "{}", variant.path);
    }
}

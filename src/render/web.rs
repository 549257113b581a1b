//! The reader's web, in Dutch: the blog, the post pages and the Atom feed, rendered from the
//! same content as the emails (the Markdown goes through the same renderer, without inline
//! styles: the pages use one stylesheet, `site.css`).
//!
//! No JavaScript anywhere; every action is a plain form.

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::email::{BaseUrl, post_url};
use super::markdown_html::{ElementStyles, push_html, push_html_with_pictures};
use crate::content::pictures::Picture;
use crate::content::{Catalogue, Image, ImageSrc, Placement, Post, Site};

/// The stylesheet of every page, served at [`STYLESHEET_PATH`].
pub const STYLESHEET: &str = include_str!("site.css");
pub const STYLESHEET_PATH: &str = "/assets/site.css";

/// A small icon (a letter P on the site's colour), so browsers need not ask for /favicon.ico.
pub const FAVICON: &str = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 32 32\"><rect width=\"32\" height=\"32\" rx=\"6\" fill=\"#0b6e69\"/><text x=\"16\" y=\"23\" font-family=\"Georgia,serif\" font-size=\"20\" text-anchor=\"middle\" fill=\"#fff\">P</text></svg>";
pub const FAVICON_PATH: &str = "/assets/favicon.svg";

/// Where the privacy statement is served.
pub const PRIVACY_PATH: &str = "/privacy";

/// The frame of every page: Dutch, one `h1` (in the body), landmarks, a skip link, and a
/// footer with the sender's identity, the contact address, the business (name, address, KvK
/// number: BW 3:15d) and the privacy statement (the AVG). "Geen cookies, geen trackers" is
/// true: no response sets a cookie (tests/suite/web.rs) and no page loads anything from
/// elsewhere (the CSP).
/// `with_site_title` puts the site's name in the `<title>` and the header.
pub fn layout(site: &Site, title: &str, description: Option<&str>, with_site_title: bool, body: Markup) -> Markup {
    layout_with(site, title, description, with_site_title, html! {}, body)
}

/// [`layout`] with more in the `<head>`: the canonical address and the share card of the home
/// and post pages.
pub fn layout_with(
    site: &Site,
    title: &str,
    description: Option<&str>,
    with_site_title: bool,
    head: Markup,
    body: Markup,
) -> Markup {
    let site_title = with_site_title.then_some(site.title.as_str());
    html! {
        (DOCTYPE)
        html lang="nl" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) @if let Some(site) = site_title { " · " (site) } }
                @if let Some(d) = description { meta name="description" content=(d); }
                link rel="stylesheet" href=(STYLESHEET_PATH);
                link rel="icon" href=(FAVICON_PATH) type="image/svg+xml";
                link rel="alternate" type="application/atom+xml" href="/feed.xml" title=(format!("{} (RSS)", site.title));
                (head)
            }
            body {
                a.skip href="#inhoud" { "Direct naar de inhoud" }
                header.site { a href="/" { (site_title.unwrap_or("Naar het blog")) } }
                main id="inhoud" { (body) }
                footer.site {
                    p.identity {
                        (site.identity) " · "
                        a href={ "mailto:" (site.contact_email) } { (site.contact_email) }
                    }
                    p.business { (site.business.line()) }
                    p {
                        a href=(PRIVACY_PATH) { "Privacyverklaring" } " · "
                        a href="/feed.xml" { "Volg mijn artikelen via RSS" } " · Geen cookies, geen trackers."
                    }
                }
            }
        }
    }
}

fn when(post: &Post, catalogue: &Catalogue) -> String {
    let date = post.date().map(|d| format!("{} {}", super::dutch::dutch_date(d), d.year()));
    match &post.placement {
        Placement::InSeries { series, order, .. } => {
            let title = catalogue.series(series).map_or(series.as_str(), |s| s.title.as_str());
            match date {
                Some(d) => format!("{title} · deel {order} · {d}"),
                None => format!("{title} · deel {order}"),
            }
        }
        Placement::Broadcast { .. } => date.unwrap_or_default(),
    }
}

/// The posts public at `now`, newest first: broadcasts by date, series posts last-to-first.
fn newest_first(catalogue: &Catalogue, now: jiff::Timestamp) -> Vec<&Post> {
    let mut posts: Vec<&Post> = catalogue.public_posts(now).collect();
    posts.sort_by_key(|p| {
        let order = match p.placement {
            Placement::InSeries { order, .. } => order,
            Placement::Broadcast { .. } => 0,
        };
        (std::cmp::Reverse(p.date()), std::cmp::Reverse(order))
    });
    posts
}

/// How wide the article column shows an image (the stylesheet's `main` width): what the
/// browser picks a version of a picture for.
const ARTICLE_SIZES: &str = "(max-width: 44rem) 100vw, 42rem";

/// A processed image for browsers: WebP where they take it, JPEG or PNG otherwise, each in
/// the widths there are, with its size set (no layout shift). `first` for the image at the top
/// of a page (loaded at once, first); the others load when they come into view.
pub fn picture_html(picture: &Picture, alt: &str, sizes: &str, first: bool) -> Markup {
    let srcset = |variants: &mut dyn Iterator<Item = &crate::content::pictures::Variant>| {
        variants.map(|v| format!("{} {}w", v.path, v.width)).collect::<Vec<_>>().join(", ")
    };
    let Some(largest) = picture.largest() else { return html! {} };
    html! {
        picture {
            source type="image/webp" srcset=(srcset(&mut picture.webp())) sizes=(sizes);
            img src=(largest.path) srcset=(srcset(&mut picture.fallbacks())) sizes=(sizes)
                width=(largest.width) height=(largest.height) alt=(alt)
                loading=(if first { "eager" } else { "lazy" }) decoding="async"
                fetchpriority=[first.then_some("high")];
        }
    }
}

/// A post's header image: its picture, or the https address as written; nothing for a file
/// whose processed versions are not there.
fn header_image(catalogue: &Catalogue, image: &Image) -> Markup {
    match &image.src {
        ImageSrc::Web(url) => html! { img src=(url) alt=(image.alt); },
        ImageSrc::File(file) => catalogue
            .pictures
            .get(file)
            .map_or_else(|| html! {}, |picture| picture_html(picture, &image.alt, ARTICLE_SIZES, true)),
    }
}

/// The subscribe form's button (the blog's and `postbode form`'s).
pub const SUBSCRIBE_BUTTON: &str = "Stuur mij de whitepaper";

/// What happens after the form, in order, as it is: first a mail to confirm, then the
/// whitepaper, then the series at its cadence (each of its posts; new posts besides).
fn subscribe_intro(catalogue: &Catalogue) -> String {
    let then = match catalogue.series.first() {
        Some(series) => format!(
            "Daarna stuur ik je de whitepaper, en {} een artikel uit mijn serie „{}”.",
            series.cadence.dutch(),
            series.title
        ),
        None => "Daarna stuur ik je de whitepaper en mijn nieuwe artikelen.".to_owned(),
    };
    format!("Vul je e-mailadres in en bevestig het met de knop in de e-mail die je dan van mij krijgt. {then}")
}

/// The subscribe form with the whitepaper offer (and its cover). `source` is the page it is on.
pub fn subscribe_form(catalogue: &Catalogue, source: &str) -> Markup {
    let site = &catalogue.site;
    let cover = site.whitepaper_cover.as_ref().and_then(|c| catalogue.pictures.get(&c.file));
    html! {
        section.subscribe aria-labelledby="aanmelden" {
            h2 id="aanmelden" { "Gratis whitepaper: „" (site.whitepaper.title) "”" }
            @if let Some(cover) = cover {
                div.cover {
                    (picture_html(cover, &format!("Omslag van de whitepaper „{}”", site.whitepaper.title), "7rem", false))
                }
            }
            p { (subscribe_intro(catalogue)) }
            form method="post" action="/subscribe" {
                label for="email" { "Je e-mailadres" }
                input id="email" name="email" type="email" required autocomplete="email" inputmode="email";
                label for="first_name" { "Je voornaam (mag leeg blijven)" }
                input id="first_name" name="first_name" type="text" autocomplete="given-name" maxlength="60";
                input type="hidden" name="source_url" value=(source);
                div.hp aria-hidden="true" {
                    label for="website" { "Laat dit veld leeg" }
                    input id="website" name="website" type="text" tabindex="-1" autocomplete="off";
                }
                p.consent { (site.consent_text) }
                p.privacy { "Wat ik met je gegevens doe, lees je in mijn " a href=(PRIVACY_PATH) { "privacyverklaring" } "." }
                button type="submit" { (SUBSCRIBE_BUTTON) }
            }
        }
    }
}

/// The subscribe form for the author's own website, pointing at the stack's address `base`
/// (`postbode form URL`): the same fields, the same consent text, the privacy statement
/// linked. Plain HTML, no script; the honeypot is hidden with an inline style because the
/// author's stylesheet does not know our `.hp` class.
pub fn embeddable_form(site: &Site, base: &BaseUrl, page: Option<&str>) -> String {
    html! {
        form method="post" action=(base.join("/subscribe")) {
            label for="postbode-email" { "Je e-mailadres" }
            input id="postbode-email" name="email" type="email" required autocomplete="email" inputmode="email";
            label for="postbode-first-name" { "Je voornaam (mag leeg blijven)" }
            input id="postbode-first-name" name="first_name" type="text" autocomplete="given-name" maxlength="60";
            @if let Some(page) = page { input type="hidden" name="source_url" value=(page); }
            div style="position:absolute;left:-5000px" aria-hidden="true" {
                label for="postbode-website" { "Laat dit veld leeg" }
                input id="postbode-website" name="website" type="text" tabindex="-1" autocomplete="off";
            }
            p { (site.consent_text) }
            p { "Wat ik met je gegevens doe, lees je in mijn " a href=(base.join(PRIVACY_PATH)) { "privacyverklaring" } "." }
            button type="submit" { (SUBSCRIBE_BUTTON) }
        }
    }
    .into_string()
}

/// What every shared page says to a share preview (OpenGraph, as LinkedIn, WhatsApp and
/// Facebook read it) and to search engines: its one address, title, description, language.
fn card(site: &Site, kind: &str, url: &str, title: &str, description: Option<&str>) -> Markup {
    html! {
        link rel="canonical" href=(url);
        meta property="og:type" content=(kind);
        meta property="og:locale" content="nl_NL";
        meta property="og:site_name" content=(site.title);
        meta property="og:title" content=(title);
        @if let Some(d) = description { meta property="og:description" content=(d); }
        meta property="og:url" content=(url);
    }
}

/// The post's share card beyond [`card`]: its image, date and author, and a `BlogPosting`
/// (schema.org, JSON-LD) for search engines. JSON-LD is a data block that no browser runs,
/// so the pages stay without script (and the CSP allows none).
fn post_card(catalogue: &Catalogue, base: &BaseUrl, post: &Post, url: &str) -> Markup {
    let site = &catalogue.site;
    let share = share_image(catalogue, base, post.image.as_ref());
    let published = post.public_from().map(|t| t.to_string());
    let mut posting = serde_json::json!({
        "@context": "https://schema.org",
        "@type": "BlogPosting",
        "headline": post.title,
        "description": post.summary,
        "url": url,
        "mainEntityOfPage": url,
        "inLanguage": "nl-NL",
        "author": { "@type": "Person", "name": site.author },
        "wordCount": post.words,
        "timeRequired": format!("PT{}M", post.reading_minutes()),
    });
    if let Some(published) = &published {
        posting["datePublished"] = published.clone().into();
    }
    if let Some(share) = &share {
        posting["image"] = share.url.clone().into();
    }
    // `</script>` in a title must not end the block: `<` as its JSON escape.
    let json_ld = posting.to_string().replace('<', "\\u003c");
    html! {
        (card(site, "article", url, &post.title, Some(&post.summary)))
        (share_tags(share.as_ref()))
        @if let Some(published) = &published { meta property="article:published_time" content=(published); }
        meta property="article:author" content=(site.author);
        meta name="twitter:card" content=(if share.is_some() { "summary_large_image" } else { "summary" });
        script type="application/ld+json" { (PreEscaped(json_ld)) }
    }
}

/// The image of a share card: the post's header image as its 1200×630 crop, else the site's
/// default share image; a header image at an https address as it is (its size unknown).
struct ShareImage {
    url: String,
    size: Option<(u32, u32)>,
    alt: String,
}

fn share_image(catalogue: &Catalogue, base: &BaseUrl, header: Option<&Image>) -> Option<ShareImage> {
    let crop = |file: &str, alt: &str| {
        let share = catalogue.pictures.get(file)?.share.as_ref()?;
        Some(ShareImage { url: base.join(&share.path), size: Some((share.width, share.height)), alt: alt.to_owned() })
    };
    let from_header = header.and_then(|image| match &image.src {
        ImageSrc::Web(url) => Some(ShareImage { url: url.clone(), size: None, alt: image.alt.clone() }),
        ImageSrc::File(file) => crop(file, &image.alt),
    });
    from_header.or_else(|| {
        let site = &catalogue.site;
        crop(&site.share_image.as_ref()?.file, &site.title)
    })
}

fn share_tags(share: Option<&ShareImage>) -> Markup {
    html! {
        @if let Some(share) = share {
            meta property="og:image" content=(share.url);
            @if let Some((width, height)) = share.size {
                meta property="og:image:width" content=(width);
                meta property="og:image:height" content=(height);
            }
            meta property="og:image:alt" content=(share.alt);
        }
    }
}

/// The blog's front page at `now`: posts dated later are not shown yet.
pub fn home(catalogue: &Catalogue, base: &BaseUrl, now: jiff::Timestamp) -> Markup {
    let site = &catalogue.site;
    let url = base.join("/");
    layout_with(
        site,
        &site.title,
        site.description.as_deref(),
        false,
        html! {
            (card(site, "website", &url, &site.title, site.description.as_deref()))
            @let share = share_image(catalogue, base, None);
            (share_tags(share.as_ref()))
            meta name="twitter:card" content=(if share.is_some() { "summary_large_image" } else { "summary" });
        },
        html! {
            h1 { (site.title) }
            @if let Some(d) = &site.description { p { (d) } }
            h2 { "Artikelen" }
            ul.posts {
                @for post in newest_first(catalogue, now) {
                    li {
                        h2 { a href={ "/posts/" (post.slug) } { (post.title) } }
                        p.meta { (when(post, catalogue)) " · " (post.reading_time()) }
                        p { (post.summary) }
                    }
                }
            }
            (subscribe_form(catalogue, &url))
        },
    )
}

/// The post as a web page, with share links, its published reactions, the reaction form
/// (unless the post takes none) and the subscribe form.
pub fn post_page(
    catalogue: &Catalogue,
    post: &Post,
    base: &BaseUrl,
    reactions: &[crate::reactions::Reaction],
) -> Markup {
    post_page_with(catalogue, post, base, reactions, &super::reactions::FormValues::default())
}

/// [`post_page`] with the reaction form filled in: what the reader typed, and why it was not
/// sent.
pub fn post_page_with(
    catalogue: &Catalogue,
    post: &Post,
    base: &BaseUrl,
    reactions: &[crate::reactions::Reaction],
    form: &super::reactions::FormValues<'_>,
) -> Markup {
    let site = &catalogue.site;
    let url = post_url(base, post.slug.as_str());
    let mut body = String::with_capacity(post.body.len() * 2);
    let picture = |dest: &str, alt: &str| {
        let picture = catalogue.pictures.get(post.image_file(dest)?)?;
        Some(picture_html(picture, alt, ARTICLE_SIZES, false).into_string())
    };
    let link = |dest: &str| match post.internal_link(dest) {
        Some((slug, Some(fragment))) => format!("/posts/{slug}#{fragment}"),
        Some((slug, None)) => format!("/posts/{slug}"),
        None => dest.to_owned(),
    };
    push_html_with_pictures(&mut body, &post.body, &ElementStyles::NONE, &link, &picture);
    let encoded = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let share_text = format!("{} {url}", post.title);
    html! {
        (layout_with(site, &post.title, Some(&post.summary), true, post_card(catalogue, base, post, &url), html! {
            article {
                h1 { (post.title) }
                p.meta { (when(post, catalogue)) }
                p.byline { "Geschreven door " (site.author) " · " (post.reading_time()) }
                @if let Some(image) = &post.image { (header_image(catalogue, image)) }
                (PreEscaped(body))
                nav.share aria-label="Artikel delen" {
                    "Artikel delen: "
                    ul {
                        li { a href={ "https://www.linkedin.com/sharing/share-offsite/?url=" (encoded(&url)) } { "LinkedIn" } }
                        li { a href={ "https://wa.me/?text=" (encoded(&share_text)) } { "WhatsApp" } }
                        li { a href={ "mailto:?subject=" (encoded(&post.title).replace('+', "%20")) "&body=" (encoded(&url)) } { "E-mail" } }
                    }
                }
            }
            (super::reactions::published(catalogue, reactions))
            @if post.reactions { (super::reactions::form(catalogue, post, form)) }
            (subscribe_form(catalogue, &url))
        }))
    }
}

/// The privacy statement from `content/privacy.md`.
pub fn privacy_page(catalogue: &Catalogue) -> Markup {
    let page = &catalogue.privacy;
    let mut body = String::with_capacity(page.body.len() * 2);
    push_html(&mut body, &page.body, &ElementStyles::NONE, &|dest| dest.to_owned());
    layout(
        &catalogue.site,
        &page.title,
        None,
        true,
        html! {
            article {
                h1 { (page.title) }
                (PreEscaped(body))
            }
        },
    )
}

pub fn not_found(site: &Site) -> Markup {
    layout(
        site,
        "Pagina niet gevonden",
        None,
        true,
        html! {
            h1 { "Pagina niet gevonden" }
            p { "Deze pagina bestaat niet (meer). " a href="/" { "Naar alle artikelen" } }
        },
    )
}

/// Where search engines are told not to go: the addresses with a token in them (the pages
/// behind them answer `X-Robots-Tag: noindex` too, for a link found elsewhere).
pub const TOKEN_ROUTES: [&str; 6] =
    ["/confirm/", "/unsubscribe/", "/whitepaper/", "/reactie/", "/voorkeuren/", "/adres/"];

/// `/robots.txt`: everything but the token routes and the form's POST, and the sitemap.
pub fn robots_txt(base: &BaseUrl) -> String {
    let mut txt = String::from("User-agent: *\n");
    for route in TOKEN_ROUTES.iter().chain(&["/subscribe"]) {
        txt.push_str(&format!("Disallow: {route}\n"));
    }
    txt.push_str(&format!("\nSitemap: {}\n", base.join("/sitemap.xml")));
    txt
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// `/sitemap.xml` (sitemaps.org 0.9): the home page and every post public at `now`, with its
/// date as `lastmod` when it has one.
pub fn sitemap(catalogue: &Catalogue, base: &BaseUrl, now: jiff::Timestamp) -> String {
    let posts = newest_first(catalogue, now);
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    let newest = posts.iter().filter_map(|p| p.date()).max();
    let mut entry = |url: &str, lastmod: Option<jiff::civil::Date>| {
        xml.push_str(&format!("  <url><loc>{}</loc>", xml_escape(url)));
        if let Some(date) = lastmod {
            xml.push_str(&format!("<lastmod>{date}</lastmod>"));
        }
        xml.push_str("</url>\n");
    };
    entry(&base.join("/"), newest);
    for post in &posts {
        entry(&post_url(base, post.slug.as_str()), post.date());
    }
    xml.push_str("</urlset>\n");
    xml
}

/// The Atom feed (RFC 4287) with every post public at `now`, in full; with each post's number
/// of published reactions (`reactions`, by slug) as a `replies` link (RFC 4685, Atom
/// Threading), so feed readers show them.
pub fn atom_feed(
    catalogue: &Catalogue,
    base: &BaseUrl,
    now: jiff::Timestamp,
    reactions: &std::collections::HashMap<String, usize>,
) -> String {
    let site = &catalogue.site;
    let posts = newest_first(catalogue, now);
    // A post without a date takes the newest date there is (or the epoch), so the feed is the
    // same for the same content.
    let newest = posts.iter().filter_map(|p| p.date()).max();
    let stamp = |date: Option<jiff::civil::Date>| {
        date.or(newest).map_or("1970-01-01T00:00:00Z".to_owned(), |d| format!("{d}T00:00:00Z"))
    };
    let escape = xml_escape;
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" \
         xmlns:thr=\"http://purl.org/syndication/thread/1.0\" xml:lang=\"nl\">\n",
    );
    xml.push_str(&format!("  <id>{}</id>\n", escape(&base.join("/"))));
    xml.push_str(&format!("  <title>{}</title>\n", escape(&site.title)));
    if let Some(d) = &site.description {
        xml.push_str(&format!("  <subtitle>{}</subtitle>\n", escape(d)));
    }
    xml.push_str(&format!("  <updated>{}</updated>\n", stamp(newest)));
    xml.push_str(&format!(
        "  <link rel=\"self\" type=\"application/atom+xml\" href=\"{}\"/>\n",
        escape(&base.join("/feed.xml"))
    ));
    xml.push_str(&format!("  <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n", escape(&base.join("/"))));
    xml.push_str(&format!("  <author><name>{}</name></author>\n", escape(&site.author)));
    for post in posts {
        let url = post_url(base, post.slug.as_str());
        let mut html = String::new();
        push_html(&mut html, &post.body, &ElementStyles::NONE, &|dest| match post.internal_link(dest) {
            Some((slug, _)) => post_url(base, slug.as_str()),
            None => post
                .image_file(dest)
                .and_then(|file| super::email::mail_image_url(catalogue, &ImageSrc::File(file.to_owned()), base))
                .unwrap_or_else(|| dest.to_owned()),
        });
        xml.push_str("  <entry>\n");
        xml.push_str(&format!("    <id>{}</id>\n", escape(&url)));
        xml.push_str(&format!("    <title>{}</title>\n", escape(&post.title)));
        xml.push_str(&format!("    <updated>{}</updated>\n", stamp(post.date())));
        xml.push_str(&format!("    <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n", escape(&url)));
        let count = reactions.get(post.slug.as_str()).copied().unwrap_or(0);
        if post.reactions || count > 0 {
            xml.push_str(&format!(
                "    <link rel=\"replies\" type=\"text/html\" href=\"{}#reacties\" thr:count=\"{count}\"/>\n",
                escape(&url)
            ));
        }
        xml.push_str(&format!("    <summary>{}</summary>\n", escape(&post.summary)));
        xml.push_str(&format!("    <content type=\"html\">{}</content>\n", escape(&html)));
        xml.push_str("  </entry>\n");
    }
    xml.push_str("</feed>\n");
    xml
}

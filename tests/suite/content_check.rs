//! Validation: every rule reports `path:line: message`, and all problems come at once.

use std::path::Path;

use postbode::content::{Catalogue, SourceFile};

use crate::helpers::{postbode, stderr, stdout};

const SITE: &str = concat!(
    "title = \"Blog\"\nauthor = \"René Rensen\"\nidentity = \"René Rensen, coach\"\n",
    "consent_text = \"Ja.\"\nwhitepaper_title = \"Tips\"\nwhitepaper_url = \"https://example.org/tips.pdf\"\n",
    "contact_email = \"rene@example.org\"\n",
    "business_name = \"Rensen Leiderschap\"\nbusiness_address = \"Kerkstraat 1, 3511 AB Utrecht\"\nkvk_number = \"12345678\"\n",
);
const PRIVACY: &str =
    "+++\ntitle = \"Privacyverklaring\"\n+++\n\nMail [{{contact_email}}](mailto:{{contact_email}}).\n";
const SERIES: &str = "title = \"Leiderschap\"\ncadence = \"weekly\"\nsend_window = \"tuesday 08:00\"\n";

/// A valid series post; tests break one thing at a time.
fn post(slug: &str, order: u32, body: &str) -> String {
    format!(
        "+++\ntitle = \"Titel {slug}\"\nslug = \"{slug}\"\norder = {order}\nsummary = \"Samenvatting.\"\n+++\n\n{body}\n"
    )
}

/// Problems for a content folder of the site, the series and `files`.
fn problems(files: &[(&str, String)]) -> Vec<String> {
    let mut all = vec![
        SourceFile::text("site.toml", SITE),
        SourceFile::text("privacy.md", PRIVACY),
        SourceFile::text("reeks/series.toml", SERIES),
    ];
    all.extend(files.iter().map(|(p, t)| SourceFile::text(*p, t.clone())));
    match Catalogue::parse(Path::new("content"), &all) {
        Ok(_) => Vec::new(),
        Err(problems) => problems.iter().map(|p| p.to_string()).collect(),
    }
}

fn one_problem(files: &[(&str, String)]) -> String {
    let found = problems(files);
    assert_eq!(found.len(), 1, "expected one problem, got {found:#?}");
    found.into_iter().next().unwrap()
}

#[test]
fn the_real_content_folder_is_valid() {
    let out = postbode(&["check"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("no problems"));
}

#[test]
fn a_valid_folder_has_no_problems() {
    assert_eq!(problems(&[("reeks/01.md", post("een", 1, "Tekst."))]), Vec::<String>::new());
}

#[test]
fn missing_required_field() {
    let text = "+++\ntitle = \"T\"\nslug = \"een\"\norder = 1\n+++\nTekst.\n";
    assert_eq!(
        one_problem(&[("reeks/01.md", text.into())]),
        "content/reeks/01.md:1: the required field `summary` is missing"
    );
}

#[test]
fn empty_required_field() {
    let text = post("een", 1, "Tekst.").replace("title = \"Titel een\"", "title = \"  \"");
    assert_eq!(one_problem(&[("reeks/01.md", text)]), "content/reeks/01.md:2: `title` is empty");
}

#[test]
fn duplicate_slug() {
    let found = one_problem(&[("reeks/01.md", post("een", 1, "A.")), ("reeks/02.md", post("een", 2, "B."))]);
    assert_eq!(found, "content/reeks/02.md:3: the slug `een` is already used by content/reeks/01.md");
}

#[test]
fn duplicate_order() {
    let found = problems(&[("reeks/01.md", post("een", 1, "A.")), ("reeks/02.md", post("twee", 1, "B."))]);
    assert_eq!(
        found,
        [
            "content/reeks/02.md:1: `order = 1` is also used by content/reeks/01.md; each post of a series needs its own number"
        ]
    );
}

#[test]
fn missing_order_field_in_a_series() {
    let text = post("een", 1, "A.").replace("order = 1\n", "");
    let found = problems(&[("reeks/01.md", text)]);
    assert!(
        found.contains(
            &"content/reeks/01.md:1: this post is in the series `reeks` and needs its place in it, like `order = 1`"
                .to_owned()
        ),
        "{found:#?}"
    );
}

#[test]
fn gap_in_the_order() {
    let found = one_problem(&[("reeks/01.md", post("een", 1, "A.")), ("reeks/03.md", post("drie", 3, "C."))]);
    assert_eq!(
        found,
        "content/reeks/series.toml:1: the series `reeks` has no post with order 2; number the posts 1, 2, 3, … without gaps"
    );
}

#[test]
fn unknown_front_matter_key() {
    let text = post("een", 1, "A.").replace("order = 1\n", "order = 1\nauteur = \"René\"\n");
    let found = one_problem(&[("reeks/01.md", text)]);
    assert!(found.starts_with("content/reeks/01.md:5: unknown field `auteur`; the fields here are"), "{found}");
}

#[test]
fn front_matter_image_without_alt_text() {
    let text = post("een", 1, "A.").replace("order = 1\n", "order = 1\nimage = \"https://x.nl/a.jpg\"\n");
    assert_eq!(
        one_problem(&[("reeks/01.md", text)]),
        "content/reeks/01.md:5: the image has no alt text; add `image_alt = \"what the image shows\"` for readers who cannot see it"
    );
}

#[test]
fn body_image_without_alt_text() {
    let found = one_problem(&[("reeks/01.md", post("een", 1, "Tekst.\n\n![](https://x.nl/a.jpg)"))]);
    assert!(found.starts_with("content/reeks/01.md:10: the image `https://x.nl/a.jpg` has no alt text"), "{found}");
}

#[test]
fn empty_body() {
    assert_eq!(
        one_problem(&[("reeks/01.md", post("een", 1, "   "))]),
        "content/reeks/01.md:7: the post has no text after the front matter"
    );
}

#[test]
fn relative_link_that_is_not_a_post() {
    let found = one_problem(&[("reeks/01.md", post("een", 1, "Zie [hier](over-mij.html)."))]);
    assert!(
        found.starts_with("content/reeks/01.md:8: the link `over-mij.html` is not an absolute https:// or mailto: link and does not point to another post"),
        "{found}"
    );
}

#[test]
fn plain_http_link() {
    let found = one_problem(&[("reeks/01.md", post("een", 1, "Zie [hier](http://x.nl)."))]);
    assert!(found.starts_with("content/reeks/01.md:8: the link `http://x.nl` uses http://"), "{found}");
}

#[test]
fn link_to_a_post_that_does_not_exist() {
    for dest in ["/posts/bestaat-niet", "02-weg.md"] {
        let found = one_problem(&[("reeks/01.md", post("een", 1, &format!("Zie [hier]({dest}).")))]);
        assert_eq!(found, format!("content/reeks/01.md:8: the link `{dest}` points to a post that does not exist"));
    }
}

#[test]
fn links_to_other_posts_resolve_to_their_web_address() {
    let files = [
        ("reeks/01.md", post("een", 1, "Lees [twee](02.md), [drie](/posts/drie#kop) en [mail](mailto:a@b.nl).")),
        ("reeks/02.md", post("twee", 2, "B.")),
        ("reeks/03.md", post("drie", 3, "C.")),
    ];
    assert_eq!(problems(&files), Vec::<String>::new());
}

#[test]
fn raw_html_and_a_second_title() {
    let found = problems(&[("reeks/01.md", post("een", 1, "# Titel\n\n<div>x</div>"))]);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(found[0].contains(":8: a `#` heading repeats the title"));
    assert!(found[1].contains(":10: raw HTML is not allowed"));
}

#[test]
fn broadcast_needs_a_date_and_series_settings_are_checked() {
    let broadcast = "+++\ntitle = \"Nieuws\"\nslug = \"nieuws\"\nsummary = \"S.\"\n+++\nTekst.\n";
    let found = problems(&[
        ("reeks/01.md", post("een", 1, "A.")),
        ("nieuws.md", broadcast.into()),
        ("andere/series.toml", SERIES.replace("weekly", "monthly").replace("tuesday", "dinsdagmiddag")),
    ]);
    assert!(
        found.iter().any(|p| p.starts_with("content/nieuws.md:1: this post is not in a series, so it is a broadcast")),
        "{found:#?}"
    );
    assert!(
        found.iter().any(|p| p.starts_with("content/andere/series.toml:2: `monthly` is not a cadence")),
        "{found:#?}"
    );
    assert!(
        found.iter().any(|p| p.starts_with("content/andere/series.toml:3: `dinsdagmiddag 08:00` is not a send window")),
        "{found:#?}"
    );
    assert_eq!(found.len(), 3, "{found:#?}");
}

#[test]
fn series_without_posts() {
    assert_eq!(problems(&[]), ["content/reeks/series.toml:1: the series `reeks` has no posts yet"]);
}

#[test]
fn invalid_toml_and_missing_fences() {
    let found = problems(&[
        ("reeks/01.md", post("een", 1, "A.").replace("order = 1", "order = = 1")),
        ("reeks/02.md", "title = \"x\"\n".into()),
    ]);
    assert!(found.iter().any(|p| p.starts_with("content/reeks/01.md:4: this is not valid TOML")), "{found:#?}");
    assert!(
        found.iter().any(|p| p.starts_with("content/reeks/02.md:1: the file must start with a front matter block")),
        "{found:#?}"
    );
}

/// Writes `text` to `rel` under `root`, with its folders.
fn write_file(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// The CLI lists every problem of every file in one run and exits non-zero.
#[test]
fn check_reports_all_problems_at_once_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let write = |rel: &str, text: &str| write_file(dir.path(), rel, text);
    write("site.toml", SITE);
    write("privacy.md", PRIVACY);
    write("reeks/series.toml", SERIES);
    write("reeks/01.md", &post("een", 1, "Zie [x](http://x.nl)."));
    write("reeks/02.md", &post("een", 2, ""));
    let out = postbode(&["check", "--content", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().collect();
    let root = dir.path().display().to_string();
    assert_eq!(lines.len(), 4, "{err}");
    assert!(lines[0].starts_with(&format!("{root}/reeks/01.md:8: the link `http://x.nl` uses http://")), "{err}");
    assert_eq!(lines[1], format!("{root}/reeks/02.md:3: the slug `een` is already used by {root}/reeks/01.md"));
    assert_eq!(lines[2], format!("{root}/reeks/02.md:7: the post has no text after the front matter"));
    assert_eq!(lines[3], "3 problems found");
}

#[test]
fn check_explains_a_missing_folder() {
    let out = postbode(&["check", "--content", "does/not/exist"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("the content folder does/not/exist does not exist"), "{}", stderr(&out));
}

#[test]
fn whitepaper_must_exist_and_be_a_document() {
    let with = |lines: &str| {
        let files = vec![
            SourceFile::text("site.toml", SITE.replace("whitepaper_url = \"https://example.org/tips.pdf\"\n", lines)),
            SourceFile::text("privacy.md", PRIVACY),
            SourceFile::text("reeks/series.toml", SERIES),
            SourceFile::text("reeks/01.md", post("een", 1, "A.")),
            SourceFile { path: "tips.txt".into(), bytes: b"tips".to_vec() },
        ];
        match Catalogue::parse(Path::new("content"), &files) {
            Ok(_) => Vec::new(),
            Err(problems) => problems.iter().map(|p| p.to_string()).collect(),
        }
    };
    assert_eq!(
        with("whitepaper_file = \"weg.pdf\"\n"),
        ["content/site.toml:6: the whitepaper file `weg.pdf` is not in the content folder"]
    );
    assert_eq!(
        with("whitepaper_file = \"tips.txt\"\n"),
        ["content/site.toml:6: the whitepaper must be a PDF, EPUB or ZIP file"]
    );
    assert_eq!(
        with("whitepaper_url = \"http://x.nl/a.pdf\"\n"),
        ["content/site.toml:6: `whitepaper_url` must be an https:// address"]
    );
    assert_eq!(
        with(""),
        [
            "content/site.toml:1: the whitepaper is missing: set `whitepaper_file` (a file in the content folder) or `whitepaper_url`"
        ]
    );
}

#[test]
fn content_files_must_be_utf8() {
    let files = vec![
        SourceFile::text("site.toml", SITE),
        SourceFile::text("privacy.md", PRIVACY),
        SourceFile::text("reeks/series.toml", SERIES),
        SourceFile { path: "reeks/01.md".into(), bytes: b"+++\ntitle = \"caf\xe9\"\n".to_vec() },
    ];
    let problems = Catalogue::parse(Path::new("content"), &files).unwrap_err();
    assert_eq!(
        problems.iter().next().unwrap().to_string(),
        "content/reeks/01.md:2: this file is not UTF-8 text; save it as UTF-8"
    );
}

/// Problems of a content folder with `site` as its site.toml and `privacy` as privacy.md.
fn site_problems(site: &str, privacy: Option<&str>) -> Vec<String> {
    let mut files = vec![
        SourceFile::text("site.toml", site),
        SourceFile::text("reeks/series.toml", SERIES),
        SourceFile::text("reeks/01.md", post("een", 1, "A.")),
    ];
    files.extend(privacy.map(|p| SourceFile::text("privacy.md", p)));
    match Catalogue::parse(Path::new("content"), &files) {
        Ok(_) => Vec::new(),
        Err(problems) => problems.iter().map(|p| p.to_string()).collect(),
    }
}

#[test]
fn the_contact_address_is_required_and_checked() {
    let without = SITE.replace("contact_email = \"rene@example.org\"\n", "");
    assert_eq!(
        site_problems(&without, Some(PRIVACY)),
        ["content/site.toml:1: the required field `contact_email` is missing"]
    );
    let wrong = SITE.replace("rene@example.org", "rene at example");
    assert_eq!(
        site_problems(&wrong, Some(PRIVACY)),
        ["content/site.toml:7: `contact_email` `rene at example` is not an email address, like rene@voorbeeld.nl"]
    );
}

/// Dutch law asks a business's website to name the business, its address and its KvK number
/// (BW 3:15d, Handelsregisterwet art. 27): `check` refuses content without them.
#[test]
fn the_business_is_required_and_checked() {
    for key in ["business_name", "business_address", "kvk_number"] {
        let line = SITE.lines().find(|l| l.starts_with(key)).unwrap();
        let without = SITE.replace(&format!("{line}\n"), "");
        assert_eq!(
            site_problems(&without, Some(PRIVACY)),
            [format!("content/site.toml:1: the required field `{key}` is missing")]
        );
    }
    let wrong = SITE.replace("kvk_number = \"12345678\"", "kvk_number = \"1234567\"");
    assert_eq!(
        site_problems(&wrong, Some(PRIVACY)),
        ["content/site.toml:10: `kvk_number` `1234567` is not a KvK number: eight digits, like 12345678"]
    );
    let vat = |id: &str| site_problems(&format!("{SITE}vat_number = \"{id}\"\n"), Some(PRIVACY));
    assert_eq!(vat("NL123456789B01"), Vec::<String>::new());
    assert_eq!(vat("BE0123456789"), Vec::<String>::new());
    assert_eq!(
        vat("NL12345678901"),
        ["content/site.toml:11: `vat_number` `NL12345678901` is not a btw-id, like NL123456789B01"]
    );
    // Shown as the law asks: the page footer and the privacy statement's marker.
    let files = vec![
        SourceFile::text("site.toml", format!("{SITE}vat_number = \"NL 1234.56.789.B01\"\n")),
        SourceFile::text("privacy.md", "+++\ntitle = \"Privacy\"\n+++\n\nVerantwoordelijk: {{business}}.\n"),
    ];
    let catalogue = Catalogue::parse(std::path::Path::new("content"), &files).unwrap();
    let line = "Rensen Leiderschap · Kerkstraat 1, 3511 AB Utrecht · KvK 12345678 · btw-id NL123456789B01";
    assert_eq!(catalogue.site.business.line(), line);
    assert!(catalogue.privacy.body.contains(&format!("Verantwoordelijk: {line}.")), "{}", catalogue.privacy.body);
}

#[test]
fn the_privacy_statement_is_required_and_its_markers_are_known() {
    assert_eq!(
        site_problems(SITE, None),
        [
            "content/privacy.md:1: the content folder has no privacy.md: the privacy statement every page, form and mail links to"
        ]
    );
    let unknown = "+++\ntitle = \"Privacy\"\n+++\n\nWe bewaren het {{bewaartermijn}} maanden.\n";
    assert_eq!(
        site_problems(SITE, Some(unknown)),
        [
            "content/privacy.md:5: unknown marker `{{bewaartermijn}}`; the markers are `{{author}}`, `{{identity}}`, `{{contact_email}}`, `{{business}}`, `{{kvk_number}}`, `{{retention}}`, `{{retention_months}}`"
        ]
    );
    let relative = "+++\ntitle = \"Privacy\"\n+++\n\nZie [hier](/posts/een).\n";
    assert_eq!(
        site_problems(SITE, Some(relative)),
        ["content/privacy.md:5: the link `/posts/een` must be an https:// or mailto: address"]
    );
    let untitled = "+++\n+++\n\nTekst.\n";
    assert_eq!(site_problems(SITE, Some(untitled)), ["content/privacy.md:1: the required field `title` is missing"]);
}

#[test]
fn the_privacy_statement_says_what_the_settings_say() {
    let parse = |months: u32| {
        let site = format!("{SITE}retention_months = {months}\n");
        let privacy = "+++\ntitle = \"Privacy\"\n+++\n\n{{identity}}: na {{retention}} weg ({{retention_months}}); {{contact_email}}.\n";
        let files = vec![
            SourceFile::text("site.toml", site),
            SourceFile::text("privacy.md", privacy),
            SourceFile::text("reeks/series.toml", SERIES),
            SourceFile::text("reeks/01.md", post("een", 1, "A.")),
        ];
        Catalogue::parse(Path::new("content"), &files).unwrap()
    };
    let catalogue = parse(18);
    assert_eq!(catalogue.site.retention_months, 18);
    assert_eq!(catalogue.privacy.body.trim(), "René Rensen, coach: na 18 maanden weg (18); rene@example.org.");
    assert!(catalogue.post("privacy").is_none(), "privacy.md is a page, not a broadcast");
    // One month in the singular.
    assert_eq!(parse(1).privacy.body.trim(), "René Rensen, coach: na 1 maand weg (1); rene@example.org.");
}

#[test]
fn redirects_and_form_origins_must_be_https_addresses_of_the_right_shape() {
    let with = |lines: &str| site_problems(&format!("{SITE}{lines}"), Some(PRIVACY));
    assert_eq!(
        with(
            "after_subscribe_url = \"https://www.voorbeeld.nl/bedankt\"\nafter_confirm_url = \"https://www.voorbeeld.nl/welkom\"\nform_origins = [\"https://www.voorbeeld.nl\", \"https://voorbeeld.nl:8443\"]\n"
        ),
        Vec::<String>::new()
    );
    assert_eq!(
        with("after_subscribe_url = \"http://www.voorbeeld.nl/bedankt\"\n"),
        [
            "content/site.toml:11: `after_subscribe_url`: `http://www.voorbeeld.nl/bedankt` must be an absolute https:// address"
        ]
    );
    assert_eq!(
        with("after_confirm_url = \"/welkom\"\n"),
        ["content/site.toml:11: `after_confirm_url`: `/welkom` must be an absolute https:// address"]
    );
    assert_eq!(
        with("form_origins = [\"https://www.voorbeeld.nl/aanmelden\"]\n"),
        [
            "content/site.toml:11: `form_origins`: `https://www.voorbeeld.nl/aanmelden` must be an origin only, like https://www.voorbeeld.nl (no path)"
        ]
    );
    assert_eq!(
        with("form_origins = \"https://www.voorbeeld.nl\"\n"),
        ["content/site.toml:11: `form_origins` must be a list of texts in quotes, like `form_origins = [\"…\"]`"]
    );
}

#[test]
fn the_weekly_summary_settings_are_checked() {
    let lines = SITE.lines().count();
    assert!(site_problems(&format!("{SITE}summary_email = \"rene@example.org\"\n"), Some(PRIVACY)).is_empty());
    assert!(
        site_problems(
            &format!("{SITE}summary_email = \"rene@example.org\"\nsummary_at = \"vrijdag 16:30\"\n"),
            Some(PRIVACY)
        )
        .is_empty()
    );
    assert_eq!(
        site_problems(&format!("{SITE}summary_email = \"rene\"\n"), Some(PRIVACY)),
        [format!(
            "content/site.toml:{}: `summary_email` `rene` is not an email address, like rene@voorbeeld.nl",
            lines + 1
        )]
    );
    assert_eq!(
        site_problems(
            &format!("{SITE}summary_email = \"rene@example.org\"\nsummary_at = \"daily 09:00\"\n"),
            Some(PRIVACY)
        ),
        [format!("content/site.toml:{}: `summary_at` is weekly: name a day, like `monday 09:00`", lines + 2)]
    );
    assert_eq!(
        site_problems(&format!("{SITE}summary_at = \"monday 09:00\"\n"), Some(PRIVACY)),
        [format!(
            "content/site.toml:{}: `summary_at` needs `summary_email`: the address the summary goes to",
            lines + 1
        )]
    );
}

/// Keys nothing uses any more are named at their line with what to do, not half-read.
#[test]
fn retired_series_keys_are_reported_with_their_line() {
    let series = format!("{SERIES}description = \"Reeks\"\nsender_name = \"René\"\n");
    let all = vec![
        SourceFile::text("site.toml", SITE),
        SourceFile::text("privacy.md", PRIVACY),
        SourceFile::text("reeks/series.toml", &series),
        SourceFile::text("reeks/a.md", post("a", 1, "Tekst.")),
    ];
    let problems: Vec<String> =
        Catalogue::parse(Path::new("content"), &all).unwrap_err().iter().map(|p| p.to_string()).collect();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].starts_with("content/reeks/series.toml:4: `description` is not used any more"), "{problems:?}");
    assert!(problems[1].starts_with("content/reeks/series.toml:5: `sender_name` is not used any more"), "{problems:?}");
    assert!(problems.iter().all(|p| p.ends_with("remove this line")), "{problems:?}");
}

/// A broadcast dated more than a week ago is valid, but `check` warns (exit 0): deploying it
/// mails old news to everyone without it.
#[test]
fn check_warns_about_a_broadcast_dated_more_than_a_week_ago() {
    let dir = tempfile::tempdir().unwrap();
    let write = |rel: &str, text: &str| write_file(dir.path(), rel, text);
    let today = jiff::Zoned::now().with_time_zone(postbode::content::site_time_zone()).date();
    let dated = |days: i64, slug: &str| {
        let date = today.checked_sub(jiff::Span::new().days(days)).unwrap();
        format!("+++\ntitle = \"{slug}\"\nslug = \"{slug}\"\ndate = {date}\nsummary = \"S.\"\n+++\n\nTekst.\n")
    };
    write("site.toml", SITE);
    write("privacy.md", PRIVACY);
    write("reeks/series.toml", SERIES);
    write("reeks/01.md", &post("een", 1, "Tekst."));
    write("oud.md", &dated(8, "oud"));
    write("recent.md", &dated(7, "recent"));
    let out = postbode(&["check", "--content", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let warnings: Vec<String> = stdout(&out).lines().filter(|l| l.contains("warning:")).map(str::to_owned).collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let root = dir.path().display().to_string();
    assert!(warnings[0].starts_with(&format!("{root}/oud.md:4: warning: this broadcast is dated")), "{warnings:?}");
}

/// A JPEG of `width`×`height` (a gradient), as a camera or an editor would save it.
fn jpeg(width: u32, height: u32) -> Vec<u8> {
    use image::ImageEncoder;
    let pixels = image::RgbImage::from_fn(width, height, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 80]));
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 85)
        .write_image(pixels.as_raw(), width, height, image::ExtendedColorType::Rgb8)
        .unwrap();
    bytes
}

/// Problems of the folder with these text files and these image files.
fn image_problems(texts: &[(&str, String)], images: &[(&str, Vec<u8>)]) -> Vec<String> {
    let mut all = vec![SourceFile::text("privacy.md", PRIVACY), SourceFile::text("reeks/series.toml", SERIES)];
    if !texts.iter().any(|(path, _)| *path == "site.toml") {
        all.push(SourceFile::text("site.toml", SITE));
    }
    all.extend(texts.iter().map(|(p, t)| SourceFile::text(*p, t.clone())));
    all.extend(images.iter().map(|(p, b)| SourceFile { path: (*p).into(), bytes: b.clone() }));
    match Catalogue::parse(Path::new("content"), &all) {
        Ok(_) => Vec::new(),
        Err(problems) => problems.iter().map(|p| p.to_string()).collect(),
    }
}

fn with_header(image: &str) -> String {
    post("een", 1, "Tekst.").replace("+++\n\n", &format!("image = \"{image}\"\nimage_alt = \"Een foto\"\n+++\n\n"))
}

#[test]
fn images_are_files_of_the_folder_that_suit_their_use() {
    let photo = ("reeks/beelden/foto.jpg", jpeg(1300, 700));
    // Named from the post's own folder, from the text, and in site.toml: all good.
    let site =
        format!("{SITE}whitepaper_cover = \"reeks/beelden/foto.jpg\"\nshare_image = \"reeks/beelden/foto.jpg\"\n");
    let body = "Tekst.\n\n![Een grafiek](beelden/foto.jpg)";
    let good =
        post("een", 1, body).replace("+++\n\n", "image = \"beelden/foto.jpg\"\nimage_alt = \"Een foto\"\n+++\n\n");
    assert_eq!(
        image_problems(&[("site.toml", site), ("reeks/01.md", good)], std::slice::from_ref(&photo)),
        Vec::<String>::new()
    );

    assert_eq!(
        image_problems(&[("reeks/01.md", with_header("beelden/weg.jpg"))], &[]),
        ["content/reeks/01.md:6: the image `reeks/beelden/weg.jpg` is not in the content folder"]
    );
    let small = ("reeks/beelden/foto.jpg", jpeg(1000, 700));
    assert_eq!(
        image_problems(&[("reeks/01.md", with_header("beelden/foto.jpg"))], &[small]),
        ["content/reeks/01.md:6: the image `reeks/beelden/foto.jpg` is 1000×700 px, too small for a header image \
          (shown full width and as the share card): it needs at least 1200×630 px"]
    );
    let gif = ("reeks/beelden/foto.jpg", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;".to_vec());
    let unreadable = image_problems(&[("reeks/01.md", with_header("beelden/foto.jpg"))], &[gif]);
    assert_eq!(unreadable.len(), 1, "{unreadable:?}");
    assert!(unreadable[0].starts_with("content/reeks/01.md:6: the image `reeks/beelden/foto.jpg` is a Gif file"));
    let no_alt = post("een", 1, "Tekst.\n\n![](beelden/foto.jpg)");
    assert_eq!(
        image_problems(&[("reeks/01.md", no_alt)], std::slice::from_ref(&photo)),
        ["content/reeks/01.md:10: the image `beelden/foto.jpg` has no alt text; describe it between the brackets: \
          `![what the image shows](beelden/foto.jpg)`"]
    );
    let narrow = post("een", 1, "Tekst.\n\n![Een grafiek](beelden/smal.jpg)");
    assert_eq!(
        image_problems(&[("reeks/01.md", narrow)], &[("reeks/beelden/smal.jpg", jpeg(500, 300))]),
        ["content/reeks/01.md:10: the image `reeks/beelden/smal.jpg` is 500×300 px, too small for an image in the \
          text (shown at the mail's full width): it needs at least 600×1 px"]
    );
    let outside = post("een", 1, "Tekst.\n\n![Een grafiek](../../foto.jpg)");
    assert_eq!(
        image_problems(&[("reeks/01.md", outside)], &[]),
        ["content/reeks/01.md:10: the image `../../foto.jpg` points outside the content folder"]
    );
    let cover = format!("{SITE}whitepaper_cover = \"omslag.jpg\"\n");
    assert_eq!(
        image_problems(&[("site.toml", cover), ("reeks/01.md", post("een", 1, "Tekst."))], &[]),
        ["content/site.toml:11: the image `omslag.jpg` is not in the content folder"]
    );
}

/// The consent text is what readers agree to: a cadence it promises must be the series'.
#[test]
fn the_consent_text_promises_only_a_cadence_a_series_keeps() {
    let with = |consent: &str| site_problems(&SITE.replace("\"Ja.\"", &format!("{consent:?}")), Some(PRIVACY));
    // The series is weekly.
    assert!(with("Je krijgt van mij elke week een artikel.").is_empty());
    assert!(with("Wekelijks een artikel, afmelden kan altijd.").is_empty());
    assert!(with("Af en toe een artikel.").is_empty(), "no cadence, nothing to hold it to");
    assert_eq!(
        with("Je krijgt om de twee weken een deel van mijn serie."),
        [
            "content/site.toml:4: consent_text promises \"om de twee weken\", but `reeks` goes out elke week: readers agree to what the text says, so keep the two in step"
        ]
    );
    assert_eq!(with("Elke dag een tip!").len(), 1);
}

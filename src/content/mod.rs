//! The author's content: Markdown posts and series, parsed and validated into a [`Catalogue`].
//!
//! ```text
//! content/
//!   site.toml                        site-wide settings (title, author, identity)
//!   leiderschap/
//!     series.toml                    a folder with series.toml is a series
//!     01-leiderschap-en-vertrouwen.md  posts of the series, each with an `order`
//!   posts/
//!     kerstgroet.md                  any other post is a broadcast and needs a `date`
//! ```
//!
//! Parsing never stops at the first mistake: [`Catalogue::parse`] returns every [`Problem`]
//! with its file and line, so the author can fix them all in one go. This module does no I/O;
//! the caller hands it the files (from disk, or embedded in a Lambda binary).

mod front_matter;
mod markdown_scan;
mod new_post;
pub mod pictures;
mod problem;
mod release;
mod series;
mod site;
mod slug;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use front_matter::Fields;
pub use front_matter::Located;
use markdown_scan::LinkTarget;
pub use markdown_scan::markdown_options;
pub use new_post::{NewPost, NewPostKind, new_post};
pub use problem::{Problem, Problems};
pub use release::{is_example_domain, real_address, release_problems};
pub use series::{Cadence, SendWindow, promised_cadences};
pub use site::{
    DEFAULT_RETENTION_MONTHS, PRIVACY_FILE, Page, SERIES_FILE, SITE_FILE, Site, Summary, Whitepaper, WhitepaperSource,
};
pub use slug::Slug;

/// A file of the content folder: its path relative to the folder (with `/` separators) and
/// its bytes. `.md` and `.toml` files are content; anything else (the whitepaper PDF) is an
/// asset that content may refer to.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: String,
    pub bytes: Vec<u8>,
}

impl SourceFile {
    pub fn text(path: impl Into<String>, text: impl Into<String>) -> SourceFile {
        SourceFile { path: path.into(), bytes: text.into().into_bytes() }
    }

    fn is_text(&self) -> bool {
        self.path.ends_with(".md") || self.path.ends_with(".toml")
    }
}

/// A series from `FOLDER/series.toml`: posts that reach each subscriber one at a time.
#[derive(Debug, Clone)]
pub struct Series {
    /// The folder name, e.g. `leiderschap`.
    pub id: String,
    pub title: String,
    pub cadence: Cadence,
    pub send_window: SendWindow,
    pub time_zone: jiff::tz::TimeZone,
    /// `first_post = "at_once"`: post 1 goes right after confirming, not at the next window.
    pub first_post_at_once: bool,
    /// Posts of the series by `order`, as indexes into [`Catalogue::posts`].
    pub posts: Vec<usize>,
}

/// The time zone of dates and times in the content (`date`, `send_at`): the author's.
pub fn site_time_zone() -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get("Europe/Amsterdam").unwrap_or(jiff::tz::TimeZone::UTC)
}

/// Where a post belongs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// Part of a series: sent to each subscriber in `order`. The date, if any, is only shown
    /// on the web.
    InSeries { series: String, order: u32, date: Option<jiff::civil::Date> },
    /// A broadcast: goes once to every subscriber once its date has come (at the series'
    /// window), or at `send_at` when it has one (at the first sender run from that moment).
    Broadcast { date: jiff::civil::Date, send_at: Option<jiff::civil::DateTime> },
}

/// An image shown above the post, always with alt text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    pub src: ImageSrc,
    pub alt: String,
}

/// Where an image is: a file of the content folder (processed into the sizes pages and mails
/// use, see [`pictures`]) or an https address elsewhere (used as it is).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageSrc {
    /// Its path in the content folder.
    File(String),
    Web(String),
}

/// One post, validated: every field present, every link resolvable.
#[derive(Debug, Clone)]
pub struct Post {
    /// The file as the author knows it (content folder joined with the relative path).
    pub source: PathBuf,
    pub slug: Slug,
    pub title: String,
    /// One or two sentences: the email preheader and the feed summary.
    pub summary: String,
    pub placement: Placement,
    pub image: Option<Image>,
    /// Whether the post takes reactions (its form, and the mail's "Reageer op dit artikel"):
    /// yes unless its front matter says `reactions = false`.
    pub reactions: bool,
    /// The Markdown after the front matter.
    pub body: String,
    pub words: usize,
    /// The line of `date` in the file (1 without one), for warnings about it.
    pub date_line: usize,
    /// Links written as another post's file or `/posts/…`, mapped to `(slug, fragment)`.
    internal_links: HashMap<String, (Slug, Option<String>)>,
    /// Images in the text that are files of the content folder: as written → their path.
    image_files: HashMap<String, String>,
}

/// A reader's pace for the reading time (Dutch prose read on a screen: about 220 words a
/// minute).
pub const WORDS_PER_MINUTE: usize = 220;

/// Minutes to read `words` words: [`WORDS_PER_MINUTE`], rounded up, at least 1.
///
/// ```
/// use postbode::content::reading_minutes;
/// assert_eq!((reading_minutes(0), reading_minutes(220), reading_minutes(221)), (1, 1, 2));
/// ```
pub fn reading_minutes(words: usize) -> usize {
    words.div_ceil(WORDS_PER_MINUTE).max(1)
}

/// How old a broadcast's date may be before `postbode check` warns about it.
pub const STALE_BROADCAST_DAYS: i32 = 7;

impl Catalogue {
    /// Warnings (not problems: the content is valid) as `path:line: warning: …`: broadcasts
    /// dated more than [`STALE_BROADCAST_DAYS`] before `today`. Deploying one still mails it to
    /// everyone confirmed before its date who has not had it, which the author may not expect
    /// of old news.
    pub fn warnings(&self, today: jiff::civil::Date) -> Vec<String> {
        self.posts
            .iter()
            .filter_map(|post| match post.placement {
                Placement::Broadcast { date, .. } if (today - date).get_days() > STALE_BROADCAST_DAYS => Some(format!(
                    "{}:{}: warning: this broadcast is dated {date}, more than {STALE_BROADCAST_DAYS} days ago; \
                     deploying it mails it to every reader who confirmed before that date and has not had it. \
                     If it is not news any more, make it a series post or give it today's date",
                    post.source.display(),
                    post.date_line
                )),
                _ => None,
            })
            .collect()
    }
}

impl Post {
    /// The post a link written in this post points to, when it points to one.
    pub fn internal_link(&self, dest: &str) -> Option<(&Slug, Option<&str>)> {
        self.internal_links.get(dest).map(|(s, f)| (s, f.as_deref()))
    }

    /// The content-folder path of an image written as `dest` in this post's text, when it is
    /// a file there.
    pub fn image_file(&self, dest: &str) -> Option<&str> {
        self.image_files.get(dest).map(String::as_str)
    }

    /// Minutes to read the post, from its word count: [`WORDS_PER_MINUTE`], rounded up, at
    /// least 1.
    pub fn reading_minutes(&self) -> usize {
        reading_minutes(self.words)
    }

    /// "4 min lezen": the reading time as pages and mails show it.
    pub fn reading_time(&self) -> String {
        format!("{} min lezen", self.reading_minutes())
    }

    pub fn date(&self) -> Option<jiff::civil::Date> {
        match &self.placement {
            Placement::InSeries { date, .. } => *date,
            Placement::Broadcast { date, .. } => Some(*date),
        }
    }

    /// From when readers see the post, on the site, in the feed and in mail: its `send_at`,
    /// else the start of its `date`, in Europe/Amsterdam. `None`: a series post without a date
    /// (public from the start).
    pub fn public_from(&self) -> Option<jiff::Timestamp> {
        let moment = match &self.placement {
            Placement::Broadcast { send_at: Some(at), .. } => *at,
            _ => self.date()?.to_datetime(jiff::civil::Time::midnight()),
        };
        moment.to_zoned(site_time_zone()).ok().map(|z| z.timestamp())
    }

    /// Whether readers may see the post at `now` (the deployed site checks the clock).
    pub fn is_public(&self, now: jiff::Timestamp) -> bool {
        self.public_from().is_none_or(|from| from <= now)
    }

    pub fn series(&self) -> Option<&str> {
        match &self.placement {
            Placement::InSeries { series, .. } => Some(series),
            Placement::Broadcast { .. } => None,
        }
    }
}

/// All content, checked: posts by slug, series with their posts in order.
#[derive(Debug, Clone)]
pub struct Catalogue {
    pub site: Site,
    /// The privacy statement (`privacy.md`), linked from every page, form and mail.
    pub privacy: Page,
    pub series: Vec<Series>,
    pub posts: Vec<Post>,
    by_slug: HashMap<Slug, usize>,
    /// Every image file the content names, with where and for what (each checked).
    pub image_refs: Vec<pictures::ImageRef>,
    /// The processed versions of those images, once a loader has made or found them (empty
    /// until then: pages and mails then name none of them).
    pub pictures: pictures::Pictures,
}

impl Catalogue {
    pub fn post(&self, slug: &str) -> Option<&Post> {
        let slug = Slug::parse(slug).ok()?;
        self.by_slug.get(&slug).map(|&i| &self.posts[i])
    }

    /// The posts readers may see at `now`, in catalogue order.
    pub fn public_posts(&self, now: jiff::Timestamp) -> impl Iterator<Item = &Post> {
        self.posts.iter().filter(move |p| p.is_public(now))
    }

    pub fn series(&self, id: &str) -> Option<&Series> {
        self.series.iter().find(|s| s.id == id)
    }

    pub fn series_posts<'a>(&'a self, series: &'a Series) -> impl Iterator<Item = &'a Post> + 'a {
        series.posts.iter().map(|&i| &self.posts[i])
    }

    /// Parses and validates every file; `root` only prefixes the paths in problems.
    pub fn parse(root: &Path, files: &[SourceFile]) -> Result<Catalogue, Problems> {
        Catalogue::parse_with_known_images(root, files, &BTreeMap::new())
    }

    /// [`Catalogue::parse`] where the images in `known` (by path) are not among `files` but
    /// were checked before: the Lambda binary embeds the processed images, not the originals.
    pub fn parse_with_known_images(
        root: &Path,
        files: &[SourceFile],
        known: &BTreeMap<String, pictures::ImageFacts>,
    ) -> Result<Catalogue, Problems> {
        let mut problems = Vec::new();
        let display = |rel: &str| root.join(rel);

        let Sources { texts, assets } = split_texts_and_assets(root, files, &mut problems);
        let images = ImageFiles { assets: &assets, known };
        let mut image_refs = Vec::new();
        let site = match texts.iter().find(|(path, _)| *path == SITE_FILE) {
            Some((path, text)) => {
                let site = site::parse_site(&display(path), text, &assets, &mut problems);
                if let Some(site) = &site {
                    for (src, use_, line) in site.images() {
                        images.check(&display(path), line, &src, use_, &mut image_refs, &mut problems);
                    }
                }
                site
            }
            None => {
                problems.push(Problem::new(
                    display(SITE_FILE),
                    1,
                    "the content folder has no site.toml with the site's title, author and identity",
                ));
                None
            }
        };
        let privacy = match texts.iter().find(|(path, _)| *path == PRIVACY_FILE) {
            Some((path, text)) => site::parse_page(&display(path), text, site.as_ref(), &mut problems),
            None => {
                problems.push(Problem::new(
                    display(PRIVACY_FILE),
                    1,
                    "the content folder has no privacy.md: the privacy statement every page, form and mail links to",
                ));
                None
            }
        };

        let mut series: Vec<Series> = texts
            .iter()
            .filter_map(|(path, text)| {
                let folder = path.strip_suffix(SERIES_FILE)?.strip_suffix('/')?;
                (!folder.contains('/')).then_some((folder, path, text))
            })
            .filter_map(|(folder, path, text)| parse_series(folder, &display(path), text, &mut problems))
            .collect();

        if let (Some(site), Some((path, text))) = (&site, texts.iter().find(|(path, _)| *path == SITE_FILE)) {
            check_consent_cadence(site, &series, &display(path), text, &mut problems);
        }

        let mut parsed = Vec::new();
        let mut incomplete_series = std::collections::HashSet::new();
        for &(path, text) in texts.iter().filter(|(path, _)| is_post_file(path)) {
            let folder = path.rsplit_once('/').map(|(d, _)| d);
            let series_id = folder.filter(|d| series.iter().any(|s| &s.id == d));
            match parse_post(path, &display(path), text, series_id, &mut problems) {
                Some(post) => parsed.push(post),
                // Its order is unknown: checking the series' numbering would only add noise.
                None => incomplete_series.extend(series_id.map(str::to_owned)),
            }
        }

        // Every image a post names: a file of the content folder that suits its use.
        for p in &mut parsed {
            if let Some(Image { src: ImageSrc::File(file), .. }) = &p.post.image {
                images.check(
                    &p.post.source,
                    p.image_line,
                    file,
                    pictures::ImageUse::Header,
                    &mut image_refs,
                    &mut problems,
                );
            }
            for written in &p.images {
                match pictures::resolve(&written.dest, &p.file) {
                    Ok(None) => {}
                    Ok(Some(file)) => {
                        images.check(
                            &p.post.source,
                            written.line,
                            &file,
                            pictures::ImageUse::InText,
                            &mut image_refs,
                            &mut problems,
                        );
                        p.post.image_files.insert(written.dest.clone(), file);
                    }
                    Err(message) => problems.push(Problem::new(&p.post.source, written.line, message)),
                }
            }
        }

        let by_slug = unique_slugs(&parsed, &mut problems);
        let by_file: HashMap<&str, &Slug> = parsed.iter().map(|p| (p.file.as_str(), &p.post.slug)).collect();

        // Links to other posts must land on a post that exists.
        let resolved_links: Vec<_> = parsed
            .iter()
            .map(|p| resolve_links(&p.post, &p.file, &p.links, &by_slug, &by_file, &mut problems))
            .collect();

        let mut posts: Vec<Post> = parsed
            .into_iter()
            .zip(resolved_links)
            .map(|(parsed, links)| Post { internal_links: links, ..parsed.post })
            .collect();
        // A stable order for everything downstream: series posts by order, then broadcasts by
        // date, newest last.
        posts.sort_by_key(sort_key);
        let by_slug: HashMap<Slug, usize> = posts.iter().enumerate().map(|(i, p)| (p.slug.clone(), i)).collect();

        for s in &mut series {
            if !incomplete_series.contains(&s.id) {
                check_series_order(s, &posts, root, &mut problems);
            }
            s.posts = posts.iter().enumerate().filter(|(_, p)| p.series() == Some(&s.id)).map(|(i, _)| i).collect();
        }

        match site {
            Some(site) if problems.is_empty() => match privacy {
                Some(privacy) => Ok(Catalogue {
                    site,
                    privacy,
                    series,
                    posts,
                    by_slug,
                    image_refs,
                    pictures: pictures::Pictures::default(),
                }),
                None => Err(Problems::new(problems)),
            },
            _ => Err(Problems::new(problems)),
        }
    }
}

/// The consent text is what readers agree to: a cadence it promises ("elke week") must be
/// one a series keeps, or the promise is broken from the first mail.
fn check_consent_cadence(site: &Site, series: &[Series], path: &Path, site_toml: &str, problems: &mut Vec<Problem>) {
    let line = site_toml.lines().position(|l| l.trim_start().starts_with("consent_text")).map_or(1, |i| i + 1);
    for (words, days) in promised_cadences(&site.consent_text) {
        if series.iter().any(|s| s.cadence.days() == days) {
            continue;
        }
        let kept: Vec<String> = series.iter().map(|s| format!("`{}` goes out {}", s.id, s.cadence.dutch())).collect();
        let kept = if kept.is_empty() { "there is no series".to_owned() } else { kept.join(", ") };
        problems.push(Problem::new(
            path,
            line,
            format!(
                "consent_text promises \"{words}\", but {kept}: readers agree to what the text says, so keep \
                 the two in step"
            ),
        ));
    }
}

/// The image files content may name: the folder's assets, or facts known from before.
struct ImageFiles<'a> {
    assets: &'a HashMap<&'a str, &'a [u8]>,
    known: &'a BTreeMap<String, pictures::ImageFacts>,
}

impl ImageFiles<'_> {
    /// Checks the image `file` (a content-folder path) named at `named_in:line` for `use_`:
    /// there, readable, large enough. Records it for processing when it is.
    fn check(
        &self,
        named_in: &Path,
        line: usize,
        file: &str,
        use_: pictures::ImageUse,
        refs: &mut Vec<pictures::ImageRef>,
        problems: &mut Vec<Problem>,
    ) {
        let facts = match (self.assets.get(file), self.known.get(file)) {
            (Some(bytes), _) => pictures::facts_of(bytes),
            (None, Some(facts)) => Ok(*facts),
            (None, None) => {
                problems.push(Problem::new(named_in, line, format!("the image `{file}` is not in the content folder")));
                return;
            }
        };
        match facts.and_then(|facts| use_.check(&facts)) {
            Ok(()) => {
                refs.push(pictures::ImageRef { source: file.to_owned(), use_, named_in: named_in.to_path_buf(), line })
            }
            Err(message) => problems.push(Problem::new(named_in, line, format!("the image `{file}` {message}"))),
        }
    }
}

/// The files of a content folder, sorted: (path, text) of the content files, and the assets
/// (by path) that content may refer to.
struct Sources<'a> {
    texts: Vec<(&'a str, &'a str)>,
    assets: HashMap<&'a str, &'a [u8]>,
}

/// Content files are UTF-8 text; the rest are assets that content may refer to.
fn split_texts_and_assets<'a>(root: &Path, files: &'a [SourceFile], problems: &mut Vec<Problem>) -> Sources<'a> {
    let mut texts = Vec::new();
    for file in files.iter().filter(|f| f.is_text()) {
        match std::str::from_utf8(&file.bytes) {
            Ok(text) => texts.push((file.path.as_str(), text)),
            Err(e) => {
                let line = file.bytes[..e.valid_up_to()].iter().filter(|b| **b == b'\n').count() + 1;
                problems.push(Problem::new(
                    root.join(&file.path),
                    line,
                    "this file is not UTF-8 text; save it as UTF-8",
                ));
            }
        }
    }
    let assets = files.iter().filter(|f| !f.is_text()).map(|f| (f.path.as_str(), f.bytes.as_slice())).collect();
    Sources { texts, assets }
}

/// Slugs are unique across the whole site: they are the web address and the store key. Each
/// slug's first post, by index; later ones are problems.
fn unique_slugs(posts: &[ParsedPost], problems: &mut Vec<Problem>) -> HashMap<Slug, usize> {
    let mut by_slug: HashMap<Slug, usize> = HashMap::new();
    for (i, ParsedPost { post, slug_line, .. }) in posts.iter().enumerate() {
        if let Some(&first) = by_slug.get(&post.slug) {
            problems.push(Problem::new(
                &post.source,
                *slug_line,
                format!("the slug `{}` is already used by {}", post.slug, posts[first].post.source.display()),
            ));
        } else {
            by_slug.insert(post.slug.clone(), i);
        }
    }
    by_slug
}

/// The links of `post` (in the file `path`) that point to other posts, each resolved to the
/// slug (and fragment) it lands on; a link to a post that does not exist is a problem.
fn resolve_links(
    post: &Post,
    path: &str,
    links: &[markdown_scan::WrittenLink],
    by_slug: &HashMap<Slug, usize>,
    by_file: &HashMap<&str, &Slug>,
    problems: &mut Vec<Problem>,
) -> HashMap<String, (Slug, Option<String>)> {
    let mut internal = HashMap::new();
    for link in links {
        let slug = match markdown_scan::classify_link(&link.dest, Path::new(path)) {
            LinkTarget::External => continue,
            LinkTarget::Invalid(message) => {
                problems.push(Problem::new(&post.source, link.line, message));
                continue;
            }
            LinkTarget::Post { slug: Some(slug), fragment, .. } => {
                Slug::parse(&slug).ok().filter(|s| by_slug.contains_key(s)).map(|s| (s, fragment))
            }
            LinkTarget::Post { file, fragment, .. } => {
                file.and_then(|f| by_file.get(f.as_str()).map(|s| ((*s).clone(), fragment)))
            }
        };
        match slug {
            Some(target) => {
                internal.insert(link.dest.clone(), target);
            }
            None => problems.push(Problem::new(
                &post.source,
                link.line,
                format!("the link `{}` points to a post that does not exist", link.dest),
            )),
        }
    }
    internal
}

fn sort_key(post: &Post) -> (u8, String, u32, Option<jiff::civil::Date>, String) {
    match &post.placement {
        Placement::InSeries { series, order, .. } => (0, series.clone(), *order, None, post.slug.to_string()),
        Placement::Broadcast { date, .. } => (1, String::new(), 0, Some(*date), post.slug.to_string()),
    }
}

fn is_post_file(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    path.ends_with(".md") && !name.eq_ignore_ascii_case("README.md") && path != PRIVACY_FILE
}

fn check_series_order(series: &Series, posts: &[Post], root: &Path, problems: &mut Vec<Problem>) {
    let mut orders: BTreeMap<u32, &Post> = BTreeMap::new();
    for post in posts {
        if let Placement::InSeries { series: id, order, .. } = &post.placement
            && id == &series.id
            && let Some(first) = orders.insert(*order, post)
        {
            problems.push(Problem::new(
                &post.source,
                1,
                format!(
                    "`order = {order}` is also used by {}; each post of a series needs its own number",
                    first.source.display()
                ),
            ));
        }
    }
    let series_file = root.join(&series.id).join(SERIES_FILE);
    if orders.is_empty() {
        problems.push(Problem::new(series_file, 1, format!("the series `{}` has no posts yet", series.id)));
        return;
    }
    let max = *orders.keys().next_back().unwrap_or(&0);
    let missing: Vec<String> = (1..=max).filter(|o| !orders.contains_key(o)).map(|o| o.to_string()).collect();
    if !missing.is_empty() {
        problems.push(Problem::new(
            series_file,
            1,
            format!(
                "the series `{}` has no post with order {}; number the posts 1, 2, 3, … without gaps",
                series.id,
                missing.join(", ")
            ),
        ));
    }
}

fn parse_series(id: &str, path: &Path, text: &str, problems: &mut Vec<Problem>) -> Option<Series> {
    let mut f = Fields::parse(path, text, 1, 1);
    let title = f.required_str("title");
    f.retired("sender_name", "the name in the From line is the stack's `SenderName` parameter (see template.yaml)");
    f.retired("description", "nothing showed it to readers (the site's `description` in site.toml is shown)");
    let cadence = f.required_str("cadence");
    let window = f.required_str("send_window");
    let zone = f.optional_str("time_zone");
    let first_post = f.optional_str("first_post");
    let mut local = Vec::new();
    let first_post_at_once = match first_post.as_ref().map(|p| (p.value.as_str(), p.line)) {
        None | Some(("next_window", _)) => false,
        Some(("at_once", _)) => true,
        Some((other, line)) => {
            local.push(Problem::new(
                path,
                line,
                format!("`first_post = \"{other}\"` is not known; write `next_window` (the default) or `at_once`"),
            ));
            false
        }
    };
    let cadence =
        cadence.and_then(|c| Cadence::parse(&c.value).map_err(|m| local.push(Problem::new(path, c.line, m))).ok());
    let send_window =
        window.and_then(|w| SendWindow::parse(&w.value).map_err(|m| local.push(Problem::new(path, w.line, m))).ok());
    let time_zone = match zone {
        None => jiff::tz::TimeZone::get("Europe/Amsterdam").ok(),
        Some(z) => jiff::tz::TimeZone::get(&z.value)
            .map_err(|_| {
                local.push(Problem::new(
                    path,
                    z.line,
                    format!("`{}` is not a known time zone; write one like `Europe/Amsterdam`", z.value),
                ))
            })
            .ok(),
    };
    problems.extend(f.finish());
    problems.extend(local);
    Some(Series {
        id: id.to_owned(),
        title: title?.value,
        cadence: cadence?,
        send_window: send_window?,
        time_zone: time_zone?,
        first_post_at_once,
        posts: Vec::new(),
    })
}

/// A post as parsed from its file, before its links to other posts are resolved.
struct ParsedPost {
    /// Its path in the content folder.
    file: String,
    post: Post,
    /// The line of its `slug`, for a duplicate's problem.
    slug_line: usize,
    /// Its links as written, to resolve once every post is known.
    links: Vec<markdown_scan::WrittenLink>,
    /// Its images in the text, as written, to check against the content folder.
    images: Vec<markdown_scan::WrittenLink>,
    /// The line of `image`.
    image_line: usize,
}

fn parse_post(
    file: &str,
    path: &Path,
    text: &str,
    series: Option<&str>,
    problems: &mut Vec<Problem>,
) -> Option<ParsedPost> {
    let split = front_matter::split_reporting(path, text, problems)?;
    let mut f = Fields::parse(path, split.toml, split.toml_first_line, 1);
    let title = f.required_str("title");
    let slug = f.required_str("slug");
    let summary = f.required_str("summary");
    let order = f.optional_positive("order");
    let date = f.optional_date("date");
    let send_at = f.optional_datetime("send_at");
    let image = f.optional_str("image");
    let image_alt = f.optional_str("image_alt");
    let reactions = f.optional_bool("reactions").is_none_or(|r| r.value);
    let mut local = Vec::new();

    let slug_line = slug.as_ref().map_or(1, |s| s.line);
    let slug = slug.and_then(|s| Slug::parse(&s.value).map_err(|m| local.push(Problem::new(path, s.line, m))).ok());

    let date_line = date.as_ref().map_or(1, |d| d.line);
    let placement = match (series, order, date) {
        (Some(series), Some(_), _) if send_at.is_some() => {
            local.push(Problem::new(
                path,
                send_at.as_ref().map_or(1, |at| at.line),
                format!("`send_at` is for broadcasts; a post of the series `{series}` goes out in its turn, at the series' window"),
            ));
            None
        }
        (Some(series), Some(order), date) => {
            Some(Placement::InSeries { series: series.to_owned(), order: order.value, date: date.map(|d| d.value) })
        }
        (Some(series), None, _) => {
            local.push(Problem::new(
                path,
                1,
                format!("this post is in the series `{series}` and needs its place in it, like `order = 1`"),
            ));
            None
        }
        (None, Some(order), _) => {
            local.push(Problem::new(
                path,
                order.line,
                "`order` only applies to posts in a series folder (one with a series.toml); a post outside a series is a broadcast and needs a `date` instead",
            ));
            None
        }
        (None, None, Some(date)) => match &send_at {
            Some(at) if at.value.date() < date.value => {
                local.push(Problem::new(
                    path,
                    at.line,
                    format!("`send_at` ({}) lies before the post's `date` ({})", at.value, date.value),
                ));
                None
            }
            _ => Some(Placement::Broadcast { date: date.value, send_at: send_at.as_ref().map(|at| at.value) }),
        },
        (None, None, None) => {
            local.push(Problem::new(
                path,
                1,
                "this post is not in a series, so it is a broadcast and needs a publish date, like `date = 2026-12-01`",
            ));
            None
        }
    };

    let image_line = image.as_ref().map_or(1, |i| i.line);
    let image = match (image, image_alt) {
        (None, None) => Some(None),
        (Some(img), Some(alt)) => match pictures::resolve(&img.value, file) {
            Ok(None) => Some(Some(Image { src: ImageSrc::Web(img.value), alt: alt.value })),
            Ok(Some(path)) => Some(Some(Image { src: ImageSrc::File(path), alt: alt.value })),
            Err(message) => {
                local.push(Problem::new(path, img.line, message));
                None
            }
        },
        (Some(img), None) => {
            local.push(Problem::new(
                path,
                img.line,
                "the image has no alt text; add `image_alt = \"what the image shows\"` for readers who cannot see it",
            ));
            None
        }
        (None, Some(alt)) => {
            local.push(Problem::new(path, alt.line, "`image_alt` is set but there is no `image`"));
            None
        }
    };

    let scan = markdown_scan::scan(split.body, split.body_first_line);
    local.extend(scan.problems.into_iter().map(|(line, m)| Problem::new(path, line, m)));
    problems.extend(f.finish());
    problems.extend(local);

    let post = Post {
        source: path.to_path_buf(),
        slug: slug?,
        title: title?.value,
        summary: summary?.value,
        placement: placement?,
        image: image?,
        reactions,
        body: split.body.to_owned(),
        words: scan.words,
        date_line,
        internal_links: HashMap::new(),
        image_files: HashMap::new(),
    };
    Some(ParsedPost { file: file.to_owned(), post, slug_line, links: scan.links, images: scan.images, image_line })
}

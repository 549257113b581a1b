//! Shared test helpers: the real content folder, fixtures, fixed settings and a fixed date.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::SystemTime;

use postbode::app::preview::placeholder_recipient;
use postbode::content::Catalogue;
use postbode::content_io::load_catalogue;
use postbode::render::{BaseUrl, EmailSettings, PreparedEmail, RenderedEmail};

pub const SEED_SLUG: &str = "leiderschap-en-vertrouwen";
pub const LONG_SLUG: &str = "feedback-geven-met-vertrouwen";

/// `token` with one character in its middle changed: a forgery whose decoded bytes always differ
/// (the last base64 character may carry only padding bits, and may already be the one written).
pub fn tampered(token: &str) -> String {
    let mut chars: Vec<char> = token.chars().collect();
    let middle = chars.len() / 2;
    chars[middle] = if chars[middle] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

pub fn repo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// The author's real content folder.
pub fn seed_catalogue() -> Catalogue {
    postbode::content_io::load_catalogue_with_pictures(&repo_path("content")).expect("content/ is valid")
}

/// The real content folder plus `extra` files (path relative to it, text), parsed: for posts
/// a test needs that the author has not written.
pub fn catalogue_with(extra: &[(&str, &str)]) -> Result<Catalogue, postbode::content::Problems> {
    let mut files = postbode::content_io::read_content_dir(&repo_path("content")).expect("content/ is readable");
    files.extend(extra.iter().map(|(path, text)| postbode::content::SourceFile::text(*path, *text)));
    Catalogue::parse(Path::new("content"), &files)
}

/// A series with a ~1,000-word post holding headings, lists, links, a quote and an image.
pub fn long_catalogue() -> Catalogue {
    load_catalogue(&repo_path("tests/fixtures/long-post")).expect("fixture is valid")
}

pub fn settings() -> EmailSettings {
    EmailSettings {
        base_url: BaseUrl::parse("https://postbode.example").unwrap(),
        from: "René Rensen <nieuwsbrief@postbode.example>".parse().unwrap(),
        reply_to: Some("rene@postbode.example".parse().unwrap()),
    }
}

/// Tuesday 1 December 2026, 08:00 in Amsterdam.
pub fn fixed_date() -> SystemTime {
    "2026-12-01T07:00:00Z".parse::<jiff::Timestamp>().unwrap().into()
}

pub fn render(catalogue: &Catalogue, slug: &str) -> RenderedEmail {
    let post = catalogue.post(slug).expect("post exists");
    PreparedEmail::new(catalogue, post, &settings()).unwrap().render(&placeholder_recipient(), fixed_date()).unwrap()
}

/// Runs the `postbode` binary built for this test run.
pub fn postbode(args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_postbode"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("postbode runs")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// One form request to a router as `postbode dev` serves it (the client's socket address
/// attached, as axum's `ConnectInfo` gives it), without a server.
pub async fn form_request(
    router: axum::Router,
    method: &str,
    path: &str,
    body: impl Into<axum::body::Body>,
    client: [u8; 4],
) -> axum::response::Response {
    use tower::ServiceExt;
    let mut request = axum::http::Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.into())
        .unwrap();
    request.extensions_mut().insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((client, 1))));
    router.oneshot(request).await.unwrap()
}

/// A copy of the content folder to write posts into.
pub fn content_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&repo_path("content"), dir.path());
    dir
}

pub fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A fresh embedded store.
pub fn sqlite_store() -> std::sync::Arc<dyn postbode::store::Store> {
    std::sync::Arc::new(postbode::store::sqlite::SqliteStore::in_memory().unwrap())
}

/// A fresh table in DynamoDB Local.
pub async fn dynamodb_store() -> std::sync::Arc<dyn postbode::store::Store> {
    std::sync::Arc::new(crate::aws::dynamo_store().await.0)
}

/// Each scenario (an `async fn(Arc<dyn Store>)` of the calling module) as two tests: on SQLite
/// (`sqlite::name`) and on DynamoDB Local (`dynamodb::name`).
macro_rules! on_both_stores {
    ($($case:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread")]
                async fn $case() {
                    super::$case(crate::helpers::sqlite_store()).await
                }
            )+
        }
        mod dynamodb {
            $(
                #[tokio::test(flavor = "multi_thread")]
                async fn $case() {
                    super::$case(crate::helpers::dynamodb_store().await).await
                }
            )+
        }
    };
}
pub(crate) use on_both_stores;

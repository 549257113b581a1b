//! `TestApp`: the real router on a real store (SQLite, or DynamoDB Local) with the real
//! outbox mailer in a temporary folder, called in-process with `oneshot`; plus helpers to read
//! the mails it sent and the links in them.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use jiff::{SignedDuration, Timestamp};
use mail_parser::MessageParser;
use postbode::app::{App, Parts, Settings};
use postbode::http::router;
use postbode::mail::outbox::OutboxMailer;
use postbode::store::Store;
use postbode::store::sqlite::SqliteStore;
use postbode::subscribers::caps::Caps;
use postbode::tokens::TokenKey;
use tower::ServiceExt;

use crate::helpers::{seed_catalogue, settings};

pub const BASE: &str = "https://postbode.example";

pub struct TestApp {
    pub router: Router,
    /// The app behind the router, for the confirmations worker.
    pub app: Arc<App>,
    /// Whether each request is followed by the confirmations worker's pass (as `postbode dev`
    /// does a moment later); off to see what the request path alone does.
    pub drain: bool,
    pub store: Arc<dyn Store>,
    pub tokens: TokenKey,
    pub outbox: tempfile::TempDir,
    now: Arc<Mutex<Timestamp>>,
    /// Where requests come from (the socket address, as `postbode dev` sees it).
    client: Mutex<SocketAddr>,
}

pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

/// A mail found in the outbox.
#[derive(Debug, Clone)]
pub struct SentEmail {
    pub file: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl SentEmail {
    /// The first link in the text part that starts with `BASE` + `path_prefix`.
    /// The mail in `raw` (MIME), known as `file`.
    pub fn parse(file: &str, raw: &[u8]) -> SentEmail {
        let message = MessageParser::default().parse(raw).unwrap();
        SentEmail {
            file: file.to_owned(),
            to: message.to().and_then(|a| a.first()).and_then(|a| a.address()).unwrap_or("").to_owned(),
            subject: message.subject().unwrap_or("").to_owned(),
            text: message.body_text(0).map(|t| t.replace("\r\n", "\n")).unwrap_or_default(),
            html: message.body_html(0).map(|t| t.into_owned()).unwrap_or_default(),
        }
    }

    pub fn link(&self, path_prefix: &str) -> String {
        let start = format!("{BASE}{path_prefix}");
        let at = self.text.find(&start).unwrap_or_else(|| panic!("no {start} link in:\n{}", self.text));
        self.text[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || ":/.-_".contains(*c)).collect()
    }

    /// The path of that link, for requests to the router.
    pub fn path(&self, path_prefix: &str) -> String {
        self.link(path_prefix).trim_start_matches(BASE).to_owned()
    }
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        TestApp::with_store(Arc::new(SqliteStore::in_memory().unwrap()))
    }

    pub fn with_store(store: Arc<dyn Store>) -> TestApp {
        TestApp::build(store, Caps::default(), None, |_| {})
    }

    /// The app sending through `mailer` instead of into its outbox (which then stays empty).
    pub fn with_mailer(store: Arc<dyn Store>, mailer: Arc<dyn postbode::mail::Mailer>) -> TestApp {
        TestApp::build(store, Caps::default(), Some(mailer), |_| {})
    }

    /// The app with the site settings changed by `edit` (redirects, form origins, …).
    pub fn with_site(edit: impl FnOnce(&mut postbode::content::Site)) -> TestApp {
        TestApp::build(Arc::new(SqliteStore::in_memory().unwrap()), Caps::default(), None, edit)
    }

    /// The app with other caps on confirmation mail.
    pub fn with_caps(store: Arc<dyn Store>, caps: Caps) -> TestApp {
        TestApp::build(store, caps, None, |_| {})
    }

    /// The app serving `catalogue` instead of the real content.
    pub fn with_catalogue(catalogue: postbode::content::Catalogue) -> TestApp {
        TestApp::build_with(Arc::new(SqliteStore::in_memory().unwrap()), Caps::default(), None, catalogue, None)
    }

    /// The app serving `catalogue` on `store`.
    pub fn with_catalogue_on(store: Arc<dyn Store>, catalogue: postbode::content::Catalogue) -> TestApp {
        TestApp::build_with(store, Caps::default(), None, catalogue, None)
    }

    /// The app with other caps on reactions.
    pub fn with_reaction_caps(store: Arc<dyn Store>, caps: Caps) -> TestApp {
        TestApp::build_full(store, Caps::default(), caps, None, seed_catalogue(), None)
    }

    /// The app asking `domains` whether an address's domain takes mail (as the Lambda asks DNS).
    pub fn with_mail_domains(domains: Arc<dyn postbode::mail::domains::MailDomains>) -> TestApp {
        let store = Arc::new(SqliteStore::in_memory().unwrap());
        TestApp::build_with(store, Caps::default(), None, seed_catalogue(), Some(domains))
    }

    fn build(
        store: Arc<dyn Store>,
        caps: Caps,
        mailer: Option<Arc<dyn postbode::mail::Mailer>>,
        edit: impl FnOnce(&mut postbode::content::Site),
    ) -> TestApp {
        let mut catalogue = seed_catalogue();
        edit(&mut catalogue.site);
        TestApp::build_with(store, caps, mailer, catalogue, None)
    }

    fn build_with(
        store: Arc<dyn Store>,
        caps: Caps,
        mailer: Option<Arc<dyn postbode::mail::Mailer>>,
        catalogue: postbode::content::Catalogue,
        mail_domains: Option<Arc<dyn postbode::mail::domains::MailDomains>>,
    ) -> TestApp {
        TestApp::build_full(store, caps, Caps::REACTIONS, mailer, catalogue, mail_domains)
    }

    fn build_full(
        store: Arc<dyn Store>,
        caps: Caps,
        reaction_caps: Caps,
        mailer: Option<Arc<dyn postbode::mail::Mailer>>,
        catalogue: postbode::content::Catalogue,
        mail_domains: Option<Arc<dyn postbode::mail::domains::MailDomains>>,
    ) -> TestApp {
        let outbox = tempfile::tempdir().unwrap();
        let now = Arc::new(Mutex::new("2026-12-01T09:00:00Z".parse::<Timestamp>().unwrap()));
        let clock_now = now.clone();
        let tokens = TokenKey::new(b"test secret of thirty-two bytes or more".to_vec()).unwrap();
        let parts = Parts {
            store: store.clone(),
            mailer: mailer.unwrap_or_else(|| Arc::new(OutboxMailer::new(outbox.path()).unwrap())),
            catalogue: Arc::new(catalogue),
            email: settings(),
            tokens: tokens.clone(),
        };
        let app = parts.app(Settings {
            clock: Arc::new(move || *clock_now.lock().unwrap()),
            caps,
            reaction_caps,
            mail_domains,
            ..Default::default()
        });
        let client = Mutex::new(SocketAddr::from(([192, 0, 2, 7], 50000)));
        let app = Arc::new(app);
        TestApp { router: router(app.clone()), app, drain: true, store, tokens, outbox, now, client }
    }

    pub fn now(&self) -> Timestamp {
        *self.now.lock().unwrap()
    }

    /// Runs the confirmations worker over what requests recorded.
    pub async fn work_off_intents(&self) -> usize {
        postbode::app::confirmations::drain(&self.app, 1000).await.unwrap()
    }

    /// Later requests come from `ip`.
    pub fn set_client(&self, ip: &str) {
        *self.client.lock().unwrap() = SocketAddr::new(ip.parse().unwrap(), 50000);
    }

    pub fn advance(&self, by: SignedDuration) {
        let mut now = self.now.lock().unwrap();
        *now = now.checked_add(by).unwrap();
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: impl Into<Body>,
    ) -> TestResponse {
        self.request_with(method, path, content_type, &[], body).await
    }

    /// A request with extra headers (`Origin`, preflight headers, …).
    pub async fn request_with(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        headers: &[(&str, &str)],
        body: impl Into<Body>,
    ) -> TestResponse {
        let mut builder = Request::builder().method(method).uri(path);
        if !headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("user-agent")) {
            builder = builder.header(header::USER_AGENT, "TestBrowser/1.0");
        }
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        if let Some(ct) = content_type {
            builder = builder.header(header::CONTENT_TYPE, ct);
        }
        let mut request = builder.body(body.into()).unwrap();
        let client = *self.client.lock().unwrap();
        request.extensions_mut().insert(ConnectInfo(client));
        let response = self.router.clone().oneshot(request).await.unwrap();
        if self.drain {
            self.work_off_intents().await;
        }
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        TestResponse { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
    }

    /// The body of a GET as bytes (images).
    pub async fn get_bytes(&self, path: &str) -> Vec<u8> {
        let request = Request::builder().uri(path).header(header::USER_AGENT, "TestBrowser/1.0").body(Body::empty());
        let mut request = request.unwrap();
        request.extensions_mut().insert(ConnectInfo(*self.client.lock().unwrap()));
        let response = self.router.clone().oneshot(request).await.unwrap();
        response.into_body().collect().await.unwrap().to_bytes().to_vec()
    }

    pub async fn get(&self, path: &str) -> TestResponse {
        self.request(Method::GET, path, None, Body::empty()).await
    }

    pub async fn post_form(&self, path: &str, form: &str) -> TestResponse {
        self.request(Method::POST, path, Some("application/x-www-form-urlencoded"), form.to_owned()).await
    }

    pub async fn post_json(&self, path: &str, json: &str) -> TestResponse {
        self.request(Method::POST, path, Some("application/json"), json.to_owned()).await
    }

    pub async fn subscribe(&self, email: &str) -> TestResponse {
        let form = serde_urlencoded::to_string([
            ("email", email),
            ("first_name", "Anna"),
            ("source_url", "https://postbode.example/posts/leiderschap-en-vertrouwen"),
            ("website", ""),
        ])
        .unwrap();
        self.post_form("/subscribe", &form).await
    }

    /// Subscribes and confirms `email` through the form and the confirmation mail; returns
    /// the welcome mail (its footer links the reader's page and the unsubscribe page).
    pub async fn confirmed_reader(&self, email: &str) -> SentEmail {
        self.subscribe(email).await;
        let confirm = self.emails().into_iter().rfind(|e| e.to == email && e.file.ends_with("confirm.eml")).unwrap();
        assert!(!confirm.text.contains("/voorkeuren/"), "no page before the address is confirmed");
        assert_eq!(self.post_form(&confirm.path("/confirm/"), "").await.status, StatusCode::OK);
        self.emails().into_iter().rfind(|e| e.to == email && e.file.ends_with("welcome.eml")).unwrap()
    }

    /// The stored record of `email`, if there is one.
    pub async fn stored(&self, email: &str) -> Option<postbode::subscribers::Subscriber> {
        let address = postbode::subscribers::SubscriberEmail::parse(email).unwrap();
        self.store.subscriber_by_email(&address).await.unwrap()
    }

    /// Every mail in the outbox, oldest first.
    pub fn emails(&self) -> Vec<SentEmail> {
        let mut files: Vec<_> = std::fs::read_dir(self.outbox.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|path| SentEmail::parse(&path.file_name().unwrap().to_string_lossy(), &std::fs::read(path).unwrap()))
            .collect()
    }

    /// Mails of one kind (`confirm`, `welcome`, a slug).
    pub fn emails_tagged(&self, tag: &str) -> Vec<SentEmail> {
        self.emails().into_iter().filter(|e| e.file.ends_with(&format!("-{tag}.eml"))).collect()
    }
}

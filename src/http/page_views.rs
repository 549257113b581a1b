//! Page views: how often each post's page is read, per day. A bare count per (post, day) is
//! all that is stored: no cookie is set, and neither the reader's address nor the
//! User-Agent nor anything else of the request is kept (`privacy.md` says so).
//!
//! Not counted, as they are not a reader reading: `HEAD` (axum answers it through the `GET`
//! route), a request without a User-Agent, a crawler or link preview (LinkedIn's, WhatsApp's,
//! search engines', monitoring and scripts: the `isbot` list), and a browser's speculative
//! prefetch (`Sec-Purpose: prefetch`). The count can be inflated by anyone who sends `GET`s
//! with a browser's User-Agent: it is a trend for the author, not an audited figure.

use std::sync::LazyLock;

use axum::http::{HeaderMap, Method, header};

static BOTS: LazyLock<isbot::Bots> = LazyLock::new(|| {
    let mut bots = isbot::Bots::default();
    // Link previews and our own tools that the list misses.
    bots.append(&["whatsapp", "^postbode", "skypeuripreview", "preview"]);
    bots
});

/// Whether this request for a post page counts as a view.
pub fn counts(method: &Method, headers: &HeaderMap) -> bool {
    if method != Method::GET {
        return false;
    }
    let prefetch = [header::HeaderName::from_static("sec-purpose"), header::HeaderName::from_static("purpose")]
        .iter()
        .filter_map(|name| headers.get(name))
        .any(|value| value.to_str().is_ok_and(|v| v.to_ascii_lowercase().contains("prefetch")));
    if prefetch {
        return false;
    }
    match headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::trim) {
        Some(agent) if !agent.is_empty() => !BOTS.is_bot(agent),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn with_agent(agent: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::USER_AGENT, HeaderValue::from_str(agent).unwrap());
        headers
    }

    const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
    const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 \
                          (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1";

    #[test]
    fn browsers_count_and_crawlers_previews_and_scripts_do_not() {
        for reader in [FIREFOX, IPHONE, "TestBrowser/1.0"] {
            assert!(counts(&Method::GET, &with_agent(reader)), "{reader}");
        }
        for bot in [
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
            "WhatsApp/2.23.20.0",
            "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
            "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
            "curl/8.5.0",
            "python-requests/2.32.3",
            "postbode-smoke/0.1",
        ] {
            assert!(!counts(&Method::GET, &with_agent(bot)), "{bot}");
        }
    }

    #[test]
    fn head_prefetch_and_no_user_agent_do_not_count() {
        assert!(!counts(&Method::HEAD, &with_agent(FIREFOX)));
        assert!(!counts(&Method::GET, &HeaderMap::new()));
        assert!(!counts(&Method::GET, &with_agent("  ")));
        let mut prefetch = with_agent(FIREFOX);
        prefetch.insert("sec-purpose", HeaderValue::from_static("prefetch;prerender"));
        assert!(!counts(&Method::GET, &prefetch));
    }
}

//! Requests per second per route, so a flood of one route cannot take the others down: a
//! storm of `POST /subscribe` gets 429s of its own while one-click unsubscribe, confirm and
//! the blog keep answering. A route limit is shared by every caller, so confirm and
//! unsubscribe get none below the account's ([`ACCOUNT_LIMIT`]): a stranger flooding them with
//! garbage tokens must never make a real unsubscribe fail. In AWS the HTTP API's stage enforces these (`template.yaml`'s
//! `RouteSettings`, checked against this table by a test); locally, [`LocalLimiter`] does.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::Request;
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppError;

/// A route's limits: a steady rate per second and a burst, as API Gateway defines them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RouteLimit {
    /// The API Gateway route key.
    pub route: &'static str,
    pub rate: f64,
    pub burst: u32,
}

/// API Gateway's own limit per account and region (10,000 requests a second, burst 5,000):
/// the only limit on confirm and unsubscribe.
pub const ACCOUNT_LIMIT: (f64, u32) = (10_000.0, 5_000);

/// Every route with its own limits; everything else shares `$default`.
pub const ROUTE_LIMITS: [RouteLimit; 5] = [
    RouteLimit { route: "POST /subscribe", rate: 5.0, burst: 10 },
    RouteLimit { route: "POST /posts/{slug}/reacties", rate: 5.0, burst: 10 },
    RouteLimit { route: "ANY /confirm/{token}", rate: ACCOUNT_LIMIT.0, burst: ACCOUNT_LIMIT.1 },
    RouteLimit { route: "ANY /unsubscribe/{token}", rate: ACCOUNT_LIMIT.0, burst: ACCOUNT_LIMIT.1 },
    RouteLimit { route: "$default", rate: 50.0, burst: 100 },
];

/// The route key a request falls under, as API Gateway would match it.
pub fn route_of(method: &Method, path: &str) -> &'static str {
    let one_segment_under =
        |prefix: &str| path.strip_prefix(prefix).is_some_and(|rest| !rest.is_empty() && !rest.contains('/'));
    let reaction_form = path
        .strip_prefix("/posts/")
        .and_then(|rest| rest.strip_suffix("/reacties"))
        .is_some_and(|slug| !slug.is_empty() && !slug.contains('/'));
    if method == Method::POST && path == "/subscribe" {
        "POST /subscribe"
    } else if method == Method::POST && reaction_form {
        "POST /posts/{slug}/reacties"
    } else if one_segment_under("/confirm/") {
        "ANY /confirm/{token}"
    } else if one_segment_under("/unsubscribe/") {
        "ANY /unsubscribe/{token}"
    } else {
        "$default"
    }
}

/// Token buckets per route for the local server.
#[derive(Clone, Default)]
pub struct LocalLimiter {
    buckets: Arc<Mutex<HashMap<&'static str, (f64, Instant)>>>,
}

impl LocalLimiter {
    /// Takes a token for `route`; false when its bucket is empty.
    pub fn allow(&self, route: &'static str, now: Instant) -> bool {
        let Some(limit) = ROUTE_LIMITS.iter().find(|l| l.route == route) else { return true };
        let mut buckets = self.buckets.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let (tokens, last) = buckets.entry(route).or_insert((f64::from(limit.burst), now));
        let refilled = *tokens + now.saturating_duration_since(*last).as_secs_f64() * limit.rate;
        *tokens = refilled.min(f64::from(limit.burst));
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// The middleware: a Dutch 429 when the request's route is over its limit.
    pub async fn layer(self, request: Request, next: Next) -> Response {
        let route = route_of(request.method(), request.uri().path());
        if self.allow(route, Instant::now()) { next.run(request).await } else { AppError::route_busy().into_response() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_fall_under_their_routes() {
        assert_eq!(route_of(&Method::POST, "/subscribe"), "POST /subscribe");
        assert_eq!(route_of(&Method::OPTIONS, "/subscribe"), "$default");
        assert_eq!(route_of(&Method::POST, "/unsubscribe/abc"), "ANY /unsubscribe/{token}");
        assert_eq!(route_of(&Method::GET, "/confirm/abc"), "ANY /confirm/{token}");
        assert_eq!(route_of(&Method::GET, "/confirm/"), "$default");
        assert_eq!(route_of(&Method::GET, "/posts/x"), "$default");
    }

    #[test]
    fn a_flood_of_one_route_leaves_the_others_alone() {
        let limiter = LocalLimiter::default();
        let now = Instant::now();
        let subscribes = (0..50).filter(|_| limiter.allow("POST /subscribe", now)).count();
        assert_eq!(subscribes, 10, "the burst, then nothing");
        assert!(limiter.allow("ANY /unsubscribe/{token}", now));
        assert!(limiter.allow("$default", now));
        // The bucket refills at the steady rate: 5 per second.
        let later = now + std::time::Duration::from_secs(1);
        assert_eq!((0..50).filter(|_| limiter.allow("POST /subscribe", later)).count(), 5);
    }
}

//! Deployment settings: the token secret comes from an SSM SecureString (read back from moto).

use postbode::config::token_key;
use postbode::subscribers::SubscriberId;
use postbode::tokens::{Purpose, TokenKey};

#[tokio::test]
async fn the_token_secret_is_read_from_ssm() {
    let aws = crate::aws::config().await;
    let ssm = aws_sdk_ssm::Client::new(&aws);
    let name = format!("/postbode-test/{}", uuid::Uuid::new_v4().simple());
    let secret = "a secret of at least thirty-two characters, from ssm";
    ssm.put_parameter()
        .name(&name)
        .value(secret)
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .send()
        .await
        .expect("moto stores the parameter");
    // SAFETY: this test binary's other tests do not read this variable.
    unsafe { std::env::set_var("POSTBODE_TOKEN_SECRET_PARAMETER", &name) };
    let key = token_key(&aws).await.unwrap();
    unsafe { std::env::remove_var("POSTBODE_TOKEN_SECRET_PARAMETER") };
    let id = SubscriberId::random();
    let now = jiff::Timestamp::now();
    let expected = TokenKey::new(secret.as_bytes().to_vec()).unwrap();
    assert_eq!(key.sign(Purpose::Unsubscribe, &id, 1, now), expected.sign(Purpose::Unsubscribe, &id, 1, now));
}

/// `infra/test-all` runs the whole suite a second time on a clock a year ahead (libfaketime as
/// the test runner) and passes the real time in `POSTBODE_REAL_NOW`: that run must really see
/// the future, or it proves nothing about tests that would fail on a later date.
#[test]
fn the_year_ahead_run_sees_the_year_ahead() {
    let Ok(real) = std::env::var("POSTBODE_REAL_NOW") else { return };
    let real = jiff::Timestamp::from_second(real.trim().parse().expect("POSTBODE_REAL_NOW is epoch seconds")).unwrap();
    let ahead = jiff::Timestamp::now().duration_since(real);
    assert!(ahead >= jiff::SignedDuration::from_hours(24 * 360), "the clock is only {ahead:?} ahead");
}

/// Every `POSTBODE_*` number is checked at start, with an error that names the variable: NaN,
/// infinities, negatives, zero where it would switch a safeguard off, and overflow (which
/// used to panic) never get through.
#[test]
fn every_postbode_number_is_checked_at_start() {
    use postbode::config::{breaker_from, caps_from, number_from};
    let env = |name: &'static str, value: &'static str| move |n: &str| (n == name).then(|| value.to_owned());
    for bad in ["NaN", "inf", "-1", "0", "1e400", "veel"] {
        let err = number_from(env("POSTBODE_MAX_SEND_RATE", bad), "POSTBODE_MAX_SEND_RATE", 0.01..=1_000.0, "a rate")
            .unwrap_err();
        assert!(err.to_string().contains(&format!("POSTBODE_MAX_SEND_RATE `{bad}` is not valid")), "{err}");
    }
    for bad in ["0", "-5", "99999999999999999999", "NaN"] {
        let err = number_from(
            env("POSTBODE_CONFIRM_COOLDOWN_MINUTES", bad),
            "POSTBODE_CONFIRM_COOLDOWN_MINUTES",
            1..=10_080i64,
            "minutes",
        )
        .unwrap_err();
        assert!(err.to_string().contains("POSTBODE_CONFIRM_COOLDOWN_MINUTES"), "{err}");
    }
    assert_eq!(number_from(env("X", "60"), "X", 1..=10_080i64, "minutes").unwrap(), Some(60));
    assert_eq!(number_from(env("X", " "), "X", 1..=10_080i64, "minutes").unwrap(), None);
    for bad in ["NaN", "0.5", "-0.01", "0"] {
        assert!(breaker_from(env("POSTBODE_MAX_BOUNCE_RATE", bad)).is_err(), "{bad}");
    }
    assert_eq!(breaker_from(env("POSTBODE_MAX_BOUNCE_RATE", "0.03")).unwrap().max_bounce_rate, 0.03);
    assert!(caps_from(env("POSTBODE_CAP_CLIENT_PER_HOUR", "4294967296")).is_err(), "overflow");
}

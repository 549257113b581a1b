//! The SES adapter against a real SES-API server (moto): the raw MIME goes out unchanged.

use postbode::mail::ses::SesMailer;
use postbode::mail::{MailError, MailKind, Mailer, Outgoing};

use crate::helpers::{SEED_SLUG, render, seed_catalogue};

#[tokio::test]
async fn sends_the_rendered_mime_bytes_through_the_ses_api() {
    let mailer = SesMailer::new(crate::aws::verified_sesv2().await, None);
    let email = render(&seed_catalogue(), SEED_SLUG);
    // The SES API server keeps the mail of earlier runs: only what arrives from here on counts.
    let before = crate::aws::ses_raw_messages().await.len();
    let message_id = mailer
        .send(Outgoing { to: "anna@lezer.example", mime: &email.mime, kind: MailKind::TestPost { slug: SEED_SLUG } })
        .await
        .expect("moto accepts the raw message");
    assert!(!message_id.is_empty());

    let sent = crate::aws::ses_raw_messages().await;
    let ours: Vec<&String> = sent[before..]
        .iter()
        .filter(|raw| raw.contains(&email.subject) && raw.contains("anna@lezer.example"))
        .collect();
    assert_eq!(ours.len(), 1, "one raw message for this test in {} sent", sent.len());
    // Read back from the server: the headers and the body are what was rendered.
    let message = mail_parser::MessageParser::default().parse(ours[0].as_bytes()).unwrap();
    assert_eq!(message.subject(), Some("Leiderschap en vertrouwen"));
    assert_eq!(message.header_raw("List-Unsubscribe-Post").map(str::trim), Some("List-Unsubscribe=One-Click"));
    assert!(message.header_raw("List-Unsubscribe").unwrap().contains("https://postbode.example/unsubscribe/"));
    assert_eq!(message.body_text(0).unwrap().replace("\r\n", "\n"), email.text);
    assert_eq!(message.body_html(0).unwrap().replace("\r\n", "\n"), email.html.replace("\r\n", "\n"));
}

#[tokio::test]
async fn an_unverified_sender_is_a_permanent_error_on_the_ses_api() {
    let mailer = SesMailer::new(crate::aws::sesv2().await, None);
    let mime = b"From: someone@not-verified.example\r\nTo: a@b.example\r\nSubject: x\r\n\r\nx\r\n";
    let error = mailer.send(Outgoing { to: "a@b.example", mime, kind: MailKind::Welcome }).await.unwrap_err();
    assert!(matches!(error, MailError::Permanent(_)), "{error:?}");
}

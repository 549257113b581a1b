//! The reader's pages around a subscription, in Dutch. No JavaScript: every action is a
//! plain form POST, so mail scanners that follow GET links never change anything.

use maud::{DOCTYPE, Markup, html};

const STYLE: &str = "
:root { color-scheme: light dark; --fg: #1f2a37; --muted: #5b6470; --bg: #f4f1ec; --card: #fff; --accent: #0b6e69; }
@media (prefers-color-scheme: dark) { :root { --fg: #ececec; --muted: #a8a8a8; --bg: #121212; --card: #1e1e1e; --accent: #5cc8c0; } }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 18px/1.6 Georgia, 'Times New Roman', serif; }
main { max-width: 36rem; margin: 3rem auto; padding: 2rem; background: var(--card); border-radius: 6px; }
h1 { font: bold 1.8rem/1.25 Helvetica, Arial, sans-serif; margin: 0 0 1rem; }
p { margin: 0 0 1rem; }
.muted { color: var(--muted); font-size: .9rem; }
a { color: var(--accent); }
button { font: bold 1rem Helvetica, Arial, sans-serif; color: #fff; background: var(--accent); border: 0; border-radius: 4px; padding: .8rem 1.4rem; cursor: pointer; }
button:focus-visible, a:focus-visible { outline: 3px solid var(--fg); outline-offset: 2px; }
@media (max-width: 40rem) { main { margin: 0; border-radius: 0; padding: 1.25rem; } }
";

/// The frame of every page: Dutch, responsive, one `h1`.
pub fn layout(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="nl" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="robots" content="noindex";
                title { (title) }
                style { (maud::PreEscaped(STYLE)) }
            }
            body {
                main {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// A page with one message.
pub fn message(title: &str, text: &str) -> Markup {
    layout(title, html! { p { (text) } })
}

/// A page whose only action is one button that POSTs to the same address.
pub fn confirm_button(title: &str, text: &str, button: &str) -> Markup {
    layout(
        title,
        html! {
            p { (text) }
            form method="post" {
                button type="submit" { (button) }
            }
        },
    )
}

pub fn subscribed() -> Markup {
    layout(
        "Bijna klaar!",
        html! {
            p { "We hebben je een e-mail gestuurd. Klik op de link in die e-mail om je aanmelding te bevestigen; daarna ontvang je de whitepaper." }
            p.muted { "Niets ontvangen? Kijk ook in je map met ongewenste e-mail. De bevestigingslink is 7 dagen geldig." }
        },
    )
}

pub fn confirmed(whitepaper_title: &str, whitepaper_url: &str) -> Markup {
    layout(
        "Gelukt, je bent aangemeld!",
        html! {
            p { "Dank je wel voor het bevestigen. De whitepaper is ook onderweg naar je inbox." }
            p { a href=(whitepaper_url) { "Download „" (whitepaper_title) "” nu" } }
            p.muted { "Afmelden kan altijd, met één klik onderaan elke e-mail." }
        },
    )
}

pub fn unsubscribed() -> Markup {
    layout(
        "Je bent afgemeld",
        html! {
            p { "Je ontvangt geen e-mails meer van ons. Jammer dat je gaat, en dank je wel voor het lezen." }
            p.muted { "Per ongeluk afgemeld? Je kunt je altijd opnieuw aanmelden via het formulier op de website." }
        },
    )
}

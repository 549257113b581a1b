//! Reactions on the web, in Dutch: the published ones under a post (`#reacties`), and the
//! form (`#reageer`). A reaction is shown as the text it is: its paragraphs and lines, every
//! character escaped, no link made clickable, never the address typed with it.

use maud::{Markup, html};

use super::web::PRIVACY_PATH;
use crate::content::{Catalogue, Post};
use crate::reactions::{MAX_NAME, MAX_TEXT, Reaction};

/// Where a post's reaction form is sent.
pub fn form_path(slug: &str) -> String {
    format!("/posts/{slug}/reacties")
}

/// The anchor of a published reaction on its post's page.
pub fn anchor(reaction: &Reaction) -> String {
    format!("reactie-{}", reaction.id.short())
}

/// What the form shows: empty, or what the reader typed with the problem that kept it from
/// being sent (nothing they wrote is lost).
#[derive(Debug, Default, Clone)]
pub struct FormValues<'a> {
    pub name: &'a str,
    pub email: &'a str,
    pub text: &'a str,
    pub newsletter: bool,
    pub problem: Option<&'a str>,
}

fn text_block(text: &str) -> Markup {
    html! {
        @for paragraph in crate::reactions::paragraphs(text) {
            p { @for (i, line) in paragraph.iter().enumerate() { @if i > 0 { br; } (line) } }
        }
    }
}

fn day(at: jiff::Timestamp) -> (String, String) {
    let local = at.to_zoned(crate::content::site_time_zone()).date();
    (local.to_string(), format!("{} {}", super::dutch::dutch_date(local), local.year()))
}

/// The published reactions under a post, oldest first; nothing when there are none.
pub fn published(catalogue: &Catalogue, reactions: &[Reaction]) -> Markup {
    if reactions.is_empty() {
        return html! {};
    }
    let author = &catalogue.site.author;
    html! {
        section.reactions id="reacties" aria-labelledby="reacties-titel" {
            h2 id="reacties-titel" { "Reacties (" (reactions.len()) ")" }
            ol {
                @for reaction in reactions {
                    @let (iso, dutch) = day(reaction.published_at.unwrap_or(reaction.created_at));
                    li id=(anchor(reaction)) {
                        p.who { strong { (reaction.name) } " · " time datetime=(iso) { (dutch) } }
                        (text_block(&reaction.text))
                        @if let Some(answer) = &reaction.answer {
                            div.answer {
                                p.who { strong { "Antwoord van " (author) } }
                                (text_block(&answer.text))
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The reaction form of `post`, with `values` filled in.
pub fn form(catalogue: &Catalogue, post: &Post, values: &FormValues<'_>) -> Markup {
    let site = &catalogue.site;
    let first_name = site.author.split_whitespace().next().unwrap_or(&site.author);
    html! {
        section.react id="reageer" aria-labelledby="reageer-titel" {
            h2 id="reageer-titel" { "Reageer op dit artikel" }
            p {
                "Je reactie komt eerst bij " (first_name) ". Hij leest hem en neemt contact met je op; na zijn \
                 goedkeuring staat hij onder het artikel, met je naam zoals je die hier invult."
            }
            @if let Some(problem) = values.problem {
                p.problem role="alert" { (problem) }
            }
            form method="post" action=(form_path(post.slug.as_str())) {
                label for="reactie-naam" { "Je naam" }
                input id="reactie-naam" name="name" type="text" required autocomplete="name" maxlength=(MAX_NAME) value=(values.name);
                label for="reactie-email" { "Je e-mailadres (niet zichtbaar; alleen om je te antwoorden)" }
                input id="reactie-email" name="email" type="email" required autocomplete="email" inputmode="email" value=(values.email);
                label for="reactie-tekst" { "Je reactie" }
                textarea id="reactie-tekst" name="text" required maxlength=(MAX_TEXT) rows="7" { (values.text) }
                div.hp aria-hidden="true" {
                    label for="reactie-website" { "Laat dit veld leeg" }
                    input id="reactie-website" name="website" type="text" tabindex="-1" autocomplete="off";
                }
                div.choice {
                    input id="reactie-nieuwsbrief" name="newsletter" type="checkbox" value="ja" checked[values.newsletter];
                    label for="reactie-nieuwsbrief" { (site.reaction_consent_text) }
                }
                p.muted { "Wat ik met je reactie en je gegevens doe, lees je in mijn " a href=(PRIVACY_PATH) { "privacyverklaring" } "." }
                button type="submit" { "Verstuur je reactie" }
            }
        }
    }
}

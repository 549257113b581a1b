//! Reactions under posts: the form's use case (caps, the optional newsletter sign-up), the
//! author's notice (one mail per quarter of an hour at most: a flood becomes a digest), the
//! signed *Plaatsen* / *Verwijderen* links, and the operator's commands (list, show, approve,
//! delete, answer), export and erase, retention of waiting reactions.
//!
//! A reaction never makes postbode mail the address typed with it: the notice goes to the
//! author, with that address as `Reply-To` at most. Ticking "also the newsletter" is a
//! subscribe request like the form's (its own caps, the confirmation mail), with the reaction
//! form's consent text in the proof.

use jiff::{SignedDuration, Timestamp};

use super::subscription::{self, LinkError};
use super::{App, Parts};
use crate::content::Post;
use crate::mail::{MailKind, Outgoing};
use crate::reactions::{Answer, MAX_ANSWER, Reaction, ReactionError, ReactionId, ReactionStatus, clean_body};
use crate::store::{Budget, ReactionChange, Store, StoreError};
use crate::subscribers::{Evidence, SubscriberEmail};
use crate::tokens::Purpose;

/// The key prefix of the reaction form's caps (apart from the subscribe form's).
pub const CAPS_SCOPE: &str = "reaction-";
/// Where the author's two buttons lead (a page with a button; only its POST acts).
pub const APPROVE_PATH: &str = "/reactie/plaatsen/";
pub const DELETE_PATH: &str = "/reactie/verwijderen/";
/// How long the buttons of a notice work.
pub const NOTICE_LINK_TTL: SignedDuration = SignedDuration::from_hours(24 * 30);
/// At most one notice per this long (the first reaction of a quiet moment goes at once; the
/// rest of a busy quarter wait for the next, in one digest) ...
pub const NOTICE_WINDOW: i64 = 15 * 60;
/// ... and at most this many a day.
pub const NOTICES_PER_DAY: u32 = 24;
/// The most reactions one notice lists (the rest: `postbode reactions list --waiting`).
pub const NOTICE_MAX: usize = 50;

/// A reaction as the form gave it, cleaned and checked by the caller.
pub struct NewReaction {
    pub name: String,
    pub email: SubscriberEmail,
    pub text: String,
    /// The newsletter box was ticked: the evidence of that consent.
    pub newsletter: Option<Evidence>,
    /// The client's address, for the caps only (never stored with the reaction).
    pub ip: Option<String>,
}

/// What the form did; the reader's answer is the same for `Stored` whatever else happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reacted {
    Stored,
    /// A cap is reached: nothing stored.
    OverCap,
    /// The address's domain takes no mail (the author could never answer): nothing stored.
    NoMailDomain,
}

/// The form's POST on `post`, after its input is cleaned: the caps, the reaction stored as
/// waiting, the newsletter request if ticked, then the author's notice (if this quarter has
/// none yet).
#[tracing::instrument(name = "react", skip_all, fields(post = %post.slug))]
pub async fn react(app: &App, post: &Post, new: NewReaction) -> Result<Reacted, StoreError> {
    if let Some(domains) = &app.settings.mail_domains
        && domains.reachable(new.email.domain()).await == crate::mail::domains::Reachable::No
    {
        return Ok(Reacted::NoMailDomain);
    }
    let limits = app.settings.reaction_caps;
    if !subscription::take_scoped_caps(app, CAPS_SCOPE, &limits, &new.email, new.ip.as_deref()).await? {
        return Ok(Reacted::OverCap);
    }
    let reaction = Reaction::new(post.slug.as_str(), new.name, new.email, new.text, app.now());
    app.store.insert_reaction(&reaction).await?;
    tracing::info!(reaction = %reaction.id, "reaction stored, waiting for the author");
    if let Some(evidence) = new.newsletter {
        // The same request as the subscribe form's, with its own caps; its outcome is not
        // told (the answer is the same for every address).
        let first_name = Some(reaction.name.clone());
        match subscription::subscribe(app, reaction.email.clone(), first_name, evidence).await {
            Ok(outcome) => tracing::info!(?outcome, "newsletter requested with a reaction"),
            Err(e) => tracing::warn!(error = %crate::error_chain(&e), "newsletter request with a reaction failed"),
        }
    }
    match notify_author(&app.parts(), app.now(), true).await {
        Ok(listed) => tracing::info!(listed, "author's notice"),
        Err(e) => tracing::warn!(error = %crate::error_chain(&e), "no notice now; the sender's next run tries"),
    }
    Ok(Reacted::Stored)
}

/// The signed link of one of the author's buttons.
pub fn moderation_link(parts: &Parts, purpose: Purpose, reaction: &Reaction, now: Timestamp) -> String {
    let token = parts.tokens.sign_subject(purpose, reaction.id.as_bytes(), 0, now);
    let path = if purpose == Purpose::ApproveReaction { APPROVE_PATH } else { DELETE_PATH };
    parts.email.base_url.join(&format!("{path}{token}"))
}

/// Mails the author the reactions no notice listed yet, if this quarter of an hour (and
/// day) has room for a notice: all of them in one mail. `known_new`: the caller just stored
/// one (the form), so the notice budget is taken before anything is read; otherwise (the
/// sender's runs) the waiting list is read first, and a quarter without news spends nothing.
/// Returns how many reactions the notice listed (0: none sent).
pub async fn notify_author(parts: &Parts, now: Timestamp, known_new: bool) -> Result<usize, NoticeError> {
    let store = parts.store.as_ref();
    let unlisted = |waiting: &[Reaction]| waiting.iter().filter(|r| !r.notified).cloned().collect::<Vec<_>>();
    let mut waiting = None;
    if !known_new {
        let read = store.waiting_reactions(NOTICE_MAX, true).await?;
        if unlisted(&read).is_empty() {
            return Ok(0);
        }
        waiting = Some(read);
    }
    if !store.take_budgets(&notice_budgets(now), now).await? {
        tracing::info!("a notice went out this quarter; the next lists these");
        return Ok(0);
    }
    let waiting = match waiting {
        Some(read) => read,
        None => store.waiting_reactions(NOTICE_MAX, true).await?,
    };
    let mut new = unlisted(&waiting);
    if new.is_empty() {
        return Ok(0);
    }
    new.reverse();
    let catalogue = &parts.catalogue;
    let links: Vec<(String, String)> = new
        .iter()
        .map(|r| {
            (
                moderation_link(parts, Purpose::ApproveReaction, r, now),
                moderation_link(parts, Purpose::DeleteReaction, r, now),
            )
        })
        .collect();
    let items: Vec<crate::render::letters::NoticeItem<'_>> = new
        .iter()
        .zip(links)
        .map(|(reaction, (approve_url, delete_url))| crate::render::letters::NoticeItem {
            reaction,
            post_title: catalogue.post(&reaction.slug).map_or(reaction.slug.as_str(), |p| p.title.as_str()),
            approve_url,
            delete_url,
        })
        .collect();
    let more_waiting = waiting.len() > new.len();
    let mime =
        crate::render::letters::reaction_notice(&catalogue.site, &parts.email.from, &items, more_waiting, now.into())
            .map_err(|e| NoticeError::Render(Box::new(e)))?;
    let kind = MailKind::ReactionNotice;
    parts
        .mailer
        .send(Outgoing { to: &catalogue.site.contact_email, mime: &mime, kind })
        .await
        .map_err(|e| NoticeError::Mail(e.to_string()))?;
    subscription::count_sent(store, kind, now).await;
    for reaction in &new {
        // Not marked: listed again in the next notice, never lost.
        if let Err(e) = store.change_reaction(reaction, &ReactionChange::Notified).await {
            tracing::warn!(error = %crate::error_chain(&e), reaction = %reaction.id, "listed but not marked");
        }
    }
    Ok(new.len())
}

/// The notice's budgets: one per quarter of an hour, [`NOTICES_PER_DAY`] a day.
fn notice_budgets(now: Timestamp) -> [Budget; 2] {
    let (window, day) = (now.as_second().div_euclid(NOTICE_WINDOW), now.as_second().div_euclid(86_400));
    let ends = |index: i64, length: i64| Timestamp::from_second((index + 2) * length).unwrap_or(Timestamp::MAX);
    [
        Budget { key: format!("reaction-notice#{window}"), limit: 1, expires_at: ends(window, NOTICE_WINDOW) },
        Budget { key: format!("reaction-notice-day#{day}"), limit: NOTICES_PER_DAY, expires_at: ends(day, 86_400) },
    ]
}

#[derive(Debug, thiserror::Error)]
pub enum NoticeError {
    #[error("the store failed")]
    Store(#[from] StoreError),
    #[error("the notice could not be rendered")]
    Render(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("the notice was not sent: {0}")]
    Mail(String),
}

/// The reaction one of the author's buttons is for: `None` when it is gone (deleted).
/// Refuses tampered, misdirected and expired links.
pub async fn resolve_link(app: &App, token: &str, purpose: Purpose) -> Result<Option<Reaction>, LinkError> {
    let (claims, subject) = app.tokens.verify_subject(token, purpose).map_err(|e| {
        tracing::info!(error = %e, ?purpose, "moderation link refused");
        LinkError::Invalid
    })?;
    if claims.issued_at.saturating_add(NOTICE_LINK_TTL).unwrap_or(claims.issued_at) < app.now() {
        return Err(LinkError::Expired);
    }
    let id = ReactionId::from_bytes(&subject).ok_or(LinkError::Invalid)?;
    Ok(app.store.reaction(&id).await?)
}

/// Publishes a reaction (again: nothing changes). `None` when it is gone.
pub async fn approve(store: &dyn Store, reaction: &Reaction, now: Timestamp) -> Result<Option<Reaction>, StoreError> {
    let approved = store.change_reaction(reaction, &ReactionChange::Approve { at: now }).await?;
    if approved.is_some() {
        tracing::info!(reaction = %reaction.id, "reaction published");
    }
    Ok(approved)
}

/// Deletes a reaction for good.
pub async fn delete(store: &dyn Store, reaction: &Reaction) -> Result<(), StoreError> {
    store.delete_reaction(reaction).await?;
    tracing::info!(reaction = %reaction.id, "reaction deleted");
    Ok(())
}

/// The author's answer under a reaction, cleaned as a reaction's text is.
pub async fn answer(
    store: &dyn Store,
    reaction: &Reaction,
    text: &str,
    now: Timestamp,
) -> Result<Result<Option<Reaction>, ReactionError>, StoreError> {
    let text = match clean_body(text, MAX_ANSWER) {
        Ok(text) => text,
        Err(e) => return Ok(Err(e)),
    };
    Ok(Ok(store.change_reaction(reaction, &ReactionChange::Answer(Answer { text, at: now })).await?))
}

/// The published reactions under a post, oldest first (newest last, as a conversation reads).
pub async fn published(store: &dyn Store, slug: &str) -> Result<Vec<Reaction>, StoreError> {
    let mut all = store.reactions_of_post(slug).await?;
    all.retain(|r| r.status == ReactionStatus::Published);
    Ok(all)
}

/// Every reaction (only the waiting ones with `waiting_only`), oldest first.
pub async fn list(store: &dyn Store, waiting_only: bool) -> Result<Vec<Reaction>, StoreError> {
    let mut all = store.all_reactions().await?;
    all.retain(|r| !waiting_only || r.status == ReactionStatus::Waiting);
    Ok(all)
}

/// What an id (or its beginning, as `reactions list` shows it) finds.
#[derive(Debug)]
pub enum Found {
    One(Box<Reaction>),
    Nothing,
    /// The beginning fits this many: type more of it.
    Several(usize),
}

/// The reaction whose id is or begins with `id` (at least 4 hex digits).
pub async fn find(store: &dyn Store, id: &str) -> Result<Found, StoreError> {
    let id = id.trim().to_ascii_lowercase();
    if let Ok(full) = id.parse::<ReactionId>() {
        return Ok(store.reaction(&full).await?.map_or(Found::Nothing, |r| Found::One(Box::new(r))));
    }
    if id.len() < 4 || !id.chars().all(|c| c.is_ascii_hexdigit()) {
        return Ok(Found::Nothing);
    }
    let mut fitting: Vec<Reaction> =
        store.all_reactions().await?.into_iter().filter(|r| r.id.to_string().starts_with(&id)).collect();
    Ok(match fitting.len() {
        0 => Found::Nothing,
        1 => Found::One(Box::new(fitting.remove(0))),
        n => Found::Several(n),
    })
}

/// Every reaction left with `email` (for that person's export and erase).
pub async fn of_address(store: &dyn Store, email: &SubscriberEmail) -> Result<Vec<Reaction>, StoreError> {
    store.reactions_of_address(email).await
}

/// Erases waiting reactions older than the retention period (`months`, the privacy
/// statement's); the oldest first, at most `limit` a run. Returns how many.
pub async fn expire_waiting(store: &dyn Store, months: u32, now: Timestamp, limit: usize) -> Result<u32, StoreError> {
    let mut erased = 0;
    for reaction in store.waiting_reactions(limit, false).await? {
        if !reaction.waited_too_long(months, now) {
            break;
        }
        store.delete_reaction(&reaction).await?;
        erased += 1;
    }
    if erased > 0 {
        tracing::info!(erased, "waiting reactions past the retention period erased");
    }
    Ok(erased)
}

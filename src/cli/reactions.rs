//! `postbode reactions …`: the author's moderation from the command line (the same as the
//! buttons in his notice), on the deployed stack or the local store.

use std::process::ExitCode;

use super::{CommandResult, Target, runtime};
use crate::app::reactions::{self, Found};
use crate::reactions::{Reaction, ReactionStatus};
use crate::subscribers::terminal_safe as safe;

#[derive(clap::Subcommand, Debug)]
pub enum ReactionsAction {
    /// One line per reaction: id, status, post, name, when, the start of the text.
    List {
        /// Only those waiting for you.
        #[arg(long)]
        waiting: bool,
    },
    /// A reaction whole, with the address it was left with.
    Show { id: String },
    /// Publish it under its post (shown within a minute).
    Approve { id: String },
    /// Delete it for good (published or not).
    Delete { id: String },
    /// Your answer, shown under it (replaces an earlier one).
    Answer { id: String, text: String },
}

/// `postbode reactions …`
pub fn reactions(action: ReactionsAction, target: &Target) -> CommandResult {
    runtime()?.block_on(reactions_async(action, target))
}

fn status(reaction: &Reaction) -> &'static str {
    match reaction.status {
        ReactionStatus::Waiting => "waiting",
        ReactionStatus::Published => "published",
    }
}

async fn reactions_async(action: ReactionsAction, target: &Target) -> CommandResult {
    let store = target.store().await?;
    let store = store.as_ref();
    let now = jiff::Timestamp::now();
    let failed = |e: crate::store::StoreError| crate::error_chain(&e);
    let found = |id: &str| {
        let id = id.to_owned();
        async move {
            match reactions::find(store, &id).await.map_err(failed)? {
                Found::One(reaction) => Ok(*reaction),
                Found::Nothing => Err(format!("no reaction with id {id} (see postbode reactions list)")),
                Found::Several(n) => Err(format!("{n} reactions have an id that begins with {id}; give more of it")),
            }
        }
    };
    match action {
        ReactionsAction::List { waiting } => {
            let all = reactions::list(store, waiting).await.map_err(failed)?;
            for r in &all {
                let start: String = r.text.replace('\n', " ").chars().take(50).collect();
                println!(
                    "{} {:<9} {:<32} {:<20} {} {}",
                    r.id.short(),
                    status(r),
                    r.slug,
                    safe(&r.name),
                    r.created_at.strftime("%Y-%m-%d %H:%M"),
                    safe(&start)
                );
            }
            println!("{} reaction(s)", all.len());
        }
        ReactionsAction::Show { id } => {
            let r = found(&id).await?;
            println!("{} ({}) under {}", r.id, status(&r), r.slug);
            println!("from {} <{}> (the address is not checked), {}", safe(&r.name), r.email, r.created_at);
            println!("\n{}\n", safe(&r.text).replace("\\u{a}", "\n"));
            if let Some(answer) = &r.answer {
                println!("your answer ({}):\n{}\n", answer.at, safe(&answer.text).replace("\\u{a}", "\n"));
            }
        }
        ReactionsAction::Approve { id } => {
            let r = found(&id).await?;
            match reactions::approve(store, &r, now).await.map_err(failed)? {
                Some(_) => println!("published {} under /posts/{}", r.id.short(), r.slug),
                None => return Err(format!("reaction {id} is gone").into()),
            }
        }
        ReactionsAction::Delete { id } => {
            let r = found(&id).await?;
            reactions::delete(store, &r).await.map_err(failed)?;
            println!("deleted {} for good", r.id.short());
        }
        ReactionsAction::Answer { id, text } => {
            let r = found(&id).await?;
            match reactions::answer(store, &r, &text, now).await.map_err(failed)? {
                Ok(Some(answered)) if answered.status == ReactionStatus::Published => {
                    println!("answered {}; shown under it", r.id.short())
                }
                Ok(Some(_)) => println!(
                    "answered {}; shown once you approve it (postbode reactions approve {})",
                    r.id.short(),
                    r.id.short()
                ),
                Ok(None) => return Err(format!("reaction {id} is gone").into()),
                Err(e) => return Err(format!("the answer is not stored: {e}").into()),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

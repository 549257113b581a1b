//! The one binary behind postbode's four Lambda functions. Which function this process is
//! comes from `_HANDLER` (the function's `Handler` in `template.yaml`): `api`,
//! `confirmations`, `sender` or `ses-events`. One binary means one build and one relink after
//! a content change, shared by all four.
//!
//! The content folder is compiled in by `build.rs`, which validates it first: a broken post
//! stops `sam build` at its `path:line`.

include!(concat!(env!("OUT_DIR"), "/embedded_content.rs"));

#[tokio::main]
async fn main() -> Result<(), postbode::lambda::Error> {
    postbode::lambda::run(&CONTENT).await
}

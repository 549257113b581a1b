//! One integration-test binary (faster to build than one per file), with shared helpers.

mod helpers;
mod test_app;

mod api;
mod content_check;
mod email_checklist;
mod golden;
mod preview_cli;

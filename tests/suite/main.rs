//! One integration-test binary (faster to build than one per file), with shared helpers.

mod helpers;
mod test_app;
mod web;

mod api;
mod architecture;
mod authors_desk;
mod aws;
mod config;
mod content_check;
mod email_checklist;
mod fault_matrix;
mod front_door;
mod go_live;
mod golden;
mod iam;
mod lambda_events;
mod no_oracle;
mod operator;
mod preferences;
mod preflight;
mod preview_cli;
mod publishing;
mod reactions;
mod reader_texts;
mod retention;
mod robustness;
mod sender;
mod ses;
mod ses_events;
mod ses_suppression;
mod smoke;
mod store_contract;
mod strangers;
mod template;

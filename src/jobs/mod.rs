//! Jobs run on a schedule or by events: the sender (EventBridge Scheduler → `sender`
//! Lambda, or `postbode send` locally) and the SES event handler (SNS → `ses-events`).

pub mod sender;
pub mod ses_events;

//! Jobs run on a schedule or by events: the sender (EventBridge Scheduler → `sender`
//! Lambda, or `postbode send` locally), the SES event handler (SNS → `ses-events`), and the
//! confirmations worker (the table's stream → `confirmations`, or a task of `postbode dev`).

pub mod confirmations;
pub mod sender;
pub mod ses_events;

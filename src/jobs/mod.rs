//! Jobs run on a schedule or by events: the sender (EventBridge Scheduler → `sender`
//! Lambda, or `postbode send` locally).

pub mod sender;

//! The discrete-event engine: clock, event queue with cancellable timers, and
//! seeded random streams. It knows nothing of pools or databases.

pub mod rng;
pub mod scheduler;
pub mod time;

pub use rng::SimRng;
pub use scheduler::{Scheduler, TimerId};
pub use time::SimTime;

//! Time as a dependency: the only place art28 reads the system clock.

use jiff::Timestamp;
use std::sync::Mutex;

/// A source of the current time.
pub trait Clock: Send + Sync + std::fmt::Debug + 'static {
    /// Now, in UTC.
    fn now(&self) -> Timestamp;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that moves only when told to; for tests of deadlines.
#[derive(Debug)]
pub struct ManualClock(Mutex<Timestamp>);

impl ManualClock {
    /// A clock standing at `t`.
    pub fn new(t: Timestamp) -> Self {
        Self(Mutex::new(t))
    }

    /// Move to `t`.
    pub fn set(&self, t: Timestamp) {
        if let Ok(mut g) = self.0.lock() {
            *g = t;
        }
    }

    /// Move forward.
    pub fn advance(&self, by: jiff::SignedDuration) {
        if let Ok(mut g) = self.0.lock() {
            *g = g.saturating_add(by).unwrap_or(*g);
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        self.0.lock().map(|g| *g).unwrap_or_else(|p| *p.into_inner())
    }
}

/// Today's date in Europe/Amsterdam would need the time zone database; agreements take
/// effect on calendar dates that are the same across the EU for all practical purposes, so
/// the date in UTC is used.
pub fn today(clock: &dyn Clock) -> art28_core::date::Date {
    art28_core::date::Date(clock.now().to_zoned(jiff::tz::TimeZone::UTC).date())
}

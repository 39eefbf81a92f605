//! The time the rules read. Every rule that depends on "now" (a session still valid, a
//! verification expired, a suspension over, voting open today, a sign-in flow too old,
//! a rate-limit window) asks the store's `Clock`, so that tests set the day instead of
//! depending on the calendar or sleeping. The server runs on the system clock.
//!
//! Stamps that only record when something happened (`created_at` written inside
//! `store`) keep the system time: no rule reads them against the manual clock.

use crate::domain::time::{Day, Timestamp};
use std::sync::{Arc, Mutex};
use time::{Date, Duration, OffsetDateTime};

/// The system clock, or a manual one shared by every clone (tests).
#[derive(Debug, Clone, Default)]
pub struct Clock {
    manual: Option<Arc<Mutex<Timestamp>>>,
}

impl Clock {
    pub fn system() -> Clock {
        Clock { manual: None }
    }

    /// A clock that shows `at` until it is set or advanced.
    pub fn manual(at: Timestamp) -> Clock {
        Clock {
            manual: Some(Arc::new(Mutex::new(at))),
        }
    }

    pub fn now(&self) -> Timestamp {
        match &self.manual {
            None => Timestamp::new(OffsetDateTime::now_utc()),
            // A poisoned lock still holds a valid instant.
            Some(m) => *m.lock().unwrap_or_else(|e| e.into_inner()),
        }
    }

    /// Today, UTC.
    pub fn today(&self) -> Date {
        self.now().date()
    }

    /// Today, UTC, as the `*_on` columns hold days.
    pub fn day(&self) -> Day {
        Day::new(self.today())
    }

    /// Today, UTC, as `YYYY-MM-DD` (the `*_on` columns).
    pub fn today_iso(&self) -> String {
        self.now().day_iso()
    }

    /// Sets a manual clock; false (and nothing changes) on the system clock.
    pub fn set(&self, at: Timestamp) -> bool {
        match &self.manual {
            None => false,
            Some(m) => {
                *m.lock().unwrap_or_else(|e| e.into_inner()) = at;
                true
            }
        }
    }

    /// Moves a manual clock on by `d`; false on the system clock.
    pub fn advance(&self, d: Duration) -> bool {
        self.set(self.now().plus(d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clocks_are_shared_and_system_clocks_cannot_be_set() {
        let at = Timestamp::parse("2026-12-01T08:00:00Z").unwrap();
        let c = Clock::manual(at);
        let copy = c.clone();
        assert!(copy.advance(Duration::days(40)));
        assert_eq!(c.now().rfc3339(), "2027-01-10T08:00:00Z");
        assert_eq!(c.today_iso(), "2027-01-10");
        let s = Clock::system();
        assert!(!s.set(at));
        assert!(s.now() > at);
    }
}

//! The service clock: the system's, a fixed instant set by configuration so rehearsals can
//! play any date, or a manual clock that tests move while the service runs.

use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, TimeDelta, Utc};

#[derive(Debug, Clone, Copy)]
pub enum Clock {
    System,
    Fixed(DateTime<Utc>),
    /// Stands still until its [`ManualClock`] handle is set or advanced.
    Manual(ManualClock),
}

impl Clock {
    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Self::System => Utc::now(),
            Self::Fixed(t) => *t,
            Self::Manual(m) => m.now(),
        }
    }

    /// A manual clock at `t`, and the handle that moves it.
    pub fn manual(t: DateTime<Utc>) -> (Self, ManualClock) {
        let m = ManualClock::new(t);
        (Self::Manual(m), m)
    }
}

impl From<ManualClock> for Clock {
    fn from(m: ManualClock) -> Self {
        Self::Manual(m)
    }
}

/// A clock that stands at one instant (to the microsecond) until it is set or advanced;
/// every copy reads and moves the same instant, so a test moves the clock of a running
/// service through the copy it kept.
///
/// The instant lives in a leaked `AtomicI64` (8 bytes per clock made, so one per test
/// server), which keeps [`Clock`] `Copy`.
#[derive(Clone, Copy)]
pub struct ManualClock(&'static AtomicI64);

impl ManualClock {
    pub fn new(t: DateTime<Utc>) -> Self {
        Self(Box::leak(Box::new(AtomicI64::new(t.timestamp_micros()))))
    }

    pub fn now(&self) -> DateTime<Utc> {
        let micros = self.0.load(Ordering::SeqCst);
        DateTime::from_timestamp_micros(micros).expect("a manual clock holds a valid instant")
    }

    /// Moves the clock to `t`, forwards or back.
    pub fn set(&self, t: DateTime<Utc>) {
        self.0.store(t.timestamp_micros(), Ordering::SeqCst);
    }

    /// Moves the clock by `d` (negative moves it back).
    pub fn advance(&self, d: TimeDelta) {
        let micros = d
            .num_microseconds()
            .expect("a clock advances by less than 292,000 years");
        self.0.fetch_add(micros, Ordering::SeqCst);
    }
}

impl fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ManualClock").field(&self.now()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    #[test]
    fn a_fixed_clock_stands_still() {
        let c = Clock::Fixed(at("2026-09-15T10:30:00+05:00"));
        assert_eq!(c.now(), at("2026-09-15T10:30:00+05:00"));
    }

    #[test]
    fn every_copy_of_a_manual_clock_sees_it_move() {
        let (clock, handle) = Clock::manual(at("2026-09-30T23:59:59+05:00"));
        let copy = clock;
        assert_eq!(copy.now(), at("2026-09-30T23:59:59+05:00"));
        handle.advance(TimeDelta::seconds(1));
        assert_eq!(clock.now(), at("2026-10-01T00:00:00+05:00"));
        assert_eq!(copy.now(), at("2026-10-01T00:00:00+05:00"));
        handle.set(at("2026-09-01T09:00:00.123456+05:00"));
        assert_eq!(copy.now(), at("2026-09-01T09:00:00.123456+05:00"));
        handle.advance(TimeDelta::days(-1));
        assert_eq!(clock.now(), at("2026-08-31T09:00:00.123456+05:00"));
    }

    #[test]
    fn a_manual_clock_is_shared_between_threads() {
        let (clock, handle) = Clock::manual(at("2027-01-01T00:00:00Z"));
        std::thread::spawn(move || handle.advance(TimeDelta::hours(5)))
            .join()
            .unwrap();
        assert_eq!(clock.now(), at("2027-01-01T05:00:00Z"));
    }
}

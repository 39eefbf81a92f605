//! Instants as the platform stores and shows them: UTC, whole seconds, written as
//! RFC 3339 text (`2026-11-23T10:00:00Z`) in every `*_at` column, the JSON API and the
//! open data, and shown to people as `2026-11-23 10:00:00` (one display rule, here).
//!
//! The text form sorts as the instant does, which the SQL comparisons on `*_at`
//! columns (sessions still active, keys due for destruction…) rely on.

use std::fmt;
use time::format_description::well_known::Rfc3339;
use time::{Date, Duration, OffsetDateTime, UtcOffset};

/// An instant, UTC, to the second.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    diesel::AsExpression,
    diesel::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub struct Timestamp(OffsetDateTime);

/// Text that is not an RFC 3339 instant (a damaged row, a bad parameter).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an RFC 3339 instant: {0:?}")]
pub struct BadTimestamp(pub String);

impl Timestamp {
    /// `t` in UTC, to the second below.
    pub fn new(t: OffsetDateTime) -> Timestamp {
        let t = t.to_offset(UtcOffset::UTC);
        Timestamp(t.replace_nanosecond(0).unwrap_or(t))
    }

    /// The instant `secs` seconds after 1970-01-01T00:00:00Z.
    pub fn from_unix(secs: i64) -> Option<Timestamp> {
        OffsetDateTime::from_unix_timestamp(secs)
            .ok()
            .map(Timestamp::new)
    }

    /// Reads RFC 3339 text (any offset; kept as UTC).
    pub fn parse(s: &str) -> Result<Timestamp, BadTimestamp> {
        OffsetDateTime::parse(s, &Rfc3339)
            .map(Timestamp::new)
            .map_err(|_| BadTimestamp(s.chars().take(64).collect()))
    }

    /// Seconds since 1970-01-01T00:00:00Z.
    pub fn unix(self) -> i64 {
        self.0.unix_timestamp()
    }

    /// The UTC day of this instant.
    pub fn date(self) -> Date {
        self.0.date()
    }

    /// The UTC day as `YYYY-MM-DD`, the format of every `*_on` column.
    pub fn day_iso(self) -> String {
        self.0.date().to_string()
    }

    pub fn plus(self, d: Duration) -> Timestamp {
        Timestamp::new(self.0 + d)
    }

    pub fn minus(self, d: Duration) -> Timestamp {
        Timestamp::new(self.0 - d)
    }

    /// RFC 3339, as stored: `2026-11-23T10:00:00Z`.
    pub fn rfc3339(self) -> String {
        // Formatting a UTC instant of years 0–9999 cannot fail.
        self.0
            .format(&Rfc3339)
            .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
    }

    /// As shown to people on pages: `2026-11-23 10:00:00` (UTC, said by the page).
    pub fn display(self) -> String {
        let d = self.0;
        format!(
            "{} {:02}:{:02}:{:02}",
            d.date(),
            d.hour(),
            d.minute(),
            d.second()
        )
    }
}

/// A calendar day, as the `*_on` columns hold it: `YYYY-MM-DD` text (sorting as the day
/// does), shown as written. (A version's `date` stays text: a git import keeps the
/// commit's whole `%aI` instant there.)
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    diesel::AsExpression,
    diesel::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub struct Day(Date);

/// Text that is not a `YYYY-MM-DD` day.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a day (YYYY-MM-DD): {0:?}")]
pub struct BadDay(pub String);

impl Day {
    pub fn new(d: Date) -> Day {
        Day(d)
    }

    /// Reads `YYYY-MM-DD` (exactly: four-digit year, two-digit month and day).
    pub fn parse(s: &str) -> Result<Day, BadDay> {
        let format = time::macros::format_description!("[year]-[month]-[day]");
        match Date::parse(s, &format) {
            Ok(d) if s.len() == 10 => Ok(Day(d)),
            _ => Err(BadDay(s.chars().take(32).collect())),
        }
    }

    pub fn date(self) -> Date {
        self.0
    }

    /// `YYYY-MM-DD`.
    pub fn iso(self) -> String {
        self.0.to_string()
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::str::FromStr for Day {
    type Err = BadDay;

    fn from_str(s: &str) -> Result<Day, BadDay> {
        Day::parse(s)
    }
}

impl serde::Serialize for Day {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.iso())
    }
}

/// A stored instant shown to people (`2026-11-23 10:00:00`); text that is not an
/// instant is shown as it is rather than hidden.
pub fn display(rfc3339: &str) -> String {
    Timestamp::parse(rfc3339).map_or_else(|_| rfc3339.to_owned(), Timestamp::display)
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.rfc3339())
    }
}

impl std::str::FromStr for Timestamp {
    type Err = BadTimestamp;

    fn from_str(s: &str) -> Result<Timestamp, BadTimestamp> {
        Timestamp::parse(s)
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.rfc3339())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_shown_and_ordered() {
        let t = Timestamp::parse("2026-11-23T10:00:05.250+01:00").unwrap();
        assert_eq!(t.rfc3339(), "2026-11-23T09:00:05Z");
        assert_eq!(t.display(), "2026-11-23 09:00:05");
        assert_eq!(t.day_iso(), "2026-11-23");
        assert_eq!(Timestamp::parse(&t.rfc3339()), Ok(t));
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            "\"2026-11-23T09:00:05Z\""
        );
        let later = t.plus(Duration::hours(20));
        assert_eq!(later.rfc3339(), "2026-11-24T05:00:05Z");
        assert!(
            later > t && later.rfc3339() > t.rfc3339(),
            "text sorts as time"
        );
        assert_eq!(later.minus(Duration::hours(20)), t);
        assert_eq!(Timestamp::from_unix(t.unix()), Some(t));
        assert!(Timestamp::parse("2026-11-23 10:00").is_err());
        assert_eq!(display("2026-11-23T10:00:00Z"), "2026-11-23 10:00:00");
        assert_eq!(display("hier"), "hier");
    }

    #[test]
    fn days_are_iso_days() {
        let d = Day::parse("2026-12-01").unwrap();
        assert_eq!(d.iso(), "2026-12-01");
        assert_eq!(d.to_string(), "2026-12-01");
        assert_eq!(serde_json::to_string(&d).unwrap(), "\"2026-12-01\"");
        assert!(d < Day::parse("2027-01-31").unwrap());
        for bad in [
            "2026-12-1",
            "2026-13-01",
            "01/12/2026",
            "",
            "2026-12-01T00:00:00Z",
        ] {
            assert!(Day::parse(bad).is_err(), "{bad}");
        }
    }
}

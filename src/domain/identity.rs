//! Assurance levels, roles and the mapping from a provider's `acr` (DESIGN §4).

use super::state::closed_set;
use crate::domain::ids::AccountId;
use crate::domain::time::Day;
use serde::Serialize;
use std::collections::BTreeMap;

/// 0 anonymous, 1 low, 2 substantial, 3 high (eIDAS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Level(u8);

impl Level {
    pub const NONE: Level = Level(0);
    pub const LOW: Level = Level(1);
    pub const SUBSTANTIAL: Level = Level(2);
    pub const HIGH: Level = Level(3);

    pub fn new(n: i64) -> Option<Level> {
        (0..=3).contains(&n).then_some(Level(n as u8))
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

closed_set! {
    /// What an account may do beyond taking part (`account_roles.role`).
    pub enum Role("role") {
        Moderator = "moderator",
        Staff = "staff",
        Admin = "admin",
    }
}

closed_set! {
    /// How an author appears on a publication (amendment, comment): under their name,
    /// or under their pseudonym for the bill.
    pub enum Disclosure("disclosure") {
        Name = "name",
        Pseudonym = "pseudonym",
    }
}

/// How one provider's `acr` values map to levels, and what an absent `acr` means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcrMap {
    pub values: BTreeMap<String, Level>,
    pub absent: Level,
}

impl Default for AcrMap {
    /// FranceConnect style; an absent `acr` is the lowest signed-in level.
    fn default() -> Self {
        AcrMap {
            values: [("eidas1", 1), ("eidas2", 2), ("eidas3", 3)]
                .into_iter()
                .map(|(k, v)| (k.to_string(), Level(v)))
                .collect(),
            absent: Level::LOW,
        }
    }
}

impl AcrMap {
    /// The level of an `acr` claim; an unknown value gives no level at all (refused).
    pub fn level(&self, acr: Option<&str>) -> Option<Level> {
        match acr {
            None => Some(self.absent),
            Some(v) => self.values.get(v).copied(),
        }
    }

    /// The `acr` value to request for at least `level` (the lowest that suffices).
    pub fn acr_for(&self, level: Level) -> Option<&str> {
        self.values
            .iter()
            .filter(|(_, l)| **l >= level)
            .min_by_key(|(_, l)| **l)
            .map(|(k, _)| k.as_str())
    }
}

/// The level that counts: the higher of the session's and a valid moderator verification's.
pub fn effective_level(session: Level, verified: Option<Level>) -> Level {
    verified.map_or(session, |v| v.max(session))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acr_mapping() {
        let m = AcrMap::default();
        assert_eq!(m.level(Some("eidas2")), Some(Level::SUBSTANTIAL));
        assert_eq!(m.level(None), Some(Level::LOW));
        assert_eq!(m.level(Some("unknown")), None);
        assert_eq!(m.acr_for(Level::SUBSTANTIAL), Some("eidas2"));
        assert_eq!(m.acr_for(Level::LOW), Some("eidas1"));
        assert_eq!(Level::new(4), None);
        assert_eq!(effective_level(Level::LOW, Some(Level::HIGH)), Level::HIGH);
        assert_eq!(
            effective_level(Level::SUBSTANTIAL, None),
            Level::SUBSTANTIAL
        );
        assert_eq!(Role::parse("staff"), Some(Role::Staff));
        assert_eq!(Role::parse("citizen"), None);
    }

    #[test]
    fn words_round_trip() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>(), Ok(r));
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
        }
        for d in Disclosure::ALL {
            assert_eq!(d.as_str().parse::<Disclosure>(), Ok(d));
        }
        for m in Method::ALL {
            assert_eq!(m.as_str().parse::<Method>(), Ok(m));
        }
        assert!(Role::Moderator < Role::Staff && Role::Staff < Role::Admin);
        assert!("Name".parse::<Disclosure>().is_err());
    }
}

closed_set! {
    /// How a moderator checked a person's identity.
    pub enum Method("verification method") {
        Document = "document",
        InPerson = "in_person",
    }
}

/// Where a verification stands on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerificationStatus {
    Valid,
    /// Level 3, waiting for a second moderator.
    PendingConfirmation,
    Expired,
    Revoked,
}

impl VerificationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            VerificationStatus::Valid => "valid",
            VerificationStatus::PendingConfirmation => "pending",
            VerificationStatus::Expired => "expired",
            VerificationStatus::Revoked => "revoked",
        }
    }
}

/// The facts of a verification that its status depends on.
pub struct VerificationFacts {
    pub level: Level,
    pub expires_on: Day,
    pub confirmed: bool,
    pub revoked: bool,
}

pub fn verification_status(v: &VerificationFacts, today: Day) -> VerificationStatus {
    if v.revoked {
        VerificationStatus::Revoked
    } else if v.expires_on < today {
        VerificationStatus::Expired
    } else if v.level >= Level::HIGH && !v.confirmed {
        VerificationStatus::PendingConfirmation
    } else {
        VerificationStatus::Valid
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VerificationError {
    #[error("a moderator cannot verify their own identity")]
    SelfVerification,
    #[error("the level must be 1, 2 or 3")]
    Level,
    #[error("the verification date is not a valid date in the past")]
    VerifiedOn,
    #[error("the expiry date must be a valid date after both today and the verification date")]
    ExpiresOn,
    #[error("a level 3 verification must be confirmed by a second moderator, not the one who recorded it")]
    SameModerator,
    #[error("this verification is not waiting for confirmation")]
    NotPending,
}

impl VerificationError {
    /// The translation key of the message shown next to the field.
    pub fn key(self) -> &'static str {
        match self {
            VerificationError::SelfVerification => "err_verify_self",
            VerificationError::Level => "err_verify_level",
            VerificationError::VerifiedOn => "err_verify_date",
            VerificationError::ExpiresOn => "err_verify_expiry",
            VerificationError::SameModerator => "err_verify_same",
            VerificationError::NotPending => "err_verify_not_pending",
        }
    }
}

fn is_date(s: &str) -> bool {
    time::Date::parse(s, &time::format_description::well_known::Iso8601::DATE).is_ok()
        && s.len() == 10
}

/// Checks a new verification recorded by `moderator` for `account`.
pub fn check_new_verification(
    moderator: AccountId,
    account: AccountId,
    level: i64,
    verified_on: &str,
    expires_on: &str,
    today: &str,
) -> Result<Level, VerificationError> {
    if moderator == account {
        return Err(VerificationError::SelfVerification);
    }
    let level = Level::new(level)
        .filter(|l| *l >= Level::LOW)
        .ok_or(VerificationError::Level)?;
    if !is_date(verified_on) || verified_on > today {
        return Err(VerificationError::VerifiedOn);
    }
    if !is_date(expires_on) || expires_on <= today || expires_on <= verified_on {
        return Err(VerificationError::ExpiresOn);
    }
    Ok(level)
}

#[cfg(test)]
mod verification_tests {
    use super::*;

    fn day(s: &str) -> Day {
        Day::parse(s).unwrap()
    }

    #[test]
    fn statuses() {
        let v = |level, expires_on, confirmed, revoked| VerificationFacts {
            level,
            expires_on,
            confirmed,
            revoked,
        };
        let today = day("2026-11-23");
        assert_eq!(
            verification_status(
                &v(Level::SUBSTANTIAL, day("2027-01-01"), false, false),
                today
            ),
            VerificationStatus::Valid
        );
        assert_eq!(
            verification_status(&v(Level::HIGH, day("2027-01-01"), false, false), today),
            VerificationStatus::PendingConfirmation
        );
        assert_eq!(
            verification_status(&v(Level::HIGH, day("2027-01-01"), true, false), today),
            VerificationStatus::Valid
        );
        assert_eq!(
            verification_status(&v(Level::HIGH, day("2026-11-22"), true, false), today),
            VerificationStatus::Expired
        );
        assert_eq!(
            verification_status(&v(Level::HIGH, day("2026-11-23"), true, false), today),
            VerificationStatus::Valid,
            "valid through its last day"
        );
        assert_eq!(
            verification_status(&v(Level::LOW, day("2027-01-01"), true, true), today),
            VerificationStatus::Revoked
        );
    }

    #[test]
    fn new_verification_rules() {
        let t = "2026-11-23";
        assert_eq!(
            check_new_verification(
                AccountId::new(1),
                AccountId::new(2),
                2,
                "2026-11-20",
                "2027-11-20",
                t
            ),
            Ok(Level::SUBSTANTIAL)
        );
        assert_eq!(
            check_new_verification(
                AccountId::new(1),
                AccountId::new(1),
                2,
                "2026-11-20",
                "2027-11-20",
                t
            ),
            Err(VerificationError::SelfVerification)
        );
        assert_eq!(
            check_new_verification(
                AccountId::new(1),
                AccountId::new(2),
                0,
                "2026-11-20",
                "2027-11-20",
                t
            ),
            Err(VerificationError::Level)
        );
        assert_eq!(
            check_new_verification(
                AccountId::new(1),
                AccountId::new(2),
                4,
                "2026-11-20",
                "2027-11-20",
                t
            ),
            Err(VerificationError::Level)
        );
        assert_eq!(
            check_new_verification(
                AccountId::new(1),
                AccountId::new(2),
                2,
                "2026-11-24",
                "2027-11-20",
                t
            ),
            Err(VerificationError::VerifiedOn)
        );
        assert_eq!(
            check_new_verification(
                AccountId::new(1),
                AccountId::new(2),
                2,
                "20/11/2026",
                "2027-11-20",
                t
            ),
            Err(VerificationError::VerifiedOn)
        );
        assert_eq!(
            check_new_verification(
                AccountId::new(1),
                AccountId::new(2),
                2,
                "2026-11-20",
                "2026-11-23",
                t
            ),
            Err(VerificationError::ExpiresOn)
        );
        assert_eq!(
            check_new_verification(
                AccountId::new(1),
                AccountId::new(2),
                2,
                "2026-11-20",
                "2027-02-30",
                t
            ),
            Err(VerificationError::ExpiresOn)
        );
    }
}

/// A person's pseudonym for one bill: stable within the bill, unlinkable across bills
/// without the key (HMAC-SHA-256 under the instance's pseudonym key, with a
/// domain-separation tag), shown as 8 Crockford base-32 characters, e.g. `K7QM-2XD9`.
pub fn pseudonym(key: &[u8], account_id: AccountId, bill_slug: &str) -> String {
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let k = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key);
    let mut msg = b"amenda-pseudonym-v1\0".to_vec();
    msg.extend_from_slice(&account_id.get().to_be_bytes());
    msg.extend_from_slice(bill_slug.as_bytes());
    let tag = ring::hmac::sign(&k, &msg);
    // 40 bits are plenty to tell the participants of one bill apart.
    let bits = tag.as_ref()[..5]
        .iter()
        .fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    let chars: String = (0..8)
        .rev()
        .map(|i| ALPHABET[((bits >> (i * 5)) & 31) as usize] as char)
        .collect();
    format!("{}-{}", &chars[..4], &chars[4..])
}

#[cfg(test)]
mod pseudonym_tests {
    use super::pseudonym;
    use crate::domain::ids::AccountId;

    #[test]
    fn stable_per_bill_unlinkable_across() {
        let key = [7u8; 32];
        let a = pseudonym(&key, AccountId::new(42), "budget-participatif");
        assert_eq!(
            a,
            pseudonym(&key, AccountId::new(42), "budget-participatif"),
            "stable"
        );
        assert_eq!(a.len(), 9);
        assert_ne!(
            a,
            pseudonym(&key, AccountId::new(42), "open-council-records"),
            "another bill"
        );
        assert_ne!(
            a,
            pseudonym(&key, AccountId::new(43), "budget-participatif"),
            "another person"
        );
        assert_ne!(
            a,
            pseudonym(&[8u8; 32], AccountId::new(42), "budget-participatif"),
            "another key"
        );
        assert!(a
            .chars()
            .all(|c| c == '-' || c.is_ascii_digit() || c.is_ascii_uppercase()));
    }
}

//! Assurance levels, roles and the mapping from a provider's `acr` (DESIGN §4).

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Moderator,
    Staff,
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Moderator, Role::Staff, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Moderator => "moderator",
            Role::Staff => "staff",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
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
}

//! Pure rules of moderation (docs/moderation.md): report reasons, decision rules, who
//! may read hidden content, who may decide an appeal, the hash chain of the public
//! moderation log, and the rate limits (`COUNT/SECONDS`) with their fixed windows.

use super::state::closed_set;
use crate::domain::ids::ConsultationId;
use std::fmt;

closed_set! {
    /// Why a person reports a contribution (`reports.reason`); also the rule a moderator
    /// hides it under.
    pub enum Reason("report reason") {
        Spam = "spam",
        Offensive = "offensive",
        OffTopic = "off_topic",
        Illegal = "illegal",
        Other = "other",
    }
}

closed_set! {
    /// What can be reported and hidden (`reports.target_kind`,
    /// `moderation_items.target_kind`).
    pub enum Kind("moderated item kind") {
        Comment = "comment",
        Amendment = "amendment",
    }
}

closed_set! {
    /// Whether a reported or moderated item is shown (`moderation_items.state`).
    pub enum ItemState("moderation state") {
        Visible = "visible",
        /// Reports reached the threshold; waiting for a moderator.
        HiddenAuto = "hidden_auto",
        /// A moderator's decision.
        Hidden = "hidden",
    }
}

impl ItemState {
    pub fn is_hidden(self) -> bool {
        self != ItemState::Visible
    }
}

closed_set! {
    /// Where an appeal stands (`appeals.status`).
    pub enum AppealStatus("appeal status") {
        Pending = "pending",
        /// The decision stands.
        Upheld = "upheld",
        /// The decision is undone.
        Overturned = "overturned",
    }
}

closed_set! {
    /// The rule an item is hidden under (`moderation_items.rule`; the log's `rule` holds
    /// the same words, as text): a report reason chosen by a moderator, `reports` while
    /// it is hidden automatically, none (the empty word) while it is shown.
    pub enum Rule("moderation rule") {
        /// Not hidden: restored, an appeal overturned its hiding, or a suspension's entry.
        Unset = "",
        /// Hidden automatically when reports reached the threshold.
        Reports = "reports",
        Spam = "spam",
        Offensive = "offensive",
        OffTopic = "off_topic",
        Illegal = "illegal",
        Other = "other",
    }
}

impl From<Reason> for Rule {
    fn from(r: Reason) -> Rule {
        match r {
            Reason::Spam => Rule::Spam,
            Reason::Offensive => Rule::Offensive,
            Reason::OffTopic => Rule::OffTopic,
            Reason::Illegal => Rule::Illegal,
            Reason::Other => Rule::Other,
        }
    }
}

/// The longest free text of a report, a public reason or an appeal, in characters.
pub const MAX_TEXT: usize = 2000;

closed_set! {
    /// What a moderation decision does; the `action` column of the public log (which
    /// keeps its fields as text: they are what the hash chain covers).
    pub enum Action("moderation action") {
        AutoHide = "auto_hide",
        Hide = "hide",
        Restore = "restore",
        Suspend = "suspend",
        AppealUpheld = "appeal_upheld",
        AppealOverturned = "appeal_overturned",
    }
}

impl Action {
    /// Whether the person concerned may appeal it: decisions made by a moderator, not
    /// the automatic hiding (which waits for a moderator anyway) nor an appeal's outcome.
    pub fn appealable(self) -> bool {
        matches!(self, Action::Hide | Action::Suspend)
    }
}

/// Whether signed-in people may still read hidden content in the moderated view: yes,
/// unless it was hidden as illegal, or hidden automatically while a report says illegal
/// (nobody has looked yet, so the worst report counts).
pub fn readable_when_hidden(rule: Rule, report_reasons: &[Reason]) -> bool {
    match rule {
        Rule::Illegal => false,
        Rule::Reports => !report_reasons.contains(&Reason::Illegal),
        _ => true,
    }
}

/// Whether content reported by distinct people at level 1 or more, `qualifying` of them,
/// is hidden until a moderator decides. A moderator's earlier decision on the item stops
/// automatic hiding: their judgement stands until another moderator's.
pub fn auto_hides(qualifying: u32, threshold: u32, moderator_decided: bool) -> bool {
    !moderator_decided && threshold > 0 && qualifying >= threshold
}

/// Trims free text and checks its length; `None` if too long.
pub fn clean_text(s: &str) -> Option<String> {
    let t = s.trim();
    (t.chars().count() <= MAX_TEXT).then(|| t.to_string())
}

/// The `prev_hash` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The public fields of one entry of the moderation log, in their order in the hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRecord {
    pub seq: i64,
    pub at: String,
    pub action: String,
    pub target_kind: String,
    pub target_ref: String,
    pub consultation: Option<ConsultationId>,
    pub rule: String,
    pub reason: String,
    pub moderator: String,
}

/// The entry's hash: SHA-256 over the previous entry's hash (32 bytes) then each public
/// field as a 4-byte big-endian length and its UTF-8 bytes (numbers in decimal, no
/// consultation as empty). Lengths make the encoding unambiguous, so no two different
/// entries hash the same bytes.
pub fn entry_hash(prev_hash_hex: &str, r: &LogRecord) -> String {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(&decode_hex32(prev_hash_hex).unwrap_or([0; 32]));
    let consultation = r.consultation.map(|c| c.to_string()).unwrap_or_default();
    for field in [
        r.seq.to_string().as_str(),
        &r.at,
        &r.action,
        &r.target_kind,
        &r.target_ref,
        &consultation,
        &r.rule,
        &r.reason,
        &r.moderator,
    ] {
        let len = u32::try_from(field.len()).unwrap_or(u32::MAX);
        ctx.update(&len.to_be_bytes());
        ctx.update(field.as_bytes());
    }
    ctx.finish()
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn decode_hex32(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// Where the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainError {
    /// Entry `expected` is missing (the next one found has sequence number `found`).
    Gap { expected: i64, found: i64 },
    /// The entry does not point at the hash of the one before it.
    Link { seq: i64 },
    /// The entry's fields do not hash to its recorded hash: it was edited.
    Hash { seq: i64 },
}

impl std::error::Error for ChainError {}

impl fmt::Display for ChainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChainError::Gap { expected, found } => write!(
                f,
                "entry {expected} is missing (the next entry is {found}): an entry was deleted"
            ),
            ChainError::Link { seq } => write!(
                f,
                "entry {seq} does not follow the hash of the entry before it: an earlier entry was changed or removed"
            ),
            ChainError::Hash { seq } => write!(
                f,
                "entry {seq} does not match its hash: it was edited after it was written"
            ),
        }
    }
}

/// Checks the chain incrementally, entry by entry in sequence order, so that a log of
/// any length is verified in constant memory.
#[derive(Debug, Clone)]
pub struct ChainCheck {
    next_seq: i64,
    head: String,
}

impl Default for ChainCheck {
    fn default() -> Self {
        ChainCheck {
            next_seq: 1,
            head: GENESIS.to_string(),
        }
    }
}

impl ChainCheck {
    /// Takes the next entry with its recorded `prev_hash` and `hash`.
    pub fn push(&mut self, r: &LogRecord, prev_hash: &str, hash: &str) -> Result<(), ChainError> {
        if r.seq != self.next_seq {
            return Err(ChainError::Gap {
                expected: self.next_seq,
                found: r.seq,
            });
        }
        if prev_hash != self.head {
            return Err(ChainError::Link { seq: r.seq });
        }
        if entry_hash(prev_hash, r) != hash {
            return Err(ChainError::Hash { seq: r.seq });
        }
        self.head = hash.to_string();
        self.next_seq += 1;
        Ok(())
    }

    /// Entries checked so far.
    pub fn size(&self) -> i64 {
        self.next_seq - 1
    }

    /// The hash of the last entry checked (the genesis value for an empty log).
    pub fn head(&self) -> &str {
        &self.head
    }
}

/// The start (in seconds since the epoch) of the fixed window of `window_secs` that
/// holds `now`, and the seconds left until the next one.
pub fn window(now: i64, window_secs: i64) -> (i64, i64) {
    let w = window_secs.max(1);
    let start = now - now.rem_euclid(w);
    (start, start + w - now)
}

/// A rate limit: at most `max` actions per `window_secs`, per account; an address gets
/// `service::moderation::ADDRESS_FACTOR` times as many (several people may share one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub max: u32,
    pub window_secs: i64,
}

/// A rate limit that is not `COUNT/SECONDS` with both above zero.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("rate limit \"{spec}\" must be COUNT/SECONDS, e.g. 30/600")]
pub struct LimitError {
    /// The text as given.
    pub spec: String,
}

impl Limit {
    /// Reads `COUNT/SECONDS` (`30/600`: thirty per ten minutes).
    pub fn parse(s: &str) -> Result<Limit, LimitError> {
        let parsed = s.split_once('/').and_then(|(n, w)| {
            let max: u32 = n.trim().parse().ok()?;
            let window_secs: i64 = w.trim().parse().ok()?;
            (max > 0 && window_secs > 0).then_some(Limit { max, window_secs })
        });
        parsed.ok_or_else(|| LimitError {
            spec: s.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(seq: i64, reason: &str) -> LogRecord {
        LogRecord {
            seq,
            at: "2026-11-23T10:00:00Z".into(),
            action: "hide".into(),
            target_kind: "comment".into(),
            target_ref: seq.to_string(),
            consultation: Some(ConsultationId::new(1)),
            rule: "spam".into(),
            reason: reason.into(),
            moderator: "mod-1".into(),
        }
    }

    fn chain(n: i64) -> Vec<(LogRecord, String, String)> {
        let mut prev = GENESIS.to_string();
        (1..=n)
            .map(|s| {
                let r = record(s, "advertising");
                let h = entry_hash(&prev, &r);
                let out = (r, prev.clone(), h.clone());
                prev = h;
                out
            })
            .collect()
    }

    fn check(entries: &[(LogRecord, String, String)]) -> Result<i64, ChainError> {
        let mut c = ChainCheck::default();
        for (r, p, h) in entries {
            c.push(r, p, h)?;
        }
        Ok(c.size())
    }

    #[test]
    fn an_intact_chain_verifies() {
        assert_eq!(check(&chain(5)), Ok(5));
        assert_eq!(check(&[]), Ok(0));
    }

    #[test]
    fn an_edited_entry_is_detected() {
        let mut c = chain(5);
        c[2].0.reason = "another reason".into();
        assert_eq!(check(&c), Err(ChainError::Hash { seq: 3 }));
    }

    #[test]
    fn an_edit_with_its_hash_recomputed_breaks_the_next_link() {
        let mut c = chain(5);
        c[2].0.moderator = "mod-2".into();
        c[2].2 = entry_hash(&c[2].1, &c[2].0);
        assert_eq!(check(&c), Err(ChainError::Link { seq: 4 }));
    }

    #[test]
    fn a_deleted_entry_is_detected() {
        let mut c = chain(5);
        c.remove(1);
        assert_eq!(
            check(&c),
            Err(ChainError::Gap {
                expected: 2,
                found: 3
            })
        );
        // Renumbering the rest does not help: the links no longer match.
        for (i, e) in c.iter_mut().enumerate() {
            e.0.seq = i as i64 + 1;
        }
        assert!(check(&c).is_err());
    }

    #[test]
    fn field_boundaries_are_unambiguous() {
        let mut a = record(1, "ab");
        a.rule = "c".into();
        let mut b = record(1, "a");
        b.rule = "bc".into();
        assert_ne!(entry_hash(GENESIS, &a), entry_hash(GENESIS, &b));
    }

    #[test]
    fn auto_hiding_and_reading_rules() {
        assert!(!auto_hides(2, 3, false));
        assert!(auto_hides(3, 3, false));
        assert!(!auto_hides(10, 3, true), "a moderator's decision stands");
        assert!(!auto_hides(10, 0, false), "threshold 0 turns it off");
        assert!(readable_when_hidden(Rule::Spam, &[]));
        assert!(!readable_when_hidden(Rule::Illegal, &[]));
        assert!(readable_when_hidden(Rule::Reports, &[Reason::Spam]));
        assert!(!readable_when_hidden(
            Rule::Reports,
            &[Reason::Spam, Reason::Illegal]
        ));
        assert!(Action::Hide.appealable() && !Action::AutoHide.appealable());
    }

    #[test]
    fn windows() {
        assert_eq!(window(125, 60), (120, 55));
        assert_eq!(window(120, 60), (120, 60));
        assert_eq!(Reason::parse("off_topic"), Some(Reason::OffTopic));
        assert_eq!(Reason::parse("rude"), None);
        assert!(clean_text(&"x".repeat(MAX_TEXT + 1)).is_none());
    }

    #[test]
    fn rate_limits_are_count_per_seconds() {
        assert_eq!(
            Limit::parse("30/600"),
            Ok(Limit {
                max: 30,
                window_secs: 600
            })
        );
        assert_eq!(Limit::parse(" 5 / 60 ").map(|l| l.max), Ok(5));
        for bad in ["30", "0/600", "30/0", "30/-1", "x/600", "30/600/1", ""] {
            let e = Limit::parse(bad).unwrap_err();
            assert_eq!(
                e.to_string(),
                format!("rate limit \"{bad}\" must be COUNT/SECONDS, e.g. 30/600")
            );
        }
    }

    #[test]
    fn words_round_trip() {
        for r in Reason::ALL {
            assert_eq!(r.as_str().parse::<Reason>(), Ok(r));
        }
        for k in Kind::ALL {
            assert_eq!(k.as_str().parse::<Kind>(), Ok(k));
        }
        for s in ItemState::ALL {
            assert_eq!(s.as_str().parse::<ItemState>(), Ok(s));
            assert_eq!(s.is_hidden(), s != ItemState::Visible);
        }
        for s in AppealStatus::ALL {
            assert_eq!(s.as_str().parse::<AppealStatus>(), Ok(s));
        }
        for a in Action::ALL {
            assert_eq!(a.as_str().parse::<Action>(), Ok(a));
        }
        for r in Rule::ALL {
            assert_eq!(r.as_str().parse::<Rule>(), Ok(r));
        }
        for r in Reason::ALL {
            assert_eq!(Rule::from(r).as_str(), r.as_str(), "a reason is a rule");
        }
        assert!("account".parse::<Kind>().is_err());
    }
}

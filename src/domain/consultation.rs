//! A consultation's phases and their order (DESIGN §5): a draft only staff see, then
//! open for amendments (and comments), then voting, closed (counted), published.

use super::state::closed_set;

closed_set! {
    /// Where a consultation stands. Phases only move forward, one step at a time.
    pub enum Phase("consultation phase") {
        Draft = "draft",
        Amendments = "amendments",
        Voting = "voting",
        Closed = "closed",
        Published = "published",
    }
}

impl Phase {
    /// The phase a new consultation starts in.
    pub const FIRST: Phase = Phase::Draft;

    /// The phase after this one; `None` after the last.
    pub fn next(self) -> Option<Phase> {
        match self {
            Phase::Draft => Some(Phase::Amendments),
            Phase::Amendments => Some(Phase::Voting),
            Phase::Voting => Some(Phase::Closed),
            Phase::Closed => Some(Phase::Published),
            Phase::Published => None,
        }
    }

    /// Seen by the public (every phase but the draft).
    pub fn is_public(self) -> bool {
        self != Phase::Draft
    }

    /// Amendments may be filed, corrected and withdrawn, and comments posted: the
    /// consultation phase proper.
    pub fn open_for_contributions(self) -> bool {
        self == Phase::Amendments
    }

    /// Nothing has been put to the vote yet: the vote's settings may change and the
    /// consultation may move to a new version.
    pub fn before_voting(self) -> bool {
        matches!(self, Phase::Draft | Phase::Amendments)
    }

    /// Voting has opened (it may be over): adopted amendments can be consolidated.
    pub fn voting_started(self) -> bool {
        !self.before_voting()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_round_trip() {
        for p in Phase::ALL {
            assert_eq!(p.as_str().parse::<Phase>(), Ok(p));
            assert_eq!(Phase::parse(&p.to_string()), Some(p));
        }
        assert!("Voting".parse::<Phase>().is_err());
        assert!("".parse::<Phase>().is_err());
    }

    #[test]
    fn phases_move_forward_one_step_at_a_time() {
        let mut walked = vec![Phase::FIRST];
        while let Some(n) = walked.last().unwrap().next() {
            assert!(n > *walked.last().unwrap());
            walked.push(n);
        }
        assert_eq!(walked, Phase::ALL);
        assert!(Phase::ALL
            .iter()
            .all(|p| p.before_voting() != p.voting_started()));
        assert!(Phase::Amendments.before_voting() && Phase::Voting.voting_started());
        assert!(!Phase::Draft.is_public() && Phase::Published.is_public());
    }
}

//! Nobody decides about themselves: a moderator, staff member or verifier never takes a
//! decision on content they wrote, on a measure about them, or on an appeal against
//! their own decision. Every deciding use case asks `check` before it acts, and a
//! refusal names who else may decide (docs/security.md).

use super::ids::AccountId;

/// Who may take a decision instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deciders {
    /// Another moderator (hiding, restoring, suspending, appeals).
    Moderators,
    /// Another staff member (rulings on amendments, consolidation).
    Staff,
}

/// Why a person may not take a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictKind {
    /// They wrote the content decided on (a comment, an amendment).
    OwnContent,
    /// The measure is about them (the decision under appeal concerns them).
    AboutThemselves,
    /// It reviews a decision they took (an appeal against it).
    OwnDecision,
}

/// A refused decision: what the conflict is, and who else may decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conflict {
    pub kind: ConflictKind,
    pub deciders: Deciders,
}

impl Conflict {
    /// Every conflict, for the tests of their messages.
    pub fn all() -> impl Iterator<Item = Conflict> {
        [
            ConflictKind::OwnContent,
            ConflictKind::AboutThemselves,
            ConflictKind::OwnDecision,
        ]
        .into_iter()
        .flat_map(|kind| {
            [Deciders::Moderators, Deciders::Staff].map(|deciders| Conflict { kind, deciders })
        })
    }

    /// The refusal's message (an i18n key): the conflict, and who else may decide.
    pub fn message_key(self) -> &'static str {
        match (self.kind, self.deciders) {
            (ConflictKind::OwnContent, Deciders::Moderators) => "err_conflict_own_content_mod",
            (ConflictKind::OwnContent, Deciders::Staff) => "err_conflict_own_content_staff",
            (ConflictKind::AboutThemselves, Deciders::Moderators) => "err_conflict_about_you_mod",
            (ConflictKind::AboutThemselves, Deciders::Staff) => "err_conflict_about_you_staff",
            (ConflictKind::OwnDecision, Deciders::Moderators) => "err_conflict_own_decision_mod",
            (ConflictKind::OwnDecision, Deciders::Staff) => "err_conflict_own_decision_staff",
        }
    }

    /// How the refusal is written in the audit log.
    pub fn as_str(self) -> &'static str {
        match self.kind {
            ConflictKind::OwnContent => "own_content",
            ConflictKind::AboutThemselves => "about_themselves",
            ConflictKind::OwnDecision => "own_decision",
        }
    }
}

/// The people a decision concerns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Concerned {
    /// The author of the content decided on.
    pub author: Option<AccountId>,
    /// The person the measure is about (a suspended author, the appellant).
    pub subject: Option<AccountId>,
    /// Who took the decision under review (none for an automatic one).
    pub decided_by: Option<AccountId>,
}

/// Whether `decider` may take a decision that concerns `concerned`, one of `deciders`.
pub fn check(decider: AccountId, concerned: Concerned, deciders: Deciders) -> Result<(), Conflict> {
    let kind = if concerned.author == Some(decider) {
        ConflictKind::OwnContent
    } else if concerned.subject == Some(decider) {
        ConflictKind::AboutThemselves
    } else if concerned.decided_by == Some(decider) {
        ConflictKind::OwnDecision
    } else {
        return Ok(());
    };
    Err(Conflict { kind, deciders })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nobody_decides_about_themselves() {
        let (me, other, third) = (AccountId::new(1), AccountId::new(2), AccountId::new(3));
        let m = Deciders::Moderators;
        assert_eq!(check(me, Concerned::default(), m), Ok(()));
        let all_others = Concerned {
            author: Some(other),
            subject: Some(other),
            decided_by: Some(third),
        };
        assert_eq!(check(me, all_others, m), Ok(()));
        for (concerned, kind) in [
            (
                Concerned {
                    author: Some(me),
                    ..all_others
                },
                ConflictKind::OwnContent,
            ),
            (
                Concerned {
                    subject: Some(me),
                    ..all_others
                },
                ConflictKind::AboutThemselves,
            ),
            (
                Concerned {
                    decided_by: Some(me),
                    ..all_others
                },
                ConflictKind::OwnDecision,
            ),
        ] {
            for deciders in [Deciders::Moderators, Deciders::Staff] {
                let refused = check(me, concerned, deciders).unwrap_err();
                assert_eq!(refused, Conflict { kind, deciders });
            }
            // The others concerned are not in conflict about what concerns `me`.
            assert_eq!(
                check(
                    third,
                    Concerned {
                        decided_by: None,
                        ..concerned
                    },
                    m
                ),
                Ok(())
            );
        }
        // Each conflict has its own message (web::i18n checks they exist).
        let keys: std::collections::HashSet<_> =
            Conflict::all().map(Conflict::message_key).collect();
        assert_eq!(keys.len(), 6);
    }
}

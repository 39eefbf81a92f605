//! Staff dispositions on amendments (DESIGN §5): admissible, inadmissible (with a reason
//! shown publicly), adopted, rejected; adopting one makes the amendments that conflict
//! with it fall, each recording which amendment made it fall. Every ruling is audited
//! and written in one transaction.

use crate::domain::amendment::{self, article_body, AmendmentStatus, Operation};
use crate::domain::consultation::Phase;
use crate::domain::ids::{AmendmentId, VersionId};
use crate::service::consultation::ConsultationError;
use crate::service::identity::SessionInfo;
use crate::store::{self, amendments::Amendment, DbConnection, Store, StoreError};
use crate::text::UnitKind;
use serde_json::json;
use std::collections::HashMap;

/// The longest inadmissibility reason.
pub const MAX_REASON: usize = 2000;

/// What staff rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ruling<'a> {
    Admissible,
    Inadmissible(&'a str),
    Adopted,
    Rejected,
}

impl Ruling<'_> {
    pub fn status(&self) -> AmendmentStatus {
        match self {
            Ruling::Admissible => AmendmentStatus::Admissible,
            Ruling::Inadmissible(_) => AmendmentStatus::Inadmissible,
            Ruling::Adopted => AmendmentStatus::Adopted,
            Ruling::Rejected => AmendmentStatus::Rejected,
        }
    }

    /// The statuses an amendment may have to receive this ruling, and the phases of its
    /// consultation in which it may be given.
    fn allowed(&self) -> (&'static [AmendmentStatus], &'static [Phase]) {
        use AmendmentStatus::{Admissible, Filed, Inadmissible};
        match self {
            Ruling::Admissible | Ruling::Inadmissible(_) => (
                &[Filed, Admissible, Inadmissible],
                &[Phase::Amendments, Phase::Voting],
            ),
            Ruling::Adopted | Ruling::Rejected => (&[Admissible], &[Phase::Voting, Phase::Closed]),
        }
    }

    /// From the form's words (`admissible`, `inadmissible`, `adopted`, `rejected`).
    pub fn parse<'a>(action: &str, reason: &'a str) -> Option<Ruling<'a>> {
        match action {
            "admissible" => Some(Ruling::Admissible),
            "inadmissible" => Some(Ruling::Inadmissible(reason)),
            "adopted" => Some(Ruling::Adopted),
            "rejected" => Some(Ruling::Rejected),
            _ => None,
        }
    }
}

/// The operations of an amendment's current revision.
pub fn operations(conn: &mut DbConnection, a: &Amendment) -> Result<Vec<Operation>, StoreError> {
    let rev = store::amendments::revision(conn, a.id, a.revision)?
        .ok_or_else(|| StoreError::Invalid(format!("amendment {} has no revision", a.id)))?;
    parse_operations(&rev.operations)
}

/// Operations as a revision (or a proposed rebase) stores them, in JSON.
pub fn parse_operations(json: &str) -> Result<Vec<Operation>, StoreError> {
    serde_json::from_str(json).map_err(|e| StoreError::Invalid(e.to_string()))
}

/// Article bodies of a version, by wid.
pub fn bodies(
    conn: &mut DbConnection,
    version_id: VersionId,
) -> Result<HashMap<String, String>, StoreError> {
    let v = store::versions::by_id(conn, version_id)?
        .ok_or_else(|| StoreError::Invalid(format!("no version {version_id}")))?;
    Ok(store::units::for_version(conn, version_id)?
        .iter()
        .filter(|u| u.kind == UnitKind::Article)
        .map(|u| (u.wid.clone(), article_body(u.text(&v.markdown)).to_string()))
        .collect())
}

/// Gives a ruling on an amendment; returns the ids of the amendments that fell because
/// this one was adopted.
pub fn rule(
    store: &Store,
    staff: &SessionInfo,
    amendment_id: AmendmentId,
    ruling: Ruling<'_>,
) -> Result<Vec<AmendmentId>, ConsultationError> {
    crate::service::consultation::staff_only(staff)?;
    let reason = match ruling {
        Ruling::Inadmissible(r) => {
            let r = r.trim();
            if r.is_empty() {
                return Err(ConsultationError::Invalid {
                    field: "reason",
                    reason: "err_reason_required",
                });
            }
            if r.chars().count() > MAX_REASON {
                return Err(ConsultationError::Invalid {
                    field: "reason",
                    reason: "err_too_long",
                });
            }
            r
        }
        _ => "",
    };
    let result = store.transaction(|conn| {
        let a = store::amendments::by_id(conn, amendment_id)?.ok_or(ConsultationError::NotFound)?;
        crate::service::consultation::staff_no_conflict(staff, a.author_id)?;
        let c = store::consultations::by_id(conn, a.consultation_id)?
            .ok_or(ConsultationError::NotFound)?;
        let (from, phases) = ruling.allowed();
        if !phases.contains(&c.phase) {
            return Err(ConsultationError::NotOpen(c.phase));
        }
        // An amendment left on an earlier version (to redraft, or a rebase its author has
        // not accepted) cannot be adopted: it would not apply to the consultation's text.
        if ruling == Ruling::Adopted && a.version_id != c.version_id {
            return Err(ConsultationError::State("err_not_rebased"));
        }
        if !store::amendments::set_status(conn, a.id, from, ruling.status())? {
            return Err(ConsultationError::State("err_cannot_rule"));
        }
        store::dispositions::record(conn, a.id, ruling.status(), reason, None, staff.account.id)?;
        let mut fallen = Vec::new();
        if ruling == Ruling::Adopted {
            // The amendments still in play that conflict with this one fall.
            let ops = operations(conn, &a)?;
            let bodies = bodies(conn, a.version_id)?;
            let others =
                store::amendments::for_consultation(conn, c.id, Some(&a.article_wid), 0, i64::MAX)?;
            for o in others
                .iter()
                .filter(|o| o.id != a.id && o.version_id == a.version_id && o.status.is_standing())
            {
                let oops = operations(conn, o)?;
                if amendment::conflict(&ops, &oops, |w| bodies.get(w).map(String::as_str)).is_some()
                    && store::amendments::set_status(
                        conn,
                        o.id,
                        &AmendmentStatus::STANDING,
                        AmendmentStatus::Fallen,
                    )?
                {
                    store::dispositions::record(
                        conn,
                        o.id,
                        AmendmentStatus::Fallen,
                        "",
                        Some(a.id),
                        staff.account.id,
                    )?;
                    fallen.push(o.id);
                }
            }
        }
        store::audit::record(
            conn,
            Some(staff.account.id),
            "rule_amendment",
            None,
            &json!({"amendment": a.id, "number": a.number, "status": ruling.status(),
                    "reason": reason, "fallen": fallen}),
        )?;
        Ok(fallen)
    });
    let target = json!({"amendment": amendment_id});
    crate::service::audit_refusal(store, staff, "rule_amendment", target, result)
}

//! Consolidation and rebase (DESIGN §5): staff publish a new version of the bill from the
//! adopted amendments of a consultation (applied in voting order, every changed span
//! traced to the amendment revision that wrote it), and move a consultation whose
//! amendments are still pending onto a newer version (each pending amendment carried
//! over, proposed to its author, or marked to redraft). One transaction each.

use crate::domain::amendment::{self, voting_order, AmendmentStatus, Candidate, Operation};
use crate::domain::consolidation::{self, Adopted, Carried, ConsolidateError, RebaseOutcome};
use crate::domain::ids::{AccountId, AmendmentId, ConsultationId};
use crate::service::consultation::{staff_only, ConsultationError};
use crate::service::disposition::{bodies, operations};
use crate::service::identity::SessionInfo;
use crate::service::import::{BillWriter, ImportError, ImportSummary, VersionInput};
use crate::store::{self, amendments::Amendment, Store, StoreError};
use crate::text::{Unit, UnitKind};
use serde_json::json;
use std::collections::HashMap;

fn import_error(e: ImportError) -> ConsultationError {
    match e {
        ImportError::Store(s) => ConsultationError::Store(s),
        other => ConsultationError::Store(StoreError::Invalid(other.to_string())),
    }
}

fn to_json(ops: &[Operation]) -> Result<String, ConsultationError> {
    serde_json::to_string(ops).map_err(|e| StoreError::Invalid(e.to_string()).into())
}

/// The order in which adopted amendments are applied: by the place of their article in
/// the text, then in voting order (repeals first, the furthest from the text, filing
/// order).
pub fn application_order(
    units: &[Unit],
    bodies: &HashMap<String, String>,
    adopted: &[(Amendment, Vec<Operation>)],
) -> Vec<usize> {
    let place: HashMap<&str, usize> = units
        .iter()
        .enumerate()
        .map(|(i, u)| (u.wid.as_str(), i))
        .collect();
    let mut by_place: std::collections::BTreeMap<usize, Vec<Candidate>> = Default::default();
    for (i, (a, ops)) in adopted.iter().enumerate() {
        let body = bodies.get(&a.article_wid).map_or("", String::as_str);
        let distance = consolidation::effect(body, ops)
            .map(|(old, new)| amendment::distance(&old, &new))
            .unwrap_or(1.0);
        by_place
            .entry(
                place
                    .get(a.article_wid.as_str())
                    .copied()
                    .unwrap_or(usize::MAX),
            )
            .or_default()
            .push(Candidate {
                id: i as i64,
                filed: i64::from(a.number),
                repeals: ops
                    .iter()
                    .any(|o| matches!(o, Operation::RepealUnit { .. })),
                distance,
            });
    }
    by_place
        .into_values()
        .flat_map(voting_order)
        .map(|i| i as usize)
        .collect()
}

/// Publishes the consolidated version of a consultation: its bill's version with every
/// adopted amendment applied; returns the new version's number.
pub fn consolidate(
    store: &Store,
    staff: &SessionInfo,
    consultation_id: ConsultationId,
) -> Result<i32, ConsultationError> {
    staff_only(staff)?;
    let result = store.transaction(|conn| {
        let c = store::consultations::by_id(conn, consultation_id)?
            .ok_or(ConsultationError::NotFound)?;
        if !c.phase.voting_started() {
            return Err(ConsultationError::NotOpen(c.phase));
        }
        if store::consolidations::for_consultation(conn, c.id)?.is_some() {
            return Err(ConsultationError::State("err_already_consolidated"));
        }
        let bill = store::bills::by_id(conn, c.bill_id)?.ok_or(ConsultationError::NotFound)?;
        let version =
            store::versions::by_id(conn, c.version_id)?.ok_or(ConsultationError::NotFound)?;
        let latest = store::versions::latest(conn, bill.id)?.ok_or(ConsultationError::NotFound)?;
        if latest.meta.id != version.meta.id {
            return Err(ConsultationError::State("err_not_latest"));
        }
        let all = store::amendments::for_consultation(conn, c.id, None, 0, i64::MAX)?;
        let mut adopted = Vec::new();
        for a in all
            .into_iter()
            .filter(|a| a.status == AmendmentStatus::Adopted)
        {
            if a.version_id != version.meta.id {
                return Err(ConsultationError::State("err_adopted_elsewhere"));
            }
            // A staff member who wrote an adopted amendment does not consolidate it:
            // another staff member does, which is their confirmation (docs/security.md).
            crate::service::consultation::staff_no_conflict(staff, a.author_id)?;
            let ops = operations(conn, &a)?;
            adopted.push((a, ops));
        }
        if adopted.is_empty() {
            return Err(ConsultationError::State("err_nothing_adopted"));
        }
        let units = store::units::for_version(conn, version.meta.id)?;
        let bodies = bodies(conn, version.meta.id)?;
        let order = application_order(&units, &bodies, &adopted);
        let list: Vec<Adopted<'_>> = order
            .iter()
            .map(|&i| Adopted {
                id: adopted[i].0.id,
                revision: adopted[i].0.revision,
                ops: &adopted[i].1,
            })
            .collect();
        let (markdown, spans) = consolidation::consolidate(&version.markdown, &units, &list)?;
        let mut writer = BillWriter::existing(conn, bill.clone()).map_err(import_error)?;
        writer
            .append(
                conn,
                VersionInput {
                    markdown,
                    date: store.clock().today_iso(),
                    author: staff.account.display_name.clone(),
                    note: format!("{} — {} amendment(s) adopted", c.title, adopted.len()),
                    source_ref: Some(format!("consultation:{}", c.id)),
                },
                &mut ImportSummary::default(),
            )
            .map_err(import_error)?;
        let new = store::versions::latest(conn, bill.id)?.ok_or(ConsultationError::NotFound)?;
        let new_units = store::units::for_version(conn, new.meta.id)?;
        let rows: Vec<store::consolidations::Provenance> = spans
            .iter()
            .map(|s| store::consolidations::Provenance {
                // A deletion belongs to the unit it deleted from (or deleted).
                unit_wid: if s.start == s.end {
                    s.wid.clone()
                } else {
                    unit_of(&new_units, s.start, s.end).unwrap_or_else(|| s.wid.clone())
                },
                start_byte: s.start as i64,
                end_byte: s.end as i64,
                amendment_id: s.amendment,
                revision: s.revision,
            })
            .collect();
        store::consolidations::insert(conn, new.meta.id, c.id, staff.account.id, &rows)?;
        store::audit::record(
            conn,
            Some(staff.account.id),
            "consolidate",
            None,
            &json!({"consultation": c.id, "bill": bill.slug, "version": new.meta.number,
                    "amendments": order.iter().map(|&i| adopted[i].0.id).collect::<Vec<_>>()}),
        )?;
        Ok(new.meta.number)
    });
    let target = json!({"consultation": consultation_id});
    let number = crate::service::audit_refusal(store, staff, "consolidate", target, result)?;
    crate::service::reading::note_new_versions();
    Ok(number)
}

/// The article of `units` that holds bytes `start..end` (the innermost), else the first
/// article that starts inside them (an inserted run of articles).
fn unit_of(units: &[Unit], start: usize, end: usize) -> Option<String> {
    units
        .iter()
        .rev()
        .find(|u| u.kind == UnitKind::Article && u.start <= start && end <= u.end)
        .or_else(|| {
            units
                .iter()
                .find(|u| u.kind == UnitKind::Article && start <= u.start && u.start < end)
        })
        .map(|u| u.wid.clone())
}

impl From<ConsolidateError> for ConsultationError {
    fn from(e: ConsolidateError) -> Self {
        ConsultationError::Consolidate(e.to_string())
    }
}

/// What moving a consultation to a new version did to its pending amendments.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RebaseSummary {
    pub carried: Vec<AmendmentId>,
    pub proposed: Vec<AmendmentId>,
    pub redraft: Vec<AmendmentId>,
}

/// Moves a consultation (in phase draft or amendments: nothing has been voted on) to a
/// newer version of its bill, and carries its pending amendments over.
pub fn rebase(
    store: &Store,
    staff: &SessionInfo,
    consultation_id: ConsultationId,
    version_number: i32,
) -> Result<RebaseSummary, ConsultationError> {
    staff_only(staff)?;
    store.transaction(|conn| {
        let c = store::consultations::by_id(conn, consultation_id)?
            .ok_or(ConsultationError::NotFound)?;
        if !c.phase.before_voting() {
            return Err(ConsultationError::NotOpen(c.phase));
        }
        let old = store::versions::by_id(conn, c.version_id)?.ok_or(ConsultationError::NotFound)?;
        let new = store::versions::by_number(conn, c.bill_id, version_number)?
            .ok_or(ConsultationError::NotFound)?;
        if new.meta.number <= old.meta.number {
            return Err(ConsultationError::Invalid {
                field: "version",
                reason: "err_version_not_newer",
            });
        }
        store::consultations::set_version(conn, c.id, new.meta.id)?;
        let old_bodies = bodies(conn, old.meta.id)?;
        let new_units = store::units::for_version(conn, new.meta.id)?;
        let new_bodies = bodies(conn, new.meta.id)?;
        let exists = |w: &str| new_units.iter().any(|u| u.wid == w);
        let mut summary = RebaseSummary::default();
        let pending = store::amendments::for_consultation(conn, c.id, None, 0, i64::MAX)?;
        for a in pending
            .iter()
            .filter(|a| a.version_id == old.meta.id && a.status.is_standing())
        {
            let ops = operations(conn, a)?;
            let body = old_bodies.get(&a.article_wid).map_or("", String::as_str);
            let carried = consolidation::carry(
                &a.article_wid,
                body,
                new_bodies.get(&a.article_wid).map(String::as_str),
                &ops,
                exists,
            );
            let justification = store::amendments::revision(conn, a.id, a.revision)?
                .map(|r| r.justification)
                .unwrap_or_default();
            let (outcome, json) = match carried {
                Carried::Automatic(ops) => {
                    let json = to_json(&ops)?;
                    store::amendments::add_revision(
                        conn,
                        a.id,
                        new.meta.id,
                        &json,
                        &justification,
                    )?;
                    summary.carried.push(a.id);
                    (RebaseOutcome::Carried, json)
                }
                Carried::Proposed(ops) => {
                    summary.proposed.push(a.id);
                    (RebaseOutcome::Proposed, to_json(&ops)?)
                }
                Carried::Redraft => {
                    summary.redraft.push(a.id);
                    (RebaseOutcome::Redraft, String::new())
                }
            };
            store::rebases::insert(conn, a.id, old.meta.id, new.meta.id, outcome, &json)?;
        }
        store::audit::record(
            conn,
            Some(staff.account.id),
            "rebase_consultation",
            None,
            &json!({"consultation": c.id, "from": old.meta.number, "to": new.meta.number,
                    "carried": summary.carried, "proposed": summary.proposed,
                    "redraft": summary.redraft}),
        )?;
        Ok(summary)
    })
}

/// The author accepts the rebase proposed for their amendment (a new revision on the
/// consultation's current version); false if there is none to accept.
/// Whether `who` may accept rebase `r` of amendment `a` now: their own standing
/// amendment, a proposed rebase onto the consultation's current version, before voting
/// ([`accept_rebase`] applies it; the amendment page shows the button by this rule).
pub fn may_accept_rebase(
    c: &store::consultations::Consultation,
    a: &store::amendments::Amendment,
    r: &store::rebases::Rebase,
    who: AccountId,
) -> bool {
    a.author_id == who
        && c.phase.before_voting()
        && r.outcome == RebaseOutcome::Proposed
        && r.to_version_id == c.version_id
        && a.status.is_standing()
}

pub fn accept_rebase(
    store: &Store,
    who: &SessionInfo,
    amendment_id: AmendmentId,
) -> Result<bool, ConsultationError> {
    store.transaction(|conn| {
        let a = store::amendments::by_id(conn, amendment_id)?.ok_or(ConsultationError::NotFound)?;
        if a.author_id != who.account.id {
            return Err(ConsultationError::NotFound);
        }
        let c = store::consultations::by_id(conn, a.consultation_id)?
            .ok_or(ConsultationError::NotFound)?;
        if !c.phase.before_voting() {
            return Err(ConsultationError::NotOpen(c.phase));
        }
        let Some(r) = store::rebases::latest(conn, a.id)? else {
            return Ok(false);
        };
        if !may_accept_rebase(&c, &a, &r, who.account.id) {
            return Ok(false);
        }
        let justification = store::amendments::revision(conn, a.id, a.revision)?
            .map(|r| r.justification)
            .unwrap_or_default();
        store::amendments::add_revision(conn, a.id, c.version_id, &r.operations, &justification)?;
        store::rebases::set_outcome(
            conn,
            a.id,
            c.version_id,
            RebaseOutcome::Proposed,
            RebaseOutcome::Accepted,
        )?;
        store::audit::record(
            conn,
            Some(who.account.id),
            "accept_rebase",
            None,
            &json!({"amendment": a.id, "number": a.number}),
        )?;
        Ok(true)
    })
}

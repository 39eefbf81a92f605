//! Reading an amendment among the others (DESIGN §5): the amendments it conflicts with
//! and the ones identical to it, and the filtered list of a consultation's amendments.
//!
//! Conflicts are computed with the pure rules of `domain::amendment::conflict`, only
//! against the amendments of the same consultation, anchored on the same version, still
//! standing (filed or admissible), on the same unit: an amendment changes one article
//! (or repeals it, or inserts articles after it), so two amendments on different units
//! never conflict, and a page stays fast with a thousand amendments on the bill.

use crate::domain::amendment::{self, AmendmentStatus, Conflict, Operation};
use crate::domain::identity::Disclosure;
use crate::domain::ids::{ConsultationId, VersionId};
use crate::service::consultation::Article;
use crate::service::consultation::ConsultationError;
use crate::service::disposition::operations;
use crate::service::reading::{LoadedVersion, ReadError, Reader};
use crate::store::{self, amendments::Amendment, amendments::ListFilter, Store};
use crate::store::{bills::Bill, consultations::Consultation, StoreError};
use crate::text::UnitKind;
use std::collections::HashMap;
use std::sync::Arc;

/// The statuses of an amendment still in play.
pub const STANDING: [AmendmentStatus; 2] = AmendmentStatus::STANDING;

/// Every status, in the order a list offers them (the words of the filter's choices).
pub const STATUSES: [&str; 7] = [
    AmendmentStatus::Filed.as_str(),
    AmendmentStatus::Admissible.as_str(),
    AmendmentStatus::Inadmissible.as_str(),
    AmendmentStatus::Adopted.as_str(),
    AmendmentStatus::Rejected.as_str(),
    AmendmentStatus::Fallen.as_str(),
    AmendmentStatus::Withdrawn.as_str(),
];

/// A unit of a consultation's version: consultation, version, unit `wid`.
type UnitKey = (ConsultationId, VersionId, String);

/// Amendments shown per page of a list.
pub const PER_PAGE: i64 = 50;

/// The other standing amendments an amendment conflicts with (and why), and those that
/// make the very same operations (grouped rather than listed as conflicts).
#[derive(Debug, Default)]
pub struct Related {
    pub conflicts: Vec<(Amendment, Conflict)>,
    pub identical: Vec<Amendment>,
}

/// The standing amendments related to `a`; `body` is the body of the article `a`
/// targets in the version it is anchored on.
pub fn related(store: &Store, a: &Amendment, body: &str) -> Result<Related, ConsultationError> {
    let mut conn = store.conn()?;
    let others: Vec<Amendment> = store::amendments::on_unit(
        &mut conn,
        a.consultation_id,
        a.version_id,
        &a.article_wid,
        &STANDING,
    )?
    .into_iter()
    .filter(|o| o.id != a.id)
    .collect();
    let mut related = Related::default();
    if others.is_empty() {
        return Ok(related);
    }
    let ops = operations(&mut conn, a)?;
    for o in others {
        let oops = operations(&mut conn, &o)?;
        if oops == ops {
            related.identical.push(o);
        } else if let Some(why) =
            amendment::conflict(&ops, &oops, |w| (w == a.article_wid).then_some(body))
        {
            related.conflicts.push((o, why));
        }
    }
    Ok(related)
}

/// For each amendment of `list`, the numbers of the other standing amendments with the
/// same operations on the same version (only amendments on the same units are read).
pub fn identical_numbers(
    store: &Store,
    list: &[Amendment],
) -> Result<Vec<Vec<i32>>, ConsultationError> {
    let mut conn = store.conn()?;
    let mut by_unit: HashMap<UnitKey, Vec<(Amendment, Vec<Operation>)>> = HashMap::new();
    let mut out = Vec::with_capacity(list.len());
    for a in list {
        if !a.status.is_standing() {
            out.push(Vec::new());
            continue;
        }
        let k = (a.consultation_id, a.version_id, a.article_wid.clone());
        if !by_unit.contains_key(&k) {
            let mut group = Vec::new();
            for o in store::amendments::on_unit(&mut conn, k.0, k.1, &k.2, &STANDING)? {
                let ops = operations(&mut conn, &o)?;
                group.push((o, ops));
            }
            by_unit.insert(k.clone(), group);
        }
        let group = &by_unit[&k];
        let mine = group.iter().find(|(o, _)| o.id == a.id).map(|(_, ops)| ops);
        out.push(match mine {
            Some(ops) => group
                .iter()
                .filter(|(o, oops)| o.id != a.id && oops == ops)
                .map(|(o, _)| o.number)
                .collect(),
            None => Vec::new(),
        });
    }
    Ok(out)
}

/// A list's filters as a query string gives them: empty means "any". A value that is
/// not one of the choices is refused (the page answers 400 naming the parameter).
pub fn parse_filter<'a>(
    article: Option<&'a str>,
    status: Option<&'a str>,
    author: Option<&'a str>,
) -> Result<ListFilter<'a>, &'static str> {
    let some = |v: Option<&'a str>| v.map(str::trim).filter(|v| !v.is_empty());
    let status = match some(status) {
        None => None,
        Some(s) => Some(AmendmentStatus::parse(s).ok_or("status")?),
    };
    let author = match some(author) {
        None => None,
        Some(s) => Some(Disclosure::parse(s).ok_or("author")?),
    };
    let article = some(article);
    if article.is_some_and(|s| s.len() > 200) {
        return Err("article");
    }
    Ok(ListFilter {
        article_wid: article,
        status,
        disclosure: author,
    })
}

/// One page (from 1) of a consultation's amendments matching `filter`, and how many
/// match in all.
pub fn page(
    store: &Store,
    consultation_id: ConsultationId,
    filter: &ListFilter<'_>,
    page: i64,
) -> Result<(Vec<Amendment>, i64), ConsultationError> {
    let mut conn = store.conn()?;
    let total = store::amendments::count_filtered(&mut conn, consultation_id, filter)?;
    let list = store::amendments::filtered(
        &mut conn,
        consultation_id,
        filter,
        (page.max(1) - 1).saturating_mul(PER_PAGE),
        PER_PAGE,
    )?;
    Ok((list, total))
}

fn read_error(e: ReadError) -> ConsultationError {
    match e {
        ReadError::UnknownBill(_) | ReadError::UnknownVersion { .. } | ReadError::Empty(_) => {
            ConsultationError::NotFound
        }
        ReadError::Store(e) => ConsultationError::Store(e),
        e => ConsultationError::Store(StoreError::Invalid(e.to_string())),
    }
}

/// Version `version_id` of bill `bill_slug` (a consultation's, or the one an amendment
/// is anchored on), with its text and units, through the reader's cache: the pages of a
/// consultation then read neither the text (800 kB for the CPI) nor its units (about
/// 7,600 rows) from the database on each request (docs/performance.md, issue 4).
pub fn cached_version(
    reader: &Reader,
    bill_slug: &str,
    version_id: VersionId,
) -> Result<(Bill, Arc<LoadedVersion>), ConsultationError> {
    let (bill, versions) = reader.bill(bill_slug).map_err(read_error)?;
    let number = versions
        .iter()
        .find(|m| m.id == version_id)
        .ok_or(ConsultationError::NotFound)?
        .number;
    let version = reader.version(&bill, number).map_err(read_error)?;
    Ok((bill, version))
}

/// The consultation of an amendment, its bill's slug and the unit the amendment targets,
/// in the version it is anchored on (which stays the one it was written on when a rebase
/// left it to redraft), the version read through the reader's cache.
pub fn amendment_article(
    reader: &Reader,
    a: &Amendment,
) -> Result<(Consultation, String, Article), ConsultationError> {
    let (c, slug) = {
        let mut conn = reader.store().conn()?;
        let c = store::consultations::by_id(&mut conn, a.consultation_id)?
            .ok_or(ConsultationError::NotFound)?;
        let slug = store::bills::by_id(&mut conn, c.bill_id)?
            .ok_or(ConsultationError::NotFound)?
            .slug;
        (c, slug)
    };
    let (_, version) = cached_version(reader, &slug, a.version_id)?;
    let u = version
        .units
        .iter()
        .find(|u| {
            u.wid == a.article_wid && matches!(u.kind, UnitKind::Article | UnitKind::Division)
        })
        .ok_or(ConsultationError::NotFound)?;
    let body = if u.kind == UnitKind::Article {
        amendment::article_body(u.text(&version.markdown)).to_string()
    } else {
        String::new()
    };
    let article = Article {
        wid: u.wid.clone(),
        num: u.num.clone().unwrap_or_default(),
        heading: u.heading.clone().unwrap_or_default(),
        body,
        sha256: u.sha256.clone(),
    };
    Ok((c, slug, article))
}

/// The bill `slug` and its amendment number `number` (`AM-<slug>-<number>`).
pub fn by_number(
    store: &Store,
    slug: &str,
    number: i32,
) -> Result<(Bill, Amendment), ConsultationError> {
    let mut conn = store.conn()?;
    let bill = store::bills::by_slug(&mut conn, slug)?.ok_or(ConsultationError::NotFound)?;
    let a = store::amendments::by_number(&mut conn, bill.id, number)?
        .ok_or(ConsultationError::NotFound)?;
    Ok((bill, a))
}

/// Whether `a` is "rectifié": corrected by its author, that is, at a revision after the
/// first that a rebase (`latest`, its newest) did not write.
pub fn rectified(a: &Amendment, latest: Option<&store::rebases::Rebase>) -> bool {
    let rebased = latest.is_some_and(|r| r.outcome.stands() && r.to_version_id == a.version_id);
    a.revision > 1 && !rebased
}

//! Akoma Ntoso documents read from the store (DESIGN §7): the Akoma Ntoso 3.0 XML of a
//! bill version and of an amendment, written by the pure `opendata::akn`. Published data
//! never shows hidden content: a hidden amendment has no document.

use super::consultation::display_number;
use super::moderation::{hidden_in, Kind};
use super::reading::{ReadError, Reader};
use crate::domain::amendment::{article_body, Operation};
use crate::opendata::akn;
use crate::store;
use crate::text::UnitKind;

/// The identification of a version: the work's date is the bill's first version's.
pub fn version_meta<'a>(
    bill: &'a store::bills::Bill,
    versions: &'a [store::versions::VersionMeta],
    v: &'a store::versions::VersionMeta,
) -> akn::VersionMeta<'a> {
    akn::VersionMeta {
        slug: &bill.slug,
        title: &bill.meta.title,
        language: &bill.meta.language,
        jurisdiction: &bill.meta.jurisdiction,
        number: v.number,
        date: &v.date,
        work_date: versions
            .first()
            .map_or(v.date.as_str(), |f| f.date.as_str()),
    }
}

/// The Akoma Ntoso `<bill>` of version `number` of bill `slug`, and the version's SHA-256.
pub fn version_xml(
    reader: &Reader,
    slug: &str,
    number: i32,
) -> Result<(String, String), ReadError> {
    let (bill, versions) = reader.bill(slug)?;
    let v = reader.version(&bill, number)?;
    let meta = version_meta(&bill, &versions, &v.meta);
    Ok((
        akn::bill_version(&meta, &v.markdown, &v.units),
        v.meta.sha256.clone(),
    ))
}

/// The Akoma Ntoso `<amendment>` of amendment `number` of bill `slug` (its current
/// revision, on the version it is anchored on). None: no such amendment, or hidden by
/// moderation.
pub fn amendment_xml(
    reader: &Reader,
    slug: &str,
    number: i32,
) -> Result<Option<String>, ReadError> {
    let (bill, versions) = reader.bill(slug)?;
    let mut conn = reader.store().conn()?;
    let Some(a) = store::amendments::by_number(&mut conn, bill.id, number)? else {
        return Ok(None);
    };
    if hidden_in(&mut conn, a.consultation_id)?.contains_key(&(Kind::Amendment, a.id.get())) {
        return Ok(None);
    }
    let Some(rev) = store::amendments::revision(&mut conn, a.id, a.revision)? else {
        return Ok(None);
    };
    let Some(anchored) = store::versions::by_id(&mut conn, a.version_id)? else {
        return Ok(None);
    };
    drop(conn);
    let v = reader.version(&bill, anchored.meta.number)?;
    let Some(art) = v.units.iter().find(|u| u.wid == a.article_wid) else {
        return Ok(None);
    };
    let body = if art.kind == UnitKind::Article {
        article_body(art.text(&v.markdown))
    } else {
        ""
    };
    let ops: Vec<Operation> = serde_json::from_str(&rev.operations)
        .map_err(|_| ReadError::Internal("unreadable amendment operations"))?;
    let number_text = display_number(&bill.slug, a.number);
    let filed_at = a.filed_at.rfc3339();
    let doc = akn::AmendmentDoc {
        version: version_meta(&bill, &versions, &v.meta),
        number: &number_text,
        date: &filed_at,
        author: &a.author_label,
        article: art,
        body,
        operations: &ops,
        justification: &rev.justification,
    };
    Ok(Some(akn::amendment(&doc)))
}

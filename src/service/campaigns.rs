//! Copy-paste campaigns (issue 7, moderation): groups of near-identical amendments and
//! comments of a consultation, for staff, with how the assurance levels of each group's
//! members compare to those of the other contributions, so that a mass of look-alike
//! contributions can be read as one voice. The similarity itself is the pure
//! `domain::similarity`; see docs/campaigns.md.
//!
//! An amendment's text is what it would write (the replacement and inserted text of its
//! current revision's operations, the articles it inserts) and its justification; a
//! comment's is its body (replies included, staff answers left out). Authors appear as
//! published (name or pseudonym); account ids never leave this module.

use crate::domain::amendment::Operation;
use crate::domain::comment::CommentKind;
use crate::domain::identity::Disclosure;
use crate::domain::ids::ConsultationId;
use crate::domain::similarity::{self, Settings};
use crate::service::consultation::{display_number, staff_only, ConsultationError};
use crate::service::identity::SessionInfo;
use crate::store::{self, Store, StoreError};
use serde::Serialize;

/// Characters of a contribution shown in a group's table.
pub const EXCERPT_CHARS: usize = 160;

/// Amendments read per query.
const PAGE: i64 = 500;

/// Assurance levels 0 to 3: how many contributions were made at each.
pub type Levels = [usize; 4];

/// One contribution of a group, as staff see it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Member {
    /// `amendment` or `comment`.
    pub kind: &'static str,
    /// The amendment's display number (`AM-slug-12`), or `#id` for a comment.
    pub label: String,
    /// The author as published: a name or a pseudonym.
    pub author: String,
    pub pseudonymous: bool,
    pub level: i32,
    pub excerpt: String,
    pub href: String,
}

/// A group of near-identical contributions.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Cluster {
    pub size: usize,
    pub members: Vec<Member>,
    /// Levels of the group's members, and of every other contribution of the
    /// consultation.
    pub levels: Levels,
    pub rest_levels: Levels,
}

/// The groups of a consultation, largest first.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Campaigns {
    /// Contributions compared (amendments and comments with some text).
    pub contributions: usize,
    pub clusters: Vec<Cluster>,
    pub threshold: f64,
}

/// A contribution's text and how it is shown.
struct Item {
    text: String,
    member: Member,
}

/// The text an amendment proposes: what its operations write.
fn written(ops: &[Operation]) -> String {
    let mut out = String::new();
    for op in ops {
        let t = match op {
            Operation::Substitute { text, .. } | Operation::Insert { text, .. } => text,
            Operation::InsertArticle { markdown, .. } => markdown,
            Operation::Repeal { .. } | Operation::RepealUnit { .. } => continue,
        };
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(t);
    }
    out
}

fn excerpt(text: &str) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(EXCERPT_CHARS) {
        Some((at, _)) => format!("{}…", &flat[..at]),
        None => flat,
    }
}

fn level_index(level: i32) -> usize {
    level.clamp(0, 3) as usize
}

/// Every amendment and comment of the consultation, with its text.
fn gather(store: &Store, consultation_id: ConsultationId) -> Result<Vec<Item>, ConsultationError> {
    let mut conn = store.conn()?;
    let c = store::consultations::by_id(&mut conn, consultation_id)?
        .ok_or(ConsultationError::NotFound)?;
    let bill = store::bills::by_id(&mut conn, c.bill_id)?.ok_or(ConsultationError::NotFound)?;
    let mut amendments = Vec::new();
    loop {
        let page = store::amendments::for_consultation(
            &mut conn,
            consultation_id,
            None,
            amendments.len() as i64,
            PAGE,
        )?;
        let done = (page.len() as i64) < PAGE;
        amendments.extend(page);
        if done {
            break;
        }
    }
    let mut items = Vec::new();
    for a in &amendments {
        let rev = store::amendments::revision(&mut conn, a.id, a.revision)?
            .ok_or_else(|| StoreError::Invalid(format!("amendment {} has no revision", a.id)))?;
        let ops: Vec<Operation> = serde_json::from_str(&rev.operations)
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        let mut text = written(&ops);
        if !rev.justification.trim().is_empty() {
            text.push('\n');
            text.push_str(&rev.justification);
        }
        items.push(Item {
            member: Member {
                kind: "amendment",
                label: display_number(&bill.slug, a.number),
                author: a.author_label.clone(),
                pseudonymous: a.disclosure == Disclosure::Pseudonym,
                level: a.author_level,
                excerpt: excerpt(&text),
                href: format!("/bills/{}/amendments/{}", bill.slug, a.number),
            },
            text,
        });
    }
    // Comments on the text, article by article, then those on each amendment.
    let mut comments: Vec<(store::comments::Comment, Option<i32>)> = Vec::new();
    for (wid, _) in store::comments::counts_by_article(&mut conn, consultation_id)? {
        let on = store::comments::for_article(&mut conn, consultation_id, &wid)?;
        comments.extend(on.into_iter().map(|c| (c, None)));
    }
    for a in &amendments {
        let on = store::comments::for_amendment(&mut conn, a.id)?;
        comments.extend(on.into_iter().map(|c| (c, Some(a.number))));
    }
    for (c, amendment) in comments {
        if c.kind != CommentKind::Comment {
            continue;
        }
        let href = match amendment {
            None => format!(
                "/consultations/{consultation_id}/articles/{}#comment-{}",
                c.article_wid, c.id
            ),
            Some(n) => format!("/bills/{}/amendments/{n}#comment-{}", bill.slug, c.id),
        };
        items.push(Item {
            member: Member {
                kind: "comment",
                label: format!("#{}", c.id),
                author: c.author_label,
                pseudonymous: c.disclosure == Disclosure::Pseudonym,
                level: c.author_level,
                excerpt: excerpt(&c.body),
                href,
            },
            text: c.body,
        });
    }
    Ok(items)
}

/// The groups of near-identical contributions of a consultation (staff only), with the
/// default settings of `domain::similarity`.
pub fn clusters(
    store: &Store,
    who: &SessionInfo,
    consultation_id: ConsultationId,
) -> Result<Campaigns, ConsultationError> {
    staff_only(who)?;
    let items = gather(store, consultation_id)?;
    let settings = Settings::default();
    let texts: Vec<&str> = items.iter().map(|i| i.text.as_str()).collect();
    let groups = similarity::clusters(&texts, &settings);
    let mut all: Levels = [0; 4];
    for i in &items {
        all[level_index(i.member.level)] += 1;
    }
    let clusters = groups
        .into_iter()
        .map(|g| {
            let mut levels: Levels = [0; 4];
            for &m in &g {
                levels[level_index(items[m].member.level)] += 1;
            }
            let mut rest_levels = all;
            for (r, l) in rest_levels.iter_mut().zip(levels) {
                *r -= l;
            }
            Cluster {
                size: g.len(),
                members: g.iter().map(|&m| items[m].member.clone()).collect(),
                levels,
                rest_levels,
            }
        })
        .collect();
    Ok(Campaigns {
        contributions: items.len(),
        clusters,
        threshold: settings.threshold,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_are_short_and_flat() {
        assert_eq!(excerpt("  un\n deux  "), "un deux");
        let long = "é".repeat(EXCERPT_CHARS + 5);
        assert_eq!(excerpt(&long).chars().count(), EXCERPT_CHARS + 1);
        assert!(excerpt(&long).ends_with('…'));
    }
}

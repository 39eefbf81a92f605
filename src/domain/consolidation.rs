//! Consolidation (DESIGN §5), pure: applies adopted amendments, in order, to the text of a
//! bill version and says which amendment (and revision) wrote each changed span of the
//! result. Each amendment's word operations are re-anchored (`amendment::rebase`) on the
//! article as the amendments before it left it; whole-article repeals and insertions are
//! placed by the units of the version.

use super::state::closed_set;
use crate::domain::amendment::{self, article_body, AmendError, Located, Operation};
use crate::domain::ids::AmendmentId;
use crate::text::{Unit, UnitKind};
use std::collections::HashMap;

/// One adopted amendment, in the order it is applied.
#[derive(Debug, Clone, Copy)]
pub struct Adopted<'a> {
    pub id: AmendmentId,
    pub revision: i32,
    pub ops: &'a [Operation],
}

/// Bytes `start..end` of the consolidated text were written by this amendment revision
/// (an empty span marks words or an article it deleted). `wid` is the unit the amendment
/// targeted in the original version (for an inserted article: the unit it follows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    pub amendment: AmendmentId,
    pub revision: i32,
    pub wid: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConsolidateError {
    #[error("amendment {0} targets a unit that is not in the version")]
    UnknownUnit(AmendmentId),
    #[error("amendment {0} no longer applies after the amendments before it ({1:?})")]
    NotFound(AmendmentId, Located),
    #[error("amendment {0} cannot be applied: {1}")]
    Apply(AmendmentId, AmendError),
    #[error("amendment {0} touches an article that an adopted amendment repeals")]
    Repealed(AmendmentId),
    #[error("two adopted amendments change the same text")]
    Overlap,
}

/// An article body as the amendments applied so far left it, with the spans they wrote
/// (offsets in the body).
struct Body {
    text: String,
    spans: Vec<Span>,
}

/// Where `p` moves to after `edits` (old start, old end, new length; sorted, disjoint).
/// An insertion exactly at `p` goes before it when `before_inserts` (a span's start),
/// after it otherwise (a span's end).
fn shift(p: usize, edits: &[(usize, usize, usize)], before_inserts: bool) -> usize {
    let mut q = p as isize;
    for &(s, e, n) in edits {
        let counts = if s == e {
            if before_inserts {
                e <= p
            } else {
                e < p
            }
        } else {
            e <= p
        };
        if counts {
            q += n as isize - (e - s) as isize;
        } else if s < p && p < e {
            // Inside a replaced span: to its new end.
            q += (s as isize + n as isize) - p as isize;
            return q.max(0) as usize;
        }
    }
    q.max(0) as usize
}

/// Applies `adopted` in order to `markdown` (whose units are `units`); returns the new
/// text and the spans each amendment wrote, in text order.
pub fn consolidate(
    markdown: &str,
    units: &[Unit],
    adopted: &[Adopted<'_>],
) -> Result<(String, Vec<Span>), ConsolidateError> {
    let index: HashMap<&str, usize> = units
        .iter()
        .enumerate()
        .filter(|(_, u)| u.kind != UnitKind::Paragraph)
        .map(|(i, u)| (u.wid.as_str(), i))
        .collect();
    let mut bodies: HashMap<String, Body> = HashMap::new();
    let mut repealed: HashMap<String, (AmendmentId, i32)> = HashMap::new();
    let mut inserted: Vec<(usize, String, AmendmentId, i32, String)> = Vec::new();

    for a in adopted {
        let mut by_wid: Vec<(&str, Vec<Operation>)> = Vec::new();
        for op in a.ops {
            match op {
                Operation::RepealUnit { wid } => {
                    let i = *index
                        .get(wid.as_str())
                        .ok_or(ConsolidateError::UnknownUnit(a.id))?;
                    if units[i].kind != UnitKind::Article
                        || bodies.contains_key(wid)
                        || repealed.contains_key(wid)
                        || inserted.iter().any(|x| x.4 == *wid)
                    {
                        return Err(ConsolidateError::Repealed(a.id));
                    }
                    repealed.insert(wid.clone(), (a.id, a.revision));
                }
                Operation::InsertArticle { after, markdown } => {
                    let i = *index
                        .get(after.as_str())
                        .ok_or(ConsolidateError::UnknownUnit(a.id))?;
                    if repealed.contains_key(after) {
                        return Err(ConsolidateError::Repealed(a.id));
                    }
                    inserted.push((
                        i,
                        markdown.trim_matches('\n').to_string(),
                        a.id,
                        a.revision,
                        after.clone(),
                    ));
                }
                _ => match by_wid.iter_mut().find(|(w, _)| *w == op.wid()) {
                    Some((_, ops)) => ops.push(op.clone()),
                    None => by_wid.push((op.wid(), vec![op.clone()])),
                },
            }
        }
        for (wid, ops) in by_wid {
            let i = *index.get(wid).ok_or(ConsolidateError::UnknownUnit(a.id))?;
            if units[i].kind != UnitKind::Article {
                return Err(ConsolidateError::UnknownUnit(a.id));
            }
            if repealed.contains_key(wid) {
                return Err(ConsolidateError::Repealed(a.id));
            }
            let body = bodies.entry(wid.to_string()).or_insert_with(|| Body {
                text: article_body(units[i].text(markdown)).to_string(),
                spans: Vec::new(),
            });
            // Earlier adopted amendments of the same version may have changed the
            // context of a repeated quote: found by the context that remains.
            let moved = amendment::rebase_near(&body.text, wid, &ops)
                .map_err(|l| ConsolidateError::NotFound(a.id, l))?;
            let text = amendment::apply(&body.text, &moved)
                .map_err(|e| ConsolidateError::Apply(a.id, e))?;
            let mut edits: Vec<(usize, usize, usize)> = moved
                .iter()
                .filter_map(|op| {
                    let an = op.anchor()?;
                    let n = match op {
                        Operation::Substitute { text, .. } | Operation::Insert { text, .. } => {
                            text.len()
                        }
                        _ => 0,
                    };
                    Some((an.start, an.end, n))
                })
                .collect();
            edits.sort_unstable();
            for s in &mut body.spans {
                let start = shift(s.start, &edits, true);
                let end = shift(s.end, &edits, false).max(start);
                s.start = start;
                s.end = end;
            }
            let mut delta: isize = 0;
            for &(s, e, n) in &edits {
                let start = (s as isize + delta) as usize;
                body.spans.push(Span {
                    start,
                    end: start + n,
                    amendment: a.id,
                    revision: a.revision,
                    wid: wid.to_string(),
                });
                delta += n as isize - (e - s) as isize;
            }
            body.text = text;
        }
    }

    // Edits on the whole text: (start, end, new text, spans relative to the new text).
    let mut edits: Vec<(usize, usize, String, Vec<Span>)> = Vec::new();
    for (wid, body) in bodies {
        let u = &units[index[wid.as_str()]];
        let old = article_body(u.text(markdown));
        let start = u.end - old.len();
        let (text, spans) = if old.is_empty() && !body.text.is_empty() {
            let spans = body
                .spans
                .into_iter()
                .map(|s| Span {
                    start: s.start + 2,
                    end: s.end + 2,
                    ..s
                })
                .collect();
            (format!("\n\n{}", body.text), spans)
        } else {
            (body.text, body.spans)
        };
        edits.push((start, u.end, text, spans));
    }
    for (wid, (id, revision)) in repealed {
        let i = index[wid.as_str()];
        let u = &units[i];
        let next = units[i + 1..]
            .iter()
            .find(|n| n.start >= u.end)
            .map_or(markdown.len(), |n| n.start);
        edits.push((
            u.start,
            next,
            String::new(),
            vec![Span {
                start: 0,
                end: 0,
                amendment: id,
                revision,
                wid,
            }],
        ));
    }
    for (i, md, id, revision, wid) in inserted {
        let at = units[i].end;
        let len = md.len();
        edits.push((
            at,
            at,
            format!("\n\n{md}"),
            vec![Span {
                start: 2,
                end: 2 + len,
                amendment: id,
                revision,
                wid,
            }],
        ));
    }
    // Stable: insertions after one unit keep their order of adoption.
    edits.sort_by_key(|e| (e.0, e.1));
    let mut out = String::with_capacity(markdown.len() + 1024);
    let mut spans = Vec::new();
    let mut pos = 0;
    for (start, end, text, ss) in edits {
        if start < pos {
            // The edit that overlaps is this one or the one before (a repeal reaches to
            // the next unit); every edit carries the spans of its amendment.
            return Err(match ss.first().or(spans.last()) {
                Some(s) => ConsolidateError::Repealed(s.amendment),
                None => ConsolidateError::Overlap,
            });
        }
        out.push_str(&markdown[pos..start]);
        let base = out.len();
        out.push_str(&text);
        spans.extend(ss.into_iter().map(|s| Span {
            start: s.start + base,
            end: s.end + base,
            ..s
        }));
        pos = end;
    }
    out.push_str(&markdown[pos..]);
    spans.sort_by_key(|s| (s.start, s.end));
    Ok((out, spans))
}

/// The text before and after an amendment, to show its diff: a repealed article becomes
/// empty, an inserted article comes from nothing.
pub fn effect(body: &str, ops: &[Operation]) -> Result<(String, String), AmendError> {
    if ops
        .iter()
        .any(|o| matches!(o, Operation::RepealUnit { .. }))
    {
        return Ok((body.to_string(), String::new()));
    }
    let inserted: Vec<&str> = ops
        .iter()
        .filter_map(|o| match o {
            Operation::InsertArticle { markdown, .. } => Some(markdown.as_str()),
            _ => None,
        })
        .collect();
    if !inserted.is_empty() {
        return Ok((String::new(), inserted.join("\n\n")));
    }
    Ok((body.to_string(), amendment::apply(body, ops)?))
}

closed_set! {
    /// What a rebase did to an amendment (`amendment_rebases.outcome`).
    pub enum RebaseOutcome("rebase outcome") {
        /// Re-anchored automatically.
        Carried = "carried",
        /// A three-way merge waits for the author's confirmation.
        Proposed = "proposed",
        /// The author must write it again.
        Redraft = "redraft",
        /// The author confirmed the proposed merge.
        Accepted = "accepted",
    }
}

impl RebaseOutcome {
    /// The amendment stands on the new version (carried, or proposed and accepted).
    pub fn stands(self) -> bool {
        matches!(self, RebaseOutcome::Carried | RebaseOutcome::Accepted)
    }
}

/// What becomes of a pending amendment when its article moves to a new version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Carried {
    /// Every quote was found again unambiguously: the operations, re-anchored.
    Automatic(Vec<Operation>),
    /// A three-way merge (the amendment's change and the new version's change touch
    /// different words) gives these operations on the new text; the author confirms.
    Proposed(Vec<Operation>),
    /// The author must write it again.
    Redraft,
}

/// Carries an amendment's operations from `old` (the article body it was written on) to
/// `new` (the same article, by `wid`, in the new version; None when it is gone).
/// `exists` says whether a unit is still in the new version (for whole-article
/// operations).
pub fn carry(
    wid: &str,
    old: &str,
    new: Option<&str>,
    ops: &[Operation],
    exists: impl Fn(&str) -> bool,
) -> Carried {
    if ops.iter().all(|o| o.anchor().is_none()) {
        return if ops.iter().all(|o| exists(o.wid())) {
            Carried::Automatic(ops.to_vec())
        } else {
            Carried::Redraft
        };
    }
    let Some(new) = new else {
        return Carried::Redraft;
    };
    if let Ok(moved) = amendment::rebase(new, wid, ops) {
        if amendment::apply(new, &moved).is_ok() {
            return Carried::Automatic(moved);
        }
    }
    // Three-way: the amendment's change and the version's change, both on the old text.
    let Ok(theirs) = amendment::derive(wid, old, new) else {
        return Carried::Redraft;
    };
    let mut both = ops.to_vec();
    both.extend(theirs);
    let Ok(merged) = amendment::apply(old, &both) else {
        return Carried::Redraft;
    };
    match amendment::derive(wid, new, &merged) {
        Ok(ops) => Carried::Proposed(ops),
        Err(_) => Carried::Redraft,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_round_trip() {
        for o in RebaseOutcome::ALL {
            assert_eq!(o.as_str().parse::<RebaseOutcome>(), Ok(o));
        }
        assert!(RebaseOutcome::Carried.stands() && RebaseOutcome::Accepted.stands());
        assert!(!RebaseOutcome::Proposed.stands() && !RebaseOutcome::Redraft.stands());
    }
    use crate::domain::amendment::derive;
    use crate::text::{assign_wids, parse, WidAllocator};

    const MD: &str = "# Titre Ier\n\n## Article 1\n\nLe conseil se réunit tous les trois mois.\n\nIl délibère à la majorité.\n\n## Article 2\n\nLe maire préside.\n\n# Titre II\n\n## Article 3\n\nDispositions finales.\n";

    fn units() -> Vec<Unit> {
        let mut u = parse(MD).units;
        assign_wids(None, MD, &mut u, &mut WidAllocator::new(1));
        u
    }

    fn wid(units: &[Unit], num: &str) -> String {
        units
            .iter()
            .find(|u| u.kind == UnitKind::Article && u.num.as_deref() == Some(num))
            .unwrap()
            .wid
            .clone()
    }

    fn body(units: &[Unit], num: &str) -> String {
        let u = units
            .iter()
            .find(|u| u.kind == UnitKind::Article && u.num.as_deref() == Some(num))
            .unwrap();
        article_body(u.text(MD)).to_string()
    }

    #[test]
    fn applies_amendments_in_order_and_traces_each_span() {
        let us = units();
        let (w1, w2, w3) = (wid(&us, "1"), wid(&us, "2"), wid(&us, "3"));
        let b1 = body(&us, "1");
        let a = derive(&w1, &b1, &b1.replace("trois", "six")).unwrap();
        let b = derive(&w1, &b1, &b1.replace("à la majorité", "à l'unanimité")).unwrap();
        let c = vec![Operation::RepealUnit { wid: w2.clone() }];
        let d = vec![Operation::InsertArticle {
            after: w3.clone(),
            markdown: "## Article 4\n\nEntrée en vigueur immédiate.".into(),
        }];
        let (out, spans) = consolidate(
            MD,
            &us,
            &[
                Adopted {
                    id: AmendmentId::new(10),
                    revision: 1,
                    ops: &a,
                },
                Adopted {
                    id: AmendmentId::new(11),
                    revision: 2,
                    ops: &b,
                },
                Adopted {
                    id: AmendmentId::new(12),
                    revision: 1,
                    ops: &c,
                },
                Adopted {
                    id: AmendmentId::new(13),
                    revision: 1,
                    ops: &d,
                },
            ],
        )
        .unwrap();
        assert_eq!(
            out,
            "# Titre Ier\n\n## Article 1\n\nLe conseil se réunit tous les six mois.\n\nIl délibère à l'unanimité.\n\n# Titre II\n\n## Article 3\n\nDispositions finales.\n\n## Article 4\n\nEntrée en vigueur immédiate.\n"
        );
        let written: Vec<(&str, AmendmentId, i32)> = spans
            .iter()
            .map(|s| (&out[s.start..s.end], s.amendment, s.revision))
            .collect();
        assert_eq!(
            written,
            vec![
                ("six", AmendmentId::new(10), 1),
                ("l'unanimité", AmendmentId::new(11), 2),
                ("", AmendmentId::new(12), 1),
                (
                    "## Article 4\n\nEntrée en vigueur immédiate.",
                    AmendmentId::new(13),
                    1
                )
            ]
        );
        assert_eq!(spans[2].wid, w2);
    }

    #[test]
    fn later_amendments_shift_earlier_spans() {
        let us = units();
        let w1 = wid(&us, "1");
        let b1 = body(&us, "1");
        let later = derive(
            &w1,
            &b1,
            &b1.replace("à la majorité", "à la majorité absolue"),
        )
        .unwrap();
        let earlier = derive(&w1, &b1, &b1.replace("Le conseil", "Le grand conseil")).unwrap();
        let (out, spans) = consolidate(
            MD,
            &us,
            &[
                Adopted {
                    id: AmendmentId::new(1),
                    revision: 1,
                    ops: &later,
                },
                Adopted {
                    id: AmendmentId::new(2),
                    revision: 1,
                    ops: &earlier,
                },
            ],
        )
        .unwrap();
        let written: Vec<&str> = spans.iter().map(|s| out[s.start..s.end].trim()).collect();
        assert_eq!(written, vec!["grand", "absolue"]);
        assert_eq!(spans[1].amendment, AmendmentId::new(1));
    }

    #[test]
    fn an_edit_of_a_repealed_article_or_a_quote_gone_is_refused() {
        let us = units();
        let w1 = wid(&us, "1");
        let b1 = body(&us, "1");
        let edit = derive(&w1, &b1, &b1.replace("trois", "six")).unwrap();
        let repeal = vec![Operation::RepealUnit { wid: w1.clone() }];
        let order = [
            Adopted {
                id: AmendmentId::new(1),
                revision: 1,
                ops: &repeal,
            },
            Adopted {
                id: AmendmentId::new(2),
                revision: 1,
                ops: &edit,
            },
        ];
        assert_eq!(
            consolidate(MD, &us, &order).unwrap_err(),
            ConsolidateError::Repealed(AmendmentId::new(2))
        );
        let other = derive(&w1, &b1, &b1.replace("tous les trois mois", "chaque mois")).unwrap();
        let order = [
            Adopted {
                id: AmendmentId::new(1),
                revision: 1,
                ops: &other,
            },
            Adopted {
                id: AmendmentId::new(2),
                revision: 1,
                ops: &edit,
            },
        ];
        assert!(matches!(
            consolidate(MD, &us, &order),
            Err(ConsolidateError::NotFound(id, _)) if id == AmendmentId::new(2)
        ));
        let ghost = vec![Operation::RepealUnit { wid: "nope".into() }];
        assert_eq!(
            consolidate(
                MD,
                &us,
                &[Adopted {
                    id: AmendmentId::new(3),
                    revision: 1,
                    ops: &ghost
                }]
            )
            .unwrap_err(),
            ConsolidateError::UnknownUnit(AmendmentId::new(3))
        );
    }

    #[test]
    fn carrying_an_amendment_to_a_new_version() {
        let old = "Le conseil se réunit tous les trois mois. Il délibère.";
        let ops = derive("a1", old, &old.replace("trois", "six")).unwrap();
        let all = |_: &str| true;
        // Unchanged or moved: automatic.
        let moved = format!("Préambule. {old}");
        let Carried::Automatic(re) = carry("a1", old, Some(&moved), &ops, all) else {
            panic!()
        };
        assert_eq!(
            amendment::apply(&moved, &re).unwrap(),
            moved.replace("trois", "six")
        );
        // The quote is now ambiguous and its context changed: a three-way merge.
        let old = "Un membre titulaire et un membre suppléant sont désignés pour trois ans.";
        let ops = derive("a1", old, &old.replacen("membre", "représentant", 1)).unwrap();
        let new = "Un membre titulaire et un membre suppléant est désigné pour trois ans.";
        assert!(amendment::rebase(new, "a1", &ops).is_err());
        let Carried::Proposed(p) = carry("a1", old, Some(new), &ops, all) else {
            panic!("{:?}", carry("a1", old, Some(new), &ops, all))
        };
        assert_eq!(
            amendment::apply(new, &p).unwrap(),
            "Un représentant titulaire et un membre suppléant est désigné pour trois ans."
        );
        // Rewritten where the amendment changes it: to redraft; gone: to redraft.
        let new = "Deux personnes sont désignées pour trois ans.";
        assert_eq!(carry("a1", old, Some(new), &ops, all), Carried::Redraft);
        assert_eq!(carry("a1", old, None, &ops, all), Carried::Redraft);
        let repeal = vec![Operation::RepealUnit { wid: "a1".into() }];
        assert_eq!(carry("a1", old, None, &repeal, |_| false), Carried::Redraft);
        assert!(matches!(
            carry("a1", old, Some(old), &repeal, all),
            Carried::Automatic(_)
        ));
    }

    #[test]
    fn an_article_inserted_after_a_division_heading_opens_the_division() {
        let us = units();
        let t2 = us
            .iter()
            .find(|u| u.kind == UnitKind::Division && u.heading.as_deref() == Some("Titre II"))
            .map(|u| u.wid.clone());
        let Some(t2) = t2 else { return };
        let ins = vec![Operation::InsertArticle {
            after: t2,
            markdown: "## Article 2 bis\n\nNouveau.".into(),
        }];
        let (out, _) = consolidate(
            MD,
            &us,
            &[Adopted {
                id: AmendmentId::new(1),
                revision: 1,
                ops: &ins,
            }],
        )
        .unwrap();
        assert!(out.contains("# Titre II\n\n## Article 2 bis\n\nNouveau.\n\n## Article 3"));
    }
}

//! Atom feeds (RFC 4287) of what happens on the instance or on one bill: new
//! consultations, new bill versions, new amendments and published results. Entries say
//! only what the pages say publicly: amendments by their number and published author,
//! without the text of hidden ones.

use crate::domain::ids::BillId;
use std::collections::HashMap;

use crate::service::consultation::display_number;
use crate::store::{self, Store, StoreError};

/// Entries per feed.
pub const FEED_LENGTH: usize = 50;

/// One entry, before it is written as XML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// A stable `tag:` URI.
    pub id: String,
    /// RFC 3339.
    pub updated: String,
    /// `consultation`, `version`, `amendment` or `results`.
    pub kind: &'static str,
    pub title: String,
    /// Path on the site (the feed makes it absolute).
    pub path: String,
    pub author: String,
}

/// The latest entries of the instance, or of one bill, newest first.
pub fn entries(store: &Store, bill_slug: Option<&str>) -> Result<Option<Vec<Entry>>, StoreError> {
    let mut conn = store.conn()?;
    let bills: Vec<store::Bill> = match bill_slug {
        Some(slug) => match store::bills::by_slug(&mut conn, slug)? {
            Some(b) => vec![b],
            None => return Ok(None),
        },
        None => store::bills::list(&mut conn)?
            .into_iter()
            .map(|s| s.bill)
            .collect(),
    };
    let slugs: HashMap<BillId, String> = bills.iter().map(|b| (b.id, b.slug.clone())).collect();
    let mut out = Vec::new();
    for b in &bills {
        let mut versions = store::versions::list_meta(&mut conn, b.id)?;
        versions.sort_by_key(|v| std::cmp::Reverse(v.number));
        for v in versions.into_iter().take(FEED_LENGTH) {
            out.push(Entry {
                id: format!("tag:amenda,2026:bill/{}/version/{}", b.slug, v.number),
                updated: v.created_at.rfc3339(),
                kind: "version",
                title: format!(
                    "{} — version {}{}",
                    b.meta.title,
                    v.number,
                    if v.note.is_empty() {
                        String::new()
                    } else {
                        format!(" : {}", v.note)
                    }
                ),
                path: format!("/bills/{}?v={}", b.slug, v.number),
                author: v.author,
            });
        }
        for c in store::consultations::for_bill(&mut conn, b.id)?
            .into_iter()
            .take(FEED_LENGTH)
        {
            if !c.phase.is_public() {
                continue;
            }
            out.push(Entry {
                id: format!("tag:amenda,2026:consultation/{}", c.id),
                updated: c.created_at.rfc3339(),
                kind: "consultation",
                title: c.title.clone(),
                path: format!("/consultations/{}", c.id),
                author: String::new(),
            });
            if let Some(closed) =
                store::ballots::by_consultation(&mut conn, c.id)?.and_then(|l| l.closed_at)
            {
                out.push(Entry {
                    id: format!("tag:amenda,2026:consultation/{}/results", c.id),
                    updated: closed.rfc3339(),
                    kind: "results",
                    title: c.title.clone(),
                    path: format!("/consultations/{}/results", c.id),
                    author: String::new(),
                });
            }
        }
    }
    let bill_id = match (bill_slug, bills.first()) {
        (Some(_), Some(b)) => Some(b.id),
        _ => None,
    };
    for a in store::amendments::latest(&mut conn, bill_id, FEED_LENGTH as i64)? {
        let slug = slugs.get(&a.bill_id).cloned().unwrap_or_default();
        out.push(Entry {
            id: format!("tag:amenda,2026:bill/{slug}/amendment/{}", a.number),
            updated: a.filed_at.rfc3339(),
            kind: "amendment",
            title: display_number(&slug, a.number),
            path: format!("/bills/{slug}/amendments/{}", a.number),
            author: a.author_label,
        });
    }
    out.sort_by(|a, b| b.updated.cmp(&a.updated).then_with(|| b.id.cmp(&a.id)));
    out.truncate(FEED_LENGTH);
    Ok(Some(out))
}

/// Escapes text for XML content and attributes.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 forbids.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// The feed as Atom XML. `base` is the site's public address (no final `/`), `kind_label`
/// names each kind of entry in the reader's language.
pub fn atom(
    base: &str,
    self_path: &str,
    title: &str,
    entries: &[Entry],
    kind_label: impl Fn(&str) -> String,
) -> String {
    let updated = entries
        .first()
        .map_or("1970-01-01T00:00:00Z".to_string(), |e| e.updated.clone());
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n");
    x.push_str(&format!(
        "<id>{}</id>\n<title>{}</title>\n<updated>{}</updated>\n<link rel=\"self\" href=\"{}\"/>\n<link rel=\"alternate\" href=\"{}\"/>\n<author><name>Amenda</name></author>\n<generator>Amenda</generator>\n",
        xml_escape(&format!("{base}{self_path}")),
        xml_escape(title),
        xml_escape(&updated),
        xml_escape(&format!("{base}{self_path}")),
        xml_escape(&format!("{base}/")),
    ));
    for e in entries {
        x.push_str(&format!(
            "<entry>\n<id>{}</id>\n<title>{} — {}</title>\n<updated>{}</updated>\n<link rel=\"alternate\" href=\"{}\"/>\n<category term=\"{}\"/>\n",
            xml_escape(&e.id),
            xml_escape(&kind_label(e.kind)),
            xml_escape(&e.title),
            xml_escape(&e.updated),
            xml_escape(&format!("{base}{}", e.path)),
            e.kind,
        ));
        if !e.author.is_empty() {
            x.push_str(&format!(
                "<author><name>{}</name></author>\n",
                xml_escape(&e.author)
            ));
        }
        x.push_str("</entry>\n");
    }
    x.push_str("</feed>\n");
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_dates() {
        assert_eq!(xml_escape("a<b>&\"'\u{1}"), "a&lt;b&gt;&amp;&quot;&apos;");
        let e = Entry {
            id: "tag:x".into(),
            updated: "2026-11-23T10:00:00Z".into(),
            kind: "amendment",
            title: "<script>".into(),
            path: "/a".into(),
            author: "A & B".into(),
        };
        let x = atom("https://x.example", "/feeds/atom.xml", "T", &[e], |k| {
            k.to_string()
        });
        assert!(x.contains("<title>amendment — &lt;script&gt;</title>"));
        assert!(x.contains("<updated>2026-11-23T10:00:00Z</updated>"));
        assert!(x.contains("<name>A &amp; B</name>"));
    }
}

//! Akoma Ntoso 3.0 (OASIS LegalDocML) for bill versions and amendments, see
//! docs/opendata.md. Pure: markdown, units and operations in, XML text out; and a reader
//! that gives the units back, for the round trip.
//!
//! - A version is a `<bill>`: `<meta>` (FRBR identification, the `#amenda` organisation),
//!   a `<preface>` with the title, and a `<body>` where divisions are AKN hierarchy
//!   elements (`part`, `book`, `title`, `chapter`, `section`, `subsection`… or
//!   `hcontainer name="…"`), articles are `<article>` and paragraphs (alinéas) are
//!   `<paragraph><content><p>…</p></content></paragraph>`. A unit's `eid` is its `eId`
//!   and its `wid` its `wId` (both satisfy the schema's `noWhiteSpace`: the parser makes
//!   them of ASCII letters, digits, `_` and `-`). A paragraph's text is its markdown,
//!   verbatim (inline markdown stays plain text), so the reader gives it back byte for byte.
//! - An amendment is an `<amendment>` whose `<analysis>` lists one `<textualMod>` per
//!   operation, with its `<source>` (the formal wording in the amendment's body), its
//!   `<destination>` (the article in the amended version) and its `<old>`/`<new>`
//!   pointing at the quoted texts in `<amendmentContent>`.

use crate::domain::amendment::{self, Operation, Wording};
use crate::text::parse::slug;
use crate::text::{Unit, UnitKind};
use std::fmt::Write;

/// The Akoma Ntoso 3.0 namespace.
pub const NS: &str = "http://docs.oasis-open.org/legaldocml/ns/akn/3.0";

/// What identifies one version of a bill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionMeta<'a> {
    pub slug: &'a str,
    pub title: &'a str,
    /// The bill's language (`fr`, `en`).
    pub language: &'a str,
    /// The bill's jurisdiction, free text (`République française`); see [`country`].
    pub jurisdiction: &'a str,
    pub number: i32,
    /// The version's date (ISO 8601 date or date-time).
    pub date: &'a str,
    /// The date of the bill's first version: the work's date.
    pub work_date: &'a str,
}

/// The AKN country component: a two-letter code when the jurisdiction is one (or names
/// France), else the jurisdiction's slug (`City of Eastmere` → `city-of-eastmere`).
pub fn country(jurisdiction: &str) -> String {
    let j = jurisdiction.trim();
    if j.len() == 2 && j.chars().all(|c| c.is_ascii_alphabetic()) {
        return j.to_ascii_lowercase();
    }
    let s = slug(j);
    if s.contains("france") || s.contains("francaise") {
        return "fr".into();
    }
    if s.is_empty() {
        "xx".into()
    } else {
        s
    }
}

/// `YYYY-MM-DD` from an ISO 8601 date or date-time; `1970-01-01` when there is none.
fn iso_date(s: &str) -> &str {
    let d = s.get(..10).unwrap_or("");
    let b = d.as_bytes();
    let ok = b.len() == 10
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        });
    if ok {
        d
    } else {
        "1970-01-01"
    }
}

/// ISO 639-2 code for URIs (`fr` → `fra`).
fn lang3(lang: &str) -> &str {
    match lang {
        "fr" => "fra",
        "en" => "eng",
        other => other,
    }
}

/// A valid `xsd:language` for `FRBRlanguage`.
fn language(lang: &str) -> &str {
    let ok = !lang.is_empty() && lang.len() <= 8 && lang.chars().all(|c| c.is_ascii_alphabetic());
    if ok {
        lang
    } else {
        "und"
    }
}

/// One path segment of an AKN URI.
fn seg(s: &str) -> String {
    let s = slug(s);
    if s.is_empty() {
        "x".into()
    } else {
        s
    }
}

impl VersionMeta<'_> {
    /// The work URI: `/akn/fr/bill/2026-02-10/budget-participatif`.
    pub fn work_uri(&self) -> String {
        format!(
            "/akn/{}/bill/{}/{}",
            seg(&country(self.jurisdiction)),
            iso_date(self.work_date),
            seg(self.slug)
        )
    }

    /// The expression URI of this version: `…/fra@v3`.
    pub fn expression_uri(&self) -> String {
        format!(
            "{}/{}@v{}",
            self.work_uri(),
            seg(lang3(self.language)),
            self.number
        )
    }
}

/// Text content: `&`, `<`, `>` escaped, `\r` as a character reference (so that XML's
/// end-of-line handling keeps it), and the characters XML 1.0 cannot carry (C0 controls
/// but tab and newlines, U+FFFE, U+FFFF) replaced by U+FFFD.
fn esc(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            '\t' | '\n' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

/// An attribute value, double-quoted by the caller: as [`esc`], plus `"` and the
/// whitespace that attribute normalisation would turn into spaces.
fn attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("&quot;"),
            '\n' => out.push_str("&#10;"),
            '\t' => out.push_str("&#9;"),
            c => esc(&mut out, c.encode_utf8(&mut [0; 4])),
        }
    }
    out
}

fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    esc(&mut out, s);
    out
}

/// The `<meta>` identification of a document whose work and expression URIs are given,
/// dated by its work's date and this expression's.
fn identification(
    out: &mut String,
    work: &str,
    expr: &str,
    (work_date, date): (&str, &str),
    country: &str,
    lang: &str,
    version: Option<i32>,
) {
    let (work_date, date) = (iso_date(work_date), iso_date(date));
    let (work, expr) = (attr(work), attr(expr));
    let _ = write!(
        out,
        "<identification source=\"#amenda\">\
<FRBRWork><FRBRthis value=\"{work}/!main\"/><FRBRuri value=\"{work}\"/>\
<FRBRdate date=\"{work_date}\" name=\"work\"/><FRBRauthor href=\"#amenda\"/>\
<FRBRcountry value=\"{country}\"/></FRBRWork>\
<FRBRExpression><FRBRthis value=\"{expr}/!main\"/><FRBRuri value=\"{expr}\"/>\
<FRBRdate date=\"{date}\" name=\"expression\"/><FRBRauthor href=\"#amenda\"/>",
        country = attr(country),
    );
    if let Some(n) = version {
        let _ = write!(out, "<FRBRversionNumber value=\"{n}\"/>");
    }
    let _ = write!(
        out,
        "<FRBRlanguage language=\"{lang}\"/></FRBRExpression>\
<FRBRManifestation><FRBRthis value=\"{expr}/!main.xml\"/><FRBRuri value=\"{expr}.akn\"/>\
<FRBRdate date=\"{date}\" name=\"manifestation\"/><FRBRauthor href=\"#amenda\"/>\
<FRBRformat value=\"application/akn+xml\"/></FRBRManifestation>\
</identification>",
        lang = attr(language(lang)),
    );
}

const REFERENCES: &str = "<references source=\"#amenda\">\
<TLCOrganization eId=\"amenda\" href=\"/ontology/organization/amenda\" showAs=\"Amenda\"/>\
</references>";

/// How a division is written: an AKN hierarchy element, or an `hcontainer` named after
/// its label's first word.
enum DivisionElement {
    Named(&'static str),
    /// The `name` of the `hcontainer`: the word's slug.
    Hcontainer(String),
}

/// The AKN element of a division, from the first word of its label.
fn division_element(label: &str) -> DivisionElement {
    let word = slug(label.split_whitespace().next().unwrap_or(""));
    DivisionElement::Named(match word.as_str() {
        "partie" | "part" => "part",
        "sous-partie" | "subpart" => "subpart",
        "livre" | "book" => "book",
        "tome" => "tome",
        "titre" | "title" => "title",
        "sous-titre" | "subtitle" => "subtitle",
        "chapitre" | "chapter" => "chapter",
        "sous-chapitre" | "subchapter" => "subchapter",
        "section" => "section",
        "sous-section" | "subsection" => "subsection",
        "" => return DivisionElement::Hcontainer("division".into()),
        _ => return DivisionElement::Hcontainer(word),
    })
}

/// Names of the AKN elements a division may be written as (besides `hcontainer`).
const DIVISIONS: &[&str] = &[
    "part",
    "subpart",
    "book",
    "tome",
    "title",
    "subtitle",
    "chapter",
    "subchapter",
    "section",
    "subsection",
    "hcontainer",
];

/// `hcontainer` name of the placeholder that keeps an empty version's body valid.
const EMPTY: &str = "amenda-empty";

fn ids(out: &mut String, u: &Unit) {
    let _ = write!(out, " eId=\"{}\"", attr(&u.eid));
    if !u.wid.is_empty() {
        let _ = write!(out, " wId=\"{}\"", attr(&u.wid));
    }
}

fn write_unit(out: &mut String, md: &str, units: &[Unit], children: &[Vec<usize>], i: usize) {
    let u = &units[i];
    match u.kind {
        UnitKind::Paragraph => {
            out.push_str("<paragraph");
            ids(out, u);
            out.push_str("><content><p>");
            esc(out, u.text(md));
            out.push_str("</p></content></paragraph>");
        }
        UnitKind::Article | UnitKind::Division => {
            let (open, close) = if u.kind == UnitKind::Article {
                ("article".to_string(), "article")
            } else {
                match division_element(u.num.as_deref().unwrap_or("")) {
                    DivisionElement::Named(e) => (e.to_string(), e),
                    DivisionElement::Hcontainer(name) => {
                        (format!("hcontainer name=\"{}\"", attr(&name)), "hcontainer")
                    }
                }
            };
            let _ = write!(out, "<{open}");
            ids(out, u);
            out.push('>');
            if let Some(n) = &u.num {
                let _ = write!(out, "<num>{}</num>", text(n));
            }
            if let Some(h) = &u.heading {
                let _ = write!(out, "<heading>{}</heading>", text(h));
            }
            if children[i].is_empty() {
                // The schema wants some content in a hierarchy element.
                out.push_str("<content><p/></content>");
            }
            for &c in &children[i] {
                write_unit(out, md, units, children, c);
            }
            let _ = write!(out, "</{close}>");
        }
    }
}

/// A bill version as an Akoma Ntoso `<akomaNtoso><bill>` document.
pub fn bill_version(meta: &VersionMeta<'_>, markdown: &str, units: &[Unit]) -> String {
    let mut out = String::with_capacity(markdown.len() * 2 + 2048);
    let _ = write!(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<akomaNtoso xmlns=\"{NS}\"><bill name=\"{}\"><meta>",
        attr(&seg(meta.slug))
    );
    identification(
        &mut out,
        &meta.work_uri(),
        &meta.expression_uri(),
        (meta.work_date, meta.date),
        &country(meta.jurisdiction),
        meta.language,
        Some(meta.number),
    );
    out.push_str(REFERENCES);
    let _ = write!(
        out,
        "</meta><preface><p class=\"title\"><docTitle>{}</docTitle></p></preface><body>",
        text(meta.title)
    );
    let mut children = vec![Vec::new(); units.len()];
    let mut roots = Vec::new();
    for (i, u) in units.iter().enumerate() {
        match u.parent {
            Some(p) if p < i => children[p].push(i),
            _ => roots.push(i),
        }
    }
    if roots.is_empty() {
        let _ = write!(
            out,
            "<hcontainer name=\"{EMPTY}\"><content><p/></content></hcontainer>"
        );
    }
    for i in roots {
        write_unit(&mut out, markdown, units, &children, i);
    }
    out.push_str("</body></bill></akomaNtoso>\n");
    out
}

/// What an amendment document says: the operations of one amendment on one article of
/// the version it was filed on.
#[derive(Debug, Clone)]
pub struct AmendmentDoc<'a> {
    /// The amended version.
    pub version: VersionMeta<'a>,
    /// The amendment's display number (`AM-budget-participatif-12`).
    pub number: &'a str,
    /// When it was filed (its date is used).
    pub date: &'a str,
    /// Its author as published (a name or a pseudonym).
    pub author: &'a str,
    /// The article (or division) it changes, in `version`.
    pub article: &'a Unit,
    /// That article's body (`domain::amendment::article_body`).
    pub body: &'a str,
    pub operations: &'a [Operation],
    /// Markdown; each block becomes a `<p>`, as text.
    pub justification: &'a str,
}

/// The textual modification type and old/new texts of an operation.
fn mod_parts(op: &Operation) -> (&'static str, Option<&str>, Option<&str>) {
    match op {
        Operation::Substitute { anchor, text } => ("substitution", Some(&anchor.quote), Some(text)),
        Operation::Insert { text, .. } => ("insertion", None, Some(text)),
        Operation::Repeal { anchor } => ("repeal", Some(&anchor.quote), None),
        Operation::RepealUnit { .. } => ("repeal", None, None),
        Operation::InsertArticle { markdown, .. } => ("insertion", None, Some(markdown)),
    }
}

fn blocks(out: &mut String, md: &str) {
    let mut any = false;
    for block in md.replace("\r\n", "\n").split("\n\n") {
        let b = block.trim();
        if b.is_empty() {
            continue;
        }
        any = true;
        let _ = write!(out, "<p>{}</p>", text(b));
    }
    if !any {
        out.push_str("<p/>");
    }
}

/// An amendment as an Akoma Ntoso `<akomaNtoso><amendment>` document with its
/// `activeModifications`.
pub fn amendment(doc: &AmendmentDoc<'_>) -> String {
    let v = &doc.version;
    let wording_lang = if v.language == "en" {
        Wording::En
    } else {
        Wording::Fr
    };
    let num = doc.article.num.as_deref().unwrap_or("");
    let work = format!(
        "/akn/{}/amendment/{}/{}",
        seg(&country(v.jurisdiction)),
        iso_date(doc.date),
        seg(doc.number)
    );
    let expr = format!("{work}/{}@", seg(lang3(v.language)));
    let destination = format!("{}/!main#{}", v.expression_uri(), doc.article.eid);
    let mut out = String::with_capacity(4096);
    let _ = write!(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<akomaNtoso xmlns=\"{NS}\"><amendment name=\"amendment\"><meta>"
    );
    identification(
        &mut out,
        &work,
        &expr,
        (doc.date, doc.date),
        &country(v.jurisdiction),
        v.language,
        None,
    );
    // activeModifications needs one modification: an amendment always has one, but the
    // document stays valid without.
    if !doc.operations.is_empty() {
        out.push_str("<analysis source=\"#amenda\"><activeModifications>");
    }
    for (k, op) in doc.operations.iter().enumerate() {
        let n = k + 1;
        let (ty, old, new) = mod_parts(op);
        let _ = write!(
            out,
            "<textualMod type=\"{ty}\" eId=\"mod_{n}\"><source href=\"#op_{n}\"/><destination href=\"{}\"/>",
            attr(&destination)
        );
        if old.is_some() {
            let _ = write!(out, "<old href=\"#op_{n}__old\"/>");
        }
        if new.is_some() {
            let _ = write!(out, "<new href=\"#op_{n}__new\"/>");
        }
        out.push_str("</textualMod>");
    }
    if !doc.operations.is_empty() {
        out.push_str("</activeModifications></analysis>");
    }
    out.push_str(REFERENCES);
    let _ = write!(
        out,
        "</meta><preface><p class=\"title\"><docNumber>{}</docNumber> — <docTitle>{}</docTitle></p>\
<p class=\"author\"><docProponent>{}</docProponent></p></preface>\
<amendmentBody><amendmentContent eId=\"content\">",
        text(doc.number),
        text(v.title),
        text(doc.author),
    );
    for (k, op) in doc.operations.iter().enumerate() {
        let n = k + 1;
        let wording = amendment::wording(wording_lang, num, doc.body, op);
        let _ = write!(out, "<p eId=\"op_{n}\">{}</p>", text(&wording));
        let (_, old, new) = mod_parts(op);
        if old.is_some() || new.is_some() {
            // Quoted texts live in a `mod` (the schema allows them nowhere else).
            let _ = write!(out, "<p class=\"texts\"><mod eId=\"op_{n}__texts\">");
            for (side, t) in [("old", old), ("new", new)] {
                if let Some(t) = t {
                    let _ = write!(
                        out,
                        "<quotedText eId=\"op_{n}__{side}\" class=\"{side}\">{}</quotedText>",
                        text(t)
                    );
                }
            }
            out.push_str("</mod></p>");
        }
    }
    if doc.operations.is_empty() {
        out.push_str("<p/>");
    }
    out.push_str("</amendmentContent><amendmentJustification eId=\"justification\">");
    blocks(&mut out, doc.justification);
    out.push_str("</amendmentJustification></amendmentBody></amendment></akomaNtoso>\n");
    out
}

/// A unit as read back from a `<bill>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadUnit {
    pub kind: UnitKind,
    pub eid: String,
    /// Empty when the unit had none.
    pub wid: String,
    pub num: Option<String>,
    pub heading: Option<String>,
    /// Index of the enclosing division or article, in this list.
    pub parent: Option<usize>,
    /// A paragraph's text (its markdown); None for divisions and articles.
    pub text: Option<String>,
}

/// What a bill document says besides its units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadBill {
    pub title: String,
    pub version: Option<i32>,
    pub language: String,
    pub units: Vec<ReadUnit>,
}

/// What the reader expects for a version: its units as [`read_bill`] gives them back.
pub fn expected(markdown: &str, units: &[Unit]) -> Vec<ReadUnit> {
    units
        .iter()
        .map(|u| ReadUnit {
            kind: u.kind,
            eid: u.eid.clone(),
            wid: u.wid.clone(),
            num: u.num.clone(),
            heading: u.heading.clone(),
            parent: u.parent,
            text: (u.kind == UnitKind::Paragraph).then(|| u.text(markdown).to_string()),
        })
        .collect()
}

/// Why an XML text is not a document [`read_bill`] or [`read_amendment`] can read back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AknError {
    #[error("{0}")]
    Xml(#[from] roxmltree::Error),
    #[error("not an akomaNtoso document")]
    NotAkomaNtoso,
    /// A required element (`<bill>`, `<meta>`, `FRBRExpression`…) is missing.
    #[error("no {0}")]
    Missing(&'static str),
    #[error("element {0:?} outside the AKN namespace")]
    OutsideNamespace(String),
    #[error("unexpected element <{0}>")]
    Unexpected(String),
    #[error("paragraph without content/p")]
    ParagraphWithoutText,
    #[error("not a local reference: {0}")]
    NotLocal(String),
    #[error("no element with eId {0}")]
    NoSuchEid(String),
}

fn akn<'a, 'i>(n: roxmltree::Node<'a, 'i>, name: &str) -> bool {
    n.is_element() && n.tag_name().name() == name && n.tag_name().namespace() == Some(NS)
}

fn child<'a, 'i>(n: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    n.children().find(|c| akn(*c, name))
}

fn all_text(n: roxmltree::Node<'_, '_>) -> String {
    n.descendants()
        .filter_map(|d| d.text().filter(|_| d.is_text()))
        .collect()
}

fn read_units(
    n: roxmltree::Node<'_, '_>,
    parent: Option<usize>,
    out: &mut Vec<ReadUnit>,
) -> Result<(), AknError> {
    for c in n.children().filter(|c| c.is_element()) {
        if c.tag_name().namespace() != Some(NS) {
            return Err(AknError::OutsideNamespace(c.tag_name().name().to_string()));
        }
        let name = c.tag_name().name();
        let kind = match name {
            "article" => UnitKind::Article,
            "paragraph" => UnitKind::Paragraph,
            "hcontainer" if c.attribute("name") == Some(EMPTY) => continue,
            _ if DIVISIONS.contains(&name) => UnitKind::Division,
            "num" | "heading" | "content" => continue,
            other => return Err(AknError::Unexpected(other.to_string())),
        };
        let text = (kind == UnitKind::Paragraph)
            .then(|| {
                child(c, "content")
                    .and_then(|ct| child(ct, "p"))
                    .map(all_text)
            })
            .map(|t| t.ok_or(AknError::ParagraphWithoutText))
            .transpose()?;
        let idx = out.len();
        out.push(ReadUnit {
            kind,
            eid: c.attribute("eId").unwrap_or("").to_string(),
            wid: c.attribute("wId").unwrap_or("").to_string(),
            num: child(c, "num").map(all_text),
            heading: child(c, "heading").map(all_text),
            parent,
            text,
        });
        if kind != UnitKind::Paragraph {
            read_units(c, Some(idx), out)?;
        }
    }
    Ok(())
}

/// Reads the units of a `<bill>` written by [`bill_version`].
pub fn read_bill(xml: &str) -> Result<ReadBill, AknError> {
    let doc = roxmltree::Document::parse(xml)?;
    let root = doc.root_element();
    if !akn(root, "akomaNtoso") {
        return Err(AknError::NotAkomaNtoso);
    }
    let bill = child(root, "bill").ok_or(AknError::Missing("<bill>"))?;
    let meta = child(bill, "meta").ok_or(AknError::Missing("<meta>"))?;
    let expr = child(meta, "identification")
        .and_then(|i| child(i, "FRBRExpression"))
        .ok_or(AknError::Missing("FRBRExpression"))?;
    let version = child(expr, "FRBRversionNumber")
        .and_then(|v| v.attribute("value"))
        .and_then(|v| v.parse().ok());
    let language = child(expr, "FRBRlanguage")
        .and_then(|v| v.attribute("language"))
        .unwrap_or("")
        .to_string();
    let title = bill
        .descendants()
        .find(|n| akn(*n, "docTitle"))
        .map(all_text)
        .unwrap_or_default();
    let body = child(bill, "body").ok_or(AknError::Missing("<body>"))?;
    let mut units = Vec::new();
    read_units(body, None, &mut units)?;
    Ok(ReadBill {
        title,
        version,
        language,
        units,
    })
}

/// A textual modification as read back from an `<amendment>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadMod {
    pub kind: String,
    pub destination: String,
    pub old: Option<String>,
    pub new: Option<String>,
    /// The formal wording its `source` points at.
    pub wording: String,
}

/// Reads the `activeModifications` of an `<amendment>` written by [`amendment`], with
/// the texts their `source`, `old` and `new` point at.
pub fn read_amendment(xml: &str) -> Result<Vec<ReadMod>, AknError> {
    let doc = roxmltree::Document::parse(xml)?;
    let root = doc.root_element();
    let am = child(root, "amendment").ok_or(AknError::Missing("<amendment>"))?;
    let by_eid = |href: Option<&str>| -> Result<Option<String>, AknError> {
        let Some(h) = href else { return Ok(None) };
        let id = h
            .strip_prefix('#')
            .ok_or_else(|| AknError::NotLocal(h.to_string()))?;
        am.descendants()
            .find(|n| n.is_element() && n.attribute("eId") == Some(id))
            .map(|n| Some(all_text(n)))
            .ok_or_else(|| AknError::NoSuchEid(id.to_string()))
    };
    let mut out = Vec::new();
    for m in am.descendants().filter(|n| akn(*n, "textualMod")) {
        let href = |name: &str| child(m, name).and_then(|c| c.attribute("href"));
        out.push(ReadMod {
            kind: m.attribute("type").unwrap_or("").to_string(),
            destination: href("destination").unwrap_or("").to_string(),
            old: by_eid(href("old"))?,
            new: by_eid(href("new"))?,
            wording: by_eid(href("source"))?.unwrap_or_default(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::{assign_wids, parse, WidAllocator};

    const MD: &str = "Préambule <b>&amp;</b>.\r\n\r\n# Titre Ier : Dispositions « générales »\n\n## Chapitre Ier : Objet\n\nIntro du chapitre.\n\n### Article 1er\n\nLa présente loi a pour *objet* :\n1° aux communes ;\n\n### Article 2\n\n## Paragraphe 2 : Divers\n\n####### Article L. 111-2\n\nTexte \u{1} avec un contrôle.\n";

    fn meta() -> VersionMeta<'static> {
        VersionMeta {
            slug: "loi-test",
            title: "Loi « test » & essai",
            language: "fr",
            jurisdiction: "République française",
            number: 2,
            date: "2026-03-04T10:00:00Z",
            work_date: "2026-02-10",
        }
    }

    fn units(md: &str, wids: bool) -> Vec<Unit> {
        let mut units = parse(md).units;
        if wids {
            let mut alloc = WidAllocator::new(0);
            assign_wids(None, md, &mut units, &mut alloc);
        }
        units
    }

    #[test]
    fn a_version_round_trips() {
        for wids in [false, true] {
            let us = units(MD, wids);
            let xml = bill_version(&meta(), MD, &us);
            let read = read_bill(&xml).unwrap();
            assert_eq!(read.title, "Loi « test » & essai");
            assert_eq!(read.version, Some(2));
            assert_eq!(read.language, "fr");
            let mut want = expected(MD, &us);
            // The control character XML cannot carry is the one thing not kept.
            for u in &mut want {
                if let Some(t) = &mut u.text {
                    *t = t.replace('\u{1}', "\u{FFFD}");
                }
            }
            assert_eq!(read.units, want);
            assert!(xml.contains("<content><p>Préambule &lt;b&gt;&amp;amp;&lt;/b&gt;.</p>"));
            assert!(xml.contains("<title eId=\"titre_ier\""));
            assert!(xml.contains("<chapter eId=\"titre_ier__chapitre_ier\""));
            assert!(xml.contains("<hcontainer name=\"paragraphe\""));
            assert!(xml.contains("<article eId=\"art_2\""));
            assert!(
                xml.contains("<FRBRthis value=\"/akn/fr/bill/2026-02-10/loi-test/fra@v2/!main\"/>")
            );
            assert_eq!(xml.contains(" wId=\""), wids);
        }
    }

    #[test]
    fn multiline_paragraphs_keep_their_crlf() {
        let md = "# Article 1\r\n\r\nUn\r\ndeux\r\n";
        let us = units(md, true);
        let read = read_bill(&bill_version(&meta(), md, &us)).unwrap();
        assert_eq!(read.units[1].text.as_deref(), Some("Un\r\ndeux"));
        assert_eq!(read.units, expected(md, &us));
    }

    #[test]
    fn an_empty_version_has_a_body() {
        let xml = bill_version(&meta(), "", &[]);
        assert!(xml.contains("<body><hcontainer name=\"amenda-empty\">"));
        assert!(read_bill(&xml).unwrap().units.is_empty());
    }

    #[test]
    fn countries() {
        assert_eq!(country("République française"), "fr");
        assert_eq!(country("BE"), "be");
        assert_eq!(country("City of Eastmere"), "city-of-eastmere");
        assert_eq!(country(""), "xx");
    }

    #[test]
    fn an_amendment_lists_its_modifications() {
        let md = "# Article 3\n\nLe délai est de trois mois.\n\nIl court <toujours>.\n";
        let us = units(md, true);
        let art = &us[0];
        let body = amendment::article_body(art.text(md));
        let new = "Le délai est de six mois.\n\nIl court.";
        let mut ops = amendment::derive(&art.wid, body, new).unwrap();
        ops.push(Operation::RepealUnit {
            wid: art.wid.clone(),
        });
        let doc = AmendmentDoc {
            version: meta(),
            number: "AM-loi-test-12",
            date: "2026-03-05T09:00:00Z",
            author: "Camille <script>",
            article: art,
            body,
            operations: &ops,
            justification: "Parce que.\n\nEt <aussi>.",
        };
        let xml = amendment(&doc);
        assert!(xml.contains("<amendmentJustification eId=\"justification\"><p>Parce que.</p><p>Et &lt;aussi&gt;.</p>"));
        assert!(xml.contains("Camille &lt;script&gt;"));
        let mods = read_amendment(&xml).unwrap();
        assert_eq!(mods.len(), 3);
        assert_eq!(mods[0].kind, "substitution");
        assert_eq!(mods[0].old.as_deref(), Some("trois"));
        assert_eq!(mods[0].new.as_deref(), Some("six"));
        assert_eq!(
            mods[0].destination,
            "/akn/fr/bill/2026-02-10/loi-test/fra@v2/!main#art_3"
        );
        assert!(mods[0]
            .wording
            .starts_with("À l'alinéa 1 de l'article 3, remplacer"));
        assert_eq!(mods[1].kind, "repeal");
        assert_eq!(mods[1].old.as_deref(), Some(" <toujours>"));
        assert_eq!(mods[2].kind, "repeal");
        assert_eq!(
            (mods[2].old.as_deref(), mods[2].new.as_deref()),
            (None, None)
        );
        assert_eq!(mods[2].wording, "Supprimer l'article 3.");
    }

    #[test]
    fn what_cannot_be_read_back_says_why() {
        let doc = |inner: &str| format!("<akomaNtoso xmlns=\"{NS}\">{inner}</akomaNtoso>");
        assert!(matches!(read_bill("<a>"), Err(AknError::Xml(_))));
        let e = read_bill("<html/>").unwrap_err();
        assert_eq!(e.to_string(), "not an akomaNtoso document");
        let e = read_bill(&doc("<act/>")).unwrap_err();
        assert_eq!(
            (e.clone(), e.to_string()),
            (AknError::Missing("<bill>"), "no <bill>".into())
        );
        let e = read_bill(&doc(
            "<bill><meta><identification><FRBRExpression/></identification></meta>\
             <body><article><other/></article></body></bill>",
        ))
        .unwrap_err();
        assert_eq!(e.to_string(), "unexpected element <other>");
        let e = read_amendment(&doc(
            "<amendment><analysis><textualMod type=\"repeal\"><old href=\"#gone\"/></textualMod></analysis></amendment>",
        ))
        .unwrap_err();
        assert_eq!(e.to_string(), "no element with eId gone");
    }
}

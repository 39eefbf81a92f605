//! The unit: one division, article or paragraph of one bill version.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UnitKind {
    /// A grouping heading: Partie, Livre, Titre, Chapitre, Section, Part, Chapter…
    Division,
    /// An article heading and the paragraphs below it.
    Article,
    /// One block of text (an alinéa).
    Paragraph,
}

impl UnitKind {
    pub fn as_str(self) -> &'static str {
        match self {
            UnitKind::Division => "division",
            UnitKind::Article => "article",
            UnitKind::Paragraph => "paragraph",
        }
    }

    pub fn parse(s: &str) -> Option<UnitKind> {
        match s {
            "division" => Some(UnitKind::Division),
            "article" => Some(UnitKind::Article),
            "paragraph" => Some(UnitKind::Paragraph),
            _ => None,
        }
    }

    /// One-letter prefix of work ids, so that a wid says what it names.
    pub fn wid_prefix(self) -> char {
        match self {
            UnitKind::Division => 'd',
            UnitKind::Article => 'a',
            UnitKind::Paragraph => 'p',
        }
    }
}

/// A unit of a version. Units of a version are stored in document order; `parent` is the
/// index (in that order) of the enclosing division or article.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unit {
    pub kind: UnitKind,
    /// Stable work id, kept across versions by matching (empty until assigned).
    pub wid: String,
    /// Readable citation id of this version, e.g. `art_3__para_2`.
    pub eid: String,
    /// Article number (`L111-1`, `4 bis`) or division label (`Titre Ier`); none for paragraphs.
    pub num: Option<String>,
    /// Full heading text for divisions and articles.
    pub heading: Option<String>,
    /// Heading depth (number of `#`) for divisions and articles; for paragraphs, 0.
    pub depth: u8,
    pub parent: Option<usize>,
    /// Byte range in the version's markdown: heading line for a division, heading and body
    /// for an article, the block for a paragraph (trailing blank lines excluded).
    pub start: usize,
    pub end: usize,
    /// Lowercase hex SHA-256 of `markdown[start..end]`.
    pub sha256: String,
}

impl Unit {
    pub fn text<'a>(&self, markdown: &'a str) -> &'a str {
        &markdown[self.start..self.end]
    }
}

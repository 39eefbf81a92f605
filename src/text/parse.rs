//! The bill dialect (docs/markdown.md): ATX headings are divisions or articles, every
//! other block is a paragraph. Headings are recognised line by line rather than through
//! CommonMark, because real codes use 7 to 9 `#`, which CommonMark reads as paragraphs.

use super::hash::sha256_hex;
use super::units::{Unit, UnitKind};
use rustc_hash::FxHashMap as HashMap;
use unicode_normalization::UnicodeNormalization;

/// Something odd but tolerated in a version, reported to the importer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseWarning {
    /// 1-based line number.
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for ParseWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

#[derive(Debug, Clone)]
pub struct ParsedVersion {
    /// Units in document order, without work ids (see `matching::assign_wids`).
    pub units: Vec<Unit>,
    pub warnings: Vec<ParseWarning>,
}

/// A heading line: its depth and its text (closing `#`s and spaces removed).
fn heading(line: &str) -> Option<(u8, &str)> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    if indent > 3 {
        return None;
    }
    let rest = &line[indent..];
    let hashes = rest.len() - rest.trim_start_matches('#').len();
    if hashes == 0 {
        return None;
    }
    let after = &rest[hashes..];
    if !after.is_empty() && !after.starts_with([' ', '\t']) {
        return None;
    }
    let mut text = after.trim();
    // An optional closing sequence of `#`, preceded by a space (CommonMark).
    let stripped = text.trim_end_matches('#');
    if stripped.len() != text.len() && (stripped.is_empty() || stripped.ends_with([' ', '\t'])) {
        text = stripped.trim_end();
    }
    Some((hashes.min(u8::MAX as usize) as u8, text))
}

/// A setext heading underline (CommonMark): up to three spaces, then a run of `=` (depth
/// 1) or of `-` (depth 2), then only spaces or tabs.
fn setext_underline(line: &str) -> Option<u8> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    if indent > 3 {
        return None;
    }
    let rest = line[indent..].trim_end_matches([' ', '\t']);
    let first = rest.bytes().next()?;
    if !matches!(first, b'=' | b'-') || !rest.bytes().all(|c| c == first) {
        return None;
    }
    Some(if first == b'=' { 1 } else { 2 })
}

/// Whether a line opens a block that CommonMark does not read as paragraph text — a list
/// item, a block quote, a code fence — so that an underline below it is no setext
/// heading (`- a` then `---` is a list and a thematic break, as CommonMark reads it).
fn opens_container(line: &str) -> bool {
    let t = line.trim_start_matches(' ');
    if line.len() - t.len() > 3 {
        return false;
    }
    if t.starts_with('>') || t.starts_with("```") || t.starts_with("~~~") {
        return true;
    }
    let bullet = t.len() > 1 && t.starts_with(['-', '*', '+']) && t[1..].starts_with([' ', '\t']);
    let digits = t.len() - t.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let ordered = (1..=9).contains(&digits)
        && t[digits..].starts_with(['.', ')'])
        && (t.len() == digits + 1 || t[digits + 1..].starts_with([' ', '\t']));
    bullet || ordered
}

/// Whether a line of text reads like an article heading that is not one (`Article 165`,
/// `ARTICLE L111-2`, `Article premier` as plain text): a sign that a law's headings were
/// missed. The number must start with a digit, or be a letter prefix with a digit
/// (`L111-2`, `R*321-1`), or an ordinal word.
fn looks_like_article_line(line: &str) -> bool {
    let Some(num) = article_number(line.trim()) else {
        return false;
    };
    let token = num.split_whitespace().next().unwrap_or("");
    let lower = token.to_lowercase();
    token.starts_with(|c: char| c.is_ascii_digit())
        || (token.starts_with(|c: char| c.is_ascii_uppercase())
            && token.chars().take(5).any(|c| c.is_ascii_digit()))
        || matches!(
            lower.as_str(),
            "premier" | "1er" | "unique" | "liminaire" | "préliminaire"
        )
}

/// The start of the warning for a version without any article.
pub const NO_ARTICLE: &str = "no article";

/// The warning for a version of a bill that has no article at all, unless the parse
/// already gave one (with the line that looked like an article): a bill is a law, so a
/// text without articles is most likely headings the dialect did not read.
pub fn no_article_warning(units: &[Unit], warnings: &[ParseWarning]) -> Option<ParseWarning> {
    let has_article = units.iter().any(|u| u.kind == UnitKind::Article);
    let warned = warnings.iter().any(|w| w.message.starts_with(NO_ARTICLE));
    (!has_article && !warned).then(|| ParseWarning {
        line: 1,
        message: format!(
            "{NO_ARTICLE}: this version has no article heading (`# Article 1`, or `Article 1` underlined by `---` or `===`); its text is read as divisions and paragraphs only"
        ),
    })
}

/// The number of an article heading (`Article 4 bis` → `4 bis`), or None for a division.
pub fn article_number(heading_text: &str) -> Option<&str> {
    let mut parts = heading_text.splitn(2, char::is_whitespace);
    let word = parts.next()?;
    let rest = parts.next()?.trim();
    if word.eq_ignore_ascii_case("article") && !rest.is_empty() {
        Some(rest)
    } else {
        None
    }
}

/// Lowercase ASCII slug for ids: accents dropped, other characters folded to `-`.
pub fn slug(text: &str) -> String {
    // ASCII is its own decomposition: skip the NFD iterator, slow for every heading.
    if text.is_ascii() {
        slug_of(text, text.chars())
    } else {
        slug_of(text, text.nfd())
    }
}

fn slug_of(text: &str, chars: impl Iterator<Item = char>) -> String {
    let mut out = String::with_capacity(text.len());
    for c in chars {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if (c.is_alphanumeric() || c.is_whitespace() || c.is_ascii_punctuation())
            && !out.is_empty()
            && !out.ends_with('-')
        {
            out.push('-');
        }
        // Combining marks and other symbols are dropped.
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

/// The label of a division heading: the part before ` : ` when short, else its first two
/// words (`Chapitre Ier : Nature du droit d'auteur` → `Chapitre Ier`).
fn division_label(text: &str) -> String {
    if let Some((head, _)) = text.split_once(" : ").or_else(|| text.split_once(": ")) {
        if head.split_whitespace().count() <= 4 && !head.trim().is_empty() {
            return head.trim().to_string();
        }
    }
    text.split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ")
}

struct Builder {
    units: Vec<Unit>,
    warnings: Vec<ParseWarning>,
    /// Open divisions: (depth, unit index).
    divisions: Vec<(u8, usize)>,
    article: Option<usize>,
    /// Paragraph counters per parent (None = document root).
    para_counts: HashMap<Option<usize>, usize>,
    eid_counts: HashMap<String, usize>,
    /// First line of each article number, to report duplicates.
    article_lines: HashMap<String, usize>,
}

impl Builder {
    fn unique_eid(&mut self, base: String) -> String {
        if let Some(n) = self.eid_counts.get_mut(&base) {
            *n += 1;
            return format!("{base}-dup{n}");
        }
        self.eid_counts.insert(base.clone(), 1);
        base
    }

    fn close_article(&mut self) {
        self.article = None;
    }

    fn push(&mut self, unit: Unit) -> usize {
        self.units.push(unit);
        self.units.len() - 1
    }

    fn heading(&mut self, depth: u8, text: &str, start: usize, end: usize, line_no: usize) {
        self.close_article();
        if let Some(num) = article_number(text) {
            while matches!(self.divisions.last(), Some(&(d, _)) if d >= depth) {
                self.divisions.pop();
            }
            let parent = self.divisions.last().map(|&(_, i)| i);
            let key = normalize_num(num);
            if let Some(first) = self.article_lines.get(&key) {
                self.warnings.push(ParseWarning {
                    line: line_no,
                    message: format!(
                        "duplicate article number \"{num}\" (first at line {first}); kept as a distinct unit"
                    ),
                });
            } else {
                self.article_lines.insert(key, line_no);
            }
            let eid = self.unique_eid(format!("art_{}", slug(num)));
            let idx = self.push(Unit {
                kind: UnitKind::Article,
                wid: String::new(),
                eid,
                num: Some(num.to_string()),
                heading: Some(text.to_string()),
                depth,
                parent,
                start,
                end,
                sha256: String::new(),
            });
            self.article = Some(idx);
        } else {
            while matches!(self.divisions.last(), Some(&(d, _)) if d >= depth) {
                self.divisions.pop();
            }
            let parent = self.divisions.last().map(|&(_, i)| i);
            let label = division_label(text);
            let mut piece = slug(&label).replacen('-', "_", 1);
            if piece.is_empty() {
                piece = "div".to_string();
            }
            let base = match parent {
                Some(p) => format!("{}__{}", self.units[p].eid, piece),
                None => piece,
            };
            let eid = self.unique_eid(base);
            let idx = self.push(Unit {
                kind: UnitKind::Division,
                wid: String::new(),
                eid,
                num: Some(label),
                heading: Some(text.to_string()),
                depth,
                parent,
                start,
                end,
                sha256: String::new(),
            });
            self.divisions.push((depth, idx));
        }
    }

    fn paragraph(&mut self, start: usize, end: usize) {
        let parent = self
            .article
            .or_else(|| self.divisions.last().map(|&(_, i)| i));
        let n = self.para_counts.entry(parent).or_insert(0);
        *n += 1;
        let n = *n;
        let eid = match parent {
            Some(p) => format!("{}__para_{n}", self.units[p].eid),
            None => format!("para_{n}"),
        };
        self.push(Unit {
            kind: UnitKind::Paragraph,
            wid: String::new(),
            eid,
            num: None,
            heading: None,
            depth: 0,
            parent,
            start,
            end,
            sha256: String::new(),
        });
        if let Some(a) = self.article {
            self.units[a].end = end;
        }
    }
}

/// Article numbers compared loosely: `L. 122-5` and `L122-5` are the same article.
pub fn normalize_num(num: &str) -> String {
    if num.is_ascii() {
        // The same as below (ASCII white space of `char::is_whitespace`), byte by byte:
        // numbers are nearly always ASCII, and this runs for every article when matching.
        return num
            .bytes()
            .filter(|b| !matches!(b, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ' | b'.'))
            .map(|b| char::from(b.to_ascii_lowercase()))
            .collect();
    }
    num.chars()
        .filter(|c| !c.is_whitespace() && *c != '.')
        .flat_map(char::to_lowercase)
        .collect()
}

/// Splits a version's markdown into units. Never fails: any text is a valid (if odd)
/// version; oddities are reported as warnings.
pub fn parse(markdown: &str) -> ParsedVersion {
    let mut parsed = parse_unhashed(markdown);
    hash_units(markdown, &mut parsed.units);
    parsed
}

/// Sets every unit's `sha256`.
pub fn hash_units(markdown: &str, units: &mut [Unit]) {
    let bytes = markdown.as_bytes();
    for u in units {
        u.sha256 = sha256_hex(&bytes[u.start..u.end]);
    }
}

/// `parse` without the digests (`sha256` left empty): matching and comparing only need
/// the texts, so the hashing, a fifth of the time, can run on another core meanwhile.
pub fn parse_unhashed(markdown: &str) -> ParsedVersion {
    let mut b = Builder {
        // Codes run at 150 to 200 bytes a unit: room for all of them at once, where a
        // growing vector would copy its units and touch twice the memory (most of the
        // cost of a one-shot `amenda diff` is first touches of fresh pages).
        units: Vec::with_capacity(markdown.len() / 128 + 8),
        warnings: Vec::new(),
        divisions: Vec::new(),
        article: None,
        para_counts: HashMap::default(),
        eid_counts: HashMap::default(),
        article_lines: HashMap::default(),
    };
    let mut block: Option<(usize, usize)> = None;
    // The open block's first line number, and whether an underline may still make it a
    // setext heading (no line of it opens a list, a quote or a fence; CommonMark).
    let mut block_line = 0;
    let mut setext_ok = false;
    // The first text line that reads like an article heading (for the warning below).
    let mut article_like: Option<(usize, &str)> = None;
    let mut pos = 0;
    for (line_no, raw) in markdown.split_inclusive('\n').enumerate() {
        let line_start = pos;
        pos += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        let line_end = line_start + line.len();
        if let Some((depth, text)) = heading(line) {
            if let Some((s, e)) = block.take() {
                b.paragraph(s, e);
            }
            b.heading(depth, text, line_start, line_end, line_no + 1);
        } else if line.trim().is_empty() {
            if let Some((s, e)) = block.take() {
                b.paragraph(s, e);
            }
        } else if let (Some(depth), Some((s, e)), true) = (setext_underline(line), block, setext_ok)
        {
            // The paragraph line(s) above are the heading's text; its range covers them
            // and the underline. An underline after a blank line stays text (below).
            block = None;
            let text = markdown[s..e]
                .lines()
                .map(str::trim)
                .collect::<Vec<_>>()
                .join(" ");
            b.heading(depth, &text, s, line_end, block_line);
        } else {
            if article_like.is_none() && looks_like_article_line(line) {
                article_like = Some((line_no + 1, line.trim()));
            }
            match &mut block {
                Some((_, e)) => {
                    *e = line_end;
                    setext_ok &= !opens_container(line);
                }
                None => {
                    block = Some((line_start, line_end));
                    block_line = line_no + 1;
                    let indent = line.len() - line.trim_start_matches(' ').len();
                    setext_ok = indent <= 3 && !opens_container(line);
                }
            }
        }
    }
    if let Some((s, e)) = block.take() {
        b.paragraph(s, e);
    }
    b.close_article();
    if let Some((line, text)) = article_like {
        if !b.units.iter().any(|u| u.kind == UnitKind::Article) {
            b.warnings.push(ParseWarning {
                line,
                message: format!(
                    "{NO_ARTICLE}: this text has no article heading, though this line reads \"{text}\"; an article heading is `# {text}`, or `{text}` underlined by `---` or `===`"
                ),
            });
        }
    }
    ParsedVersion {
        units: b.units,
        warnings: b.warnings,
    }
}

/// Where a heading that starts at byte `start` ends: its line for an ATX heading, its
/// underline for a setext one.
fn heading_end(markdown: &str, start: usize) -> usize {
    let mut pos = start;
    for raw in markdown[start..].split_inclusive('\n') {
        let line = raw.trim_end_matches(['\n', '\r']);
        let end = pos + line.len();
        if (pos == start && heading(line).is_some())
            || (pos > start && setext_underline(line).is_some())
        {
            return end;
        }
        pos += raw.len();
    }
    markdown.len()
}

/// The text of one file of a code kept one file per article, ready to be put at its
/// place in the whole text: its headings rewritten as ATX headings, the shallowest at
/// `depth` (the others as deep below it as they were), text before the first heading
/// moved after it (it belongs to this article, not to the one before), ending with one
/// newline. None when the file has no article heading (a README, notes).
pub fn article_file_at_depth(markdown: &str, depth: u8) -> Option<String> {
    let parsed = parse_unhashed(markdown);
    if !parsed.units.iter().any(|u| u.kind == UnitKind::Article) {
        return None;
    }
    let headings: Vec<&Unit> = parsed
        .units
        .iter()
        .filter(|u| u.kind != UnitKind::Paragraph)
        .collect();
    let min = headings.iter().map(|u| u.depth).min().unwrap_or(1);
    let mut out = String::with_capacity(markdown.len() + 16);
    let mut prelude = "";
    let mut cursor = 0;
    for (i, u) in headings.iter().enumerate() {
        let between = &markdown[cursor..u.start];
        if i == 0 {
            prelude = between.trim();
        } else {
            out.push_str(between);
        }
        let d = (u.depth - min).saturating_add(depth);
        out.extend(std::iter::repeat_n('#', d as usize));
        out.push(' ');
        out.push_str(u.heading.as_deref().unwrap_or(""));
        if i == 0 && !prelude.is_empty() {
            out.push_str("\n\n");
            // The heading line's own line end follows (the rest of the file).
            out.push_str(prelude);
        }
        cursor = heading_end(markdown, u.start);
    }
    out.push_str(&markdown[cursor..]);
    let end = out.trim_end().len();
    out.truncate(end);
    out.push('\n');
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "# Titre Ier : Dispositions générales\n\n## Chapitre Ier : Objet\n\n### Article 1er\n\nLa présente loi a pour objet.\n\nElle s'applique :\n1° aux communes ;\n\n####### Article L. 111-2\n\nTexte.\n\n## Chapitre II : Suite\n\n### Article 1er\n\nDoublon.\n";

    #[test]
    fn headings_at_any_depth() {
        assert_eq!(
            heading("####### Article L111-1"),
            Some((7, "Article L111-1"))
        );
        assert_eq!(heading("## Titre ##"), Some((2, "Titre")));
        assert_eq!(heading("#hashtag"), None);
        assert_eq!(heading("    # code"), None);
        assert_eq!(heading("Texte"), None);
    }

    #[test]
    fn units_ranges_and_parents() {
        let p = parse(SAMPLE);
        let kinds: Vec<_> = p.units.iter().map(|u| u.kind).collect();
        use UnitKind::*;
        assert_eq!(
            kinds,
            vec![
                Division, Division, Article, Paragraph, Paragraph, Article, Paragraph, Division,
                Article, Paragraph
            ]
        );
        let art1 = &p.units[2];
        assert_eq!(art1.num.as_deref(), Some("1er"));
        assert_eq!(art1.eid, "art_1er");
        assert_eq!(art1.parent, Some(1));
        assert!(art1.text(SAMPLE).starts_with("### Article 1er"));
        assert!(art1.text(SAMPLE).ends_with("1° aux communes ;"));
        assert_eq!(
            p.units[4].text(SAMPLE),
            "Elle s'applique :\n1° aux communes ;"
        );
        assert_eq!(p.units[4].eid, "art_1er__para_2");
        assert_eq!(p.units[5].eid, "art_l-111-2");
        assert_eq!(p.units[5].depth, 7);
        assert_eq!(p.units[1].eid, "titre_ier__chapitre_ier");
        assert_eq!(p.units[1].num.as_deref(), Some("Chapitre Ier"));
        // The duplicate is a distinct unit, with a distinct id and a warning.
        assert_eq!(p.units[8].eid, "art_1er-dup2");
        assert_eq!(p.warnings.len(), 1);
        assert_eq!(p.warnings[0].line, 18);
        for u in &p.units {
            assert_eq!(u.sha256, sha256_hex(u.text(SAMPLE).as_bytes()));
        }
    }

    #[test]
    fn text_before_any_heading_is_a_root_paragraph() {
        let p = parse("Préambule.\r\n\r\n# Titre\r\n");
        assert_eq!(p.units[0].kind, UnitKind::Paragraph);
        assert_eq!(p.units[0].eid, "para_1");
        assert_eq!(
            p.units[0].text("Préambule.\r\n\r\n# Titre\r\n"),
            "Préambule."
        );
        assert_eq!(p.units[1].heading.as_deref(), Some("Titre"));
    }

    #[test]
    fn setext_headings_are_articles_and_divisions() {
        let md = "Titre Ier\n=========\n\nArticle 165\n-----------\n\nLe mariage est célébré.\n\nArticle 166\n===\nTexte.\n";
        let p = parse(md);
        use UnitKind::*;
        let kinds: Vec<_> = p.units.iter().map(|u| u.kind).collect();
        assert_eq!(
            kinds,
            vec![Division, Article, Paragraph, Article, Paragraph]
        );
        // The division: heading and underline.
        assert_eq!(p.units[0].text(md), "Titre Ier\n=========");
        assert_eq!(p.units[0].depth, 1);
        assert_eq!(p.units[0].heading.as_deref(), Some("Titre Ier"));
        // `---` is depth 2, under the division; the range covers heading to body.
        let a = &p.units[1];
        assert_eq!((a.depth, a.parent), (2, Some(0)));
        assert_eq!(a.num.as_deref(), Some("165"));
        assert_eq!(
            a.text(md),
            "Article 165\n-----------\n\nLe mariage est célébré."
        );
        // `===` is depth 1: Article 166 is outside the Titre.
        assert_eq!((p.units[3].depth, p.units[3].parent), (1, None));
        assert_eq!(p.units[3].text(md), "Article 166\n===\nTexte.");
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
        for u in &p.units {
            assert_eq!(u.sha256, sha256_hex(u.text(md).as_bytes()));
        }
    }

    #[test]
    fn setext_underlines_follow_commonmark() {
        use UnitKind::*;
        let kinds = |md: &str| parse(md).units.iter().map(|u| u.kind).collect::<Vec<_>>();
        // After a blank line, `---` is a thematic break: kept as text, as before.
        let md = "# Article 1\n\nTexte.\n\n---\n\nSuite.\n";
        assert_eq!(kinds(md), vec![Article, Paragraph, Paragraph, Paragraph]);
        assert_eq!(parse(md).units[2].text(md), "---");
        // A paragraph of two lines, underlined: one heading of both lines (CommonMark).
        let md = "# Article 1\n\nLes dispositions\ndu présent titre\n---\n";
        let p = parse(md);
        assert_eq!(kinds(md), vec![Article, Division]);
        assert_eq!(
            p.units[1].heading.as_deref(),
            Some("Les dispositions du présent titre")
        );
        assert_eq!(p.units[1].start, md.find("Les").unwrap());
        assert_eq!(p.units[1].end, md.len() - 1);
        // Under a list item, a quote or a fence, an underline is no heading.
        for md in [
            "- un point\n---\n",
            "1. un point\n---\n",
            "> citation\n===\n",
            "```\ncode\n---\n",
            "Texte\n- point\n---\n",
            "    code\n---\n",
        ] {
            assert_eq!(kinds(md), vec![Paragraph], "{md:?}");
        }
        // Not underlines: mixed, spaced, or indented four spaces.
        for md in ["Titre\n-=-\n", "Titre\n- - -\n", "Titre\n    ---\n"] {
            assert_eq!(kinds(md), vec![Paragraph], "{md:?}");
        }
        // An ATX heading then an underline: the underline is text of its own.
        assert_eq!(kinds("# Titre\n---\n"), vec![Division, Paragraph]);
        // CRLF and trailing spaces.
        let md = "Article 2\r\n---  \r\n\r\nTexte.\r\n";
        let p = parse(md);
        assert_eq!(kinds(md), vec![Article, Paragraph]);
        assert_eq!(p.units[0].text(md), "Article 2\r\n---  \r\n\r\nTexte.");
    }

    #[test]
    fn a_text_that_looks_like_a_law_without_articles_is_warned() {
        // The issue's case before setext headings: `Article 165` as plain text.
        let md = "Livre Ier\n\nArticle 165\n\nLe mariage est célébré.\n";
        let p = parse(md);
        assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
        assert_eq!(p.warnings[0].line, 3);
        assert!(p.warnings[0].message.starts_with(NO_ARTICLE));
        assert!(p.warnings[0].message.contains("\"Article 165\""));
        assert_eq!(no_article_warning(&p.units, &p.warnings), None);
        // Once it is a heading, no warning.
        assert!(parse("# Article 165\n\nArticle 3 du code.\n")
            .warnings
            .is_empty());
        // A text with no such line: no parse warning, but a bill version gets one.
        let p = parse("# Préambule\n\nUne charte sans articles.\n");
        assert!(p.warnings.is_empty());
        let w = no_article_warning(&p.units, &p.warnings).unwrap();
        assert!(w.message.starts_with(NO_ARTICLE), "{w}");
        // Words after "Article" that are no number do not count.
        for line in [
            "Article unique",
            "ARTICLE L111-2",
            "Article premier",
            "Article 4 bis",
        ] {
            assert!(looks_like_article_line(line), "{line}");
        }
        for line in [
            "Article",
            "Article de presse",
            "Articles 3 et 4",
            "Article lu",
        ] {
            assert!(!looks_like_article_line(line), "{line}");
        }
    }

    #[test]
    fn an_article_file_at_its_depth() {
        let f = "Article 165\n-----------\n\nLe mariage est célébré.\n\n\n";
        assert_eq!(
            article_file_at_depth(f, 4).unwrap(),
            "#### Article 165\n\nLe mariage est célébré.\n"
        );
        let f = "## Article 1\r\n\r\nTexte.\r\n\r\n### Section\r\n\r\nSuite.";
        assert_eq!(
            article_file_at_depth(f, 1).unwrap(),
            "# Article 1\r\n\r\nTexte.\r\n\r\n## Section\r\n\r\nSuite.\n"
        );
        // Text before the heading stays with the article, after its heading.
        assert_eq!(
            article_file_at_depth("Version du 1er mai.\n\n# Article 2\n\nTexte.\n", 2).unwrap(),
            "## Article 2\n\nVersion du 1er mai.\n\nTexte.\n"
        );
        assert_eq!(article_file_at_depth("# Lisez-moi\n\nDépôt.\n", 1), None);
        assert_eq!(article_file_at_depth("", 1), None);
    }

    #[test]
    fn slugs() {
        assert_eq!(slug("Première partie"), "premiere-partie");
        assert_eq!(slug("R*321-1"), "r-321-1");
        assert_eq!(slug("4 bis"), "4-bis");
        assert_eq!(slug("Titre Ier : Objet"), "titre-ier-objet");
        assert_eq!(normalize_num("L. 122-5"), normalize_num("L122-5"));
        assert_eq!(normalize_num("L. 122-5"), "l122-5");
        for n in ["A\x0b1\t.B", "Ä. 1 bis", "R*321-1", "\u{a0}L 1"] {
            let slow: String = n
                .chars()
                .filter(|c| !c.is_whitespace() && *c != '.')
                .flat_map(char::to_lowercase)
                .collect();
            assert_eq!(normalize_num(n), slow);
        }
    }
}

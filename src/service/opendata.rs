//! Open data (DESIGN §7, docs/opendata.md): the datasets as CSV and JSON, each version's
//! markdown, a Frictionless `datapackage.json` describing every file, and `SHA256SUMS`
//! signed with the instance key, so that a mirror can prove it holds the original.
//!
//! Published data never reveals what the platform hides: authors appear as published
//! (pseudonyms stay pseudonyms), hidden contributions keep their row with the
//! moderation's rule and reason but without their text, and no account id, e-mail,
//! OpenID Connect subject or address is written. Rows are read and written a page at a
//! time, so memory stays flat whatever the size.

use crate::domain::ids::{AmendmentId, BillId, ConsultationId, VersionId};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::domain::moderation::ChainError;
use crate::ledger::checkpoint::{verify_note, CheckpointError, PublicKey, SigningKey};
use crate::service::consultation::display_number;
use crate::service::moderation::{self, Kind};
use crate::service::reading::ReadError;
use crate::service::voting::VoteError;
use crate::store::{self, Store, StoreError};
use serde_json::{json, Value};

/// A file or folder that could not be read or written.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
pub struct FileError {
    pub path: PathBuf,
    pub source: std::io::Error,
}

/// Names the file an I/O error is about.
trait At<T> {
    fn at(self, path: &Path) -> Result<T, FileError>;
}

impl<T> At<T> for std::io::Result<T> {
    fn at(self, path: &Path) -> Result<T, FileError> {
        self.map_err(|source| FileError {
            path: path.to_path_buf(),
            source,
        })
    }
}

/// Why the open-data folder could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    File(#[from] FileError),
    /// A dataset's CSV file.
    #[error("{}: {source}", path.display())]
    Csv { path: PathBuf, source: csv::Error },
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An amendment's Akoma Ntoso document.
    #[error(transparent)]
    Akn(#[from] ReadError),
    /// A closed consultation's ballot-log export.
    #[error("consultation {id}: {source}")]
    BallotLog {
        id: ConsultationId,
        source: Box<VoteError>,
    },
    /// Listing the closed ballot logs.
    #[error(transparent)]
    Vote(Box<VoteError>),
    /// The moderation log's chain, as read.
    #[error(transparent)]
    Chain(#[from] ChainError),
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    #[error("a version vanished during the export")]
    VersionVanished,
}

/// Transitional, for `web/datasets.rs` (whose generation returns its error as text)
/// until the web side has its own error type: `?` there keeps the message.
/// Why an open-data folder does not verify ([`verify`]).
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("the key: {0}")]
    Key(CheckpointError),
    /// `SHA256SUMS` or `SHA256SUMS.note` cannot be read.
    #[error("{name}: {source}")]
    Read {
        name: &'static str,
        source: std::io::Error,
    },
    #[error("SHA256SUMS.note: {0}")]
    Signature(CheckpointError),
    #[error("SHA256SUMS differs from the signed list in SHA256SUMS.note")]
    NotTheSignedList,
    #[error("SHA256SUMS: malformed line {0:?}")]
    MalformedLine(String),
    #[error("SHA256SUMS: unsafe path {0:?}")]
    UnsafePath(String),
    #[error(transparent)]
    File(#[from] FileError),
    #[error("{file}: its SHA-256 is {actual}, the signed list says {listed}")]
    Changed {
        file: String,
        actual: String,
        listed: String,
    },
    #[error("files differ from the signed list: extra {extra:?}, missing {missing:?}")]
    FilesDiffer {
        extra: Vec<String>,
        missing: Vec<String>,
    },
}

/// One column: its name, its Frictionless type and what it means.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    /// `string`, `integer`, `boolean` or `datetime` (Frictionless Table Schema types).
    pub kind: &'static str,
    pub description: &'static str,
}

/// A dataset: one CSV file and its JSON mirror.
#[derive(Debug, Clone, Copy)]
pub struct Dataset {
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub fields: &'static [Field],
}

const fn f(name: &'static str, kind: &'static str, description: &'static str) -> Field {
    Field {
        name,
        kind,
        description,
    }
}

const MODERATION_FIELDS: [Field; 2] = [
    f("moderation_rule", "string", "When hidden by moderation: the rule (spam, offensive, off_topic, illegal, other, or reports while a moderator has not decided); empty otherwise. The text is then left out."),
    f("moderation_reason", "string", "When hidden: the moderator's public reason."),
];

pub const DATASETS: &[Dataset] = &[
    Dataset {
        name: "bills",
        title: "Bills",
        description: "Every bill, with its metadata and number of versions.",
        fields: &[
            f("bill", "string", "The bill's slug, its identifier in addresses."),
            f("title", "string", "Title."),
            f("language", "string", "Language of the text (fr, en)."),
            f("jurisdiction", "string", "Jurisdiction."),
            f("licence", "string", "Licence of the text."),
            f("summary", "string", "Summary."),
            f("versions", "integer", "Number of versions."),
            f("created_at", "datetime", "When the bill was added (UTC)."),
        ],
    },
    Dataset {
        name: "versions",
        title: "Bill versions",
        description: "Every version of every bill; the text itself is in versions/BILL/N.md.",
        fields: &[
            f("bill", "string", "The bill's slug."),
            f("number", "integer", "Version number, from 1."),
            f("parent_number", "integer", "The version it follows, if any."),
            f("sha256", "string", "SHA-256 of the markdown file."),
            f("date", "string", "Date of the version (ISO 8601 date or date-time)."),
            f("author", "string", "Who wrote the version (an institution, or the source's author)."),
            f("note", "string", "What changed, in a sentence."),
            f("file", "string", "Path of the markdown text in this data package."),
        ],
    },
    Dataset {
        name: "units",
        title: "Units of each version",
        description: "Divisions, articles and paragraphs of every version, in order, with their ids.",
        fields: &[
            f("bill", "string", "The bill's slug."),
            f("version", "integer", "Version number."),
            f("position", "integer", "Position in the version, from 0."),
            f("wid", "string", "Work id: stable across versions for the same unit."),
            f("eid", "string", "Expression id: readable citation id in this version."),
            f("kind", "string", "division, article or paragraph."),
            f("num", "string", "Article number or division label."),
            f("heading", "string", "Heading of a division or an article."),
            f("parent_wid", "string", "Work id of the enclosing unit, if any."),
            f("sha256", "string", "SHA-256 of the unit's text."),
        ],
    },
    Dataset {
        name: "consultations",
        title: "Consultations",
        description: "Every consultation: the bill version it opens, dates, levels required and phase.",
        fields: &[
            f("consultation", "integer", "Consultation number."),
            f("bill", "string", "The bill's slug."),
            f("version", "integer", "The version consulted on."),
            f("title", "string", "Title."),
            f("description", "string", "Description (markdown)."),
            f("opens_on", "string", "First day (ISO 8601)."),
            f("closes_on", "string", "Last day (ISO 8601)."),
            f("level_comment", "integer", "Assurance level needed to comment (0-3)."),
            f("level_amend", "integer", "Assurance level needed to propose amendments (0-3)."),
            f("level_vote", "integer", "Assurance level needed to vote (0-3)."),
            f("phase", "string", "draft, amendments, voting, closed or published."),
            f("created_at", "datetime", "When it was created (UTC)."),
        ],
    },
    Dataset {
        name: "amendments",
        title: "Amendments",
        description: "Every amendment as it stands (its current revision), with its operations and disposition status.",
        fields: &[
            f("amendment", "string", "Amendment number (AM-bill-n)."),
            f("consultation", "integer", "Consultation number."),
            f("bill", "string", "The bill's slug."),
            f("version", "integer", "The version it amends."),
            f("article_wid", "string", "Work id of the article it amends."),
            f("revision", "integer", "Current revision (1, or 2 and more when corrected)."),
            f("status", "string", "filed, admissible, inadmissible, adopted, rejected, withdrawn or fallen."),
            f("author", "string", "Author as published: a name, or a pseudonym that stays one."),
            f("disclosure", "string", "name or pseudonym."),
            f("author_level", "integer", "The author's assurance level when filing (0-3)."),
            f("filed_at", "datetime", "When it was filed (UTC)."),
            f("operations", "string", "Its operations as JSON (docs/amendments.md); empty when hidden."),
            f("justification", "string", "Justification (markdown); empty when hidden."),
            MODERATION_FIELDS[0],
            MODERATION_FIELDS[1],
        ],
    },
    Dataset {
        name: "comments",
        title: "Comments",
        description: "Every comment, reply and institutional answer, as published.",
        fields: &[
            f("comment", "integer", "Comment number."),
            f("consultation", "integer", "Consultation number."),
            f("version", "integer", "The version it was made on."),
            f("article_wid", "string", "Work id of the article it is about."),
            f("unit_wid", "string", "Work id of the article or paragraph it is about."),
            f("amendment", "string", "The amendment it is about, if any."),
            f("reply_to", "integer", "The comment it answers, if a reply."),
            f("kind", "string", "comment, or answer (the institution's public answer)."),
            f("author", "string", "Author as published: a name, or a pseudonym that stays one."),
            f("disclosure", "string", "name or pseudonym."),
            f("author_level", "integer", "The author's assurance level (0-3)."),
            f("quote", "string", "The quoted words, if any; empty when hidden."),
            f("body", "string", "Text (markdown); empty when hidden."),
            f("created_at", "datetime", "When it was posted (UTC)."),
            MODERATION_FIELDS[0],
            MODERATION_FIELDS[1],
        ],
    },
    Dataset {
        name: "moderation_log",
        title: "Public moderation log",
        description: "Every moderation decision, hash-chained (docs/moderation.md).",
        fields: &[
            f("seq", "integer", "Entry number, from 1, without gaps."),
            f("at", "datetime", "When (UTC)."),
            f("action", "string", "auto_hide, hide, restore, suspend, appeal_upheld or appeal_overturned."),
            f("target_kind", "string", "comment, amendment or account."),
            f("target_ref", "string", "Comment number or amendment number; empty for an account."),
            f("consultation", "integer", "Consultation number."),
            f("rule", "string", "The rule applied."),
            f("reason", "string", "The public reason."),
            f("moderator", "string", "The moderator's pseudonym; empty for an automatic decision."),
            f("prev_hash", "string", "Hash of the previous entry."),
            f("hash", "string", "SHA-256 of prev_hash and this entry's fields."),
        ],
    },
];

/// The licence the data is published under (a pure type of `domain`, where `config`
/// reads it; named here too, where it is written).
pub use crate::domain::licence::Licence;

/// The key name of the signature on `SHA256SUMS`.
pub const SUMS_KEY_NAME: &str = "amenda-opendata";

type Row = Vec<String>;

/// Writes a dataset as CSV and JSON at once, a row at a time.
struct Writers {
    csv: csv::Writer<std::io::BufWriter<std::fs::File>>,
    json: std::io::BufWriter<std::fs::File>,
    /// The two files, for errors.
    csv_path: PathBuf,
    json_path: PathBuf,
    fields: &'static [Field],
    rows: u64,
    /// The latest date-time written (ISO 8601 compares as text).
    latest: String,
}

impl Writers {
    fn create(dir: &Path, d: &Dataset) -> Result<Writers, ExportError> {
        let csv_path = dir.join(format!("{}.csv", d.name));
        let json_path = dir.join(format!("{}.json", d.name));
        let open = |p: &Path| std::fs::File::create(p).map(std::io::BufWriter::new).at(p);
        let mut csv = csv::Writer::from_writer(open(&csv_path)?);
        csv.write_record(d.fields.iter().map(|f| f.name))
            .map_err(|source| ExportError::Csv {
                path: csv_path.clone(),
                source,
            })?;
        let mut json = open(&json_path)?;
        json.write_all(b"[").at(&json_path)?;
        Ok(Writers {
            csv,
            json,
            csv_path,
            json_path,
            fields: d.fields,
            rows: 0,
            latest: String::new(),
        })
    }

    fn csv_error(&self, source: csv::Error) -> ExportError {
        ExportError::Csv {
            path: self.csv_path.clone(),
            source,
        }
    }

    fn row(&mut self, row: &Row) -> Result<(), ExportError> {
        self.csv.write_record(row).map_err(|e| self.csv_error(e))?;
        // Written by hand to keep the columns' order (readers take the first object's
        // keys as the header).
        let mut obj = String::from("{");
        for (i, (f, v)) in self.fields.iter().zip(row).enumerate() {
            if f.kind == "datetime" && *v > self.latest {
                self.latest.clone_from(v);
            }
            let value = match f.kind {
                _ if v.is_empty() && f.kind != "string" => Value::Null,
                "integer" => v.parse::<i64>().map(Value::from).unwrap_or(Value::Null),
                "boolean" => Value::Bool(v == "true"),
                _ => Value::String(v.clone()),
            };
            if i > 0 {
                obj.push(',');
            }
            obj.push_str(&Value::String(f.name.to_string()).to_string());
            obj.push(':');
            obj.push_str(&value.to_string());
        }
        obj.push('}');
        let sep: &[u8] = if self.rows == 0 { b"\n" } else { b",\n" };
        self.json.write_all(sep).at(&self.json_path)?;
        self.json.write_all(obj.as_bytes()).at(&self.json_path)?;
        self.rows += 1;
        Ok(())
    }

    /// Rows written and the latest date-time among them.
    fn finish(mut self) -> Result<(u64, String), ExportError> {
        self.csv.flush().at(&self.csv_path)?;
        self.json.write_all(b"\n]\n").at(&self.json_path)?;
        self.json.flush().at(&self.json_path)?;
        Ok((self.rows, self.latest))
    }
}

fn s(v: impl ToString) -> String {
    v.to_string()
}

fn opt(v: Option<impl ToString>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// What was written.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Rows per dataset.
    pub rows: Vec<(&'static str, u64)>,
    /// Per dataset, the latest date-time in its rows (its last change), when it has any.
    pub latest: Vec<(&'static str, String)>,
    /// Every file listed in `SHA256SUMS`.
    pub files: usize,
}

impl Summary {
    fn add(&mut self, name: &'static str, (rows, latest): (u64, String)) {
        self.rows.push((name, rows));
        if !latest.is_empty() {
            self.latest.push((name, latest));
        }
    }
}

/// Writes the datasets, the versions' markdown, `datapackage.json`, `SHA256SUMS`, its
/// signed note `SHA256SUMS.note` and the public key `opendata.vkey` into `out`. Files
/// already in `out` (the ballot-log exports written before) are described and summed
/// too.
pub fn export(
    store: &Store,
    key: &SigningKey,
    licence: &Licence,
    out: &Path,
) -> Result<Summary, ExportError> {
    let data_dir = out.join("datasets");
    std::fs::create_dir_all(&data_dir).at(&data_dir)?;
    let mut summary = Summary::default();
    // Reads versions for the amendments' Akoma Ntoso, with a small cache.
    let reader = crate::service::reading::Reader::new(store.clone(), 16 * 1024 * 1024);
    let mut conn = store.conn()?;
    let bills = store::bills::list(&mut conn)?;
    let by_id: HashMap<BillId, String> = bills
        .iter()
        .map(|b| (b.bill.id, b.bill.slug.clone()))
        .collect();

    // Bills.
    let mut w = Writers::create(&data_dir, &DATASETS[0])?;
    for b in &bills {
        let m = &b.bill.meta;
        w.row(&vec![
            s(&b.bill.slug),
            s(&m.title),
            s(&m.language),
            s(&m.jurisdiction),
            s(&m.licence),
            s(&m.summary),
            s(b.version_count),
            s(b.bill.created_at),
        ])?;
    }
    summary.add("bills", w.finish()?);

    // Versions (with their markdown) and units, one version in memory at a time.
    let mut versions = Writers::create(&data_dir, &DATASETS[1])?;
    let mut units = Writers::create(&data_dir, &DATASETS[2])?;
    let mut version_numbers: HashMap<VersionId, i32> = HashMap::new();
    for b in &bills {
        let slug = &b.bill.slug;
        let dir = out.join("versions").join(slug);
        std::fs::create_dir_all(&dir).at(&dir)?;
        let metas = store::versions::list_meta(&mut conn, b.bill.id)?;
        for m in &metas {
            version_numbers.insert(m.id, m.number);
            let v = store::versions::by_id(&mut conn, m.id)?.ok_or(ExportError::VersionVanished)?;
            let file = format!("versions/{slug}/{}.md", m.number);
            let path = out.join(&file);
            std::fs::write(&path, &v.markdown).at(&path)?;
            versions.row(&vec![
                s(slug),
                s(m.number),
                opt(m.parent_number),
                s(&m.sha256),
                s(&m.date),
                s(&m.author),
                s(&m.note),
                file,
            ])?;
            let list = store::units::for_version(&mut conn, m.id)?;
            // The same text in Akoma Ntoso 3.0.
            let xml = crate::opendata::akn::bill_version(
                &crate::service::akn::version_meta(&b.bill, &metas, m),
                &v.markdown,
                &list,
            );
            let xml_file = out.join(format!("versions/{slug}/{}.xml", m.number));
            std::fs::write(&xml_file, xml).at(&xml_file)?;
            for (i, u) in list.iter().enumerate() {
                units.row(&vec![
                    s(slug),
                    s(m.number),
                    s(i),
                    s(&u.wid),
                    s(&u.eid),
                    s(u.kind.as_str()),
                    opt(u.num.as_ref()),
                    opt(u.heading.as_ref()),
                    opt(u.parent.map(|p| &list[p].wid)),
                    s(&u.sha256),
                ])?;
            }
        }
    }
    summary.add("versions", versions.finish()?);
    summary.add("units", units.finish()?);

    // Consultations, amendments and comments, consultation by consultation.
    let mut consultations = Writers::create(&data_dir, &DATASETS[3])?;
    let mut amendments = Writers::create(&data_dir, &DATASETS[4])?;
    let mut comments = Writers::create(&data_dir, &DATASETS[5])?;
    for b in &bills {
        let mut list = store::consultations::for_bill(&mut conn, b.bill.id)?;
        list.sort_by_key(|c| c.id);
        for c in list {
            let slug = by_id.get(&c.bill_id).cloned().unwrap_or_default();
            consultations.row(&vec![
                s(c.id),
                s(&slug),
                opt(version_numbers.get(&c.version_id)),
                s(&c.title),
                s(&c.description),
                s(c.opens_on),
                s(c.closes_on),
                s(c.level_comment),
                s(c.level_amend),
                s(c.level_vote),
                s(c.phase),
                s(c.created_at),
            ])?;
            // The consultation's own files, with the same columns.
            let cdir = out.join(format!("consultations/{}", c.id));
            std::fs::create_dir_all(&cdir).at(&cdir)?;
            let mut own_amendments = Writers::create(&cdir, &DATASETS[4])?;
            let mut own_comments = Writers::create(&cdir, &DATASETS[5])?;
            let hidden = moderation::hidden_in(&mut conn, c.id)?;
            let moderation = |kind: Kind, id: i64| match hidden.get(&(kind, id)) {
                Some(h) => (true, h.rule.as_str().to_string(), h.reason.clone()),
                None => (false, String::new(), String::new()),
            };
            let mut numbers: HashMap<AmendmentId, String> = HashMap::new();
            let mut offset = 0;
            loop {
                let page = store::amendments::for_consultation(&mut conn, c.id, None, offset, 500)?;
                if page.is_empty() {
                    break;
                }
                offset += page.len() as i64;
                for a in page {
                    let number = display_number(&slug, a.number);
                    // Its Akoma Ntoso document (none for a hidden amendment).
                    if let Some(xml) = crate::service::akn::amendment_xml(&reader, &slug, a.number)?
                    {
                        let dir = out.join("amendments").join(&slug);
                        std::fs::create_dir_all(&dir).at(&dir)?;
                        let path = dir.join(format!("{}.xml", a.number));
                        std::fs::write(&path, xml).at(&path)?;
                    }
                    numbers.insert(a.id, number.clone());
                    let rev = store::amendments::revision(&mut conn, a.id, a.revision)?;
                    let (is_hidden, rule, reason) = moderation(Kind::Amendment, a.id.get());
                    let (ops, justification) = match (&rev, is_hidden) {
                        (Some(r), false) => (r.operations.clone(), r.justification.clone()),
                        _ => (String::new(), String::new()),
                    };
                    let row = vec![
                        number,
                        s(c.id),
                        s(&slug),
                        opt(version_numbers.get(&a.version_id)),
                        s(&a.article_wid),
                        s(a.revision),
                        s(a.status),
                        s(&a.author_label),
                        s(a.disclosure),
                        s(a.author_level),
                        s(a.filed_at),
                        ops,
                        justification,
                        rule,
                        reason,
                    ];
                    amendments.row(&row)?;
                    own_amendments.row(&row)?;
                }
            }
            own_amendments.finish()?;
            let mut after = 0;
            loop {
                let page = store::comments::of_consultation_after(&mut conn, c.id, after, 1000)?;
                let Some(last) = page.last() else { break };
                after = last.id.get();
                for k in page {
                    let (is_hidden, rule, reason) = moderation(Kind::Comment, k.id.get());
                    let (quote, body) = if is_hidden {
                        (String::new(), String::new())
                    } else {
                        (k.quote.clone(), k.body.clone())
                    };
                    let row = vec![
                        s(k.id),
                        s(c.id),
                        opt(version_numbers.get(&k.version_id)),
                        s(&k.article_wid),
                        s(&k.unit_wid),
                        opt(k.amendment_id.and_then(|a| numbers.get(&a))),
                        opt(k.parent_id),
                        s(k.kind),
                        s(&k.author_label),
                        s(k.disclosure),
                        s(k.author_level),
                        quote,
                        body,
                        s(k.created_at),
                        rule,
                        reason,
                    ];
                    comments.row(&row)?;
                    own_comments.row(&row)?;
                }
            }
            own_comments.finish()?;
        }
    }
    summary.add("consultations", consultations.finish()?);
    summary.add("amendments", amendments.finish()?);
    summary.add("comments", comments.finish()?);
    drop(conn);

    // The moderation log.
    let mut log = Writers::create(&data_dir, &DATASETS[6])?;
    let mut failed = None;
    moderation::each_entry(store, |r| {
        if let Err(e) = log.row(&vec![
            s(r.seq),
            s(&r.at),
            s(&r.action),
            s(&r.target_kind),
            s(&r.target_ref),
            opt(r.consultation_id),
            s(&r.rule),
            s(&r.reason),
            s(&r.moderator),
            s(&r.prev_hash),
            s(&r.hash),
        ]) {
            failed.get_or_insert(e);
        }
        Ok(())
    })??;
    if let Some(e) = failed {
        return Err(e);
    }
    summary.add("moderation_log", log.finish()?);

    // The public key, the package description, then the sums over everything.
    let public = key.public_key();
    let vkey = out.join("opendata.vkey");
    std::fs::write(&vkey, public.to_vkey() + "\n").at(&vkey)?;
    let files = package_files(out)?;
    write_datapackage(out, &files, licence)?;
    let mut sums = String::new();
    let mut all = package_files(out)?;
    all.sort();
    for rel in &all {
        sums.push_str(&format!("{}  {rel}\n", file_sha256(&out.join(rel))?));
    }
    let (list, note) = (out.join("SHA256SUMS"), out.join("SHA256SUMS.note"));
    std::fs::write(&list, &sums).at(&list)?;
    std::fs::write(&note, key.sign_text(&sums)).at(&note)?;
    summary.files = all.len();
    Ok(summary)
}

/// The whole open-data folder: the ballot-log export of every closed consultation
/// (`consultations/ID/ballot-log/`), then [`export`]'s files and the signed sums over
/// everything.
pub fn export_all(
    store: &Store,
    key: &crate::service::voting::LogKey,
    licence: &Licence,
    out: &Path,
) -> Result<Summary, ExportError> {
    let closed =
        crate::service::voting::closed_logs(store).map_err(|e| ExportError::Vote(Box::new(e)))?;
    for id in closed {
        let dir = out.join(format!("consultations/{id}/ballot-log"));
        crate::service::voting::export(store, key, id, &dir).map_err(|e| {
            ExportError::BallotLog {
                id,
                source: Box::new(e),
            }
        })?;
    }
    export(store, &key.signer(SUMS_KEY_NAME), licence, out)
}

/// The files of the package (relative paths with `/`), except the sums themselves.
fn package_files(out: &Path) -> Result<Vec<String>, FileError> {
    let mut files = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let dir = out.join(&rel);
        for entry in std::fs::read_dir(&dir).at(&dir)? {
            let entry = entry.at(&dir)?;
            let path = rel.join(entry.file_name());
            if entry.file_type().at(&entry.path())?.is_dir() {
                stack.push(path);
            } else {
                let p = path.to_string_lossy().replace('\\', "/");
                if p != "SHA256SUMS" && p != "SHA256SUMS.note" {
                    files.push(p);
                }
            }
        }
    }
    files.sort();
    Ok(files)
}

fn file_sha256(path: &Path) -> Result<String, FileError> {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    let mut file = std::fs::File::open(path).at(path)?;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = std::io::Read::read(&mut file, &mut buf).at(path)?;
        if n == 0 {
            break;
        }
        ctx.update(&buf[..n]);
    }
    Ok(hex::encode(ctx.finish().as_ref()))
}

/// The dataset a file holds rows of: `datasets/NAME.{csv,json}`, or a consultation's own
/// `consultations/ID/{amendments,comments}.{csv,json}`.
pub fn dataset_of(rel: &str) -> Option<&'static Dataset> {
    let (dir, file) = rel.rsplit_once('/')?;
    let (stem, ext) = file.rsplit_once('.')?;
    if !matches!(ext, "csv" | "json") {
        return None;
    }
    let per_consultation = dir
        .strip_prefix("consultations/")
        .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()));
    DATASETS.iter().find(|d| {
        d.name == stem
            && (dir == "datasets"
                || (per_consultation && matches!(stem, "amendments" | "comments")))
    })
}

/// A Frictionless resource name: lowercase letters, digits, `-`, `_` and `.`.
fn resource_name(rel: &str) -> String {
    rel.chars()
        .map(|c| match c {
            'a'..='z' | '0'..='9' | '-' | '_' | '.' => c,
            'A'..='Z' => c.to_ascii_lowercase(),
            _ => '-',
        })
        .collect()
}

fn write_datapackage(out: &Path, files: &[String], licence: &Licence) -> Result<(), ExportError> {
    let mut resources = Vec::new();
    for rel in files.iter().filter(|r| r.as_str() != "datapackage.json") {
        let path = out.join(rel);
        let bytes = std::fs::metadata(&path).at(&path)?.len();
        let hash = file_sha256(&path)?;
        let dataset = dataset_of(rel);
        let ext = rel.rsplit('.').next().unwrap_or("");
        let mut r = json!({
            "name": resource_name(rel),
            "path": rel,
            "bytes": bytes,
            "hash": format!("sha256:{hash}"),
        });
        match (dataset, ext) {
            (Some(d), "csv" | "json") => {
                r["title"] = json!(match rel.strip_prefix("consultations/") {
                    Some(rest) => format!(
                        "{} — consultation {}",
                        d.title,
                        rest.split('/').next().unwrap_or("")
                    ),
                    None => d.title.to_string(),
                });
                r["description"] = json!(d.description);
                r["profile"] = json!("tabular-data-resource");
                r["format"] = json!(ext);
                r["mediatype"] = json!(if ext == "csv" {
                    "text/csv"
                } else {
                    "application/json"
                });
                r["encoding"] = json!("utf-8");
                r["schema"] = json!({"fields": d.fields.iter().map(|f| json!({
                    "name": f.name, "type": f.kind, "description": f.description,
                })).collect::<Vec<_>>()});
                if ext == "json" {
                    // The validator reads JSON tables through a streaming parser that
                    // cannot count bytes or hash them: SHA256SUMS covers these files.
                    if let Some(o) = r.as_object_mut() {
                        o.remove("bytes");
                        o.remove("hash");
                    }
                }
            }
            _ => {
                r["format"] = json!(ext);
                r["mediatype"] = json!(match ext {
                    "md" => "text/markdown",
                    "csv" => "text/csv",
                    "json" => "application/json",
                    "xml" => "application/xml",
                    _ => "text/plain",
                });
            }
        }
        resources.push(r);
    }
    let package = json!({
        "name": "amenda-opendata",
        "title": "Amenda: bills, consultations, amendments, comments, moderation and ballot logs",
        "licenses": [{"name": licence.name, "title": licence.title, "path": licence.url}],
        "resources": resources,
    });
    let text = serde_json::to_string_pretty(&package)?;
    let path = out.join("datapackage.json");
    Ok(std::fs::write(&path, text + "\n").at(&path)?)
}

/// Checks an export folder offline: the signature on `SHA256SUMS.note` with `vkey` (the
/// published key), that it signs exactly `SHA256SUMS`, that every file listed has that
/// hash, and that no file is missing or extra. Returns the number of files checked.
pub fn verify(dir: &Path, vkey: &str) -> Result<usize, VerifyError> {
    let key = PublicKey::from_vkey(vkey.trim()).map_err(VerifyError::Key)?;
    let read = |name: &'static str| {
        std::fs::read_to_string(dir.join(name)).map_err(|source| VerifyError::Read { name, source })
    };
    let note = read("SHA256SUMS.note")?;
    let signed = verify_note(&note, &key).map_err(VerifyError::Signature)?;
    let sums = read("SHA256SUMS")?;
    if signed != sums {
        return Err(VerifyError::NotTheSignedList);
    }
    let mut listed = Vec::new();
    for line in sums.lines() {
        let (hash, rel) = line
            .split_once("  ")
            .ok_or_else(|| VerifyError::MalformedLine(line.to_string()))?;
        if rel.contains("..") || rel.starts_with('/') {
            return Err(VerifyError::UnsafePath(rel.to_string()));
        }
        let actual = file_sha256(&dir.join(rel))?;
        if actual != hash {
            return Err(VerifyError::Changed {
                file: rel.to_string(),
                actual,
                listed: hash.to_string(),
            });
        }
        listed.push(rel.to_string());
    }
    listed.sort();
    let present = package_files(dir)?;
    if present != listed {
        let differ = |a: &[String], b: &[String]| -> Vec<String> {
            a.iter().filter(|p| !b.contains(p)).cloned().collect()
        };
        return Err(VerifyError::FilesDiffer {
            extra: differ(&present, &listed),
            missing: differ(&listed, &present),
        });
    }
    Ok(listed.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let gone = dir.path().join("gone");
        let e = Writers::create(&gone, &DATASETS[0]).err().unwrap();
        let csv = gone.join("bills.csv");
        assert!(
            matches!(&e, ExportError::File(FileError { path, .. }) if *path == csv),
            "{e:?}"
        );
        assert!(
            e.to_string().starts_with(&format!("{}: ", csv.display())),
            "{e}"
        );
        let e = package_files(&gone).unwrap_err();
        assert_eq!(e.path, gone.join(""), "{e}");
        assert_eq!(e.source.kind(), std::io::ErrorKind::NotFound);
        let e = verify(dir.path(), "not a key").unwrap_err();
        assert!(e.to_string().starts_with("the key: "), "{e}");
    }
}

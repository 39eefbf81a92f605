//! The ballot log's entries and their strict binary codec (DESIGN §6; byte layout in
//! docs/ballot-log.md). Every entry starts with a format version byte and a type byte;
//! integers are big-endian; strings are a u16 byte length then NFC UTF-8. Decoding is
//! strict (no trailing bytes, no unknown values, no non-canonical form) so that every
//! valid entry has exactly one encoding: decode → encode gives the same bytes.

use super::merkle::Hash;
use unicode_normalization::is_nfc;

pub const FORMAT_VERSION: u8 = 1;
pub const TYPE_MANIFEST: u8 = 1;
pub const TYPE_BALLOT: u8 = 2;
pub const TYPE_CLOSE: u8 = 3;
/// Highest assurance level (`domain::identity::Level::HIGH`).
pub const MAX_LEVEL: u8 = 3;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    #[error("truncated: {0} is cut short")]
    Truncated(&'static str),
    #[error("{0} trailing bytes after the entry")]
    TrailingBytes(usize),
    #[error("unknown format version {0}")]
    UnknownVersion(u8),
    #[error("unknown entry type {0}")]
    UnknownType(u8),
    #[error("entry type {found}, expected {expected}")]
    WrongType { expected: u8, found: u8 },
    #[error("{0} is not valid UTF-8")]
    InvalidUtf8(&'static str),
    #[error("{0} is not in Unicode NFC")]
    NotNfc(&'static str),
    #[error("{0} is empty")]
    Empty(&'static str),
    #[error("{field} is too long ({len} bytes, at most 65535)")]
    TooLong { field: &'static str, len: usize },
    #[error("invalid {field}: {value}")]
    BadValue { field: &'static str, value: u64 },
    #[error("answers are not sorted by item, or an item is answered twice")]
    UnsortedAnswers,
    #[error("duplicate {0}")]
    Duplicate(&'static str),
    #[error("item {item} is not in the manifest ({items} items)")]
    ItemOutOfRange { item: u16, items: usize },
    #[error("option {option} of item {item} is out of range ({options} options)")]
    OptionOutOfRange {
        item: u16,
        option: u8,
        options: usize,
    },
    #[error("{0} does not match the manifest")]
    ManifestMismatch(&'static str),
}

/// A calendar day as days since 1970-01-01 (no time of day, for privacy), within
/// 1970-01-01 ..= 9999-12-31 so that it always prints as an ISO date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(u32);

const MAX_DAY: u32 = 2_932_896; // 9999-12-31
/// Julian day number of 1970-01-01.
const EPOCH_JULIAN: i32 = 2_440_588;

impl Day {
    pub fn new(n: u32) -> Option<Day> {
        (n <= MAX_DAY).then_some(Day(n))
    }

    pub fn number(self) -> u32 {
        self.0
    }

    pub fn from_date(d: time::Date) -> Option<Day> {
        let n = d.to_julian_day() - EPOCH_JULIAN;
        u32::try_from(n).ok().and_then(Day::new)
    }

    pub fn date(self) -> time::Date {
        time::Date::from_julian_day(EPOCH_JULIAN + self.0 as i32).expect("within 9999-12-31")
    }

    /// `YYYY-MM-DD`.
    pub fn parse_iso(s: &str) -> Option<Day> {
        let f = time::macros::format_description!("[year]-[month]-[day]");
        time::Date::parse(s, &f).ok().and_then(Day::from_date)
    }
}

impl std::fmt::Display for Day {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let d = self.date();
        write!(f, "{:04}-{:02}-{:02}", d.year(), d.month() as u8, d.day())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevotePolicy {
    /// One ballot per voter token.
    Single = 0,
    /// Voters may vote again until the close; the last ballot counts.
    LastCounts = 1,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Disclosure {
    Pseudonymous = 0,
    Public = 1,
}

impl Disclosure {
    pub fn as_str(self) -> &'static str {
        match self {
            Disclosure::Pseudonymous => "pseudonymous",
            Disclosure::Public => "public",
        }
    }
}

/// An amendment revision put to the vote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmendmentRef {
    pub id: String,
    pub revision: u32,
    pub hash: Hash,
}

/// What an item asks about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// The bill version as a whole.
    Bill,
    /// An amendment, by index into [`Manifest::amendments`].
    Amendment(u16),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub subject: Subject,
    pub question: String,
    /// Two to 255 distinct labels; a ballot names one by index.
    pub options: Vec<String>,
}

/// Entry 0: what is voted on and under which rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub consultation_id: String,
    /// The checkpoint origin line of this log.
    pub origin: String,
    /// Ed25519 public key that signs this log's checkpoints.
    pub log_public_key: [u8; 32],
    pub bill_version_hash: Hash,
    pub amendments: Vec<AmendmentRef>,
    pub opens: Day,
    pub closes: Day,
    pub minimum_level: u8,
    pub revote: RevotePolicy,
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Answer {
    pub item: u16,
    pub option: u8,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ballot {
    pub consultation_id: String,
    /// Leaf hash of the manifest entry, binding the ballot to its questions.
    pub manifest_leaf: Hash,
    pub voter_token: [u8; 32],
    pub level: u8,
    pub disclosure: Disclosure,
    pub day: Day,
    /// Strictly increasing by item; items not answered are left out.
    pub answers: Vec<Answer>,
    /// Random, so that a leaf hash does not reveal the choices.
    pub nonce: [u8; 32],
}

/// The last entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Close {
    pub consultation_id: String,
    pub manifest_leaf: Hash,
    pub day: Day,
    /// Ballot entries in the log (re-votes included).
    pub ballot_entries: u64,
    /// Ballots counted: one per voter token.
    pub counted_ballots: u64,
    /// SHA-256 of `result.csv`.
    pub result_sha256: Hash,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    Manifest(Manifest),
    Ballot(Ballot),
    Close(Close),
}

impl Entry {
    pub fn decode(bytes: &[u8]) -> Result<Entry, EntryError> {
        let mut r = Reader::new(bytes);
        let version = r.u8("format version")?;
        if version != FORMAT_VERSION {
            return Err(EntryError::UnknownVersion(version));
        }
        let entry = match r.u8("entry type")? {
            TYPE_MANIFEST => Entry::Manifest(read_manifest(&mut r)?),
            TYPE_BALLOT => Entry::Ballot(read_ballot(&mut r)?),
            TYPE_CLOSE => Entry::Close(read_close(&mut r)?),
            t => return Err(EntryError::UnknownType(t)),
        };
        r.finish()?;
        Ok(entry)
    }

    /// The canonical bytes; fails (rather than writing an entry no decoder accepts) when a
    /// field breaks a rule of the format.
    pub fn encode(&self) -> Result<Vec<u8>, EntryError> {
        let bytes = self.write()?;
        // The decoder holds every rule; running it keeps the two in step.
        Entry::decode(&bytes)?;
        Ok(bytes)
    }

    /// Whether `bytes` are exactly this entry's encoding. For an entry just decoded from
    /// `bytes`, which the decoder has already held to every rule, so no second decoding.
    pub fn encodes_to(&self, bytes: &[u8]) -> bool {
        self.write().is_ok_and(|w| w == bytes)
    }

    fn write(&self) -> Result<Vec<u8>, EntryError> {
        let mut w = Writer(Vec::with_capacity(128));
        w.u8(FORMAT_VERSION);
        match self {
            Entry::Manifest(m) => write_manifest(&mut w, m)?,
            Entry::Ballot(b) => write_ballot(&mut w, b)?,
            Entry::Close(c) => write_close(&mut w, c)?,
        }
        Ok(w.0)
    }

    pub fn type_byte(&self) -> u8 {
        match self {
            Entry::Manifest(_) => TYPE_MANIFEST,
            Entry::Ballot(_) => TYPE_BALLOT,
            Entry::Close(_) => TYPE_CLOSE,
        }
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Entry::Manifest(_) => "manifest",
            Entry::Ballot(_) => "ballot",
            Entry::Close(_) => "close",
        }
    }
}

fn expect(found: Entry, expected: u8) -> EntryError {
    EntryError::WrongType {
        expected,
        found: found.type_byte(),
    }
}

impl Manifest {
    pub fn decode(bytes: &[u8]) -> Result<Manifest, EntryError> {
        match Entry::decode(bytes)? {
            Entry::Manifest(m) => Ok(m),
            e => Err(expect(e, TYPE_MANIFEST)),
        }
    }

    pub fn encode(&self) -> Result<Vec<u8>, EntryError> {
        Entry::Manifest(self.clone()).encode()
    }
}

impl Ballot {
    pub fn decode(bytes: &[u8]) -> Result<Ballot, EntryError> {
        match Entry::decode(bytes)? {
            Entry::Ballot(b) => Ok(b),
            e => Err(expect(e, TYPE_BALLOT)),
        }
    }

    /// Decodes and checks against the manifest it claims to answer.
    pub fn decode_for(
        bytes: &[u8],
        manifest: &Manifest,
        manifest_leaf: &Hash,
    ) -> Result<Ballot, EntryError> {
        let b = Ballot::decode(bytes)?;
        b.check(manifest, manifest_leaf)?;
        Ok(b)
    }

    pub fn encode(&self) -> Result<Vec<u8>, EntryError> {
        Entry::Ballot(self.clone()).encode()
    }

    /// Same consultation and manifest, answers to existing items with existing options,
    /// cast on a day of the voting period.
    pub fn check(&self, manifest: &Manifest, manifest_leaf: &Hash) -> Result<(), EntryError> {
        if self.consultation_id != manifest.consultation_id {
            return Err(EntryError::ManifestMismatch("consultation id"));
        }
        if &self.manifest_leaf != manifest_leaf {
            return Err(EntryError::ManifestMismatch("manifest leaf hash"));
        }
        if self.day < manifest.opens || self.day > manifest.closes {
            return Err(EntryError::ManifestMismatch("day cast"));
        }
        for a in &self.answers {
            let item = manifest
                .items
                .get(a.item as usize)
                .ok_or(EntryError::ItemOutOfRange {
                    item: a.item,
                    items: manifest.items.len(),
                })?;
            if a.option as usize >= item.options.len() {
                return Err(EntryError::OptionOutOfRange {
                    item: a.item,
                    option: a.option,
                    options: item.options.len(),
                });
            }
        }
        Ok(())
    }
}

impl Close {
    pub fn decode(bytes: &[u8]) -> Result<Close, EntryError> {
        match Entry::decode(bytes)? {
            Entry::Close(c) => Ok(c),
            e => Err(expect(e, TYPE_CLOSE)),
        }
    }

    pub fn encode(&self) -> Result<Vec<u8>, EntryError> {
        Entry::Close(self.clone()).encode()
    }
}

// ---- layouts (keep in step with docs/ballot-log.md) ----

fn read_manifest(r: &mut Reader<'_>) -> Result<Manifest, EntryError> {
    let consultation_id = r.nonempty_str("consultation id")?;
    let origin = r.nonempty_str("origin")?;
    if origin.contains(['\n', '\r']) {
        return Err(EntryError::BadValue {
            field: "origin (line break)",
            value: 0,
        });
    }
    let log_public_key = r.array("log public key")?;
    let bill_version_hash = r.array("bill version hash")?;
    let n = r.u16("amendment count")?;
    let mut amendments: Vec<AmendmentRef> = Vec::with_capacity(n.into());
    for _ in 0..n {
        let a = AmendmentRef {
            id: r.nonempty_str("amendment id")?,
            revision: r.u32("amendment revision")?,
            hash: r.array("amendment revision hash")?,
        };
        if amendments.iter().any(|b| b.id == a.id) {
            return Err(EntryError::Duplicate("amendment id"));
        }
        amendments.push(a);
    }
    let opens = r.day("opening day")?;
    let closes = r.day("closing day")?;
    if closes < opens {
        return Err(EntryError::BadValue {
            field: "closing day (before opening)",
            value: closes.0.into(),
        });
    }
    let minimum_level = r.level("minimum level")?;
    let revote = match r.u8("re-vote policy")? {
        0 => RevotePolicy::Single,
        1 => RevotePolicy::LastCounts,
        v => {
            return Err(EntryError::BadValue {
                field: "re-vote policy",
                value: v.into(),
            })
        }
    };
    let n = r.u16("item count")?;
    if n == 0 {
        return Err(EntryError::Empty("item list"));
    }
    let mut items = Vec::with_capacity(n.into());
    for _ in 0..n {
        let subject = match r.u8("item subject")? {
            0 => Subject::Bill,
            1 => {
                let i = r.u16("item amendment index")?;
                if i as usize >= amendments.len() {
                    return Err(EntryError::BadValue {
                        field: "item amendment index",
                        value: i.into(),
                    });
                }
                Subject::Amendment(i)
            }
            v => {
                return Err(EntryError::BadValue {
                    field: "item subject",
                    value: v.into(),
                })
            }
        };
        let question = r.nonempty_str("question")?;
        let k = r.u8("option count")?;
        if k < 2 {
            return Err(EntryError::BadValue {
                field: "option count",
                value: k.into(),
            });
        }
        let mut options: Vec<String> = Vec::with_capacity(k.into());
        for _ in 0..k {
            let o = r.nonempty_str("option label")?;
            if options.contains(&o) {
                return Err(EntryError::Duplicate("option label"));
            }
            options.push(o);
        }
        items.push(Item {
            subject,
            question,
            options,
        });
    }
    Ok(Manifest {
        consultation_id,
        origin,
        log_public_key,
        bill_version_hash,
        amendments,
        opens,
        closes,
        minimum_level,
        revote,
        items,
    })
}

fn write_manifest(w: &mut Writer, m: &Manifest) -> Result<(), EntryError> {
    w.u8(TYPE_MANIFEST);
    w.str("consultation id", &m.consultation_id)?;
    w.str("origin", &m.origin)?;
    w.bytes(&m.log_public_key);
    w.bytes(&m.bill_version_hash);
    w.u16("amendment count", m.amendments.len())?;
    for a in &m.amendments {
        w.str("amendment id", &a.id)?;
        w.0.extend_from_slice(&a.revision.to_be_bytes());
        w.bytes(&a.hash);
    }
    w.0.extend_from_slice(&m.opens.0.to_be_bytes());
    w.0.extend_from_slice(&m.closes.0.to_be_bytes());
    w.u8(m.minimum_level);
    w.u8(m.revote as u8);
    w.u16("item count", m.items.len())?;
    for it in &m.items {
        match it.subject {
            Subject::Bill => w.u8(0),
            Subject::Amendment(i) => {
                w.u8(1);
                w.0.extend_from_slice(&i.to_be_bytes());
            }
        }
        w.str("question", &it.question)?;
        let k = u8::try_from(it.options.len()).map_err(|_| EntryError::BadValue {
            field: "option count",
            value: it.options.len() as u64,
        })?;
        w.u8(k);
        for o in &it.options {
            w.str("option label", o)?;
        }
    }
    Ok(())
}

fn read_ballot(r: &mut Reader<'_>) -> Result<Ballot, EntryError> {
    let consultation_id = r.nonempty_str("consultation id")?;
    let manifest_leaf = r.array("manifest leaf hash")?;
    let voter_token = r.array("voter token")?;
    let level = r.level("level")?;
    let disclosure = match r.u8("disclosure")? {
        0 => Disclosure::Pseudonymous,
        1 => Disclosure::Public,
        v => {
            return Err(EntryError::BadValue {
                field: "disclosure",
                value: v.into(),
            })
        }
    };
    let day = r.day("day cast")?;
    let n = r.u16("answer count")?;
    if n == 0 {
        return Err(EntryError::Empty("answer list"));
    }
    let mut answers: Vec<Answer> = Vec::with_capacity(n.into());
    for _ in 0..n {
        let a = Answer {
            item: r.u16("answer item")?,
            option: r.u8("answer option")?,
        };
        if answers.last().is_some_and(|p| p.item >= a.item) {
            return Err(EntryError::UnsortedAnswers);
        }
        answers.push(a);
    }
    let nonce = r.array("nonce")?;
    Ok(Ballot {
        consultation_id,
        manifest_leaf,
        voter_token,
        level,
        disclosure,
        day,
        answers,
        nonce,
    })
}

fn write_ballot(w: &mut Writer, b: &Ballot) -> Result<(), EntryError> {
    w.u8(TYPE_BALLOT);
    w.str("consultation id", &b.consultation_id)?;
    w.bytes(&b.manifest_leaf);
    w.bytes(&b.voter_token);
    w.u8(b.level);
    w.u8(b.disclosure as u8);
    w.0.extend_from_slice(&b.day.0.to_be_bytes());
    w.u16("answer count", b.answers.len())?;
    for a in &b.answers {
        w.0.extend_from_slice(&a.item.to_be_bytes());
        w.u8(a.option);
    }
    w.bytes(&b.nonce);
    Ok(())
}

fn read_close(r: &mut Reader<'_>) -> Result<Close, EntryError> {
    let c = Close {
        consultation_id: r.nonempty_str("consultation id")?,
        manifest_leaf: r.array("manifest leaf hash")?,
        day: r.day("closing day")?,
        ballot_entries: r.u64("ballot entry count")?,
        counted_ballots: r.u64("counted ballot count")?,
        result_sha256: r.array("result.csv hash")?,
    };
    if c.counted_ballots > c.ballot_entries {
        return Err(EntryError::BadValue {
            field: "counted ballot count (above ballot entries)",
            value: c.counted_ballots,
        });
    }
    Ok(c)
}

fn write_close(w: &mut Writer, c: &Close) -> Result<(), EntryError> {
    w.u8(TYPE_CLOSE);
    w.str("consultation id", &c.consultation_id)?;
    w.bytes(&c.manifest_leaf);
    w.0.extend_from_slice(&c.day.0.to_be_bytes());
    w.0.extend_from_slice(&c.ballot_entries.to_be_bytes());
    w.0.extend_from_slice(&c.counted_ballots.to_be_bytes());
    w.bytes(&c.result_sha256);
    Ok(())
}

struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }

    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], EntryError> {
        if self.buf.len() < n {
            return Err(EntryError::Truncated(field));
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], EntryError> {
        Ok(self.take(N, field)?.try_into().expect("length taken"))
    }

    fn u8(&mut self, field: &'static str) -> Result<u8, EntryError> {
        Ok(self.take(1, field)?[0])
    }

    fn u16(&mut self, field: &'static str) -> Result<u16, EntryError> {
        Ok(u16::from_be_bytes(self.array(field)?))
    }

    fn u32(&mut self, field: &'static str) -> Result<u32, EntryError> {
        Ok(u32::from_be_bytes(self.array(field)?))
    }

    fn u64(&mut self, field: &'static str) -> Result<u64, EntryError> {
        Ok(u64::from_be_bytes(self.array(field)?))
    }

    fn day(&mut self, field: &'static str) -> Result<Day, EntryError> {
        let n = self.u32(field)?;
        Day::new(n).ok_or(EntryError::BadValue {
            field,
            value: n.into(),
        })
    }

    fn level(&mut self, field: &'static str) -> Result<u8, EntryError> {
        let l = self.u8(field)?;
        if l > MAX_LEVEL {
            return Err(EntryError::BadValue {
                field,
                value: l.into(),
            });
        }
        Ok(l)
    }

    fn nonempty_str(&mut self, field: &'static str) -> Result<String, EntryError> {
        let n = self.u16(field)?;
        let s = std::str::from_utf8(self.take(n.into(), field)?)
            .map_err(|_| EntryError::InvalidUtf8(field))?;
        if s.is_empty() {
            return Err(EntryError::Empty(field));
        }
        if !is_nfc(s) {
            return Err(EntryError::NotNfc(field));
        }
        Ok(s.to_string())
    }

    fn finish(self) -> Result<(), EntryError> {
        match self.buf.len() {
            0 => Ok(()),
            n => Err(EntryError::TrailingBytes(n)),
        }
    }
}

struct Writer(Vec<u8>);

impl Writer {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }

    fn u16(&mut self, field: &'static str, n: usize) -> Result<(), EntryError> {
        let v = u16::try_from(n).map_err(|_| EntryError::BadValue {
            field,
            value: n as u64,
        })?;
        self.0.extend_from_slice(&v.to_be_bytes());
        Ok(())
    }

    fn bytes(&mut self, b: &[u8]) {
        self.0.extend_from_slice(b);
    }

    fn str(&mut self, field: &'static str, s: &str) -> Result<(), EntryError> {
        let n = u16::try_from(s.len()).map_err(|_| EntryError::TooLong {
            field,
            len: s.len(),
        })?;
        self.0.extend_from_slice(&n.to_be_bytes());
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_print_and_parse_as_iso_dates() {
        let d = Day::parse_iso("2026-11-23").unwrap();
        assert_eq!(d.to_string(), "2026-11-23");
        assert_eq!(Day::parse_iso("1970-01-01"), Day::new(0));
        assert_eq!(Day::new(MAX_DAY).unwrap().to_string(), "9999-12-31");
        assert_eq!(Day::new(MAX_DAY + 1), None);
        assert_eq!(Day::parse_iso("2026-02-30"), None);
    }
}

//! Voting (DESIGN §6, docs/ballot-log.md): opening a consultation's ballot log when it
//! enters the voting phase, casting ballots with receipts, closing with the tally, and
//! reading checkpoints, proofs, receipts and results.
//!
//! Casting is split in two. [`Voting::prepare`] checks the rules and encodes the ballot
//! (database reads only, on a blocking thread). [`Voting::submit`] hands it to the
//! appender: one thread per process that takes every ballot waiting, appends them in one
//! transaction (a **group commit**: one durable commit for many ballots) under the log's
//! lock, and only then answers each voter with their receipt. The order of the log is
//! kept by the database (the `ballot_logs` row lock, or SQLite's single writer), so any
//! number of app servers can append to the same log.

use crate::domain::amendment::AmendmentStatus;
use crate::domain::consultation::Phase;
use crate::domain::ids::{AccountId, ConsultationId};
use crate::ledger::checkpoint::{Checkpoint, SigningKey};
use crate::ledger::entry::{
    AmendmentRef, Answer, Ballot, Close, Day, Disclosure, Entry, Item, Manifest, RevotePolicy,
    Subject,
};
use crate::ledger::merkle::{leaf_hash, Hash, Tree};
use crate::ledger::receipt::Receipt;
use crate::ledger::tally::{result_csv, result_sha256, tally};
use crate::ledger::token::ConsultationKey;
use crate::service::identity::SessionInfo;
use crate::store::{self, ballots::NewEntry, consultations::Consultation, DbConnection, Store};
use crate::store::{ballots, StoreError};
use ring::rand::{SecureRandom, SystemRandom};
use serde_json::json;
use std::collections::HashMap;
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// Amendment statuses put to the vote when voting opens: the standing ones.
pub const VOTED_STATUSES: [AmendmentStatus; 2] = AmendmentStatus::STANDING;

/// How many ballots one commit takes at most.
const MAX_BATCH: usize = 512;

/// How often, at most, a checkpoint is published while ballots arrive.
const PUBLISH_EVERY: Duration = Duration::from_secs(10);

/// Rows read at a time when streaming a log.
const PAGE: i64 = 5000;

#[derive(Debug, thiserror::Error)]
pub enum VoteError {
    #[error("no such consultation or ballot")]
    NotFound,
    #[error("this consultation is not open for voting (it is in phase {0})")]
    NotVoting(Phase),
    #[error("voting needs level {needed}")]
    Level { needed: u8, have: u8 },
    #[error("voting opens on {0}")]
    NotYet(String),
    #[error("voting closed on {0}")]
    Ended(String),
    #[error("the ballot is invalid: {0}")]
    Invalid(&'static str),
    #[error("you have already voted, and this consultation counts one ballot per person")]
    AlreadyVoted,
    #[error("the ballot log is closed")]
    Closed,
    #[error("the closing day {0} has passed: voting cannot open")]
    ClosingDayPassed(String),
    #[error("this receipt is not yours")]
    NotYours,
    #[error("voting on this consultation is not closed yet: close it first")]
    NotClosed,
    #[error("the consultation key has been destroyed: nobody can be tied to a ballot any more, so receipts cannot be issued again (keep the one you downloaded)")]
    KeyDestroyed,
    #[error("nothing is put to the vote: choose at least one amendment or the bill as a whole")]
    NothingToVote,
    #[error("what is put to the vote can be changed only before voting opens (the consultation is in phase {0})")]
    SettingsLocked(Phase),
    #[error("only staff choose what is put to the vote")]
    StaffOnly,
    /// The account is suspended by moderation until this time (RFC 3339).
    #[error("your account is suspended until {0}")]
    Suspended(String),
    #[error("the ballot log is damaged: {0}")]
    Ledger(String),
    #[error("the appender stopped")]
    Stopped,
    #[error(transparent)]
    Store(#[from] StoreError),
}

// Here rather than in `moderation`, which the use cases call: it imports neither.
impl From<crate::service::moderation::Suspended> for VoteError {
    fn from(s: crate::service::moderation::Suspended) -> Self {
        Self::Suspended(s.until)
    }
}

/// The instance's log key (`log.key` in the data folder: a 32-byte Ed25519 seed). Every
/// log is signed with it, under the log's origin as key name.
#[derive(Clone)]
pub struct LogKey([u8; 32]);

impl std::fmt::Debug for LogKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LogKey(…)")
    }
}

impl LogKey {
    pub fn from_seed(seed: [u8; 32]) -> LogKey {
        LogKey(seed)
    }

    pub fn random() -> LogKey {
        let mut seed = [0u8; 32];
        SystemRandom::new()
            .fill(&mut seed)
            .expect("the system random generator");
        LogKey(seed)
    }

    pub fn signer(&self, origin: &str) -> SigningKey {
        SigningKey::from_seed(origin, &self.0).expect("a 32-byte seed is a valid key")
    }

    /// The raw Ed25519 public key.
    pub fn public_key(&self) -> [u8; 32] {
        *self.signer("amenda").public_key().bytes()
    }
}

/// What a receipt checked by [`Voting::check_receipt`] proves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptCheck {
    pub consultation: ConsultationId,
    pub index: u64,
    /// The checkpoint it carries: the log's size and root then, and its origin.
    pub size: u64,
    pub root: Hash,
    pub origin: String,
    /// Once the log is closed, for a ballot: whether it is the one counted for its voter
    /// (`false`: a later ballot of the same voter replaced it). `None` before the close.
    pub counted: Option<bool>,
}

/// Why a receipt does not check (the detail strings come from the parser or the
/// cryptography, in English).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptRefusal {
    #[error("not a receipt: {0}")]
    NotReceipt(String),
    #[error("the receipt is for a log of another site")]
    OtherSite,
    #[error("the receipt's signature or proof does not hold: {0}")]
    NotProven(String),
    #[error("the log has no entry {0}")]
    NoEntry(u64),
    #[error("entry {0} of the log is not the receipt's")]
    DifferentEntry(u64),
    #[error("the log's first {0} entries have another root")]
    OtherRoot(u64),
    #[error("the log cannot be read now: {0}")]
    Unavailable(String),
}

/// Today by the store's clock, as the ballot log counts days.
pub fn today(store: &Store) -> Day {
    Day::from_date(store.clock().today()).expect("a day before 9999")
}

/// A consultation's day as the ballot log counts days.
fn day(d: crate::domain::time::Day) -> Result<Day, VoteError> {
    Day::from_date(d.date()).ok_or(VoteError::Invalid("date"))
}

fn hash32(hex_str: &str) -> Result<Hash, VoteError> {
    hex::decode(hex_str)
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or_else(|| VoteError::Ledger(format!("not a SHA-256: {hex_str}")))
}

/// The question and option labels of the items, in the bill's language.
fn wording(lang: &str) -> (&'static str, &'static str, [&'static str; 3]) {
    if lang.starts_with("en") {
        (
            "Adopt amendment {}?",
            "Adopt the bill {} as a whole?",
            ["for", "against", "abstain"],
        )
    } else {
        (
            "Adopter l'amendement {} ?",
            "Adopter l'ensemble du texte {} ?",
            ["pour", "contre", "abstention"],
        )
    }
}

/// Opens the ballot log of a consultation that enters the voting phase: the manifest
/// (the version, every amendment still standing, one item per amendment and one on the
/// bill as a whole, for / against / abstain), a fresh consultation key, and the first
/// checkpoint. Runs inside the caller's transaction.
pub fn open_log(
    conn: &mut DbConnection,
    c: &Consultation,
    key: &LogKey,
    host: &str,
    today: Day,
) -> Result<(), VoteError> {
    let bill = store::bills::by_id(conn, c.bill_id)?.ok_or(VoteError::NotFound)?;
    let version = store::versions::by_id(conn, c.version_id)?
        .ok_or(VoteError::NotFound)?
        .meta;
    let closes = day(c.closes_on)?;
    if closes < today {
        return Err(VoteError::ClosingDayPassed(c.closes_on.iso()));
    }
    let opens = day(c.opens_on)?.max(today);
    let chosen = settings_of(conn, c.id)?;
    let mut standing: Vec<_> = standing(conn, c)?
        .into_iter()
        .filter(|a| {
            chosen
                .amendments
                .as_ref()
                .is_none_or(|list| list.contains(&a.number))
        })
        .collect();
    standing.sort_by_key(|a| a.number);
    if standing.is_empty() && !chosen.bill_item {
        return Err(VoteError::NothingToVote);
    }
    let (q_amendment, q_bill, options) = wording(&bill.meta.language);
    let options: Vec<String> = options[..chosen.options.len()]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut amendments = Vec::new();
    let mut items = Vec::new();
    for (i, a) in standing.iter().enumerate() {
        let rev =
            store::amendments::revision(conn, a.id, a.revision)?.ok_or(VoteError::NotFound)?;
        let id = crate::domain::amendment::display_number(&bill.slug, a.number);
        amendments.push(AmendmentRef {
            id: id.clone(),
            revision: a.revision as u32,
            hash: revision_hash(&rev.operations, &rev.justification),
        });
        items.push(Item {
            subject: Subject::Amendment(i as u16),
            question: q_amendment.replace("{}", &id),
            options: options.clone(),
        });
    }
    if chosen.bill_item {
        items.push(Item {
            subject: Subject::Bill,
            question: q_bill.replace("{}", &format!("{}@{}", bill.slug, version.number)),
            options,
        });
    }
    let origin = format!("{host}/consultations/{}/ballots", c.id);
    let signer = key.signer(&origin);
    let manifest = Manifest {
        consultation_id: format!("{}-{}", bill.slug, c.id),
        origin: origin.clone(),
        log_public_key: key.public_key(),
        bill_version_hash: hash32(&version.sha256)?,
        amendments,
        opens,
        closes,
        minimum_level: c.level_vote as u8,
        revote: chosen.revote,
        items,
    };
    let bytes = Entry::Manifest(manifest)
        .encode()
        .map_err(|e| VoteError::Ledger(e.to_string()))?;
    let leaf = leaf_hash(&bytes);
    let voter_key = ConsultationKey::generate(&SystemRandom::new())
        .map_err(|_| VoteError::Ledger("the system random generator failed".into()))?;
    ballots::create(
        conn,
        c.id,
        &origin,
        voter_key.as_bytes(),
        &NewEntry {
            entry: &bytes,
            leaf_hash: &leaf,
            voter_token: None,
        },
    )?;
    let note = signer.sign(&Checkpoint {
        origin,
        size: 1,
        root: Tree::from_leaf_hashes([leaf]).root(),
    });
    ballots::insert_checkpoint(conn, c.id, 1, &note)?;
    Ok(())
}

/// The amendments that can be put to the vote: filed or admissible, on the
/// consultation's version (one left on an earlier version, to redraft, cannot).
fn standing(
    conn: &mut DbConnection,
    c: &Consultation,
) -> Result<Vec<store::amendments::Amendment>, VoteError> {
    Ok(
        store::amendments::for_consultation(conn, c.id, None, 0, i64::from(u16::MAX))?
            .into_iter()
            .filter(|a| VOTED_STATUSES.contains(&a.status) && a.version_id == c.version_id)
            .collect(),
    )
}

/// The answers offered on every item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionSet {
    ForAgainstAbstain,
    ForAgainst,
}

impl OptionSet {
    pub fn as_str(self) -> &'static str {
        match self {
            OptionSet::ForAgainstAbstain => "for_against_abstain",
            OptionSet::ForAgainst => "for_against",
        }
    }

    pub fn parse(s: &str) -> Option<OptionSet> {
        [OptionSet::ForAgainstAbstain, OptionSet::ForAgainst]
            .into_iter()
            .find(|o| o.as_str() == s)
    }

    fn len(self) -> usize {
        match self {
            OptionSet::ForAgainstAbstain => 3,
            OptionSet::ForAgainst => 2,
        }
    }
}

pub fn revote_str(r: RevotePolicy) -> &'static str {
    match r {
        RevotePolicy::LastCounts => "last_counts",
        RevotePolicy::Single => "single",
    }
}

pub fn parse_revote(s: &str) -> Option<RevotePolicy> {
    [RevotePolicy::LastCounts, RevotePolicy::Single]
        .into_iter()
        .find(|r| revote_str(*r) == s)
}

/// What staff put to the vote, written into the manifest when voting opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoteSettings {
    /// Amendment numbers put to the vote; `None`: every amendment still standing.
    pub amendments: Option<Vec<i32>>,
    /// An item on the bill as a whole.
    pub bill_item: bool,
    pub options: OptionSet,
    pub revote: RevotePolicy,
}

impl Default for VoteSettings {
    fn default() -> Self {
        VoteSettings {
            amendments: None,
            bill_item: true,
            options: OptionSet::ForAgainstAbstain,
            revote: RevotePolicy::LastCounts,
        }
    }
}

fn settings_of(conn: &mut DbConnection, id: ConsultationId) -> Result<VoteSettings, VoteError> {
    let Some(row) = ballots::settings(conn, id)? else {
        return Ok(VoteSettings::default());
    };
    let damaged = |what: &str| VoteError::Ledger(format!("vote settings of {id}: {what}"));
    Ok(VoteSettings {
        amendments: row
            .amendments
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|_| damaged("amendments"))?,
        bill_item: row.bill_item != 0,
        options: OptionSet::parse(&row.options).ok_or_else(|| damaged("options"))?,
        revote: parse_revote(&row.revote).ok_or_else(|| damaged("revote"))?,
    })
}

/// An amendment that can be put to the vote, for the settings form.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Candidate {
    pub number: i32,
    /// `AM-<bill>-<n>`.
    pub id: String,
    pub chosen: bool,
}

/// The settings of a consultation (the defaults if staff never set them) and the
/// amendments that can be put to the vote, with whether each is chosen.
pub fn vote_settings(
    store: &Store,
    id: ConsultationId,
) -> Result<(VoteSettings, Vec<Candidate>), VoteError> {
    let mut conn = store.conn()?;
    let c = store::consultations::by_id(&mut conn, id)?.ok_or(VoteError::NotFound)?;
    let bill = store::bills::by_id(&mut conn, c.bill_id)?.ok_or(VoteError::NotFound)?;
    let settings = settings_of(&mut conn, id)?;
    let mut list: Vec<Candidate> = standing(&mut conn, &c)?
        .into_iter()
        .map(|a| Candidate {
            number: a.number,
            id: crate::domain::amendment::display_number(&bill.slug, a.number),
            chosen: settings
                .amendments
                .as_ref()
                .is_none_or(|l| l.contains(&a.number)),
        })
        .collect();
    list.sort_by_key(|c| c.number);
    Ok((settings, list))
}

/// Staff choose what is put to the vote, before voting opens. Amendment numbers that are
/// not standing amendments of the consultation are refused; the choice is audited.
pub fn save_vote_settings(
    store: &Store,
    who: &SessionInfo,
    id: ConsultationId,
    settings: &VoteSettings,
) -> Result<(), VoteError> {
    if !who.has_role(crate::domain::identity::Role::Staff) {
        return Err(VoteError::StaffOnly);
    }
    store.transaction(|conn| {
        let c = store::consultations::by_id(conn, id)?.ok_or(VoteError::NotFound)?;
        if !c.phase.before_voting() {
            return Err(VoteError::SettingsLocked(c.phase));
        }
        if let Some(list) = &settings.amendments {
            let standing: Vec<i32> = standing(conn, &c)?.iter().map(|a| a.number).collect();
            if list.iter().any(|n| !standing.contains(n)) {
                return Err(VoteError::Invalid("err_vote_settings_amendment"));
            }
            if list.is_empty() && !settings.bill_item {
                return Err(VoteError::NothingToVote);
            }
        }
        let amendments = settings
            .amendments
            .as_ref()
            .map(|l| serde_json::to_string(l).expect("numbers"));
        ballots::save_settings(
            conn,
            id,
            amendments.as_deref(),
            settings.bill_item,
            settings.options.as_str(),
            revote_str(settings.revote),
            who.account.id,
        )?;
        store::audit::record(
            conn,
            Some(who.account.id),
            "vote_settings",
            None,
            &json!({"consultation": id, "amendments": settings.amendments,
                    "bill_item": settings.bill_item, "options": settings.options.as_str(),
                    "revote": revote_str(settings.revote)}),
        )?;
        Ok(())
    })
}

/// The hash of an amendment revision put to the vote: SHA-256 of its operations (the
/// stored JSON), a zero byte, and its justification.
pub fn revision_hash(operations: &str, justification: &str) -> Hash {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(operations.as_bytes());
    ctx.update(&[0]);
    ctx.update(justification.as_bytes());
    ctx.finish().as_ref().try_into().expect("32 bytes")
}

/// What never changes about a log once voting opened (cached per process). The
/// consultation key is not kept here: see [`voter_key`].
pub struct OpenLog {
    pub manifest: Manifest,
    pub manifest_leaf: Hash,
    pub signer: SigningKey,
}

fn load_log(
    conn: &mut DbConnection,
    key: &LogKey,
    id: ConsultationId,
) -> Result<Arc<OpenLog>, VoteError> {
    let bytes = ballots::entry(conn, id, 0)?.ok_or(VoteError::NotFound)?;
    let manifest = Manifest::decode(&bytes).map_err(|e| VoteError::Ledger(e.to_string()))?;
    Ok(Arc::new(OpenLog {
        manifest_leaf: leaf_hash(&bytes),
        signer: key.signer(&manifest.origin),
        manifest,
    }))
}

/// The consultation key, read from the database at each use: once it is destroyed
/// there, no app server still holds it in memory.
fn voter_key(conn: &mut DbConnection, id: ConsultationId) -> Result<ConsultationKey, VoteError> {
    let key: [u8; 32] = ballots::voter_key(conn, id)?
        .and_then(|k| k.try_into().ok())
        .ok_or(VoteError::KeyDestroyed)?;
    Ok(ConsultationKey::from_bytes(key))
}

/// A ballot ready to append.
pub struct Prepared {
    pub consultation_id: ConsultationId,
    pub bytes: Vec<u8>,
    pub token: [u8; 32],
    pub revote: RevotePolicy,
    /// The voter's account, on their first ballot when they chose public disclosure: it
    /// is recorded with the ballot so that the results can name them.
    pub public_account: Option<AccountId>,
    log: Arc<OpenLog>,
}

/// A voter's choice before it becomes a ballot.
pub struct Choice {
    /// `(item, option)`; items not listed are not answered.
    pub answers: Vec<(u16, u8)>,
    /// Used for the voter's first ballot; later ballots keep the first one's.
    pub disclosure: Disclosure,
}

/// What the voting page needs about one voter.
pub struct VoterView {
    pub log: Arc<OpenLog>,
    /// The voter's last ballot: its index and content.
    pub last: Option<(u64, Ballot)>,
}

struct Job {
    prepared: Prepared,
    reply: rocket::tokio::sync::oneshot::Sender<Result<Receipt, VoteError>>,
}

/// Whether a consultation is open for voting (in its voting phase): ballots are cast,
/// and staff may close it, only then.
pub fn open_for_voting(c: &Consultation) -> bool {
    c.phase == Phase::Voting
}

/// Whether `who` has the level `c` asks of its voters ([`VoteError::Level`] if not).
pub fn ensure_level(c: &Consultation, who: &SessionInfo) -> Result<(), VoteError> {
    let needed = c.level_vote as u8;
    let have = who.level().get();
    if have < needed {
        return Err(VoteError::Level { needed, have });
    }
    Ok(())
}

/// The voting service of one process: caches of open logs and Merkle trees, and the
/// appender thread.
pub struct Voting {
    store: Store,
    key: LogKey,
    /// The host part of log origins (`consult.example.org`).
    host: String,
    /// Days the consultation key is kept after the close (the publication window).
    window_days: u32,
    logs: Mutex<HashMap<ConsultationId, Arc<OpenLog>>>,
    /// Trees of the logs, synced from the database by whoever uses them, under the lock.
    trees: Arc<Mutex<HashMap<ConsultationId, Tree>>>,
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
}

impl Voting {
    pub fn new(store: Store, key: LogKey, host: &str, window_days: u32) -> Voting {
        Voting {
            store,
            key,
            host: host.to_string(),
            window_days,
            logs: Mutex::new(HashMap::new()),
            trees: Arc::new(Mutex::new(HashMap::new())),
            jobs: Mutex::new(None),
        }
    }

    pub fn key(&self) -> &LogKey {
        &self.key
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn window_days(&self) -> u32 {
        self.window_days
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The open log of a consultation (cached: a manifest never changes).
    pub fn log(
        &self,
        conn: &mut DbConnection,
        id: ConsultationId,
    ) -> Result<Arc<OpenLog>, VoteError> {
        if let Some(l) = self.logs.lock().expect("logs").get(&id) {
            return Ok(l.clone());
        }
        let l = load_log(conn, &self.key, id)?;
        self.logs.lock().expect("logs").insert(id, l.clone());
        Ok(l)
    }

    fn consultation_voting(
        conn: &mut DbConnection,
        id: ConsultationId,
    ) -> Result<Consultation, VoteError> {
        let c = store::consultations::by_id(conn, id)?.ok_or(VoteError::NotFound)?;
        if !open_for_voting(&c) {
            return Err(VoteError::NotVoting(c.phase));
        }
        Ok(c)
    }

    /// The log and the voter's last ballot, for the voting page.
    pub fn voter(&self, who: &SessionInfo, id: ConsultationId) -> Result<VoterView, VoteError> {
        let mut conn = self.store.conn()?;
        Self::consultation_voting(&mut conn, id)?;
        let log = self.log(&mut conn, id)?;
        let token = voter_key(&mut conn, id)?.voter_token(who.account.id);
        let last = match ballots::last_ballot_of(&mut conn, id, &token)? {
            Some((i, bytes)) => Some((
                i as u64,
                Ballot::decode(&bytes).map_err(|e| VoteError::Ledger(e.to_string()))?,
            )),
            None => None,
        };
        Ok(VoterView { log, last })
    }

    /// Checks a vote against the rules and encodes its ballot. Nothing is written.
    pub fn prepare(
        &self,
        who: &SessionInfo,
        id: ConsultationId,
        choice: &Choice,
        today: Day,
    ) -> Result<Prepared, VoteError> {
        let mut conn = self.store.conn()?;
        let c = Self::consultation_voting(&mut conn, id)?;
        ensure_level(&c, who)?;
        crate::service::moderation::ensure_active(
            &mut conn,
            who.account.id,
            self.store.clock().now(),
        )?;
        let log = self.log(&mut conn, id)?;
        let m = &log.manifest;
        if today < m.opens {
            return Err(VoteError::NotYet(m.opens.date().to_string()));
        }
        if today > m.closes {
            return Err(VoteError::Ended(m.closes.date().to_string()));
        }
        let mut answers: Vec<Answer> = choice
            .answers
            .iter()
            .map(|&(item, option)| Answer { item, option })
            .collect();
        answers.sort();
        answers.dedup_by_key(|a| a.item);
        if answers.is_empty() {
            return Err(VoteError::Invalid("err_vote_empty"));
        }
        if answers.len() != choice.answers.len() {
            return Err(VoteError::Invalid("err_vote_twice"));
        }
        for a in &answers {
            match m.items.get(a.item as usize) {
                Some(item) if (a.option as usize) < item.options.len() => {}
                _ => return Err(VoteError::Invalid("err_vote_option")),
            }
        }
        let token = voter_key(&mut conn, id)?.voter_token(who.account.id);
        let previous = ballots::last_ballot_of(&mut conn, id, &token)?;
        if previous.is_some() && m.revote == RevotePolicy::Single {
            return Err(VoteError::AlreadyVoted);
        }
        // The disclosure is chosen once per consultation.
        let disclosure = match &previous {
            Some((_, bytes)) => {
                Ballot::decode(bytes)
                    .map_err(|e| VoteError::Ledger(e.to_string()))?
                    .disclosure
            }
            None => choice.disclosure,
        };
        let mut nonce = [0u8; 32];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| VoteError::Ledger("the system random generator failed".into()))?;
        let ballot = Ballot {
            consultation_id: m.consultation_id.clone(),
            manifest_leaf: log.manifest_leaf,
            voter_token: token,
            level: who.level().get().min(3),
            disclosure,
            day: today,
            answers,
            nonce,
        };
        ballot
            .check(m, &log.manifest_leaf)
            .map_err(|e| VoteError::Ledger(e.to_string()))?;
        let bytes = Entry::Ballot(ballot)
            .encode()
            .map_err(|e| VoteError::Ledger(e.to_string()))?;
        Ok(Prepared {
            consultation_id: id,
            bytes,
            token,
            revote: m.revote,
            public_account: (previous.is_none() && disclosure == Disclosure::Public)
                .then_some(who.account.id),
            log,
        })
    }

    /// Appends a prepared ballot; returns its receipt once the ballot is durably stored.
    pub async fn submit(&self, prepared: Prepared) -> Result<Receipt, VoteError> {
        let (reply, answer) = rocket::tokio::sync::oneshot::channel();
        self.sender()?
            .send(Job { prepared, reply })
            .map_err(|_| VoteError::Stopped)?;
        answer.await.map_err(|_| VoteError::Stopped)?
    }

    /// [`Voting::submit`] for callers without an async runtime (tests, tools).
    pub fn submit_blocking(&self, prepared: Prepared) -> Result<Receipt, VoteError> {
        let (reply, answer) = rocket::tokio::sync::oneshot::channel();
        self.sender()?
            .send(Job { prepared, reply })
            .map_err(|_| VoteError::Stopped)?;
        answer.blocking_recv().map_err(|_| VoteError::Stopped)?
    }

    /// The appender's queue, starting the thread on first use. It stops when the
    /// service is dropped.
    fn sender(&self) -> Result<mpsc::Sender<Job>, VoteError> {
        let mut jobs = self.jobs.lock().expect("jobs");
        if let Some(tx) = jobs.as_ref() {
            return Ok(tx.clone());
        }
        let (tx, rx) = mpsc::channel();
        let appender = Appender {
            store: self.store.clone(),
            trees: self.trees.clone(),
            published: HashMap::new(),
        };
        std::thread::Builder::new()
            .name("ballot-appender".into())
            .spawn(move || appender.run(rx))
            .map_err(|_| VoteError::Stopped)?;
        *jobs = Some(tx.clone());
        Ok(tx)
    }

    /// Runs `f` on the log's tree, brought up to date with the database first.
    fn with_tree<T>(
        &self,
        conn: &mut DbConnection,
        id: ConsultationId,
        f: impl FnOnce(&Tree) -> T,
    ) -> Result<T, VoteError> {
        let mut trees = self.trees.lock().expect("trees");
        let tree = trees.entry(id).or_default();
        sync_tree(conn, id, tree, None)?;
        Ok(f(tree))
    }

    /// A signed checkpoint of the log as it is now.
    pub fn checkpoint_now(&self, id: ConsultationId) -> Result<(u64, String), VoteError> {
        let mut conn = self.store.conn()?;
        let log = ballots::by_consultation(&mut conn, id)?.ok_or(VoteError::NotFound)?;
        let (size, root) = self.with_tree(&mut conn, id, |t| (t.len(), t.root()))?;
        let note = self.key.signer(&log.origin).sign(&Checkpoint {
            origin: log.origin,
            size,
            root,
        });
        Ok((size, note))
    }

    /// The receipt of ballot `index`, for the voter who cast it only (before the close
    /// the ballot's content is theirs alone), against the log as it is now.
    pub fn receipt(
        &self,
        who: &SessionInfo,
        id: ConsultationId,
        index: u64,
    ) -> Result<Receipt, VoteError> {
        let mut conn = self.store.conn()?;
        let log = self.log(&mut conn, id)?;
        let bytes = ballots::entry(&mut conn, id, index as i64)?.ok_or(VoteError::NotFound)?;
        let ballot = Ballot::decode(&bytes).map_err(|_| VoteError::NotFound)?;
        if ballot.voter_token != voter_key(&mut conn, id)?.voter_token(who.account.id) {
            return Err(VoteError::NotYours);
        }
        let (size, root, proof) = self.with_tree(&mut conn, id, |t| {
            (t.len(), t.root(), t.inclusion_proof(index, t.len()))
        })?;
        let proof = proof.map_err(|e| VoteError::Ledger(e.to_string()))?;
        let checkpoint = log.signer.sign(&Checkpoint {
            origin: log.manifest.origin.clone(),
            size,
            root,
        });
        Ok(Receipt {
            index,
            entry: bytes,
            proof,
            checkpoint,
        })
    }

    /// RFC 9162 inclusion proof of `index` in the tree of the first `size` entries.
    pub fn inclusion_proof(
        &self,
        id: ConsultationId,
        index: u64,
        size: u64,
    ) -> Result<Vec<Hash>, VoteError> {
        let mut conn = self.store.conn()?;
        self.with_tree(&mut conn, id, |t| t.inclusion_proof(index, size))?
            .map_err(|e| VoteError::Ledger(e.to_string()))
    }

    /// The root of the log's first `size` entries.
    /// Checks a pasted receipt (its JSON): its signature and proof under this site's
    /// key, then against the log as stored: the entry at its index, the root of the
    /// prefix its checkpoint describes, and, once the log is closed, whether that ballot
    /// is the one counted for its voter.
    pub fn check_receipt(&self, text: &str) -> Result<ReceiptCheck, ReceiptRefusal> {
        use crate::ledger::receipt::verify_receipt;
        use ReceiptRefusal as R;
        let unavailable = |e: StoreError| R::Unavailable(e.to_string());
        let r = Receipt::from_json(text).map_err(|e| R::NotReceipt(e.to_string()))?;
        // Which log: the origin names the consultation (`HOST/consultations/ID/ballots`).
        let origin = r.checkpoint.lines().next().unwrap_or("");
        let id: ConsultationId = origin
            .strip_suffix("/ballots")
            .and_then(|o| o.rsplit('/').next())
            .and_then(|n| n.parse().ok())
            .ok_or(R::OtherSite)?;
        let mut conn = self.store.conn().map_err(unavailable)?;
        let log = ballots::by_consultation(&mut conn, id)
            .map_err(unavailable)?
            .filter(|l| l.origin == origin)
            .ok_or(R::OtherSite)?;
        let key = self.key.signer(&log.origin).public_key();
        let v = verify_receipt(&r, &key).map_err(|e| R::NotProven(e.to_string()))?;
        let stored = ballots::entry(&mut conn, id, r.index as i64)
            .map_err(unavailable)?
            .ok_or(R::NoEntry(r.index))?;
        if stored != r.entry {
            return Err(R::DifferentEntry(r.index));
        }
        // The receipt's checkpoint must describe a prefix of the log as stored.
        let root = self
            .root_at(id, v.checkpoint.size)
            .map_err(|e| R::Unavailable(e.to_string()))?;
        if root != v.checkpoint.root {
            return Err(R::OtherRoot(v.checkpoint.size));
        }
        let counted = match &v.entry {
            Entry::Ballot(b) if log.closed_at.is_some() => {
                let last =
                    ballots::last_ballot_of(&mut conn, id, &b.voter_token).map_err(unavailable)?;
                Some(last.map(|l| l.0) == Some(r.index as i64))
            }
            _ => None,
        };
        Ok(ReceiptCheck {
            consultation: id,
            index: r.index,
            size: v.checkpoint.size,
            root: v.checkpoint.root,
            origin: v.checkpoint.origin,
            counted,
        })
    }

    pub fn root_at(&self, id: ConsultationId, size: u64) -> Result<Hash, VoteError> {
        let mut conn = self.store.conn()?;
        self.with_tree(&mut conn, id, |t| t.root_at(size))?
            .map_err(|e| VoteError::Ledger(e.to_string()))
    }

    /// RFC 9162 consistency proof between the trees of `from` and `to` entries.
    pub fn consistency_proof(
        &self,
        id: ConsultationId,
        from: u64,
        to: u64,
    ) -> Result<Vec<Hash>, VoteError> {
        let mut conn = self.store.conn()?;
        self.with_tree(&mut conn, id, |t| t.consistency_proof(from, to))?
            .map_err(|e| VoteError::Ledger(e.to_string()))
    }

    /// Closes voting: counts the ballots, appends the close record, publishes the final
    /// checkpoint and moves the consultation to "closed", in one transaction.
    /// The consultation key is kept for the publication window, then destroyed
    /// ([`destroy_due_keys`]).
    pub fn close(
        &self,
        staff_id: Option<AccountId>,
        id: ConsultationId,
        today: Day,
    ) -> Result<Closed, VoteError> {
        let window_days = self.window_days;
        let closed = self.store.transaction(|conn| {
            let c = Self::consultation_voting(conn, id)?;
            let log = ballots::lock(conn, id)?.ok_or(VoteError::NotFound)?;
            if log.closed_at.is_some() {
                return Err(VoteError::Closed);
            }
            let manifest_bytes = ballots::entry(conn, id, 0)?.ok_or(VoteError::NotFound)?;
            let manifest =
                Manifest::decode(&manifest_bytes).map_err(|e| VoteError::Ledger(e.to_string()))?;
            let manifest_leaf = leaf_hash(&manifest_bytes);
            let mut participation: std::collections::BTreeMap<u32, u64> = Default::default();
            let mut failure = None;
            let stream = LogStream::new(conn, id, 1, log.size).map_while(|r| match r {
                Ok((_, bytes)) => match Ballot::decode_for(&bytes, &manifest, &manifest_leaf) {
                    Ok(b) => {
                        *participation.entry(b.day.number()).or_default() += 1;
                        Some(b)
                    }
                    Err(e) => {
                        failure = Some(VoteError::Ledger(e.to_string()));
                        None
                    }
                },
                Err(e) => {
                    failure = Some(e);
                    None
                }
            });
            let counted = tally(&manifest, stream).map_err(|e| VoteError::Ledger(e.to_string()));
            if let Some(e) = failure {
                return Err(e);
            }
            let counted = counted?;
            let csv = result_csv(&manifest, &counted);
            let close_day = today.max(manifest.opens);
            let close = Entry::Close(Close {
                consultation_id: manifest.consultation_id.clone(),
                manifest_leaf,
                day: close_day,
                ballot_entries: counted.ballot_entries,
                counted_ballots: counted.counted_ballots,
                result_sha256: result_sha256(csv.as_bytes()),
            })
            .encode()
            .map_err(|e| VoteError::Ledger(e.to_string()))?;
            let leaf = leaf_hash(&close);
            ballots::append(
                conn,
                id,
                log.size,
                &[NewEntry {
                    entry: &close,
                    leaf_hash: &leaf,
                    voter_token: None,
                }],
            )?;
            let size = log.size + 1;
            let root = {
                let mut trees = self.trees.lock().expect("trees");
                let tree = trees.entry(id).or_default();
                sync_tree(conn, id, tree, None)?;
                tree.root()
            };
            let note = self.key.signer(&log.origin).sign(&Checkpoint {
                origin: log.origin.clone(),
                size: size as u64,
                root,
            });
            ballots::insert_checkpoint(conn, id, size, &note)?;
            let destroy_after = self
                .store
                .clock()
                .now()
                .plus(time::Duration::days(i64::from(window_days)))
                .rfc3339();
            let participation: Vec<(String, u64)> = participation
                .into_iter()
                .filter_map(|(d, n)| Some((Day::new(d)?.date().to_string(), n)))
                .collect();
            let participation_json = serde_json::to_string(&participation)
                .map_err(|e| VoteError::Ledger(e.to_string()))?;
            ballots::set_closed(conn, id, &csv, &participation_json, &destroy_after)?;
            if !store::consultations::set_phase(conn, id, c.phase, Phase::Closed)? {
                return Err(VoteError::NotVoting(c.phase));
            }
            store::audit::record(
                conn,
                staff_id,
                "close_voting",
                None,
                &json!({"consultation": id, "entries": size, "ballots": counted.ballot_entries,
                        "counted": counted.counted_ballots, "key_destroyed_after": destroy_after}),
            )?;
            Ok(Closed {
                entries: size as u64,
                ballots: counted.ballot_entries,
                counted: counted.counted_ballots,
                checkpoint: note,
                participation,
                destroy_key_after: destroy_after,
            })
        });
        self.logs.lock().expect("logs").remove(&id);
        if closed.is_err() {
            // The tree may hold the close entry of a transaction that rolled back.
            self.trees.lock().expect("trees").remove(&id);
        }
        closed
    }
}

/// What a close did.
#[derive(Debug, Clone)]
pub struct Closed {
    pub entries: u64,
    pub ballots: u64,
    pub counted: u64,
    pub checkpoint: String,
    /// Ballots cast per day (ISO date, count).
    pub participation: Vec<(String, u64)>,
    pub destroy_key_after: String,
}

/// Brings `tree` up to date with the committed entries of the log: up to `upto` if given,
/// else everything committed.
fn sync_tree(
    conn: &mut DbConnection,
    id: ConsultationId,
    tree: &mut Tree,
    upto: Option<i64>,
) -> Result<(), VoteError> {
    let from = tree.len() as i64;
    let to = upto.unwrap_or(i64::MAX);
    if from >= to {
        return Ok(());
    }
    for h in ballots::leaf_hashes(conn, id, from, to)? {
        tree.push_leaf_hash(h);
    }
    Ok(())
}

/// Entries `from..to` of a log, read a page at a time.
pub struct LogStream<'c> {
    conn: &'c mut DbConnection,
    id: ConsultationId,
    next: i64,
    to: i64,
    page: std::vec::IntoIter<(i64, Vec<u8>)>,
}

impl<'c> LogStream<'c> {
    pub fn new(
        conn: &'c mut DbConnection,
        id: ConsultationId,
        from: i64,
        to: i64,
    ) -> LogStream<'c> {
        LogStream {
            conn,
            id,
            next: from,
            to,
            page: Vec::new().into_iter(),
        }
    }
}

impl Iterator for LogStream<'_> {
    type Item = Result<(i64, Vec<u8>), VoteError>;
    fn next(&mut self) -> Option<Self::Item> {
        if let Some(row) = self.page.next() {
            return Some(Ok(row));
        }
        if self.next >= self.to {
            return None;
        }
        let limit = PAGE.min(self.to - self.next);
        match ballots::entries_page(self.conn, self.id, self.next, limit) {
            Ok(rows) if rows.is_empty() => None,
            Ok(rows) => {
                // The log is dense: a gap means a damaged table.
                if rows[0].0 != self.next {
                    return Some(Err(VoteError::Ledger(format!(
                        "entry {} is missing",
                        self.next
                    ))));
                }
                self.next = rows.last().map_or(self.to, |r| r.0 + 1);
                self.page = rows.into_iter();
                self.page.next().map(Ok)
            }
            Err(e) => Some(Err(e.into())),
        }
    }
}

/// The appender thread's state.
struct Appender {
    store: Store,
    trees: Arc<Mutex<HashMap<ConsultationId, Tree>>>,
    /// When this process last published a checkpoint of each log.
    published: HashMap<ConsultationId, Instant>,
}

impl Appender {
    fn run(mut self, rx: mpsc::Receiver<Job>) {
        while let Ok(first) = rx.recv() {
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(j) => batch.push(j),
                    Err(_) => break,
                }
            }
            let mut by_log: HashMap<ConsultationId, Vec<Job>> = HashMap::new();
            for j in batch {
                by_log
                    .entry(j.prepared.consultation_id)
                    .or_default()
                    .push(j);
            }
            for (id, jobs) in by_log {
                self.commit(id, jobs);
            }
        }
    }

    /// Appends the ballots of one log in one transaction, then answers each voter.
    fn commit(&mut self, id: ConsultationId, jobs: Vec<Job>) {
        let mut trees = self.trees.lock().expect("trees");
        let tree = trees.entry(id).or_default();
        // Ballots refused at append time (a second ballot where only one counts).
        let mut refused = vec![false; jobs.len()];
        // Hashed once, outside the lock: stored with the rows, then added to the tree.
        let leaves: Vec<Hash> = jobs.iter().map(|j| leaf_hash(&j.prepared.bytes)).collect();
        let outcome = self.store.transaction(|conn| -> Result<(), VoteError> {
            let log = ballots::lock(conn, id)?.ok_or(VoteError::NotFound)?;
            if log.closed_at.is_some() {
                return Err(VoteError::Closed);
            }
            let single = jobs
                .iter()
                .any(|j| j.prepared.revote == RevotePolicy::Single);
            if single {
                let tokens: Vec<&[u8; 32]> = jobs.iter().map(|j| &j.prepared.token).collect();
                let voted = ballots::tokens_with_ballots(conn, id, &tokens)?;
                let mut seen = std::collections::HashSet::new();
                for (i, j) in jobs.iter().enumerate() {
                    let t = &j.prepared.token[..];
                    refused[i] = voted.iter().any(|v| v == t) || !seen.insert(t);
                }
            }
            sync_tree(conn, id, tree, Some(log.size))?;
            if tree.len() as i64 != log.size {
                return Err(VoteError::Ledger(format!(
                    "{} entries stored for a log of size {}",
                    tree.len(),
                    log.size
                )));
            }
            let rows: Vec<NewEntry<'_>> = jobs
                .iter()
                .zip(&leaves)
                .zip(&refused)
                .filter(|(_, r)| !**r)
                .map(|((j, leaf), _)| NewEntry {
                    entry: &j.prepared.bytes,
                    leaf_hash: leaf,
                    voter_token: Some(&j.prepared.token),
                })
                .collect();
            ballots::append(conn, id, log.size, &rows)?;
            for (j, _) in jobs.iter().zip(&refused).filter(|(_, r)| !**r) {
                if let Some(account) = j.prepared.public_account {
                    ballots::add_public_voter(conn, id, &j.prepared.token, account)?;
                }
            }
            Ok(())
        });
        if let Err(e) = outcome {
            tracing::warn!(consultation = id.get(), "ballots not appended: {e}");
            let shared = e.to_string();
            for j in jobs {
                let err = match &e {
                    VoteError::Closed => VoteError::Closed,
                    VoteError::NotFound => VoteError::NotFound,
                    _ => VoteError::Ledger(shared.clone()),
                };
                let _ = j.reply.send(Err(err));
            }
            return;
        }
        // Committed: the tree takes the new leaves, one checkpoint covers them all.
        let index: Vec<Option<u64>> = leaves
            .iter()
            .zip(&refused)
            .map(|(leaf, r)| (!r).then(|| tree.push_leaf_hash(*leaf)))
            .collect();
        let size = tree.len();
        let Some(log) = jobs.first().map(|j| j.prepared.log.clone()) else {
            return;
        };
        let note = log.signer.sign(&Checkpoint {
            origin: log.manifest.origin.clone(),
            size,
            root: tree.root(),
        });
        for (j, i) in jobs.into_iter().zip(index) {
            let answer = match i {
                None => Err(VoteError::AlreadyVoted),
                Some(i) => tree
                    .inclusion_proof(i, size)
                    .map(|proof| Receipt {
                        index: i,
                        entry: j.prepared.bytes,
                        proof,
                        checkpoint: note.clone(),
                    })
                    .map_err(|e| VoteError::Ledger(e.to_string())),
            };
            let _ = j.reply.send(answer);
        }
        drop(trees);
        let due = self
            .published
            .get(&id)
            .is_none_or(|t| t.elapsed() >= PUBLISH_EVERY);
        if due {
            self.published.insert(id, Instant::now());
            let published = self
                .store
                .conn()
                .map_err(VoteError::from)
                .and_then(|mut c| Ok(ballots::insert_checkpoint(&mut c, id, size as i64, &note)?));
            if let Err(e) = published {
                tracing::warn!(consultation = id.get(), "checkpoint not published: {e}");
            }
        }
    }
}

/// Destroys the consultation keys whose publication window has ended; returns the
/// consultations concerned. Each destruction is in the audit log.
pub fn destroy_due_keys(store: &Store) -> Result<Vec<ConsultationId>, VoteError> {
    let now = store.clock().now().rfc3339();
    let mut conn = store.conn()?;
    let due = ballots::keys_due(&mut conn, &now)?;
    let mut done = Vec::new();
    for id in due {
        let destroyed = store.transaction(|conn| -> Result<bool, VoteError> {
            let d = ballots::destroy_key(conn, id)?;
            if d {
                store::audit::record(
                    conn,
                    None,
                    "destroy_consultation_key",
                    None,
                    &json!({"consultation": id}),
                )?;
            }
            Ok(d)
        })?;
        if destroyed {
            tracing::info!(consultation = id.get(), "consultation key destroyed");
            done.push(id);
        }
    }
    Ok(done)
}

/// The result of a closed consultation, read back from the stored `result.csv`.
pub struct Results {
    pub manifest: Manifest,
    pub csv: String,
    /// `rows[item][option]`: total, headline, by level (4), pseudonymous, public.
    pub rows: Vec<Vec<[u64; 8]>>,
    pub entries: u64,
    pub participation: Vec<(String, u64)>,
    pub checkpoint: Option<String>,
    pub key_destroyed: bool,
}

/// The published result of a closed consultation; `None` while voting has not closed.
pub fn results(store: &Store, id: ConsultationId) -> Result<Option<Results>, VoteError> {
    let mut conn = store.conn()?;
    let Some(log) = ballots::by_consultation(&mut conn, id)? else {
        return Ok(None);
    };
    let Some(csv) = log.result_csv.clone() else {
        return Ok(None);
    };
    let bytes = ballots::entry(&mut conn, id, 0)?.ok_or(VoteError::NotFound)?;
    let manifest = Manifest::decode(&bytes).map_err(|e| VoteError::Ledger(e.to_string()))?;
    let mut rows: Vec<Vec<[u64; 8]>> = manifest
        .items
        .iter()
        .map(|i| vec![[0; 8]; i.options.len()])
        .collect();
    let mut reader = csv::ReaderBuilder::new().from_reader(csv.as_bytes());
    for rec in reader.records() {
        let rec = rec.map_err(|e| VoteError::Ledger(e.to_string()))?;
        let num = |i: usize| -> Result<u64, VoteError> {
            rec.get(i)
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| VoteError::Ledger("result.csv".into()))
        };
        let (item, option) = (num(0)? as usize, num(1)? as usize);
        let cell = rows
            .get_mut(item)
            .and_then(|r| r.get_mut(option))
            .ok_or_else(|| VoteError::Ledger("result.csv".into()))?;
        for (k, slot) in cell.iter_mut().enumerate() {
            *slot = num(4 + k)?;
        }
    }
    // Counted at the close, with the ballots.
    let participation: Vec<(String, u64)> =
        serde_json::from_str(log.participation.as_deref().unwrap_or("[]"))
            .map_err(|e| VoteError::Ledger(e.to_string()))?;
    let checkpoint = ballots::latest_checkpoint(&mut conn, id)?.map(|c| c.1);
    Ok(Some(Results {
        manifest,
        csv,
        rows,
        entries: log.size as u64,
        participation,
        checkpoint,
        key_destroyed: log.voter_key.is_none(),
    }))
}

/// A voter who chose public disclosure, with their counted ballot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicVote {
    pub name: String,
    /// The log index of their last ballot, the one counted.
    pub index: i64,
    /// `(item, option)`.
    pub answers: Vec<(u16, u8)>,
}

/// After the close, a page of the voters who chose public disclosure, by name, with the
/// ballot counted for each; and how many there are in all. Before the close nothing is
/// shown ([`VoteError::NotClosed`]): choices are revealed at the close only.
pub fn public_votes(
    store: &Store,
    id: ConsultationId,
    offset: i64,
    limit: i64,
) -> Result<(i64, Vec<PublicVote>), VoteError> {
    let mut conn = store.conn()?;
    let log = ballots::by_consultation(&mut conn, id)?.ok_or(VoteError::NotFound)?;
    if log.closed_at.is_none() {
        return Err(VoteError::NotClosed);
    }
    let total = ballots::public_voter_count(&mut conn, id)?;
    let mut votes = Vec::new();
    for (name, token) in ballots::public_voters_page(&mut conn, id, offset, limit)? {
        let token: [u8; 32] = token
            .try_into()
            .map_err(|_| VoteError::Ledger("a voter token is not 32 bytes".into()))?;
        let Some((index, bytes)) = ballots::last_ballot_of(&mut conn, id, &token)? else {
            continue;
        };
        let b = Ballot::decode(&bytes).map_err(|e| VoteError::Ledger(e.to_string()))?;
        votes.push(PublicVote {
            name,
            index,
            answers: b.answers.iter().map(|a| (a.item, a.option)).collect(),
        });
    }
    Ok((total, votes))
}

/// Writes the ballot log export of a closed consultation (docs/ballot-log.md) into
/// `dir`, streaming the entries.
pub fn export(
    store: &Store,
    key: &LogKey,
    id: ConsultationId,
    dir: &std::path::Path,
) -> Result<u64, VoteError> {
    let mut conn = store.conn()?;
    let log = ballots::by_consultation(&mut conn, id)?.ok_or(VoteError::NotFound)?;
    let csv = log.result_csv.clone().ok_or(VoteError::NotClosed)?;
    let io = |e: std::io::Error| VoteError::Ledger(e.to_string());
    let mut w = crate::ledger::export::ExportWriter::create(dir).map_err(io)?;
    let mut n = 0u64;
    for r in LogStream::new(&mut conn, id, 0, log.size) {
        let (_, bytes) = r?;
        w.entry(&bytes).map_err(io)?;
        n += 1;
    }
    w.finish().map_err(io)?;
    let checkpoints: Vec<(u64, String)> = ballots::checkpoints(&mut conn, id)?
        .into_iter()
        .map(|(s, note, _)| (s as u64, note))
        .collect();
    let last = checkpoints
        .last()
        .filter(|(s, _)| *s == log.size as u64)
        .map(|(_, n)| n.clone())
        .ok_or_else(|| VoteError::Ledger("no final checkpoint".into()))?;
    let vkey = key.signer(&log.origin).public_key().to_vkey();
    crate::ledger::export::write_tail(dir, &checkpoints, &last, &vkey, csv.as_bytes())
        .map_err(io)?;
    Ok(n)
}

/// The consultations whose log is closed.
pub fn closed_logs(store: &Store) -> Result<Vec<ConsultationId>, VoteError> {
    let mut conn = store.conn()?;
    Ok(ballots::closed(&mut conn)?)
}

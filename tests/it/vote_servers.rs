//! The real binary, two app servers on one database, votes arriving through both, and
//! one server killed with SIGKILL in the middle of the load: after a restart, every
//! ballot whose receipt was returned is in the log, the log is dense and verifies, and
//! voting continues. On the backend chosen by AMENDA_TEST_DATABASE_URL.

use crate::common;
use amenda::domain::ids::ConsultationId;

use amenda::ledger::receipt::Receipt;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `amenda demo` on this test's data folder and database; waits until it serves. The
/// load test votes far beyond the default vote limit: it is lifted here.
fn start(store: &common::TestStore) -> Server {
    start_with(store, &[("AMENDA_VOTE_LIMIT", "1000000/60")])
}

fn start_with(store: &common::TestStore, env: &[(&str, &str)]) -> Server {
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_amenda"))
        .envs(env.iter().copied())
        .arg("--data")
        .arg(store.data_dir())
        .arg("--database-url")
        .arg(store.database_url())
        .args(["demo", "--port", &port.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let out = BufReader::new(child.stdout.take().unwrap());
    for line in out.lines() {
        let line = line.unwrap();
        if line.contains("is running at") {
            break;
        }
    }
    Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    }
}

fn browser() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

fn csrf(c: &reqwest::blocking::Client, base: &str) -> String {
    let me: serde_json::Value = serde_json::from_str(
        &c.get(format!("{base}/api/v1/me"))
            .send()
            .unwrap()
            .text()
            .unwrap(),
    )
    .unwrap();
    me["csrf_token"].as_str().unwrap().to_string()
}

/// Signs a demo person in; the session is in the database, so it works on every server.
fn sign_in(c: &reqwest::blocking::Client, base: &str, person: &str, level: u8) {
    let t = csrf(c, base);
    let res = c
        .post(format!("{base}/signin/demo"))
        .form(&[
            ("csrf", t.as_str()),
            ("person", person),
            ("level", &level.to_string()),
            ("next", "/"),
        ])
        .send()
        .unwrap();
    assert_eq!(res.status(), 303, "{person} signs in");
}

/// Receipts of acknowledged ballots, and a way to wait for their number to reach a count
/// (woken by each new one, rather than polling).
#[derive(Default)]
struct Acknowledged {
    receipts: Mutex<Vec<Receipt>>,
    grew: Condvar,
}

impl Acknowledged {
    fn push(&self, r: Receipt) {
        self.receipts.lock().unwrap().push(r);
        self.grew.notify_all();
    }
    fn count(&self) -> usize {
        self.receipts.lock().unwrap().len()
    }
    /// Whether `n` receipts were reached within a minute.
    fn wait_for(&self, n: usize) -> bool {
        let list = self.receipts.lock().unwrap();
        let (list, _) = self
            .grew
            .wait_timeout_while(list, Duration::from_secs(60), |l| l.len() < n)
            .unwrap();
        list.len() >= n
    }
    fn take(&self) -> Vec<Receipt> {
        std::mem::take(&mut *self.receipts.lock().unwrap())
    }
}

fn cast(
    c: &reqwest::blocking::Client,
    base: &str,
    id: ConsultationId,
    token: &str,
    n: u64,
) -> Option<Receipt> {
    let body = format!(r#"{{"answers":[{{"item":0,"option":{}}}]}}"#, n % 3);
    let res = c
        .post(format!("{base}/api/v1/consultations/{id}/ballots"))
        .header("Content-Type", "application/json")
        .header("X-CSRF-Token", token)
        .body(body)
        .send()
        .ok()?;
    if res.status() != 201 {
        return None;
    }
    Receipt::from_json(&res.text().ok()?).ok()
}

#[test]
fn two_servers_one_killed_mid_vote_lose_no_acknowledged_ballot() {
    let store = common::test_store();
    let a = start(&store);
    let b = start(&store);
    let id = ConsultationId::new(1);

    // Claire (staff) opens the demo consultation's vote.
    let claire = browser();
    sign_in(&claire, &a.base, "claire", 1);
    let t = csrf(&claire, &a.base);
    let res = claire
        .post(format!("{}/consultations/{id}/phase", a.base))
        .form(&[("csrf", t.as_str())])
        .send()
        .unwrap();
    assert_eq!(res.status(), 303);

    // Four voters, each with two browsers: one on each server.
    let people = ["camille", "yanis", "dominique", "admin"];
    let receipts: Arc<Acknowledged> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let mut voters = Vec::new();
    for (k, person) in people.iter().enumerate() {
        for (s, base) in [&a.base, &b.base].into_iter().enumerate() {
            let c = browser();
            sign_in(&c, base, person, 2);
            let token = csrf(&c, base);
            voters.push((c, base.clone(), token, k * 2 + s));
        }
    }
    let threads: Vec<_> = voters
        .into_iter()
        .map(|(c, base, token, n)| {
            let receipts = receipts.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut i = n as u64;
                while !stop.load(Ordering::Relaxed) {
                    if let Some(r) = cast(&c, &base, id, &token, i) {
                        receipts.push(r);
                    }
                    i += 1;
                }
                (c, base, token)
            })
        })
        .collect();
    // Let the load run, then kill server A without warning, and keep voting through B
    // until B has acknowledged more ballots since.
    assert!(receipts.wait_for(200), "200 ballots acknowledged in time");
    let mut a = a;
    a.child.kill().unwrap(); // SIGKILL
    a.child.wait().unwrap();
    let at_kill = receipts.count();
    assert!(
        receipts.wait_for(at_kill + 20),
        "voting goes on through server B after A is killed"
    );
    stop.store(true, Ordering::Relaxed);
    let voters: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let receipts = receipts.take();
    assert!(
        receipts.len() >= 200,
        "{} ballots acknowledged",
        receipts.len()
    );

    // Every acknowledged ballot is in the log, byte for byte, at its index; indices are
    // unique and the log is dense.
    let mut conn = store.conn().unwrap();
    let log = amenda::store::ballots::by_consultation(&mut conn, id)
        .unwrap()
        .unwrap();
    let mut seen = std::collections::HashSet::new();
    for r in &receipts {
        assert!(seen.insert(r.index), "index {} given twice", r.index);
        let stored = amenda::store::ballots::entry(&mut conn, id, r.index as i64)
            .unwrap()
            .unwrap_or_else(|| panic!("acknowledged ballot {} is missing", r.index));
        assert_eq!(stored, r.entry, "entry {}", r.index);
    }
    let all = amenda::service::voting::LogStream::new(&mut conn, id, 0, log.size).count();
    assert_eq!(all as i64, log.size, "dense log");
    drop(conn);

    // Restarted, server A takes votes again, after everything already in the log.
    let a = start(&store);
    let (c, _, token) = voters
        .into_iter()
        .find(|(_, base, _)| *base != b.base)
        .unwrap();
    let r = cast(&c, &a.base, id, &token, 0).expect("voting continues after the restart");
    assert_eq!(r.index, log.size as u64);

    // Closed through the restarted server; the export verifies.
    let t = csrf(&claire, &a.base);
    let res = claire
        .post(format!("{}/consultations/{id}/close", a.base))
        .form(&[("csrf", t.as_str())])
        .send()
        .unwrap();
    assert_eq!(res.status(), 303);
    let dir = tempfile::tempdir().unwrap();
    for file in [
        "entries.csv",
        "ballots.csv",
        "result.csv",
        "checkpoint.txt",
        "log.vkey",
    ] {
        let res = c
            .get(format!("{}/consultations/{id}/ballots/{file}", b.base))
            .send()
            .unwrap();
        assert_eq!(res.status(), 200, "{file}");
        std::fs::write(dir.path().join(file), res.bytes().unwrap()).unwrap();
    }
    let key = c
        .get(format!("{}/consultations/{id}/ballots/log.vkey", a.base))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let v = amenda::ledger::verify::verify_export(dir.path(), Some(key.trim())).unwrap();
    // Ballots committed while A died may have had no receipt: never fewer, though.
    assert_eq!(v.ballot_entries, log.size as u64);
    assert!(v.ballot_entries > receipts.len() as u64);
    assert_eq!(v.counted_ballots, people.len() as u64);
    assert_eq!(v.entries, log.size as u64 + 2);
}

/// A comment through the page form; returns the status.
fn comment(
    c: &reqwest::blocking::Client,
    base: &str,
    id: ConsultationId,
    wid: &str,
    n: u32,
) -> u16 {
    let t = csrf(c, base);
    let token = format!("tok-two-servers-{n:04}");
    let body = format!("Avis numéro {n}.");
    c.post(format!("{base}/consultations/{id}/comments"))
        .form(&[
            ("csrf", t.as_str()),
            ("token", token.as_str()),
            ("unit", wid),
            ("quote", ""),
            ("disclosure", "name"),
            ("body", body.as_str()),
        ])
        .send()
        .unwrap()
        .status()
        .as_u16()
}

#[test]
fn rate_limits_hold_across_two_app_servers_on_one_database() {
    let store = common::test_store();
    let limits = [("AMENDA_POST_LIMIT", "3/3600")];
    let a = start_with(&store, &limits);
    let b = start_with(&store, &limits);
    let id = ConsultationId::new(1);
    let wid = {
        let mut conn = store.conn().unwrap();
        let c = amenda::store::consultations::by_id(&mut conn, id)
            .unwrap()
            .unwrap();
        amenda::store::units::for_version(&mut conn, c.version_id)
            .unwrap()
            .into_iter()
            .find(|u| u.kind == amenda::text::UnitKind::Article)
            .unwrap()
            .wid
    };
    // Camille posts through A, B, A: three comments, the limit.
    let on_a = browser();
    sign_in(&on_a, &a.base, "camille", 2);
    let on_b = browser();
    sign_in(&on_b, &b.base, "camille", 2);
    assert_eq!(comment(&on_a, &a.base, id, &wid, 1), 303);
    assert_eq!(comment(&on_b, &b.base, id, &wid, 2), 303);
    assert_eq!(comment(&on_a, &a.base, id, &wid, 3), 303);
    // The fourth is refused on either server: they share the count.
    for (c, base) in [(&on_b, &b.base), (&on_a, &a.base)] {
        let t = csrf(c, base);
        let res = c
            .post(format!("{base}/consultations/{id}/comments"))
            .form(&[
                ("csrf", t.as_str()),
                ("token", "tok-two-servers-9999"),
                ("unit", wid.as_str()),
                ("quote", ""),
                ("disclosure", "name"),
                ("body", "Encore un."),
            ])
            .send()
            .unwrap();
        assert_eq!(res.status(), 429, "{base}");
        let wait: i64 = res.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=3600).contains(&wait), "{wait}");
    }
    let n = amenda::store::comments::for_article(&mut store.conn().unwrap(), id, &wid)
        .unwrap()
        .len();
    assert_eq!(n, 3, "nothing written beyond the limit");
    // Someone else is not limited by Camille's count.
    let yanis = browser();
    sign_in(&yanis, &b.base, "yanis", 2);
    assert_eq!(comment(&yanis, &b.base, id, &wid, 4), 303);
}

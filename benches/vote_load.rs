//! Casting load: `amenda demo` (release build) on a fresh data folder, its demo
//! consultation put to the vote, then CLIENTS concurrent clients casting ballots with
//! receipts through the JSON API for SECONDS seconds. Prints ballots per second and
//! latency percentiles. Every acknowledged ballot was durably committed (group commit).
//!
//!     cargo bench --bench vote_load                  # SQLite in the data folder
//!     AMENDA_BENCH_DATABASE_URL=postgres://… cargo bench --bench vote_load
//!
//! CLIENTS (default 100) and SECONDS (default 10) are read from the environment.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
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

fn browser() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(200)
        .build()
        .unwrap()
}

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
    assert_eq!(res.status(), 303);
}

fn main() {
    let clients = env_or("CLIENTS", 100) as usize;
    let seconds = env_or("SECONDS", 10);
    let data = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_amenda"));
    cmd.arg("--data").arg(data.path());
    let db = std::env::var("AMENDA_BENCH_DATABASE_URL").ok();
    if let Some(url) = &db {
        cmd.arg("--database-url").arg(url);
    }
    let mut server = cmd
        .args(["demo", "--port", &port.to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    for line in BufReader::new(server.stdout.take().unwrap()).lines() {
        if line.unwrap().contains("is running at") {
            break;
        }
    }
    let base = format!("http://127.0.0.1:{port}");
    let staff = browser();
    sign_in(&staff, &base, "claire", 1);
    let t = csrf(&staff, &base);
    let id = 1;
    let res = staff
        .post(format!("{base}/consultations/{id}/phase"))
        .form(&[("csrf", t.as_str())])
        .send()
        .unwrap();
    assert_eq!(res.status(), 303);
    // Five demo people (the sign-in limit is per address); clients share their sessions.
    let sessions: Vec<(reqwest::blocking::Client, String)> =
        ["camille", "yanis", "dominique", "claire", "admin"]
            .iter()
            .map(|p| {
                let c = browser();
                sign_in(&c, &base, p, 2);
                let t = csrf(&c, &base);
                (c, t)
            })
            .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let threads: Vec<_> = (0..clients)
        .map(|n| {
            let (c, token) = sessions[n % sessions.len()].clone();
            let (stop, base) = (stop.clone(), base.clone());
            std::thread::spawn(move || {
                let mut lat = Vec::new();
                let mut failed = 0u64;
                let mut i = n as u64;
                while !stop.load(Ordering::Relaxed) {
                    let t0 = Instant::now();
                    let res = c
                        .post(format!("{base}/api/v1/consultations/{id}/ballots"))
                        .header("Content-Type", "application/json")
                        .header("X-CSRF-Token", &token)
                        .body(format!(
                            r#"{{"answers":[{{"item":0,"option":{}}}]}}"#,
                            i % 3
                        ))
                        .send();
                    match res {
                        Ok(r) if r.status() == 201 => {
                            let _ = r.bytes();
                            lat.push(t0.elapsed());
                        }
                        _ => failed += 1,
                    }
                    i += 1;
                }
                (lat, failed)
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(seconds));
    stop.store(true, Ordering::Relaxed);
    let mut lat = Vec::new();
    let mut failed = 0;
    for t in threads {
        let (l, f) = t.join().unwrap();
        lat.extend(l);
        failed += f;
    }
    let elapsed = started.elapsed().as_secs_f64();
    lat.sort();
    let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
    println!(
        "vote_load: {} on loopback: {clients} clients, {:.1} s: {} ballots acknowledged ({:.0}/s), {failed} failed; latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        if db.is_some() { "PostgreSQL" } else { "SQLite" },
        elapsed,
        lat.len(),
        lat.len() as f64 / elapsed,
        pct(0.5).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        lat.last().unwrap().as_secs_f64() * 1e3,
    );
    let _ = server.kill();
    let _ = server.wait();
}

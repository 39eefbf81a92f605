//! Copy-paste campaign detection on 10,000 contributions, for the target of
//! docs/performance.md (under 5 s). The contributions are the paragraphs of the real codes
//! of the corpus (read at run time from `cpi.bundle` and `reglement_an.bundle` in env
//! AMENDA_CORPUS, default `../shared/corpus` next to the repository; skipped with a
//! message when absent): the distinct paragraphs of the newest Code de la propriété
//! intellectuelle and Règlement de l'Assemblée nationale, then of their oldest versions,
//! then of the versions in between until there are 9,800, plus a planted campaign of 200
//! copies of one text with small seeded edits, spread among them. Prints the time
//! `domain::similarity::clusters` takes (best of three) and what it found.
//!
//!     cargo bench --bench clustering

use amenda::domain::similarity::{clusters, Settings};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const TOTAL: usize = 10_000;
const PLANTED: usize = 200;

const CAMPAIGN: &str = "Nous demandons que le budget participatif soit porté à dix pour \
    cent du budget d'investissement de la commune, que chaque quartier dispose d'une \
    enveloppe propre calculée selon sa population, et que les projets retenus soient \
    réalisés dans les deux ans qui suivent le vote, avec un bilan public présenté chaque \
    année devant le conseil municipal et les conseils de quartier.";

const WORDS: [&str; 12] = [
    "vraiment",
    "aussi",
    "notamment",
    "clairement",
    "également",
    "toujours",
    "enfin",
    "surtout",
    "bien",
    "rapidement",
    "pleinement",
    "ensemble",
];

fn corpus_dir() -> PathBuf {
    match std::env::var_os("AMENDA_CORPUS") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"),
    }
}

fn git(args: &[&str]) -> Result<String, String> {
    let out = Command::new("git")
        .args(args)
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "git {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    String::from_utf8(out.stdout).map_err(|e| e.to_string())
}

/// A bare clone of a bundle, and the commits that touch `file`, newest first.
fn history(bundle: &Path, dir: &Path, file: &str) -> Result<(String, Vec<String>), String> {
    let repo = dir.join(file).with_extension("git");
    let repo = repo.to_string_lossy().to_string();
    git(&[
        "clone",
        "--quiet",
        "--bare",
        &bundle.to_string_lossy(),
        &repo,
    ])?;
    let commits = git(&[
        "--git-dir",
        &repo,
        "log",
        "--format=%H",
        "--all",
        "--",
        file,
    ])?;
    Ok((repo, commits.lines().map(str::to_string).collect()))
}

/// Paragraphs of a markdown text: its non-empty lines that are not headings.
fn paragraphs(md: &str) -> impl Iterator<Item = String> + '_ {
    md.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
}

/// A small seeded generator (xorshift64*), so the edits are the same on every run.
struct Rng(u64);
impl Rng {
    fn next(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n
    }
}

/// `base` with one to three small edits: a word replaced, a word added, a word dropped.
fn edited(base: &str, rng: &mut Rng) -> String {
    let mut words: Vec<&str> = base.split_whitespace().collect();
    for _ in 0..1 + rng.next(3) {
        let at = rng.next(words.len());
        match rng.next(3) {
            0 => words[at] = WORDS[rng.next(WORDS.len())],
            1 => words.insert(at, WORDS[rng.next(WORDS.len())]),
            _ => {
                words.remove(at);
            }
        }
    }
    words.join(" ")
}

fn main() {
    let dir = corpus_dir();
    if !dir.join("cpi.bundle").is_file() {
        println!(
            "clustering bench skipped: no corpus at {} (set AMENDA_CORPUS)",
            dir.display()
        );
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let sources = [
        ("cpi.bundle", "code_de_la_propriété_intellectuelle.md"),
        ("reglement_an.bundle", "règlement.md"),
    ];
    let mut histories = Vec::new();
    for (bundle, file) in sources {
        match history(&dir.join(bundle), tmp.path(), file) {
            Ok((repo, commits)) if !commits.is_empty() => histories.push((repo, file, commits)),
            Ok(_) => {
                println!("clustering bench skipped: no version of {file}");
                return;
            }
            Err(e) => {
                println!("clustering bench skipped: {e}");
                return;
            }
        }
    }
    // The newest and the oldest version of each text, then the other versions of each,
    // newest first, until there are enough distinct paragraphs. Paragraphs that a later
    // version amended come in again in their earlier wording: near-duplicates, as real
    // contributions on one bill would hold.
    let mut order: Vec<(usize, usize)> = Vec::new();
    for (h, (_, _, commits)) in histories.iter().enumerate() {
        order.push((h, 0));
        order.push((h, commits.len() - 1));
    }
    let longest = histories.iter().map(|h| h.2.len()).max().unwrap_or(0);
    for i in 1..longest {
        for (h, (_, _, commits)) in histories.iter().enumerate() {
            if i + 1 < commits.len() {
                order.push((h, i));
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    let mut contributions: Vec<(String, bool)> = Vec::new();
    let mut versions_read = 0;
    for (h, i) in order {
        if contributions.len() >= TOTAL - PLANTED {
            break;
        }
        let (repo, file, commits) = &histories[h];
        let md = match git(&["--git-dir", repo, "show", &format!("{}:{file}", commits[i])]) {
            Ok(md) => md,
            Err(e) => {
                println!("clustering bench skipped: {e}");
                return;
            }
        };
        versions_read += 1;
        for p in paragraphs(&md) {
            if contributions.len() < TOTAL - PLANTED && seen.insert(p.clone()) {
                contributions.push((p, false));
            }
        }
    }
    let varied = contributions.len();
    let mut rng = Rng(0x5eed_cafe_f00d_1234);
    // The campaign is spread through the list, as it would arrive.
    for _ in 0..PLANTED {
        let at = rng.next(contributions.len() + 1);
        contributions.insert(at, (edited(CAMPAIGN, &mut rng), true));
    }
    let words: usize = contributions
        .iter()
        .map(|(c, _)| c.split_whitespace().count())
        .sum();
    println!(
        "{} contributions ({varied} distinct paragraphs from {versions_read} versions of the \
         corpus, {PLANTED} planted), {words} words",
        contributions.len()
    );

    let planted: Vec<bool> = contributions.iter().map(|(_, p)| *p).collect();
    let contributions: Vec<String> = contributions.into_iter().map(|(c, _)| c).collect();
    let settings = Settings::default();
    let mut best = f64::MAX;
    let mut found = Vec::new();
    for run in 1..=3 {
        let start = Instant::now();
        found = clusters(&contributions, &settings);
        let secs = start.elapsed().as_secs_f64();
        best = best.min(secs);
        println!("run {run}: {secs:.3} s");
    }
    let planted_group = found
        .iter()
        .map(|g| g.iter().filter(|&&i| planted[i]).count())
        .max()
        .unwrap_or(0);
    println!(
        "clustering {} contributions: best of 3 {best:.3} s (target < 5 s); {} groups, \
         the largest {} members, {planted_group} of the {PLANTED} planted copies in one group",
        contributions.len(),
        found.len(),
        found.first().map_or(0, Vec::len),
    );
    let mixed = found
        .iter()
        .filter(|g| g.iter().any(|&i| planted[i]) && g.iter().any(|&i| !planted[i]))
        .count();
    let sizes: Vec<usize> = found.iter().take(10).map(Vec::len).collect();
    println!(
        "groups mixing planted copies and corpus paragraphs: {mixed}; the ten largest \
         groups: {sizes:?} (the others: a paragraph and its wording in other versions)"
    );
}

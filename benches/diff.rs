//! Word diff of two consecutive versions of the real CPI (docs/performance.md, target 1).
//!
//!     cargo bench --bench diff
//!
//! Reads `cpi.bundle` from the corpus folder at run time (env AMENDA_CORPUS, default
//! `../shared/corpus` next to the repository) and skips with a message when it is absent.
//! The two versions (env AMENDA_DIFF_OLD / AMENDA_DIFF_NEW, default the consolidations of
//! 1 and 3 August 2006, the DADVSI law: 28 hunks over several articles) are written with
//! `git show` to a temporary folder, whose path is printed so that the reference
//! (`git diff --no-index --word-diff OLD NEW`, see benches/diff.sh) runs on the same files.
//!
//! Benchmarks:
//! - `cpi_2006/full`: read both files, parse both, assign wids (the old version from
//!   scratch, the new one by matching against it) and compare_versions: everything from
//!   two markdown files to a full per-unit word diff, through `text::diff_sources` as
//!   `amenda diff` (each file read and parsed on its own core; no digests).
//! - `cpi_2006/full_versions`: the same through `text::parse_version` twice (the path of
//!   an import, one version after the other) and compare_versions.
//! - `cpi_2006/compare_only`: compare_versions on already parsed and matched units.
//! - `cpi_2006/parse_one` and `cpi_2006/match_new`: the other parts, for the breakdown.

use amenda::text::diff::compare_versions;
use amenda::text::{assign_wids, diff_sources, parse, parse_version, Unit, WidAllocator};
use criterion::Criterion;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const FILE: &str = "code_de_la_propriété_intellectuelle.md";
const OLD: &str = "623176512abdcc8009345d6ec645a9cdca686fc9"; // 2006-08-01
const NEW: &str = "5fde6b2ef5b98eb29116ce8292fb106d50435db9"; // 2006-08-03

fn corpus_dir() -> PathBuf {
    match std::env::var_os("AMENDA_CORPUS") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"),
    }
}

fn git(args: &[&str]) -> Result<Vec<u8>, String> {
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
    Ok(out.stdout)
}

/// Writes the two versions to `dir` as old.md and new.md.
fn extract(bundle: &Path, dir: &Path) -> Result<(PathBuf, PathBuf), String> {
    let repo = dir.join("cpi.git");
    let repo_s = repo.to_string_lossy();
    git(&[
        "clone",
        "--quiet",
        "--bare",
        &bundle.to_string_lossy(),
        &repo_s,
    ])?;
    let old = std::env::var("AMENDA_DIFF_OLD").unwrap_or_else(|_| OLD.into());
    let new = std::env::var("AMENDA_DIFF_NEW").unwrap_or_else(|_| NEW.into());
    let mut paths = Vec::new();
    for (commit, name) in [(old, "old.md"), (new, "new.md")] {
        let bytes = git(&["--git-dir", &repo_s, "show", &format!("{commit}:{FILE}")])?;
        let path = dir.join(name);
        std::fs::write(&path, bytes).map_err(|e| e.to_string())?;
        paths.push(path);
    }
    Ok((paths[0].clone(), paths[1].clone()))
}

fn versions(old_md: &str, new_md: &str) -> (Vec<Unit>, Vec<Unit>) {
    let mut alloc = WidAllocator::new(1);
    let mut old = parse(old_md).units;
    assign_wids(None, old_md, &mut old, &mut alloc);
    let mut new = parse(new_md).units;
    assign_wids(Some((old_md, &old)), new_md, &mut new, &mut alloc);
    (old, new)
}

fn main() {
    let bundle = corpus_dir().join("cpi.bundle");
    if !bundle.is_file() {
        println!(
            "diff bench skipped: {} not found (set AMENDA_CORPUS)",
            bundle.display()
        );
        return;
    }
    let tmp = tempfile::tempdir().expect("temporary folder");
    let (old_path, new_path) = match extract(&bundle, tmp.path()) {
        Ok(p) => p,
        Err(e) => {
            println!("diff bench skipped: {e}");
            return;
        }
    };
    let old_md = std::fs::read_to_string(&old_path).expect("old version");
    let new_md = std::fs::read_to_string(&new_path).expect("new version");
    let (old, new) = versions(&old_md, &new_md);
    let d = compare_versions(&old_md, &old, &new_md, &new);
    println!(
        "versions: {} ({} bytes, {} units) -> {} ({} bytes, {} units); articles: {:?}",
        old_path.display(),
        old_md.len(),
        old.len(),
        new_path.display(),
        new_md.len(),
        new.len(),
        d.summary
    );

    let mut c = Criterion::default()
        .sample_size(30)
        .measurement_time(Duration::from_secs(10))
        .configure_from_args();
    let mut g = c.benchmark_group("cpi_2006");
    g.bench_function("full", |b| {
        b.iter(|| {
            let read = |p: &Path| std::fs::read_to_string(p);
            black_box(diff_sources(|| read(&old_path), || read(&new_path)).unwrap());
        })
    });
    g.bench_function("full_versions", |b| {
        b.iter(|| {
            let old_md = std::fs::read_to_string(&old_path).unwrap();
            let new_md = std::fs::read_to_string(&new_path).unwrap();
            let mut alloc = WidAllocator::new(1);
            let old = parse_version(None, &old_md, &mut alloc).units;
            let new = parse_version(Some((&old_md, &old)), &new_md, &mut alloc).units;
            black_box(compare_versions(&old_md, &old, &new_md, &new));
        })
    });
    g.bench_function("compare_only", |b| {
        b.iter(|| black_box(compare_versions(&old_md, &old, &new_md, &new)))
    });
    g.bench_function("parse_one", |b| b.iter(|| black_box(parse(&new_md))));
    g.bench_function("match_new", |b| {
        b.iter_batched(
            || parse(&new_md).units,
            |mut units| {
                let mut alloc = WidAllocator::new(1_000_000);
                assign_wids(Some((&old_md, &old)), &new_md, &mut units, &mut alloc);
                units
            },
            criterion::BatchSize::LargeInput,
        )
    });
    g.finish();
    c.final_summary();
}

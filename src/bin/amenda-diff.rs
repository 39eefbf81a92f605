//! `amenda-diff`: `amenda diff` as a program of its own, for drafters and scripts that
//! compare markdown files of a bill often. It links only the text engine, so it starts in
//! about a millisecond, where the server's binary first loads the PostgreSQL client
//! library and its dependencies (docs/performance.md, target 1).
//!
//!     amenda-diff OLD.md NEW.md [--stat]
//!
//! Prints each changed unit with its word diff, then the counts of articles; exits 0, or
//! 1 with one sentence on stderr when a file cannot be read or is not UTF-8 markdown.

use std::path::Path;

// mimalloc rather than glibc's malloc, for this one-shot program only: glibc grows the
// heap of the second thread's arena one page at a time, each an `mprotect` call that
// stalls the other thread's page faults (several hundred calls on the CPI), and faults
// every fresh page in one at a time; mimalloc reserves its memory in large blocks
// (transparent huge pages where the system allows them). On the CPI: 1,420 page faults
// down to about 120, and the run 15% shorter (docs/performance.md, target 1).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::process::ExitCode;

const USAGE: &str = "usage: amenda-diff OLD.md NEW.md [--stat]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let stat = args.iter().any(|a| a == "--stat");
    let files: Vec<&String> = args.iter().filter(|a| *a != "--stat").collect();
    let [old, new] = files.as_slice() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    if old.starts_with('-') || new.starts_with('-') {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    }
    match amenda::cli::diff_files(Path::new(old), Path::new(new), stat) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

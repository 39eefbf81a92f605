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

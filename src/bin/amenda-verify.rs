//! `amenda-verify`: checks a ballot log export offline (DESIGN §7), with its own recount.
//!
//!     amenda-verify EXPORT_DIR --key KEY
//!     amenda-verify receipt RECEIPT --export EXPORT_DIR [--key KEY]
//!
//! KEY is the log's public key as a verifier key string (`name+id+key`) or a file
//! holding it, taken from a source you trust (the instance's published key), not from
//! the export itself. Prints "verified: …" and exits 0, or says exactly what is wrong
//! (with the signed evidence) on stderr and exits 1.

use amenda::ledger::verify::{verify_export, verify_receipt_in, ReceiptStatus};
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: amenda-verify EXPORT_DIR --key KEY\n       amenda-verify receipt RECEIPT --export EXPORT_DIR [--key KEY]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let positional: Vec<&String> = args
        .iter()
        .enumerate()
        .filter(|(i, a)| !a.starts_with("--") && (*i == 0 || !args[i - 1].starts_with("--")))
        .map(|(_, a)| a)
        .collect();
    let key = flag("--key");
    let outcome = match positional.as_slice() {
        [cmd, receipt] if *cmd == "receipt" => {
            let Some(export) = flag("--export") else {
                eprintln!("{USAGE}");
                return ExitCode::from(2);
            };
            let text = match std::fs::read_to_string(receipt) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("cannot read the receipt {receipt}: {e}");
                    return ExitCode::from(2);
                }
            };
            verify_receipt_in(&text, &PathBuf::from(export), key.as_deref()).map(|s| match s {
                ReceiptStatus::Counted => {
                    "verified: the ballot is in the log and is counted (it is its voter's last ballot)".to_string()
                }
                ReceiptStatus::Superseded { by } => format!(
                    "verified: the ballot is in the log, but the same voter voted again in entry {by}, which is the one counted"
                ),
            })
        }
        [dir] => {
            if key.is_none() {
                eprintln!("warning: no --key given: checking against the export's own log.vkey proves consistency, not origin");
            }
            verify_export(&PathBuf::from(dir), key.as_deref()).map(|v| {
                format!(
                    "verified: {} entries, {} ballots, {} counted, {} published checkpoints, root {}",
                    v.entries,
                    v.ballot_entries,
                    v.counted_ballots,
                    v.checkpoints,
                    hex::encode(v.root)
                )
            })
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match outcome {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(f) => {
            eprintln!("FAILED: {f}");
            ExitCode::FAILURE
        }
    }
}

//! Use cases that combine the pure layers with storage: importing bills, reading and
//! comparing versions. Called by `web` and `cli`, never the other way round.

pub mod akn;
pub mod amendments;
pub mod campaigns;
pub mod comments;
pub mod consolidation;
pub mod consultation;
pub mod disposition;
pub mod feeds;
pub mod identity;
pub mod import;
pub mod moderation;
pub mod opendata;
pub mod reading;
pub mod voting;

/// Reports the progress of a long job (a progress bar in the CLI, nothing in tests).
pub trait Progress {
    fn start(&self, _total: u64, _what: &str) {}
    fn advance(&self, _detail: &str) {}
    fn finish(&self) {}
}

/// Progress that is not shown.
pub struct Silent;
impl Progress for Silent {}

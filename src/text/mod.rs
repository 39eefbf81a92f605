//! Pure text engine: the markdown dialect of bills (DESIGN §3) turned into units with
//! stable ids, matched across versions, rendered to sanitized HTML and diffed word by word.
//! Nothing here touches a database or the network.

pub mod diff;
pub mod hash;
pub mod matching;
pub mod order;
pub mod parse;
pub mod pipeline;
pub mod render;
pub mod units;

pub use diff::{apply_ops, word_diff, DiffOp, DiffTag};
pub use matching::{assign_wids, WidAllocator};
pub use parse::{parse, ParseWarning, ParsedVersion};
pub use pipeline::{diff_sources, parse_version, TextComparison};
pub use units::{Unit, UnitKind};

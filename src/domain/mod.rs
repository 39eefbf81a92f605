//! Pure rules of the platform, with no storage and no HTTP.

pub mod amendment;
pub mod bill;
pub mod comment;
pub mod conflict;
pub mod consolidation;
pub mod consultation;
pub mod identity;
pub mod ids;
pub mod licence;
pub mod moderation;
pub mod similarity;
pub mod state;
pub mod time;

//! The integration tests: one binary, one module per area (`cargo test --test it`,
//! `cargo test --test it consultations::` for one module). See docs/ARCHITECTURE.md,
//! "Adding a test".

mod common;

mod akn;
mod api_json;
mod campaigns;
mod cli;
mod comments;
mod consolidation;
mod consultation_api;
mod consultations;
mod corpus;
mod csrf;
mod identity;
mod import;
mod import_per_article;
mod layers;
mod ledger;
mod moderation;
mod oidc;
mod opendata;
mod store;
mod verify;
mod vote_servers;
mod votes;
mod web;
mod wording;

//! Amenda: citizen consultation and law-amendment platform.
//!
//! Layers (see docs/ARCHITECTURE.md): `text` (pure), `domain` (pure rules), `store`
//! (Diesel), `opendata` (pure writers), `service` (use cases), `web` (Rocket) and `cli` (clap). Each depends only
//! on the ones before it.

pub mod cache;
pub mod cli;
pub mod clock;
pub mod config;
pub mod domain;
pub mod ledger;
pub mod oidc;
pub mod opendata;
pub mod service;
pub mod store;
pub mod text;
pub mod web;

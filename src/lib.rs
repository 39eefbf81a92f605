//! Amenda: citizen consultation and law-amendment platform.
//!
//! Layers (see docs/ARCHITECTURE.md): `text` (pure), `domain` (pure rules), `store`
//! (Diesel), `web` (Rocket), `cli` (clap). Each depends only on the ones before it.

pub mod text;

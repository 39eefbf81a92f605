//! The files of `templates/` (templates, translations, static files), embedded in the
//! binary: one file to deploy. Its own module, so that the translations and the
//! templates both read it without importing each other.

use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "templates/"]
pub struct Assets;

//! Handlebars templates and static files, embedded in the binary (one file to deploy).

use handlebars::Handlebars;
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "templates/"]
pub struct Assets;

/// All `*.hbs` templates, registered by file stem, in strict mode (a missing field is an
/// error, not an empty string).
pub fn registry() -> Result<Handlebars<'static>, String> {
    let mut hb = Handlebars::new();
    hb.set_strict_mode(true);
    for name in Assets::iter() {
        if let Some(stem) = name.strip_suffix(".hbs") {
            let file = Assets::get(&name).ok_or_else(|| format!("template {name} vanished"))?;
            let text = std::str::from_utf8(&file.data)
                .map_err(|e| format!("template {name} is not UTF-8: {e}"))?;
            hb.register_template_string(stem, text)
                .map_err(|e| format!("template {name}: {e}"))?;
        }
    }
    Ok(hb)
}

/// A short hash of every embedded asset and the crate version: part of every ETag, so a
/// new build never answers "not modified" with an old page.
pub fn build_tag() -> String {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(env!("CARGO_PKG_VERSION").as_bytes());
    let mut names: Vec<_> = Assets::iter().collect();
    names.sort();
    for name in names {
        if let Some(f) = Assets::get(&name) {
            ctx.update(name.as_bytes());
            ctx.update(&f.data);
        }
    }
    hex::encode(&ctx.finish().as_ref()[..6])
}

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

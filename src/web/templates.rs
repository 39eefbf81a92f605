//! Handlebars templates and static files, embedded in the binary (one file to deploy).

use super::i18n::Lang;
use fluent_bundle::{FluentArgs, FluentValue};
use handlebars::{
    Context, Handlebars, Helper, HelperResult, Output, RenderContext, RenderErrorReason,
};
use serde_json::Value;

pub use super::assets::Assets;

/// A template the server cannot start with.
#[derive(Debug, thiserror::Error)]
#[error("template {name}: {detail}")]
pub struct TemplateError {
    name: String,
    detail: String,
}

/// All `*.hbs` templates, registered by file stem, in strict mode (a missing field is an
/// error, not an empty string).
pub fn registry() -> Result<Handlebars<'static>, TemplateError> {
    let mut hb = Handlebars::new();
    hb.set_strict_mode(true);
    hb.register_helper("tr", Box::new(tr));
    for name in Assets::iter() {
        if let Some(stem) = name.strip_suffix(".hbs") {
            let error = |detail: String| TemplateError {
                name: name.to_string(),
                detail,
            };
            let file = Assets::get(&name).ok_or_else(|| error("vanished".into()))?;
            let text =
                std::str::from_utf8(&file.data).map_err(|e| error(format!("not UTF-8: {e}")))?;
            hb.register_template_string(stem, text)
                .map_err(|e| error(e.to_string()))?;
        }
    }
    Ok(hb)
}

/// `{{tr "key" name=value…}}`: a message with variables, in the page's language (`lang`).
/// Numbers stay numbers, so that the message can choose its plural by them; messages
/// without variables are `{{t.key}}`.
fn tr(
    h: &Helper<'_>,
    hb: &Handlebars<'_>,
    ctx: &Context,
    _: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    let key = h
        .param(0)
        .and_then(|p| p.value().as_str())
        .ok_or(RenderErrorReason::ParamNotFoundForIndex("tr", 0))?;
    let lang = ctx
        .data()
        .get("lang")
        .and_then(Value::as_str)
        .and_then(Lang::from_code)
        .ok_or_else(|| RenderErrorReason::MissingVariable(Some("lang".into())))?;
    let mut args = FluentArgs::new();
    for (name, value) in h.hash() {
        let value = match value.value() {
            Value::Number(n) => match n.as_i64() {
                Some(i) => FluentValue::from(i),
                None => FluentValue::from(n.as_f64().unwrap_or_default()),
            },
            Value::String(s) => FluentValue::from(s.as_str()),
            other => FluentValue::from(other.to_string()),
        };
        args.set(*name, value);
    }
    out.write(&hb.get_escape_fn()(&lang.tr().format(key, &args)))?;
    Ok(())
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

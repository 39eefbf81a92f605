//! French and English. Every user-facing string comes from `templates/i18n/{fr,en}.ftl`
//! (Project Fluent, so that plurals follow each language's rules); the language is the
//! `lang` cookie (set by the switch), else `Accept-Language`, else French.

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentError, FluentResource, FluentValue};
use fluent_syntax::ast;
use rocket::http::Status;
use rocket::request::{FromRequest, Outcome, Request};
use serde_json::{Map, Value};
use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    Fr,
    En,
}

pub const COOKIE: &str = "lang";

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }

    pub fn from_code(code: &str) -> Option<Lang> {
        match code.get(..2).map(|c| c.to_ascii_lowercase()).as_deref() {
            Some("fr") => Some(Lang::Fr),
            Some("en") => Some(Lang::En),
            _ => None,
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Fr => Lang::En,
            Lang::En => Lang::Fr,
        }
    }

    /// The preferred supported language of an `Accept-Language` header (by q-value).
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',') {
            let mut it = part.trim().split(';');
            let tag = it.next().unwrap_or("").trim();
            let q = it
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            if let Some(l) = Lang::from_code(tag) {
                if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
                    best = Some((q, l));
                }
            }
        }
        best.map(|(_, l)| l)
    }

    /// The language of a request.
    pub fn of(req: &Request<'_>) -> Lang {
        req.cookies()
            .get(COOKIE)
            .and_then(|c| Lang::from_code(c.value()))
            .or_else(|| {
                req.headers()
                    .get_one("Accept-Language")
                    .and_then(Lang::from_accept_language)
            })
            .unwrap_or(Lang::Fr)
    }

    pub fn tr(self) -> &'static Translations {
        // The server does not start with broken strings ([`init`]): only a tool that
        // skipped that check can get here with them.
        let (fr, en) = translations().as_ref().unwrap_or_else(|e| panic!("{e}"));
        match self {
            Lang::Fr => fr,
            Lang::En => en,
        }
    }

    /// Fluent's name of the language, whose rules choose the plurals.
    fn id(self) -> unic_langid::LanguageIdentifier {
        match self {
            Lang::Fr => unic_langid::langid!("fr"),
            Lang::En => unic_langid::langid!("en"),
        }
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Lang {
    type Error = std::convert::Infallible;
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let _ = Status::Ok;
        Outcome::Success(Lang::of(req))
    }
}

/// The strings of one language: its Fluent messages, and those formatted without
/// arguments (for `get` and, as a JSON object, for templates).
pub struct Translations {
    bundle: FluentBundle<FluentResource>,
    plain: HashMap<String, String>,
    /// Every message as formatted without arguments: `{{t.key}}` in templates.
    pub json: Value,
}

/// Shown for a key no file has: a bug (the tests render every page in both languages),
/// visible rather than failing the page.
const MISSING: &str = "[missing translation]";

/// A value for a message's variable. Numbers reach Fluent as numbers, so that a message
/// can choose its plural by them.
pub trait Arg {
    fn value(&self) -> FluentValue<'_>;
}

impl Arg for str {
    fn value(&self) -> FluentValue<'_> {
        FluentValue::from(self)
    }
}

impl Arg for String {
    fn value(&self) -> FluentValue<'_> {
        FluentValue::from(self.as_str())
    }
}

impl<T: Arg + ?Sized> Arg for &T {
    fn value(&self) -> FluentValue<'_> {
        (**self).value()
    }
}

/// A day as written, `2026-12-01` (pages say days in ISO form, in both languages).
impl Arg for crate::domain::time::Day {
    fn value(&self) -> FluentValue<'_> {
        FluentValue::from(self.iso())
    }
}

macro_rules! number_args {
    ($($t:ty)*) => {$(
        impl Arg for $t {
            fn value(&self) -> FluentValue<'_> {
                FluentValue::from(*self)
            }
        }
    )*};
}

number_args!(i8 i16 i32 i64 isize u8 u16 u32 u64 usize);

impl Translations {
    /// A message without arguments, by key.
    pub fn get<'a>(&'a self, key: &str) -> &'a str {
        self.plain.get(key).map(String::as_str).unwrap_or(MISSING)
    }

    /// A message with its variables (`{ $name }`) given.
    pub fn fmt(&self, key: &str, args: &[(&str, &dyn Arg)]) -> String {
        let mut fluent = FluentArgs::with_capacity(args.len());
        for (name, value) in args {
            fluent.set(*name, value.value());
        }
        self.format(key, &fluent)
    }

    /// A message with its variables given as Fluent values (templates' `tr` helper).
    pub fn format(&self, key: &str, args: &FluentArgs<'_>) -> String {
        match self.try_format(key, Some(args)) {
            Some((text, errors)) => {
                if !errors.is_empty() {
                    tracing::warn!(key, ?errors, "a message formatted with errors");
                }
                text
            }
            None => MISSING.to_string(),
        }
    }

    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.plain.keys()
    }

    /// The message formatted, and what went wrong (a variable not given, say); None
    /// when there is no such message.
    fn try_format(
        &self,
        key: &str,
        args: Option<&FluentArgs<'_>>,
    ) -> Option<(String, Vec<FluentError>)> {
        let pattern = self.bundle.get_message(key)?.value()?;
        let mut errors = Vec::new();
        let text = self.bundle.format_pattern(pattern, args, &mut errors);
        Some((text.into_owned(), errors))
    }
}

/// A translation file the server cannot start with: the sentence names the file (and
/// the line) and what is wrong.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct TranslationError(String);

impl From<String> for TranslationError {
    fn from(sentence: String) -> Self {
        TranslationError(sentence)
    }
}

/// Loads and checks both languages' strings: the server does not start with a file
/// that does not parse, lacks a message of the other language or has one that does not
/// format; the error names the file (and the line).
pub fn init() -> Result<(), TranslationError> {
    translations().as_ref().map(|_| ()).map_err(Clone::clone)
}

fn translations() -> &'static Result<(Translations, Translations), TranslationError> {
    static T: OnceLock<Result<(Translations, Translations), TranslationError>> = OnceLock::new();
    T.get_or_init(|| {
        let fr = load(Lang::Fr)?;
        let en = load(Lang::En)?;
        same_keys(&fr, &file_name(Lang::Fr), &en, &file_name(Lang::En))?;
        Ok((fr, en))
    })
}

fn file_name(lang: Lang) -> String {
    format!("templates/i18n/{}.ftl", lang.code())
}

fn load(lang: Lang) -> Result<Translations, TranslationError> {
    let name = file_name(lang);
    let file = super::assets::Assets::get(&format!("i18n/{}.ftl", lang.code()))
        .ok_or_else(|| format!("{name} is missing"))?;
    let source = String::from_utf8(file.data.into_owned())
        .map_err(|e| format!("{name} is not UTF-8: {e}"))?;
    parse(&name, source, lang)
}

/// One language's strings from `source`, the file `name`.
fn parse(name: &str, source: String, lang: Lang) -> Result<Translations, TranslationError> {
    let resource =
        FluentResource::try_new(source).map_err(|(resource, errors)| match errors.first() {
            Some(e) => {
                let more = match errors.len() - 1 {
                    0 => String::new(),
                    n => format!(" (and {n} more syntax errors)"),
                };
                let line = line_of(resource.source(), e.pos.start);
                format!("{name} line {line}: {}{more}", e.kind)
            }
            None => format!("{name} does not parse"),
        })?;
    let mut ids = BTreeSet::new();
    let mut variables = HashMap::new();
    for entry in resource.entries() {
        if let ast::Entry::Message(m) = entry {
            let at = || line_of_message(resource.source(), m.id.name);
            if !ids.insert(m.id.name.to_string()) {
                return Err(TranslationError(format!(
                    "{name} line {}: \"{}\" is defined twice",
                    at(),
                    m.id.name
                )));
            }
            let Some(pattern) = &m.value else {
                return Err(TranslationError(format!(
                    "{name} line {}: \"{}\" has no text",
                    at(),
                    m.id.name
                )));
            };
            let mut names = BTreeSet::new();
            pattern_variables(pattern, &mut names);
            variables.insert(m.id.name.to_string(), (at(), names));
        }
    }
    let mut bundle = FluentBundle::new_concurrent(vec![lang.id()]);
    // Unicode isolation marks around each placed value would change every page's bytes;
    // the values are plain text in the page's language.
    bundle.set_use_isolating(false);
    bundle
        .add_resource(resource)
        .map_err(|errors| format!("{name}: {errors:?}"))?;
    let mut t = Translations {
        bundle,
        plain: HashMap::new(),
        json: Value::Null,
    };
    let mut json = Map::new();
    for (id, (line, names)) in &variables {
        // Every message must format once its variables are given (a number suits both
        // text and plurals); one referring to a message that is not there does not.
        let mut args = FluentArgs::new();
        for v in names {
            args.set(v.as_str(), 2);
        }
        let (_, errors) = t.try_format(id, Some(&args)).unwrap_or_default();
        if !errors.is_empty() {
            return Err(TranslationError(format!(
                "{name} line {line}: \"{id}\" does not format: {errors:?}"
            )));
        }
        // Formatted without arguments, a message with variables shows them as `{$name}`:
        // `get` and templates are for the others.
        let (text, _) = t.try_format(id, None).unwrap_or_default();
        json.insert(id.clone(), Value::String(text.clone()));
        t.plain.insert(id.clone(), text);
    }
    t.json = Value::Object(json);
    Ok(t)
}

/// Fails unless both languages define the same messages.
fn same_keys(
    a: &Translations,
    a_name: &str,
    b: &Translations,
    b_name: &str,
) -> Result<(), TranslationError> {
    for (x, x_name, y, y_name) in [(a, a_name, b, b_name), (b, b_name, a, a_name)] {
        let mut missing: Vec<_> = x.keys().filter(|k| !y.plain.contains_key(*k)).collect();
        if !missing.is_empty() {
            missing.sort();
            return Err(TranslationError(format!(
                "{y_name} lacks messages of {x_name}: {missing:?}"
            )));
        }
    }
    Ok(())
}

/// The variables a pattern refers to, in its placeables and plural choices.
fn pattern_variables(pattern: &ast::Pattern<&str>, names: &mut BTreeSet<String>) {
    for element in &pattern.elements {
        if let ast::PatternElement::Placeable { expression } = element {
            expression_variables(expression, names);
        }
    }
}

fn expression_variables(expression: &ast::Expression<&str>, names: &mut BTreeSet<String>) {
    match expression {
        ast::Expression::Select { selector, variants } => {
            inline_variables(selector, names);
            for v in variants {
                pattern_variables(&v.value, names);
            }
        }
        ast::Expression::Inline(e) => inline_variables(e, names),
    }
}

fn inline_variables(expression: &ast::InlineExpression<&str>, names: &mut BTreeSet<String>) {
    match expression {
        ast::InlineExpression::VariableReference { id } => {
            names.insert(id.name.to_string());
        }
        ast::InlineExpression::FunctionReference { arguments, .. } => {
            for a in &arguments.positional {
                inline_variables(a, names);
            }
            for a in &arguments.named {
                inline_variables(&a.value, names);
            }
        }
        ast::InlineExpression::Placeable { expression } => expression_variables(expression, names),
        _ => {}
    }
}

/// The line (from 1) of a byte offset.
fn line_of(source: &str, offset: usize) -> usize {
    source[..offset.min(source.len())].matches('\n').count() + 1
}

/// The line where message `id` is defined (its last definition).
fn line_of_message(source: &str, id: &str) -> usize {
    source
        .lines()
        .enumerate()
        .filter(|(_, l)| {
            l.strip_prefix(id)
                .is_some_and(|r| r.trim_start().starts_with('='))
        })
        .map(|(i, _)| i + 1)
        .last()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language() {
        assert_eq!(
            Lang::from_accept_language("en-GB,en;q=0.9,fr;q=0.8"),
            Some(Lang::En)
        );
        assert_eq!(
            Lang::from_accept_language("de, fr-CA;q=0.5"),
            Some(Lang::Fr)
        );
        assert_eq!(Lang::from_accept_language("de"), None);
        assert_eq!(
            Lang::from_accept_language("fr;q=0.2, en;q=0.7"),
            Some(Lang::En)
        );
    }

    #[test]
    fn both_languages_have_the_same_non_empty_keys() {
        let (fr, en) = translations().as_ref().unwrap();
        let mut a: Vec<_> = fr.keys().collect();
        let mut b: Vec<_> = en.keys().collect();
        a.sort();
        b.sort();
        assert!(a.len() > 50);
        assert_eq!(a, b);
        for k in a {
            assert!(!fr.get(k).is_empty() && !en.get(k).is_empty(), "{k}");
            // Words spelt alike in both languages are listed; anything else must differ.
            let alike = [
                "actions",
                "version",
                "version_label",
                "date",
                "note",
                "markdown",
                "versions",
                "versions_count",
                "st_absent",
                "level",
                "admin_title",
                "article",
                "articles",
                "phase",
                "dates",
                "pagination",
                "consultations_title",
                "page",
            ];
            if !alike.contains(&k.as_str()) {
                assert_ne!(fr.get(k), en.get(k), "{k} is not translated");
            }
        }
    }

    #[test]
    fn every_conflict_of_interest_has_its_message_in_both_languages() {
        let (fr, en) = translations().as_ref().unwrap();
        for c in crate::domain::conflict::Conflict::all() {
            let key = c.message_key();
            assert!(
                fr.keys().any(|k| k == key) && en.keys().any(|k| k == key),
                "{key}"
            );
        }
    }

    #[test]
    fn real_plurals_in_both_languages() {
        let count = |lang: Lang, key: &str, n: i64| lang.tr().fmt(key, &[("n", &n)]);
        // French: 0 and 1 are singular.
        assert_eq!(count(Lang::Fr, "versions_count", 0), "0 version");
        assert_eq!(count(Lang::Fr, "versions_count", 1), "1 version");
        assert_eq!(count(Lang::Fr, "versions_count", 2), "2 versions");
        assert_eq!(count(Lang::En, "versions_count", 0), "0 versions");
        assert_eq!(count(Lang::En, "versions_count", 1), "1 version");
        assert_eq!(count(Lang::En, "versions_count", 2), "2 versions");
        assert_eq!(count(Lang::Fr, "articles_added", 0), "article ajouté");
        assert_eq!(count(Lang::Fr, "articles_added", 2), "articles ajoutés");
        assert_eq!(count(Lang::En, "articles_added", 0), "articles added");
        assert_eq!(count(Lang::En, "articles_added", 1), "article added");
        let activity =
            |lang: Lang, a: usize, c: usize| lang.tr().fmt("toc_activity", &[("a", &a), ("c", &c)]);
        assert_eq!(activity(Lang::Fr, 0, 1), "0 amendement · 1 commentaire");
        assert_eq!(activity(Lang::Fr, 1, 2), "1 amendement · 2 commentaires");
        assert_eq!(activity(Lang::En, 0, 1), "0 amendments · 1 comment");
        assert_eq!(activity(Lang::En, 1, 2), "1 amendment · 2 comments");
        // A number given as text is not counted: it shows as it is.
        assert_eq!(
            Lang::En.tr().fmt("versions_count", &[("n", &"1")]),
            "1 versions"
        );
    }

    #[test]
    fn every_message_formats_with_its_variables_in_both_languages() {
        let mut by_lang = Vec::new();
        for lang in [Lang::Fr, Lang::En] {
            let t = lang.tr();
            let file =
                crate::web::assets::Assets::get(&format!("i18n/{}.ftl", lang.code())).unwrap();
            let source = std::str::from_utf8(&file.data).unwrap().to_string();
            let resource = FluentResource::try_new(source).unwrap();
            let mut variables = HashMap::new();
            for entry in resource.entries() {
                if let ast::Entry::Message(m) = entry {
                    let mut names = BTreeSet::new();
                    pattern_variables(m.value.as_ref().unwrap(), &mut names);
                    variables.insert(m.id.name.to_string(), names);
                }
            }
            assert_eq!(variables.len(), t.keys().count());
            for (id, names) in &variables {
                for value in [FluentValue::from(0), 1.into(), 2.into(), "text".into()] {
                    let mut args = FluentArgs::new();
                    for n in names {
                        args.set(n.as_str(), value.clone());
                    }
                    let (text, errors) = t.try_format(id, Some(&args)).unwrap();
                    assert!(errors.is_empty(), "{} {id}: {errors:?}", lang.code());
                    assert!(!text.is_empty() && !text.contains('{'), "{id}: {text}");
                }
            }
            by_lang.push(variables);
        }
        assert_eq!(
            by_lang[0], by_lang[1],
            "a message has the same variables in both"
        );
    }

    #[test]
    fn a_broken_file_is_an_error_naming_the_file_and_the_line() {
        let parse = |source: &str| {
            parse("xx.ftl", source.to_string(), Lang::En)
                .err()
                .map(|e| e.to_string())
        };
        assert!(parse("a = one\nb = { $n } two\n").is_none());
        let e = parse("a = one\nb two\nc = three\n").unwrap();
        assert!(e.starts_with("xx.ftl line 2: "), "{e}");
        let e = parse("a = one\nb = { $n ->\n  [one] x\n}\n").unwrap();
        // Where the parser found out: the variants end with no default among them.
        assert!(
            e.starts_with("xx.ftl line 4: ") && e.contains("default"),
            "{e}"
        );
        let e = parse("a = one\nb = two\na = three\n").unwrap();
        assert!(
            e.starts_with("xx.ftl line 3: ") && e.contains("twice"),
            "{e}"
        );
        let e = parse("a = one\nb = { c }\n").unwrap();
        assert!(
            e.starts_with("xx.ftl line 2: ") && e.contains("format"),
            "{e}"
        );
        let e = parse("a = one\nb =\n    .title = two\n").unwrap();
        assert!(
            e.starts_with("xx.ftl line 2: ") && e.contains("no text"),
            "{e}"
        );
        // A file missing a message of the other language.
        let a = super::parse("fr.ftl", "a = un\nb = deux\n".into(), Lang::Fr).unwrap();
        let b = super::parse("en.ftl", "a = one\n".into(), Lang::En).unwrap();
        let e = same_keys(&a, "fr.ftl", &b, "en.ftl")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("en.ftl lacks") && e.contains("\"b\""), "{e}");
    }
}

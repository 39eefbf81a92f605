//! French and English. Every user-facing string comes from `templates/i18n/*.json`; the
//! language is the `lang` cookie (set by the switch), else `Accept-Language`, else French.

use rocket::http::Status;
use rocket::request::{FromRequest, Outcome, Request};
use serde_json::{Map, Value};
use std::collections::HashMap;
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
        let all = translations();
        match self {
            Lang::Fr => &all.0,
            Lang::En => &all.1,
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

/// The strings of one language, as a map (for code) and as a JSON object (for templates).
pub struct Translations {
    map: HashMap<String, String>,
    pub json: Value,
}

impl Translations {
    /// A string by key. A missing key is a bug (the tests render every page in both
    /// languages); it shows as a visible marker rather than failing the page.
    pub fn get<'a>(&'a self, key: &str) -> &'a str {
        self.map
            .get(key)
            .map(String::as_str)
            .unwrap_or("[missing translation]")
    }

    /// A string with `{name}` placeholders filled.
    pub fn fmt(&self, key: &str, args: &[(&str, &dyn std::fmt::Display)]) -> String {
        let mut s = self.get(key).to_string();
        for (name, value) in args {
            s = s.replace(&format!("{{{name}}}"), &value.to_string());
        }
        s
    }

    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.map.keys()
    }
}

fn load(file: &str) -> Translations {
    let bytes = super::templates::Assets::get(file)
        .map(|f| f.data.into_owned())
        .unwrap_or_default();
    let json: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Object(Map::new()));
    let map = json
        .as_object()
        .map(|o| {
            o.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                .collect()
        })
        .unwrap_or_default();
    Translations { map, json }
}

fn translations() -> &'static (Translations, Translations) {
    static T: OnceLock<(Translations, Translations)> = OnceLock::new();
    T.get_or_init(|| (load("i18n/fr.json"), load("i18n/en.json")))
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
        let (fr, en) = translations();
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
}

//! What each page shows: one `#[derive(Serialize)]` struct per page, built here from
//! service calls, so that a handler is its guards, one call into this module and
//! [`App::page`](super::App::page). The template sees exactly the struct's fields, plus
//! what every page has (the [`Layout`]): nothing is added to an untyped map on the way.
//!
//! Strings a page shows are translated here (a phase's name, a level's name), with the
//! request's language, so templates only place them; messages with variables that a
//! template formats itself use its `tr` helper.

pub mod account;
pub mod admin;
pub mod campaigns;
pub mod comment;
pub mod consolidation;
pub mod consultation;
pub mod error;
pub mod moderation;
pub mod opendata;
pub mod reading;
pub mod verification;
pub mod vote;

use super::auth::Header;
use super::i18n::{Lang, Translations};
use serde::Serialize;
use serde_json::Value;

/// A page's data and the template that shows it.
pub trait Page: Serialize {
    /// The template's file stem (`templates/NAME.hbs`).
    const TEMPLATE: &'static str;
    /// The page's title, in the tab and the layout's heading.
    fn title(&self, t: &Translations) -> String;
}

/// What the layout (`templates/layout.hbs`) needs on every page, around the page's own
/// fields (flattened beside them, so a template reads `{{bill.title}}` and `{{lang}}`
/// alike). A page struct must not have a field of these names.
#[derive(Serialize)]
pub(super) struct Layout<'a, P: Serialize> {
    #[serde(flatten)]
    pub page: &'a P,
    /// The signed-in person's header (name, level, sign-out form), null when anonymous.
    pub user: Option<&'a Header>,
    pub lang: &'static str,
    /// Every message without variables, by key (`{{t.key}}`).
    pub t: &'a Value,
    pub title: &'a str,
    pub other_lang: &'static str,
    pub other_lang_name: &'a str,
    /// The current path, URL-encoded, for "sign in and come back".
    pub next: String,
    pub demo: bool,
}

/// A choice in a `<select>`: its value, what it shows, whether it is chosen.
#[derive(Serialize)]
pub struct Choice {
    pub value: String,
    pub name: String,
    pub selected: bool,
}

/// A closed-set word and its name in the page's language (`{code, name}`), as the
/// templates show states: `phase_{word}`, `status_{word}`…
#[derive(Serialize)]
pub struct Named {
    pub code: String,
    pub name: String,
}

impl Named {
    /// `word` named by the message `{prefix}_{word}`.
    pub fn new(lang: Lang, prefix: &str, word: impl std::fmt::Display) -> Named {
        let code = word.to_string();
        let name = lang.tr().get(&format!("{prefix}_{code}")).to_string();
        Named { code, name }
    }
}

/// A bill as pages link to it (breadcrumbs, headings).
#[derive(Serialize)]
pub struct BillRef {
    pub slug: String,
    pub title: String,
}

impl BillRef {
    pub fn of(bill: &crate::store::bills::Bill) -> BillRef {
        BillRef {
            slug: bill.slug.clone(),
            title: bill.meta.title.clone(),
        }
    }
}

//! Identity verification pages (moderators): finding a person, a person's verifications
//! with the forms to record, confirm and revoke one, and re-identifying a pseudonym.

use super::Page;
use crate::domain::ids::{AccountId, VerificationId};
use crate::domain::time::Day;
use crate::service::identity::{self, SessionInfo};
use crate::store;
use crate::web::auth::CsrfToken;
use crate::web::errors::AppError;
use crate::web::i18n::Translations;
use crate::web::{App, Ctx};
use rocket::http::Status;
use serde::Serialize;

/// `/moderation/people`: the people whose name, email or number matches the search.
#[derive(Serialize)]
pub struct People {
    q: String,
    people: Vec<PersonItem>,
}

#[derive(Serialize)]
struct PersonItem {
    id: AccountId,
    name: String,
    provider: String,
}

impl Page for People {
    const TEMPLATE: &'static str = "people";
    fn title(&self, t: &Translations) -> String {
        t.get("moderation_people").into()
    }
}

/// At most 200 people matching `q` (all when empty).
pub fn people(app: &App, q: &str) -> Result<People, AppError> {
    let mut conn = app.reader.store().conn()?;
    let needle = q.to_lowercase();
    let people = store::accounts::list(&mut conn)?
        .into_iter()
        .filter(|a| {
            needle.is_empty()
                || a.display_name.to_lowercase().contains(&needle)
                || a.email
                    .as_deref()
                    .is_some_and(|e| e.to_lowercase().contains(&needle))
                || a.id.to_string() == needle
        })
        .take(200)
        .map(|a| PersonItem {
            id: a.id,
            name: a.display_name,
            provider: a.provider,
        })
        .collect();
    Ok(People {
        q: q.to_string(),
        people,
    })
}

/// What the verification form showed, kept when it comes back with an error.
#[derive(Default, Clone)]
pub struct Draft {
    pub level: String,
    pub method: String,
    pub verified_on: String,
    pub expires_on: String,
    /// The field in error and the message.
    pub error: Option<(&'static str, String)>,
}

/// `/moderation/people/<id>`: a person, their verifications and the form to record one.
#[derive(Serialize)]
pub struct Person {
    person: PersonRef,
    /// Their verified level today, and until when.
    verified: Option<Verified>,
    verifications: Vec<VerificationItem>,
    /// The moderator is looking at themselves (they may not verify themselves).
    #[serde(rename = "self")]
    is_self: bool,
    csrf: String,
    draft: DraftView,
    error_field: Option<&'static str>,
    error: Option<String>,
    today: Day,
}

#[derive(Serialize)]
struct PersonRef {
    id: AccountId,
    name: String,
    provider: String,
    subject: String,
}

#[derive(Serialize)]
struct Verified {
    level: u8,
    until: Day,
}

#[derive(Serialize)]
struct VerificationItem {
    id: VerificationId,
    level: i32,
    method: String,
    verified_on: Day,
    expires_on: Day,
    recorded_by: AccountId,
    confirmed_by: Option<AccountId>,
    status: String,
    can_confirm: bool,
    can_revoke: bool,
}

/// The form's input, and the choices it selects.
#[derive(Serialize)]
struct DraftView {
    level: String,
    method: String,
    verified_on: String,
    expires_on: String,
    level2: bool,
    level3: bool,
    in_person: bool,
}

impl Page for Person {
    const TEMPLATE: &'static str = "person";
    fn title(&self, _: &Translations) -> String {
        self.person.name.clone()
    }
}

/// Account `id` as moderator `me` sees it; `draft`: the form's input (empty at first).
pub fn person(
    app: &App,
    ctx: &Ctx,
    me: &SessionInfo,
    csrf: &CsrfToken,
    id: AccountId,
    draft: Draft,
) -> Result<Person, AppError> {
    let t = ctx.lang.tr();
    let mut conn = app.reader.store().conn()?;
    let today = app.reader.store().clock().day();
    let account = store::accounts::by_id(&mut conn, id)?
        .ok_or_else(|| AppError::key(Status::NotFound, "err_unknown_account"))?;
    let verifications = store::verifications::for_account(&mut conn, id)?
        .into_iter()
        .map(|v| VerificationItem {
            status: t
                .get(&format!("vstatus_{}", identity::status(&v, today).as_str()))
                .to_string(),
            can_confirm: identity::may_confirm(&v, me.account.id, today),
            can_revoke: v.revoked_at.is_none(),
            id: v.id,
            level: v.level,
            method: t.get(&format!("method_{}", v.method)).to_string(),
            verified_on: v.verified_on,
            expires_on: v.expires_on,
            recorded_by: v.recorded_by,
            confirmed_by: v.confirmed_by,
        })
        .collect();
    let verified = identity::verified_level(&mut conn, id, today)?;
    let (error_field, error) = match draft.error {
        Some((f, m)) => (Some(f), Some(m)),
        None => (None, None),
    };
    Ok(Person {
        is_self: account.id == me.account.id,
        person: PersonRef {
            id: account.id,
            name: account.display_name,
            provider: account.provider,
            subject: account.subject,
        },
        verified: verified.map(|(l, until)| Verified {
            level: l.get(),
            until,
        }),
        verifications,
        csrf: csrf.0.clone(),
        draft: DraftView {
            level2: draft.level == "2",
            level3: draft.level == "3",
            in_person: draft.method == "in_person",
            level: draft.level,
            method: draft.method,
            verified_on: draft.verified_on,
            expires_on: draft.expires_on,
        },
        error_field,
        error,
        today,
    })
}

/// `/moderation/reidentify`: the form to find who is behind a pseudonym, its input, the
/// error beside its field, and (after a search) its result.
#[derive(Serialize)]
pub struct Reidentify {
    bills: Vec<BillChoice>,
    pseudonym: String,
    reason: String,
    csrf: String,
    error_bill: Option<String>,
    error_pseudonym: Option<String>,
    error_reason: Option<String>,
    result: Option<Found>,
}

#[derive(Serialize)]
struct BillChoice {
    slug: String,
    title: String,
    selected: bool,
}

/// What a search found: `found` and, when it did, the account.
#[derive(Serialize)]
pub struct Found {
    found: bool,
    #[serde(flatten)]
    account: Option<FoundAccount>,
}

#[derive(Serialize)]
struct FoundAccount {
    id: AccountId,
    name: String,
    provider: String,
}

impl Found {
    pub fn of(account: Option<store::accounts::Account>) -> Found {
        Found {
            found: account.is_some(),
            account: account.map(|a| FoundAccount {
                id: a.id,
                name: a.display_name,
                provider: a.provider,
            }),
        }
    }
}

/// The field a re-identification error goes beside.
#[derive(Clone, Copy)]
pub enum ReidentifyField {
    Bill,
    Pseudonym,
    Reason,
}

/// The form with its input (bill, pseudonym, reason), an error, and a result.
pub fn reidentify(
    app: &App,
    csrf: &CsrfToken,
    form: (&str, &str, &str),
    error: Option<(ReidentifyField, String)>,
    result: Option<Found>,
) -> Result<Reidentify, AppError> {
    let mut conn = app.reader.store().conn()?;
    let bills = store::bills::list(&mut conn)?
        .into_iter()
        .map(|b| BillChoice {
            selected: b.bill.slug == form.0,
            slug: b.bill.slug,
            title: b.bill.meta.title,
        })
        .collect();
    let (mut error_bill, mut error_pseudonym, mut error_reason) = (None, None, None);
    match error {
        Some((ReidentifyField::Bill, m)) => error_bill = Some(m),
        Some((ReidentifyField::Pseudonym, m)) => error_pseudonym = Some(m),
        Some((ReidentifyField::Reason, m)) => error_reason = Some(m),
        None => {}
    }
    Ok(Reidentify {
        bills,
        pseudonym: form.1.to_string(),
        reason: form.2.to_string(),
        csrf: csrf.0.clone(),
        error_bill,
        error_pseudonym,
        error_reason,
        result,
    })
}

impl Page for Reidentify {
    const TEMPLATE: &'static str = "reidentify";
    fn title(&self, t: &Translations) -> String {
        t.get("reidentify_title").into()
    }
}

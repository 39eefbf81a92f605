//! Errors as pages in the user's language, or as JSON `{error, message}` under /api.

use super::i18n::{Lang, Translations};
use crate::domain::amendment::AmendError;
use crate::domain::consultation::Phase;
use crate::service::consultation::ConsultationError;
use crate::service::identity::VerifyError;
use crate::service::moderation::ModerationError;
use crate::service::reading::ReadError;
use crate::service::voting::VoteError;
use rocket::http::Status;
use rocket::response::{self, Responder};
use rocket::serde::json::Json;
use rocket::{catch, catchers, Catcher, Request, Response};
use serde::Serialize;

/// A message not yet put into words: it is said in the reader's language when the
/// response is made.
type Say = Box<dyn Fn(&Translations) -> String + Send + Sync>;

/// An error shown to a person: a status, and what to say (in their language, chosen in
/// [`Responder::respond_to`] from the request), so that every lower error converts with `?`.
pub struct AppError {
    pub status: Status,
    say: Say,
    /// A way forward shown under the message: (address, label).
    link: Option<(String, Say)>,
    /// The level a refusal for too low a level asked for (see [`AppError::step_up_from`]).
    step_up: Option<u8>,
    /// Seconds until a rate limit resets (a `Retry-After` header on 429).
    pub retry_after: Option<i64>,
}

impl std::fmt::Debug for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AppError({}: {})", self.status, self.message(Lang::En))
    }
}

impl AppError {
    /// An error whose message is put into words by `say`, in the reader's language.
    pub fn new(
        status: Status,
        say: impl Fn(&Translations) -> String + Send + Sync + 'static,
    ) -> Self {
        AppError {
            status,
            say: Box::new(say),
            link: None,
            step_up: None,
            retry_after: None,
        }
    }

    /// An error whose message is one string of the translations.
    pub fn key(status: Status, key: &'static str) -> Self {
        Self::new(status, move |t| t.get(key).to_string())
    }

    /// "Not found", with the generic message.
    pub fn not_found() -> Self {
        Self::key(Status::NotFound, "err_not_found")
    }

    /// An unexpected failure: logged in full, shown as a generic message.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(%detail, "internal error");
        Self::key(Status::InternalServerError, "err_server")
    }

    /// Too low a level: what was needed and what the person has.
    pub fn level(needed: u8, have: u8) -> Self {
        let mut e = Self::new(Status::Forbidden, move |t| {
            t.fmt("err_level_needed", &[("wanted", &needed), ("got", &have)])
        });
        e.step_up = Some(needed);
        e
    }

    /// A suspended account: until when, and where to appeal.
    pub fn suspended(until: &str) -> Self {
        let until = crate::domain::time::display(until);
        Self::new(Status::Forbidden, move |t| {
            t.fmt("err_suspended", &[("until", &until)])
        })
        .with_link("/account/moderation", |t| {
            t.get("my_moderation_title").to_string()
        })
    }

    /// The same error with a way forward under the message.
    pub fn with_link(
        mut self,
        href: impl Into<String>,
        label: impl Fn(&Translations) -> String + Send + Sync + 'static,
    ) -> Self {
        self.link = Some((href.into(), Box::new(label)));
        self
    }

    /// A refusal for too low a level offers to sign in again at that level and come
    /// back to `next`; any other error is unchanged.
    pub fn step_up_from(self, next: &str) -> Self {
        match self.step_up {
            Some(level) => self.with_link(
                format!("/signin?level={level}&next={}", super::url_encode(next)),
                move |t| t.fmt("step_up_link", &[("level", &level)]),
            ),
            None => self,
        }
    }

    /// The message in `lang`.
    pub fn message(&self, lang: Lang) -> String {
        (self.say)(lang.tr())
    }

    /// The way forward in `lang`: (address, label).
    pub fn link(&self, lang: Lang) -> Option<(String, String)> {
        self.link
            .as_ref()
            .map(|(href, label)| (href.clone(), label(lang.tr())))
    }
}

impl From<crate::store::StoreError> for AppError {
    fn from(e: crate::store::StoreError) -> Self {
        AppError::internal(e)
    }
}

impl From<ReadError> for AppError {
    fn from(e: ReadError) -> Self {
        match e {
            ReadError::UnknownBill(slug) => Self::new(Status::NotFound, move |t| {
                t.fmt("err_unknown_bill", &[("slug", &slug)])
            }),
            ReadError::UnknownVersion { bill, number } => Self::new(Status::NotFound, move |t| {
                t.fmt("err_unknown_version", &[("slug", &bill), ("n", &number)])
            }),
            ReadError::Empty(slug) => Self::new(Status::NotFound, move |t| {
                t.fmt("err_empty_bill", &[("slug", &slug)])
            }),
            ReadError::CrossBill(a, b) => Self::new(Status::BadRequest, move |t| {
                t.fmt("err_cross_bill", &[("a", &a), ("b", &b)])
            }),
            ReadError::Store(e) => Self::internal(e),
            ReadError::Internal(e) => Self::internal(e),
        }
    }
}

/// The name of a consultation phase in the reader's language.
fn phase_name(t: &Translations, phase: Phase) -> String {
    t.get(&format!("phase_{}", phase.as_str())).to_string()
}

impl From<ConsultationError> for AppError {
    fn from(e: ConsultationError) -> Self {
        match e {
            ConsultationError::NotFound => Self::not_found(),
            ConsultationError::NotOpen(phase) => Self::new(Status::Conflict, move |t| {
                t.fmt("err_not_open", &[("phase", &phase_name(t, phase))])
            }),
            ConsultationError::Level { needed, have } => Self::level(needed, have),
            ConsultationError::Stale => Self::key(Status::Conflict, "err_stale"),
            ConsultationError::Amend(AmendError::Empty) => {
                Self::key(Status::BadRequest, "err_empty_amendment")
            }
            ConsultationError::Amend(_) => Self::key(Status::BadRequest, "err_quote"),
            ConsultationError::Invalid { reason, .. } => Self::key(Status::BadRequest, reason),
            ConsultationError::State(key @ "err_not_author") => Self::key(Status::Forbidden, key),
            ConsultationError::State(key) => Self::key(Status::Conflict, key),
            ConsultationError::Consolidate(detail) => Self::new(Status::Conflict, move |t| {
                t.fmt("err_consolidation", &[("detail", &detail)])
            }),
            ConsultationError::Forbidden => Self::key(Status::Forbidden, "err_forbidden"),
            ConsultationError::Conflict(c) => Self::key(Status::Forbidden, c.message_key()),
            ConsultationError::Suspended(until) => Self::suspended(&until),
            ConsultationError::Store(e) => Self::internal(e),
            ConsultationError::Vote(e) => e.into(),
        }
    }
}

impl From<VoteError> for AppError {
    fn from(e: VoteError) -> Self {
        match e {
            VoteError::NotFound => Self::not_found(),
            VoteError::Suspended(until) => Self::suspended(&until),
            VoteError::NotVoting(phase) => Self::new(Status::Conflict, move |t| {
                t.fmt("err_not_voting", &[("phase", &phase_name(t, phase))])
            }),
            VoteError::Level { needed, have } => Self::level(needed, have),
            VoteError::NotYet(d) => Self::new(Status::Conflict, move |t| {
                t.fmt("err_vote_not_yet", &[("day", &d)])
            }),
            VoteError::Ended(d) => Self::new(Status::Conflict, move |t| {
                t.fmt("err_vote_ended", &[("day", &d)])
            }),
            VoteError::Invalid(key) => Self::key(Status::BadRequest, key),
            VoteError::AlreadyVoted => Self::key(Status::Conflict, "err_already_voted"),
            VoteError::Closed => Self::key(Status::Conflict, "err_log_closed"),
            VoteError::ClosingDayPassed(d) => Self::new(Status::Conflict, move |t| {
                t.fmt("err_closing_day_passed", &[("day", &d)])
            }),
            VoteError::NotYours => Self::key(Status::Forbidden, "err_not_yours"),
            VoteError::NotClosed => Self::key(Status::Conflict, "err_not_closed"),
            VoteError::KeyDestroyed => Self::key(Status::Gone, "err_key_destroyed"),
            VoteError::NothingToVote => Self::key(Status::BadRequest, "err_nothing_to_vote"),
            VoteError::SettingsLocked(phase) => Self::new(Status::Conflict, move |t| {
                t.fmt(
                    "err_vote_settings_locked",
                    &[("phase", &phase_name(t, phase))],
                )
            }),
            VoteError::StaffOnly => Self::key(Status::Forbidden, "err_forbidden"),
            e => Self::internal(e),
        }
    }
}

impl From<ModerationError> for AppError {
    fn from(e: ModerationError) -> Self {
        match e {
            ModerationError::NotFound => Self::not_found(),
            ModerationError::Invalid { reason, .. } => Self::key(Status::BadRequest, reason),
            ModerationError::AlreadyReported => Self::key(Status::Conflict, "err_already_reported"),
            ModerationError::ModeratorsOnly => Self::key(Status::Forbidden, "err_forbidden"),
            ModerationError::Conflict(c) => Self::key(Status::Forbidden, c.message_key()),
            ModerationError::NotYours => Self::key(Status::Forbidden, "err_not_your_decision"),
            ModerationError::AlreadyAppealed => Self::key(Status::Conflict, "err_already_appealed"),
            ModerationError::NotAppealable => Self::key(Status::Conflict, "err_not_appealable"),
            ModerationError::AlreadyDecided => Self::key(Status::Conflict, "err_appeal_decided"),
            ModerationError::Suspended(until) => Self::suspended(&until),
            ModerationError::Store(e) => Self::internal(e),
        }
    }
}

impl From<VerifyError> for AppError {
    fn from(e: VerifyError) -> Self {
        match e {
            VerifyError::Rule(r) => Self::key(Status::Conflict, r.key()),
            VerifyError::NotFound => Self::key(Status::NotFound, "err_unknown_verification"),
            VerifyError::Store(e) => Self::internal(e),
        }
    }
}

// `AppError`'s `Responder`, the error page, is in `view::error` (views name this module,
// and this module names no view).

/// Pages that need a signed-in person send others to the sign-in page, and back.
#[catch(401)]
fn html_unauthorized(req: &Request<'_>) -> rocket::response::Redirect {
    let next = super::url_encode(&req.uri().to_string());
    rocket::response::Redirect::to(format!("/signin?next={next}"))
}

/// Seconds to wait, left in the request's local cache by a guard refusing with 429
/// (the sign-in limit), for the catchers to say and send as `Retry-After`.
#[derive(Default, Clone, Copy)]
pub struct RetryAfter(pub Option<i64>);

/// The wait a guard refusing with 429 left for the catchers.
fn retry_after(req: &Request<'_>, status: Status) -> Option<i64> {
    match status.code {
        429 => req.local_cache(RetryAfter::default).0,
        _ => None,
    }
}

/// A refusal by a request guard (too low a level, CSRF, rate limit…) as a page.
#[catch(default)]
fn html_default(status: Status, req: &Request<'_>) -> AppError {
    let missing = req.local_cache(super::auth::MissingLevel::default);
    if status.code == 403 && missing.wanted > 0 {
        return AppError::level(missing.wanted, missing.got).step_up_from(&req.uri().to_string());
    }
    let wait = retry_after(req, status);
    let mut e = match (status.code, wait) {
        (403, _) if super::csrf::refused(req) => AppError::key(status, "err_csrf"),
        (404, _) => AppError::key(status, "err_not_found"),
        (403, _) => AppError::key(status, "err_forbidden"),
        (429, Some(seconds)) => AppError::new(status, move |t| {
            t.fmt("err_too_many_wait", &[("seconds", &seconds.max(1))])
        }),
        (429, None) => AppError::key(status, "err_too_many"),
        (500..=599, _) => AppError::key(status, "err_server"),
        _ => {
            let reason = status.reason_lossy().to_string();
            AppError::new(status, move |_| reason.clone())
        }
    };
    e.retry_after = wait;
    e
}

pub fn html_catchers() -> Vec<Catcher> {
    catchers![html_unauthorized, html_default]
}

/// An API error: `{error, message}` with the right status.
#[derive(Debug)]
pub struct ApiError {
    pub status: Status,
    pub error: &'static str,
    pub message: String,
    /// Seconds until a rate limit resets (`Retry-After` on 429).
    pub retry_after: Option<i64>,
}

/// The body of every API error.
#[derive(Serialize)]
struct ErrorBody<'a> {
    /// A stable code (`not_found`, `invalid`, `rate_limited`…).
    error: &'a str,
    /// What happened, in English.
    message: &'a str,
}

impl ApiError {
    pub fn new(status: Status, error: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            error,
            message: message.into(),
            retry_after: None,
        }
    }

    /// An unexpected failure: logged in full, answered with no more than that.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(%detail, "internal error");
        ApiError::new(
            Status::InternalServerError,
            "internal",
            "internal server error",
        )
    }

    /// A page error (rate limit, store failure) as JSON: 429 keeps its `Retry-After`,
    /// a server error says no more than that.
    pub fn from_page(e: AppError) -> Self {
        let message = e.message(Lang::En);
        match e.status.code {
            429 => ApiError {
                retry_after: e.retry_after,
                ..ApiError::new(e.status, "rate_limited", message)
            },
            500..=599 => ApiError::new(e.status, "internal", "internal server error"),
            _ => ApiError::new(e.status, "refused", message),
        }
    }

    /// A refusal under the stable `code`, with the status and (English) message the page
    /// would give; a server error says no more than that (the page error logged it).
    fn as_page(code: &'static str, page: AppError) -> Self {
        if page.status.code >= 500 {
            return ApiError::new(page.status, "internal", "internal server error");
        }
        ApiError::new(page.status, code, page.message(Lang::En))
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        ApiError::from_page(e)
    }
}

impl From<super::WorkerFailed> for ApiError {
    fn from(e: super::WorkerFailed) -> Self {
        ApiError::internal(e)
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        ApiError::internal(e)
    }
}

impl From<ReadError> for ApiError {
    fn from(e: ReadError) -> Self {
        match &e {
            ReadError::UnknownBill(_) | ReadError::UnknownVersion { .. } | ReadError::Empty(_) => {
                ApiError::new(Status::NotFound, "not_found", e.to_string())
            }
            ReadError::CrossBill(..) => {
                ApiError::new(Status::BadRequest, "cross_bill", e.to_string())
            }
            ReadError::Store(_) | ReadError::Internal(_) => ApiError::internal(e),
        }
    }
}

/// A refusal of the consultation service: a stable code, and the message the page would
/// show, in English (an invalid field named before it).
impl From<ConsultationError> for ApiError {
    fn from(e: ConsultationError) -> Self {
        let code = match &e {
            ConsultationError::NotFound => "not_found",
            ConsultationError::Invalid { .. } | ConsultationError::Amend(_) => "invalid",
            ConsultationError::NotOpen(_) => "not_open",
            ConsultationError::Level { .. } => "level_too_low",
            ConsultationError::Stale => "stale",
            ConsultationError::State("err_not_author") | ConsultationError::Forbidden => {
                "forbidden"
            }
            ConsultationError::Conflict(_) => "conflict_of_interest",
            ConsultationError::Suspended(_) => "suspended",
            ConsultationError::State(_)
            | ConsultationError::Consolidate(_)
            | ConsultationError::Vote(_) => "refused",
            ConsultationError::Store(_) => "internal",
        };
        let field = match &e {
            ConsultationError::Invalid { field, .. } => Some(*field),
            ConsultationError::Amend(AmendError::Empty) => Some("text"),
            _ => None,
        };
        let mut api = ApiError::as_page(code, AppError::from(e));
        if let (Some(f), false) = (field, api.status.code >= 500) {
            api.message = format!("{f}: {}", api.message);
        }
        api
    }
}

/// A refusal of the voting service: a stable code, and what it says (in English).
/// ([`VoteError::Ledger`] is an internal error here; the proofs, where it means a bad
/// request, say so themselves.)
impl From<VoteError> for ApiError {
    fn from(e: VoteError) -> Self {
        let (status, code) = match &e {
            VoteError::NotFound => (Status::NotFound, "not_found"),
            VoteError::NotVoting(_) => (Status::Conflict, "not_voting"),
            VoteError::Level { .. } => (Status::Forbidden, "level_too_low"),
            VoteError::NotYet(_) => (Status::Conflict, "not_yet_open"),
            VoteError::Ended(_) => (Status::Conflict, "voting_ended"),
            VoteError::Invalid(_) => (Status::BadRequest, "invalid_ballot"),
            VoteError::AlreadyVoted => (Status::Conflict, "already_voted"),
            VoteError::Closed => (Status::Conflict, "closed"),
            VoteError::ClosingDayPassed(_) => (Status::Conflict, "closing_day_passed"),
            VoteError::NotYours => (Status::Forbidden, "forbidden"),
            VoteError::NotClosed => (Status::Conflict, "not_closed"),
            VoteError::KeyDestroyed => (Status::Gone, "key_destroyed"),
            VoteError::Suspended(_) => (Status::Forbidden, "suspended"),
            VoteError::NothingToVote => (Status::BadRequest, "nothing_to_vote"),
            VoteError::SettingsLocked(_) => (Status::Conflict, "settings_locked"),
            VoteError::StaffOnly => (Status::Forbidden, "forbidden"),
            VoteError::Ledger(_) | VoteError::Stopped | VoteError::Store(_) => {
                return ApiError::internal(e)
            }
        };
        let message = match &e {
            VoteError::Invalid(key) => Lang::En.tr().get(key).to_string(),
            _ => e.to_string(),
        };
        ApiError::new(status, code, message)
    }
}

/// A refusal of the moderation service: a stable code, and the page's message in English.
impl From<ModerationError> for ApiError {
    fn from(e: ModerationError) -> Self {
        let code = match &e {
            ModerationError::NotFound => "not_found",
            ModerationError::Invalid { .. } => "invalid",
            ModerationError::AlreadyReported => "already_reported",
            ModerationError::ModeratorsOnly
            | ModerationError::Conflict(_)
            | ModerationError::NotYours => "forbidden",
            ModerationError::AlreadyAppealed => "already_appealed",
            ModerationError::NotAppealable => "not_appealable",
            ModerationError::AlreadyDecided => "already_decided",
            ModerationError::Suspended(_) => "suspended",
            ModerationError::Store(_) => "internal",
        };
        ApiError::as_page(code, AppError::from(e))
    }
}

/// A refusal of an identity verification: a stable code, and the page's message in
/// English.
impl From<VerifyError> for ApiError {
    fn from(e: VerifyError) -> Self {
        let code = match &e {
            VerifyError::Rule(_) => "refused",
            VerifyError::NotFound => "not_found",
            VerifyError::Store(_) => "internal",
        };
        ApiError::as_page(code, AppError::from(e))
    }
}

impl<'r> Responder<'r, 'static> for ApiError {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let body = Json(ErrorBody {
            error: self.error,
            message: &self.message,
        });
        let mut res = Response::build_from(body.respond_to(req)?);
        res.status(self.status);
        if let Some(secs) = self.retry_after {
            res.raw_header("Retry-After", secs.max(1).to_string());
        }
        res.ok()
    }
}

/// The message of a JSON write refused for its CSRF token.
pub const CSRF_REFUSED: &str =
    "missing or wrong CSRF token: send this browser's token (GET /api/v1/me) in X-CSRF-Token";

/// A refusal by a request guard as JSON (with `Retry-After` on a rate limit).
#[catch(default)]
fn api_default(status: Status, req: &Request<'_>) -> ApiError {
    let error = match status.code {
        401 => "unauthorized",
        403 => "forbidden",
        429 => "too_many_requests",
        404 => "not_found",
        400..=499 => "bad_request",
        _ => "internal",
    };
    let message = if status.code == 403 && super::csrf::refused(req) {
        CSRF_REFUSED
    } else {
        status.reason_lossy()
    };
    ApiError {
        retry_after: retry_after(req, status),
        ..ApiError::new(status, error, message)
    }
}

pub fn api_catchers() -> Vec<Catcher> {
    catchers![api_default]
}

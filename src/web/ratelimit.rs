//! Rate limits. Sign-in attempts: per client address, in a fixed window kept in process
//! memory (each app server limits on its own, which bounds guessing without a shared
//! store). Posting, reporting and voting: per account and per address, counted in the
//! database so that every app server shares the same count ([`check`]).

use rocket::http::Status;
use rocket::request::{FromRequest, Outcome, Request};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct Limiter {
    max: u32,
    window: Duration,
    seen: Mutex<HashMap<Option<IpAddr>, (Instant, u32)>>,
}

impl Limiter {
    pub fn new(max: u32, window: Duration) -> Self {
        Limiter {
            max,
            window,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one attempt from `who`; false when over the limit for this window.
    pub fn allow(&self, who: Option<IpAddr>) -> bool {
        let now = Instant::now();
        let Ok(mut seen) = self.seen.lock() else {
            return false;
        };
        if seen.len() > 10_000 {
            // Forget finished windows so the map stays small under many addresses.
            seen.retain(|_, (start, _)| now.duration_since(*start) < self.window);
        }
        let entry = seen.entry(who).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        entry.1 += 1;
        entry.1 <= self.max
    }
}

/// Sign-in attempts allowed per address and minute.
pub const SIGN_IN_PER_MINUTE: u32 = 10;

/// A sign-in attempt within the limit; beyond it, 429.
pub struct SignInAttempt;

#[rocket::async_trait]
impl<'r> FromRequest<'r> for SignInAttempt {
    type Error = ();
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let Some(app) = req.rocket().state::<super::AppState>() else {
            return Outcome::Error((Status::InternalServerError, ()));
        };
        if app.sign_in_limiter.allow(req.client_ip()) {
            Outcome::Success(SignInAttempt)
        } else {
            tracing::warn!("sign-in rate limit reached");
            Outcome::Error((Status::TooManyRequests, ()))
        }
    }
}

/// The client's address, as Rocket sees it (`X-Real-IP` when the proxy sets it).
pub struct ClientAddr(pub Option<String>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for ClientAddr {
    type Error = ();
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        Outcome::Success(ClientAddr(req.client_ip().map(|ip| ip.to_string())))
    }
}

/// What is limited, with the configured limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Comments, answers, amendments and corrections.
    Post,
    Report,
    Vote,
}

/// Counts one `action` by `account` from `addr`; beyond the configured limit, a 429 page
/// saying how long to wait, with `Retry-After`. Call from blocking code.
pub fn check(
    app: &super::App,
    action: Action,
    account: i64,
    addr: &ClientAddr,
) -> Result<(), super::errors::AppError> {
    let m = &app.config.moderation;
    let (what, spec) = match action {
        Action::Post => ("post", &m.post_limit),
        Action::Report => ("report", &m.report_limit),
        Action::Vote => ("vote", &m.vote_limit),
    };
    let limit = crate::config::parse_limit(spec).map_err(super::errors::AppError::internal)?;
    match crate::service::moderation::rate_limit(
        app.reader.store(),
        what,
        limit,
        account,
        addr.0.as_deref(),
    ) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(wait)) => {
            tracing::warn!(what, "rate limit reached");
            let max = limit.max;
            let mut e = super::errors::AppError::new(Status::TooManyRequests, move |t| {
                t.fmt(
                    &format!("err_rate_{what}"),
                    &[("n", &max), ("seconds", &wait)],
                )
            });
            e.retry_after = Some(wait);
            Err(e)
        }
        Err(e) => Err(super::errors::AppError::internal(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_window() {
        let l = Limiter::new(3, Duration::from_millis(50));
        let a = Some(IpAddr::from([10, 0, 0, 1]));
        let b = Some(IpAddr::from([10, 0, 0, 2]));
        assert!(l.allow(a) && l.allow(a) && l.allow(a));
        assert!(!l.allow(a));
        assert!(l.allow(b), "limits are per address");
        std::thread::sleep(Duration::from_millis(60));
        assert!(l.allow(a), "a new window starts");
    }
}

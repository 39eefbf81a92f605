//! Rate limits. Sign-in attempts: per client address (`super::client`: proxies' headers
//! only from `trusted_proxies`), kept in process memory (each app
//! server limits on its own, which bounds guessing without a shared store). Posting,
//! reporting and voting: per account and per address, counted in the database so that
//! every app server shares the same count ([`check`]).

use super::errors::RetryAfter;
use crate::domain::ids::AccountId;
use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota};
use rocket::http::Status;
use rocket::request::{FromRequest, Outcome, Request};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// At most `max` attempts per address and `window`: `max` at once, after which one more
/// is allowed each `window / max` (governor's cell rate, which refills a full quota in a
/// window).
pub struct Limiter {
    limiter: DefaultKeyedRateLimiter<Option<IpAddr>>,
    window: Duration,
    /// When the addresses with nothing left to count were last forgotten.
    pruned_at: Mutex<Instant>,
}

impl Limiter {
    pub fn new(max: u32, window: Duration) -> Self {
        let burst = NonZeroU32::new(max).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(window / burst.get())
            .expect("a rate-limit window longer than zero")
            .allow_burst(burst);
        Limiter {
            limiter: DefaultKeyedRateLimiter::keyed(quota),
            window,
            pruned_at: Mutex::new(Instant::now()),
        }
    }

    /// Counts one attempt from `who`; false when over the limit.
    pub fn allow(&self, who: Option<IpAddr>) -> bool {
        self.attempt(who).is_ok()
    }

    /// Counts one attempt from `who`; over the limit, how long until the next one is
    /// allowed.
    pub fn attempt(&self, who: Option<IpAddr>) -> Result<(), Duration> {
        self.forget_idle();
        self.limiter
            .check_key(&who)
            .map_err(|not_until| not_until.wait_time_from(self.limiter.clock().now()))
    }

    /// Once a window, forgets the addresses whose whole quota is back (idle for a window),
    /// so that memory holds only the addresses seen lately, however many come and go.
    fn forget_idle(&self) {
        // Another request already at it is enough.
        let Ok(mut at) = self.pruned_at.try_lock() else {
            return;
        };
        if at.elapsed() >= self.window {
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
            *at = Instant::now();
        }
    }
}

/// Sign-in attempts allowed per address and minute.
pub const SIGN_IN_PER_MINUTE: u32 = 10;

/// A sign-in attempt within the limit; beyond it, 429 with `Retry-After` (the catchers
/// find the wait in [`RetryAfter`]).
pub struct SignInAttempt;

#[rocket::async_trait]
impl<'r> FromRequest<'r> for SignInAttempt {
    type Error = ();
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let Some(app) = req.rocket().state::<super::AppState>() else {
            return Outcome::Error((Status::InternalServerError, ()));
        };
        match app.sign_in_limiter.attempt(super::client::of(req)) {
            Ok(()) => Outcome::Success(SignInAttempt),
            Err(wait) => {
                tracing::warn!("sign-in rate limit reached");
                // Whole seconds, rounded up: trying again then is allowed.
                let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                let secs = i64::try_from(secs).unwrap_or(i64::MAX).max(1);
                req.local_cache(|| RetryAfter(Some(secs)));
                Outcome::Error((Status::TooManyRequests, ()))
            }
        }
    }
}

/// The client's address for the per-address limits: see [`super::client`].
pub use super::client::ClientAddr;

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
    account: AccountId,
    addr: &ClientAddr,
) -> Result<(), super::errors::AppError> {
    let m = &app.config.moderation;
    let (what, spec) = match action {
        Action::Post => ("post", &m.post_limit),
        Action::Report => ("report", &m.report_limit),
        Action::Vote => ("vote", &m.vote_limit),
    };
    let limit =
        crate::domain::moderation::Limit::parse(spec).map_err(super::errors::AppError::internal)?;
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
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quota_at_once_then_one_more_each_share_of_the_window() {
        // Long enough that a busy machine's pauses do not give an attempt back early.
        let l = Limiter::new(3, Duration::from_millis(600));
        let a = Some(IpAddr::from([10, 0, 0, 1]));
        let b = Some(IpAddr::from([10, 0, 0, 2]));
        assert!(l.allow(a) && l.allow(a) && l.allow(a));
        assert!(!l.allow(a));
        assert!(l.allow(b), "limits are per address");
        std::thread::sleep(Duration::from_millis(250));
        assert!(l.allow(a), "a third of the window gives one attempt back");
        assert!(!l.allow(a));
        std::thread::sleep(Duration::from_millis(650));
        assert!(
            l.allow(a) && l.allow(a) && l.allow(a),
            "a window gives them all"
        );
    }

    #[test]
    fn idle_addresses_are_forgotten() {
        let l = Limiter::new(2, Duration::from_millis(20));
        for i in 0..100u8 {
            assert!(l.allow(Some(IpAddr::from([10, 0, 1, i]))));
        }
        assert_eq!(l.limiter.len(), 100);
        std::thread::sleep(Duration::from_millis(30));
        assert!(l.allow(Some(IpAddr::from([10, 0, 2, 1]))));
        assert_eq!(l.limiter.len(), 1, "only the address just seen is kept");
    }
}

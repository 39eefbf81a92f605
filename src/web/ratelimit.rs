//! Rate limits on sign-in attempts, per client address, in a fixed window. Kept in
//! process memory: each app server limits on its own, which bounds guessing without
//! a shared store.

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

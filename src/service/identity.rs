//! Signing in and out, server-side sessions, roles (DESIGN §4). Providers (OpenID
//! Connect, or the demo form) authenticate a person; this module turns that into an
//! account and a revocable session.

use crate::domain::identity::{
    check_new_verification, effective_level, verification_status, Level, Method, Role,
    VerificationError, VerificationFacts, VerificationStatus,
};
use crate::domain::ids::{AccountId, VerificationId};
use crate::domain::time::{Day, Timestamp};
use crate::store::{self, accounts::Account, DbConnection, Store, StoreError};
use crate::text::hash::sha256_hex;
use serde_json::json;

/// How long a session lasts without signing in again.
pub const SESSION_HOURS: i64 = 12;

/// A signed-in person as the web layer sees them.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    /// SHA-256 of the cookie token (the session's id in the database).
    pub session_id: String,
    pub account: Account,
    /// Level given by the provider at sign-in.
    pub session_level: Level,
    pub acr: Option<String>,
    pub provider: String,
    pub roles: Vec<Role>,
    pub expires_at: Timestamp,
    /// The highest valid moderator verification, and its last valid day.
    pub verified: Option<(Level, Day)>,
}

impl SessionInfo {
    /// The level that counts for actions: the session's or a valid verification's.
    pub fn level(&self) -> Level {
        effective_level(self.session_level, self.verified.as_ref().map(|(l, _)| *l))
    }

    pub fn has_role(&self, role: Role) -> bool {
        // An admin can do what staff and moderators can.
        self.roles.contains(&role) || self.roles.contains(&Role::Admin)
    }
}

/// What a provider tells us about the person who signed in.
pub struct Authenticated<'a> {
    pub provider: &'a str,
    pub subject: &'a str,
    pub display_name: &'a str,
    pub email: Option<&'a str>,
    pub level: Level,
    pub acr: Option<&'a str>,
    pub user_agent: &'a str,
    /// The provider's ID token, kept for RP-initiated logout.
    pub id_token: Option<&'a str>,
}

fn facts(v: &store::verifications::Verification) -> VerificationFacts {
    VerificationFacts {
        level: Level::new(i64::from(v.level)).unwrap_or(Level::NONE),
        expires_on: v.expires_on,
        confirmed: v.confirmed_by.is_some(),
        revoked: v.revoked_at.is_some(),
    }
}

/// The status of a verification today.
pub fn status(v: &store::verifications::Verification, today: Day) -> VerificationStatus {
    verification_status(&facts(v), today)
}

/// Whether `moderator_id` may confirm a verification on `today`: pending a second
/// moderator, and neither recorded by them nor about them (what
/// [`confirm_verification`] refuses otherwise).
pub fn may_confirm(
    v: &store::verifications::Verification,
    moderator_id: AccountId,
    today: Day,
) -> bool {
    status(v, today) == VerificationStatus::PendingConfirmation
        && v.recorded_by != moderator_id
        && v.account_id != moderator_id
}

/// The highest valid verification of an account on `today`, with its expiry.
pub fn verified_level(
    conn: &mut DbConnection,
    account_id: AccountId,
    today: Day,
) -> Result<Option<(Level, Day)>, StoreError> {
    Ok(store::verifications::for_account(conn, account_id)?
        .iter()
        .filter(|v| verification_status(&facts(v), today) == VerificationStatus::Valid)
        .map(|v| (facts(v).level, v.expires_on))
        .max())
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Rule(#[from] VerificationError),
    #[error("no such account or verification")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A moderator records that they checked a person's identity.
pub fn record_verification(
    store: &Store,
    moderator: &SessionInfo,
    account_id: AccountId,
    level: i64,
    method: Method,
    verified_on: &str,
    expires_on: &str,
) -> Result<VerificationId, VerifyError> {
    let level = check_new_verification(
        moderator.account.id,
        account_id,
        level,
        verified_on,
        expires_on,
        &store.clock().today_iso(),
    )?;
    store.transaction(|conn| {
        store::accounts::by_id(conn, account_id)?.ok_or(VerifyError::NotFound)?;
        let id = store::verifications::insert(
            conn,
            &store::verifications::NewVerification {
                account_id,
                level: i32::from(level.get()),
                method,
                verified_on,
                expires_on,
                recorded_by: moderator.account.id,
            },
        )?;
        store::audit::record(
            conn,
            Some(moderator.account.id),
            "record_verification",
            Some(account_id),
            &json!({"verification": id, "level": level.get(), "method": method.as_str(), "expires_on": expires_on}),
        )?;
        Ok(id)
    })
}

/// A second moderator confirms a level 3 verification.
pub fn confirm_verification(
    store: &Store,
    moderator: &SessionInfo,
    id: VerificationId,
) -> Result<(), VerifyError> {
    store.transaction(|conn| {
        let v = store::verifications::by_id(conn, id)?.ok_or(VerifyError::NotFound)?;
        if v.recorded_by == moderator.account.id {
            return Err(VerificationError::SameModerator.into());
        }
        if v.account_id == moderator.account.id {
            return Err(VerificationError::SelfVerification.into());
        }
        if verification_status(&facts(&v), store.clock().day())
            != VerificationStatus::PendingConfirmation
            || !store::verifications::confirm(conn, id, moderator.account.id)?
        {
            return Err(VerificationError::NotPending.into());
        }
        store::audit::record(
            conn,
            Some(moderator.account.id),
            "confirm_verification",
            Some(v.account_id),
            &json!({"verification": id}),
        )?;
        Ok(())
    })
}

/// Revokes a verification, with a reason kept in the audit log.
pub fn revoke_verification(
    store: &Store,
    moderator: &SessionInfo,
    id: VerificationId,
    reason: &str,
) -> Result<bool, VerifyError> {
    store.transaction(|conn| {
        let v = store::verifications::by_id(conn, id)?.ok_or(VerifyError::NotFound)?;
        let revoked = store::verifications::revoke(conn, id, moderator.account.id, reason)?;
        if revoked {
            store::audit::record(
                conn,
                Some(moderator.account.id),
                "revoke_verification",
                Some(v.account_id),
                &json!({"verification": id}),
            )?;
        }
        Ok(revoked)
    })
}

/// A fresh random token for a cookie (256 bits, hex).
pub fn random_token() -> Result<String, StoreError> {
    let mut b = [0u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b)
        .map_err(|_| StoreError::Invalid("the system random generator failed".into()))?;
    Ok(hex::encode(b))
}

/// Creates (or refreshes) the account and opens a new session; returns the cookie token.
pub fn sign_in(
    store: &Store,
    who: &Authenticated<'_>,
) -> Result<(String, SessionInfo), StoreError> {
    let token = random_token()?;
    let id = sha256_hex(token.as_bytes());
    let now = store.clock().now();
    let expires_at = now.plus(time::Duration::hours(SESSION_HOURS));
    let info = store.transaction(|conn| {
        let account =
            store::accounts::upsert(conn, who.provider, who.subject, who.display_name, who.email)?;
        store::sessions::insert(
            conn,
            &store::sessions::NewSession {
                id: &id,
                account_id: account.id,
                level: i32::from(who.level.get()),
                acr: who.acr,
                provider: who.provider,
                user_agent: &who.user_agent.chars().take(200).collect::<String>(),
                expires_at: &expires_at.rfc3339(),
                id_token: who.id_token,
            },
        )?;
        store::audit::record(
            conn,
            Some(account.id),
            "sign_in",
            Some(account.id),
            &json!({"provider": who.provider, "level": who.level.get()}),
        )?;
        let roles = store::accounts::roles(conn, account.id)?;
        let verified = verified_level(conn, account.id, Day::new(now.date()))?;
        Ok::<_, StoreError>(SessionInfo {
            session_id: id.clone(),
            account,
            session_level: who.level,
            acr: who.acr.map(str::to_string),
            provider: who.provider.to_string(),
            roles,
            expires_at,
            verified,
        })
    })?;
    Ok((token, info))
}

/// The session of a cookie token, if it is active at `now`.
pub fn session(
    conn: &mut DbConnection,
    token: &str,
    now: Timestamp,
) -> Result<Option<SessionInfo>, StoreError> {
    let id = sha256_hex(token.as_bytes());
    let Some(s) = store::sessions::active(conn, &id, &now.rfc3339())? else {
        return Ok(None);
    };
    let Some(account) = store::accounts::by_id(conn, s.account_id)? else {
        return Ok(None);
    };
    let roles = store::accounts::roles(conn, account.id)?;
    let verified = verified_level(conn, account.id, Day::new(now.date()))?;
    Ok(Some(SessionInfo {
        session_id: s.id,
        account,
        session_level: Level::new(i64::from(s.level)).unwrap_or(Level::NONE),
        acr: s.acr,
        provider: s.provider,
        roles,
        expires_at: s.expires_at,
        verified,
    }))
}

/// Ends one of the person's sessions (theirs only); false if it was not active.
pub fn end_session(store: &Store, who: &SessionInfo, session_id: &str) -> Result<bool, StoreError> {
    store.transaction(|conn| {
        let ended = store::sessions::end(conn, who.account.id, session_id)?;
        if ended {
            store::audit::record(
                conn,
                Some(who.account.id),
                "end_session",
                Some(who.account.id),
                &json!({}),
            )?;
        }
        Ok(ended)
    })
}

/// Ends every session of the person (including the current one).
pub fn end_all_sessions(store: &Store, who: &SessionInfo) -> Result<usize, StoreError> {
    store.transaction(|conn| {
        let n = store::sessions::end_all(conn, who.account.id)?;
        store::audit::record(
            conn,
            Some(who.account.id),
            "end_all_sessions",
            Some(who.account.id),
            &json!({"count": n}),
        )?;
        Ok(n)
    })
}

/// A demo person of `amenda demo` (never available outside demo mode).
pub struct DemoPerson {
    pub key: &'static str,
    pub name: &'static str,
    pub roles: &'static [Role],
}

pub const DEMO_PEOPLE: &[DemoPerson] = &[
    DemoPerson {
        key: "camille",
        name: "Camille Martin",
        roles: &[],
    },
    DemoPerson {
        key: "yanis",
        name: "Yanis Benali",
        roles: &[],
    },
    DemoPerson {
        key: "dominique",
        name: "Dominique Leroy",
        roles: &[Role::Moderator],
    },
    DemoPerson {
        key: "claire",
        name: "Claire Fontaine",
        roles: &[Role::Staff],
    },
    DemoPerson {
        key: "admin",
        name: "Alex Admin",
        roles: &[Role::Admin],
    },
];

/// Signs a demo person in at the chosen level, with their demo roles.
pub fn demo_sign_in(
    store: &Store,
    person: &DemoPerson,
    level: Level,
    user_agent: &str,
) -> Result<(String, SessionInfo), StoreError> {
    let acr = format!("demo-level-{}", level.get());
    let (token, mut info) = sign_in(
        store,
        &Authenticated {
            provider: "demo",
            subject: person.key,
            display_name: person.name,
            email: None,
            level,
            acr: Some(&acr),
            user_agent,
            id_token: None,
        },
    )?;
    let mut conn = store.conn()?;
    for role in person.roles {
        store::accounts::grant(&mut conn, info.account.id, *role, None)?;
    }
    info.roles = store::accounts::roles(&mut conn, info.account.id)?;
    Ok((token, info))
}

#[derive(Debug, thiserror::Error)]
pub enum RoleError {
    #[error("no account matches \"{0}\": give an account number or PROVIDER:SUBJECT (see `amenda admin list`); to name someone who has not signed in yet, add --new")]
    UnknownAccount(String),
    #[error("this would leave the instance without any admin")]
    LastAdmin,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An account by number (`12`) or by `provider:subject`.
/// Creates the account `PROVIDER:SUBJECT` before its first sign-in (which then fills in
/// the name and email), so that an operator can give it a role ahead.
pub fn create_account_ahead(conn: &mut DbConnection, spec: &str) -> Result<Account, RoleError> {
    let (provider, subject) = spec
        .split_once(':')
        .filter(|(p, s)| !p.is_empty() && !s.is_empty())
        .ok_or_else(|| RoleError::UnknownAccount(spec.chars().take(80).collect()))?;
    Ok(store::accounts::upsert(
        conn,
        provider,
        subject,
        &format!("{provider}:{subject}"),
        None,
    )?)
}

pub fn find_account(conn: &mut DbConnection, spec: &str) -> Result<Account, RoleError> {
    let unknown = || RoleError::UnknownAccount(spec.chars().take(80).collect());
    let found = match spec.parse::<AccountId>() {
        Ok(id) => store::accounts::by_id(conn, id)?,
        Err(_) => {
            let (provider, subject) = spec.split_once(':').ok_or_else(unknown)?;
            store::accounts::list(conn)?
                .into_iter()
                .find(|a| a.provider == provider && a.subject == subject)
        }
    };
    found.ok_or_else(unknown)
}

/// Grants or revokes a role, with an audit entry naming who did it (None: the command
/// line). Returns whether anything changed.
pub fn set_role(
    store: &Store,
    actor: Option<AccountId>,
    account_id: AccountId,
    role: Role,
    grant: bool,
) -> Result<bool, RoleError> {
    store.transaction(|conn| {
        let changed = if grant {
            store::accounts::grant(conn, account_id, role, actor)?
        } else {
            if role == Role::Admin
                && store::accounts::roles(conn, account_id)?.contains(&Role::Admin)
                && store::accounts::count_with_role(conn, Role::Admin)? <= 1
            {
                return Err(RoleError::LastAdmin);
            }
            store::accounts::revoke(conn, account_id, role)?
        };
        if changed {
            store::audit::record(
                conn,
                actor,
                if grant { "grant_role" } else { "revoke_role" },
                Some(account_id),
                &json!({"role": role.as_str(), "via": if actor.is_some() { "web" } else { "cli" }}),
            )?;
        }
        Ok(changed)
    })
}

/// The configured first administrator (`PROVIDER:SUBJECT`) becomes admin at sign-in,
/// but only while the instance has no admin at all: once there is one, roles are
/// managed by people (an admin revoked later is not made admin again).
pub fn grant_first_admin(
    store: &Store,
    who: &SessionInfo,
    first_admin: Option<&str>,
) -> Result<bool, StoreError> {
    let me = format!("{}:{}", who.account.provider, who.account.subject);
    if first_admin != Some(me.as_str()) {
        return Ok(false);
    }
    store.transaction(|conn| {
        if store::accounts::count_with_role(conn, Role::Admin)? > 0 {
            return Ok(false);
        }
        store::accounts::grant(conn, who.account.id, Role::Admin, None)?;
        store::audit::record(
            conn,
            None,
            "grant_role",
            Some(who.account.id),
            &json!({"role": "admin", "via": "config"}),
        )?;
        Ok(true)
    })
}

/// How long a person has to come back from their provider.
pub const FLOW_MINUTES: i64 = 10;

fn minutes_ago(store: &Store, minutes: i64) -> Timestamp {
    store.clock().now().minus(time::Duration::minutes(minutes))
}

/// A refused sign-in, kept in the audit log without personal data: the provider and a
/// short reason (`state_mismatch`, `invalid_id_token`…).
pub fn record_refused_sign_in(
    store: &Store,
    provider: &str,
    reason: &'static str,
) -> Result<(), StoreError> {
    let mut conn = store.conn()?;
    store::audit::record(
        &mut conn,
        None,
        "sign_in_refused",
        None,
        &json!({"provider": provider, "reason": reason}),
    )
}

/// Keeps a sign-in sent to a provider until its answer comes back.
pub fn begin_flow(store: &Store, flow: &crate::oidc::PendingFlow) -> Result<(), StoreError> {
    let mut conn = store.conn()?;
    store::oidc_flows::insert(
        &mut conn,
        &store::oidc_flows::Flow {
            state_hash: sha256_hex(flow.state.as_bytes()),
            provider: flow.provider.clone(),
            nonce: flow.nonce.clone(),
            pkce_verifier: flow.pkce_verifier.clone(),
            level: i32::from(flow.level),
            next: flow.next.clone(),
            created_at: store.clock().now(),
        },
        &minutes_ago(store, 60).rfc3339(),
    )
}

/// The sign-in this `state` belongs to, removed so that it cannot be answered twice;
/// `None` if unknown, already answered, or older than [`FLOW_MINUTES`].
pub fn take_flow(
    store: &Store,
    state: &str,
) -> Result<Option<crate::oidc::PendingFlow>, StoreError> {
    let flow = store.transaction(|conn| {
        store::oidc_flows::take(
            conn,
            &sha256_hex(state.as_bytes()),
            minutes_ago(store, FLOW_MINUTES),
        )
    })?;
    Ok(flow.map(|f| crate::oidc::PendingFlow {
        state: state.to_string(),
        provider: f.provider,
        nonce: f.nonce,
        pkce_verifier: f.pkce_verifier,
        level: u8::try_from(f.level).unwrap_or(0),
        next: f.next,
    }))
}

/// The ID token kept with a session (for the provider's logout).
pub fn session_id_token(store: &Store, session_id: &str) -> Result<Option<String>, StoreError> {
    let mut conn = store.conn()?;
    let now = store.clock().now().rfc3339();
    Ok(store::sessions::active(&mut conn, session_id, &now)?.and_then(|s| s.id_token))
}

/// Normalises a pseudonym as people may type it (`k7qm 2xd9`, `K7QM-2XD9`).
pub fn normalize_pseudonym(s: &str) -> Option<String> {
    let chars: String = s
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (chars.len() == 8).then(|| format!("{}-{}", &chars[..4], &chars[4..]))
}

#[derive(Debug, thiserror::Error)]
pub enum ReidentifyError {
    #[error("no bill is called \"{0}\"")]
    UnknownBill(String),
    #[error("a pseudonym has 8 letters or digits, like K7QM-2XD9")]
    BadPseudonym,
    #[error("give the reason for re-identifying this person")]
    NoReason,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Who is behind a pseudonym on a bill: a moderator act with a reason, always in the
/// audit log (whether or not someone was found). Pseudonyms are not stored: every
/// account's pseudonym for the bill is derived again and compared.
pub fn reidentify(
    store: &Store,
    moderator: &SessionInfo,
    key: &[u8],
    bill_slug: &str,
    pseudonym: &str,
    reason: &str,
) -> Result<Option<store::accounts::Account>, ReidentifyError> {
    let wanted = normalize_pseudonym(pseudonym).ok_or(ReidentifyError::BadPseudonym)?;
    let reason = reason.trim();
    if reason.chars().count() < 5 {
        return Err(ReidentifyError::NoReason);
    }
    store.transaction(|conn| {
        store::bills::by_slug(conn, bill_slug)?
            .ok_or_else(|| ReidentifyError::UnknownBill(bill_slug.to_string()))?;
        let found = store::accounts::list(conn)?
            .into_iter()
            .find(|a| crate::domain::identity::pseudonym(key, a.id, bill_slug) == wanted);
        store::audit::record(
            conn,
            Some(moderator.account.id),
            "reidentify_pseudonym",
            found.as_ref().map(|a| a.id),
            &json!({"bill": bill_slug, "pseudonym": wanted, "reason": reason, "found": found.is_some()}),
        )?;
        Ok(found)
    })
}

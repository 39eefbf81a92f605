//! The people and consultations the tests start from.
//!
//! People come in two kinds: the demo people (`person`: `camille` and `yanis`, citizens;
//! `dominique`, moderator; `claire`, staff; `admin`), signed in as the demo sign-in does,
//! with their roles; and plain accounts (`account`, `account_named`) for tests that need
//! other names, or a name the demo people do not have.

use amenda::domain::consultation::Phase;
use amenda::domain::identity::{Level, Role};
use amenda::domain::ids::ConsultationId;
use amenda::service::consultation::{self, Article, NewConsultation};
use amenda::service::identity::{demo_sign_in, sign_in, Authenticated, SessionInfo, DEMO_PEOPLE};
use amenda::store::Store;
use amenda::text::UnitKind;

/// The demo person `key` signed in at `level`, with their demo roles.
pub fn person(store: &Store, key: &str, level: u8) -> SessionInfo {
    let p = DEMO_PEOPLE
        .iter()
        .find(|p| p.key == key)
        .unwrap_or_else(|| panic!("no demo person {key:?}: use `account` for other names"));
    demo_sign_in(store, p, Level::new(i64::from(level)).unwrap(), "test")
        .unwrap()
        .1
}

/// An account of the provider `test` signed in at `level`: `subject` is also its
/// display name; no email, no role.
pub fn account(store: &Store, subject: &str, level: u8) -> SessionInfo {
    signed_in(store, "test", subject, subject, None, level)
}

/// An account as a real identity provider gives it (provider `franceconnect`, a display
/// name, the email `<subject>@mail.example`), signed in at `level`: for the tests that
/// check none of it leaks.
pub fn account_named(store: &Store, subject: &str, name: &str, level: u8) -> SessionInfo {
    let email = format!("{subject}@mail.example");
    signed_in(store, "franceconnect", subject, name, Some(&email), level)
}

fn signed_in(
    store: &Store,
    provider: &str,
    subject: &str,
    name: &str,
    email: Option<&str>,
    level: u8,
) -> SessionInfo {
    sign_in(
        store,
        &Authenticated {
            provider,
            subject,
            display_name: name,
            email,
            level: Level::new(i64::from(level)).unwrap(),
            acr: None,
            user_agent: "test",
            id_token: None,
        },
    )
    .unwrap()
    .1
}

/// [`account`] `subject` at level 1, given `role` (and signed in again, so that the
/// session has it).
pub fn with_role(store: &Store, subject: &str, role: Role) -> SessionInfo {
    let s = account(store, subject, 1);
    grant(store, &s, role);
    account(store, subject, 1)
}

/// Gives `who`'s account `role` (takes effect at their next sign-in).
pub fn grant(store: &Store, who: &SessionInfo, role: Role) {
    amenda::store::accounts::grant(&mut store.conn().unwrap(), who.account.id, role, None).unwrap();
}

/// Imports the bills of `laws/` (`budget-participatif`, `open-council-records`…).
pub fn import_laws(store: &Store) {
    let laws = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("laws");
    amenda::service::import::import_folder(store, &laws, &amenda::service::Silent).unwrap();
}

/// The form of a consultation on `version` of `budget-participatif`, "Consultation",
/// from 2026-12-01 (the test clock's day, `common::TEST_NOW`) to 2027-01-31, every level 1; change what a test needs with
/// `NewConsultation { levels: [1, 2, 2], ..consultation_form(3) }`.
pub fn consultation_form(version: i32) -> NewConsultation<'static> {
    NewConsultation {
        bill_slug: "budget-participatif",
        version,
        title: "Consultation",
        description: "",
        opens_on: "2026-12-01",
        closes_on: "2027-01-31",
        levels: [1, 1, 1],
    }
}

/// Opens the consultation of `form` as `staff` and moves it on to `phase`; returns its id.
pub fn consultation(
    store: &Store,
    staff: &SessionInfo,
    form: &NewConsultation<'_>,
    phase: Phase,
) -> ConsultationId {
    let id = consultation::open(store, staff, form).unwrap();
    let voting = super::voting(store);
    let mut now = Phase::Draft;
    while now != phase {
        now = consultation::advance(store, staff, id, &voting)
            .unwrap_or_else(|e| panic!("cannot move on from {now} towards {phase}: {e}"));
        assert_ne!(now, Phase::Closed, "no phase {phase} before the close");
    }
    id
}

/// Article `num` of the consultation's version, as the consultation serves it (wid,
/// body, sha256…).
pub fn article(store: &Store, consultation_id: ConsultationId, num: &str) -> Article {
    let mut conn = store.conn().unwrap();
    let c = amenda::store::consultations::by_id(&mut conn, consultation_id)
        .unwrap()
        .unwrap();
    let wid = amenda::store::units::for_version(&mut conn, c.version_id)
        .unwrap()
        .into_iter()
        .find(|u| u.kind == UnitKind::Article && u.num.as_deref() == Some(num))
        .unwrap_or_else(|| panic!("no article {num}"))
        .wid;
    drop(conn);
    consultation::article(store, consultation_id, &wid)
        .unwrap()
        .2
}

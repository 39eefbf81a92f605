//! Typed ids: a bill's id is a `BillId`, an account's an `AccountId`…, so that passing a
//! consultation id where an account id is expected (both are `BIGINT` rows) does not
//! compile. `id_type!` writes each as a transparent newtype over `i64` with `Display`,
//! `FromStr` (from URLs and forms), `Serialize`/`Deserialize` as the bare number (the JSON
//! API and the open-data files are unchanged) and the derives that let Diesel bind it to a
//! `BigInt` column; the `FromSql`/`ToSql` pairs for both backends are in `store::states`,
//! Rocket's `FromParam`/`FromFormField` in `web::ids`.
//!
//! `.get()` gives the number back where it leaves the typed world: ledger entries, logs,
//! the moderation tables' polymorphic `target_id`. There is deliberately no
//! `From<i64>`, so that a bare number never becomes an id silently.

/// `id_type! { /// doc  pub struct Name("what it is"); }`
macro_rules! id_type {
    ($( $(#[$meta:meta])* $vis:vis struct $name:ident ($what:literal); )+) => {$(
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize,
            diesel::AsExpression, diesel::FromSqlRow,
        )]
        #[serde(transparent)]
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        // The number is crate-visible for `store::states` (binding needs a reference
        // to it); everything else goes through `new`/`get`.
        $vis struct $name(pub(crate) i64);

        impl $name {
            /// What the id names, for error messages ("unknown bill id").
            pub const WHAT: &'static str = $what;

            /// The id of row `n`. Ids come from the database (`store`) or from a
            /// request (parsing); this is for the few places that hold a bare number
            /// from elsewhere (a polymorphic `target_id`, tests, benchmarks).
            pub const fn new(n: i64) -> $name {
                $name(n)
            }

            /// The number, for URLs, ledger entries and logs.
            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Display::fmt(&self.0, f)
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::std::num::ParseIntError;

            fn from_str(s: &str) -> Result<$name, Self::Err> {
                s.parse::<i64>().map($name)
            }
        }
    )+};
}

id_type! {
    /// A bill (`bills.id`).
    pub struct BillId("bill");
    /// One immutable version of a bill (`versions.id`).
    pub struct VersionId("version");
    /// A consultation on a pinned version (`consultations.id`).
    pub struct ConsultationId("consultation");
    /// An amendment filed in a consultation (`amendments.id`).
    pub struct AmendmentId("amendment");
    /// A comment on an article or an amendment (`comments.id`).
    pub struct CommentId("comment");
    /// A signed-in person's account (`accounts.id`).
    pub struct AccountId("account");
    /// A report sent to the moderators (`reports.id`).
    pub struct ReportId("report");
    /// A request for, or grant of, a higher assurance level (`verifications.id`).
    pub struct VerificationId("verification");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_read_write_and_serialize_as_bare_numbers() {
        let id: BillId = "42".parse().unwrap();
        assert_eq!(id.get(), 42);
        assert_eq!(id.to_string(), "42");
        assert_eq!(serde_json::to_string(&id).unwrap(), "42");
        assert_eq!(serde_json::from_str::<BillId>("42").unwrap(), id);
        assert!("4x".parse::<BillId>().is_err());
        assert!(AccountId::new(1) < AccountId::new(2));
    }
}

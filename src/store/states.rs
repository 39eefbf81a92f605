//! The closed sets of `domain` (phases, statuses…) as `Text` columns on both backends.
//!
//! Each enum is stored as its word (`as_str`), the column stays `TEXT` (the same schema on
//! SQLite and PostgreSQL) and a CHECK constraint lists the words (migrations). Reading a
//! word this build does not know is a deserialization error naming the set and the word
//! ("unknown consultation phase \"archived\""), which the caller gets as
//! `StoreError::Query`: never a panic, never a silent default.

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::pg::Pg;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::{BigInt, Text};
use diesel::sqlite::Sqlite;

use super::MultiBackend;
use crate::domain::amendment::AmendmentStatus;
use crate::domain::comment::CommentKind;
use crate::domain::consolidation::RebaseOutcome;
use crate::domain::consultation::Phase;
use crate::domain::identity::{Disclosure, Method, Role};
use crate::domain::ids::{
    AccountId, AmendmentId, BillId, CommentId, ConsultationId, ReportId, VerificationId, VersionId,
};
use crate::domain::moderation::{Action, AppealStatus, ItemState, Kind, Reason, Rule};

/// Reads a word of a closed set from a backend's text value.
fn read<T, DB>(bytes: DB::RawValue<'_>) -> deserialize::Result<T>
where
    DB: Backend,
    String: FromSql<Text, DB>,
    T: std::str::FromStr<Err = crate::domain::state::UnknownValue>,
{
    let word = <String as FromSql<Text, DB>>::from_sql(bytes)?;
    Ok(word.parse::<T>()?)
}

/// `FromSql`/`ToSql` over `Text` for SQLite, PostgreSQL and the `MultiBackend` of
/// `DbConnection`, for each enum named (each needs `as_str` and `FromStr`, as
/// `domain::state::closed_set!` writes them).
macro_rules! text_column {
    ($($t:ty),+ $(,)?) => {$(
        impl FromSql<Text, Sqlite> for $t {
            fn from_sql(bytes: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                read::<$t, Sqlite>(bytes)
            }
        }

        impl FromSql<Text, Pg> for $t {
            fn from_sql(bytes: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                read::<$t, Pg>(bytes)
            }
        }

        impl FromSql<Text, MultiBackend> for $t {
            fn from_sql(
                bytes: <MultiBackend as Backend>::RawValue<'_>,
            ) -> deserialize::Result<Self> {
                bytes.from_sql::<$t, Text>()
            }
        }

        impl ToSql<Text, Sqlite> for $t {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
                <str as ToSql<Text, Sqlite>>::to_sql(self.as_str(), out)
            }
        }

        impl ToSql<Text, Pg> for $t {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                <str as ToSql<Text, Pg>>::to_sql(self.as_str(), out)
            }
        }

        impl ToSql<Text, MultiBackend> for $t {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
                out.set_value((Text, self));
                Ok(IsNull::No)
            }
        }
    )+};
}

text_column!(
    Phase,
    AmendmentStatus,
    RebaseOutcome,
    Disclosure,
    CommentKind,
    Role,
    Method,
    Reason,
    Rule,
    Kind,
    ItemState,
    AppealStatus,
    Action,
);

/// `FromSql`/`ToSql` over `BigInt` for the typed ids of `domain::ids`, on both backends
/// and the `MultiBackend`: the column stays `BIGINT`, only the Rust type changes.
macro_rules! bigint_column {
    ($($t:ty),+ $(,)?) => {$(
        impl FromSql<BigInt, Sqlite> for $t {
            fn from_sql(bytes: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                <i64 as FromSql<BigInt, Sqlite>>::from_sql(bytes).map(<$t>::new)
            }
        }

        impl FromSql<BigInt, Pg> for $t {
            fn from_sql(bytes: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                <i64 as FromSql<BigInt, Pg>>::from_sql(bytes).map(<$t>::new)
            }
        }

        impl FromSql<BigInt, MultiBackend> for $t {
            fn from_sql(
                bytes: <MultiBackend as Backend>::RawValue<'_>,
            ) -> deserialize::Result<Self> {
                bytes.from_sql::<$t, BigInt>()
            }
        }

        impl ToSql<BigInt, Sqlite> for $t {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
                <i64 as ToSql<BigInt, Sqlite>>::to_sql(&self.0, out)
            }
        }

        impl ToSql<BigInt, Pg> for $t {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                <i64 as ToSql<BigInt, Pg>>::to_sql(&self.0, out)
            }
        }

        impl ToSql<BigInt, MultiBackend> for $t {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
                out.set_value((BigInt, self));
                Ok(IsNull::No)
            }
        }
    )+};
}

bigint_column!(
    BillId,
    VersionId,
    ConsultationId,
    AmendmentId,
    CommentId,
    AccountId,
    ReportId,
    VerificationId,
);

/// Instants (`domain::time::Timestamp`, as RFC 3339) and days (`domain::time::Day`, as
/// `YYYY-MM-DD`) in the text of the `*_at` and `*_on` columns. A row whose text is not
/// one reads as a deserialization error naming it.
mod times {
    use super::*;
    use crate::domain::time::{Day, Timestamp};
    use std::io::Write;

    macro_rules! text_value {
        ($($t:ty => $text:ident),+ $(,)?) => {$(
            impl FromSql<Text, Sqlite> for $t {
                fn from_sql(bytes: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                    let text = <String as FromSql<Text, Sqlite>>::from_sql(bytes)?;
                    Ok(<$t>::parse(&text)?)
                }
            }

            impl FromSql<Text, Pg> for $t {
                fn from_sql(bytes: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                    let text = <String as FromSql<Text, Pg>>::from_sql(bytes)?;
                    Ok(<$t>::parse(&text)?)
                }
            }

            impl FromSql<Text, MultiBackend> for $t {
                fn from_sql(
                    bytes: <MultiBackend as Backend>::RawValue<'_>,
                ) -> deserialize::Result<Self> {
                    bytes.from_sql::<$t, Text>()
                }
            }

            impl ToSql<Text, Sqlite> for $t {
                fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
                    out.set_value(self.$text());
                    Ok(IsNull::No)
                }
            }

            impl ToSql<Text, Pg> for $t {
                fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                    out.write_all(self.$text().as_bytes())?;
                    Ok(IsNull::No)
                }
            }

            impl ToSql<Text, MultiBackend> for $t {
                fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
                    out.set_value((Text, self));
                    Ok(IsNull::No)
                }
            }
        )+};
    }

    text_value!(Timestamp => rfc3339, Day => iso);
}

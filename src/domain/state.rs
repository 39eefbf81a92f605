//! Closed sets of values (a consultation's phase, an amendment's status…) as enums with
//! one spelling each: the word stored in the database, sent in the JSON API, used in
//! forms and in the i18n keys (`phase_{code}`). `closed_set!` writes, for each enum,
//! `as_str`, `parse`, `FromStr`, `Display`, `Serialize` (as the word) and the derives
//! that let Diesel bind it to a `Text` column; the `FromSql`/`ToSql` pairs for both
//! backends are in `store::states` (docs/ARCHITECTURE.md, "Adding a state").

use std::fmt;

/// A word that is not in a closed set (from a form, a URL, or a damaged database row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownValue {
    /// What the set is, e.g. "consultation phase".
    pub set: &'static str,
    pub value: String,
}

impl fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown {} {:?}", self.set, self.value)
    }
}

impl std::error::Error for UnknownValue {}

/// `closed_set! { /// doc  pub enum Name("what it is") { Variant = "word", … } }`
///
/// Variants are ordered as written (`Ord`, `ALL`). There is deliberately no comparison
/// with a `&str`: a word from outside is parsed first, so a misspelt state does not
/// compile.
macro_rules! closed_set {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident ($what:literal) {
            $( $(#[$vmeta:meta])* $variant:ident = $code:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            diesel::AsExpression, diesel::FromSqlRow,
        )]
        #[diesel(sql_type = diesel::sql_types::Text)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every value, in order.
            pub const ALL: [$name; [$($code),+].len()] = [$($name::$variant),+];

            /// The word stored, sent and translated (`phase_{word}`).
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $code ),+
                }
            }

            pub fn parse(s: &str) -> Option<$name> {
                match s {
                    $( $code => Some($name::$variant), )+
                    _ => None,
                }
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::domain::state::UnknownValue;

            fn from_str(s: &str) -> Result<$name, Self::Err> {
                $name::parse(s).ok_or_else(|| $crate::domain::state::UnknownValue {
                    set: $what,
                    value: s.to_owned(),
                })
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}

pub(crate) use closed_set;

#[cfg(test)]
mod tests {
    closed_set! {
        enum Sample("sample") { One = "one", TwoWords = "two_words" }
    }

    #[test]
    fn words_round_trip() {
        for s in Sample::ALL {
            assert_eq!(s.as_str().parse::<Sample>(), Ok(s));
            assert_eq!(s.to_string(), s.as_str());
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        let e = "three".parse::<Sample>().unwrap_err();
        assert_eq!(e.to_string(), "unknown sample \"three\"");
        assert!(Sample::One < Sample::TwoWords);
    }
}

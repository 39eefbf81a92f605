//! Bills and versions: metadata, slugs, input limits, version references.

use serde::Deserialize;

/// Largest markdown accepted for one version. The whole Code de la propriété
/// intellectuelle is 1.4 MB; anything far above is a mistake or an attack.
pub const MAX_VERSION_BYTES: usize = 16 * 1024 * 1024;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InputError {
    #[error("\"{0}\" is not a valid bill identifier: use 1 to 64 lowercase letters, digits and hyphens, starting with a letter or digit")]
    BadSlug(String),
    #[error("{what} is {size} bytes, more than the {max} bytes allowed for one version")]
    TooLarge {
        what: String,
        size: usize,
        max: usize,
    },
    #[error("{what} is not valid UTF-8 text (first invalid byte at offset {offset}); convert it to UTF-8 and try again")]
    NotUtf8 { what: String, offset: usize },
    #[error("\"{0}\" is not a version reference: use a version number such as 3, or BILL@3")]
    BadVersionRef(String),
}

pub fn validate_slug(slug: &str) -> Result<(), InputError> {
    let ok = !slug.is_empty()
        && slug.len() <= 64
        && !slug.starts_with('-')
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(InputError::BadSlug(slug.to_string()))
    }
}

/// Checks size and encoding of one version's markdown; `what` names it in errors.
pub fn check_markdown(what: &str, bytes: Vec<u8>) -> Result<String, InputError> {
    if bytes.len() > MAX_VERSION_BYTES {
        return Err(InputError::TooLarge {
            what: what.to_string(),
            size: bytes.len(),
            max: MAX_VERSION_BYTES,
        });
    }
    // French text breaks the ASCII fast path of the standard library's check, which then
    // runs at about 1 GB/s (a tenth of `amenda diff` on the CPI); simdutf8 checks the
    // same rules several times faster.
    if simdutf8::basic::from_utf8(&bytes).is_err() {
        // The slower check once more, only to say where the text goes wrong.
        return Err(InputError::NotUtf8 {
            what: what.to_string(),
            offset: std::str::from_utf8(&bytes).map_or_else(|e| e.valid_up_to(), |s| s.len()),
        });
    }
    // SAFETY: simdutf8 has just checked that `bytes` is valid UTF-8.
    Ok(unsafe { String::from_utf8_unchecked(bytes) })
}

/// `3` or `bill-slug@3`: a version of a bill, possibly of another bill than the page's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRef {
    pub bill: Option<String>,
    pub number: i32,
}

impl std::str::FromStr for VersionRef {
    type Err = InputError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || InputError::BadVersionRef(s.chars().take(80).collect());
        let (bill, num) = match s.trim().split_once('@') {
            Some((b, n)) => {
                validate_slug(b).map_err(|_| bad())?;
                (Some(b.to_string()), n)
            }
            None => (None, s.trim()),
        };
        let number: i32 = num.parse().map_err(|_| bad())?;
        if number < 1 {
            return Err(bad());
        }
        Ok(VersionRef { bill, number })
    }
}

/// `bill.toml` of a `laws/` folder (see laws/README.md).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BillManifest {
    pub title: String,
    pub language: String,
    #[serde(default)]
    pub jurisdiction: String,
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub licence: String,
    #[serde(default)]
    pub summary: String,
    pub versions: Vec<ManifestVersion>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestVersion {
    pub file: String,
    pub date: String,
    #[serde(default)]
    pub author: String,
    #[serde(default)]
    pub note: String,
}

/// Why a `bill.toml` is refused (the importer names the file).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    /// Not TOML, or not the manifest's keys: the TOML reader's message with where it
    /// stopped.
    #[error("{0}")]
    Syntax(Box<toml::de::Error>),
    #[error("the title is empty")]
    EmptyTitle,
    #[error("no [[versions]] listed")]
    NoVersions,
    #[error("version file \"{0}\" must be a plain file name in the bill's folder")]
    NotAPlainFile(String),
    #[error("date \"{date}\" of {file} is not an ISO 8601 date (YYYY-MM-DD)")]
    BadDate { date: String, file: String },
}

impl BillManifest {
    pub fn parse(text: &str) -> Result<BillManifest, ManifestError> {
        let m: BillManifest =
            toml::from_str(text).map_err(|e| ManifestError::Syntax(Box::new(e)))?;
        if m.title.trim().is_empty() {
            return Err(ManifestError::EmptyTitle);
        }
        if m.versions.is_empty() {
            return Err(ManifestError::NoVersions);
        }
        for v in &m.versions {
            if v.file.contains('/') || v.file.contains('\\') || v.file.starts_with('.') {
                return Err(ManifestError::NotAPlainFile(v.file.clone()));
            }
            if time::Date::parse(
                &v.date,
                &time::format_description::well_known::Iso8601::DATE,
            )
            .is_err()
            {
                return Err(ManifestError::BadDate {
                    date: v.date.clone(),
                    file: v.file.clone(),
                });
            }
        }
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert!(validate_slug("budget-participatif-2").is_ok());
        for bad in ["", "-x", "Bill", "a b", "é", "../x", &"a".repeat(65)] {
            assert!(validate_slug(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn version_refs() {
        assert_eq!(
            "3".parse::<VersionRef>().unwrap(),
            VersionRef {
                bill: None,
                number: 3
            }
        );
        assert_eq!(
            "cpi@12".parse::<VersionRef>().unwrap(),
            VersionRef {
                bill: Some("cpi".into()),
                number: 12
            }
        );
        for bad in ["0", "-1", "x", "Bad Slug@2", "cpi@", ""] {
            assert!(bad.parse::<VersionRef>().is_err(), "{bad}");
        }
    }

    #[test]
    fn markdown_checks() {
        assert_eq!(check_markdown("f", b"ok".to_vec()).unwrap(), "ok");
        assert_eq!(
            check_markdown("f", vec![b'a', 0xff]).unwrap_err(),
            InputError::NotUtf8 {
                what: "f".into(),
                offset: 1
            }
        );
        // Long enough for the vectorised path, accents included: every malformed sequence
        // (overlong, surrogate, beyond U+10FFFF, stray continuation, cut at the end) is
        // refused at its offset, as the standard library's check would.
        let french = "L'auteur d'une œuvre de l'esprit jouit sur cette œuvre, du seul fait de sa création, d'un droit de propriété incorporelle exclusif.\n".repeat(40);
        assert_eq!(
            check_markdown("f", french.clone().into_bytes()).unwrap(),
            french
        );
        for bad in [
            &[0xc0, 0xaf][..],
            &[0xed, 0xa0, 0x80],
            &[0xf4, 0x90, 0x80, 0x80],
            &[0x80],
            &[0xe2, 0x82],
        ] {
            let mut bytes = french.clone().into_bytes();
            bytes.extend_from_slice(bad);
            bytes.extend_from_slice(if bad == [0xe2, 0x82] { b"" } else { b" fin" });
            assert_eq!(
                check_markdown("f", bytes).unwrap_err(),
                InputError::NotUtf8 {
                    what: "f".into(),
                    offset: french.len()
                },
                "{bad:x?}"
            );
        }
        let big = vec![b'a'; MAX_VERSION_BYTES + 1];
        assert!(matches!(
            check_markdown("f", big),
            Err(InputError::TooLarge { .. })
        ));
    }

    #[test]
    fn manifest() {
        let m = BillManifest::parse("title = \"T\"\nlanguage = \"fr\"\n[[versions]]\nfile = \"v1.md\"\ndate = \"2026-02-10\"\n").unwrap();
        assert_eq!(m.versions[0].file, "v1.md");
        let e = BillManifest::parse("title = \"T\"\nlanguage = \"fr\"\n[[versions]]\nfile = \"../v1.md\"\ndate = \"2026-02-10\"\n").unwrap_err();
        assert_eq!(e, ManifestError::NotAPlainFile("../v1.md".into()));
        assert_eq!(
            e.to_string(),
            "version file \"../v1.md\" must be a plain file name in the bill's folder"
        );
        let e = BillManifest::parse("title = \"T\"\nlanguage = \"fr\"\n[[versions]]\nfile = \"v1.md\"\ndate = \"10/02/2026\"\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "date \"10/02/2026\" of v1.md is not an ISO 8601 date (YYYY-MM-DD)"
        );
        let e =
            BillManifest::parse("title = \" \"\nlanguage = \"fr\"\nversions = []\n").unwrap_err();
        assert_eq!(e, ManifestError::EmptyTitle);
        let e =
            BillManifest::parse("title = \"T\"\nlanguage = \"fr\"\nversions = []\n").unwrap_err();
        assert_eq!(e.to_string(), "no [[versions]] listed");
        // The TOML reader's message, with the line it stopped at.
        let e = BillManifest::parse("title = \"T\"\n").unwrap_err();
        assert!(matches!(e, ManifestError::Syntax(_)), "{e:?}");
        assert!(e.to_string().contains("missing field `language`"), "{e}");
    }
}

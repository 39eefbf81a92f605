//! The instance configuration: `amenda.toml` in the data folder (or the file named by
//! `AMENDA_CONFIG`), with environment overrides for what should not sit in a file.
//! Every key is optional: with no file, Amenda serves with no identity provider.
//! See docs/configuration.md.
//!
//! It depends on `domain` only (for the pure types it reads settings into), so that every
//! layer above may read the configuration.

use crate::domain::licence::Licence;
use crate::domain::moderation::{Limit, LimitError};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// Why the configuration cannot be used: one sentence for the person starting the
/// server, naming the setting (and the file, for what is read from one); [`Self::key`]
/// gives the setting, [`Self::path`] the file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read (a missing amenda.toml is only an error when named).
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Not TOML, an unknown key, a missing one or a value of the wrong kind, with where
    /// the TOML reader stopped (when it says).
    #[error("{}", syntax_message(path.as_deref(), message, key.as_deref(), *line))]
    Syntax {
        /// The file, when read from one.
        path: Option<PathBuf>,
        /// The line, from 1.
        line: Option<usize>,
        /// The key on that line, with its table (`moderation.report_threshold`).
        key: Option<String>,
        /// The TOML reader's message.
        message: String,
    },
    #[error(
        "AMENDA_REPORT_THRESHOLD \"{0}\" must be a whole number (0 turns automatic hiding off)"
    )]
    ReportThreshold(String),
    /// `post_limit`, `report_limit` or `vote_limit` of `[moderation]` (or its
    /// `AMENDA_*_LIMIT` override).
    #[error("{source}")]
    Limit {
        key: &'static str,
        source: LimitError,
    },
    #[error(
        "[opendata] licence \"{0}\" must be a short identifier without spaces, e.g. CC-BY-4.0"
    )]
    LicenceName(String),
    #[error("[opendata] licence_url \"{0}\" must be the http(s) address of the licence's text")]
    LicenceUrl(String),
    #[error(
        "[opendata] needs both licence (its identifier) and licence_url (the address of its text)"
    )]
    LicenceIncomplete,
    #[error("public_url \"{0}\" must start with https:// (or http://) and not end with /")]
    PublicUrl(String),
    #[error("trusted_proxies: \"{0}\" is neither an address (10.0.0.5, ::1) nor a CIDR range (10.0.0.0/8)")]
    TrustedProxy(String),
    #[error("first_admin \"{0}\" must be PROVIDER:SUBJECT, e.g. franceconnect:1234")]
    FirstAdmin(String),
    #[error("provider id \"{0}\" must be 1–32 lowercase letters, digits or -, and not \"demo\"")]
    ProviderId(String),
    #[error("provider id \"{0}\" is given twice")]
    ProviderTwice(String),
    #[error("provider \"{provider}\": issuer \"{issuer}\" is not an http(s) URL")]
    Issuer { provider: String, issuer: String },
    #[error("provider \"{provider}\": acr \"{acr}\" maps to level {level}; levels are 1, 2 or 3")]
    AcrLevel {
        provider: String,
        acr: String,
        level: u8,
    },
    #[error("provider \"{provider}\": default_acr_values names \"{value}\", which is not in its acr map")]
    DefaultAcrValue { provider: String, value: String },
    #[error("provider \"{0}\": absent_acr_level must be 0 to 3")]
    AbsentAcrLevel(String),
}

impl ConfigError {
    /// The setting at fault, as a dotted key of the file (`moderation.post_limit`,
    /// `provider.issuer`); `None` when the file could not be read or the TOML reader
    /// did not say where it stopped.
    pub fn key(&self) -> Option<&str> {
        Some(match self {
            ConfigError::Read { .. } => return None,
            ConfigError::Syntax { key, .. } => return key.as_deref(),
            ConfigError::ReportThreshold(_) => "moderation.report_threshold",
            ConfigError::Limit { key, .. } => *key,
            ConfigError::LicenceName(_) => "opendata.licence",
            ConfigError::LicenceUrl(_) | ConfigError::LicenceIncomplete => "opendata.licence_url",
            ConfigError::PublicUrl(_) => "public_url",
            ConfigError::FirstAdmin(_) => "first_admin",
            ConfigError::TrustedProxy(_) => "trusted_proxies",
            ConfigError::ProviderId(_) | ConfigError::ProviderTwice(_) => "provider.id",
            ConfigError::Issuer { .. } => "provider.issuer",
            ConfigError::AcrLevel { .. } => "provider.acr",
            ConfigError::DefaultAcrValue { .. } => "provider.default_acr_values",
            ConfigError::AbsentAcrLevel(_) => "provider.absent_acr_level",
        })
    }

    /// The file, for an error in reading or parsing one.
    pub fn path(&self) -> Option<&Path> {
        match self {
            ConfigError::Read { path, .. } => Some(path),
            ConfigError::Syntax { path, .. } => path.as_deref(),
            _ => None,
        }
    }
}

/// `FILE: MESSAGE`, and the key and line when the message does not name the key (the
/// TOML reader names an unknown or missing key, not the key of a value of the wrong
/// kind).
fn syntax_message(
    path: Option<&Path>,
    message: &str,
    key: Option<&str>,
    line: Option<usize>,
) -> String {
    let mut out = match path {
        Some(p) => format!("{}: {message}", p.display()),
        None => message.to_string(),
    };
    if let (Some(key), Some(line)) = (key, line) {
        let last = key.rsplit('.').next().unwrap_or(key);
        if !message.contains(&format!("`{last}`")) {
            out.push_str(&format!(" (in `{key}`, line {line})"));
        }
    }
    out
}

/// The line (from 1) holding byte `at` of `text`, and the key written on it with its
/// table: `[moderation]` then `post_limit = 3` is `moderation.post_limit`.
fn locate(text: &str, at: usize) -> (usize, Option<String>) {
    let before = text.get(..at).unwrap_or(text);
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = text[line_start..].lines().next().unwrap_or("");
    let unquote = |k: &str| k.trim().trim_matches('"').to_string();
    let name = line
        .split_once('=')
        .map(|(k, _)| unquote(k))
        .filter(|k| !k.is_empty() && !k.starts_with('[') && !k.starts_with('#'));
    let table = text[..line_start]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .and_then(|l| l.trim_start_matches('[').split(']').next())
        .map(unquote);
    let key = match (table, name) {
        (Some(t), Some(n)) => Some(format!("{t}.{n}")),
        (None, n) => n,
        (Some(_), None) => None,
    };
    (before.matches('\n').count() + 1, key)
}

/// The whole file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The address people reach the site at (`https://consult.example.org`): the base of
    /// the redirect URIs registered at the providers. Default: `http://ADDRESS:PORT`.
    pub public_url: Option<String>,
    /// `PROVIDER:SUBJECT` of the first administrator, made admin at their first sign-in
    /// while the instance has no admin.
    pub first_admin: Option<String>,
    /// Days a consultation key is kept after its vote closes, after which voter tokens
    /// can no longer be tied to accounts (default 30).
    pub publication_window_days: Option<u32>,
    /// Milliseconds an anonymous visitor's consultation page may be served as rendered
    /// (default 1000; 0 renders it for every request).
    pub live_pages_ms: Option<u64>,
    /// The reverse proxies whose `X-Forwarded-For` / `X-Real-IP` name the client:
    /// addresses or CIDR ranges (none by default: the client is the connection's peer).
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
    #[serde(default, rename = "provider")]
    pub providers: Vec<ProviderConfig>,
    /// Reports, automatic hiding and rate limits (`[moderation]`).
    #[serde(default)]
    pub moderation: ModerationConfig,
    /// The published data (`[opendata]`).
    #[serde(default)]
    pub opendata: OpendataConfig,
}

/// `[opendata]`: see docs/opendata.md. With none of the three keys, the data is
/// published under Licence Ouverte 2.0.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OpendataConfig {
    /// Short identifier of the licence (`CC-BY-4.0`, `ODbL-1.0`, `etalab-2.0`…).
    pub licence: Option<String>,
    /// Its name in words (default: the identifier).
    pub licence_title: Option<String>,
    /// The address of its text.
    pub licence_url: Option<String>,
    /// Seconds a generated `/opendata` folder is served before a new one is made in
    /// the background (default 300).
    pub refresh: Option<u64>,
}

impl OpendataConfig {
    /// The licence to publish under, checked: an identifier and an http(s) address go
    /// together.
    pub fn licence(&self) -> Result<Licence, ConfigError> {
        match (&self.licence, &self.licence_url) {
            (None, None) if self.licence_title.is_none() => Ok(Licence::default()),
            (Some(name), Some(url)) => {
                let name = name.trim();
                if name.is_empty() || name.chars().any(char::is_whitespace) {
                    return Err(ConfigError::LicenceName(name.to_string()));
                }
                if !(url.starts_with("https://") || url.starts_with("http://")) {
                    return Err(ConfigError::LicenceUrl(url.clone()));
                }
                Ok(Licence {
                    name: name.to_string(),
                    title: self
                        .licence_title
                        .as_deref()
                        .map(str::trim)
                        .filter(|t| !t.is_empty())
                        .unwrap_or(name)
                        .to_string(),
                    url: url.clone(),
                })
            }
            _ => Err(ConfigError::LicenceIncomplete),
        }
    }
}

/// `[moderation]`: see docs/moderation.md.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModerationConfig {
    /// Reports from distinct people at level 1 or more that hide content until a
    /// moderator decides (0: never automatically). Default 3.
    pub report_threshold: u32,
    /// Comments, answers, amendments and corrections, per account: `COUNT/SECONDS`.
    pub post_limit: String,
    /// Reports per account: `COUNT/SECONDS`.
    pub report_limit: String,
    /// Ballots (re-votes included) per account: `COUNT/SECONDS`.
    pub vote_limit: String,
    /// `AMENDA_REPORT_THRESHOLD` when it is not a number (reported by `check`).
    #[serde(skip)]
    pub threshold_error: Option<String>,
}

impl Default for ModerationConfig {
    fn default() -> Self {
        ModerationConfig {
            report_threshold: 3,
            post_limit: "30/600".into(),
            report_limit: "30/3600".into(),
            vote_limit: "30/600".into(),
            threshold_error: None,
        }
    }
}

impl ModerationConfig {
    /// The three limits (post, report, vote), checked by [`Config::check`].
    pub fn limits(&self) -> Result<[Limit; 3], ConfigError> {
        let read = |key: &'static str, spec: &str| {
            Limit::parse(spec).map_err(|source| ConfigError::Limit { key, source })
        };
        Ok([
            read("moderation.post_limit", &self.post_limit)?,
            read("moderation.report_limit", &self.report_limit)?,
            read("moderation.vote_limit", &self.vote_limit)?,
        ])
    }
}

/// One OpenID Connect provider (`[[provider]]` in the file).
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// Short id used in URLs and account names (`franceconnect`): lowercase letters,
    /// digits and `-`.
    pub id: String,
    /// Name shown on the sign-in button.
    pub name: String,
    /// Issuer URL; discovery reads `ISSUER/.well-known/openid-configuration`.
    pub issuer: String,
    pub client_id: String,
    /// The client secret (better given as `AMENDA_PROVIDER_<ID>_CLIENT_SECRET`).
    #[serde(default)]
    pub client_secret: Option<String>,
    /// Scopes besides `openid`.
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    /// `acr` value → level (1–3). Default: FranceConnect's eidas1/2/3 → 1/2/3.
    #[serde(default = "default_acr")]
    pub acr: BTreeMap<String, u8>,
    /// The level of an ID token without `acr` (0 refuses such tokens). Default 1.
    #[serde(default = "default_absent_acr")]
    pub absent_acr_level: u8,
    /// `acr_values` sent with a plain sign-in (no level asked), e.g. `["eidas1"]` to
    /// sign people in at the lightest level and step up only when an action needs it.
    /// Default: none sent (the provider decides).
    #[serde(default)]
    pub default_acr_values: Vec<String>,
}

impl fmt::Debug for ProviderConfig {
    // The secret stays out of logs and panics.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderConfig")
            .field("id", &self.id)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("acr", &self.acr)
            .finish_non_exhaustive()
    }
}

fn default_scopes() -> Vec<String> {
    vec!["profile".into(), "email".into()]
}

fn default_acr() -> BTreeMap<String, u8> {
    [("eidas1", 1), ("eidas2", 2), ("eidas3", 3)]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
}

fn default_absent_acr() -> u8 {
    1
}

impl ProviderConfig {
    /// The `acr` values that give at least `level`, lowest first.
    pub fn acr_values_for(&self, level: u8) -> Vec<&str> {
        let mut v: Vec<(&str, u8)> = self
            .acr
            .iter()
            .filter(|(_, l)| **l >= level)
            .map(|(k, l)| (k.as_str(), *l))
            .collect();
        v.sort_by_key(|(k, l)| (*l, *k));
        v.into_iter().map(|(k, _)| k).collect()
    }

    /// The highest level this provider can give.
    pub fn max_level(&self) -> u8 {
        self.acr
            .values()
            .copied()
            .chain([self.absent_acr_level])
            .max()
            .unwrap_or(0)
    }
}

/// One `trusted_proxies` entry: an address (`10.0.0.5`, `::1`, a network of one) or a
/// CIDR range (`10.0.0.0/8`).
pub fn parse_proxy(entry: &str) -> Option<ipnet::IpNet> {
    let entry = entry.trim();
    entry.parse::<ipnet::IpNet>().ok().or_else(|| {
        entry
            .parse::<std::net::IpAddr>()
            .ok()
            .map(ipnet::IpNet::from)
    })
}

impl Config {
    /// Reads the configuration: `path` if it exists (an explicitly named file must
    /// exist), then the environment overrides, then checks it.
    pub fn load(path: &Path, required: bool) -> Result<Config, ConfigError> {
        let mut config = match std::fs::read_to_string(path) {
            Ok(text) => Self::from_toml(&text, Some(path))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => Config::default(),
            Err(source) => {
                return Err(ConfigError::Read {
                    path: path.to_path_buf(),
                    source,
                })
            }
        };
        config.apply_env(|k| std::env::var(k).ok());
        config.check()?;
        Ok(config)
    }

    /// Reads the text of a file (not checked: see [`Config::check`]).
    pub fn parse(text: &str) -> Result<Config, ConfigError> {
        Self::from_toml(text, None)
    }

    fn from_toml(text: &str, path: Option<&Path>) -> Result<Config, ConfigError> {
        toml::from_str(text).map_err(|e: toml::de::Error| {
            let (line, key) = match e.span() {
                Some(span) => {
                    let (line, key) = locate(text, span.start);
                    (Some(line), key)
                }
                None => (None, None),
            };
            ConfigError::Syntax {
                path: path.map(Path::to_path_buf),
                line,
                key,
                message: e.message().to_string(),
            }
        })
    }

    /// `AMENDA_PUBLIC_URL`, `AMENDA_FIRST_ADMIN` and `AMENDA_PROVIDER_<ID>_CLIENT_SECRET`
    /// (the id upper-cased, `-` as `_`) replace what the file says.
    pub fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) {
        if let Some(v) = var("AMENDA_PUBLIC_URL") {
            self.public_url = Some(v);
        }
        if let Some(v) = var("AMENDA_FIRST_ADMIN") {
            self.first_admin = Some(v);
        }
        if let Some(v) = var("AMENDA_REPORT_THRESHOLD") {
            // A bad number is left for `check` to report, as the threshold's text.
            match v.trim().parse() {
                Ok(n) => self.moderation.report_threshold = n,
                Err(_) => self.moderation.threshold_error = Some(v),
            }
        }
        for (name, field) in [
            ("AMENDA_POST_LIMIT", &mut self.moderation.post_limit),
            ("AMENDA_REPORT_LIMIT", &mut self.moderation.report_limit),
            ("AMENDA_VOTE_LIMIT", &mut self.moderation.vote_limit),
        ] {
            if let Some(v) = var(name) {
                *field = v;
            }
        }
        for p in &mut self.providers {
            let key = format!(
                "AMENDA_PROVIDER_{}_CLIENT_SECRET",
                p.id.to_ascii_uppercase().replace('-', "_")
            );
            if let Some(v) = var(&key) {
                p.client_secret = Some(v);
            }
        }
    }

    /// `trusted_proxies`, checked: each entry an address or a CIDR range.
    pub fn trusted_proxies(&self) -> Result<Vec<ipnet::IpNet>, ConfigError> {
        self.trusted_proxies
            .iter()
            .map(|p| parse_proxy(p).ok_or_else(|| ConfigError::TrustedProxy(p.clone())))
            .collect()
    }

    /// Rejects what would fail later in a confusing way.
    pub fn check(&self) -> Result<(), ConfigError> {
        if let Some(v) = &self.moderation.threshold_error {
            return Err(ConfigError::ReportThreshold(v.clone()));
        }
        self.moderation.limits()?;
        self.opendata.licence()?;
        self.trusted_proxies()?;
        if let Some(u) = &self.public_url {
            if !(u.starts_with("https://") || u.starts_with("http://")) || u.ends_with('/') {
                return Err(ConfigError::PublicUrl(u.clone()));
            }
        }
        if let Some(a) = &self.first_admin {
            if !a.contains(':') {
                return Err(ConfigError::FirstAdmin(a.clone()));
            }
        }
        let mut seen = std::collections::HashSet::new();
        for p in &self.providers {
            let ok_id = !p.id.is_empty()
                && p.id.len() <= 32
                && p.id != "demo"
                && p.id
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !ok_id {
                return Err(ConfigError::ProviderId(p.id.clone()));
            }
            if !seen.insert(p.id.as_str()) {
                return Err(ConfigError::ProviderTwice(p.id.clone()));
            }
            if !(p.issuer.starts_with("https://") || p.issuer.starts_with("http://")) {
                return Err(ConfigError::Issuer {
                    provider: p.id.clone(),
                    issuer: p.issuer.clone(),
                });
            }
            if let Some((k, l)) = p.acr.iter().find(|(_, l)| !(1..=3).contains(*l)) {
                return Err(ConfigError::AcrLevel {
                    provider: p.id.clone(),
                    acr: k.clone(),
                    level: *l,
                });
            }
            if let Some(v) = p
                .default_acr_values
                .iter()
                .find(|v| !p.acr.contains_key(*v))
            {
                return Err(ConfigError::DefaultAcrValue {
                    provider: p.id.clone(),
                    value: v.clone(),
                });
            }
            if p.absent_acr_level > 3 {
                return Err(ConfigError::AbsentAcrLevel(p.id.clone()));
            }
        }
        Ok(())
    }

    /// Origins of the providers (for the Content-Security-Policy `form-action`).
    pub fn provider_origins(&self) -> Vec<String> {
        self.providers
            .iter()
            .filter_map(|p| {
                let rest = p.issuer.split_once("://")?;
                let host = rest.1.split('/').next()?;
                Some(format!("{}://{}", rest.0, host))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"
public_url = "https://consult.example.org"
first_admin = "city:42"

[[provider]]
id = "franceconnect"
name = "FranceConnect"
issuer = "https://fc.example.org/api/v2"
client_id = "abc"

[[provider]]
id = "city"
name = "Ville"
issuer = "https://login.ville.example"
client_id = "amenda"
client_secret = "from-file"
acr = { "urn:city:password" = 1, "urn:city:mfa" = 2 }
absent_acr_level = 0
"#;

    #[test]
    fn trusted_proxies_are_addresses_or_ranges_and_a_bad_one_is_named() {
        let c =
            Config::parse("trusted_proxies = [\"127.0.0.1\", \"10.0.0.0/8\", \"::1\"]").unwrap();
        c.check().unwrap();
        let nets: Vec<String> = c
            .trusted_proxies()
            .unwrap()
            .iter()
            .map(|n| n.to_string())
            .collect();
        assert_eq!(nets, ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]);
        assert!(Config::default().trusted_proxies().unwrap().is_empty());
        for bad in ["localhost", "10.0.0.0/33", "10.0.0", "*", ""] {
            let c = Config::parse(&format!("trusted_proxies = [\"::1\", \"{bad}\"]")).unwrap();
            let err = c.check().unwrap_err();
            assert_eq!(err.key(), Some("trusted_proxies"));
            assert_eq!(
                err.to_string(),
                format!("trusted_proxies: \"{bad}\" is neither an address (10.0.0.5, ::1) nor a CIDR range (10.0.0.0/8)")
            );
        }
        // A single string instead of a list is the TOML reader's error, naming the key.
        let err = Config::parse("trusted_proxies = \"10.0.0.1\"").unwrap_err();
        assert!(err.to_string().contains("trusted_proxies"), "{err}");
    }

    #[test]
    fn parses_defaults_and_overrides() {
        let mut c = Config::parse(SAMPLE).unwrap();
        c.check().unwrap();
        let fc = &c.providers[0];
        assert_eq!(fc.acr.get("eidas2"), Some(&2));
        assert_eq!(fc.absent_acr_level, 1);
        assert_eq!(fc.scopes, vec!["profile", "email"]);
        assert_eq!(fc.acr_values_for(2), vec!["eidas2", "eidas3"]);
        assert_eq!(
            c.providers[1].acr_values_for(1),
            vec!["urn:city:password", "urn:city:mfa"]
        );
        assert_eq!(c.providers[1].max_level(), 2);
        c.apply_env(|k| match k {
            "AMENDA_PROVIDER_CITY_CLIENT_SECRET" => Some("from-env".into()),
            "AMENDA_PUBLIC_URL" => Some("https://other.example".into()),
            _ => None,
        });
        assert_eq!(c.providers[1].client_secret.as_deref(), Some("from-env"));
        assert_eq!(c.providers[0].client_secret, None);
        assert_eq!(c.public_url.as_deref(), Some("https://other.example"));
        assert_eq!(
            c.provider_origins(),
            vec!["https://fc.example.org", "https://login.ville.example"]
        );
        assert!(
            !format!("{:?}", c).contains("from-env"),
            "secrets stay out of Debug"
        );
    }

    #[test]
    fn rejects_mistakes_with_a_clear_message() {
        let bad = |extra: &str| {
            let text = format!("{SAMPLE}\n{extra}");
            Config::parse(&text).and_then(|c| c.check().map(|_| c))
        };
        let bad = |extra: &str| bad(extra).map_err(|e| e.to_string());
        let e = bad("[[provider]]\nid = \"city\"\nname = \"x\"\nissuer = \"https://x\"\nclient_id = \"y\"\n")
            .unwrap_err();
        assert!(e.contains("given twice"), "{e}");
        let e = bad("[[provider]]\nid = \"Bad Id\"\nname = \"x\"\nissuer = \"https://x\"\nclient_id = \"y\"\n")
            .unwrap_err();
        assert!(e.contains("lowercase"), "{e}");
        let e = bad("[[provider]]\nid = \"z\"\nname = \"x\"\nissuer = \"https://x\"\nclient_id = \"y\"\nacr = { a = 4 }\n")
            .unwrap_err();
        assert!(e.contains("levels are 1, 2 or 3"), "{e}");
        let e = Config::parse("colour = 1").unwrap_err().to_string();
        assert!(e.contains("unknown field"), "{e}");
        let e = Config::parse("public_url = \"ftp://x\"")
            .unwrap()
            .check()
            .unwrap_err();
        assert_eq!(e.key(), Some("public_url"));
        assert_eq!(
            e.to_string(),
            "public_url \"ftp://x\" must start with https:// (or http://) and not end with /"
        );
        let e = Config::parse("first_admin = \"bob\"")
            .unwrap()
            .check()
            .unwrap_err()
            .to_string();
        assert!(e.contains("PROVIDER:SUBJECT"), "{e}");
    }

    #[test]
    fn a_missing_file_is_an_empty_config_unless_named() {
        let dir = tempfile::tempdir().unwrap();
        let c = Config::load(&dir.path().join("amenda.toml"), false).unwrap();
        assert!(c.providers.is_empty());
        let named = dir.path().join("named.toml");
        let e = Config::load(&named, true).unwrap_err();
        assert_eq!(e.path(), Some(named.as_path()));
        let e = e.to_string();
        assert!(
            e.starts_with(&format!("cannot read {}: ", named.display())),
            "{e}"
        );
    }

    #[test]
    fn the_open_data_licence_defaults_to_licence_ouverte_and_is_checked() {
        let none = Config::parse("").unwrap().opendata.licence().unwrap();
        assert_eq!(none.name, "etalab-2.0");
        let cc = Config::parse(
            "[opendata]\nlicence = \"CC-BY-4.0\"\nlicence_url = \"https://creativecommons.org/licenses/by/4.0/\"\n",
        )
        .unwrap();
        let l = cc.opendata.licence().unwrap();
        assert_eq!(
            (l.name.as_str(), l.title.as_str()),
            ("CC-BY-4.0", "CC-BY-4.0")
        );
        for (text, says) in [
            ("[opendata]\nlicence = \"CC-BY-4.0\"\n", "licence_url"),
            ("[opendata]\nlicence_title = \"Mine\"\n", "licence_url"),
            (
                "[opendata]\nlicence = \"CC BY\"\nlicence_url = \"https://x.example/\"\n",
                "without spaces",
            ),
            (
                "[opendata]\nlicence = \"CC-BY-4.0\"\nlicence_url = \"ftp://x.example/\"\n",
                "http(s)",
            ),
        ] {
            let e = Config::parse(text).unwrap().check().unwrap_err();
            assert!(e.key().is_some_and(|k| k.starts_with("opendata.")), "{e}");
            assert!(e.to_string().contains(says), "{text}: {e}");
        }
    }

    #[test]
    fn a_malformed_file_is_named_with_the_key_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("amenda.toml");
        // A value of the wrong kind: the TOML reader's message does not name the key.
        std::fs::write(
            &path,
            "public_url = \"https://x.example\"\n\n[moderation]\nreport_threshold = \"three\"\n",
        )
        .unwrap();
        let e = Config::load(&path, false).unwrap_err();
        assert!(
            matches!(e, ConfigError::Syntax { line: Some(4), .. }),
            "{e:?}"
        );
        assert_eq!(e.key(), Some("moderation.report_threshold"));
        assert_eq!(e.path(), Some(path.as_path()));
        assert_eq!(
            e.to_string(),
            format!(
                "{}: invalid type: string \"three\", expected u32 (in `moderation.report_threshold`, line 4)",
                path.display()
            )
        );
        // An unknown key: named by the reader already, the message is as it says.
        std::fs::write(&path, "[[provider]]\nid = \"a\"\ncolour = 1\n").unwrap();
        let e = Config::load(&path, false).unwrap_err();
        assert_eq!(e.key(), Some("provider.colour"));
        let text = e.to_string();
        assert!(
            text.starts_with(&format!("{}: unknown field `colour`", path.display())),
            "{text}"
        );
        assert!(!text.contains("(in `"), "{text}");
    }

    #[test]
    fn rate_limits_and_the_threshold_name_their_setting() {
        let mut c = Config::default();
        c.apply_env(|k| match k {
            "AMENDA_REPORT_LIMIT" => Some("often".into()),
            _ => None,
        });
        let e = c.check().unwrap_err();
        assert_eq!(e.key(), Some("moderation.report_limit"));
        assert_eq!(
            e.to_string(),
            "rate limit \"often\" must be COUNT/SECONDS, e.g. 30/600"
        );
        assert_eq!(
            Limit::parse("often").unwrap_err().to_string(),
            e.to_string()
        );
        let mut c = Config::default();
        c.apply_env(|k| (k == "AMENDA_REPORT_THRESHOLD").then(|| "x".into()));
        let e = c.check().unwrap_err();
        assert_eq!(e.key(), Some("moderation.report_threshold"));
        assert_eq!(
            e.to_string(),
            "AMENDA_REPORT_THRESHOLD \"x\" must be a whole number (0 turns automatic hiding off)"
        );
    }

    /// `config` sits just above `domain` (docs/ARCHITECTURE.md): it names no other layer
    /// of the crate, so every layer may read it.
    #[test]
    fn config_depends_on_domain_only() {
        let source = include_str!("config.rs");
        let code = &source[..source.find("#[cfg(test)]").unwrap()];
        for (i, line) in code.lines().enumerate() {
            let mut rest = line;
            while let Some(at) = rest.find("crate::") {
                rest = &rest[at + "crate::".len()..];
                assert!(
                    rest.starts_with("domain::"),
                    "src/config.rs:{}: only crate::domain may be used: {line}",
                    i + 1
                );
            }
        }
    }
}

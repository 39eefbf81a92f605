//! The instance configuration: `amenda.toml` in the data folder (or the file named by
//! `AMENDA_CONFIG`), with environment overrides for what should not sit in a file.
//! Every key is optional: with no file, Amenda serves with no identity provider.
//! See docs/configuration.md.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

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
    pub fn licence(&self) -> Result<crate::service::opendata::Licence, String> {
        match (&self.licence, &self.licence_url) {
            (None, None) if self.licence_title.is_none() => {
                Ok(crate::service::opendata::Licence::default())
            }
            (Some(name), Some(url)) => {
                let name = name.trim();
                if name.is_empty() || name.chars().any(char::is_whitespace) {
                    return Err(format!(
                        "[opendata] licence \"{name}\" must be a short identifier without spaces, e.g. CC-BY-4.0"
                    ));
                }
                if !(url.starts_with("https://") || url.starts_with("http://")) {
                    return Err(format!(
                        "[opendata] licence_url \"{url}\" must be the http(s) address of the licence's text"
                    ));
                }
                Ok(crate::service::opendata::Licence {
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
            _ => Err("[opendata] needs both licence (its identifier) and licence_url (the address of its text)".into()),
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

/// A rate limit read from `COUNT/SECONDS`.
pub fn parse_limit(s: &str) -> Result<crate::service::moderation::Limit, String> {
    let bad = || format!("rate limit \"{s}\" must be COUNT/SECONDS, e.g. 30/600");
    let (n, w) = s.split_once('/').ok_or_else(bad)?;
    let max: u32 = n.trim().parse().map_err(|_| bad())?;
    let window_secs: i64 = w.trim().parse().map_err(|_| bad())?;
    if max == 0 || window_secs <= 0 {
        return Err(bad());
    }
    Ok(crate::service::moderation::Limit { max, window_secs })
}

impl ModerationConfig {
    /// The three limits (post, report, vote), checked by [`Config::check`].
    pub fn limits(&self) -> Result<[crate::service::moderation::Limit; 3], String> {
        Ok([
            parse_limit(&self.post_limit)?,
            parse_limit(&self.report_limit)?,
            parse_limit(&self.vote_limit)?,
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

impl Config {
    /// Reads the configuration: `path` if it exists (an explicitly named file must
    /// exist), then the environment overrides, then checks it.
    pub fn load(path: &Path, required: bool) -> Result<Config, String> {
        let mut config = match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => Config::default(),
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        config.apply_env(|k| std::env::var(k).ok());
        config.check()?;
        Ok(config)
    }

    pub fn parse(text: &str) -> Result<Config, String> {
        toml::from_str(text).map_err(|e| e.message().to_string())
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

    /// Rejects what would fail later in a confusing way.
    pub fn check(&self) -> Result<(), String> {
        if let Some(v) = &self.moderation.threshold_error {
            return Err(format!(
                "AMENDA_REPORT_THRESHOLD \"{v}\" must be a whole number (0 turns automatic hiding off)"
            ));
        }
        self.moderation.limits()?;
        self.opendata.licence()?;
        if let Some(u) = &self.public_url {
            if !(u.starts_with("https://") || u.starts_with("http://")) || u.ends_with('/') {
                return Err(format!(
                    "public_url \"{u}\" must start with https:// (or http://) and not end with /"
                ));
            }
        }
        if let Some(a) = &self.first_admin {
            if !a.contains(':') {
                return Err(format!(
                    "first_admin \"{a}\" must be PROVIDER:SUBJECT, e.g. franceconnect:1234"
                ));
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
                return Err(format!(
                    "provider id \"{}\" must be 1–32 lowercase letters, digits or -, and not \"demo\"",
                    p.id
                ));
            }
            if !seen.insert(p.id.as_str()) {
                return Err(format!("provider id \"{}\" is given twice", p.id));
            }
            if !(p.issuer.starts_with("https://") || p.issuer.starts_with("http://")) {
                return Err(format!(
                    "provider \"{}\": issuer \"{}\" is not an http(s) URL",
                    p.id, p.issuer
                ));
            }
            if let Some((k, l)) = p.acr.iter().find(|(_, l)| !(1..=3).contains(*l)) {
                return Err(format!(
                    "provider \"{}\": acr \"{k}\" maps to level {l}; levels are 1, 2 or 3",
                    p.id
                ));
            }
            if let Some(v) = p
                .default_acr_values
                .iter()
                .find(|v| !p.acr.contains_key(*v))
            {
                return Err(format!(
                    "provider \"{}\": default_acr_values names \"{v}\", which is not in its acr map",
                    p.id
                ));
            }
            if p.absent_acr_level > 3 {
                return Err(format!(
                    "provider \"{}\": absent_acr_level must be 0 to 3",
                    p.id
                ));
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
        let e = bad("[[provider]]\nid = \"city\"\nname = \"x\"\nissuer = \"https://x\"\nclient_id = \"y\"\n")
            .unwrap_err();
        assert!(e.contains("given twice"), "{e}");
        let e = bad("[[provider]]\nid = \"Bad Id\"\nname = \"x\"\nissuer = \"https://x\"\nclient_id = \"y\"\n")
            .unwrap_err();
        assert!(e.contains("lowercase"), "{e}");
        let e = bad("[[provider]]\nid = \"z\"\nname = \"x\"\nissuer = \"https://x\"\nclient_id = \"y\"\nacr = { a = 4 }\n")
            .unwrap_err();
        assert!(e.contains("levels are 1, 2 or 3"), "{e}");
        let e = Config::parse("colour = 1").unwrap_err();
        assert!(e.contains("unknown field"), "{e}");
        let e = Config::parse("public_url = \"ftp://x\"")
            .unwrap()
            .check()
            .unwrap_err();
        assert!(e.contains("https://"), "{e}");
        let e = Config::parse("first_admin = \"bob\"")
            .unwrap()
            .check()
            .unwrap_err();
        assert!(e.contains("PROVIDER:SUBJECT"), "{e}");
    }

    #[test]
    fn a_missing_file_is_an_empty_config_unless_named() {
        let dir = tempfile::tempdir().unwrap();
        let c = Config::load(&dir.path().join("amenda.toml"), false).unwrap();
        assert!(c.providers.is_empty());
        let e = Config::load(&dir.path().join("named.toml"), true).unwrap_err();
        assert!(e.contains("cannot read"), "{e}");
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
            assert!(e.contains(says), "{text}: {e}");
        }
    }
}

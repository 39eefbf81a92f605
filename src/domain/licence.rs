//! The licence the open data is published under (docs/opendata.md): read from
//! `[opendata]` in amenda.toml by `config`, written into `datapackage.json` by
//! `service::opendata` and shown on `/opendata`.

/// The licence the data is published under: `[opendata]` in amenda.toml, Licence
/// Ouverte 2.0 when not set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Licence {
    /// A short identifier (an SPDX or Open Definition id such as `etalab-2.0`).
    pub name: String,
    /// Its name in words.
    pub title: String,
    /// Where its text is published.
    pub url: String,
}

impl Default for Licence {
    fn default() -> Self {
        Licence {
            name: "etalab-2.0".into(),
            title: "Licence Ouverte / Open Licence 2.0".into(),
            url: "https://www.etalab.gouv.fr/licence-ouverte-open-licence/".into(),
        }
    }
}

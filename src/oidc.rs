//! The OpenID Connect relying party (DESIGN §4), on the `openidconnect` crate: discovery,
//! the authorization code flow with PKCE S256, `state` and `nonce`, strict ID token
//! checks, `acr` → level, userinfo, and RP-initiated logout.
//!
//! This module talks HTTP to the providers and nothing else: the web layer keeps the
//! pending flow (single use, in the database) and turns an [`Identity`] into a session.

use crate::config::ProviderConfig;
use crate::domain::identity::Level;
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthenticationFlow, CoreClaimName, CoreClaimType, CoreClient,
    CoreClientAuthMethod, CoreGenderClaim, CoreGrantType, CoreIdToken, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm, CoreResponseMode,
    CoreResponseType, CoreSubjectIdentifierType, CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AuthenticationContextClass, AuthorizationCode, ClientId, ClientSecret,
    CsrfToken, EmptyAdditionalClaims, IssuerUrl, LogoutRequest, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, PkceCodeVerifier, PostLogoutRedirectUrl, ProviderMetadata, RedirectUrl,
    Scope, TokenResponse,
};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long discovery documents (and the keys they point to) are kept.
const METADATA_TTL: Duration = Duration::from_secs(3600);

/// Why a sign-in through a provider did not succeed. Each has a message for people
/// (the web layer translates the kinds it knows).
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("no identity provider is called \"{0}\"")]
    UnknownProvider(String),
    #[error("the identity provider cannot be reached or answered wrongly: {0}")]
    Unavailable(String),
    #[error("the identity provider refused the sign-in: {error}{}", .description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Refused {
        error: String,
        description: Option<String>,
    },
    #[error("the response names another issuer ({0}) than the provider it was sent to")]
    IssuerMismatch(String),
    #[error("the response does not name its issuer, which this provider promises to do")]
    IssuerMissing,
    #[error("the authorization code was refused: {0}")]
    Token(String),
    #[error("the ID token is not valid: {0}")]
    IdToken(String),
    #[error("the provider gave an assurance (acr \"{0}\") that is not configured")]
    UnknownAcr(String),
    #[error("the provider confirmed level {got}, but level {wanted} was asked for")]
    LevelTooLow { got: u8, wanted: u8 },
    #[error("the provider's user information could not be read: {0}")]
    UserInfo(String),
}

/// What discovery reads beyond OpenID Connect's own fields: RP-initiated logout's end
/// session endpoint, and RFC 9207's promise to name the issuer in every authorization
/// response.
#[derive(Clone, Debug, Default, serde::Deserialize, serde::Serialize)]
pub struct IssuerParameter {
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
}

impl openidconnect::AdditionalProviderMetadata for IssuerParameter {}

/// A provider's discovery document (`ProviderMetadataWithLogout`, plus RFC 9207).
type Metadata = ProviderMetadata<
    openidconnect::LogoutProviderMetadata<IssuerParameter>,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

/// RFC 9207 (mix-up attacks): an authorization response naming another issuer than the
/// provider it was sent to is refused; so is one naming none when the provider's
/// discovery document promises to (`authorization_response_iss_parameter_supported`),
/// since an attacker's provider would simply leave it out.
pub fn check_issuer(iss: Option<&str>, issuer: &str, promised: bool) -> Result<(), OidcError> {
    match iss {
        Some(iss) if iss != issuer => Err(OidcError::IssuerMismatch(iss.to_string())),
        None if promised => Err(OidcError::IssuerMissing),
        _ => Ok(()),
    }
}

/// Why the relying party cannot be set up at start.
#[derive(Debug, thiserror::Error)]
pub enum OidcConfigError {
    #[error("cannot build the HTTP client: {0}")]
    HttpClient(#[source] reqwest::Error),
}

/// Transitional, for `web::App::new` (which returns its error as text) until the web
/// side has its own error type: `?` there keeps the message.
/// A sign-in that was sent to a provider and not yet answered. The web layer keeps it
/// server-side (single use) and binds it to the browser with a cookie holding `state`.
#[derive(Debug, Clone)]
pub struct PendingFlow {
    pub state: String,
    pub provider: String,
    pub nonce: String,
    pub pkce_verifier: String,
    /// The level asked for (0: whatever the provider gives).
    pub level: u8,
    pub next: String,
}

/// Who signed in, once every check passed.
#[derive(Debug, Clone)]
pub struct Identity {
    pub subject: String,
    pub display_name: String,
    pub email: Option<String>,
    pub acr: Option<String>,
    pub level: Level,
    /// The raw ID token, kept as `id_token_hint` for logout.
    pub id_token: String,
}

struct Provider {
    config: ProviderConfig,
    metadata: rocket::tokio::sync::Mutex<Option<(Instant, Arc<Metadata>)>>,
}

/// The configured providers and an HTTP client that never follows redirects (SSRF).
pub struct Oidc {
    providers: Vec<Provider>,
    http: reqwest::Client,
    public_url: String,
}

impl Oidc {
    pub fn new(
        providers: Vec<ProviderConfig>,
        public_url: String,
    ) -> Result<Oidc, OidcConfigError> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(15))
            .user_agent("Amenda")
            .build()
            .map_err(OidcConfigError::HttpClient)?;
        Ok(Oidc {
            providers: providers
                .into_iter()
                .map(|config| Provider {
                    config,
                    metadata: Default::default(),
                })
                .collect(),
            http,
            public_url,
        })
    }

    pub fn providers(&self) -> impl Iterator<Item = &ProviderConfig> {
        self.providers.iter().map(|p| &p.config)
    }

    pub fn provider(&self, id: &str) -> Option<&ProviderConfig> {
        self.find(id).ok().map(|p| &p.config)
    }

    fn find(&self, id: &str) -> Result<&Provider, OidcError> {
        self.providers
            .iter()
            .find(|p| p.config.id == id)
            .ok_or_else(|| OidcError::UnknownProvider(id.to_string()))
    }

    /// The callback address registered at the provider.
    pub fn redirect_uri(&self, provider: &str) -> String {
        format!("{}/signin/{provider}/callback", self.public_url)
    }

    async fn metadata(&self, p: &Provider, refresh: bool) -> Result<Arc<Metadata>, OidcError> {
        let mut cached = p.metadata.lock().await;
        if let Some((at, m)) = cached.as_ref() {
            if !refresh && at.elapsed() < METADATA_TTL {
                return Ok(m.clone());
            }
        }
        let issuer = IssuerUrl::new(p.config.issuer.clone())
            .map_err(|e| OidcError::Unavailable(e.to_string()))?;
        // Discovery checks that the document names the configured issuer exactly.
        let m = Metadata::discover_async(issuer, &self.http)
            .await
            .map_err(|e| OidcError::Unavailable(error_chain(&e)))?;
        let m = Arc::new(m);
        *cached = Some((Instant::now(), m.clone()));
        Ok(m)
    }

    fn client(&self, p: &Provider, m: &Metadata) -> Result<Rp, OidcError> {
        let redirect = RedirectUrl::new(self.redirect_uri(&p.config.id))
            .map_err(|e| OidcError::Unavailable(format!("bad public_url: {e}")))?;
        Ok(CoreClient::from_provider_metadata(
            m.clone(),
            ClientId::new(p.config.client_id.clone()),
            p.config.client_secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(redirect))
    }

    /// Starts a sign-in: the address to send the browser to, and the flow to keep.
    /// With `level` > 0 the provider is asked (`acr_values`) for an assurance giving at
    /// least that level.
    pub async fn start(
        &self,
        provider: &str,
        level: u8,
        next: String,
    ) -> Result<(String, PendingFlow), OidcError> {
        let p = self.find(provider)?;
        if level > p.config.max_level() {
            return Err(OidcError::LevelTooLow {
                got: p.config.max_level(),
                wanted: level,
            });
        }
        let m = self.metadata(p, false).await?;
        let client = self.client(p, &m)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut req = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        for s in &p.config.scopes {
            req = req.add_scope(Scope::new(s.clone()));
        }
        let acr_values: Vec<&str> = if level > 0 {
            p.config.acr_values_for(level)
        } else {
            p.config
                .default_acr_values
                .iter()
                .map(String::as_str)
                .collect()
        };
        for v in acr_values {
            req = req.add_auth_context_value(AuthenticationContextClass::new(v.to_string()));
        }
        let (url, state, nonce) = req.url();
        Ok((
            url.to_string(),
            PendingFlow {
                state: state.secret().clone(),
                provider: provider.to_string(),
                nonce: nonce.secret().clone(),
                pkce_verifier: verifier.secret().clone(),
                level,
                next,
            },
        ))
    }

    /// Finishes a sign-in from the provider's answer, for a flow the caller has already
    /// matched to `state` and removed from storage (so the answer cannot be replayed).
    pub async fn finish(
        &self,
        flow: &PendingFlow,
        code: &str,
        iss: Option<&str>,
    ) -> Result<Identity, OidcError> {
        let p = self.find(&flow.provider)?;
        let m = self.metadata(p, false).await?;
        check_issuer(
            iss,
            m.issuer().as_str(),
            m.additional_metadata()
                .additional_metadata
                .authorization_response_iss_parameter_supported,
        )?;
        let client = self.client(p, &m)?;
        let token = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| OidcError::Unavailable(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(flow.pkce_verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(|e| OidcError::Token(error_chain(&e)))?;
        let id_token = token
            .id_token()
            .ok_or_else(|| OidcError::IdToken("the provider returned no ID token".into()))?;
        let nonce = Nonce::new(flow.nonce.clone());
        let claims = match verify(&client, id_token, &nonce) {
            // The provider may have rotated its keys since discovery: fetch them again once.
            Err(openidconnect::ClaimsVerificationError::SignatureVerification(_)) => {
                let m = self.metadata(p, true).await?;
                verify(&self.client(p, &m)?, id_token, &nonce)
            }
            other => other,
        }
        .map_err(|e| OidcError::IdToken(e.to_string()))?;
        // The access token must be the one the ID token was issued with.
        if let Some(expected) = claims.access_token_hash() {
            let verifier = client.id_token_verifier();
            let alg = id_token
                .signing_alg()
                .map_err(|e| OidcError::IdToken(e.to_string()))?;
            let key = id_token
                .signing_key(&verifier)
                .map_err(|e| OidcError::IdToken(e.to_string()))?;
            let actual = AccessTokenHash::from_token(token.access_token(), alg, key)
                .map_err(|e| OidcError::IdToken(e.to_string()))?;
            if actual != *expected {
                return Err(OidcError::IdToken("at_hash does not match".into()));
            }
        }
        let acr = claims.auth_context_ref().map(|a| a.as_str().to_string());
        let level = match &acr {
            Some(a) => *p
                .config
                .acr
                .get(a)
                .ok_or_else(|| OidcError::UnknownAcr(a.clone()))?,
            None => p.config.absent_acr_level,
        };
        if level == 0 {
            return Err(OidcError::LevelTooLow {
                got: 0,
                wanted: flow.level.max(1),
            });
        }
        if level < flow.level {
            return Err(OidcError::LevelTooLow {
                got: level,
                wanted: flow.level,
            });
        }
        let subject = claims.subject().clone();
        let mut display_name = standard_name(claims);
        let mut email = claims.email().map(|e| e.as_str().to_string());
        if client.user_info_url().is_some() {
            let info: CoreUserInfoClaims = client
                .user_info(token.access_token().clone(), Some(subject.clone()))
                .map_err(|e| OidcError::UserInfo(e.to_string()))?
                .request_async(&self.http)
                .await
                .map_err(|e| OidcError::UserInfo(error_chain(&e)))?;
            display_name = display_name.or_else(|| standard_name(&info));
            email = email.or_else(|| info.email().map(|e| e.as_str().to_string()));
        }
        Ok(Identity {
            subject: subject.as_str().to_string(),
            display_name: display_name.unwrap_or_else(|| subject.as_str().to_string()),
            email,
            acr,
            level: Level::new(i64::from(level)).unwrap_or(Level::LOW),
            id_token: id_token.to_string(),
        })
    }

    /// The provider's logout address for RP-initiated logout, if it offers one.
    pub async fn logout_url(&self, provider: &str, id_token: &str) -> Option<String> {
        let p = self.find(provider).ok()?;
        let m = self.metadata(p, false).await.ok()?;
        let end = m.additional_metadata().end_session_endpoint.clone()?;
        let hint: CoreIdToken = id_token.parse().ok()?;
        let back = PostLogoutRedirectUrl::new(format!("{}/", self.public_url)).ok()?;
        Some(
            LogoutRequest::from(end)
                .set_id_token_hint(&hint)
                .set_client_id(ClientId::new(p.config.client_id.clone()))
                .set_post_logout_redirect_uri(back)
                .http_get_url()
                .to_string(),
        )
    }
}

type Claims = openidconnect::IdTokenClaims<EmptyAdditionalClaims, CoreGenderClaim>;

/// A client built from discovery: authorization and (maybe) token and userinfo endpoints.
type Rp = CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

fn verify<'a>(
    client: &Rp,
    id_token: &'a CoreIdToken,
    nonce: &Nonce,
) -> Result<&'a Claims, openidconnect::ClaimsVerificationError> {
    // The crate's verifier checks the signature against the provider's keys (never
    // `alg: none`), the issuer, the audience (and `azp`), expiry and the nonce.
    id_token.claims(&client.id_token_verifier(), nonce)
}

/// "Given Family", or `name`, from standard claims.
fn standard_name<T: StandardNames>(c: &T) -> Option<String> {
    c.names()
}

trait StandardNames {
    fn names(&self) -> Option<String>;
}

macro_rules! standard_names {
    ($t:ty) => {
        impl StandardNames for $t {
            fn names(&self) -> Option<String> {
                let given = self
                    .given_name()
                    .and_then(|n| n.get(None))
                    .map(|n| n.as_str());
                let family = self
                    .family_name()
                    .and_then(|n| n.get(None))
                    .map(|n| n.as_str());
                match (given, family) {
                    (Some(g), Some(f)) => Some(format!("{g} {f}")),
                    _ => self
                        .name()
                        .and_then(|n| n.get(None))
                        .map(|n| n.as_str().to_string())
                        .or_else(|| given.or(family).map(str::to_string)),
                }
            }
        }
    };
}
standard_names!(Claims);
standard_names!(CoreUserInfoClaims);

/// An error and its causes in one line (reqwest hides the useful part in `source`).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_response_issuer_follows_rfc_9207() {
        let issuer = "https://id.example.org";
        for promised in [false, true] {
            assert!(check_issuer(Some(issuer), issuer, promised).is_ok());
            assert!(matches!(
                check_issuer(Some("https://evil.example"), issuer, promised),
                Err(OidcError::IssuerMismatch(i)) if i == "https://evil.example"
            ));
            // A prefix or a trailing slash is another issuer (compared exactly).
            assert!(check_issuer(Some("https://id.example.org/"), issuer, promised).is_err());
        }
        assert!(check_issuer(None, issuer, false).is_ok());
        assert!(matches!(
            check_issuer(None, issuer, true),
            Err(OidcError::IssuerMissing)
        ));
    }

    #[test]
    fn discovery_reads_the_promise_to_name_the_issuer() {
        let doc = |extra: &str| {
            format!(
                r#"{{"issuer":"https://id.example.org","authorization_endpoint":"https://id.example.org/auth",
                "jwks_uri":"https://id.example.org/jwks","response_types_supported":["code"],
                "subject_types_supported":["public"],"id_token_signing_alg_values_supported":["RS256"]{extra}}}"#
            )
        };
        let read = |json: &str| -> bool {
            let m: Metadata = serde_json::from_str(json).unwrap();
            m.additional_metadata()
                .additional_metadata
                .authorization_response_iss_parameter_supported
        };
        assert!(read(&doc(
            r#","authorization_response_iss_parameter_supported":true"#
        )));
        assert!(!read(&doc(
            r#","authorization_response_iss_parameter_supported":false"#
        )));
        assert!(!read(&doc("")));
    }
}

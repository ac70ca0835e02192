//! Entra ID's token rules: authorization codes, PKCE, refresh tokens, device codes and the
//! access tokens Graph accepts.
//!
//! The rules follow the Microsoft identity platform pages "OAuth 2.0 authorization code
//! flow", "Refresh tokens", "OAuth 2.0 device authorization grant" and "Redirect URI (reply
//! URL) best practices and limitations". Every operation takes the current [`Instant`]; the
//! HTTP layer turns an [`EntraError`] into Entra's JSON error body.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use base64::Engine;
use clock::Instant;
use sha2::{Digest, Sha256};
use url::Url;

use crate::config::TwinConfig;
use crate::ids;
use crate::scopes::{ConsentSet, ScopeRequest};

/// How long a refresh token lives without use (Entra: 90 days).
pub const REFRESH_TOKEN_INACTIVITY: Duration = Duration::from_secs(90 * 24 * 60 * 60);

/// An OAuth error as Entra returns it: the OAuth `error`, an AADSTS number and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntraError {
    /// HTTP status of the token endpoint's response.
    pub status: u16,
    /// The OAuth error, e.g. `invalid_grant`.
    pub error: &'static str,
    /// The AADSTS number, e.g. 70008.
    pub code: u32,
    /// The text after `AADSTSnnnnn: `.
    pub message: String,
}

impl EntraError {
    fn new(status: u16, error: &'static str, code: u32, message: impl Into<String>) -> Self {
        Self {
            status,
            error,
            code,
            message: message.into(),
        }
    }

    /// `AADSTSnnnnn: message`, the `error_description` Entra sends.
    pub fn description(&self) -> String {
        format!("AADSTS{}: {}", self.code, self.message)
    }

    fn invalid_grant(code: u32, message: impl Into<String>) -> Self {
        Self::new(400, "invalid_grant", code, message)
    }

    /// Builds the error for a missing required parameter (AADSTS900144).
    pub fn missing(parameter: &str) -> Self {
        Self::new(
            400,
            "invalid_request",
            900_144,
            format!("The request body must contain the following parameter: '{parameter}'."),
        )
    }
}

/// The PKCE transformation of an authorization request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PkceMethod {
    /// `code_challenge = BASE64URL(SHA256(code_verifier))`.
    S256,
    /// `code_challenge = code_verifier`; also assumed when the method is left out.
    Plain,
}

impl PkceMethod {
    /// Reads `code_challenge_method`; `None` when the value is not a PKCE method.
    pub fn parse(text: Option<&str>) -> Option<Self> {
        match text {
            None | Some("plain") => Some(Self::Plain),
            Some("S256") => Some(Self::S256),
            Some(_) => None,
        }
    }

    /// Returns the method's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::S256 => "S256",
            Self::Plain => "plain",
        }
    }

    fn verifies(self, challenge: &str, verifier: &str) -> bool {
        match self {
            Self::Plain => challenge == verifier,
            Self::S256 => {
                let digest = Sha256::digest(verifier.as_bytes());
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest) == challenge
            }
        }
    }
}

/// Returns whether `requested` matches `registered` as Entra compares loopback URIs. Scheme,
/// host and path must be equal, and only the port of an `http` loopback URI is ignored.
pub fn redirect_uri_matches(registered: &str, requested: &str) -> bool {
    let (Ok(registered), Ok(requested)) = (Url::parse(registered), Url::parse(requested)) else {
        return false;
    };
    let loopback = matches!(registered.host_str(), Some("localhost" | "127.0.0.1"));
    let same_port = loopback && registered.scheme() == "http"
        || registered.port_or_known_default() == requested.port_or_known_default();
    registered.scheme() == requested.scheme()
        && registered.host_str() == requested.host_str()
        && registered.path() == requested.path()
        && registered.query() == requested.query()
        && requested.fragment().is_none()
        && same_port
}

/// One authorization request the twin granted, kept so tests can check what a client sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizeRecord {
    /// `client_id` of the request.
    pub client_id: String,
    /// `redirect_uri` of the request.
    pub redirect_uri: String,
    /// The raw `scope` value.
    pub scope: String,
    /// `state`, when the client sent one.
    pub state: Option<String>,
    /// The PKCE method, `None` when the request carried no `code_challenge`.
    pub code_challenge_method: Option<PkceMethod>,
}

#[derive(Debug, Clone)]
struct AuthorizationCode {
    redirect_uri: String,
    scopes: ScopeRequest,
    challenge: Option<(String, PkceMethod)>,
    expires_at: Instant,
    redeemed: bool,
}

#[derive(Debug, Clone)]
struct AccessToken {
    actor: String,
    client_id: String,
    scopes: BTreeSet<String>,
    expires_at: Instant,
}

#[derive(Debug, Clone)]
struct RefreshToken {
    actor: String,
    openid: Vec<String>,
    last_used: Instant,
    redeemed: bool,
    revoked: bool,
}

/// State of a device code sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DeviceState {
    /// The user has not finished signing in.
    Pending,
    /// The user signed in; the next poll gets the tokens.
    Approved,
    /// The user declined.
    Declined,
    /// The tokens were handed out.
    Redeemed,
}

#[derive(Debug, Clone)]
struct DeviceSignIn {
    user_code: String,
    scopes: ScopeRequest,
    expires_at: Instant,
    last_poll: Option<Instant>,
    state: DeviceState,
}

/// The response of the device authorization endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceAuthorization {
    /// The code the client polls with.
    pub device_code: String,
    /// The code the user types in.
    pub user_code: String,
    /// Seconds until the codes expire.
    pub expires_in: u64,
    /// Seconds the client must wait between polls.
    pub interval: u64,
}

/// A successful token response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedTokens {
    /// The bearer token for Graph.
    pub access_token: String,
    /// A refresh token, only when `offline_access` was granted.
    pub refresh_token: Option<String>,
    /// The granted scopes, space-separated.
    pub scope: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}

/// The caller and the permissions behind a valid access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenGrant {
    /// The actor the token was issued to (`app` unless a test asked for another).
    pub actor: String,
    /// The client id the token was issued to.
    pub client_id: String,
    /// Granted Graph permissions in lower case.
    pub scopes: BTreeSet<String>,
}

/// The reason Graph rejects a bearer token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRejection {
    /// The request carried no token.
    Missing,
    /// The twin never issued this token.
    Unknown,
    /// The token is past its lifetime.
    Expired,
}

/// Everything Entra remembers: consent, codes and tokens.
///
/// The twin serves one app registration and the token endpoint rejects every other client id
/// first, so codes and tokens need no check of the client they were issued to.
#[derive(Debug)]
pub struct TokenStore {
    consent: ConsentSet,
    codes: HashMap<String, AuthorizationCode>,
    access_tokens: HashMap<String, AccessToken>,
    refresh_tokens: HashMap<String, RefreshToken>,
    devices: HashMap<String, DeviceSignIn>,
    authorizations: Vec<AuthorizeRecord>,
}

impl TokenStore {
    /// Creates a store with the registration's consent and no tokens.
    pub fn new(config: &TwinConfig) -> Self {
        Self {
            consent: ConsentSet::new(&config.registration.consented_scopes),
            codes: HashMap::new(),
            access_tokens: HashMap::new(),
            refresh_tokens: HashMap::new(),
            devices: HashMap::new(),
            authorizations: Vec::new(),
        }
    }

    /// Records the user's consent to the Graph permissions of `scopes`.
    pub fn consent_to(&mut self, scopes: &ScopeRequest) {
        for name in &scopes.graph {
            self.consent.add(name);
        }
    }

    /// Issues an authorization code for a validated and consented request.
    pub fn issue_code(
        &mut self,
        config: &TwinConfig,
        now: Instant,
        record: AuthorizeRecord,
        scopes: ScopeRequest,
        code_challenge: Option<String>,
    ) -> String {
        let code = ids::opaque(96);
        let challenge = code_challenge.zip(record.code_challenge_method);
        self.codes.insert(
            code.clone(),
            AuthorizationCode {
                redirect_uri: record.redirect_uri.clone(),
                scopes,
                challenge,
                expires_at: now + config.authorization_code_lifetime,
                redeemed: false,
            },
        );
        self.authorizations.push(record);
        code
    }

    /// Every authorization code, device code, access token and refresh token issued so far.
    pub fn issued_secrets(&self) -> Vec<String> {
        let codes = self.codes.keys().chain(self.devices.keys());
        let tokens = self.access_tokens.keys().chain(self.refresh_tokens.keys());
        codes.chain(tokens).cloned().collect()
    }

    /// Authorization requests that got a code, oldest first.
    pub fn authorizations(&self) -> &[AuthorizeRecord] {
        &self.authorizations
    }

    /// Redeems an authorization code (`grant_type=authorization_code`).
    pub fn redeem_code(
        &mut self,
        config: &TwinConfig,
        now: Instant,
        code: &str,
        redirect_uri: &str,
        code_verifier: Option<&str>,
    ) -> Result<IssuedTokens, EntraError> {
        let Some(entry) = self.codes.get_mut(code) else {
            return Err(EntraError::invalid_grant(
                9_002_313,
                "Invalid request. Request is malformed or invalid. The provided authorization code is not valid.",
            ));
        };
        if entry.redeemed {
            return Err(EntraError::invalid_grant(
                54_005,
                "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.",
            ));
        }
        if now >= entry.expires_at {
            return Err(EntraError::invalid_grant(
                70_008,
                "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.",
            ));
        }
        if entry.redirect_uri != redirect_uri {
            return Err(EntraError::invalid_grant(
                500_112,
                format!(
                    "The reply address '{redirect_uri}' does not match the reply address '{}' provided when requesting Authorization code.",
                    entry.redirect_uri
                ),
            ));
        }
        if let Some((challenge, method)) = &entry.challenge {
            let verified =
                code_verifier.is_some_and(|verifier| method.verifies(challenge, verifier));
            if !verified {
                return Err(EntraError::invalid_grant(
                    501_481,
                    "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
                ));
            }
        }

        entry.redeemed = true;
        let scopes = entry.scopes.clone();
        let length = config.refresh_token_length;
        Ok(self.issue(config, now, "app", &scopes, length))
    }

    /// Redeems a refresh token (`grant_type=refresh_token`).
    pub fn redeem_refresh_token(
        &mut self,
        config: &TwinConfig,
        now: Instant,
        client_id: &str,
        refresh_token: &str,
        scope: Option<&str>,
    ) -> Result<IssuedTokens, EntraError> {
        let Some(entry) = self.refresh_tokens.get(refresh_token) else {
            return Err(EntraError::invalid_grant(
                9_002_313,
                "Invalid request. Request is malformed or invalid. The provided refresh token is not valid.",
            ));
        };
        if entry.revoked {
            return Err(EntraError::invalid_grant(
                50_173,
                "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password.",
            ));
        }
        if now - entry.last_used >= REFRESH_TOKEN_INACTIVITY {
            return Err(EntraError::invalid_grant(
                700_082,
                "The refresh token has expired due to inactivity. The token was issued and was inactive for 90.00:00:00.",
            ));
        }
        if entry.redeemed && config.strict_refresh_rotation {
            return Err(EntraError::invalid_grant(
                70_008,
                "The provided refresh token was redeemed already; this twin runs with strict refresh token rotation and accepts only the newest one.",
            ));
        }

        let mut scopes = match scope {
            Some(text) => ScopeRequest::parse(text).map_err(|_| invalid_scope(text))?,
            // A request without `scope` requests no new permission. `issue` grants every
            // consented permission in any case, as Entra does.
            None => ScopeRequest::default(),
        };
        if let Some(missing) = scopes
            .graph
            .iter()
            .find(|name| !self.consent.contains(name))
        {
            return Err(EntraError::invalid_grant(
                65_001,
                format!(
                    "The user or administrator has not consented to use the application with ID '{client_id}'. Send an interactive authorization request for this user and resource. Missing permission: {missing}."
                ),
            ));
        }
        scopes.offline_access = true;
        if scopes.openid.is_empty() {
            scopes.openid = entry.openid.clone();
        }

        let actor = entry.actor.clone();
        if let Some(entry) = self.refresh_tokens.get_mut(refresh_token) {
            entry.redeemed = true;
            entry.last_used = now;
        }
        let length = config.rotated_refresh_token_length;
        Ok(self.issue(config, now, &actor, &scopes, length))
    }

    /// Starts a device code sign-in.
    pub fn start_device_sign_in(
        &mut self,
        config: &TwinConfig,
        now: Instant,
        scopes: ScopeRequest,
    ) -> DeviceAuthorization {
        let device_code = ids::opaque(120);
        let user_code = ids::user_code();
        self.devices.insert(
            device_code.clone(),
            DeviceSignIn {
                user_code: user_code.clone(),
                scopes,
                expires_at: now + config.device_code_lifetime,
                last_poll: None,
                state: DeviceState::Pending,
            },
        );
        DeviceAuthorization {
            device_code,
            user_code,
            expires_in: config.device_code_lifetime.as_secs(),
            interval: config.device_code_interval.as_secs(),
        }
    }

    /// Ends the user's part of a device sign-in; `false` when no pending sign-in has this
    /// user code.
    pub fn finish_device_sign_in(&mut self, now: Instant, user_code: &str, approve: bool) -> bool {
        let requested_code = user_code.trim().to_ascii_uppercase();
        let Some(sign_in) = self.devices.values_mut().find(|sign_in| {
            sign_in.user_code == requested_code
                && sign_in.state == DeviceState::Pending
                && now < sign_in.expires_at
        }) else {
            return false;
        };
        sign_in.state = if approve {
            DeviceState::Approved
        } else {
            DeviceState::Declined
        };
        if approve {
            let scopes = sign_in.scopes.clone();
            self.consent_to(&scopes);
        }
        true
    }

    /// Handles a device code poll (`grant_type=urn:ietf:params:oauth:grant-type:device_code`).
    pub fn poll_device_code(
        &mut self,
        config: &TwinConfig,
        now: Instant,
        device_code: &str,
    ) -> Result<IssuedTokens, EntraError> {
        let bad_code = || {
            EntraError::new(
                400,
                "bad_verification_code",
                70_000,
                "The provided value for the 'device_code' parameter is not valid.",
            )
        };
        let Some(sign_in) = self.devices.get_mut(device_code) else {
            return Err(bad_code());
        };
        if now >= sign_in.expires_at && sign_in.state != DeviceState::Redeemed {
            return Err(EntraError::new(
                400,
                "expired_token",
                70_019,
                "Verification code expired.",
            ));
        }
        let polled_too_soon = sign_in
            .last_poll
            .is_some_and(|last| now - last < config.device_code_interval);
        sign_in.last_poll = Some(now);

        match sign_in.state {
            DeviceState::Redeemed => Err(bad_code()),
            DeviceState::Declined => Err(EntraError::new(
                400,
                "authorization_declined",
                70_000,
                "The end user denied the authorization request.",
            )),
            _ if polled_too_soon => Err(EntraError::new(
                400,
                "slow_down",
                70_016,
                "OAuth 2.0 device flow error. Polled faster than the interval; wait longer between requests.",
            )),
            DeviceState::Pending => Err(EntraError::new(
                400,
                "authorization_pending",
                70_016,
                "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
            )),
            DeviceState::Approved => {
                sign_in.state = DeviceState::Redeemed;
                let scopes = sign_in.scopes.clone();
                let length = config.refresh_token_length;
                Ok(self.issue(config, now, "app", &scopes, length))
            }
        }
    }

    /// Issues an access token for `actor` with every consented permission.
    pub fn issue_access_token_for(
        &mut self,
        config: &TwinConfig,
        now: Instant,
        actor: &str,
    ) -> String {
        // No `offline_access`, so no refresh token; `issue` grants every consented permission.
        self.issue(config, now, actor, &ScopeRequest::default(), 0)
            .access_token
    }

    fn issue(
        &mut self,
        config: &TwinConfig,
        now: Instant,
        actor: &str,
        scopes: &ScopeRequest,
        refresh_token_length: usize,
    ) -> IssuedTokens {
        // Entra returns every permission the user consented to for the resource, not only the
        // requested ones.
        let graph: Vec<String> = self.consent.names().cloned().collect();
        let scope = graph
            .iter()
            .chain(scopes.openid.iter())
            .cloned()
            .collect::<Vec<_>>()
            .join(" ");

        let access_token = ids::opaque(1_200);
        self.access_tokens.insert(
            access_token.clone(),
            AccessToken {
                actor: actor.to_string(),
                client_id: config.registration.client_id.clone(),
                scopes: self.consent.lower_case(),
                expires_at: now + config.access_token_lifetime,
            },
        );

        let refresh_token = (scopes.offline_access && refresh_token_length > 0).then(|| {
            let token = ids::opaque(refresh_token_length);
            self.refresh_tokens.insert(
                token.clone(),
                RefreshToken {
                    actor: actor.to_string(),
                    openid: scopes.openid.clone(),
                    last_used: now,
                    redeemed: false,
                    revoked: false,
                },
            );
            token
        });

        IssuedTokens {
            access_token,
            refresh_token,
            scope,
            expires_in: config.access_token_lifetime.as_secs(),
        }
    }

    /// Checks a bearer token for a Graph request.
    pub fn authenticate(
        &self,
        now: Instant,
        token: Option<&str>,
    ) -> Result<TokenGrant, TokenRejection> {
        let token = token.ok_or(TokenRejection::Missing)?;
        let entry = self
            .access_tokens
            .get(token)
            .ok_or(TokenRejection::Unknown)?;
        if now >= entry.expires_at {
            return Err(TokenRejection::Expired);
        }
        Ok(TokenGrant {
            actor: entry.actor.clone(),
            client_id: entry.client_id.clone(),
            scopes: entry.scopes.clone(),
        })
    }

    /// Returns the actor a token (access or refresh) belongs to, for the request log.
    pub fn actor_of(&self, token: &str) -> Option<&str> {
        self.access_tokens
            .get(token)
            .map(|entry| entry.actor.as_str())
            .or_else(|| {
                self.refresh_tokens
                    .get(token)
                    .map(|entry| entry.actor.as_str())
            })
    }

    /// Revokes every refresh token, as a password reset or an admin's revocation does.
    pub fn revoke_refresh_tokens(&mut self) {
        for entry in self.refresh_tokens.values_mut() {
            entry.revoked = true;
        }
    }

    /// Ends the lifetime of every access token issued so far.
    pub fn expire_access_tokens(&mut self, now: Instant) {
        for entry in self.access_tokens.values_mut() {
            entry.expires_at = entry.expires_at.min(now);
        }
    }
}

/// AADSTS70011 for a `scope` value Entra cannot read.
pub fn invalid_scope(scope: &str) -> EntraError {
    EntraError::new(
        400,
        "invalid_scope",
        70_011,
        format!("The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid: '{scope}'."),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_match_as_entra_compares_them() {
        // (registered, requested, matches)
        let cases = [
            ("http://localhost", "http://localhost:4321/", true),
            ("http://127.0.0.1/cb", "http://127.0.0.1:4321/cb", true),
            ("http://localhost", "http://127.0.0.1:4321/", false),
            ("https://localhost", "https://localhost:4321/", false),
            ("https://app.example/cb", "https://app.example/cb", true),
            ("https://app.example/cb", "https://app.example:443/cb", true),
            (
                "https://app.example/cb",
                "https://app.example:8443/cb",
                false,
            ),
            ("http://app.example/cb", "http://app.example:8080/cb", false),
            ("https://app.example/cb", "http://app.example/cb", false),
            (
                "https://app.example/cb",
                "https://app.example/cb?x=1",
                false,
            ),
            ("https://app.example/cb", "https://app.example/cb#x", false),
            ("https://app.example/cb", "https://app.example/other", false),
            ("not a uri", "not a uri", false),
        ];
        for (registered, requested, expected) in cases {
            assert_eq!(
                redirect_uri_matches(registered, requested),
                expected,
                "{registered} vs {requested}"
            );
        }
    }

    #[test]
    fn pkce_methods_parse_and_verify() {
        assert_eq!(PkceMethod::parse(None), Some(PkceMethod::Plain));
        assert_eq!(PkceMethod::parse(Some("plain")), Some(PkceMethod::Plain));
        assert_eq!(PkceMethod::parse(Some("S256")), Some(PkceMethod::S256));
        assert_eq!(PkceMethod::parse(Some("s256")), None);
        assert_eq!(PkceMethod::S256.as_str(), "S256");
        assert_eq!(PkceMethod::Plain.as_str(), "plain");
        // The example pair of RFC 7636, appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(PkceMethod::S256.verifies(challenge, verifier));
        assert!(!PkceMethod::Plain.verifies(challenge, verifier));
        assert!(PkceMethod::Plain.verifies(verifier, verifier));
    }
}

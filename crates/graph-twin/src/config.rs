//! The twin's configuration: the app registration, the signed-in user and the service's
//! limits.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The Entra ID app registration the twin serves.
#[derive(Debug, Clone)]
pub struct AppRegistration {
    /// Application (client) id.
    pub client_id: String,
    /// Directory (tenant) id the app is registered in.
    pub tenant_id: String,
    /// Whether the app accepts accounts of any organization; a single-tenant app cannot use
    /// the `organizations` or `common` authority.
    pub multi_tenant: bool,
    /// Registered redirect URIs, e.g. `http://localhost`.
    pub redirect_uris: Vec<String>,
    /// The portal's "Allow public client flows" switch, which the device code flow needs.
    pub allow_public_client_flows: bool,
    /// Delegated Graph permissions the user or an admin has already consented to, e.g.
    /// `Presence.ReadWrite`.
    pub consented_scopes: Vec<String>,
}

impl Default for AppRegistration {
    fn default() -> Self {
        Self {
            client_id: "4a1c2b7e-5d3f-4e8a-9b6c-0f1e2d3c4b5a".into(),
            tenant_id: "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a".into(),
            multi_tenant: true,
            redirect_uris: vec!["http://localhost".into()],
            allow_public_client_flows: true,
            consented_scopes: vec!["User.Read".into()],
        }
    }
}

/// The one user who signs in to the twin.
#[derive(Debug, Clone)]
pub struct TwinUser {
    /// Directory object id (a GUID).
    pub id: String,
    /// Sign-in name, e.g. `adele@contoso.example`.
    pub user_principal_name: String,
    /// Name shown in Teams.
    pub display_name: String,
    /// Primary e-mail address.
    pub mail: String,
}

impl Default for TwinUser {
    fn default() -> Self {
        Self {
            id: "6e2f4c1a-8b3d-4f5e-9a7c-1d2e3f4a5b6c".into(),
            user_principal_name: "adele.vance@contoso.example".into(),
            display_name: "Adele Vance".into(),
            mail: "adele.vance@contoso.example".into(),
        }
    }
}

/// The outcome when the user reaches the sign-in page. In the admin API's JSON:
/// `"autoConsent"`, `"accessDenied"` or `{"error": 53003}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SignInBehaviour {
    /// The user is signed in already and consents to what the app requests; the twin redirects
    /// straight back with a code.
    AutoConsent,
    /// Sign-in ends with this AADSTS error number (e.g. 50076, 53003, 65001) redirected back
    /// to the app as Entra does.
    Error(u32),
    /// The user cancels or declines consent (`error=access_denied`).
    AccessDenied,
}

/// Everything a twin needs to start.
#[derive(Debug, Clone)]
pub struct TwinConfig {
    /// The app registration.
    pub registration: AppRegistration,
    /// The signed-in user.
    pub user: TwinUser,
    /// Lifetime of issued access tokens (`expires_in`).
    pub access_token_lifetime: Duration,
    /// Lifetime of an authorization code.
    pub authorization_code_lifetime: Duration,
    /// Lifetime of a device code (`expires_in` of the device authorization response).
    pub device_code_lifetime: Duration,
    /// Minimum polling interval of the device code flow (`interval`).
    pub device_code_interval: Duration,
    /// Graph's request budget per app and tenant: (requests, window). `None` turns it off.
    pub throttle: Option<(u32, Duration)>,
    /// The outcome of the sign-in page.
    pub sign_in: SignInBehaviour,
    /// When true a refresh token stops working once it has been redeemed. Entra keeps the old
    /// one valid, so this is a stricter mode for testing that a client stores the new token.
    pub strict_refresh_rotation: bool,
    /// Length of the first refresh token of a sign-in, in characters.
    pub refresh_token_length: usize,
    /// Length of the refresh tokens issued on redemption, in characters.
    pub rotated_refresh_token_length: usize,
    /// The Teams client session at start, as (availability, activity); `None` = Teams signed
    /// out.
    pub teams: Option<(String, String)>,
    /// Demo mode: the device code sign-in is approved on its own after `demo_approval_delay`.
    pub demo: bool,
    /// How long the demo waits before approving a device code sign-in.
    pub demo_approval_delay: Duration,
    /// Port to listen on; 0 picks a free one.
    pub port: u16,
    /// The certificate for serving HTTPS; `None` serves plain HTTP.
    pub tls: Option<TwinTls>,
}

/// The server certificate of a twin that serves HTTPS.
#[derive(Clone)]
pub struct TwinTls {
    /// The certificate chain in DER, leaf first. The leaf must name `127.0.0.1`, the base URL's
    /// host, and any other host name a test points the client at.
    pub cert_chain: Vec<Vec<u8>>,
    /// The leaf's private key as PKCS#8 DER.
    pub private_key_pkcs8: Vec<u8>,
}

impl std::fmt::Debug for TwinTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwinTls")
            .field("cert_chain_len", &self.cert_chain.len())
            .finish_non_exhaustive()
    }
}

impl Default for TwinConfig {
    fn default() -> Self {
        Self {
            registration: AppRegistration::default(),
            user: TwinUser::default(),
            access_token_lifetime: Duration::from_secs(60 * 60),
            authorization_code_lifetime: Duration::from_secs(10 * 60),
            device_code_lifetime: Duration::from_secs(15 * 60),
            device_code_interval: Duration::from_secs(5),
            throttle: Some((1_500, Duration::from_secs(30))),
            sign_in: SignInBehaviour::AutoConsent,
            strict_refresh_rotation: false,
            refresh_token_length: 1_900,
            rotated_refresh_token_length: 2_700,
            teams: Some(("Available".into(), "Available".into())),
            demo: false,
            demo_approval_delay: Duration::from_secs(3),
            port: 0,
            tls: None,
        }
    }
}

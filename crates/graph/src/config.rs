//! Where the app signs in and which Graph it talks to, plus the fixed timeouts of the Teams side.

use std::time::Duration;

use url::Url;

/// Time allowed for one `GET /me/presence` exchange.
pub const POLL_TIMEOUT: Duration = Duration::from_secs(5);
/// Time allowed for one Graph write or `GET /me`.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Time allowed for one request to the Entra ID token or device-code endpoint.
pub const TOKEN_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time the browser sign-in waits for the redirect to the loopback listener.
pub const DEFAULT_CALLBACK_TIMEOUT: Duration = Duration::from_secs(5 * 60);
/// An access token is refreshed this long before its stated expiry, so that a request does
/// not leave with a token that expires on the way.
pub const ACCESS_TOKEN_MARGIN: Duration = Duration::from_secs(60);

/// Endpoints and identity of the app registration.
///
/// The defaults are Microsoft's public cloud; single-tenant registrations, national clouds and
/// the local Graph twin change only these values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphConfig {
    /// Entra ID authority host, with a trailing slash: `https://login.microsoftonline.com/`.
    pub authority_host: Url,
    /// Tenant segment: `organizations`, a tenant id or a verified domain.
    pub tenant: String,
    /// Application (client) id of the public client registration.
    pub client_id: String,
    /// Graph base with version and trailing slash: `https://graph.microsoft.com/v1.0/`.
    pub graph_base: Url,
    /// Delegated scopes requested at sign-in and on refresh.
    pub scopes: Vec<String>,
}

impl GraphConfig {
    /// A configuration for Microsoft's public cloud with the `organizations` tenant.
    pub fn public_cloud(client_id: impl Into<String>) -> Self {
        Self {
            authority_host: Url::parse("https://login.microsoftonline.com/")
                .expect("constant URL parses"),
            tenant: "organizations".to_owned(),
            client_id: client_id.into(),
            graph_base: Url::parse("https://graph.microsoft.com/v1.0/")
                .expect("constant URL parses"),
            scopes: default_scopes(),
        }
    }

    /// `{authority}/{tenant}/oauth2/v2.0/authorize`.
    pub fn authorize_url(&self) -> Url {
        self.tenant_url("oauth2/v2.0/authorize")
    }

    /// `{authority}/{tenant}/oauth2/v2.0/token`.
    pub fn token_url(&self) -> Url {
        self.tenant_url("oauth2/v2.0/token")
    }

    /// `{authority}/{tenant}/oauth2/v2.0/devicecode`.
    pub fn device_code_url(&self) -> Url {
        self.tenant_url("oauth2/v2.0/devicecode")
    }

    /// The page where a tenant administrator grants consent for the whole organisation:
    /// `{authority}/{tenant}/adminconsent?client_id=…`.
    pub fn admin_consent_url(&self) -> Url {
        let mut url = self.tenant_url("adminconsent");
        url.query_pairs_mut()
            .append_pair("client_id", &self.client_id);
        url
    }

    /// A Graph URL below the configured base, e.g. `me/presence`.
    pub fn graph_url(&self, path: &str) -> Url {
        with_trailing_slash(&self.graph_base)
            .join(path)
            .unwrap_or_else(|_| self.graph_base.clone())
    }

    /// The name of this sign-in in the keyring: client id and tenant, so that switching
    /// either starts from a clean sign-in.
    pub fn keyring_account(&self) -> String {
        keyring_account(&self.client_id, &self.tenant)
    }

    fn tenant_url(&self, tail: &str) -> Url {
        let base = with_trailing_slash(&self.authority_host);
        // A tenant is a GUID or a domain name, so it joins as one path segment.
        base.join(&format!("{}/{tail}", self.tenant.trim_matches('/')))
            .unwrap_or(base)
    }
}

/// `Presence.ReadWrite offline_access User.Read`.
pub fn default_scopes() -> Vec<String> {
    ["Presence.ReadWrite", "offline_access", "User.Read"]
        .map(str::to_owned)
        .to_vec()
}

/// Returns the keyring name of the sign-in of `client_id` in `tenant`, as
/// [`GraphConfig::keyring_account`] uses it; the uninstaller needs it without a full configuration.
pub fn keyring_account(client_id: &str, tenant: &str) -> String {
    format!("{client_id}@{tenant}")
}

fn with_trailing_slash(url: &Url) -> Url {
    let mut url = url.clone();
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(config: &GraphConfig, got: Url, expected: &str) {
        assert_eq!(got.as_str(), expected, "config {config:?}");
    }

    #[test]
    fn endpoint_urls_follow_authority_and_tenant() {
        let mut config = GraphConfig::public_cloud("client-1");
        check(
            &config,
            config.authorize_url(),
            "https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize",
        );
        check(
            &config,
            config.token_url(),
            "https://login.microsoftonline.com/organizations/oauth2/v2.0/token",
        );
        check(
            &config,
            config.admin_consent_url(),
            "https://login.microsoftonline.com/organizations/adminconsent?client_id=client-1",
        );
        check(
            &config,
            config.graph_url("me/presence"),
            "https://graph.microsoft.com/v1.0/me/presence",
        );

        // Hosts without a trailing slash, as a hand-written config file may have them.
        config.authority_host = Url::parse("http://127.0.0.1:4000/entra").unwrap();
        config.graph_base = Url::parse("http://127.0.0.1:4000/graph/v1.0").unwrap();
        config.tenant = "contoso.onmicrosoft.com".to_owned();
        check(
            &config,
            config.device_code_url(),
            "http://127.0.0.1:4000/entra/contoso.onmicrosoft.com/oauth2/v2.0/devicecode",
        );
        check(
            &config,
            config.graph_url("me"),
            "http://127.0.0.1:4000/graph/v1.0/me",
        );
    }

    #[test]
    fn keyring_account_names_client_and_tenant() {
        let config = GraphConfig::public_cloud("client-1");
        assert_eq!(config.keyring_account(), "client-1@organizations");
    }
}

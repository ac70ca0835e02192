//! Entra ID error responses: the AADSTS code and what the user or an administrator can do.
//!
//! Entra ID puts its numeric code into `error_description` ("AADSTS65001: The user or
//! administrator has not consented …") and also into an `error_codes` array that standard OAuth
//! libraries drop, so the code is read from the description. The description itself is never
//! logged: it is free text from the server.

use std::fmt;

use url::Url;

/// What kind of Entra ID failure a code stands for, as far as the user's next step differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntraErrorKind {
    /// AADSTS65001 or 90094: consent is missing or user consent is blocked.
    ConsentRequired {
        /// The organisation-wide consent page an administrator can open.
        admin_consent_url: Url,
    },
    /// AADSTS50076, 53000 or 53003: multi-factor authentication or a Conditional Access policy.
    ConditionalAccess,
    /// AADSTS50194: a single-tenant registration used with a multi-tenant authority.
    TenantRequired,
    /// AADSTS50011: the redirect URI is not registered.
    WrongRedirect,
    /// AADSTS7000112: the application is disabled in the tenant.
    AppDisabled,
    /// AADSTS7000218: the registration does not allow public client flows, which "Sign in with
    /// a code" needs.
    PublicClientFlowsDisabled,
    /// `invalid_grant` without one of the codes above: the sign-in is no longer valid.
    SignInExpired,
    /// The user declined the sign-in (`access_denied` without a known code).
    Declined,
    /// Anything else.
    Other,
}

impl EntraErrorKind {
    /// Returns a stable name of the kind, e.g. `consent-required`, for the window to branch on.
    pub fn name(&self) -> &'static str {
        match self {
            EntraErrorKind::ConsentRequired { .. } => "consent-required",
            EntraErrorKind::ConditionalAccess => "conditional-access",
            EntraErrorKind::TenantRequired => "tenant-required",
            EntraErrorKind::WrongRedirect => "wrong-redirect",
            EntraErrorKind::AppDisabled => "app-disabled",
            EntraErrorKind::PublicClientFlowsDisabled => "public-client-flows-disabled",
            EntraErrorKind::SignInExpired => "sign-in-expired",
            EntraErrorKind::Declined => "declined",
            EntraErrorKind::Other => "entra-error",
        }
    }
}

/// An error response from Entra ID (token endpoint, device-code endpoint or authorize redirect).
#[derive(Clone, PartialEq, Eq)]
pub struct EntraError {
    /// The OAuth error, e.g. `invalid_grant` or `access_denied`.
    pub error: String,
    /// The AADSTS number, when the description carried one.
    pub code: Option<u32>,
    /// The classification with its action.
    pub kind: EntraErrorKind,
}

impl EntraError {
    /// Classifies an OAuth error answer; `admin_consent_url` is offered for consent errors.
    pub fn new(error: &str, description: Option<&str>, admin_consent_url: &Url) -> Self {
        let code = description.and_then(aadsts_code);
        let kind = match code {
            Some(65001 | 90094) => EntraErrorKind::ConsentRequired {
                admin_consent_url: admin_consent_url.clone(),
            },
            Some(50076 | 53000 | 53003) => EntraErrorKind::ConditionalAccess,
            Some(50194) => EntraErrorKind::TenantRequired,
            Some(50011) => EntraErrorKind::WrongRedirect,
            Some(7000112) => EntraErrorKind::AppDisabled,
            Some(7000218) => EntraErrorKind::PublicClientFlowsDisabled,
            _ if error == "invalid_grant" || error == "interaction_required" => {
                EntraErrorKind::SignInExpired
            }
            _ if error == "access_denied" || error == "authorization_declined" => {
                EntraErrorKind::Declined
            }
            _ => EntraErrorKind::Other,
        };
        Self {
            error: error.to_owned(),
            code,
            kind,
        }
    }

    /// The code as Entra ID prints it, e.g. `AADSTS65001`, or the OAuth error when none came.
    pub fn code_text(&self) -> String {
        match self.code {
            Some(code) => format!("AADSTS{code}"),
            None => self.error.clone(),
        }
    }

    /// What the user should do next, in one sentence.
    pub fn action(&self) -> String {
        match &self.kind {
            EntraErrorKind::ConsentRequired { admin_consent_url } => format!(
                "ask your administrator to grant consent for Presence Bridge: {admin_consent_url}"
            ),
            EntraErrorKind::ConditionalAccess => "multi-factor authentication or a Conditional \
                Access policy blocks this sign-in: complete it in the browser, try \"Sign in \
                with a code\", or ask your administrator"
                .to_owned(),
            EntraErrorKind::TenantRequired => "this app registration is single-tenant: set the \
                tenant id in the settings instead of \"organizations\""
                .to_owned(),
            EntraErrorKind::WrongRedirect => "the app registration lacks the redirect URI \
                http://localhost under \"Mobile and desktop applications\": ask your administrator"
                .to_owned(),
            EntraErrorKind::AppDisabled => {
                "the app is disabled in your organisation: ask your administrator".to_owned()
            }
            EntraErrorKind::PublicClientFlowsDisabled => "\"Sign in with a code\" needs \"Allow \
                public client flows\" in the app registration: ask your administrator, or sign in \
                with the browser"
                .to_owned(),
            EntraErrorKind::SignInExpired => "sign in again".to_owned(),
            EntraErrorKind::Declined => "the sign-in was cancelled: sign in again".to_owned(),
            EntraErrorKind::Other => "try again; if it keeps failing, give this code to your \
                administrator"
                .to_owned(),
        }
    }

    /// Whether the service reported a passing failure (`server_error`,
    /// `temporarily_unavailable`), so a later retry may succeed.
    pub fn is_transient(&self) -> bool {
        self.error == "server_error" || self.error == "temporarily_unavailable"
    }

    /// Whether this answer means the refresh token can no longer be used.
    pub fn ends_sign_in(&self) -> bool {
        self.error == "invalid_grant" || self.error == "interaction_required"
    }
}

impl fmt::Display for EntraError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "entra id returned {} ({}): {}",
            self.code_text(),
            self.error,
            self.action()
        )
    }
}

impl fmt::Debug for EntraError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EntraError")
            .field("error", &self.error)
            .field("code", &self.code)
            .field("kind", &self.kind)
            .finish()
    }
}

impl std::error::Error for EntraError {}

/// The number after the first `AADSTS` in `description`.
fn aadsts_code(description: &str) -> Option<u32> {
    let start = description.find("AADSTS")? + "AADSTS".len();
    let digits: String = description[start..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn consent_url() -> Url {
        Url::parse("https://login.example/organizations/adminconsent?client_id=c").unwrap()
    }

    fn check(error: &str, description: Option<&str>, code: Option<u32>, kind: EntraErrorKind) {
        let parsed = EntraError::new(error, description, &consent_url());
        assert_eq!(parsed.code, code, "code of {error} {description:?}");
        assert_eq!(parsed.kind, kind, "kind of {error} {description:?}");
    }

    #[test]
    fn codes_map_to_kinds() {
        let consent = EntraErrorKind::ConsentRequired {
            admin_consent_url: consent_url(),
        };
        let cases: &[(&str, Option<&str>, Option<u32>, EntraErrorKind)] = &[
            (
                "invalid_grant",
                Some("AADSTS65001: The user has not consented."),
                Some(65001),
                consent.clone(),
            ),
            (
                "access_denied",
                Some("AADSTS90094: Admin consent is required."),
                Some(90094),
                consent,
            ),
            (
                "invalid_grant",
                Some("AADSTS50076: Due to a configuration change"),
                Some(50076),
                EntraErrorKind::ConditionalAccess,
            ),
            (
                "access_denied",
                Some("AADSTS53000: Device is not in required state"),
                Some(53000),
                EntraErrorKind::ConditionalAccess,
            ),
            (
                "access_denied",
                Some("AADSTS53003: Access has been blocked by CA"),
                Some(53003),
                EntraErrorKind::ConditionalAccess,
            ),
            (
                "invalid_request",
                Some("AADSTS50194: Application is not configured as multi-tenant"),
                Some(50194),
                EntraErrorKind::TenantRequired,
            ),
            (
                "invalid_request",
                Some("AADSTS50011: The redirect URI does not match"),
                Some(50011),
                EntraErrorKind::WrongRedirect,
            ),
            (
                "unauthorized_client",
                Some("AADSTS7000112: Application is disabled."),
                Some(7000112),
                EntraErrorKind::AppDisabled,
            ),
            (
                "invalid_grant",
                Some("AADSTS70008: The refresh token has expired"),
                Some(70008),
                EntraErrorKind::SignInExpired,
            ),
            ("invalid_grant", None, None, EntraErrorKind::SignInExpired),
            (
                "access_denied",
                Some("the user cancelled"),
                None,
                EntraErrorKind::Declined,
            ),
            ("server_error", Some("AADSTS"), None, EntraErrorKind::Other),
        ];
        for (error, description, code, kind) in cases {
            check(error, *description, *code, kind.clone());
        }
    }

    #[test]
    fn kind_names_are_distinct() {
        let kinds = [
            EntraErrorKind::ConsentRequired {
                admin_consent_url: consent_url(),
            },
            EntraErrorKind::ConditionalAccess,
            EntraErrorKind::TenantRequired,
            EntraErrorKind::WrongRedirect,
            EntraErrorKind::AppDisabled,
            EntraErrorKind::PublicClientFlowsDisabled,
            EntraErrorKind::SignInExpired,
            EntraErrorKind::Declined,
            EntraErrorKind::Other,
        ];
        let names: std::collections::BTreeSet<_> = kinds.iter().map(EntraErrorKind::name).collect();
        assert_eq!(names.len(), kinds.len(), "{names:?}");
    }

    #[test]
    fn public_client_flows_code() {
        check(
            "invalid_client",
            Some("AADSTS7000218: The request body must contain client_secret"),
            Some(7000218),
            EntraErrorKind::PublicClientFlowsDisabled,
        );
    }

    #[test]
    fn consent_action_carries_admin_url() {
        let error = EntraError::new("invalid_grant", Some("AADSTS65001: x"), &consent_url());
        let text = error.to_string();
        assert!(text.contains("AADSTS65001"), "{text}");
        assert!(text.contains("ask your administrator"), "{text}");
        assert!(text.contains("adminconsent?client_id=c"), "{text}");
    }

    #[test]
    fn service_errors_are_transient() {
        let cases = [
            ("temporarily_unavailable", true),
            ("server_error", true),
            ("invalid_grant", false),
            ("invalid_client", false),
        ];
        for (error, expected) in cases {
            let parsed = EntraError::new(error, Some("AADSTS90033: busy"), &consent_url());
            assert_eq!(parsed.is_transient(), expected, "{error}");
        }
    }

    #[test]
    fn tenant_action_names_the_setting() {
        let error = EntraError::new("invalid_request", Some("AADSTS50194: x"), &consent_url());
        assert!(
            error.action().contains("set the tenant id"),
            "{}",
            error.action()
        );
    }
}

//! Scope strings as Entra ID reads them for Microsoft Graph.
//!
//! A request may name Graph permissions short (`Presence.ReadWrite`) or fully qualified
//! (`https://graph.microsoft.com/Presence.ReadWrite`), ask for every consented permission with
//! `.default`, and add the OpenID Connect scopes and `offline_access`. Entra compares scope
//! names without regard to case.

use std::collections::BTreeSet;

const GRAPH_RESOURCE: &str = "https://graph.microsoft.com/";
const OPENID_SCOPES: &[&str] = &["openid", "profile", "email"];

/// A parsed `scope` parameter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeRequest {
    /// Graph permissions by their short name, as written in the request.
    pub graph: Vec<String>,
    /// Whether `.default` was requested: every permission already consented.
    pub default: bool,
    /// OpenID Connect scopes (`openid`, `profile`, `email`) in lower case.
    pub openid: Vec<String>,
    /// Whether `offline_access` was requested, which a refresh token needs.
    pub offline_access: bool,
}

/// The reason a `scope` parameter is invalid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScopeError {
    /// The parameter is missing or blank.
    Missing,
    /// A scope names a resource other than Microsoft Graph, or is not a scope name at all.
    Invalid(String),
}

impl ScopeRequest {
    /// Parses a space-separated `scope` value.
    pub fn parse(text: &str) -> Result<Self, ScopeError> {
        let mut request = ScopeRequest::default();
        for item in text.split_whitespace() {
            let lower = item.to_ascii_lowercase();
            let short = lower
                .strip_prefix(GRAPH_RESOURCE)
                .map(|_| &item[GRAPH_RESOURCE.len()..])
                .unwrap_or(item);
            if lower == "offline_access" {
                request.offline_access = true;
            } else if OPENID_SCOPES.contains(&lower.as_str()) {
                request.openid.push(lower);
            } else if short == ".default" {
                request.default = true;
            } else if is_permission_name(short) {
                request.graph.push(short.to_string());
            } else {
                return Err(ScopeError::Invalid(item.to_string()));
            }
        }
        let asks_for_something =
            !request.graph.is_empty() || request.default || !request.openid.is_empty();
        if !asks_for_something && !request.offline_access {
            return Err(ScopeError::Missing);
        }
        Ok(request)
    }
}

/// Returns whether `name` looks like a Graph delegated permission such as
/// `Presence.ReadWrite`.
fn is_permission_name(name: &str) -> bool {
    let mut parts = name.split('.');
    let resource = parts.next().unwrap_or_default();
    let rest: Vec<&str> = parts.collect();
    let word = |part: &str| !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric());
    word(resource) && !rest.is_empty() && rest.iter().all(|part| word(part))
}

/// Graph permissions a user has consented to, compared without regard to case.
#[derive(Debug, Clone, Default)]
pub struct ConsentSet {
    /// Lower-case name → name as first consented.
    names: std::collections::BTreeMap<String, String>,
}

impl ConsentSet {
    /// Creates a set that contains `names`.
    pub fn new<'a>(names: impl IntoIterator<Item = &'a String>) -> Self {
        let mut set = Self::default();
        for name in names {
            set.add(name);
        }
        set
    }

    /// Adds one permission.
    pub fn add(&mut self, name: &str) {
        self.names
            .entry(name.to_ascii_lowercase())
            .or_insert_with(|| name.to_string());
    }

    /// Returns whether the permission is in the set.
    pub fn contains(&self, name: &str) -> bool {
        self.names.contains_key(&name.to_ascii_lowercase())
    }

    /// Returns the permissions in the spelling they were consented with.
    pub fn names(&self) -> impl Iterator<Item = &String> {
        self.names.values()
    }

    /// Returns the lower-case names, as access tokens store them for checks.
    pub fn lower_case(&self) -> BTreeSet<String> {
        self.names.keys().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, graph: &[&str], default: bool, openid: &[&str], offline: bool) {
        let parsed = ScopeRequest::parse(text).expect(text);
        assert_eq!(parsed.graph, graph, "graph scopes of {text:?}");
        assert_eq!(parsed.default, default, ".default in {text:?}");
        assert_eq!(parsed.openid, openid, "openid scopes of {text:?}");
        assert_eq!(parsed.offline_access, offline, "offline_access in {text:?}");
    }

    #[test]
    fn parses_scope_lists() {
        check(
            "Presence.ReadWrite offline_access",
            &["Presence.ReadWrite"],
            false,
            &[],
            true,
        );
        check(
            "https://graph.microsoft.com/Presence.ReadWrite openid Profile",
            &["Presence.ReadWrite"],
            false,
            &["openid", "profile"],
            false,
        );
        check(
            "https://graph.microsoft.com/.default",
            &[],
            true,
            &[],
            false,
        );
        check("User.Read.All", &["User.Read.All"], false, &[], false);
        check("offline_access", &[], false, &[], true);
    }

    #[test]
    fn rejects_bad_scopes() {
        assert_eq!(ScopeRequest::parse("  "), Err(ScopeError::Missing));
        for bad in [
            "api://other/Read",
            "Presence",
            "Presence.",
            "https://outlook.office.com/Mail.Read",
        ] {
            assert_eq!(
                ScopeRequest::parse(bad),
                Err(ScopeError::Invalid(bad.to_string())),
                "parsing {bad:?}"
            );
        }
    }

    #[test]
    fn consent_ignores_case() {
        let mut consent = ConsentSet::new(&["User.Read".to_string()]);
        consent.add("presence.readwrite");
        consent.add("Presence.ReadWrite");
        assert!(consent.contains("PRESENCE.READWRITE"));
        assert!(consent.contains("user.read"));
        assert!(!consent.contains("Presence.Read"));
        assert_eq!(consent.names().count(), 2);
        let lower: Vec<String> = consent.lower_case().into_iter().collect();
        assert_eq!(
            lower,
            vec!["presence.readwrite".to_string(), "user.read".to_string()]
        );
        let names: Vec<&String> = consent.names().collect();
        assert_eq!(names, vec!["presence.readwrite", "User.Read"]);
    }
}

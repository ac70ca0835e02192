//! A string that must never reach a log: tokens, authorization codes, PKCE verifiers.

use std::fmt;

/// A secret string that prints as `Secret(<redacted>)` in `Debug` and has no `Display`.
///
/// The value is read only through [`Secret::expose`], so every place that uses it is easy to
/// find. Equality compares the values, which the single-flight refresh needs to tell whether a
/// rejected access token is still the current one.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps `value`.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// Returns the secret value, which must stay out of logs and error messages.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Returns the length of the value in bytes, which is safe to log.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Returns whether the value is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_value() {
        let secret = Secret::new("0.AAAA-refresh-token-value");
        let printed = format!("{secret:?}");
        assert!(
            !printed.contains("refresh-token-value"),
            "leaked: {printed}"
        );
        assert_eq!(printed, "Secret(<redacted>)");
        let nested = format!("{:?}", Some(vec![secret.clone()]));
        assert!(
            !nested.contains("AAAA"),
            "leaked through a container: {nested}"
        );
    }

    #[test]
    fn expose_returns_value() {
        let secret = Secret::new("abc");
        assert_eq!(secret.expose(), "abc");
        assert_eq!(secret.len(), 3);
        assert!(!secret.is_empty());
    }
}

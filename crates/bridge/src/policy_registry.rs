//! The machine policy as Windows stores it: values under
//! `HKEY_LOCAL_MACHINE\SOFTWARE\Policies\PresenceBridge`, where Group Policy and device
//! management tools write them.
//!
//! | value | type | policy field |
//! |---|---|---|
//! | `Tenant` | `REG_SZ` | `tenant` |
//! | `ClientId` | `REG_SZ` | `client_id` |
//! | `AuthorityHost` | `REG_SZ` | `authority_host` |
//! | `GraphBase` | `REG_SZ` | `graph_base` |
//! | `MinPollIntervalSecs` | `REG_DWORD` or `REG_SZ` (e.g. `2.5`) | `min_poll_interval_secs` |
//! | `Locked` | `REG_MULTI_SZ`, or `REG_SZ` with commas | `locked` |
//! | `StartAtLoginOnSignIn` | `REG_DWORD`, 0 or 1 | `start_at_login_on_sign_in` |
//!
//! The mapping is portable and tested everywhere; only the registry read is Windows code.

use crate::config::Policy;

/// The policy key under `HKEY_LOCAL_MACHINE`.
pub const POLICY_KEY: &str = r"SOFTWARE\Policies\PresenceBridge";

/// One registry value, as far as the policy needs its type.
#[derive(Debug, Clone, PartialEq)]
pub enum RegistryValue {
    Text(String),
    Number(u32),
    List(Vec<String>),
}

/// Builds the policy from the values `read` returns by name; `None` means the value is absent.
///
/// Returns an error naming the value when one has a type or content the policy cannot use, so
/// that a broken policy is reported instead of half applied.
pub fn policy_from_values(read: impl Fn(&str) -> Option<RegistryValue>) -> Result<Policy, String> {
    let text = |name: &str| -> Result<Option<String>, String> {
        match read(name) {
            None => Ok(None),
            Some(RegistryValue::Text(text)) => Ok(Some(text.trim().to_string())),
            Some(other) => Err(format!("{name} must be a string (REG_SZ), not {other:?}")),
        }
    };
    let min_poll_interval_secs = match read("MinPollIntervalSecs") {
        None => None,
        Some(RegistryValue::Number(seconds)) => Some(f64::from(seconds)),
        Some(RegistryValue::Text(text)) => Some(
            text.trim()
                .parse::<f64>()
                .ok()
                .filter(|seconds| seconds.is_finite() && *seconds > 0.0)
                .ok_or_else(|| format!("MinPollIntervalSecs {text:?} is not a positive number"))?,
        ),
        Some(other) => return Err(format!("MinPollIntervalSecs has the wrong type: {other:?}")),
    };
    let locked = match read("Locked") {
        None => Vec::new(),
        Some(RegistryValue::List(names)) => names,
        Some(RegistryValue::Text(text)) => text.split(',').map(str::to_string).collect(),
        Some(other) => return Err(format!("Locked has the wrong type: {other:?}")),
    };
    let locked = locked
        .into_iter()
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
        .collect();
    let start_at_login_on_sign_in = match read("StartAtLoginOnSignIn") {
        None => None,
        Some(RegistryValue::Number(0)) => Some(false),
        Some(RegistryValue::Number(1)) => Some(true),
        Some(other) => {
            return Err(format!(
                "StartAtLoginOnSignIn must be 0 or 1, not {other:?}"
            ))
        }
    };
    Ok(Policy {
        tenant: text("Tenant")?,
        client_id: text("ClientId")?,
        authority_host: text("AuthorityHost")?,
        graph_base: text("GraphBase")?,
        min_poll_interval_secs,
        locked,
        start_at_login_on_sign_in,
    })
}

/// Reads the policy key; `Ok(None)` when the key does not exist.
#[cfg(windows)]
pub fn read_machine_policy() -> Result<Option<Policy>, String> {
    use windows_registry::{Type, LOCAL_MACHINE};

    let key = match LOCAL_MACHINE.open(POLICY_KEY) {
        Ok(key) => key,
        // HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND): no policy is set on this machine.
        Err(error) if error.code().0 as u32 == 0x8007_0002 => return Ok(None),
        Err(error) => return Err(format!("policy key not readable: {error}")),
    };
    let read = |name: &str| -> Option<RegistryValue> {
        match key.get_type(name).ok()? {
            Type::U32 => key.get_u32(name).ok().map(RegistryValue::Number),
            Type::MultiString => key.get_multi_string(name).ok().map(RegistryValue::List),
            Type::String | Type::ExpandString => key.get_string(name).ok().map(RegistryValue::Text),
            // Any other type is passed on as text that names it, which the mapping rejects.
            other => Some(RegistryValue::List(vec![format!("{other:?}")])),
        }
    };
    policy_from_values(read).map(Some)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn policy(values: &[(&str, RegistryValue)]) -> Result<Policy, String> {
        let values: HashMap<String, RegistryValue> = values
            .iter()
            .map(|(name, value)| (name.to_string(), value.clone()))
            .collect();
        policy_from_values(|name| values.get(name).cloned())
    }

    fn text(value: &str) -> RegistryValue {
        RegistryValue::Text(value.into())
    }

    #[test]
    fn empty_key_is_empty_policy() {
        assert_eq!(policy(&[]).unwrap(), Policy::default());
    }

    #[test]
    fn every_value_maps_to_its_field() {
        let read = policy(&[
            ("Tenant", text("contoso.onmicrosoft.com")),
            ("ClientId", text(" 11111111-2222-3333-4444-555555555555 ")),
            ("AuthorityHost", text("https://login.microsoftonline.us/")),
            ("GraphBase", text("https://graph.microsoft.us/v1.0/")),
            ("MinPollIntervalSecs", RegistryValue::Number(3)),
            (
                "Locked",
                RegistryValue::List(vec!["poll_interval_secs".into(), " tenant ".into()]),
            ),
            ("StartAtLoginOnSignIn", RegistryValue::Number(0)),
        ])
        .unwrap();
        assert_eq!(read.tenant.as_deref(), Some("contoso.onmicrosoft.com"));
        assert_eq!(
            read.client_id.as_deref(),
            Some("11111111-2222-3333-4444-555555555555")
        );
        assert_eq!(
            read.authority_host.as_deref(),
            Some("https://login.microsoftonline.us/")
        );
        assert_eq!(
            read.graph_base.as_deref(),
            Some("https://graph.microsoft.us/v1.0/")
        );
        assert_eq!(read.min_poll_interval_secs, Some(3.0));
        assert_eq!(read.locked, ["poll_interval_secs", "tenant"]);
        assert_eq!(read.start_at_login_on_sign_in, Some(false));
    }

    #[test]
    fn text_forms_are_accepted() {
        let read = policy(&[
            ("MinPollIntervalSecs", text("2.5")),
            ("Locked", text("tenant, client_id,,")),
        ])
        .unwrap();
        assert_eq!(read.min_poll_interval_secs, Some(2.5));
        assert_eq!(read.locked, ["tenant", "client_id"]);
    }

    #[test]
    fn wrong_values_are_rejected_by_name() {
        let cases = [
            ("Tenant", RegistryValue::Number(1)),
            ("MinPollIntervalSecs", text("fast")),
            ("MinPollIntervalSecs", text("-1")),
            ("StartAtLoginOnSignIn", RegistryValue::Number(2)),
            ("StartAtLoginOnSignIn", text("yes")),
            ("Locked", RegistryValue::Number(7)),
        ];
        for (name, value) in cases {
            let error = policy(&[(name, value.clone())]).unwrap_err();
            assert!(error.contains(name), "{name} = {value:?}: {error}");
        }
    }

    #[test]
    fn managed_settings_follow_the_registry() {
        let read = policy(&[
            ("ClientId", text("abc")),
            (
                "Locked",
                RegistryValue::List(vec!["speaking_substitute".into()]),
            ),
        ])
        .unwrap();
        assert_eq!(
            read.managed_settings(),
            ["client_id", "speaking_substitute"]
        );
    }
}

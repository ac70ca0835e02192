//! Shared helpers of the twin's black-box tests: a twin on a manual clock, an HTTP client
//! that follows no redirects, and a complete sign-in.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use base64::Engine;
use clock::ManualClock;
use graph_twin::{Twin, TwinConfig};
use reqwest::StatusCode;
use serde_json::Value;
use sha2::{Digest, Sha256};
use url::Url;

/// A PKCE verifier long enough for RFC 7636 (43 characters or more).
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-presence-bridge";

/// Computes the S256 challenge of `verifier`.
pub fn s256(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// A running twin, its clock and a client.
pub struct Harness {
    pub twin: Twin,
    pub clock: ManualClock,
    pub http: reqwest::Client,
}

/// A response reduced to status, headers and body text.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|error| panic!("not JSON ({error}): {}", self.text))
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_string)
    }

    /// Returns the `Location` header's query parameters.
    pub fn redirect_query(&self) -> HashMap<String, String> {
        let location = self.header("location").expect("a Location header");
        Url::parse(&location)
            .unwrap()
            .query_pairs()
            .into_owned()
            .collect()
    }

    /// Returns the AADSTS number of an Entra error body.
    pub fn aadsts(&self) -> u64 {
        self.json()["error_codes"][0]
            .as_u64()
            .unwrap_or_else(|| panic!("no error_codes: {}", self.text))
    }
}

impl Harness {
    pub async fn start() -> Self {
        Self::with(TwinConfig::default()).await
    }

    pub async fn with(config: TwinConfig) -> Self {
        let clock = ManualClock::new(SystemTime::UNIX_EPOCH + Duration::from_secs(1_714_566_605));
        let shared: clock::SharedClock = Arc::new(clock.clone());
        let twin = Twin::start(config, shared).await.expect("twin starts");
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self { twin, clock, http }
    }

    pub fn client_id(&self) -> String {
        self.twin.config().registration.client_id.clone()
    }

    pub fn url(&self, path: &str) -> Url {
        self.twin.base_url().join(path).unwrap()
    }

    async fn answer(response: reqwest::Result<reqwest::Response>) -> Answer {
        let response = response.expect("request reaches the twin");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap_or_default();
        Answer {
            status,
            headers,
            text,
        }
    }

    /// `GET` with query parameters.
    pub async fn get(&self, path: &str, query: &[(&str, &str)]) -> Answer {
        Self::answer(self.http.get(self.url(path)).query(query).send().await).await
    }

    /// `GET` with a bearer token.
    pub async fn get_with(&self, path: &str, token: &str) -> Answer {
        Self::answer(
            self.http
                .get(self.url(path))
                .bearer_auth(token)
                .send()
                .await,
        )
        .await
    }

    /// `POST` a form.
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> Answer {
        Self::answer(self.http.post(self.url(path)).form(form).send().await).await
    }

    /// `POST` JSON with a bearer token.
    pub async fn post_json(&self, path: &str, token: &str, body: &Value) -> Answer {
        Self::answer(
            self.http
                .post(self.url(path))
                .bearer_auth(token)
                .json(body)
                .send()
                .await,
        )
        .await
    }

    /// Authorize request parameters for the default registration.
    pub fn authorize_params(&self, challenge: &str, method: &str) -> Vec<(String, String)> {
        vec![
            ("client_id".into(), self.client_id()),
            ("response_type".into(), "code".into()),
            ("redirect_uri".into(), "http://localhost:53123/".into()),
            (
                "scope".into(),
                "Presence.ReadWrite offline_access openid profile".into(),
            ),
            ("state".into(), "s-42".into()),
            ("code_challenge".into(), challenge.into()),
            ("code_challenge_method".into(), method.into()),
        ]
    }

    /// Runs the authorize request and returns the code.
    pub async fn authorize_code(&self) -> String {
        let params = self.authorize_params(&s256(VERIFIER), "S256");
        let pairs: Vec<(&str, &str)> = params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let answer = self
            .get("organizations/oauth2/v2.0/authorize", &pairs)
            .await;
        assert_eq!(
            answer.status,
            StatusCode::FOUND,
            "authorize: {}",
            answer.text
        );
        answer.redirect_query().remove("code").expect("a code")
    }

    /// Redeems a code with the default parameters.
    pub async fn redeem(&self, code: &str) -> Answer {
        let client_id = self.client_id();
        self.post_form(
            "organizations/oauth2/v2.0/token",
            &[
                ("client_id", client_id.as_str()),
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", "http://localhost:53123/"),
                ("code_verifier", VERIFIER),
                ("scope", "Presence.ReadWrite offline_access openid profile"),
            ],
        )
        .await
    }

    /// Signs in and returns (access token, refresh token).
    pub async fn sign_in(&self) -> (String, String) {
        let code = self.authorize_code().await;
        let answer = self.redeem(&code).await;
        assert_eq!(answer.status, StatusCode::OK, "token: {}", answer.text);
        let body = answer.json();
        (
            body["access_token"].as_str().unwrap().to_string(),
            body["refresh_token"].as_str().unwrap().to_string(),
        )
    }

    /// Redeems a refresh token.
    pub async fn refresh(&self, refresh_token: &str) -> Answer {
        let client_id = self.client_id();
        self.post_form(
            "organizations/oauth2/v2.0/token",
            &[
                ("client_id", client_id.as_str()),
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
                ("scope", "Presence.ReadWrite offline_access"),
            ],
        )
        .await
    }

    /// `POST /v1.0/me/presence/setPresence` with the app's session id.
    pub async fn set_presence(
        &self,
        token: &str,
        availability: &str,
        activity: &str,
        duration: Option<&str>,
    ) -> Answer {
        let mut body = serde_json::json!({
            "sessionId": self.client_id(),
            "availability": availability,
            "activity": activity,
        });
        if let Some(duration) = duration {
            body["expirationDuration"] = Value::from(duration);
        }
        self.post_json("v1.0/me/presence/setPresence", token, &body)
            .await
    }

    /// `POST /v1.0/me/presence/clearPresence` with the app's session id.
    pub async fn clear_presence(&self, token: &str) -> Answer {
        let body = serde_json::json!({ "sessionId": self.client_id() });
        self.post_json("v1.0/me/presence/clearPresence", token, &body)
            .await
    }

    /// (availability, activity) from `GET /v1.0/me/presence`.
    pub async fn presence_pair(&self, token: &str) -> (String, String) {
        let answer = self.get_with("v1.0/me/presence", token).await;
        assert_eq!(answer.status, StatusCode::OK, "presence: {}", answer.text);
        let body = answer.json();
        (
            body["availability"].as_str().unwrap().to_string(),
            body["activity"].as_str().unwrap().to_string(),
        )
    }
}

/// Shorthand for an owned pair.
pub fn pair(availability: &str, activity: &str) -> (String, String) {
    (availability.to_string(), activity.to_string())
}

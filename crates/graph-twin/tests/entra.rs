//! Entra ID conformance: the authorize page, the token endpoint's grants and its errors, as
//! the Microsoft identity platform documents them.

mod common;

use std::time::Duration;

use common::{s256, Answer, Harness, VERIFIER};
use graph_twin::{AppRegistration, PkceMethod, SignInBehaviour, TwinConfig};
use reqwest::StatusCode;

const AUTHORIZE: &str = "organizations/oauth2/v2.0/authorize";
const TOKEN: &str = "organizations/oauth2/v2.0/token";

/// Form fields of a token request.
type Form<'a> = Vec<(&'a str, &'a str)>;

fn as_pairs(params: &[(String, String)]) -> Vec<(&str, &str)> {
    params
        .iter()
        .map(|(key, value)| (key.as_str(), value.as_str()))
        .collect()
}

/// Authorize with one parameter replaced (or removed when `value` is `None`).
async fn authorize_with(harness: &Harness, path: &str, name: &str, value: Option<&str>) -> Answer {
    let mut params = harness.authorize_params(&s256(VERIFIER), "S256");
    params.retain(|(key, _)| key != name);
    if let Some(value) = value {
        params.push((name.to_string(), value.to_string()));
    }
    harness.get(path, &as_pairs(&params)).await
}

fn error_page_code(answer: &Answer) -> Option<u32> {
    let start = answer.text.find("AADSTS")? + 6;
    let digits: String = answer.text[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

#[tokio::test]
async fn authorize_redirect_uri_rules() {
    let harness = Harness::start().await;
    // (requested redirect_uri, accepted?) against the registered `http://localhost`.
    let cases = [
        ("http://localhost", true),
        ("http://localhost/", true),
        ("http://localhost:53123", true),
        ("http://localhost:1/", true),
        ("http://127.0.0.1:53123/", false),
        ("http://localhost:53123/callback", false),
        ("https://localhost:53123/", false),
        ("http://localhost.evil.example/", false),
        ("http://localhost:53123/#fragment", false),
        ("http://localhost:53123/?next=1", false),
        ("not a url", false),
    ];
    for (redirect_uri, accepted) in cases {
        let answer = authorize_with(&harness, AUTHORIZE, "redirect_uri", Some(redirect_uri)).await;
        if accepted {
            assert_eq!(
                answer.status,
                StatusCode::FOUND,
                "{redirect_uri}: {}",
                answer.text
            );
            let location = answer.header("location").unwrap();
            assert!(
                location.starts_with(redirect_uri.trim_end_matches('/')),
                "{location}"
            );
        } else {
            assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{redirect_uri}");
            assert_eq!(
                answer.header("location"),
                None,
                "{redirect_uri} must not be redirected to"
            );
            assert_eq!(
                error_page_code(&answer),
                Some(50_011),
                "{redirect_uri}: {}",
                answer.text
            );
        }
    }
}

#[tokio::test]
async fn authorize_registered_path_and_ip() {
    let registration = AppRegistration {
        redirect_uris: vec!["http://127.0.0.1/callback".into()],
        ..AppRegistration::default()
    };
    let harness = Harness::with(TwinConfig {
        registration,
        ..TwinConfig::default()
    })
    .await;
    for (redirect_uri, accepted) in [
        ("http://127.0.0.1:40000/callback", true),
        ("http://127.0.0.1/callback", true),
        ("http://localhost:40000/callback", false),
        ("http://127.0.0.1:40000/", false),
        ("http://127.0.0.1:40000/callback/more", false),
    ] {
        let answer = authorize_with(&harness, AUTHORIZE, "redirect_uri", Some(redirect_uri)).await;
        let expected = if accepted {
            StatusCode::FOUND
        } else {
            StatusCode::BAD_REQUEST
        };
        assert_eq!(answer.status, expected, "{redirect_uri}: {}", answer.text);
    }
}

#[tokio::test]
async fn authorize_unknown_client_shows_page() {
    let harness = Harness::start().await;
    let answer = authorize_with(
        &harness,
        AUTHORIZE,
        "client_id",
        Some("00000000-0000-0000-0000-000000000001"),
    )
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.header("location"), None);
    assert_eq!(error_page_code(&answer), Some(700_016));

    let missing = authorize_with(&harness, AUTHORIZE, "client_id", None).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert_eq!(error_page_code(&missing), Some(900_144));
}

#[tokio::test]
async fn authorize_success_redirects_with_code_and_state() {
    let harness = Harness::start().await;
    let answer = authorize_with(&harness, AUTHORIZE, "state", Some("xyz 1/2")).await;
    assert_eq!(answer.status, StatusCode::FOUND);
    let query = answer.redirect_query();
    assert_eq!(query.get("state").map(String::as_str), Some("xyz 1/2"));
    assert!(query.get("code").is_some_and(|code| code.len() > 20));
    assert!(!query.contains_key("error"));
}

/// Checks an error redirect: no code, the OAuth error, the AADSTS number, and the state.
fn check_error_redirect(answer: &Answer, error: &str, code: u32) {
    assert_eq!(answer.status, StatusCode::FOUND, "{}", answer.text);
    let query = answer.redirect_query();
    assert_eq!(
        query.get("error").map(String::as_str),
        Some(error),
        "{query:?}"
    );
    let description = query.get("error_description").cloned().unwrap_or_default();
    assert!(
        description.starts_with(&format!("AADSTS{code}: ")),
        "{description}"
    );
    assert_eq!(query.get("state").map(String::as_str), Some("s-42"));
    assert!(!query.contains_key("code"));
}

#[tokio::test]
async fn authorize_request_errors_redirect() {
    let harness = Harness::start().await;
    let answer = authorize_with(&harness, AUTHORIZE, "response_type", Some("token")).await;
    check_error_redirect(&answer, "unsupported_response_type", 700_054);
    let answer = authorize_with(&harness, AUTHORIZE, "response_type", None).await;
    check_error_redirect(&answer, "unsupported_response_type", 700_054);
    let answer = authorize_with(&harness, AUTHORIZE, "scope", None).await;
    check_error_redirect(&answer, "invalid_request", 900_144);
    let answer = authorize_with(
        &harness,
        AUTHORIZE,
        "scope",
        Some("api://someone-else/Read"),
    )
    .await;
    check_error_redirect(&answer, "invalid_scope", 70_011);
    let answer = authorize_with(&harness, AUTHORIZE, "code_challenge_method", Some("S512")).await;
    check_error_redirect(&answer, "invalid_request", 50_149);
    let short = "a".repeat(42);
    let answer = authorize_with(&harness, AUTHORIZE, "code_challenge", Some(&short)).await;
    check_error_redirect(&answer, "invalid_request", 501_491);
    let long = "a".repeat(129);
    let answer = authorize_with(&harness, AUTHORIZE, "code_challenge", Some(&long)).await;
    check_error_redirect(&answer, "invalid_request", 501_491);
    for size in [43, 128] {
        let fitting = "a".repeat(size);
        let answer = authorize_with(&harness, AUTHORIZE, "code_challenge", Some(&fitting)).await;
        assert!(
            answer.redirect_query().contains_key("code"),
            "challenge of {size} characters"
        );
    }
    let answer = authorize_with(&harness, AUTHORIZE, "response_mode", Some("form_post")).await;
    check_error_redirect(&answer, "invalid_request", 900_144);
    let answer = authorize_with(&harness, AUTHORIZE, "response_mode", Some("query")).await;
    assert!(answer.redirect_query().contains_key("code"));
}

#[tokio::test]
async fn sign_in_behaviours_redirect_errors() {
    let cases = [
        (SignInBehaviour::AccessDenied, "access_denied", 65_004),
        (
            SignInBehaviour::Error(50_076),
            "interaction_required",
            50_076,
        ),
        (SignInBehaviour::Error(53_000), "access_denied", 53_000),
        (SignInBehaviour::Error(53_003), "access_denied", 53_003),
        (SignInBehaviour::Error(65_001), "consent_required", 65_001),
        (SignInBehaviour::Error(90_094), "access_denied", 90_094),
        (
            SignInBehaviour::Error(7_000_112),
            "unauthorized_client",
            7_000_112,
        ),
        (SignInBehaviour::Error(50_194), "invalid_request", 50_194),
    ];
    for (sign_in, error, code) in cases {
        let harness = Harness::with(TwinConfig {
            sign_in,
            ..TwinConfig::default()
        })
        .await;
        let answer = authorize_with(&harness, AUTHORIZE, "state", Some("s-42")).await;
        check_error_redirect(&answer, error, code);
        assert!(
            harness.twin.authorizations().is_empty(),
            "no code issued for {code}"
        );
    }
}

#[tokio::test]
async fn sign_in_behaviour_changes_through_the_admin_api() {
    let harness = Harness::start().await;
    let http = reqwest::Client::new();
    let set = |body: serde_json::Value| {
        let request = http.post(harness.url("_twin/sign-in")).json(&body);
        async move { request.send().await.expect("admin request").status() }
    };
    assert_eq!(
        set(serde_json::json!({ "error": 53_003 })).await,
        StatusCode::NO_CONTENT
    );
    let answer = authorize_with(&harness, AUTHORIZE, "state", Some("s-42")).await;
    check_error_redirect(&answer, "access_denied", 53_003);
    assert_eq!(
        set(serde_json::json!("accessDenied")).await,
        StatusCode::NO_CONTENT
    );
    let answer = authorize_with(&harness, AUTHORIZE, "state", Some("s-42")).await;
    check_error_redirect(&answer, "access_denied", 65_004);
    assert_eq!(
        set(serde_json::json!("autoConsent")).await,
        StatusCode::NO_CONTENT
    );
    let answer = authorize_with(&harness, AUTHORIZE, "state", Some("s-42")).await;
    assert!(answer.redirect_query().contains_key("code"));
    assert_eq!(
        set(serde_json::json!("sometimes")).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "an unknown behaviour is refused"
    );
}

#[tokio::test]
async fn single_tenant_app_rejects_shared_authorities() {
    let registration = AppRegistration {
        multi_tenant: false,
        ..AppRegistration::default()
    };
    let harness = Harness::with(TwinConfig {
        registration,
        ..TwinConfig::default()
    })
    .await;
    let tenant = harness.twin.config().registration.tenant_id.clone();

    for authority in ["organizations", "common", "Common"] {
        let path = format!("{authority}/oauth2/v2.0/authorize");
        let answer = authorize_with(&harness, &path, "state", Some("s-42")).await;
        check_error_redirect(&answer, "invalid_request", 50_194);
        let client_id = harness.client_id();
        let token = harness
            .post_form(
                &format!("{authority}/oauth2/v2.0/token"),
                &[
                    ("client_id", &client_id),
                    ("grant_type", "refresh_token"),
                    ("refresh_token", "x"),
                ],
            )
            .await;
        assert_eq!(token.status, StatusCode::BAD_REQUEST);
        assert_eq!(token.aadsts(), 50_194);
    }

    let path = format!("{tenant}/oauth2/v2.0/authorize");
    let answer = authorize_with(&harness, &path, "state", Some("s-42")).await;
    assert_eq!(answer.status, StatusCode::FOUND);
    assert!(answer.redirect_query().contains_key("code"));
}

#[tokio::test]
async fn unknown_tenant_is_rejected() {
    let harness = Harness::start().await;
    let answer = authorize_with(
        &harness,
        "contoso-unknown/oauth2/v2.0/authorize",
        "state",
        Some("s"),
    )
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(error_page_code(&answer), Some(90_002));
    let client_id = harness.client_id();
    let token = harness
        .post_form(
            "consumers/oauth2/v2.0/token",
            &[("client_id", &client_id), ("grant_type", "refresh_token")],
        )
        .await;
    assert_eq!(token.aadsts(), 90_002);
}

#[tokio::test]
async fn token_response_shape() {
    let harness = Harness::start().await;
    let code = harness.authorize_code().await;
    let answer = harness.redeem(&code).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.header("cache-control").as_deref(), Some("no-store"));
    let body = answer.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3_600);
    assert_eq!(body["ext_expires_in"], 3_600);
    let scope = body["scope"].as_str().unwrap();
    for expected in ["Presence.ReadWrite", "User.Read", "openid", "profile"] {
        assert!(
            scope.split(' ').any(|item| item == expected),
            "{expected} missing in {scope:?}"
        );
    }
    assert!(!scope.contains("offline_access"));
    assert!(body["access_token"]
        .as_str()
        .is_some_and(|token| !token.is_empty()));
    assert_eq!(body["refresh_token"].as_str().map(str::len), Some(1_900));
}

#[tokio::test]
async fn error_body_shape() {
    let harness = Harness::start().await;
    let client_id = harness.client_id();
    let answer = harness
        .post_form(
            TOKEN,
            &[
                ("client_id", &client_id),
                ("grant_type", "authorization_code"),
                ("code", "nope"),
                ("redirect_uri", "http://localhost"),
            ],
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    let body = answer.json();
    assert_eq!(body["error"], "invalid_grant");
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .starts_with("AADSTS9002313: "));
    assert_eq!(body["error_codes"], serde_json::json!([9_002_313]));
    assert_eq!(body["timestamp"], "2024-05-01 12:30:05Z");
    assert_eq!(body["trace_id"].as_str().map(str::len), Some(36));
    assert_eq!(body["correlation_id"].as_str().map(str::len), Some(36));
}

#[tokio::test]
async fn pkce_s256_and_plain_are_recorded() {
    let harness = Harness::start().await;
    harness.authorize_code().await;
    let plain = authorize_with(&harness, AUTHORIZE, "code_challenge_method", Some("plain")).await;
    assert_eq!(plain.status, StatusCode::FOUND);
    let no_method = authorize_with(&harness, AUTHORIZE, "code_challenge_method", None).await;
    assert_eq!(no_method.status, StatusCode::FOUND);
    let no_pkce = authorize_with(&harness, AUTHORIZE, "code_challenge", None).await;
    assert_eq!(no_pkce.status, StatusCode::FOUND);

    let methods: Vec<Option<PkceMethod>> = harness
        .twin
        .authorizations()
        .iter()
        .map(|record| record.code_challenge_method)
        .collect();
    assert_eq!(
        methods,
        vec![
            Some(PkceMethod::S256),
            Some(PkceMethod::Plain),
            Some(PkceMethod::Plain),
            None
        ]
    );
}

/// Authorizes with a challenge and method, then redeems with `verifier`.
async fn redeem_with_pkce(
    harness: &Harness,
    challenge: Option<&str>,
    method: Option<&str>,
    verifier: Option<&str>,
) -> Answer {
    let mut params = harness.authorize_params("unused", "unused");
    params.retain(|(key, _)| key != "code_challenge" && key != "code_challenge_method");
    if let Some(challenge) = challenge {
        params.push(("code_challenge".into(), challenge.into()));
    }
    if let Some(method) = method {
        params.push(("code_challenge_method".into(), method.into()));
    }
    let answer = harness.get(AUTHORIZE, &as_pairs(&params)).await;
    let code = answer.redirect_query().remove("code").expect("a code");
    let client_id = harness.client_id();
    let mut form = vec![
        ("client_id", client_id.as_str()),
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", "http://localhost:53123/"),
    ];
    if let Some(verifier) = verifier {
        form.push(("code_verifier", verifier));
    }
    harness.post_form(TOKEN, &form).await
}

#[tokio::test]
async fn pkce_verifier_must_match() {
    let harness = Harness::start().await;
    let challenge = s256(VERIFIER);
    // (challenge, method, verifier, accepted)
    let cases = [
        (Some(challenge.as_str()), Some("S256"), Some(VERIFIER), true),
        (
            Some(challenge.as_str()),
            Some("S256"),
            Some("a-different-verifier-of-enough-length-000000"),
            false,
        ),
        (Some(challenge.as_str()), Some("S256"), None, false),
        (
            Some(challenge.as_str()),
            Some("plain"),
            Some(VERIFIER),
            false,
        ),
        (Some(VERIFIER), Some("plain"), Some(VERIFIER), true),
        (Some(VERIFIER), None, Some(VERIFIER), true),
        (Some(VERIFIER), Some("S256"), Some(VERIFIER), false),
        (None, None, None, true),
    ];
    for (challenge, method, verifier, accepted) in cases {
        let answer = redeem_with_pkce(&harness, challenge, method, verifier).await;
        if accepted {
            assert_eq!(
                answer.status,
                StatusCode::OK,
                "{method:?} {verifier:?}: {}",
                answer.text
            );
        } else {
            assert_eq!(
                answer.status,
                StatusCode::BAD_REQUEST,
                "{method:?} {verifier:?}"
            );
            assert_eq!(answer.json()["error"], "invalid_grant");
            assert_eq!(answer.aadsts(), 501_481);
        }
    }
}

#[tokio::test]
async fn code_is_single_use() {
    let harness = Harness::start().await;
    let code = harness.authorize_code().await;
    assert_eq!(harness.redeem(&code).await.status, StatusCode::OK);
    let again = harness.redeem(&code).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert_eq!(again.json()["error"], "invalid_grant");
    assert_eq!(again.aadsts(), 54_005);
}

#[tokio::test]
async fn code_expires_after_ten_minutes() {
    let harness = Harness::start().await;
    let code = harness.authorize_code().await;
    harness.clock.advance(Duration::from_secs(10 * 60)).await;
    let late = harness.redeem(&code).await;
    assert_eq!(late.status, StatusCode::BAD_REQUEST);
    assert_eq!(late.aadsts(), 70_008);

    let code = harness.authorize_code().await;
    harness
        .clock
        .advance(Duration::from_secs(10 * 60 - 1))
        .await;
    assert_eq!(harness.redeem(&code).await.status, StatusCode::OK);
}

#[tokio::test]
async fn code_is_bound_to_redirect_uri_and_client() {
    let harness = Harness::start().await;
    let code = harness.authorize_code().await;
    let client_id = harness.client_id();
    let other_port = harness
        .post_form(
            TOKEN,
            &[
                ("client_id", &client_id),
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", "http://localhost:9999/"),
                ("code_verifier", VERIFIER),
            ],
        )
        .await;
    assert_eq!(other_port.status, StatusCode::BAD_REQUEST);
    assert_eq!(other_port.aadsts(), 500_112);

    let other_client = harness
        .post_form(
            TOKEN,
            &[
                ("client_id", "11111111-2222-3333-4444-555555555555"),
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", "http://localhost:53123/"),
                ("code_verifier", VERIFIER),
            ],
        )
        .await;
    assert_eq!(other_client.aadsts(), 700_016);

    let missing_redirect = harness
        .post_form(
            TOKEN,
            &[
                ("client_id", &client_id),
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("code_verifier", VERIFIER),
            ],
        )
        .await;
    assert_eq!(missing_redirect.aadsts(), 900_144);
    // The failed attempts did not use the code up.
    assert_eq!(harness.redeem(&code).await.status, StatusCode::OK);
}

#[tokio::test]
async fn token_request_checks() {
    let harness = Harness::start().await;
    let client_id = harness.client_id();
    // (form, status, error, AADSTS)
    let cases: Vec<(Form, u16, &str, u64)> = vec![
        (
            vec![("client_id", &client_id)],
            400,
            "invalid_request",
            900_144,
        ),
        (
            vec![("grant_type", "refresh_token")],
            400,
            "invalid_request",
            900_144,
        ),
        (
            vec![("client_id", &client_id), ("grant_type", "password")],
            400,
            "unsupported_grant_type",
            70_003,
        ),
        (
            vec![
                ("client_id", &client_id),
                ("grant_type", "refresh_token"),
                ("client_secret", "s"),
            ],
            401,
            "invalid_client",
            700_025,
        ),
        (
            vec![("client_id", &client_id), ("grant_type", "refresh_token")],
            400,
            "invalid_request",
            900_144,
        ),
        (
            vec![
                ("client_id", &client_id),
                ("grant_type", "refresh_token"),
                ("refresh_token", "made-up"),
            ],
            400,
            "invalid_grant",
            9_002_313,
        ),
    ];
    for (form, status, error, code) in cases {
        let answer = harness.post_form(TOKEN, &form).await;
        assert_eq!(answer.status.as_u16(), status, "{form:?}: {}", answer.text);
        assert_eq!(answer.json()["error"], error, "{form:?}");
        assert_eq!(answer.aadsts(), code, "{form:?}");
    }

    // A JSON body is not a form: Entra finds no grant_type.
    let json = harness
        .http
        .post(harness.url(TOKEN))
        .json(&serde_json::json!({ "grant_type": "refresh_token", "client_id": client_id }))
        .send()
        .await
        .unwrap();
    assert_eq!(json.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = json.json().await.unwrap();
    assert_eq!(body["error_codes"][0], 900_144);
}

#[tokio::test]
async fn refresh_rotates_and_keeps_old_token() {
    let harness = Harness::start().await;
    let (_, first) = harness.sign_in().await;
    let answer = harness.refresh(&first).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let body = answer.json();
    let second = body["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(second, first);
    assert_eq!(second.len(), 2_700);
    let access = body["access_token"].as_str().unwrap();
    assert_eq!(
        harness.get_with("v1.0/me/presence", access).await.status,
        StatusCode::OK
    );
    // Entra keeps the redeemed refresh token valid.
    assert_eq!(harness.refresh(&first).await.status, StatusCode::OK);
    assert_eq!(harness.refresh(&second).await.status, StatusCode::OK);
}

#[tokio::test]
async fn strict_rotation_rejects_old_token() {
    let config = TwinConfig {
        strict_refresh_rotation: true,
        refresh_token_length: 64,
        rotated_refresh_token_length: 80,
        ..TwinConfig::default()
    };
    let harness = Harness::with(config).await;
    let (_, first) = harness.sign_in().await;
    assert_eq!(first.len(), 64);
    let second = harness.refresh(&first).await.json()["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(second.len(), 80);
    let reused = harness.refresh(&first).await;
    assert_eq!(reused.status, StatusCode::BAD_REQUEST);
    assert_eq!(reused.json()["error"], "invalid_grant");
    assert_eq!(reused.aadsts(), 70_008);
    assert_eq!(harness.refresh(&second).await.status, StatusCode::OK);
}

#[tokio::test]
async fn revoked_refresh_token_is_invalid_grant() {
    let harness = Harness::start().await;
    let (access, refresh) = harness.sign_in().await;
    harness.twin.revoke_refresh_tokens();
    let answer = harness.refresh(&refresh).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.json()["error"], "invalid_grant");
    assert_eq!(answer.aadsts(), 50_173);
    // Access tokens stay valid until they expire.
    assert_eq!(
        harness.get_with("v1.0/me/presence", &access).await.status,
        StatusCode::OK
    );
    // A new sign-in gets a working refresh token.
    let (_, fresh) = harness.sign_in().await;
    assert_eq!(harness.refresh(&fresh).await.status, StatusCode::OK);
}

#[tokio::test]
async fn refresh_token_expires_after_ninety_idle_days() {
    let harness = Harness::start().await;
    let (_, refresh) = harness.sign_in().await;
    harness
        .clock
        .advance(Duration::from_secs(89 * 24 * 3_600))
        .await;
    let kept = harness.refresh(&refresh).await;
    assert_eq!(kept.status, StatusCode::OK, "{}", kept.text);
    let rotated = kept.json()["refresh_token"].as_str().unwrap().to_string();
    harness
        .clock
        .advance(Duration::from_secs(90 * 24 * 3_600))
        .await;
    let expired = harness.refresh(&rotated).await;
    assert_eq!(expired.aadsts(), 700_082);
}

#[tokio::test]
async fn refresh_for_unconsented_scope_needs_consent() {
    let harness = Harness::start().await;
    let (_, refresh) = harness.sign_in().await;
    let client_id = harness.client_id();
    let answer = harness
        .post_form(
            TOKEN,
            &[
                ("client_id", &client_id),
                ("grant_type", "refresh_token"),
                ("refresh_token", &refresh),
                ("scope", "Mail.Read offline_access"),
            ],
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.aadsts(), 65_001);
    let other_client = harness
        .post_form(
            TOKEN,
            &[
                ("client_id", "11111111-2222-3333-4444-555555555555"),
                ("grant_type", "refresh_token"),
                ("refresh_token", &refresh),
            ],
        )
        .await;
    assert_eq!(other_client.aadsts(), 700_016);
}

#[tokio::test]
async fn no_refresh_token_without_offline_access() {
    let harness = Harness::start().await;
    let mut params = harness.authorize_params(&s256(VERIFIER), "S256");
    for (key, value) in params.iter_mut() {
        if key == "scope" {
            *value = "https://graph.microsoft.com/Presence.ReadWrite".into();
        }
    }
    let answer = harness.get(AUTHORIZE, &as_pairs(&params)).await;
    let code = answer.redirect_query().remove("code").unwrap();
    let token = harness.redeem(&code).await;
    assert_eq!(token.status, StatusCode::OK);
    let body = token.json();
    assert!(body.get("refresh_token").is_none(), "{body}");
    assert!(body["access_token"].is_string());
}

#[tokio::test]
async fn access_token_carries_consented_scopes_only() {
    let registration = AppRegistration {
        consented_scopes: vec![],
        ..AppRegistration::default()
    };
    let harness = Harness::with(TwinConfig {
        registration,
        ..TwinConfig::default()
    })
    .await;
    let mut params = harness.authorize_params(&s256(VERIFIER), "S256");
    for (key, value) in params.iter_mut() {
        if key == "scope" {
            *value = "Presence.Read offline_access".into();
        }
    }
    let code = harness
        .get(AUTHORIZE, &as_pairs(&params))
        .await
        .redirect_query()
        .remove("code")
        .unwrap();
    let body = harness.redeem(&code).await.json();
    assert_eq!(body["scope"], "Presence.Read");
    let access = body["access_token"].as_str().unwrap();
    assert_eq!(
        harness.get_with("v1.0/me/presence", access).await.status,
        StatusCode::OK
    );
    assert_eq!(
        harness.get_with("v1.0/me", access).await.status,
        StatusCode::FORBIDDEN
    );
    let write = harness.set_presence(access, "Busy", "InACall", None).await;
    assert_eq!(write.status, StatusCode::FORBIDDEN);
}

//! Graph conformance: `/me`, presence reads and the presence actions, with the request and
//! answer shapes of Microsoft's documented examples and the documented rules.

mod common;

use std::time::Duration;

use common::{pair, Harness};
use graph_twin::{AppRegistration, TwinConfig};
use reqwest::StatusCode;
use serde_json::{json, Value};

const MINUTE: Duration = Duration::from_secs(60);

fn check_graph_error(answer: &common::Answer, status: StatusCode, code: &str) -> Value {
    assert_eq!(answer.status, status, "{}", answer.text);
    let body = answer.json();
    assert_eq!(body["error"]["code"], code, "{body}");
    let inner = &body["error"]["innerError"];
    let date = inner["date"].as_str().unwrap_or_default();
    assert!(
        date.starts_with("2024-05-01T") && date.len() == 19,
        "{body}"
    );
    assert!(inner["request-id"].is_string(), "{body}");
    assert!(inner["client-request-id"].is_string(), "{body}");
    body
}

#[tokio::test]
async fn presence_answer_shape() {
    let harness = Harness::start().await;
    let (token, _) = harness.sign_in().await;
    let answer = harness
        .http
        .get(harness.url("v1.0/me/presence"))
        .bearer_auth(&token)
        .header("client-request-id", "7d3a9b2e-0000-4000-8000-000000000001")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);

    let headers = answer.headers().clone();
    assert_eq!(
        headers["client-request-id"],
        "7d3a9b2e-0000-4000-8000-000000000001"
    );
    assert_eq!(headers["request-id"].to_str().unwrap().len(), 36);

    let body: Value = answer.json().await.unwrap();
    let user_id = &harness.twin.config().user.id;
    assert_eq!(body["id"], json!(user_id));
    assert_eq!(body["availability"], "Available");
    assert_eq!(body["activity"], "Available");
    assert_eq!(
        body["outOfOfficeSettings"],
        json!({ "message": null, "isOutOfOffice": false })
    );
    assert!(body["statusMessage"].is_null());
    let context = body["@odata.context"].as_str().unwrap();
    assert!(
        context.ends_with(&format!(
            "v1.0/$metadata#users('{user_id}')/presence/$entity"
        )),
        "{context}"
    );
    let sequence = body["sequenceNumber"].as_str().unwrap();
    assert_eq!(sequence.len(), 11);
}

#[tokio::test]
async fn me_answer_shape() {
    let harness = Harness::start().await;
    let (token, _) = harness.sign_in().await;
    let body = harness.get_with("v1.0/me", &token).await.json();
    let user = &harness.twin.config().user;
    assert_eq!(body["id"], json!(user.id));
    assert_eq!(body["userPrincipalName"], json!(user.user_principal_name));
    assert_eq!(body["displayName"], json!(user.display_name));
    assert_eq!(body["mail"], json!(user.mail));
}

#[tokio::test]
async fn missing_unknown_and_expired_tokens() {
    let harness = Harness::start().await;
    let no_token = harness.get("v1.0/me/presence", &[]).await;
    let body = check_graph_error(
        &no_token,
        StatusCode::UNAUTHORIZED,
        "InvalidAuthenticationToken",
    );
    assert_eq!(body["error"]["message"], "Access token is empty.");
    assert!(no_token
        .header("www-authenticate")
        .is_some_and(|value| value.starts_with("Bearer")));

    let made_up = harness
        .get_with("v1.0/me/presence", "not-issued-here")
        .await;
    check_graph_error(
        &made_up,
        StatusCode::UNAUTHORIZED,
        "InvalidAuthenticationToken",
    );

    let (token, _) = harness.sign_in().await;
    harness
        .clock
        .advance(60 * MINUTE - Duration::from_millis(1))
        .await;
    assert_eq!(
        harness.get_with("v1.0/me/presence", &token).await.status,
        StatusCode::OK
    );
    harness.clock.advance(Duration::from_millis(1)).await;
    let expired = harness.get_with("v1.0/me/presence", &token).await;
    let body = check_graph_error(
        &expired,
        StatusCode::UNAUTHORIZED,
        "InvalidAuthenticationToken",
    );
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("expired"));
    for path in ["v1.0/me", "v1.0/me/presence/setPresence"] {
        let answer = harness.post_json(path, &token, &json!({})).await;
        assert_ne!(answer.status, StatusCode::OK, "{path}");
    }
}

#[tokio::test]
async fn expire_access_tokens_ends_them_now() {
    let harness = Harness::start().await;
    let (token, refresh) = harness.sign_in().await;
    harness.twin.expire_access_tokens();
    let answer = harness.set_presence(&token, "Busy", "InACall", None).await;
    check_graph_error(
        &answer,
        StatusCode::UNAUTHORIZED,
        "InvalidAuthenticationToken",
    );
    let fresh = harness.refresh(&refresh).await.json()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        harness
            .set_presence(&fresh, "Busy", "InACall", None)
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn set_presence_accepts_documented_pairs_only() {
    let harness = Harness::start().await;
    let (token, _) = harness.sign_in().await;
    let cases = [
        ("Available", "Available", true),
        ("Busy", "InACall", true),
        ("Busy", "InAConferenceCall", true),
        ("Away", "Away", true),
        ("DoNotDisturb", "Presenting", true),
        ("Busy", "Busy", false),
        ("DoNotDisturb", "DoNotDisturb", false),
        ("Busy", "InAMeeting", false),
        ("Available", "OutOfOffice", false),
        ("BeRightBack", "BeRightBack", false),
        ("Offline", "OffWork", false),
        ("busy", "inacall", false),
    ];
    for (availability, activity, accepted) in cases {
        let answer = harness
            .set_presence(&token, availability, activity, None)
            .await;
        if accepted {
            assert_eq!(
                answer.status,
                StatusCode::OK,
                "{availability}/{activity}: {}",
                answer.text
            );
            assert_eq!(answer.text, "");
        } else {
            check_graph_error(&answer, StatusCode::BAD_REQUEST, "InvalidArgument");
        }
    }
}

#[tokio::test]
async fn set_presence_request_checks() {
    let harness = Harness::start().await;
    let (token, _) = harness.sign_in().await;
    let client_id = harness.client_id();
    let path = "v1.0/me/presence/setPresence";
    // (body, expected message fragment)
    let cases = [
        (
            json!({ "availability": "Busy", "activity": "InACall" }),
            "[SessionId]: The SessionId field is required.",
        ),
        (
            json!({ "sessionId": "", "availability": "Busy", "activity": "InACall" }),
            "[SessionId]: The SessionId field is required.",
        ),
        (
            json!({ "sessionId": client_id, "activity": "InACall" }),
            "[Availability]",
        ),
        (
            json!({ "sessionId": client_id, "availability": "Busy" }),
            "[Activity]",
        ),
        (
            json!({ "sessionId": "22222222-3333-4444-5555-666666666666", "availability": "Busy", "activity": "InACall" }),
            "client) id",
        ),
        (
            json!({ "sessionId": client_id, "availability": "Busy", "activity": "InACall", "expirationDuration": "PT4M59S" }),
            "between 5 minutes",
        ),
        (
            json!({ "sessionId": client_id, "availability": "Busy", "activity": "InACall", "expirationDuration": "PT4H1S" }),
            "between 5 minutes",
        ),
        (
            json!({ "sessionId": client_id, "availability": "Busy", "activity": "InACall", "expirationDuration": "five minutes" }),
            "ISO 8601",
        ),
        (
            json!({ "sessionId": client_id, "availability": 3, "activity": "InACall" }),
            "not a string",
        ),
    ];
    for (body, fragment) in cases {
        let answer = harness.post_json(path, &token, &body).await;
        let error = check_graph_error(&answer, StatusCode::BAD_REQUEST, "InvalidArgument");
        let message = error["error"]["message"].as_str().unwrap();
        assert!(message.contains(fragment), "{body}: {message}");
    }
    for duration in ["PT5M", "PT4H", "PT1H30M"] {
        let answer = harness
            .set_presence(&token, "Busy", "InACall", Some(duration))
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{duration}: {}", answer.text);
    }
}

#[tokio::test]
async fn body_must_be_json() {
    let harness = Harness::start().await;
    let (token, _) = harness.sign_in().await;
    let url = harness.url("v1.0/me/presence/setPresence");
    let cases = [
        ("application/json", "{not json"),
        ("text/plain", "{}"),
        ("application/json", "[1]"),
    ];
    for (content_type, body) in cases {
        let answer = harness
            .http
            .post(url.clone())
            .bearer_auth(&token)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            answer.status(),
            StatusCode::BAD_REQUEST,
            "{content_type} {body}"
        );
        let body: Value = answer.json().await.unwrap();
        assert_eq!(body["error"]["code"], "BadRequest");
    }
}

#[tokio::test]
async fn session_id_required_before_permission() {
    let registration = AppRegistration {
        consented_scopes: vec!["User.Read".into()],
        ..AppRegistration::default()
    };
    let harness = Harness::with(TwinConfig {
        registration,
        ..TwinConfig::default()
    })
    .await;
    let token = harness.twin.issue_token_for("app");
    let no_session = harness
        .post_json("v1.0/me/presence/clearPresence", &token, &json!({}))
        .await;
    let body = check_graph_error(&no_session, StatusCode::BAD_REQUEST, "InvalidArgument");
    assert_eq!(
        body["error"]["message"],
        "[SessionId]: The SessionId field is required."
    );
    let empty_body = harness
        .http
        .post(harness.url("v1.0/me/presence/clearPresence"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(empty_body.status(), StatusCode::BAD_REQUEST);

    let forbidden = harness.clear_presence(&token).await;
    let body = check_graph_error(&forbidden, StatusCode::FORBIDDEN, "Forbidden");
    assert_eq!(body["error"]["message"], "");
    let read = harness.get_with("v1.0/me/presence", &token).await;
    check_graph_error(&read, StatusCode::FORBIDDEN, "Forbidden");
    for action in [
        "setPresence",
        "setUserPreferredPresence",
        "clearUserPreferredPresence",
    ] {
        let body = json!({ "sessionId": harness.client_id(), "availability": "Busy", "activity": "InACall" });
        let answer = harness
            .post_json(&format!("v1.0/me/presence/{action}"), &token, &body)
            .await;
        assert_eq!(
            answer.status,
            StatusCode::FORBIDDEN,
            "{action}: {}",
            answer.text
        );
    }
}

#[tokio::test]
async fn clear_presence_not_found_without_session() {
    let harness = Harness::start().await;
    let (token, _) = harness.sign_in().await;
    let answer = harness.clear_presence(&token).await;
    check_graph_error(&answer, StatusCode::NOT_FOUND, "NotFound");
    harness.set_presence(&token, "Busy", "InACall", None).await;
    assert_eq!(harness.clear_presence(&token).await.status, StatusCode::OK);
    assert_eq!(
        harness.clear_presence(&token).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn clearing_only_session_shows_offline() {
    let harness = Harness::with(TwinConfig {
        teams: None,
        ..TwinConfig::default()
    })
    .await;
    let (token, _) = harness.sign_in().await;
    assert_eq!(
        harness.presence_pair(&token).await,
        pair("Offline", "Offline")
    );
    harness.set_presence(&token, "Busy", "InACall", None).await;
    assert_eq!(harness.presence_pair(&token).await, pair("Busy", "InACall"));
    harness.clear_presence(&token).await;
    assert_eq!(
        harness.presence_pair(&token).await,
        pair("Offline", "Offline")
    );
}

#[tokio::test]
async fn session_expires_on_the_clock() {
    let harness = Harness::start().await;
    let (token, _) = harness.sign_in().await;
    harness
        .set_presence(&token, "Busy", "InACall", Some("PT5M"))
        .await;
    let session = harness
        .twin
        .app_session(&harness.client_id())
        .expect("a live session");
    assert_eq!(session.expires_at - session.set_at, 5 * MINUTE);
    harness
        .clock
        .advance(5 * MINUTE - Duration::from_millis(1))
        .await;
    assert_eq!(harness.presence_pair(&token).await, pair("Busy", "InACall"));
    harness.clock.advance(Duration::from_millis(1)).await;
    assert_eq!(
        harness.presence_pair(&token).await,
        pair("Available", "Available")
    );
    assert_eq!(harness.twin.app_session(&harness.client_id()), None);
    assert_eq!(
        harness.clear_presence(&token).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn default_expiration_is_five_minutes() {
    let harness = Harness::start().await;
    let (token, _) = harness.sign_in().await;
    harness.set_presence(&token, "Busy", "InACall", None).await;
    let session = harness.twin.app_session(&harness.client_id()).unwrap();
    assert_eq!(session.expires_at - session.set_at, 5 * MINUTE);
}

#[tokio::test]
async fn available_session_fades_over_http() {
    let harness = Harness::with(TwinConfig {
        teams: None,
        ..TwinConfig::default()
    })
    .await;
    let (token, _) = harness.sign_in().await;
    harness
        .set_presence(&token, "Available", "Available", Some("PT1H"))
        .await;
    harness.clock.advance(5 * MINUTE).await;
    assert_eq!(
        harness.presence_pair(&token).await,
        pair("Available", "AvailableInactive")
    );
    harness.clock.advance(5 * MINUTE).await;
    assert_eq!(harness.presence_pair(&token).await, pair("Away", "Away"));
}

#[tokio::test]
async fn aggregation_over_http() {
    let harness = Harness::start().await;
    let (token, _) = harness.sign_in().await;
    // (Teams client, app session, Graph shows)
    let cases = [
        (
            ("Available", "Available"),
            ("Busy", "InACall"),
            ("Busy", "InACall"),
        ),
        (
            ("DoNotDisturb", "Presenting"),
            ("Busy", "InACall"),
            ("DoNotDisturb", "Presenting"),
        ),
        (
            ("Away", "Away"),
            ("Available", "Available"),
            ("Available", "Available"),
        ),
        (
            ("Available", "Available"),
            ("Away", "Away"),
            ("Available", "Available"),
        ),
        (
            ("Busy", "InAMeeting"),
            ("Away", "Away"),
            ("Busy", "InAMeeting"),
        ),
    ];
    for (teams, app, shown) in cases {
        harness.twin.set_teams(teams.0, teams.1);
        assert_eq!(
            harness
                .set_presence(&token, app.0, app.1, None)
                .await
                .status,
            StatusCode::OK
        );
        assert_eq!(
            harness.presence_pair(&token).await,
            pair(shown.0, shown.1),
            "teams {teams:?} app {app:?}"
        );
        assert_eq!(harness.twin.presence().availability, shown.0);
    }
}

#[tokio::test]
async fn preferred_presence_over_http() {
    let harness = Harness::start().await;
    let (token, _) = harness.sign_in().await;
    let path = "v1.0/me/presence/setUserPreferredPresence";
    for (availability, activity, accepted) in [
        ("DoNotDisturb", "DoNotDisturb", true),
        ("Offline", "OffWork", true),
        ("BeRightBack", "BeRightBack", true),
        ("Busy", "Busy", true),
        ("Busy", "InACall", false),
        ("DoNotDisturb", "Presenting", false),
        ("busy", "busy", false),
    ] {
        let body = json!({ "availability": availability, "activity": activity, "expirationDuration": "PT8H" });
        let answer = harness.post_json(path, &token, &body).await;
        if accepted {
            assert_eq!(answer.status, StatusCode::OK, "{availability}/{activity}");
            assert_eq!(
                harness.presence_pair(&token).await,
                pair(availability, activity)
            );
        } else {
            check_graph_error(&answer, StatusCode::BAD_REQUEST, "InvalidArgument");
        }
    }
    let zero = json!({ "availability": "Away", "activity": "Away", "expirationDuration": "PT0S" });
    let answer = harness.post_json(path, &token, &zero).await;
    check_graph_error(&answer, StatusCode::BAD_REQUEST, "InvalidArgument");
    let missing = json!({ "activity": "Away" });
    let answer = harness.post_json(path, &token, &missing).await;
    check_graph_error(&answer, StatusCode::BAD_REQUEST, "InvalidArgument");
    assert_eq!(harness.presence_pair(&token).await, pair("Busy", "Busy"));

    // The preferred Busy/Busy outranks the app's call.
    harness.set_presence(&token, "Busy", "InACall", None).await;
    assert_eq!(harness.presence_pair(&token).await, pair("Busy", "Busy"));
    let cleared = harness
        .post_json(
            "v1.0/me/presence/clearUserPreferredPresence",
            &token,
            &json!({}),
        )
        .await;
    assert_eq!(cleared.status, StatusCode::OK);
    assert_eq!(harness.presence_pair(&token).await, pair("Busy", "InACall"));
}

#[tokio::test]
async fn preferred_presence_expires_over_http() {
    let config = TwinConfig {
        access_token_lifetime: 2 * 60 * MINUTE,
        ..TwinConfig::default()
    };
    let harness = Harness::with(config).await;
    let (token, _) = harness.sign_in().await;
    let body = json!({ "availability": "Away", "activity": "Away", "expirationDuration": "PT1H" });
    harness
        .post_json("v1.0/me/presence/setUserPreferredPresence", &token, &body)
        .await;
    assert_eq!(harness.presence_pair(&token).await, pair("Away", "Away"));
    harness.clock.advance(60 * MINUTE).await;
    assert_eq!(
        harness.presence_pair(&token).await,
        pair("Available", "Available")
    );
}

#[tokio::test]
async fn user_paths_for_own_id_only() {
    let harness = Harness::start().await;
    let (token, _) = harness.sign_in().await;
    let user = harness.twin.config().user.clone();
    for id in [user.id.as_str(), user.user_principal_name.as_str()] {
        let answer = harness
            .get_with(&format!("v1.0/users/{id}/presence"), &token)
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{id}");
        let body = json!({ "sessionId": harness.client_id(), "availability": "Busy", "activity": "InACall" });
        let answer = harness
            .post_json(
                &format!("v1.0/users/{id}/presence/setPresence"),
                &token,
                &body,
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{id}");
        assert!(
            harness.twin.app_session(&harness.client_id()).is_some(),
            "{id}"
        );
        assert_eq!(
            harness.clear_presence(&token).await.status,
            StatusCode::OK,
            "{id}"
        );
        let profile = harness.get_with(&format!("v1.0/users/{id}"), &token).await;
        assert_eq!(profile.json()["id"], json!(user.id), "{id}");
    }

    // Another user's id is not found, for reads and writes alike.
    let stranger = "00000000-1111-2222-3333-444444444444";
    let profile = harness
        .get_with(&format!("v1.0/users/{stranger}"), &token)
        .await;
    check_graph_error(&profile, StatusCode::NOT_FOUND, "Request_ResourceNotFound");
    let body =
        json!({ "sessionId": harness.client_id(), "availability": "Busy", "activity": "InACall" });
    let path = format!("v1.0/users/{stranger}/presence/setPresence");
    let write = harness.post_json(&path, &token, &body).await;
    check_graph_error(&write, StatusCode::NOT_FOUND, "Request_ResourceNotFound");

    let unknown_path = harness.get_with("v1.0/me/calendar", &token).await;
    check_graph_error(&unknown_path, StatusCode::BAD_REQUEST, "BadRequest");
    let other = harness
        .get_with(
            "v1.0/users/00000000-1111-2222-3333-444444444444/presence",
            &token,
        )
        .await;
    check_graph_error(&other, StatusCode::NOT_FOUND, "Request_ResourceNotFound");
    let unknown_action = harness
        .post_json("v1.0/me/presence/setEverything", &token, &json!({}))
        .await;
    check_graph_error(&unknown_action, StatusCode::BAD_REQUEST, "BadRequest");
}

#[tokio::test]
async fn out_of_office_shows_in_presence() {
    let harness = Harness::start().await;
    let (token, _) = harness.sign_in().await;
    harness.twin.set_out_of_office(true);
    let body = harness.get_with("v1.0/me/presence", &token).await.json();
    assert_eq!(body["activity"], "OutOfOffice");
    assert_eq!(body["outOfOfficeSettings"]["isOutOfOffice"], true);
    harness.set_presence(&token, "Busy", "InACall", None).await;
    let body = harness.get_with("v1.0/me/presence", &token).await.json();
    assert_eq!(
        (body["availability"].as_str(), body["activity"].as_str()),
        (Some("Busy"), Some("InACall"))
    );
    assert_eq!(body["outOfOfficeSettings"]["isOutOfOffice"], true);
}

#[tokio::test]
async fn sequence_number_sorts_by_age() {
    let harness = Harness::start().await;
    let (token, _) = harness.sign_in().await;
    let read = || async {
        harness.get_with("v1.0/me/presence", &token).await.json()["sequenceNumber"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let first = read().await;
    assert_eq!(read().await, first);
    harness.twin.set_teams("Busy", "InAMeeting");
    let second = read().await;
    assert!(second > first, "{second} after {first}");
    harness
        .set_presence(&token, "DoNotDisturb", "Presenting", None)
        .await;
    let third = read().await;
    assert!(third > second);
    assert_eq!(third.len(), first.len());
}

#[tokio::test]
async fn peer_shares_the_session() {
    let harness = Harness::with(TwinConfig {
        teams: None,
        ..TwinConfig::default()
    })
    .await;
    let (token, _) = harness.sign_in().await;
    let peer = harness.twin.issue_token_for("peer");
    assert_eq!(
        harness
            .set_presence(&peer, "Busy", "InACall", None)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(harness.presence_pair(&token).await, pair("Busy", "InACall"));
    assert_eq!(harness.clear_presence(&token).await.status, StatusCode::OK);
    assert_eq!(
        harness.presence_pair(&peer).await,
        pair("Offline", "Offline")
    );
}

#[tokio::test]
async fn status_message_over_http() {
    let harness = Harness::start().await;
    let (token, _) = harness.sign_in().await;
    let path = "v1.0/me/presence/setStatusMessage";
    let body = json!({
        "statusMessage": {
            "message": { "content": "Hey I'm currently in a meeting.", "contentType": "text" },
            "expiryDateTime": { "dateTime": "2024-05-01T13:30:05.0000000", "timeZone": "UTC" }
        }
    });
    let answer = harness.post_json(path, &token, &body).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let presence = harness.get_with("v1.0/me/presence", &token).await.json();
    let message = &presence["statusMessage"];
    assert_eq!(
        message["message"]["content"],
        "Hey I'm currently in a meeting."
    );
    assert_eq!(message["message"]["contentType"], "text");
    assert_eq!(
        message["expiryDateTime"],
        json!({ "dateTime": "2024-05-01T13:30:05.0000000", "timeZone": "UTC" })
    );
    assert_eq!(message["publishedDateTime"], "2024-05-01T12:30:05.0000000Z");

    // The expiry is one hour after the clock's wall time.
    harness
        .clock
        .advance(60 * MINUTE - Duration::from_secs(1))
        .await;
    let presence = harness.get_with("v1.0/me/presence", &token).await.json();
    assert!(presence["statusMessage"].is_object());
    harness.clock.advance(Duration::from_secs(1)).await;
    let fresh = harness.twin.issue_token_for("app");
    let presence = harness.get_with("v1.0/me/presence", &fresh).await.json();
    assert!(presence["statusMessage"].is_null(), "{presence}");
}

#[tokio::test]
async fn status_message_request_checks() {
    let harness = Harness::start().await;
    let (token, _) = harness.sign_in().await;
    let path = "v1.0/me/presence/setStatusMessage";
    let cases = [
        json!({}),
        json!({ "statusMessage": "text" }),
        json!({ "statusMessage": {} }),
        json!({ "statusMessage": { "message": { "content": "x", "contentType": "html" } } }),
        json!({ "statusMessage": { "message": { "content": 5 } } }),
        json!({ "statusMessage": { "message": { "content": "x" }, "expiryDateTime": { "dateTime": "soon", "timeZone": "UTC" } } }),
    ];
    for body in cases {
        let answer = harness.post_json(path, &token, &body).await;
        check_graph_error(&answer, StatusCode::BAD_REQUEST, "InvalidArgument");
    }
    // Set and clear through the handle; an empty text clears over HTTP too.
    harness.twin.set_status_message(Some("Back at 3"));
    assert_eq!(
        harness
            .twin
            .presence()
            .status_message
            .map(|m| m.content)
            .as_deref(),
        Some("Back at 3")
    );
    let clear = json!({ "statusMessage": { "message": { "content": "", "contentType": "text" } } });
    assert_eq!(
        harness.post_json(path, &token, &clear).await.status,
        StatusCode::OK
    );
    assert_eq!(harness.twin.presence().status_message, None);
}

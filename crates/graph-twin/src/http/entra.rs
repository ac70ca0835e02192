//! Entra ID's v2.0 endpoints: `authorize`, `token` and `devicecode` under `/{tenant}/oauth2/v2.0/`,
//! and the page where the user enters a device code.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::json;
use url::Url;

use super::{entra_error, no_store, RequestContext};
use crate::config::SignInBehaviour;
use crate::entra::{redirect_uri_matches, AuthorizeRecord, EntraError, IssuedTokens, PkceMethod};
use crate::scopes::{ScopeError, ScopeRequest};
use crate::Shared;

const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// Checks the `{tenant}` path segment against the registration.
fn check_tenant(shared: &Shared, tenant: &str) -> Result<(), EntraError> {
    let registration = &shared.config.registration;
    if tenant.eq_ignore_ascii_case(&registration.tenant_id) {
        return Ok(());
    }
    let multi_tenant_authority =
        tenant.eq_ignore_ascii_case("organizations") || tenant.eq_ignore_ascii_case("common");
    if multi_tenant_authority && registration.multi_tenant {
        return Ok(());
    }
    if multi_tenant_authority {
        return Err(EntraError {
            status: 400,
            error: "invalid_request",
            code: 50_194,
            message: format!(
                "Application '{}' is not configured as a multi-tenant application. Usage of the /common endpoint is not supported for such applications created after '10/15/2018'. Use a tenant-specific endpoint or configure the application to be multi-tenant.",
                registration.client_id
            ),
        });
    }
    Err(EntraError {
        status: 400,
        error: "invalid_request",
        code: 90_002,
        message: format!("Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."),
    })
}

/// Checks `client_id` against the registration.
fn check_client(shared: &Shared, client_id: Option<&str>) -> Result<String, EntraError> {
    let client_id = client_id
        .filter(|id| !id.is_empty())
        .ok_or_else(|| EntraError::missing("client_id"))?;
    let registration = &shared.config.registration;
    if !client_id.eq_ignore_ascii_case(&registration.client_id) {
        return Err(EntraError {
            status: 400,
            error: "unauthorized_client",
            code: 700_016,
            message: format!(
                "Application with identifier '{client_id}' was not found in the directory '{}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.",
                registration.tenant_id
            ),
        });
    }
    Ok(registration.client_id.clone())
}

/// Builds the page Entra shows when it cannot send the user back to the app.
fn error_page(error: &EntraError) -> Response {
    let text = html_escape(&error.description());
    let page = format!(
        "<!doctype html><html><head><title>Sign in to your account</title></head><body><h1>Sorry, but we're having trouble signing you in.</h1><p id=\"error\">{text}</p></body></html>"
    );
    (StatusCode::BAD_REQUEST, Html(page)).into_response()
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Sends the user back to the app with `error`, `error_description` and `state`.
fn redirect_error(redirect_uri: &Url, error: &EntraError, state: Option<&str>) -> Response {
    let mut target = redirect_uri.clone();
    {
        let mut query = target.query_pairs_mut();
        query.append_pair("error", error.error);
        query.append_pair("error_description", &error.description());
        if let Some(state) = state {
            query.append_pair("state", state);
        }
    }
    found(&target)
}

/// Builds a `302 Found` to `target`, the status Entra uses for the authorization response.
fn found(target: &Url) -> Response {
    (
        StatusCode::FOUND,
        [(header::LOCATION, target.as_str().to_string())],
    )
        .into_response()
}

/// Builds the error a [`SignInBehaviour::Error`] number redirects with.
fn sign_in_error(shared: &Shared, code: u32) -> EntraError {
    let client_id = &shared.config.registration.client_id;
    let (error, message) = match code {
        50_076 => ("interaction_required", "Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access 'https://graph.microsoft.com'.".to_string()),
        53_000 => ("access_denied", "Device is not in required device state: compliant. Conditional Access policy requires a compliant device, and the device is not compliant. The user must enroll their device with an approved MDM provider like Intune.".to_string()),
        53_003 => ("access_denied", "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.".to_string()),
        65_001 => ("consent_required", format!("The user or administrator has not consented to use the application with ID '{client_id}'. Send an interactive authorization request for this user and resource.")),
        90_094 => ("access_denied", "The grant requires admin permission.".to_string()),
        7_000_112 => ("unauthorized_client", format!("Application '{client_id}' is disabled.")),
        50_194 => ("invalid_request", format!("Application '{client_id}' is not configured as a multi-tenant application. Use a tenant-specific endpoint or configure the application to be multi-tenant.")),
        _ => ("invalid_request", "The sign-in failed.".to_string()),
    };
    EntraError {
        status: 400,
        error,
        code,
        message,
    }
}

/// `GET /{tenant}/oauth2/v2.0/authorize`.
pub(super) async fn authorize(
    State(shared): State<Arc<Shared>>,
    Path(tenant): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let param = |name: &str| query.get(name).map(String::as_str);

    // Until the redirect URI is known to belong to the app, errors show on a page: Entra never
    // redirects to an address it has not verified.
    let tenant_result = check_tenant(&shared, &tenant);
    if let Err(error) = &tenant_result {
        if error.code != 50_194 {
            return error_page(error);
        }
    }
    let client_id = match check_client(&shared, param("client_id")) {
        Ok(client_id) => client_id,
        Err(error) => return error_page(&error),
    };
    let registered = &shared.config.registration.redirect_uris;
    let requested_redirect = param("redirect_uri")
        .map(str::to_string)
        .or_else(|| registered.first().cloned());
    let redirect = requested_redirect
        .as_deref()
        .filter(|requested| {
            registered
                .iter()
                .any(|uri| redirect_uri_matches(uri, requested))
        })
        .and_then(|requested| Url::parse(requested).ok());
    let Some(redirect) = redirect else {
        let shown = requested_redirect.unwrap_or_default();
        return error_page(&EntraError {
            status: 400,
            error: "invalid_request",
            code: 50_011,
            message: format!("The redirect URI '{shown}' specified in the request does not match the redirect URIs configured for the application '{client_id}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal."),
        });
    };
    let state = param("state");
    if let Err(error) = tenant_result {
        return redirect_error(&redirect, &error, state);
    }

    // From here on errors go back to the app.
    if param("response_type") != Some("code") {
        let error = EntraError {
            status: 400,
            error: "unsupported_response_type",
            code: 700_054,
            message: format!(
                "response_type '{}' is not enabled for the application.",
                param("response_type").unwrap_or_default()
            ),
        };
        return redirect_error(&redirect, &error, state);
    }
    if let Some(mode) = param("response_mode").filter(|mode| *mode != "query") {
        // FIXME: fragment and form_post response modes are not served; a client that needs
        // them gets this error. Implementing them means building the fragment or an
        // auto-submitting HTML form instead of a query redirect.
        let error = EntraError {
            status: 400,
            error: "invalid_request",
            code: 900_144,
            message: format!(
                "response_mode '{mode}' is not supported by this service; use 'query'."
            ),
        };
        return redirect_error(&redirect, &error, state);
    }
    let scopes = match ScopeRequest::parse(param("scope").unwrap_or_default()) {
        Ok(scopes) => scopes,
        Err(ScopeError::Missing) => {
            return redirect_error(&redirect, &EntraError::missing("scope"), state)
        }
        Err(ScopeError::Invalid(scope)) => {
            return redirect_error(&redirect, &crate::entra::invalid_scope(&scope), state)
        }
    };
    let challenge = param("code_challenge")
        .filter(|c| !c.is_empty())
        .map(str::to_string);
    // RFC 7636 allows challenges of 43 to 128 characters; Entra rejects other sizes with
    // AADSTS501491 and unknown methods with AADSTS50149.
    let method = match (
        challenge.as_ref(),
        PkceMethod::parse(param("code_challenge_method")),
    ) {
        (None, _) => None,
        (Some(_), None) => {
            let error = EntraError {
                status: 400,
                error: "invalid_request",
                code: 50_149,
                message: "Invalid Code_Challenge_method parameter.".to_string(),
            };
            return redirect_error(&redirect, &error, state);
        }
        (Some(challenge), Some(_)) if !(43..=128).contains(&challenge.len()) => {
            let error = EntraError {
                status: 400,
                error: "invalid_request",
                code: 501_491,
                message: "Invalid size of Code_Challenge parameter.".to_string(),
            };
            return redirect_error(&redirect, &error, state);
        }
        (Some(_), Some(method)) => Some(method),
    };

    // The user's part: signed in already, consent or an error.
    let behaviour = shared.lock().sign_in.clone();
    match behaviour {
        SignInBehaviour::AutoConsent => {}
        SignInBehaviour::AccessDenied => {
            let error = EntraError {
                status: 400,
                error: "access_denied",
                code: 65_004,
                message: "User declined to consent to access the app.".to_string(),
            };
            return redirect_error(&redirect, &error, state);
        }
        SignInBehaviour::Error(code) => {
            return redirect_error(&redirect, &sign_in_error(&shared, code), state)
        }
    }

    let record = AuthorizeRecord {
        client_id,
        redirect_uri: param("redirect_uri")
            .unwrap_or(redirect.as_str())
            .to_string(),
        scope: param("scope").unwrap_or_default().to_string(),
        state: state.map(str::to_string),
        code_challenge_method: method,
    };
    let now = shared.now();
    let code = {
        let mut store = shared.lock();
        store.tokens.consent_to(&scopes);
        store
            .tokens
            .issue_code(&shared.config, now, record, scopes, challenge)
    };
    let mut target = redirect;
    {
        let mut query = target.query_pairs_mut();
        query.append_pair("code", &code);
        if let Some(state) = state {
            query.append_pair("state", state);
        }
    }
    found(&target)
}

/// Reads an `application/x-www-form-urlencoded` body; anything else reads as empty, so the
/// request fails on its first missing parameter as it does at Entra.
fn form(headers: &HeaderMap, body: &[u8]) -> HashMap<String, String> {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    if !is_form {
        return HashMap::new();
    }
    url::form_urlencoded::parse(body).into_owned().collect()
}

fn token_answer(tokens: IssuedTokens) -> Response {
    let mut body = json!({
        "token_type": "Bearer",
        "scope": tokens.scope,
        "expires_in": tokens.expires_in,
        "ext_expires_in": tokens.expires_in,
        "access_token": tokens.access_token,
    });
    if let Some(refresh_token) = tokens.refresh_token {
        body["refresh_token"] = json!(refresh_token);
    }
    let mut response = Json(body).into_response();
    no_store(response.headers_mut());
    response
}

/// `POST /{tenant}/oauth2/v2.0/token`.
pub(super) async fn token(
    State(shared): State<Arc<Shared>>,
    Extension(context): Extension<RequestContext>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = form(&headers, &body);
    match redeem(&shared, &context, &tenant, &form) {
        Ok(tokens) => token_answer(tokens),
        Err(error) => {
            tracing::debug!(
                error = error.error,
                code = error.code,
                "token request refused"
            );
            entra_error(&shared, &context, &error)
        }
    }
}

fn redeem(
    shared: &Shared,
    context: &RequestContext,
    tenant: &str,
    form: &HashMap<String, String>,
) -> Result<IssuedTokens, EntraError> {
    let param = |name: &str| {
        form.get(name)
            .map(String::as_str)
            .filter(|value| !value.is_empty())
    };
    check_tenant(shared, tenant)?;
    let grant_type = param("grant_type").ok_or_else(|| EntraError::missing("grant_type"))?;
    let client_id = check_client(shared, param("client_id"))?;
    if param("client_secret").is_some() || param("client_assertion").is_some() {
        return Err(EntraError {
            status: 401,
            error: "invalid_client",
            code: 700_025,
            message: "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.".to_string(),
        });
    }

    let now = shared.now();
    let config = &shared.config;
    let mut state = shared.lock();
    match grant_type {
        "authorization_code" => {
            let code = param("code").ok_or_else(|| EntraError::missing("code"))?;
            let redirect_uri =
                param("redirect_uri").ok_or_else(|| EntraError::missing("redirect_uri"))?;
            state
                .tokens
                .redeem_code(config, now, code, redirect_uri, param("code_verifier"))
        }
        "refresh_token" => {
            let refresh_token =
                param("refresh_token").ok_or_else(|| EntraError::missing("refresh_token"))?;
            if let Some(actor) = state.tokens.actor_of(refresh_token).map(str::to_string) {
                state.log.set_actor(context.log_id, &actor);
            }
            state.tokens.redeem_refresh_token(
                config,
                now,
                &client_id,
                refresh_token,
                param("scope"),
            )
        }
        DEVICE_CODE_GRANT => {
            if !config.registration.allow_public_client_flows {
                return Err(EntraError {
                    status: 401,
                    error: "invalid_client",
                    code: 7_000_218,
                    message: "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.".to_string(),
                });
            }
            let device_code =
                param("device_code").ok_or_else(|| EntraError::missing("device_code"))?;
            state.tokens.poll_device_code(config, now, device_code)
        }
        other => Err(EntraError {
            status: 400,
            error: "unsupported_grant_type",
            code: 70_003,
            message: format!("The app requested an unsupported grant type '{other}'."),
        }),
    }
}

/// `POST /{tenant}/oauth2/v2.0/devicecode`.
pub(super) async fn device_code(
    State(shared): State<Arc<Shared>>,
    Extension(context): Extension<RequestContext>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = form(&headers, &body);
    let param = |name: &str| {
        form.get(name)
            .map(String::as_str)
            .filter(|value| !value.is_empty())
    };
    let started = check_tenant(&shared, &tenant)
        .and_then(|()| check_client(&shared, param("client_id")))
        .and_then(|_client_id| {
            let scopes = ScopeRequest::parse(param("scope").unwrap_or_default()).map_err(
                |error| match error {
                    ScopeError::Missing => EntraError::missing("scope"),
                    ScopeError::Invalid(scope) => crate::entra::invalid_scope(&scope),
                },
            )?;
            let now = shared.now();
            Ok(shared
                .lock()
                .tokens
                .start_device_sign_in(&shared.config, now, scopes))
        });
    let authorization = match started {
        Ok(authorization) => authorization,
        Err(error) => return entra_error(&shared, &context, &error),
    };

    if shared.config.demo {
        let shared = shared.clone();
        let user_code = authorization.user_code.clone();
        tokio::spawn(async move {
            shared.clock.sleep(shared.config.demo_approval_delay).await;
            let now = shared.now();
            shared
                .lock()
                .tokens
                .finish_device_sign_in(now, &user_code, true);
            tracing::info!("demo: device sign-in approved");
        });
    }

    let verification_uri = format!("{}devicelogin", shared.base_url);
    Json(json!({
        "user_code": authorization.user_code,
        "device_code": authorization.device_code,
        "verification_uri": verification_uri,
        "expires_in": authorization.expires_in,
        "interval": authorization.interval,
        "message": format!(
            "To sign in, use a web browser to open the page {verification_uri} and enter the code {} to authenticate.",
            authorization.user_code
        ),
    }))
    .into_response()
}

/// `GET /devicelogin`: a form to enter a user code, and its approve or decline action.
pub(super) async fn device_login(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let user_code = query
        .get("user_code")
        .map(String::as_str)
        .unwrap_or_default();
    let action = query.get("action").map(String::as_str);
    let message = match action {
        Some(action @ ("approve" | "decline")) => {
            let now = shared.now();
            let done =
                shared
                    .lock()
                    .tokens
                    .finish_device_sign_in(now, user_code, action == "approve");
            match (done, action) {
                (true, "approve") => "You have signed in. You may now close this window.",
                (true, _) => "You declined the sign-in. You may now close this window.",
                (false, _) => {
                    "That code is not valid or has expired. Check the code and try again."
                }
            }
        }
        _ => "Enter the code shown by the application.",
    };
    Html(format!(
        "<!doctype html><html><head><title>Enter code</title></head><body><h1>Enter code</h1><p>{}</p>\
         <form method=\"get\"><input name=\"user_code\" value=\"{}\" autofocus>\
         <button name=\"action\" value=\"approve\">Sign in</button>\
         <button name=\"action\" value=\"decline\">Decline</button></form></body></html>",
        html_escape(message),
        html_escape(user_code)
    ))
    .into_response()
}

//! Sign-in against the Graph twin over loopback: browser with PKCE, Entra ID errors, the
//! loopback listener's rules, "Sign in with a code", refresh rotation and revocation.

mod common;

use std::sync::Arc;
use std::time::Duration;

use clock::SharedClock;
use common::{custom_browser, get_and_record, location, redirect_and_state, Harness, Seen};
use graph::{
    AuthError, EntraErrorKind, MemoryStoreRule, Persistence, Restored, SignInState, TokenStore,
};
use graph_twin::{Endpoint, PkceMethod, SignInBehaviour, TwinConfig};

const FIVE_MINUTES: Duration = Duration::from_secs(300);

/// Whether an error kind is the expected one.
type KindCheck = fn(&EntraErrorKind) -> bool;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_sign_in_uses_pkce_s256() {
    let h = Harness::start().await;
    let persistence = h.sign_in().await;
    assert_eq!(persistence, Persistence::Keyring);
    assert_eq!(
        h.auth.state(),
        SignInState::SignedIn {
            persistence: Persistence::Keyring
        }
    );

    let authorizations = h.twin.authorizations();
    assert_eq!(authorizations.len(), 1);
    let record = &authorizations[0];
    assert_eq!(record.code_challenge_method, Some(PkceMethod::S256));
    let redirect = url::Url::parse(&record.redirect_uri).unwrap();
    assert_eq!(redirect.scheme(), "http");
    assert_eq!(redirect.host_str(), Some("localhost"));
    assert!(
        redirect.port().is_some(),
        "redirect carries the bound port: {redirect}"
    );
    assert_eq!(redirect.path(), "/");
    for scope in ["Presence.ReadWrite", "offline_access", "User.Read"] {
        assert!(
            record.scope.split(' ').any(|s| s == scope),
            "scope {scope} in {}",
            record.scope
        );
    }
    assert_eq!(h.count(Endpoint::Token), 1, "one code exchange");

    // The 1,900-character refresh token is in the keyring in two chunks and a head.
    let stored = TokenStore::new(Arc::new(h.keyring.clone()), h.config.keyring_account())
        .load()
        .unwrap()
        .expect("refresh token stored");
    assert_eq!(stored.len(), 1900);
    assert_eq!(h.keyring.snapshot().len(), 3);

    let account = h.client.me().await.expect("GET /me works");
    assert_eq!(
        account.user_principal_name,
        h.twin.config().user.user_principal_name
    );
    assert_eq!(
        account.display_name.as_deref(),
        Some(h.twin.config().user.display_name.as_str())
    );
    let presence = h
        .client
        .get_presence()
        .await
        .expect("GET /me/presence works");
    assert_eq!(presence.availability, "Available");
}

/// Each Entra ID error redirected to the listener ends the sign-in with its code and action,
/// and never leads to a code exchange.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entra_error_callbacks_are_typed() {
    let cases: Vec<(SignInBehaviour, Option<u32>, KindCheck)> = vec![
        (SignInBehaviour::Error(65001), Some(65001), |kind| {
            matches!(kind, EntraErrorKind::ConsentRequired { .. })
        }),
        (SignInBehaviour::Error(90094), Some(90094), |kind| {
            matches!(kind, EntraErrorKind::ConsentRequired { .. })
        }),
        (SignInBehaviour::Error(50076), Some(50076), |kind| {
            *kind == EntraErrorKind::ConditionalAccess
        }),
        (SignInBehaviour::Error(53000), Some(53000), |kind| {
            *kind == EntraErrorKind::ConditionalAccess
        }),
        (SignInBehaviour::Error(53003), Some(53003), |kind| {
            *kind == EntraErrorKind::ConditionalAccess
        }),
        (SignInBehaviour::Error(7000112), Some(7000112), |kind| {
            *kind == EntraErrorKind::AppDisabled
        }),
        (SignInBehaviour::AccessDenied, Some(65004), |kind| {
            *kind == EntraErrorKind::Declined
        }),
    ];
    for (behaviour, code, kind_ok) in cases {
        let config = TwinConfig {
            sign_in: behaviour.clone(),
            ..TwinConfig::default()
        };
        let h = Harness::with(config, MemoryStoreRule::WindowsSize).await;
        let browser = graph::scripted_browser(h.shared_clock());
        let error = h
            .auth
            .sign_in_browser(&browser, FIVE_MINUTES)
            .await
            .unwrap_err();
        let AuthError::Entra(entra) = &error else {
            panic!("{behaviour:?}: expected an Entra error, got {error:?}");
        };
        assert_eq!(entra.code, code, "{behaviour:?}");
        assert!(kind_ok(&entra.kind), "{behaviour:?}: kind {:?}", entra.kind);
        assert_eq!(
            h.count(Endpoint::Token),
            0,
            "{behaviour:?}: no code exchange"
        );
        assert_eq!(h.auth.state(), SignInState::SignedOut, "{behaviour:?}");
        if let EntraErrorKind::ConsentRequired { admin_consent_url } = &entra.kind {
            let expected = format!(
                "{}organizations/adminconsent?client_id={}",
                h.twin.authority_host(),
                h.config.client_id
            );
            assert_eq!(admin_consent_url.as_str(), expected);
            assert!(
                error.to_string().contains("ask your administrator"),
                "{error}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_tenant_app_asks_for_tenant_id() {
    let mut config = TwinConfig::default();
    config.registration.multi_tenant = false;
    let h = Harness::with(config, MemoryStoreRule::WindowsSize).await;
    let browser = graph::scripted_browser(h.shared_clock());
    let error = h
        .auth
        .sign_in_browser(&browser, FIVE_MINUTES)
        .await
        .unwrap_err();
    let AuthError::Entra(entra) = &error else {
        panic!("expected an Entra error, got {error:?}")
    };
    assert_eq!(entra.code, Some(50194));
    assert_eq!(entra.kind, EntraErrorKind::TenantRequired);
    assert_eq!(error.kind(), "tenant-required");
    assert!(error.to_string().contains("set the tenant id"), "{error}");
    assert_eq!(h.count(Endpoint::Token), 0);
}

/// Entra ID shows a wrong redirect URI on its own page and never calls the listener, so the
/// sign-in ends at the timeout; a 50011 error that does reach the listener is typed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_redirect_is_reported() {
    let mut config = TwinConfig::default();
    config.registration.redirect_uris = vec!["https://app.example/callback".to_owned()];
    let h = Harness::with(config, MemoryStoreRule::WindowsSize).await;
    let (browser, seen) = custom_browser(h.shared_clock(), |authorize, client, seen| async move {
        get_and_record(&client, authorize, &seen).await;
    });
    let auth = Arc::clone(&h.auth);
    let sign_in = tokio::spawn(async move { auth.sign_in_browser(&browser, FIVE_MINUTES).await });
    common::wait_until(|| !seen.lock().unwrap().is_empty()).await;
    assert_eq!(
        seen.lock().unwrap()[0],
        Seen::Status(400),
        "Entra's error page"
    );
    h.clock.advance(FIVE_MINUTES).await;
    let error = sign_in.await.unwrap().unwrap_err();
    assert!(matches!(error, AuthError::CallbackTimeout(_)), "{error:?}");
    assert_eq!(h.count(Endpoint::Token), 0);

    // The same code as an error redirect to the listener.
    let h = Harness::start().await;
    let (browser, _seen) = custom_browser(h.shared_clock(), |authorize, client, seen| async move {
        let (mut redirect, state) = redirect_and_state(&authorize);
        redirect
            .query_pairs_mut()
            .append_pair("error", "invalid_request")
            .append_pair(
                "error_description",
                "AADSTS50011: The redirect URI does not match.",
            )
            .append_pair("state", &state);
        get_and_record(&client, redirect, &seen).await;
    });
    let error = h
        .auth
        .sign_in_browser(&browser, FIVE_MINUTES)
        .await
        .unwrap_err();
    let AuthError::Entra(entra) = &error else {
        panic!("expected an Entra error, got {error:?}")
    };
    assert_eq!(entra.kind, EntraErrorKind::WrongRedirect);
    assert!(error.to_string().contains("AADSTS50011"), "{error}");
    assert_eq!(h.count(Endpoint::Token), 0);
}

/// Stray requests and a wrong `state` get 400 and change nothing; the real callback completes
/// the sign-in; after it the listener is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listener_rejects_stray_and_wrong_state() {
    let h = Harness::start().await;
    let (browser, seen) = custom_browser(h.shared_clock(), |authorize, client, seen| async move {
        let (redirect, state) = redirect_and_state(&authorize);
        let mut stray = redirect.clone();
        stray.set_path("/favicon.ico");
        get_and_record(&client, stray, &seen).await;
        let mut forged = redirect.clone();
        forged
            .query_pairs_mut()
            .append_pair("code", "forged-code")
            .append_pair("state", "forged");
        get_and_record(&client, forged, &seen).await;
        let mut no_state = redirect.clone();
        no_state
            .query_pairs_mut()
            .append_pair("code", "forged-code");
        get_and_record(&client, no_state, &seen).await;

        // The real round: the authorize endpoint redirects to the listener.
        let answer = get_and_record(&client, authorize, &seen)
            .await
            .expect("twin answers");
        let callback = location(&answer);
        assert_eq!(redirect_and_state_of_callback(&callback), Some(state));
        get_and_record(&client, callback.clone(), &seen).await;

        // A request after the callback finds no listener.
        tokio::time::sleep(Duration::from_millis(50)).await;
        get_and_record(&client, callback, &seen).await;
    });
    let persistence = h
        .auth
        .sign_in_browser(&browser, FIVE_MINUTES)
        .await
        .expect("signed in");
    assert_eq!(persistence, Persistence::Keyring);
    common::wait_until(|| seen.lock().unwrap().len() == 6).await;
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        vec![
            Seen::Status(400),
            Seen::Status(400),
            Seen::Status(400),
            Seen::Status(302),
            Seen::Status(200),
            Seen::ConnectionFailed,
        ]
    );
    assert_eq!(
        h.count(Endpoint::Token),
        1,
        "only the real code is exchanged"
    );
}

fn redirect_and_state_of_callback(callback: &url::Url) -> Option<String> {
    callback
        .query_pairs()
        .find(|(key, _)| key == "state")
        .map(|(_, value)| value.into_owned())
}

/// The listening sockets of the sign-in are bound to 127.0.0.1 and, where the machine has IPv6,
/// to ::1, and nothing else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listener_binds_loopback_only() {
    let h = Harness::start().await;
    let observed = Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = Arc::clone(&observed);
    let inner = graph::scripted_browser(h.shared_clock());
    let browser: graph::OpenUrl = Box::new(move |authorize: &url::Url| {
        let (redirect, _) = redirect_and_state(authorize);
        let port = redirect.port().expect("redirect has a port");
        *record.lock().unwrap() = listening_addresses(port);
        inner(authorize)
    });
    h.auth
        .sign_in_browser(&browser, FIVE_MINUTES)
        .await
        .expect("signed in");
    let addresses = observed.lock().unwrap().clone();
    let mut expected = vec!["127.0.0.1".to_owned()];
    if std::net::TcpListener::bind((std::net::Ipv6Addr::LOCALHOST, 0)).is_ok() {
        // ::1 as /proc/net/tcp6 prints it: four 32-bit words in host byte order.
        expected.push("ipv6:00000000000000000000000001000000".to_owned());
    }
    assert_eq!(addresses, expected, "listening sockets on the port");
}

/// Local addresses of listening TCP sockets on `port`, from `/proc/net/tcp` and `tcp6`.
fn listening_addresses(port: u16) -> Vec<String> {
    let mut found = Vec::new();
    for (file, v6) in [("/proc/net/tcp", false), ("/proc/net/tcp6", true)] {
        let Ok(table) = std::fs::read_to_string(file) else {
            continue;
        };
        for line in table.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (Some(local), Some(state)) = (fields.get(1), fields.get(3)) else {
                continue;
            };
            let Some((address, port_hex)) = local.split_once(':') else {
                continue;
            };
            if *state != "0A" || u16::from_str_radix(port_hex, 16).ok() != Some(port) {
                continue;
            }
            found.push(if v6 {
                format!("ipv6:{address}")
            } else {
                ipv4_from_hex(address)
            });
        }
    }
    found
}

fn ipv4_from_hex(hex: &str) -> String {
    let value = u32::from_str_radix(hex, 16).unwrap_or_default();
    std::net::Ipv4Addr::from(value.swap_bytes()).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callback_timeout_on_shared_clock() {
    let h = Harness::start().await;
    let port = Arc::new(std::sync::Mutex::new(None));
    let record = Arc::clone(&port);
    let browser: graph::OpenUrl = Box::new(move |authorize: &url::Url| {
        *record.lock().unwrap() = redirect_and_state(authorize).0.port();
        Ok(())
    });
    let auth = Arc::clone(&h.auth);
    let sign_in = tokio::spawn(async move { auth.sign_in_browser(&browser, FIVE_MINUTES).await });
    common::wait_until(|| port.lock().unwrap().is_some()).await;
    h.clock.advance(FIVE_MINUTES - Duration::from_secs(1)).await;
    assert!(!sign_in.is_finished(), "still waiting before the timeout");
    h.clock.advance(Duration::from_secs(1)).await;
    let error = sign_in.await.unwrap().unwrap_err();
    assert!(
        matches!(error, AuthError::CallbackTimeout(limit) if limit == FIVE_MINUTES),
        "{error:?}"
    );
    assert_eq!(error.kind(), "callback-timeout");
    assert!(error.to_string().contains("Sign in with a code"), "{error}");
    let port = port.lock().unwrap().expect("port seen");
    let after = tokio::net::TcpStream::connect(("127.0.0.1", port)).await;
    assert!(after.is_err(), "listener closed after the timeout");
}

/// A rotated refresh token replaces the stored one, and a new app instance refreshes with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_rotation_survives_restart() {
    let config = TwinConfig {
        strict_refresh_rotation: true,
        ..TwinConfig::default()
    };
    let h = Harness::with(config, MemoryStoreRule::WindowsSize).await;
    h.sign_in().await;
    let store = TokenStore::new(Arc::new(h.keyring.clone()), h.config.keyring_account());
    let first = store.load().unwrap().expect("first token stored");
    assert_eq!(first.len(), 1900);

    h.twin.expire_access_tokens();
    h.client
        .get_presence()
        .await
        .expect("401, refresh and retry");
    // The rotated token goes to the keyring in the background; settle waits for it.
    h.clock.settle().await;
    let second = store.load().unwrap().expect("rotated token stored");
    assert_eq!(second.len(), 2700);
    assert_ne!(second, first);
    assert_eq!(
        h.keyring.snapshot().len(),
        1 + 3,
        "no stale chunk: {:?}",
        h.keyring.snapshot().keys()
    );

    // A restart reads the rotated token; the twin accepts only that one (strict rotation).
    let (auth, client) = h.restarted();
    assert!(matches!(auth.restore().await, Restored::SignedIn));
    let tokens_before = h.count(Endpoint::Token);
    client.get_presence().await.expect("restored sign-in works");
    assert_eq!(
        h.count(Endpoint::Token),
        tokens_before + 1,
        "one silent refresh"
    );
    h.clock.settle().await;
    let third = store.load().unwrap().expect("token stored");
    assert_ne!(third, second, "rotated again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_refresh_token_ends_sign_in() {
    let h = Harness::start().await;
    h.sign_in().await;
    h.twin.revoke_refresh_tokens();
    h.twin.expire_access_tokens();
    let failure = h.client.get_presence().await.unwrap_err();
    assert_eq!(failure, engine::GraphFailure::SignInExpired);
    assert_eq!(h.auth.state(), SignInState::Expired);
    assert!(
        h.keyring.snapshot().is_empty(),
        "rejected token removed from the keyring"
    );

    // No further token requests while signed out.
    let tokens = h.count(Endpoint::Token);
    let failure = h.client.get_presence().await.unwrap_err();
    assert_eq!(failure, engine::GraphFailure::SignInExpired);
    assert_eq!(h.count(Endpoint::Token), tokens);
    let write = h.client.set_in_a_call().await;
    assert_eq!(
        write,
        engine::GraphWriteResult::Failed(engine::GraphFailure::SignInExpired)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyring_refusal_keeps_sign_in_in_memory() {
    for rule in [MemoryStoreRule::RejectAllSizes, MemoryStoreRule::Locked] {
        let h = Harness::with(TwinConfig::default(), rule.clone()).await;
        let persistence = h.sign_in().await;
        let Persistence::MemoryOnly { reason } = &persistence else {
            panic!("{rule:?}: expected memory only, got {persistence:?}");
        };
        let warning = persistence.warning().unwrap();
        assert!(
            warning.starts_with("sign-in will not survive a restart: "),
            "{warning}"
        );
        assert!(warning.contains(reason.as_str()));
        if rule == MemoryStoreRule::RejectAllSizes {
            assert!(reason.contains("rejected an entry of"), "{reason}");
            assert!(
                reason.contains("limit"),
                "the size limit is named: {reason}"
            );
        }
        assert_eq!(
            h.auth.state(),
            SignInState::SignedIn {
                persistence: persistence.clone()
            }
        );
        h.client
            .get_presence()
            .await
            .expect("signed in for this run");
        assert!(h.keyring.snapshot().is_empty(), "{rule:?}: nothing stored");

        // A rotation keeps the in-memory sign-in working.
        h.twin.expire_access_tokens();
        h.client.get_presence().await.expect("refresh from memory");

        let (auth, _) = h.restarted();
        let restored = auth.restore().await;
        match rule {
            MemoryStoreRule::Locked => {
                assert!(matches!(restored, Restored::StoreFailed(_)), "{restored:?}")
            }
            _ => assert!(matches!(restored, Restored::NothingStored), "{restored:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_out_deletes_stored_token() {
    let h = Harness::start().await;
    h.sign_in().await;
    assert!(!h.keyring.snapshot().is_empty());
    h.auth.sign_out().await.expect("keyring cleared");
    assert!(h.keyring.snapshot().is_empty());
    assert_eq!(h.auth.state(), SignInState::SignedOut);
    assert_eq!(
        h.client.get_presence().await.unwrap_err(),
        engine::GraphFailure::SignInExpired
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_code_pending_then_approved() {
    let h = Harness::start().await;
    let flow = h
        .auth
        .start_device_code()
        .await
        .expect("device code issued");
    let prompt = flow.prompt.clone();
    assert!(!prompt.user_code.is_empty());
    assert!(
        prompt.verification_uri.contains("devicelogin"),
        "{}",
        prompt.verification_uri
    );
    assert_eq!(prompt.expires_in, h.twin.config().device_code_lifetime);
    assert_eq!(
        prompt.expires_at,
        clock::Clock::now(&h.clock) + prompt.expires_in
    );

    let auth = Arc::clone(&h.auth);
    let polling = tokio::spawn(async move {
        auth.complete_device_code(flow, std::future::pending())
            .await
    });
    common::wait_until(|| h.count(Endpoint::Token) == 1).await;
    h.clock.advance(Duration::from_secs(5)).await;
    assert_eq!(h.count(Endpoint::Token), 2, "polls every 5 s while pending");
    assert!(h.twin.approve_device_code(&prompt.user_code));
    h.clock.advance(Duration::from_secs(5)).await;
    let persistence = polling.await.unwrap().expect("signed in");
    assert_eq!(persistence, Persistence::Keyring);
    assert_eq!(h.count(Endpoint::Token), 3);
    h.client
        .get_presence()
        .await
        .expect("device sign-in works for Graph");
}

/// A client clock that runs ahead of the server's provokes `slow_down`; the next poll then waits
/// 5 s longer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_code_honours_slow_down() {
    let twin_clock = clock::ManualClock::starting_now();
    let twin_shared: SharedClock = Arc::new(twin_clock.clone());
    let twin = graph_twin::Twin::start(TwinConfig::default(), twin_shared)
        .await
        .unwrap();
    let app_clock = clock::ManualClock::starting_now();
    let app_shared: SharedClock = Arc::new(app_clock.clone());
    let keyring = graph::MemorySecretStore::new(MemoryStoreRule::WindowsSize);
    let auth = Arc::new(
        graph::Authenticator::new(common::config_for(&twin), app_shared, Arc::new(keyring))
            .unwrap(),
    );
    let token_polls = || {
        twin.requests()
            .iter()
            .filter(|record| record.endpoint == Endpoint::Token)
            .count()
    };
    let statuses = || {
        twin.requests()
            .iter()
            .filter(|record| record.endpoint == Endpoint::Token)
            .map(|record| record.status())
            .collect::<Vec<_>>()
    };

    let flow = auth.start_device_code().await.unwrap();
    let user_code = flow.prompt.user_code.clone();
    let polling = {
        let auth = Arc::clone(&auth);
        tokio::spawn(async move {
            auth.complete_device_code(flow, std::future::pending())
                .await
        })
    };
    common::wait_until(|| token_polls() == 1).await;
    app_clock.advance(Duration::from_secs(5)).await;
    assert_eq!(token_polls(), 2, "second poll after the interval");
    assert_eq!(statuses(), vec![Some(400), Some(400)]);

    // The twin saw both polls at its time zero: slow_down. The client now waits 10 s.
    app_clock.advance(Duration::from_secs(5)).await;
    assert_eq!(token_polls(), 2, "no poll 5 s after slow_down");
    twin_clock.advance(Duration::from_secs(10)).await;
    assert!(twin.approve_device_code(&user_code));
    app_clock.advance(Duration::from_secs(5)).await;
    assert_eq!(token_polls(), 3, "poll 10 s after slow_down");
    polling.await.unwrap().expect("signed in after slow_down");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_code_expires() {
    let config = TwinConfig {
        device_code_lifetime: Duration::from_secs(30),
        ..TwinConfig::default()
    };
    let h = Harness::with(config, MemoryStoreRule::WindowsSize).await;
    let flow = h.auth.start_device_code().await.unwrap();
    let auth = Arc::clone(&h.auth);
    let polling = tokio::spawn(async move {
        auth.complete_device_code(flow, std::future::pending())
            .await
    });
    h.clock.advance(Duration::from_secs(35)).await;
    let error = polling.await.unwrap().unwrap_err();
    assert!(matches!(error, AuthError::DeviceCodeExpired), "{error:?}");
    assert_eq!(h.auth.state(), SignInState::SignedOut);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_code_can_be_cancelled() {
    let h = Harness::start().await;
    let flow = h.auth.start_device_code().await.unwrap();
    let (cancel, cancelled) = tokio::sync::oneshot::channel::<()>();
    let auth = Arc::clone(&h.auth);
    let polling = tokio::spawn(async move {
        auth.complete_device_code(flow, async {
            let _ = cancelled.await;
        })
        .await
    });
    common::wait_until(|| h.count(Endpoint::Token) == 1).await;
    cancel.send(()).unwrap();
    let error = polling.await.unwrap().unwrap_err();
    assert!(matches!(error, AuthError::Cancelled), "{error:?}");
    h.clock.advance(Duration::from_secs(30)).await;
    assert_eq!(h.count(Endpoint::Token), 1, "no poll after cancel");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declined_device_code_is_reported() {
    let h = Harness::start().await;
    let flow = h.auth.start_device_code().await.unwrap();
    let user_code = flow.prompt.user_code.clone();
    assert!(h.twin.decline_device_code(&user_code));
    let error = h
        .auth
        .complete_device_code(flow, std::future::pending())
        .await
        .unwrap_err();
    let AuthError::Entra(entra) = &error else {
        panic!("expected an Entra error, got {error:?}")
    };
    assert_eq!(entra.error, "authorization_declined");
    assert_eq!(entra.kind, EntraErrorKind::Declined);
}

/// A second sign-in while one waits for the browser is refused at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_sign_in_is_refused() {
    let h = Harness::start().await;
    let opened = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = Arc::clone(&opened);
    let idle_browser: graph::OpenUrl = Box::new(move |_: &url::Url| {
        flag.store(true, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    });
    let auth = Arc::clone(&h.auth);
    let first =
        tokio::spawn(async move { auth.sign_in_browser(&idle_browser, FIVE_MINUTES).await });
    common::wait_until(|| opened.load(std::sync::atomic::Ordering::SeqCst)).await;

    let browser = graph::scripted_browser(h.shared_clock());
    let error = h
        .auth
        .sign_in_browser(&browser, FIVE_MINUTES)
        .await
        .unwrap_err();
    assert!(matches!(error, AuthError::InProgress), "{error:?}");
    let error = h
        .auth
        .complete_device_code(
            h.auth.start_device_code().await.unwrap(),
            std::future::pending(),
        )
        .await
        .unwrap_err();
    assert!(matches!(error, AuthError::InProgress), "{error:?}");
    first.abort();
}

/// A keyring that blocks writes while its gate is closed, as a slow Secret Service does.
struct GatedStore {
    inner: graph::MemorySecretStore,
    open: Arc<(std::sync::Mutex<bool>, std::sync::Condvar)>,
}

impl graph::SecretStore for GatedStore {
    fn get(&self, key: &str) -> Result<Option<String>, graph::StoreError> {
        self.inner.get(key)
    }

    fn set(&self, key: &str, value: &str) -> Result<(), graph::StoreError> {
        let (open, changed) = &*self.open;
        let mut is_open = open.lock().unwrap();
        while !*is_open {
            is_open = changed.wait(is_open).unwrap();
        }
        self.inner.set(key, value)
    }

    fn delete(&self, key: &str) -> Result<(), graph::StoreError> {
        self.inner.delete(key)
    }

    fn outlives_process(&self) -> bool {
        self.inner.outlives_process()
    }
}

/// A slow keyring delays neither the refresh nor the retried request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_keyring_does_not_delay_retry() {
    let h = Harness::start().await;
    let memory = graph::MemorySecretStore::new(MemoryStoreRule::WindowsSize);
    let gate = Arc::new((std::sync::Mutex::new(true), std::sync::Condvar::new()));
    let store = GatedStore {
        inner: memory.clone(),
        open: Arc::clone(&gate),
    };
    let auth = Arc::new(
        graph::Authenticator::new(h.config.clone(), h.shared_clock(), Arc::new(store)).unwrap(),
    );
    let browser = graph::scripted_browser(h.shared_clock());
    auth.sign_in_browser(&browser, FIVE_MINUTES)
        .await
        .expect("signed in");
    let account = h.config.keyring_account();
    let first = TokenStore::new(Arc::new(memory.clone()), account.clone())
        .load()
        .unwrap();

    // Close the gate: every keyring write now blocks until it opens again.
    *gate.0.lock().unwrap() = false;
    h.twin.expire_access_tokens();
    let client = graph::GraphClient::new(Arc::clone(&auth));
    let presence = tokio::time::timeout(Duration::from_secs(5), client.get_presence()).await;
    presence
        .expect("the retry did not wait for the keyring")
        .expect("presence read");
    let still_first = TokenStore::new(Arc::new(memory.clone()), account.clone())
        .load()
        .unwrap();
    assert_eq!(still_first, first, "the rotated token is not written yet");

    *gate.0.lock().unwrap() = true;
    gate.1.notify_all();
    h.clock.settle().await;
    let rotated = TokenStore::new(Arc::new(memory), account)
        .load()
        .unwrap()
        .unwrap();
    assert_eq!(rotated.len(), 2700, "the rotated token reached the keyring");
}

/// A registration without public client flows rejects "Sign in with a code" with an action.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_code_needs_public_client_flows() {
    let mut config = TwinConfig::default();
    config.registration.allow_public_client_flows = false;
    let h = Harness::with(config, MemoryStoreRule::WindowsSize).await;
    let flow = h.auth.start_device_code().await;
    let error = match flow {
        Err(error) => error,
        Ok(flow) => h
            .auth
            .complete_device_code(flow, std::future::pending())
            .await
            .unwrap_err(),
    };
    let AuthError::Entra(entra) = &error else {
        panic!("expected an Entra error, got {error:?}")
    };
    assert_eq!(entra.code, Some(7000218));
    assert_eq!(entra.kind, EntraErrorKind::PublicClientFlowsDisabled);
    assert!(
        error.to_string().contains("Allow public client flows"),
        "{error}"
    );
}

/// A failing code redemption ends the browser sign-in with an error instead of leaving it
/// waiting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_endpoint_failure_ends_sign_in() {
    for kind in [
        graph_twin::FaultKind::Status {
            status: 500,
            retry_after_seconds: None,
        },
        graph_twin::FaultKind::Status {
            status: 503,
            retry_after_seconds: Some(1),
        },
        graph_twin::FaultKind::Reset,
        graph_twin::FaultKind::Malformed,
    ] {
        let h = Harness::start().await;
        h.twin
            .inject(graph_twin::Fault::new(Endpoint::Token, kind.clone(), 10));
        let browser = graph::scripted_browser(h.shared_clock());
        let outcome = tokio::time::timeout(
            Duration::from_secs(20),
            h.auth.sign_in_browser(&browser, FIVE_MINUTES),
        )
        .await;
        assert!(
            outcome.is_ok(),
            "{kind:?}: the sign-in still waits after 20 s"
        );
        assert!(
            outcome.is_ok_and(|result| result.is_err()),
            "{kind:?}: signed in although the token endpoint failed"
        );
    }
}

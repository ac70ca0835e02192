//! Captures every log line of a full sign-in, refresh, device-code and presence run and checks
//! that no token, code, user principal name or e-mail address appears in it.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{custom_browser, get_and_record, location, Harness};
use graph::{Secret, TokenStore};
use graph_twin::{Endpoint, Fault, FaultKind};

/// A `tracing` writer that appends to a shared buffer.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Capture {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

fn install_capture() -> Capture {
    let capture = Capture::default();
    let writer = capture.clone();
    // Everything at trace level except the twin's own logs, which are not the app's.
    let filter = tracing_subscriber::EnvFilter::new("trace,graph_twin=off");
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();
    capture
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_hold_no_secret() {
    let capture = install_capture();
    let h = Harness::start().await;
    let store = TokenStore::new(Arc::new(h.keyring.clone()), h.config.keyring_account());
    let mut secrets: Vec<(String, String)> = Vec::new();
    let mut remember = |what: &str, secret: &Secret| {
        secrets.push((what.to_owned(), secret.expose().to_owned()));
    };

    // Browser sign-in through a stand-in that keeps the authorization code.
    let codes = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&codes);
    let (browser, _seen) = custom_browser(h.shared_clock(), move |authorize, client, seen| {
        let kept = Arc::clone(&kept);
        async move {
            let answer = get_and_record(&client, authorize, &seen)
                .await
                .expect("twin answers");
            let callback = location(&answer);
            for (key, value) in callback.query_pairs() {
                if key == "code" {
                    kept.lock().unwrap().push(value.into_owned());
                }
            }
            get_and_record(&client, callback, &seen).await;
        }
    });
    h.auth
        .sign_in_browser(&browser, Duration::from_secs(300))
        .await
        .expect("signed in");
    remember("access token", &h.auth.access_token().await.unwrap());
    remember("refresh token", &store.load().unwrap().unwrap());

    // Graph calls, a refresh after 401, and a refresh failure on the network.
    h.client.me().await.unwrap();
    h.client.get_presence().await.unwrap();
    h.client.set_in_a_call().await;
    h.client.clear_presence().await;
    h.client.clear_presence().await;
    h.twin.expire_access_tokens();
    h.client.get_presence().await.unwrap();
    h.clock.settle().await;
    remember("access token", &h.auth.access_token().await.unwrap());
    remember("refresh token", &store.load().unwrap().unwrap());
    h.twin
        .inject(Fault::new(Endpoint::Presence, FaultKind::Malformed, 1));
    h.client.get_presence().await.unwrap_err();

    // Sign in again with a code.
    let flow = h.auth.start_device_code().await.unwrap();
    let user_code = flow.prompt.user_code.clone();
    assert!(h.twin.approve_device_code(&user_code));
    h.auth
        .complete_device_code(flow, std::future::pending())
        .await
        .unwrap();
    remember("access token", &h.auth.access_token().await.unwrap());
    remember("refresh token", &store.load().unwrap().unwrap());
    remember("user code", &Secret::new(user_code));

    // Revocation ends the sign-in.
    h.twin.revoke_refresh_tokens();
    h.twin.expire_access_tokens();
    h.client.get_presence().await.unwrap_err();

    let log = capture.text();
    if std::env::var_os("PRESENCE_BRIDGE_PRINT_LOG").is_some() {
        println!("{log}");
    }
    assert!(log.contains("http request done"), "requests are logged");
    assert!(log.contains("elapsed_ms"), "requests carry elapsed_ms");
    assert!(
        log.contains("signed in persisted=false"),
        "a sign-in kept in a store in memory is not logged as persisted"
    );
    assert!(
        log.contains("status=401"),
        "the 401 is logged with its status"
    );

    for code in codes.lock().unwrap().iter() {
        secrets.push(("authorization code".to_owned(), code.clone()));
    }
    assert!(secrets.iter().any(|(what, _)| what == "authorization code"));
    let user = &h.twin.config().user;
    secrets.push((
        "user principal name".to_owned(),
        user.user_principal_name.clone(),
    ));
    secrets.push(("e-mail".to_owned(), user.mail.clone()));
    for (what, secret) in &secrets {
        assert!(secret.len() >= 8, "{what} is long enough to search for");
        // Any 16-character window of a token would already be a leak: check the start, the
        // middle and the end, because a log may hold a cut-off token.
        let window = secret.len().min(16);
        let middle = (secret.len() - window) / 2;
        for start in [0, middle, secret.len() - window] {
            let probe = &secret[start..start + window];
            assert!(!log.contains(probe), "the log contains part of a {what}");
        }
    }
}

//! The loopback listener that receives the browser's redirect after an interactive sign-in.
//!
//! It binds `127.0.0.1` on a random port, and `[::1]` on the same port where the OS has IPv6,
//! because a browser may resolve `localhost` to either. The redirect URI given to Entra ID is
//! `http://localhost:<port>/`, which is the registered `http://localhost` with the port, because
//! Entra ID ignores the port of a loopback redirect. It serves until one callback with the expected `state`, or
//! an error callback, arrives; it answers anything else with 400, and closes once that callback
//! is answered. Each connection gets its own task, because browsers open idle speculative
//! connections that must not block the real callback.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use clock::SharedClock;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use url::Url;

use crate::Secret;

/// Largest request head the listener reads.
const MAX_REQUEST_BYTES: usize = 16 * 1024;
/// Time a connection may take to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The parameters of the browser's redirect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Callback {
    /// An authorization code with the expected state.
    Code(Secret),
    /// An error redirect: `error` and, if present, `error_description`.
    Error {
        error: String,
        description: Option<String>,
    },
}

/// How many ports `bind` tries before it settles for IPv4 alone, when another program holds
/// the IPv6 side of each port the OS picked.
const BIND_ATTEMPTS: usize = 5;

/// A bound listener, not yet serving.
#[derive(Debug)]
pub(crate) struct CallbackListener {
    listener: TcpListener,
    /// The same port on `[::1]`; absent where the OS has no IPv6 loopback.
    listener_v6: Option<TcpListener>,
    port: u16,
}

impl CallbackListener {
    /// Binds `127.0.0.1` on a port the OS picks, and `[::1]` on the same port where possible.
    pub async fn bind() -> std::io::Result<Self> {
        for _ in 0..BIND_ATTEMPTS {
            let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await?;
            let port = listener.local_addr()?.port();
            match TcpListener::bind(SocketAddr::from((Ipv6Addr::LOCALHOST, port))).await {
                Ok(listener_v6) => {
                    return Ok(Self {
                        listener,
                        listener_v6: Some(listener_v6),
                        port,
                    })
                }
                // Another program has this port on IPv6: try another one.
                Err(error) if error.kind() == std::io::ErrorKind::AddrInUse => continue,
                Err(error) => {
                    tracing::debug!(%error, "no IPv6 loopback; the sign-in listens on 127.0.0.1 only");
                    return Ok(Self {
                        listener,
                        listener_v6: None,
                        port,
                    });
                }
            }
        }
        tracing::debug!("IPv6 loopback ports taken; the sign-in listens on 127.0.0.1 only");
        let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await?;
        let port = listener.local_addr()?.port();
        Ok(Self {
            listener,
            listener_v6: None,
            port,
        })
    }

    /// Returns the addresses the listener is bound to: IPv4 first, then IPv6 if bound.
    #[cfg(test)]
    pub fn local_addrs(&self) -> std::io::Result<Vec<SocketAddr>> {
        let mut addresses = vec![self.listener.local_addr()?];
        if let Some(listener_v6) = &self.listener_v6 {
            addresses.push(listener_v6.local_addr()?);
        }
        Ok(addresses)
    }

    /// `http://localhost:<port>/`.
    pub fn redirect_uri(&self) -> Url {
        Url::parse(&format!("http://localhost:{}/", self.port)).expect("valid loopback URL")
    }

    /// Serves until the decisive callback; the listener closes when this returns or is
    /// dropped. The caller bounds the wait with a timeout on the shared clock.
    pub async fn serve(self, expected_state: String, clock: SharedClock) -> Callback {
        let (outcome_tx, mut outcome_rx) = mpsc::channel::<Callback>(1);
        let shared = Arc::new(Shared {
            expected_state,
            decided: AtomicBool::new(false),
        });
        loop {
            tokio::select! {
                outcome = outcome_rx.recv() => {
                    // The sender lives in `outcome_tx` as long as this loop runs.
                    if let Some(outcome) = outcome {
                        return outcome;
                    }
                }
                accepted = accept_either(&self.listener, self.listener_v6.as_ref()) => match accepted {
                    Ok((stream, _)) => {
                        let shared = Arc::clone(&shared);
                        let clock = Arc::clone(&clock);
                        let outcome_tx = outcome_tx.clone();
                        tokio::spawn(handle_connection(stream, shared, clock, outcome_tx));
                    }
                    Err(error) => {
                        tracing::debug!(%error, "loopback accept failed");
                    }
                },
            }
        }
    }
}

/// Accepts the next connection on either listener.
async fn accept_either(
    listener: &TcpListener,
    listener_v6: Option<&TcpListener>,
) -> std::io::Result<(TcpStream, SocketAddr)> {
    match listener_v6 {
        Some(listener_v6) => tokio::select! {
            accepted = listener.accept() => accepted,
            accepted = listener_v6.accept() => accepted,
        },
        None => listener.accept().await,
    }
}

/// State every connection task reads.
struct Shared {
    expected_state: String,
    decided: AtomicBool,
}

/// The response to one request.
enum Verdict {
    Decisive(Callback),
    BadRequest(&'static str),
}

async fn handle_connection(
    mut stream: TcpStream,
    shared: Arc<Shared>,
    clock: SharedClock,
    outcome_tx: mpsc::Sender<Callback>,
) {
    let head = match clock::timeout(&*clock, READ_TIMEOUT, read_head(&mut stream)).await {
        Ok(Ok(head)) => head,
        Ok(Err(error)) => {
            tracing::debug!(%error, "loopback request unreadable");
            let _ = write_response(&mut stream, 400, "text/plain", "bad request").await;
            return;
        }
        Err(clock::Elapsed) => return,
    };
    let _busy = clock.busy();
    let language = Language::from_accept_language(header_value(&head, "accept-language"));
    let verdict = classify(&head, &shared.expected_state);
    match verdict {
        Verdict::Decisive(callback)
            if shared
                .decided
                .compare_exchange(false, true, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok() =>
        {
            let failed = matches!(callback, Callback::Error { .. });
            let page = result_page(language, failed);
            if let Err(error) =
                write_response(&mut stream, 200, "text/html; charset=utf-8", &page).await
            {
                tracing::debug!(%error, "could not send the sign-in page to the browser");
            }
            tracing::debug!(error_callback = failed, "sign-in callback received");
            let _ = outcome_tx.send(callback).await;
        }
        Verdict::Decisive(_) => {
            let _ =
                write_response(&mut stream, 400, "text/plain", "sign-in already completed").await;
        }
        Verdict::BadRequest(reason) => {
            tracing::debug!(reason, "loopback request rejected with 400");
            let _ = write_response(&mut stream, 400, "text/plain", reason).await;
        }
    }
}

/// Reads up to the blank line that ends the request head.
async fn read_head(stream: &mut TcpStream) -> std::io::Result<String> {
    let mut buffer = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "closed early",
            ));
        }
        buffer.extend_from_slice(&chunk[..read]);
        if buffer.windows(4).any(|window| window == b"\r\n\r\n") {
            break;
        }
        if buffer.len() > MAX_REQUEST_BYTES {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "request too large",
            ));
        }
    }
    String::from_utf8(buffer)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "request not UTF-8"))
}

fn header_value<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.split("\r\n").skip(1).find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim().eq_ignore_ascii_case(name).then(|| value.trim())
    })
}

/// Decides what a request is: only `GET /?…` with the right `state` and a `code`, or an error
/// redirect whose `state` is right or absent, ends the wait.
fn classify(head: &str, expected_state: &str) -> Verdict {
    let request_line = head.split("\r\n").next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return Verdict::BadRequest("malformed request line");
    };
    if method != "GET" {
        return Verdict::BadRequest("only GET is served");
    }
    let Ok(url) = Url::parse("http://localhost/").and_then(|base| base.join(target)) else {
        return Verdict::BadRequest("malformed request target");
    };
    if url.path() != "/" {
        return Verdict::BadRequest("not a sign-in callback");
    }

    let mut state = None;
    let mut code = None;
    let mut error = None;
    let mut description = None;
    for (key, value) in url.query_pairs() {
        match key.as_ref() {
            "state" => state = Some(value.into_owned()),
            "code" => code = Some(value.into_owned()),
            "error" => error = Some(value.into_owned()),
            "error_description" => description = Some(value.into_owned()),
            _ => {}
        }
    }

    let state_matches = state.as_deref() == Some(expected_state);
    match (error, code) {
        // An error redirect never leads to a code exchange, even if it also carries a code.
        (Some(error), _) if state_matches || state.is_none() => {
            Verdict::Decisive(Callback::Error { error, description })
        }
        (None, Some(code)) if state_matches => Verdict::Decisive(Callback::Code(Secret::new(code))),
        _ if state.is_some() && !state_matches => Verdict::BadRequest("state does not match"),
        _ => Verdict::BadRequest("not a sign-in callback"),
    }
}

async fn write_response(
    stream: &mut TcpStream,
    status: u16,
    content_type: &str,
    body: &str,
) -> std::io::Result<()> {
    let reason = if status == 200 { "OK" } else { "Bad Request" };
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}

/// The language of the result page, taken from the browser's `Accept-Language`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Language {
    English,
    German,
}

impl Language {
    fn from_accept_language(header: Option<&str>) -> Language {
        let first = header
            .and_then(|value| value.split(',').next())
            .map(|tag| tag.trim().to_ascii_lowercase())
            .unwrap_or_default();
        if first == "de" || first.starts_with("de-") || first.starts_with("de;") {
            Language::German
        } else {
            Language::English
        }
    }
}

fn result_page(language: Language, failed: bool) -> String {
    let (lang, title, text) = match (language, failed) {
        (Language::English, false) => (
            "en",
            "Presence Bridge: sign-in received",
            "You can close this tab and return to Presence Bridge.",
        ),
        (Language::English, true) => (
            "en",
            "Presence Bridge: sign-in failed",
            "The sign-in did not succeed. Close this tab; Presence Bridge shows what to do next.",
        ),
        (Language::German, false) => (
            "de",
            "Presence Bridge: Anmeldung empfangen",
            "Sie können diesen Tab schließen und zu Presence Bridge zurückkehren.",
        ),
        (Language::German, true) => (
            "de",
            "Presence Bridge: Anmeldung fehlgeschlagen",
            "Die Anmeldung ist fehlgeschlagen. Schließen Sie diesen Tab; Presence Bridge zeigt, \
             wie es weitergeht.",
        ),
    };
    format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         </head><body style=\"font-family:sans-serif;margin:3em\"><h1>{title}</h1><p>{text}</p>\
         </body></html>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(target: &str) -> String {
        format!("GET {target} HTTP/1.1\r\nHost: localhost\r\n\r\n")
    }

    fn check(target: &str, expected: Option<Callback>) {
        let verdict = classify(&request(target), "s1");
        match (verdict, expected) {
            (Verdict::Decisive(got), Some(expected)) => assert_eq!(got, expected, "{target}"),
            (Verdict::BadRequest(_), None) => {}
            (Verdict::Decisive(got), None) => panic!("{target}: expected 400, got {got:?}"),
            (Verdict::BadRequest(reason), Some(expected)) => {
                panic!("{target}: expected {expected:?}, got 400 ({reason})")
            }
        }
    }

    #[test]
    fn classify_requests() {
        let code = |value: &str| Some(Callback::Code(Secret::new(value)));
        let error = |error: &str, description: Option<&str>| {
            Some(Callback::Error {
                error: error.to_owned(),
                description: description.map(str::to_owned),
            })
        };
        check("/?code=abc&state=s1", code("abc"));
        check("/?state=s1&code=a%2Bb", code("a+b"));
        check("/?code=abc&state=s2", None);
        check("/?code=abc", None);
        check("/favicon.ico", None);
        check("/other?code=abc&state=s1", None);
        check("/", None);
        check("/?state=s1", None);
        check(
            "/?error=access_denied&state=s1",
            error("access_denied", None),
        );
        check(
            "/?error=invalid_request&error_description=AADSTS50011%3A+x",
            error("invalid_request", Some("AADSTS50011: x")),
        );
        check("/?error=access_denied&state=wrong", None);
        check(
            "/?error=access_denied&code=abc&state=s1",
            error("access_denied", None),
        );
    }

    async fn send_raw(addr: SocketAddr, request: &str) -> std::io::Result<String> {
        let mut stream = TcpStream::connect(addr).await?;
        stream.write_all(request.as_bytes()).await?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await?;
        Ok(answer)
    }

    #[tokio::test]
    async fn listener_serves_until_callback_then_closes() {
        let clock: SharedClock = Arc::new(clock::SystemClock::new());
        let listener = CallbackListener::bind().await.unwrap();
        let addr = listener.local_addrs().unwrap()[0];
        assert_eq!(addr.ip(), std::net::IpAddr::from(Ipv4Addr::LOCALHOST));
        assert_eq!(
            listener.redirect_uri().as_str(),
            format!("http://localhost:{}/", addr.port())
        );
        let serving = tokio::spawn(listener.serve("s1".to_owned(), clock));

        // An idle connection, as a browser's speculative connect, blocks nothing.
        let _idle = TcpStream::connect(addr).await.unwrap();
        let stray = send_raw(addr, "GET /favicon.ico HTTP/1.1\r\n\r\n")
            .await
            .unwrap();
        assert!(stray.starts_with("HTTP/1.1 400"), "{stray}");
        let wrong = send_raw(addr, "GET /?code=c&state=s2 HTTP/1.1\r\n\r\n")
            .await
            .unwrap();
        assert!(wrong.starts_with("HTTP/1.1 400"), "{wrong}");
        assert!(
            !serving.is_finished(),
            "a wrong state must not end the wait"
        );

        let request = "GET /?code=c1&state=s1 HTTP/1.1\r\nAccept-Language: de-DE\r\n\r\n";
        let page = send_raw(addr, request).await.unwrap();
        assert!(page.starts_with("HTTP/1.1 200"), "{page}");
        assert!(page.contains("lang=\"de\""), "{page}");
        assert_eq!(serving.await.unwrap(), Callback::Code(Secret::new("c1")));

        let after = send_raw(addr, "GET /?code=c1&state=s1 HTTP/1.1\r\n\r\n").await;
        assert!(
            after.is_err(),
            "listener still answers after the callback: {after:?}"
        );
    }

    #[tokio::test]
    async fn callback_arrives_over_ipv6() {
        // Whether this machine has an IPv6 loopback decides what the listener must do.
        let has_ipv6 = std::net::TcpListener::bind((Ipv6Addr::LOCALHOST, 0)).is_ok();
        let clock: SharedClock = Arc::new(clock::SystemClock::new());
        let listener = CallbackListener::bind().await.unwrap();
        let addresses = listener.local_addrs().unwrap();
        if !has_ipv6 {
            assert_eq!(
                addresses.len(),
                1,
                "no IPv6 here, so IPv4 only: {addresses:?}"
            );
            return;
        }
        assert_eq!(addresses.len(), 2, "{addresses:?}");
        assert_eq!(
            addresses[1].ip(),
            std::net::IpAddr::from(Ipv6Addr::LOCALHOST)
        );
        assert_eq!(
            addresses[1].port(),
            addresses[0].port(),
            "one port for both"
        );

        let serving = tokio::spawn(listener.serve("s1".to_owned(), clock));
        let page = send_raw(addresses[1], "GET /?code=c6&state=s1 HTTP/1.1\r\n\r\n")
            .await
            .unwrap();
        assert!(page.starts_with("HTTP/1.1 200"), "{page}");
        assert_eq!(serving.await.unwrap(), Callback::Code(Secret::new("c6")));
    }

    #[test]
    fn non_get_is_rejected() {
        let head = "POST /?code=abc&state=s1 HTTP/1.1\r\n\r\n";
        assert!(matches!(classify(head, "s1"), Verdict::BadRequest(_)));
    }

    #[test]
    fn page_language_follows_browser() {
        let cases = [
            (None, Language::English),
            (Some("de-DE,de;q=0.9,en;q=0.8"), Language::German),
            (Some("de"), Language::German),
            (Some("en-US,de;q=0.5"), Language::English),
            (Some("dex"), Language::English),
        ];
        for (header, expected) in cases {
            assert_eq!(
                Language::from_accept_language(header),
                expected,
                "{header:?}"
            );
        }
        assert!(result_page(Language::German, false).contains("Tab schließen"));
        assert!(result_page(Language::English, false).contains("close this tab"));
    }
}

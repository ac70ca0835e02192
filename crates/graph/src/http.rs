//! The one HTTP client of the Teams side: no redirects, proxy from the environment, a busy guard
//! on the shared clock and a debug line per request.
//!
//! Redirects stay off for every request. A token request that is redirected could carry a code
//! or refresh token to another host, and Graph's presence endpoints do not redirect.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use clock::SharedClock;
use oauth2::{AsyncHttpClient, HttpRequest, HttpResponse};
use rustls_platform_verifier::BuilderVerifierExt;

use crate::config::TOKEN_TIMEOUT;

/// A failed HTTP exchange, with no response.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// No response arrived in time.
    #[error("no response within {} s", .0.as_secs())]
    Timeout(Duration),
    /// Connecting, sending or reading failed.
    #[error("the request failed")]
    Transport(#[source] reqwest::Error),
    /// The server's TLS certificate was rejected, typically because a TLS-inspecting proxy
    /// signs with a company root that is not in the OS certificate store.
    #[error(
        "the certificate of {host} is not trusted: {detail}. If your network inspects HTTPS \
         traffic, ask your IT department to install the company's root certificate in the \
         system certificate store, then restart Presence Bridge"
    )]
    UntrustedCertificate {
        /// The host the request went to.
        host: String,
        /// The reason for the rejection in words, e.g. "it has expired".
        detail: String,
    },
    /// The token endpoint returned 429 or a 5xx status, whatever its body says.
    #[error("the server is busy or failed (HTTP {status})")]
    Unavailable {
        /// The HTTP status.
        status: u16,
    },
}

/// A response with its body read.
#[derive(Debug)]
pub(crate) struct Response {
    pub status: reqwest::StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

/// The HTTP client shared by sign-in, refresh and the Graph calls.
#[derive(Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    clock: SharedClock,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient").finish_non_exhaustive()
    }
}

impl HttpClient {
    /// Builds a client that follows no redirects and takes its proxy and trust from the system.
    ///
    /// reqwest 0.12 (through hyper-util 0.1) reads `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and
    /// `NO_PROXY` (or their lower-case forms) when the client is built. On Windows, with the
    /// `system-proxy` feature, the per-user Internet Settings fill in what the environment
    /// leaves unset. Certificates are checked by the OS verifier (rustls-platform-verifier),
    /// whose Linux side reads the root store once, here. A changed proxy or a newly installed
    /// root therefore needs a new client, which in the app means a restart.
    pub fn new(clock: SharedClock) -> Result<Self, HttpError> {
        Self::build(clock, reqwest::Client::builder())
    }

    /// Builds a client like [`HttpClient::new`] that ignores every proxy setting.
    pub fn direct(clock: SharedClock) -> Result<Self, HttpError> {
        Self::build(clock, reqwest::Client::builder().no_proxy())
    }

    fn build(clock: SharedClock, builder: reqwest::ClientBuilder) -> Result<Self, HttpError> {
        let mut builder = builder
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("PresenceBridge/", env!("CARGO_PKG_VERSION")));
        match platform_tls_config() {
            Ok(config) => builder = builder.use_preconfigured_tls(config),
            // On Linux this happens when the system store contains no root at all. reqwest's own
            // loading of the same store keeps the client usable, and each request then reports
            // the certificate it could not verify.
            Err(error) => tracing::warn!(
                %error,
                "the OS certificate verifier is unavailable, reading the OS root store instead"
            ),
        }
        let client = builder.build().map_err(HttpError::Transport)?;
        Ok(Self { client, clock })
    }

    /// Returns the underlying reqwest client, to build requests with.
    pub(crate) fn reqwest(&self) -> &reqwest::Client {
        &self.client
    }

    /// Returns the shared clock.
    pub(crate) fn clock(&self) -> &SharedClock {
        &self.clock
    }

    /// Sends `request` and reads the whole body within `timeout` on the shared clock, holding a
    /// busy guard meanwhile. `label` names the endpoint in the log; it must hold no secret.
    pub(crate) async fn execute(
        &self,
        label: &'static str,
        request: reqwest::Request,
        timeout: Duration,
    ) -> Result<Response, HttpError> {
        let _busy = self.clock.busy();
        let started = self.clock.now();
        let method = request.method().clone();
        let host = request.url().host_str().unwrap_or_default().to_owned();
        let exchange = async {
            let response = self.client.execute(request).await?;
            let status = response.status();
            let headers = response.headers().clone();
            let body = response.bytes().await?.to_vec();
            Ok::<_, reqwest::Error>(Response {
                status,
                headers,
                body,
            })
        };
        let result = match clock::timeout(&*self.clock, timeout, exchange).await {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(error)) => Err(transport_error(error.without_url(), host)),
            Err(clock::Elapsed) => Err(HttpError::Timeout(timeout)),
        };
        let elapsed_ms = (self.clock.now() - started).as_millis() as u64;
        match &result {
            Ok(response) => tracing::debug!(
                endpoint = label,
                %method,
                status = response.status.as_u16(),
                elapsed_ms,
                "http request done"
            ),
            Err(error) => tracing::debug!(
                endpoint = label,
                %method,
                error = %error,
                elapsed_ms,
                "http request failed"
            ),
        }
        result
    }
}

/// Builds the TLS configuration: rustls with the ring provider (as the rest of the app), the OS
/// certificate verifier and HTTP/1.1 only, because reqwest is built without HTTP/2.
fn platform_tls_config() -> Result<rustls::ClientConfig, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_platform_verifier()?
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// Maps a reqwest failure to [`HttpError`], singling out a rejected server certificate.
fn transport_error(error: reqwest::Error, host: String) -> HttpError {
    match certificate_error(&error) {
        Some(rejected) => HttpError::UntrustedCertificate {
            host,
            detail: describe_certificate_error(rejected),
        },
        None => HttpError::Transport(error),
    }
}

/// Finds rustls' certificate error in the causes of `error`. reqwest 0.12 delivers it inside
/// nested `io::Error`s, whose `source()` skips the wrapped error, so each `io::Error` is opened
/// with `get_ref` down to what it wraps.
fn certificate_error<'e>(
    error: &'e (dyn std::error::Error + 'static),
) -> Option<&'e rustls::CertificateError> {
    let mut current = Some(error);
    while let Some(error) = current {
        let mut layer = error;
        loop {
            if let Some(rustls::Error::InvalidCertificate(rejected)) =
                layer.downcast_ref::<rustls::Error>()
            {
                return Some(rejected);
            }
            match layer
                .downcast_ref::<std::io::Error>()
                .and_then(std::io::Error::get_ref)
            {
                Some(inner) => layer = inner,
                None => break,
            }
        }
        current = error.source();
    }
    None
}

fn describe_certificate_error(rejected: &rustls::CertificateError) -> String {
    match rejected {
        rustls::CertificateError::UnknownIssuer => {
            "it was issued by a certificate authority that is not in the system certificate \
             store"
                .to_owned()
        }
        rustls::CertificateError::Expired | rustls::CertificateError::ExpiredContext { .. } => {
            "it has expired".to_owned()
        }
        rustls::CertificateError::Revoked => "it has been revoked".to_owned(),
        rustls::CertificateError::NotValidForName
        | rustls::CertificateError::NotValidForNameContext { .. } => {
            "it was issued for another host name".to_owned()
        }
        other => format!("rustls rejected it ({other:?})"),
    }
}

/// The token-endpoint view of [`HttpClient`], for the `oauth2` crate.
#[derive(Debug, Clone)]
pub(crate) struct TokenHttp {
    pub http: HttpClient,
    pub label: &'static str,
}

impl<'c> AsyncHttpClient<'c> for TokenHttp {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let url = parts.uri.to_string();
            let mut builder = self.http.client.request(parts.method, url).body(body);
            for (name, value) in &parts.headers {
                builder = builder.header(name, value);
            }
            let request = builder
                .build()
                .map_err(|error| HttpError::Transport(error.without_url()))?;
            let response = self
                .http
                .execute(self.label, request, TOKEN_TIMEOUT)
                .await?;
            // A busy or failing Entra ID may still send an OAuth error body; reporting the status
            // as a transport failure keeps it from reading as a rejected sign-in.
            let status = response.status;
            if status == reqwest::StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
                return Err(HttpError::Unavailable {
                    status: status.as_u16(),
                });
            }
            let mut answer = http::Response::builder().status(response.status.as_u16());
            for (name, value) in &response.headers {
                answer = answer.header(name.as_str(), value.as_bytes());
            }
            Ok(answer
                .body(response.body)
                .expect("status and headers come from a valid response"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Wraps `rejected` the way reqwest 0.12 delivers it: an `io::Error` inside an `io::Error`.
    fn nested(rejected: rustls::CertificateError) -> std::io::Error {
        let inner = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rejected),
        );
        std::io::Error::other(inner)
    }

    #[test]
    fn certificate_error_found_when_nested() {
        let error = nested(rustls::CertificateError::UnknownIssuer);
        assert_eq!(
            certificate_error(&error),
            Some(&rustls::CertificateError::UnknownIssuer)
        );
    }

    #[test]
    fn other_errors_are_not_certificates() {
        let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert_eq!(certificate_error(&refused), None);
        let alert = std::io::Error::other(rustls::Error::AlertReceived(
            rustls::AlertDescription::HandshakeFailure,
        ));
        assert_eq!(certificate_error(&alert), None);
    }

    #[test]
    fn certificate_errors_in_words() {
        let cases = [
            (
                rustls::CertificateError::UnknownIssuer,
                "it was issued by a certificate authority that is not in the system certificate \
                 store",
            ),
            (rustls::CertificateError::Expired, "it has expired"),
            (
                rustls::CertificateError::NotValidForName,
                "it was issued for another host name",
            ),
            (rustls::CertificateError::Revoked, "it has been revoked"),
            (
                rustls::CertificateError::BadSignature,
                "rustls rejected it (BadSignature)",
            ),
        ];
        for (rejected, expected) in cases {
            assert_eq!(describe_certificate_error(&rejected), expected);
        }
    }
}

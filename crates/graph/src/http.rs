//! The one HTTP client of the Teams side: no redirects, proxy from the environment, a busy guard
//! on the shared clock and a debug line per request.
//!
//! Redirects stay off for every request. A token request that is redirected could carry a code
//! or refresh token to another host, and Graph's presence endpoints do not redirect.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use clock::SharedClock;
use oauth2::{AsyncHttpClient, HttpRequest, HttpResponse};

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
    /// Builds a client that follows no redirects and takes its proxy from the environment
    /// (`HTTPS_PROXY`, `NO_PROXY`, and the OS settings reqwest reads).
    pub fn new(clock: SharedClock) -> Result<Self, HttpError> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("PresenceBridge/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(HttpError::Transport)?;
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
            Ok(Err(error)) => Err(HttpError::Transport(error.without_url())),
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

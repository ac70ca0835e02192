//! Opening the authorize page: the system browser in real use, a scripted stand-in for tests and
//! the demo mode.

use std::sync::Arc;

use clock::SharedClock;
use url::Url;

/// Why the authorize page could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum BrowserError {
    /// The OS could not start a browser.
    #[error("could not open the system browser")]
    Launch(#[source] std::io::Error),
    /// The scripted stand-in could not be set up.
    #[error("could not start the scripted browser")]
    Scripted(#[source] reqwest::Error),
}

/// Opens the authorize URL somewhere a user (or a script) can complete the sign-in.
///
/// It must return once the page is on its way; the sign-in waits for the redirect to the
/// loopback listener on its own.
pub type OpenUrl = Box<dyn Fn(&Url) -> Result<(), BrowserError> + Send + Sync>;

/// Opens the URL in the user's default browser.
pub fn system_browser() -> OpenUrl {
    Box::new(|url: &Url| open::that_detached(url.as_str()).map_err(BrowserError::Launch))
}

/// A stand-in browser: an HTTP client that loads the authorize URL and follows its redirects,
/// which with an authorization server that consents at once (the Graph twin) ends at the
/// loopback listener. It runs in a spawned task and holds a busy guard on `clock` meanwhile.
pub fn scripted_browser(clock: SharedClock) -> OpenUrl {
    scripted_browser_with_language(clock, "en")
}

/// [`scripted_browser`] with an `Accept-Language` header, e.g. `de-DE`.
pub fn scripted_browser_with_language(clock: SharedClock, accept_language: &str) -> OpenUrl {
    let accept_language = Arc::<str>::from(accept_language);
    Box::new(move |url: &Url| {
        // It stands in for a browser on loopback pages only, so no proxy applies.
        let client = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::limited(10))
            .build()
            .map_err(BrowserError::Scripted)?;
        let url = url.clone();
        let busy = clock.busy();
        let accept_language = Arc::clone(&accept_language);
        tokio::spawn(async move {
            let _busy = busy;
            let result = client
                .get(url)
                .header(reqwest::header::ACCEPT_LANGUAGE, &*accept_language)
                .send()
                .await;
            match result {
                Ok(response) => {
                    tracing::debug!(status = response.status().as_u16(), "scripted browser done")
                }
                Err(error) => {
                    tracing::debug!(error = %error.without_url(), "scripted browser failed")
                }
            }
        });
        Ok(())
    })
}

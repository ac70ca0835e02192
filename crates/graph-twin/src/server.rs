//! The accept loop: one hyper connection per socket, with a handle that lets a handler close
//! its own connection with a TCP reset.
//!
//! axum's own `serve` cannot drop a single connection on request, and a "connection reset"
//! fault needs exactly that, so the twin runs hyper's HTTP/1 connection itself. With a
//! certificate the connection is TLS (rustls with the ring provider) before HTTP starts.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, Notify};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tower::Service;

use crate::config::TwinTls;

/// Lets a handler close the connection its request came on.
#[derive(Debug, Clone, Default)]
pub struct ConnectionControl {
    reset: Arc<Notify>,
}

impl ConnectionControl {
    /// Closes the connection with a TCP reset instead of sending a response.
    pub fn reset(&self) {
        self.reset.notify_one();
    }
}

/// Builds the TLS side of an HTTPS twin: HTTP/1.1 only, as the server below speaks nothing
/// else.
pub fn tls_acceptor(tls: &TwinTls) -> std::io::Result<TlsAcceptor> {
    let chain = tls
        .cert_chain
        .iter()
        .map(|der| CertificateDer::from(der.clone()))
        .collect();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(tls.private_key_pkcs8.clone()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(std::io::Error::other)?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(std::io::Error::other)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Serves `router` on `listener` until `shutdown` fires or is dropped; over TLS when `tls` is
/// set.
pub async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    router: Router,
    mut shutdown: oneshot::Receiver<()>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    connections.spawn(serve_connection(stream, peer, tls.clone(), router.clone()));
                }
                Err(error) => {
                    tracing::warn!(%error, "accepting a connection failed");
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.shutdown().await;
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    tls: Option<TlsAcceptor>,
    router: Router,
) {
    // A second handle on the socket lets the reset path set SO_LINGER to zero after hyper
    // owns the stream, so that closing sends RST instead of FIN.
    let Ok(socket) = stream.into_std() else {
        return;
    };
    let Ok(spare) = socket.try_clone() else {
        return;
    };
    let Ok(stream) = TcpStream::from_std(socket) else {
        return;
    };
    match tls {
        None => serve_http(stream, spare, peer, router).await,
        Some(acceptor) => match acceptor.accept(stream).await {
            Ok(stream) => serve_http(stream, spare, peer, router).await,
            // A client that does not trust the certificate ends here, with an alert.
            Err(error) => tracing::debug!(%error, %peer, "TLS handshake failed"),
        },
    }
}

/// Runs HTTP/1 on `stream`; `spare` is a second handle on its socket for the reset fault.
async fn serve_http<S>(stream: S, spare: std::net::TcpStream, peer: SocketAddr, router: Router)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let control = ConnectionControl::default();
    let service_control = control.clone();
    let service = tower::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(service_control.clone());
        request.extensions_mut().insert(ConnectInfo(peer));
        router.clone().call(request)
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));

    tokio::select! {
        result = connection => {
            if let Err(error) = result {
                tracing::debug!(%error, %peer, "connection ended with an error");
            }
        }
        () = control.reset.notified() => {
            let linger = socket2::SockRef::from(&spare).set_linger(Some(Duration::ZERO));
            if let Err(error) = linger {
                tracing::debug!(%error, "could not arm the reset; the connection closes normally");
            }
        }
    }
}

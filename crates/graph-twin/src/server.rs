//! The accept loop: one hyper connection per socket, with a handle that lets a handler close
//! its own connection with a TCP reset.
//!
//! axum's own `serve` cannot drop a single connection on request, and a "connection reset"
//! fault needs exactly that, so the twin runs hyper's HTTP/1 connection itself.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, Notify};
use tokio::task::JoinSet;
use tower::Service;

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

/// Serves `router` on `listener` until `shutdown` fires or is dropped.
pub async fn serve(listener: TcpListener, router: Router, mut shutdown: oneshot::Receiver<()>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    connections.spawn(serve_connection(stream, peer, router.clone()));
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

async fn serve_connection(stream: TcpStream, peer: SocketAddr, router: Router) {
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

//! Network stand-ins for the proxy and certificate tests: a private certificate authority like
//! the one a TLS-inspecting proxy signs with, a recording CONNECT proxy, and the process
//! environment that reqwest reads when a client is built.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use graph_twin::TwinTls;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// Every variable reqwest's proxy matcher or rustls-native-certs reads, in both spellings.
pub const NETWORK_ENV: &[&str] = &[
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
    // hyper-util ignores every proxy variable when this CGI variable is set.
    "REQUEST_METHOD",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
];

/// Removes every variable of [`NETWORK_ENV`], so that the machine's own settings do not leak in.
///
/// Call it only while no request is in flight: the test binaries that use it have a single
/// test, so no other thread reads the environment at the same time.
pub fn clear_network_env() {
    for name in NETWORK_ENV {
        std::env::remove_var(name);
    }
}

/// A root certificate authority and a server certificate it signed for `localhost` and
/// `127.0.0.1`.
pub struct TestPki {
    root_pem: String,
    server_chain: Vec<Vec<u8>>,
    server_key_pkcs8: Vec<u8>,
}

impl TestPki {
    /// Generates a root named `root_name` and its server certificate (ECDSA P-256).
    pub fn generate(root_name: &str) -> TestPki {
        let root_key = KeyPair::generate().expect("root key generates");
        let mut root_params = CertificateParams::new(Vec::<String>::new()).expect("root params");
        root_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        root_params
            .distinguished_name
            .push(DnType::CommonName, root_name);
        root_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let root = root_params.self_signed(&root_key).expect("root signs");

        let server_key = KeyPair::generate().expect("server key generates");
        let mut server_params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
                .expect("server params");
        server_params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server = server_params
            .signed_by(&server_key, &root, &root_key)
            .expect("server certificate signs");

        TestPki {
            root_pem: root.pem(),
            server_chain: vec![server.der().to_vec()],
            server_key_pkcs8: server_key.serialize_der(),
        }
    }

    /// The root certificate in PEM, as an administrator would install it.
    pub fn root_pem(&self) -> &str {
        &self.root_pem
    }

    /// The server side for [`graph_twin::TwinConfig::tls`].
    pub fn twin_tls(&self) -> TwinTls {
        TwinTls {
            cert_chain: self.server_chain.clone(),
            private_key_pkcs8: self.server_key_pkcs8.clone(),
        }
    }
}

/// A fresh, empty directory under the system temp directory, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates `<tmp>/presence-bridge-<name>-<pid>`.
    pub fn new(name: &str) -> TempDir {
        let path =
            std::env::temp_dir().join(format!("presence-bridge-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("temp dir is created");
        TempDir(path)
    }

    /// Writes `contents` to `relative` below the directory, creating parent directories.
    pub fn write(&self, relative: &str, contents: &str) -> PathBuf {
        let path = self.0.join(relative);
        std::fs::create_dir_all(path.parent().expect("file has a parent")).expect("dir created");
        std::fs::write(&path, contents).expect("file written");
        path
    }

    /// Returns the directory's path.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One request the proxy received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyRecord {
    /// The request method: `CONNECT` for a tunnel.
    pub method: String,
    /// The request target: `host:port` for CONNECT.
    pub target: String,
    /// The `Proxy-Authorization` header, if any.
    pub proxy_authorization: Option<String>,
}

/// An HTTP proxy on 127.0.0.1 that tunnels CONNECT requests and records every request; any
/// other method gets 405, as this proxy only tunnels. A request without the expected
/// `Proxy-Authorization` gets 407 with only NTLM and Negotiate offered, as Windows proxies
/// often do.
pub struct ConnectProxy {
    port: u16,
    records: Arc<Mutex<Vec<ProxyRecord>>>,
    task: JoinHandle<()>,
}

impl ConnectProxy {
    /// Binds a free port and starts accepting; `required_authorization` is the one accepted
    /// `Proxy-Authorization` value, `None` to accept any request.
    pub async fn start(required_authorization: Option<&str>) -> ConnectProxy {
        let required = required_authorization.map(str::to_owned);
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("proxy binds");
        let port = listener.local_addr().expect("proxy address").port();
        let records = Arc::new(Mutex::new(Vec::new()));
        let accept_records = Arc::clone(&records);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(tunnel(
                    stream,
                    required.clone(),
                    Arc::clone(&accept_records),
                ));
            }
        });
        ConnectProxy {
            port,
            records,
            task,
        }
    }

    /// Returns the proxy URL with `userinfo` (`user:password@`, or empty).
    pub fn url(&self, userinfo: &str) -> String {
        format!("http://{userinfo}127.0.0.1:{}", self.port)
    }

    /// Returns the records so far and clears them.
    pub fn take_records(&self) -> Vec<ProxyRecord> {
        std::mem::take(&mut *self.records.lock().unwrap())
    }
}

impl Drop for ConnectProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn tunnel(
    stream: TcpStream,
    required_authorization: Option<String>,
    records: Arc<Mutex<Vec<ProxyRecord>>>,
) {
    let mut client = BufReader::new(stream);
    let mut request_line = String::new();
    if client.read_line(&mut request_line).await.unwrap_or(0) == 0 {
        return;
    }
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default().to_owned();
    let mut proxy_authorization = None;
    loop {
        let mut line = String::new();
        if client.read_line(&mut line).await.unwrap_or(0) == 0 {
            return;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.trim().eq_ignore_ascii_case("proxy-authorization") {
                proxy_authorization = Some(value.trim().to_owned());
            }
        }
    }
    let authorized = required_authorization
        .is_none_or(|required| proxy_authorization.as_deref() == Some(required.as_str()));
    records.lock().unwrap().push(ProxyRecord {
        method: method.clone(),
        target: target.clone(),
        proxy_authorization,
    });

    if !authorized {
        let _ = client
            .write_all(
                b"HTTP/1.1 407 Proxy Authentication Required\r\n\
                  Proxy-Authenticate: NTLM\r\nProxy-Authenticate: Negotiate\r\n\
                  content-length: 0\r\n\r\n",
            )
            .await;
        return;
    }

    if method != "CONNECT" {
        let _ = client
            .write_all(b"HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\n\r\n")
            .await;
        return;
    }
    let Ok(mut upstream) = TcpStream::connect(target.as_str()).await else {
        let _ = client
            .write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n")
            .await;
        return;
    };
    if client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .await
        .is_err()
    {
        return;
    }
    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
}

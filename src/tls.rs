//! The gRPC port's transport: TLS with optional client certificates (mutual TLS) by
//! OpenSSL, the same library that signs and verifies documents (and that takes the GOST
//! engines of Kazakhstan's national PKI), or plain TCP for local work.
//!
//! Every accepted connection carries a [`PeerIdentity`] that tonic puts into each request's
//! extensions, where [`crate::api::layer::AuthLayer`] reads it.

use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use openssl::pkey::PKey;
use openssl::ssl::{AlpnError, Ssl, SslAcceptor, SslConnector, SslMethod, SslVerifyMode};
use openssl::x509::X509;
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::verify::X509VerifyFlags;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_openssl::SslStream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::server::Connected;

use crate::auth::{CertIdentity, PeerIdentity};
use crate::sign::keys::SubjectSummary;

/// How long a client may take to finish the TLS handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A TLS acceptor for the service certificate in `cert_pem` (leaf first, then its chain)
/// and `key_pem`, asking for client certificates issued under `client_cas` (verified, but
/// not required: a caller without one is PUBLIC).
pub fn acceptor(cert_pem: &[u8], key_pem: &[u8], client_cas: &[X509]) -> Result<SslAcceptor> {
    let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server())?;
    let mut certs = X509::stack_from_pem(cert_pem)
        .context("the TLS certificate file holds no PEM certificate")?
        .into_iter();
    let leaf = certs
        .next()
        .context("the TLS certificate file holds no certificate")?;
    b.set_certificate(&leaf)?;
    for c in certs {
        b.add_extra_chain_cert(c)?;
    }
    let key = PKey::private_key_from_pem(key_pem).context("the TLS key")?;
    b.set_private_key(&key)?;
    b.check_private_key()
        .context("the TLS key does not match its certificate")?;
    let mut store = X509StoreBuilder::new()?;
    // An intermediate configured alone (the national CA's issuing CA) is enough.
    store.set_flags(X509VerifyFlags::PARTIAL_CHAIN)?;
    for ca in client_cas {
        store.add_cert(ca.clone())?;
        b.add_client_ca(ca)?;
    }
    b.set_verify_cert_store(store.build())?;
    b.set_verify(SslVerifyMode::PEER);
    b.set_alpn_select_callback(|_, offered| {
        openssl::ssl::select_next_proto(b"\x02h2", offered).ok_or(AlpnError::NOACK)
    });
    Ok(b.build())
}

/// Loads an acceptor from PEM files.
pub fn acceptor_from_files(cert: &Path, key: &Path, client_cas: &[X509]) -> Result<SslAcceptor> {
    let read = |p: &Path| std::fs::read(p).with_context(|| format!("reading {}", p.display()));
    acceptor(&read(cert)?, &read(key)?, client_cas)
}

/// What a verified client certificate says of its holder.
pub fn identity_of(cert: &X509) -> CertIdentity {
    let s = SubjectSummary::from_name(cert.subject_name());
    CertIdentity {
        iin: s.iin(),
        bin: s.bin(),
        organisation: s.organization.clone(),
        subject: s.to_string(),
    }
}

/// One accepted connection.
pub struct Conn {
    io: Io,
    peer: PeerIdentity,
}

enum Io {
    Plain(TcpStream),
    Tls(Box<SslStream<TcpStream>>),
}

impl Connected for Conn {
    type ConnectInfo = PeerIdentity;
    fn connect_info(&self) -> PeerIdentity {
        self.peer.clone()
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match &mut self.get_mut().io {
            Io::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match &mut self.get_mut().io {
            Io::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().io {
            Io::Plain(s) => Pin::new(s).poll_flush(cx),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().io {
            Io::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// How connections are accepted.
#[derive(Clone)]
pub enum Accept {
    Tls(Arc<SslAcceptor>),
    /// Plain TCP; every caller is PUBLIC.
    Plaintext,
    /// Plain TCP on loopback; every caller may do everything.
    Development,
}

/// Accepts connections on `listener` (handshakes run concurrently, each bounded by
/// [`HANDSHAKE_TIMEOUT`]) until the returned stream is dropped.
pub fn incoming(
    listener: TcpListener,
    accept: Accept,
) -> ReceiverStream<std::result::Result<Conn, io::Error>> {
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    tokio::spawn(async move {
        loop {
            let (tcp, remote) = tokio::select! {
                _ = tx.closed() => break,
                accepted = listener.accept() => match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // Out of descriptors and the like: wait and go on.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            let _ = tcp.set_nodelay(true);
            let tx = tx.clone();
            let accept = accept.clone();
            tokio::spawn(async move {
                match establish(tcp, remote, &accept).await {
                    Ok(conn) => {
                        let _ = tx.send(Ok(conn)).await;
                    }
                    Err(e) => tracing::debug!(%remote, error = %e, "connection refused"),
                }
            });
        }
    });
    ReceiverStream::new(rx)
}

async fn establish(tcp: TcpStream, remote: SocketAddr, accept: &Accept) -> Result<Conn> {
    let peer = |certificate, development| PeerIdentity {
        remote: Some(remote),
        certificate,
        development,
    };
    match accept {
        Accept::Plaintext => Ok(Conn {
            io: Io::Plain(tcp),
            peer: peer(None, false),
        }),
        Accept::Development => Ok(Conn {
            io: Io::Plain(tcp),
            peer: peer(None, true),
        }),
        Accept::Tls(acceptor) => {
            let ssl = Ssl::new(acceptor.context())?;
            let mut stream = SslStream::new(ssl, tcp)?;
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, Pin::new(&mut stream).accept()).await {
                Err(_) => bail!("TLS handshake timed out"),
                Ok(Err(e)) => bail!("TLS handshake failed: {e}"),
                Ok(Ok(())) => {}
            }
            let certificate = stream.ssl().peer_certificate().map(|c| identity_of(&c));
            Ok(Conn {
                io: Io::Tls(Box::new(stream)),
                peer: peer(certificate, false),
            })
        }
    }
}

/// A client identity for [`channel`]: PEM certificate (leaf first, then chain) and key.
pub struct ClientIdentity<'a> {
    pub cert_pem: &'a [u8],
    pub key_pem: &'a [u8],
}

/// A gRPC channel to a Kvota service over TLS, trusting `server_ca_pem`, presenting
/// `identity` if given (as the service's own tools and tests connect).
pub async fn channel(
    addr: SocketAddr,
    server_name: &str,
    server_ca_pem: &[u8],
    identity: Option<ClientIdentity<'_>>,
) -> Result<tonic::transport::Channel> {
    let mut b = SslConnector::builder(SslMethod::tls_client())?;
    let mut store = X509StoreBuilder::new()?;
    for ca in X509::stack_from_pem(server_ca_pem)? {
        store.add_cert(ca)?;
    }
    b.set_verify_cert_store(store.build())?;
    b.set_alpn_protos(b"\x02h2")?;
    if let Some(id) = identity {
        let mut certs = X509::stack_from_pem(id.cert_pem)?.into_iter();
        let leaf = certs.next().context("no client certificate")?;
        b.set_certificate(&leaf)?;
        for c in certs {
            b.add_extra_chain_cert(c)?;
        }
        let key = PKey::private_key_from_pem(id.key_pem)?;
        b.set_private_key(&key)?;
    }
    let connector = Arc::new(b.build());
    let server_name = server_name.to_owned();
    let endpoint = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))?;
    let channel = endpoint
        .connect_with_connector(tower::service_fn(move |_: http::Uri| {
            let connector = connector.clone();
            let server_name = server_name.clone();
            async move {
                let tcp = TcpStream::connect(addr).await?;
                let ssl = connector
                    .configure()
                    .and_then(|c| c.into_ssl(&server_name))
                    .map_err(io::Error::other)?;
                let mut stream = SslStream::new(ssl, tcp).map_err(io::Error::other)?;
                Pin::new(&mut stream)
                    .connect()
                    .await
                    .map_err(io::Error::other)?;
                Ok::<_, io::Error>(hyper_util::rt::TokioIo::new(stream))
            }
        }))
        .await?;
    Ok(channel)
}

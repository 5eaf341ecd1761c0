//! Building and running the service; tests call `Application::build` to spawn it on a
//! random port with their own database and PKI.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use tokio::net::TcpListener;
use tonic::transport::Server;

use crate::api::audit::Audit;
use crate::api::bodies::Bodies;
use crate::api::calendar::CalendarApi;
use crate::api::pb::audit_service_server::AuditServiceServer;
use crate::api::pb::body_service_server::BodyServiceServer;
use crate::api::pb::calendar_service_server::CalendarServiceServer;
use crate::api::pb::central_body_service_server::CentralBodyServiceServer;
use crate::api::pb::document_service_server::DocumentServiceServer;
use crate::api::pb::employer_application_service_server::EmployerApplicationServiceServer;
use crate::api::pb::quota_service_server::QuotaServiceServer;
use crate::api::pb::region_service_server::RegionServiceServer;
use crate::api::pb::regional_service_server::RegionalServiceServer;
use crate::api::pb::signing_service_server::SigningServiceServer;
use crate::api::quota::QuotaApi;
use crate::api::regional::{CentralBodies, Regional};
use crate::api::signing::Signing;
use crate::api::{
    AppState, applications::Applications, documents::Documents, pb, regions::Regions,
};
use crate::clock::Clock;
use crate::config::Config;

use crate::render::Renderer;
use crate::sealing::{Sealer, load_trust_anchors};
use crate::sign::{self, Signer};
use crate::store::Store;

/// Largest request accepted: a PDF sent to VerifyDocument.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024 * 1024;

pub struct Application {
    listener: TcpListener,
    accept: crate::tls::Accept,
    state: AppState,
    /// The public pages' listener, unless they are off.
    web: Option<TcpListener>,
    cors_origins: Vec<String>,
    /// Minutes between archive passes (0: none) and what they do.
    archive: (u32, crate::process::archive::ArchivePolicy),
}

/// The service's seal: configured, or development certificates made under the data
/// directory on first start.
/// How stale a replica's calendar may be on PostgreSQL: it is read again this often.
pub const CALENDAR_REFRESH: std::time::Duration = std::time::Duration::from_secs(10);

pub fn load_signer(config: &Config) -> Result<LoadedSeal> {
    let s = &config.signing;
    let mut trust = load_trust_anchors(&s.trust_anchors)?;
    if let Some(dir) = &s.trust_dir {
        trust.extend(crate::sealing::load_trust_dir(dir)?);
    }
    let mut dev_root = None;
    let signer = if let Some(p12) = &s.pkcs12_file {
        let der = std::fs::read(p12).with_context(|| format!("reading {}", p12.display()))?;
        Signer::load_pkcs12(&der, s.pkcs12_password.as_deref().unwrap_or(""))
            .with_context(|| format!("loading PKCS#12 {}", p12.display()))?
    } else if let (Some(key), Some(cert)) = (&s.key_file, &s.cert_file) {
        let read = |p: &std::path::Path| {
            std::fs::read(p).with_context(|| format!("reading {}", p.display()))
        };
        let chain = s.chain_file.as_deref().map(read).transpose()?;
        Signer::load_pem(
            &read(key)?,
            &read(cert)?,
            chain.as_deref().unwrap_or_default(),
        )
        .context("loading the seal's PEM key and certificate")?
    } else if s.key_file.is_some() || s.cert_file.is_some() {
        bail!("signing.key_file and signing.cert_file must be given together");
    } else {
        let dir = config.data_dir.join("certs");
        let pki = sign::dev::ensure_dev_pki_with(&dir, &s.dev_bin, config.dev_crl_url().as_deref())
            .with_context(|| format!("development certificates in {}", dir.display()))?;
        tracing::warn!(
            dir = %dir.display(),
            root = %pki.root_pem.display(),
            "no seal configured: using development certificates (not for production)"
        );
        // The dev root is trusted beside any configured anchors.
        trust.push(pki.root_cert.clone());
        dev_root = pki.root_key.map(|key| (key, pki.root_cert.clone()));
        pki.seal
    };
    if let Some(path) = &s.dev_root_key_file {
        let pem = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let key = openssl::pkey::PKey::private_key_from_pem(&pem)
            .with_context(|| format!("parsing {}", path.display()))?;
        let root = trust
            .iter()
            .find(|c| c.public_key().is_ok_and(|k| k.public_eq(&key)))
            .with_context(|| {
                format!(
                    "signing.dev_root_key_file {} is the key of none of the trust anchors",
                    path.display()
                )
            })?;
        dev_root = Some((key, root.clone()));
    }
    Ok(LoadedSeal {
        signer,
        trust,
        dev_root,
    })
}

/// The seal, the trust anchors, and with development certificates the dev root's key
/// and certificate (to issue its CRL).
pub struct LoadedSeal {
    pub signer: Signer,
    pub trust: Vec<openssl::x509::X509>,
    pub dev_root: Option<(
        openssl::pkey::PKey<openssl::pkey::Private>,
        openssl::x509::X509,
    )>,
}

/// How the gRPC port accepts callers (see [`crate::config::Transport`]).
fn transport(
    config: &Config,
    listener: &TcpListener,
    trust: &[openssl::x509::X509],
) -> Result<crate::tls::Accept> {
    use crate::config::Transport;
    use crate::tls::Accept;
    Ok(match config.transport {
        Transport::Development => {
            let addr = listener.local_addr()?;
            if !addr.ip().is_loopback() {
                bail!(
                    "the development transport lets every caller do everything, so it listens \
                     on loopback only, not on {addr}"
                );
            }
            tracing::warn!(
                %addr,
                "development transport: no TLS and no authorisation (never for production)"
            );
            Accept::Development
        }
        Transport::Plaintext => {
            tracing::warn!("plaintext transport: no TLS; every caller is PUBLIC");
            Accept::Plaintext
        }
        Transport::Tls => {
            let (cert, key) = match (&config.tls.cert_file, &config.tls.key_file) {
                (Some(c), Some(k)) => (c.clone(), k.clone()),
                _ => {
                    let dir = config.data_dir.join("certs");
                    let (c, k) = sign::dev::ensure_dev_tls(&dir).with_context(|| {
                        format!("development TLS certificate in {}", dir.display())
                    })?;
                    tracing::warn!(
                        cert = %c.display(),
                        "no TLS certificate configured: using a development certificate for localhost"
                    );
                    (c, k)
                }
            };
            let client_cas = if config.tls.client_ca_files.is_empty() {
                trust.to_vec()
            } else {
                load_trust_anchors(&config.tls.client_ca_files)?
            };
            Accept::Tls(Arc::new(
                crate::tls::acceptor_from_files(&cert, &key, &client_cas)
                    .context("setting up TLS")?,
            ))
        }
    })
}

impl Application {
    /// Builds the service on the clock of `config`: fixed when it names an instant, else
    /// the system's.
    pub async fn build(config: &Config) -> Result<Self> {
        let clock = match config.fixed_clock()? {
            Some(t) => {
                tracing::warn!(clock = %t, "service clock is fixed by configuration");
                Clock::Fixed(t)
            }
            None => Clock::System,
        };
        Self::build_with_clock(config, clock).await
    }

    /// Builds the service on `clock` in place of the configured one (tests pass a
    /// [`Clock::Manual`] to move the service's time while it runs).
    pub async fn build_with_clock(config: &Config, clock: Clock) -> Result<Self> {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating data directory {}", config.data_dir.display()))?;
        let store = Store::open(&config.database_url())
            .await
            .with_context(|| format!("opening database {}", config.database_url()))?
            .with_blobs(
                crate::store::blobs::Blobs::from_url(config.documents_url.as_deref())
                    .context("opening the documents' object store")?,
            );
        let LoadedSeal {
            signer,
            trust,
            dev_root,
        } = load_signer(config)?;
        let renderer = Renderer::new(config.templates_dir.as_deref(), config.fonts_dir.as_deref())?;
        let regions =
            crate::domain::Regions::new(store.list_regions().await?.into_iter().map(|r| r.kato));
        let listener = TcpListener::bind(&config.listen)
            .await
            .with_context(|| format!("listening on {}", config.listen))?;
        let accept = transport(config, &listener, &trust)?;
        let web = match config.http_listen.as_str() {
            "" => None,
            addr => Some(
                TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("listening for the web pages on {addr}"))?,
            ),
        };
        let public_base_url = match (&config.public_base_url, &web) {
            (Some(url), _) => url.clone(),
            (None, Some(l)) => format!("http://{}", l.local_addr()?),
            (None, None) => crate::sealing::DEFAULT_PUBLIC_BASE_URL.to_owned(),
        };
        let calendar = crate::process::SharedCalendar::new(store.load_calendar().await?);
        Ok(Self {
            listener,
            accept,
            state: AppState {
                store,
                sealer: Arc::new(
                    Sealer::new(
                        renderer,
                        signer,
                        crate::sign::Trust {
                            anchors: trust,
                            crls: crate::sealing::load_crls(&config.signing.crl_files)?
                                .into_iter()
                                .map(Arc::new)
                                .collect(),
                            at: None,
                            unavailable: Vec::new(),
                            ocsp: None,
                            embedded: None,
                        },
                    )
                    .with_tsa(config.signing.tsa_url.clone())
                    .with_crl_urls(&config.signing.crl_urls)
                    .with_ocsp_urls(&config.signing.ocsp_urls)
                    .with_public_base_url(&public_base_url)
                    .with_dev_root(dev_root)
                    .with_publish_extension(
                        match config.archive.publish_level.as_str() {
                            "B-LTA" => Some(crate::sealing::Extension::Lta),
                            "B-LT" => Some(crate::sealing::Extension::Lt),
                            _ => None,
                        },
                    ),
                ),
                clock,
                regions: Arc::new(regions),
                parties: Arc::new(crate::process::Parties {
                    ministry_bin: config.signing.ministry_bin.clone(),
                    regional_body_bins: config.signing.regional_body_bins.clone(),
                }),
                calendar,
            },
            web,
            cors_origins: config.http_cors_origins.clone(),
            archive: (
                config.archive.interval_minutes,
                crate::process::archive::ArchivePolicy {
                    margin: chrono::Duration::days(i64::from(config.archive.margin_days)),
                },
            ),
        })
    }

    /// The address of the public pages, if they are served.
    pub fn web_addr(&self) -> Option<SocketAddr> {
        self.web.as_ref().and_then(|l| l.local_addr().ok())
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("bound listener")
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then finishes in-flight calls.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send) -> Result<()> {
        let (health, health_service) = tonic_health::server::health_reporter();
        health
            .set_serving::<EmployerApplicationServiceServer<Applications>>()
            .await;
        health
            .set_serving::<DocumentServiceServer<Documents>>()
            .await;
        health.set_serving::<RegionServiceServer<Regions>>().await;
        health
            .set_serving::<CalendarServiceServer<CalendarApi>>()
            .await;
        health
            .set_serving::<RegionalServiceServer<Regional>>()
            .await;
        health
            .set_serving::<CentralBodyServiceServer<CentralBodies>>()
            .await;
        health.set_serving::<QuotaServiceServer<QuotaApi>>().await;
        health.set_serving::<SigningServiceServer<Signing>>().await;
        health.set_serving::<AuditServiceServer<Audit>>().await;
        health.set_serving::<BodyServiceServer<Bodies>>().await;
        let reflection = || {
            tonic_reflection::server::Builder::configure()
                .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
                .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        };
        let reflection_v1 = reflection().build_v1()?;
        let reflection_v1alpha = reflection().build_v1alpha()?;
        let s = self.state;
        // The public pages stop when the gRPC server is told to.
        let (stop_web, web_stopped) = tokio::sync::watch::channel(());
        let web = match self.web {
            Some(listener) => {
                let addr = listener.local_addr()?;
                let state = crate::web::WebState::new(s.clone(), &crate::web::WebConfig::default());
                let router = crate::web::router(state, public_grpc_web(&s, &self.cors_origins)?);
                tracing::info!(%addr, "kvota web listening");
                let mut stopped = web_stopped.clone();
                Some(tokio::spawn(async move {
                    axum::serve(listener, router)
                        .with_graceful_shutdown(async move {
                            let _ = stopped.changed().await;
                        })
                        .await
                }))
            }
            None => None,
        };
        let shutdown = async move {
            shutdown.await;
            let _ = stop_web.send(());
        };
        let addr = self.listener.local_addr()?;
        tracing::info!(%addr, "kvota listening");
        // The archive job: a pass at start, then one every `interval` minutes.
        let archive = match self.archive {
            (0, _) => None,
            (minutes, policy) => {
                let s = s.clone();
                Some(tokio::spawn(async move {
                    let every = std::time::Duration::from_secs(u64::from(minutes) * 60);
                    loop {
                        if let Err(e) = crate::process::archive::archive_pass(&s, &policy).await {
                            tracing::warn!(error = %e, "archive pass failed; retried at the next");
                        }
                        tokio::time::sleep(every).await;
                    }
                }))
            }
        };
        // Replicas on one PostgreSQL database: a change of the calendar made through
        // another replica is read here within [`CALENDAR_REFRESH`] (principals within
        // [`crate::auth::CACHE_TTL`]). One SQLite file has one process: nothing to do.
        let calendar_refresh = (s.store.backend() == crate::store::Backend::Postgres).then(|| {
            let s = s.clone();
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(CALENDAR_REFRESH).await;
                    match s.store.load_calendar().await {
                        Ok(c) => s.calendar.set(Arc::new(c)),
                        Err(e) => tracing::warn!(error = %e, "calendar refresh failed"),
                    }
                }
            })
        });
        let auth =
            crate::api::layer::AuthLayer::new(crate::auth::Resolver::new(s.store.clone()), s.clock);
        Server::builder()
            .layer(auth)
            .add_service(health_service)
            .add_service(reflection_v1)
            .add_service(reflection_v1alpha)
            .add_service(EmployerApplicationServiceServer::new(Applications(
                s.clone(),
            )))
            .add_service(
                DocumentServiceServer::new(Documents(s.clone()))
                    .max_decoding_message_size(MAX_MESSAGE_BYTES),
            )
            .add_service(CalendarServiceServer::new(CalendarApi(s.clone())))
            .add_service(QuotaServiceServer::new(QuotaApi(s.clone())))
            .add_service(SigningServiceServer::new(Signing(s.clone())))
            .add_service(RegionalServiceServer::new(Regional(s.clone())))
            .add_service(CentralBodyServiceServer::new(CentralBodies(s.clone())))
            .add_service(AuditServiceServer::new(Audit(s.clone())))
            .add_service(BodyServiceServer::new(Bodies(s.clone())))
            .add_service(RegionServiceServer::new(Regions(s)))
            .serve_with_incoming_shutdown(
                crate::tls::incoming(self.listener, self.accept),
                shutdown,
            )
            .await?;
        if let Some(archive) = archive {
            archive.abort();
        }
        if let Some(refresh) = calendar_refresh {
            refresh.abort();
        }
        if let Some(web) = web {
            web.await.context("the web server task")??;
        }
        tracing::info!("kvota stopped");
        Ok(())
    }
}

/// gRPC-Web on the pages' port: the public reads only (the published decision and the
/// verification of a file), with CORS for the configured origins. Nothing that changes
/// state is routed here.
fn public_grpc_web(s: &AppState, origins: &[String]) -> Result<axum::Router> {
    use tonic_web::GrpcWebLayer;
    use tower::ServiceBuilder;
    let quota = ServiceBuilder::new()
        .layer(GrpcWebLayer::new())
        .service(QuotaServiceServer::new(QuotaApi(s.clone())));
    let documents = ServiceBuilder::new().layer(GrpcWebLayer::new()).service(
        DocumentServiceServer::new(Documents(s.clone()))
            .max_decoding_message_size(MAX_MESSAGE_BYTES),
    );
    let router = axum::Router::new()
        .route_service("/kvota.v1.QuotaService/GetPublishedDecision", quota.clone())
        .route_service("/kvota.v1.QuotaService/ListPublishedDecisions", quota)
        .route_service("/kvota.v1.DocumentService/VerifyDocument", documents);
    if origins.is_empty() {
        return Ok(router);
    }
    use axum::http::{HeaderName, Method, header};
    use tower_http::cors::{AllowOrigin, CorsLayer};
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        let list = origins
            .iter()
            .map(|o| o.parse().with_context(|| format!("CORS origin {o:?}")))
            .collect::<Result<Vec<_>>>()?;
        AllowOrigin::list(list)
    };
    let cors = CorsLayer::new()
        .allow_origin(allow)
        .allow_methods([Method::POST, Method::OPTIONS])
        .allow_headers([
            header::CONTENT_TYPE,
            HeaderName::from_static("x-grpc-web"),
            HeaderName::from_static("x-user-agent"),
            HeaderName::from_static("grpc-timeout"),
        ])
        .expose_headers([
            HeaderName::from_static("grpc-status"),
            HeaderName::from_static("grpc-message"),
            HeaderName::from_static("grpc-status-details-bin"),
        ])
        .max_age(std::time::Duration::from_secs(86_400));
    Ok(router.layer(cors))
}

/// mimalloc's option `mi_option_purge_delay` (`mimalloc.h`; the same number in its v2
/// and v3), which the crate does not name.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// How long memory the allocator has freed stays with the process before it goes back to
/// the system. mimalloc's default, 1 s, is shorter than its reuse under a steady load of
/// documents: with 64 clients the service gave back and took again ~190 spans of 64 KiB
/// a second, each a system call, a TLB flush on the other core and page faults (with huge
/// pages, 2 MiB zeroed) when used again. 10 s keeps them (CPU per create + submit 6.32 →
/// 6.10 ms, BENCHMARKS.md); what a burst such as a long Appendix 2 freed still goes back,
/// 10 s later.
pub const ALLOCATOR_PURGE_DELAY_MS: i64 = 10_000;

/// Sets the allocator's options. Call it first in `main`, before other threads start:
/// mimalloc's options are plain variables.
pub fn tune_allocator() {
    // SAFETY: stores a value in mimalloc's option table (read when it next purges); no
    // other thread runs yet.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, ALLOCATOR_PURGE_DELAY_MS) }
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown requested");
}

#[cfg(test)]
mod tests {
    /// The option set is mimalloc's purge delay: before, it reads mimalloc's documented
    /// default for it (1000 ms, which no neighbouring option has); after, our value.
    #[test]
    fn the_allocator_option_set_is_its_purge_delay() {
        let read = || unsafe { libmimalloc_sys::mi_option_get(super::MI_OPTION_PURGE_DELAY) };
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            assert_eq!(read(), 1000);
        }
        super::tune_allocator();
        assert_eq!(read(), super::ALLOCATOR_PURGE_DELAY_MS);
    }
}

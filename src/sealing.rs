//! Issuing a document: render a form, embed a PAdES seal, make the detached CMS over the
//! final bytes, and describe the result for storage.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use openssl::x509::X509;
use sha2::{Digest, Sha256};

use crate::domain::almaty;
use crate::render::appendix1::VisibleSignature;
use crate::render::{PdfMeta, Renderer};
use crate::sign::ocsp::OcspClient;
use crate::sign::revocation::CrlSource;
use crate::sign::{self, Signer};
use crate::store::NewDocument;

/// The public pages' address when none is configured (the default HTTP listener).
pub const DEFAULT_PUBLIC_BASE_URL: &str = "http://127.0.0.1:8080";

/// The service's seal and the renderer it seals.
pub struct Sealer {
    renderer: Renderer,
    signer: Signer,
    trust: crate::sign::Trust,
    tsa_url: Option<String>,
    crl_sources: Vec<CrlSource>,
    /// Where the public verification pages are: QR codes carry `{this}/v/{code}`.
    public_base_url: String,
    ocsp: Arc<OcspClient>,
    /// The level published decisions are brought to (configured; B-LT while no TSA).
    publish_extension: Option<Extension>,
    /// With development certificates: the dev root's CRL, issued here and kept current.
    dev_crl: Option<DevCrl>,
    /// The largest seal (CMS with its timestamp, DER bytes) made so far: the next seal's
    /// placeholder is this and [`SEAL_MARGIN`], not the full reservation.
    largest_seal: std::sync::atomic::AtomicUsize,
}

/// Room left in a seal's placeholder beyond the largest seal made so far (a timestamp
/// token's length varies by a few bytes; a new TSA certificate by more, which a second
/// try with the full reservation covers).
const SEAL_MARGIN: usize = 1024;

/// The development root's CRL, issued again when half its validity has passed (what a
/// national CA's publication gives a real chain).
struct DevCrl {
    key: openssl::pkey::PKey<openssl::pkey::Private>,
    root: X509,
    current: std::sync::Mutex<Option<Arc<openssl::x509::X509Crl>>>,
}

impl DevCrl {
    fn at(&self, now: DateTime<Utc>) -> Option<Arc<openssl::x509::X509Crl>> {
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        let fresh = current.as_ref().is_some_and(|crl| {
            let issued = openssl::asn1::Asn1Time::from_unix(now.timestamp())
                .ok()
                .and_then(|t| crl.last_update().diff(&t).ok())
                .map(|d| i64::from(d.days) * 86_400 + i64::from(d.secs));
            issued.is_some_and(|age| {
                (0..sign::dev::DEV_CRL_VALIDITY.num_seconds() / 2).contains(&age)
            })
        });
        if !fresh {
            match sign::dev::root_crl(&self.key, &self.root, now.timestamp().max(1) as u64, now) {
                Ok(crl) => *current = Some(Arc::new(crl)),
                Err(e) => tracing::warn!(error = %e, "the development root's CRL"),
            }
        }
        current.clone()
    }
}

impl Sealer {
    pub fn new(renderer: Renderer, signer: Signer, trust: crate::sign::Trust) -> Self {
        Self {
            renderer,
            signer,
            trust,
            tsa_url: None,
            crl_sources: Vec::new(),
            public_base_url: DEFAULT_PUBLIC_BASE_URL.to_owned(),
            ocsp: Arc::new(OcspClient::new(Default::default())),
            publish_extension: None,
            dev_crl: None,
            largest_seal: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// With development certificates: the dev root's key and certificate, to issue its
    /// CRL (served at `/pki/dev-root.crl`, embedded by B-LT).
    pub fn with_dev_root(
        mut self,
        root: Option<(openssl::pkey::PKey<openssl::pkey::Private>, X509)>,
    ) -> Self {
        self.dev_crl = root.map(|(key, root)| DevCrl {
            key,
            root,
            current: std::sync::Mutex::new(None),
        });
        self
    }

    /// The development root's current CRL (DER), if this service issues one.
    pub fn dev_root_crl(&self, now: DateTime<Utc>) -> Option<Vec<u8>> {
        self.dev_crl.as_ref()?.at(now)?.to_der().ok()
    }

    /// Published decisions are extended to `level` (`archive.publish_level`); B-LTA is
    /// B-LT while no TSA is configured.
    pub fn with_publish_extension(mut self, level: Option<Extension>) -> Self {
        self.publish_extension = level;
        self
    }

    /// The level published decisions are brought to, if any.
    pub fn publish_extension(&self) -> Option<Extension> {
        match (self.publish_extension, &self.tsa_url) {
            (Some(Extension::Lta), None) => Some(Extension::Lt),
            (level, _) => level,
        }
    }

    /// OCSP responders by the issuing CA's common name (`*`: every issuer).
    pub fn with_ocsp_urls(mut self, urls: &std::collections::BTreeMap<String, String>) -> Self {
        self.ocsp = Arc::new(OcspClient::new(urls.clone()));
        self
    }

    /// The address of the public pages, as people reach them (no trailing slash).
    pub fn with_public_base_url(mut self, url: &str) -> Self {
        self.public_base_url = url.trim_end_matches('/').to_owned();
        self
    }

    /// The page that verifies the document with public code `code`.
    pub fn verification_url(&self, code: &str) -> String {
        format!("{}/v/{code}", self.public_base_url)
    }

    /// CRLs fetched from these URLs as well as the configured files.
    pub fn with_crl_urls(mut self, urls: &[String]) -> Self {
        self.crl_sources = urls.iter().map(CrlSource::new).collect();
        self
    }

    /// The trust for a verification at `now`: anchors, the configured CRLs and those of
    /// the distribution points (fetched again when stale; a failed fetch keeps the last
    /// list and is logged). Blocking: call it off the async runtime.
    pub fn trust_at(&self, now: DateTime<Utc>) -> crate::sign::Trust {
        let mut trust = self.trust.clone();
        trust.at = Some(now);
        trust.ocsp = Some(self.ocsp.clone());
        if let Some(crl) = self.dev_crl.as_ref().and_then(|d| d.at(now)) {
            trust.crls.push(crl);
        }
        for source in &self.crl_sources {
            let state = source.state_at(now);
            match (state.crl, state.problem) {
                (Some(crl), _) => trust.crls.push(crl),
                (None, Some(problem)) => {
                    trust.unavailable.push((source.url().to_owned(), problem));
                }
                (None, None) => {}
            }
        }
        trust
    }

    /// Signature timestamps from this TSA on every seal (PAdES B-T).
    pub fn with_tsa(mut self, url: Option<String>) -> Self {
        self.tsa_url = url;
        self
    }

    /// Adds a signature timestamp to a CMS when a TSA is configured.
    pub fn timestamp(&self, cms_der: Vec<u8>) -> Result<Vec<u8>> {
        match &self.tsa_url {
            Some(url) => crate::sign::tsa::timestamp_cms(&cms_der, url)
                .with_context(|| format!("signature timestamp from {url}")),
            None => Ok(cms_der),
        }
    }

    pub fn signer(&self) -> &Signer {
        &self.signer
    }

    pub fn trust_anchors(&self) -> &[X509] {
        &self.trust.anchors
    }

    /// Trust anchors and CRLs for verification.
    pub fn trust(&self) -> &crate::sign::Trust {
        &self.trust
    }

    pub fn renderer(&self) -> &Renderer {
        &self.renderer
    }

    /// The visible signature block of a document about to be sealed.
    pub fn visible_signature(&self, document_id: &str, t: DateTime<Utc>) -> VisibleSignature {
        let who = self.signer.subject_summary();
        VisibleSignature {
            signer: who.common_name.clone().unwrap_or_default(),
            organisation: who.organization.clone().unwrap_or_default(),
            bin: who.bin().unwrap_or_default(),
            certificate_serial: self.signer.serial_hex(),
            signing_time: t
                .with_timezone(&almaty())
                .format("%d.%m.%Y %H:%M:%S (UTC+5)")
                .to_string(),
            document_id: document_id.to_owned(),
        }
    }

    /// Adds another seal to an already signed PDF (incremental update after the others).
    pub fn reseal(&self, pdf: &[u8], field: &str, now: DateTime<Utc>) -> Result<Vec<u8>> {
        let mut options = sign::pades::PadesOptions::new(field, now.with_timezone(&almaty()));
        options.reason = Some("Электронная печать сервиса после подписи стороны".into());
        self.seal(pdf, options)
    }

    /// Seals `pdf` (an invisible PAdES signature with `options`, timestamped when a TSA
    /// is configured). The placeholder is sized to the seals made so far (an Appendix 1
    /// sealed in 16 KB of placeholder, 32 KB of hex zeros, was 40 % zeros); a seal that
    /// does not fit is made again with the full reservation.
    fn seal(&self, pdf: &[u8], mut options: sign::pades::PadesOptions) -> Result<Vec<u8>> {
        use std::sync::atomic::Ordering::Relaxed;
        let full = options.contents_size;
        let largest = self.largest_seal.load(Relaxed);
        if largest > 0 {
            options.contents_size = (largest + SEAL_MARGIN).clamp(1024, full);
        }
        loop {
            let prepared = sign::pades::prepare_pdf(pdf, &options)?;
            let seal = sign::cms::sign_digest(
                &self.signer,
                &prepared.digest,
                &sign::cms::CmsSignOptions { signing_time: None },
            )?;
            let seal = self.timestamp(seal)?;
            self.largest_seal.fetch_max(seal.len(), Relaxed);
            match prepared.embed(&seal) {
                Err(sign::SignError::ContentsTooSmall { .. }) if options.contents_size < full => {
                    options.contents_size = full;
                }
                sealed => return Ok(sealed?),
            }
        }
    }

    /// Renders `template` and seals the PDF: embedded PAdES B-B, then a detached CMS
    /// over the sealed bytes.
    #[allow(clippy::too_many_arguments)]
    pub fn issue(
        &self,
        id: &str,
        code: &str,
        template: &str,
        data: &serde_json::Value,
        kind: &str,
        title: &str,
        subject: &str,
        now: DateTime<Utc>,
    ) -> Result<NewDocument> {
        let name = format!("documents/{id}");
        let created = now.with_timezone(&almaty());
        let started = std::time::Instant::now();
        let pdf = self.renderer.render(
            template,
            data,
            &self.verification_url(code),
            &PdfMeta {
                ident: name.clone(),
                created,
            },
        )?;
        let rendered = started.elapsed();
        let mut options = sign::pades::PadesOptions::new("KvotaSeal", created);
        options.reason = Some(format!("{title} ({name})"));
        options.location = Some("Республика Казахстан".into());
        let sealed = self
            .seal(&pdf, options)
            .with_context(|| format!("sealing {name}"))?;
        // The sealed file's SHA-256, once: the detached CMS signs it and the store keeps it.
        let sha256 = Sha256::digest(&sealed);
        let cms = sign::cms::sign_digest(
            &self.signer,
            &sha256,
            &sign::cms::CmsSignOptions {
                signing_time: Some(now),
            },
        )
        .with_context(|| format!("detached CMS of {name}"))?;
        let cms = self.timestamp(cms)?;
        tracing::debug!(
            document = %name,
            render_micros = rendered.as_micros() as u64,
            seal_micros = (started.elapsed() - rendered).as_micros() as u64,
            "issued"
        );
        let who = self.signer.subject_summary();
        Ok(NewDocument {
            id: id.to_owned(),
            public_code: code.to_owned(),
            kind: kind.to_owned(),
            title: title.to_owned(),
            subject: subject.to_owned(),
            sha256: hex::encode(sha256),
            cms_sha256: hex::encode(Sha256::digest(&cms)),
            pdf: sealed,
            cms,
            signer: who.common_name.clone().unwrap_or_default(),
            certificate_serial: self.signer.serial_hex(),
            signer_iin: who.iin(),
            signer_bin: who.bin(),
            signing_time: now,
            create_time: now,
        })
    }
}

/// The level a document is extended to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extension {
    /// The validation data of its signatures and timestamps (PAdES B-LT).
    Lt,
    /// And a document timestamp over all (PAdES B-LTA).
    Lta,
}

impl Extension {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Lt => "B-LT",
            Self::Lta => "B-LTA",
        }
    }
}

/// A document extended: its new bytes, the detached seal over them, and when the
/// certificate of its last document timestamp expires (B-LTA).
pub struct Extended {
    pub pdf: Vec<u8>,
    pub cms: Vec<u8>,
    pub archive_expire_time: Option<DateTime<Utc>>,
}

/// Why a document could not be extended.
#[derive(Debug, thiserror::Error)]
pub enum ExtendError {
    /// Revocation data of these certificates cannot be had now.
    #[error("no validation data at hand for: {}", .0.join("; "))]
    Missing(Vec<String>),
    #[error("B-LTA needs a timestamp authority (signing.tsa_url) and none is configured")]
    NoTsa,
    #[error("document timestamp from {url}: {detail}")]
    Tsa { url: String, detail: String },
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl Sealer {
    /// Extends `pdf` to `level` at `now`: the validation data of every signature and
    /// timestamp in it (from the responders and CRLs at hand) into its /DSS, then for
    /// B-LTA a document timestamp; the detached seal is made again over the result.
    /// Blocking (OCSP, CRLs, the TSA): call it off the async runtime.
    pub fn extend(
        &self,
        pdf: &[u8],
        level: Extension,
        now: DateTime<Utc>,
    ) -> Result<Extended, ExtendError> {
        let url = match (level, &self.tsa_url) {
            (Extension::Lta, None) => return Err(ExtendError::NoTsa),
            (_, url) => url.clone(),
        };
        let trust = self.trust_at(now);
        let collected = sign::ltv::collect(pdf, &trust).map_err(anyhow::Error::from)?;
        if !collected.missing.is_empty() {
            return Err(ExtendError::Missing(collected.missing));
        }
        let mut out = sign::ltv::add_dss(pdf, &collected.data)
            .map_err(anyhow::Error::from)?
            .unwrap_or_else(|| pdf.to_vec());
        let mut archive_expire_time = None;
        if let (Extension::Lta, Some(url)) = (level, url) {
            out = sign::ltv::add_document_timestamp(&out, &url, now).map_err(|e| {
                ExtendError::Tsa {
                    url: url.clone(),
                    detail: e.to_string(),
                }
            })?;
            archive_expire_time = last_timestamp_expiry(&out);
        }
        let cms = self.timestamp(
            sign::cms::sign_detached(&self.signer, &out, now).map_err(anyhow::Error::from)?,
        )?;
        Ok(Extended {
            pdf: out,
            cms,
            archive_expire_time,
        })
    }
}

/// When the certificate of the last document timestamp in `pdf` expires: the latest
/// expiry among them (the newest timestamp covers all older ones).
pub fn last_timestamp_expiry(pdf: &[u8]) -> Option<DateTime<Utc>> {
    let epoch = openssl::asn1::Asn1Time::from_unix(0).ok()?;
    sign::verify::embedded_signatures(pdf)
        .ok()?
        .into_iter()
        .filter(|s| s.document_timestamp)
        .filter_map(|s| {
            let info = sign::cms::parse_cms(&s.cms).ok()?;
            let d = epoch.diff(info.signer_cert()?.not_after()).ok()?;
            DateTime::from_timestamp(i64::from(d.days) * 86_400 + i64::from(d.secs), 0)
        })
        .max()
}

/// Reads PEM trust anchors.
pub fn load_trust_anchors(paths: &[impl AsRef<Path>]) -> Result<Vec<X509>> {
    let mut out = Vec::new();
    for p in paths {
        let p = p.as_ref();
        let pem = std::fs::read(p).with_context(|| format!("reading {}", p.display()))?;
        out.extend(X509::stack_from_pem(&pem).with_context(|| format!("parsing {}", p.display()))?);
    }
    Ok(out)
}

/// Reads CRLs (PEM or DER) for revocation checks.
pub fn load_crls(paths: &[impl AsRef<Path>]) -> Result<Vec<openssl::x509::X509Crl>> {
    let mut out = Vec::new();
    for p in paths {
        let p = p.as_ref();
        let bytes = std::fs::read(p).with_context(|| format!("reading CRL {}", p.display()))?;
        let crl = openssl::x509::X509Crl::from_pem(&bytes)
            .or_else(|_| openssl::x509::X509Crl::from_der(&bytes))
            .with_context(|| format!("parsing CRL {}", p.display()))?;
        out.push(crl);
    }
    Ok(out)
}

/// Every PEM certificate in `dir` (`*.pem`, `*.crt`, `*.cer`); none if it does not exist.
pub fn load_trust_dir(dir: &Path) -> Result<Vec<X509>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut paths: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| matches!(e, "pem" | "crt" | "cer"))
        })
        .collect();
    paths.sort();
    load_trust_anchors(&paths)
}

/// Runs CPU-bound work (rendering, sealing, verifying) on a pool of one thread per core,
/// one task per thread at a time, with as many again queued in the pool so that a thread
/// that finishes one starts the next at once; the rest wait in arrival order. Without
/// the limit 64 clients meant 64 Typst compilations sharing two cores: each slower,
/// memory larger, and fewer documents per second than with 8.
///
/// The pool is a work-stealing one, like the one Typst lays out pages on: Typst's parallel
/// work started from one of its threads runs on that thread (or the idle one) instead of
/// being handed to another pool while this thread sleeps, a hand-off and a wake-up per
/// document. A task's slot is held until the task ends, even if its caller stops waiting.
pub async fn on_core<T, F>(f: F) -> Result<T, TaskPanicked>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    static POOL: std::sync::OnceLock<(rayon::ThreadPool, std::sync::Arc<tokio::sync::Semaphore>)> =
        std::sync::OnceLock::new();
    let (pool, slots) = POOL.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(cores)
            .thread_name(|i| format!("kvota-core-{i}"))
            .build()
            .expect("threads for the CPU-bound pool");
        (
            pool,
            std::sync::Arc::new(tokio::sync::Semaphore::new(2 * cores)),
        )
    });
    let slot = slots
        .clone()
        .acquire_owned()
        .await
        .expect("the semaphore is never closed");
    let (done, result) = tokio::sync::oneshot::channel();
    pool.spawn(move || {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        drop(slot);
        // The caller may have stopped waiting; the work is done either way.
        let _ = done.send(outcome);
    });
    match result.await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(panic)) => Err(TaskPanicked(panic_message(panic.as_ref()))),
        Err(_) => Err(TaskPanicked("the task ended without a result".into())),
    }
}

/// A task of [`on_core`] that panicked, with the panic's message.
#[derive(Debug, thiserror::Error)]
#[error("task panicked: {0}")]
pub struct TaskPanicked(String);

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tasks run on the pool's threads, no more at once than there are cores; a task that
    /// panics is an error naming the panic, and its slot is free again: after more
    /// panicking tasks than there are slots, tasks still run.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn tasks_run_one_per_core_and_a_panic_is_an_error() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        for _ in 0..3 * cores {
            let err = on_core(|| -> u8 { panic!("broken template") })
                .await
                .unwrap_err();
            assert!(err.to_string().contains("broken template"), "{err}");
        }
        let (running, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let tasks: Vec<_> = (0..4 * cores)
            .map(|i| {
                let (running, most) = (running.clone(), most.clone());
                tokio::spawn(on_core(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    running.fetch_sub(1, Ordering::SeqCst);
                    let name = std::thread::current().name().map(str::to_owned);
                    (i, name)
                }))
            })
            .collect();
        for (i, task) in tasks.into_iter().enumerate() {
            let (j, name) = tokio::time::timeout(std::time::Duration::from_secs(30), task)
                .await
                .expect("the tasks finish")
                .unwrap()
                .unwrap();
            assert_eq!(i, j);
            assert!(name.unwrap_or_default().starts_with("kvota-core-"));
        }
        let most = most.load(Ordering::SeqCst);
        assert!(
            (1..=cores).contains(&most),
            "{most} tasks ran at once on {cores} cores"
        );
    }

    /// The length of the hex placeholder of the last signature in `pdf`.
    fn last_placeholder(pdf: &[u8]) -> usize {
        let at = pdf.windows(11).rposition(|w| w == b"/Contents <").unwrap() + 11;
        pdf[at..].iter().position(|&c| c == b'>').unwrap()
    }

    /// The first seal reserves the full 16 KB; the next ones what the first needed and a
    /// margin, so an Appendix 1 is ~30 KB smaller; a seal that outgrows the learned size
    /// is made again with the full reservation. Every one verifies.
    #[test]
    fn seals_after_the_first_reserve_what_seals_need_and_verify() {
        use std::sync::atomic::Ordering::Relaxed;
        let dir = tempfile::tempdir().unwrap();
        let pki = sign::make_dev_pki(dir.path(), "050140000016").unwrap();
        let root = pki.root_cert.clone();
        let sealer = Sealer::new(
            Renderer::new(None, None).unwrap(),
            pki.seal,
            sign::Trust::anchors(std::slice::from_ref(&root)),
        );
        let data: serde_json::Value =
            serde_json::from_str(include_str!("../templates/sample/appendix1.json")).unwrap();
        let now = Utc::now();
        let issue = |n: u32| {
            let id = format!("d{n}");
            sealer
                .issue(
                    &id,
                    &id,
                    "appendix1.typ",
                    &data,
                    "APPENDIX_1",
                    "Заявка",
                    "",
                    now,
                )
                .unwrap()
                .pdf
        };
        let full = 2 * sign::pades::DEFAULT_CONTENTS_SIZE;
        let first = issue(1);
        assert_eq!(last_placeholder(&first), full);
        let needed = sealer.largest_seal.load(Relaxed);
        assert!((1024..4096).contains(&needed), "{needed}");
        let second = issue(2);
        assert_eq!(last_placeholder(&second), 2 * (needed + SEAL_MARGIN));
        assert!(
            second.len() + 20_000 < first.len(),
            "{} {}",
            second.len(),
            first.len()
        );
        sealer.largest_seal.store(100, Relaxed);
        let third = issue(3);
        assert_eq!(last_placeholder(&third), full);
        assert_eq!(sealer.largest_seal.load(Relaxed), needed);
        for pdf in [first, second, third] {
            let reports = sign::verify_pdf(&pdf, std::slice::from_ref(&root)).unwrap();
            assert_eq!(reports.len(), 1);
            let r = &reports[0];
            assert!(
                r.integrity_ok && r.chain_trusted && r.whole_document_covered,
                "{r:?}"
            );
        }
    }

    /// Rendered forms (Appendices 1 and 2 and the decision), sealed, then signed with a
    /// visible box and sealed again: every update the quick reader prepares is the one a
    /// full parse of the file prepares.
    #[test]
    fn rendered_forms_are_read_quickly_and_updated_as_a_full_parse_would() {
        use crate::render::{appendix1, appendix2, decision, signer};
        let renderer = Renderer::new(None, None).unwrap();
        let created = DateTime::parse_from_rfc3339("2026-12-04T10:00:00+05:00").unwrap();
        let meta = PdfMeta {
            ident: "documents/quick".into(),
            created,
        };
        let signer_box = signer::SignerBox {
            number: 1,
            role: signer::role_name("EMPLOYER_HEAD"),
            signer: "Ахметов Ерлан".into(),
            organisation: "ТОО «Ақжол»".into(),
            identifier_label: "БИН".into(),
            identifier: "050140000016".into(),
            signing_time: "04.12.2026 10:00:00 (UTC+5)".into(),
            certificate_serial: "01AB".into(),
            width_mm: signer::WIDTH_MM,
        };
        let appearance = renderer.signer_box(&signer_box, created).unwrap();
        let samples = [
            (
                appendix1::TEMPLATE,
                include_str!("../templates/sample/appendix1.json"),
            ),
            (
                appendix2::TEMPLATE,
                include_str!("../templates/sample/appendix2.json"),
            ),
            (
                decision::TEMPLATE,
                include_str!("../templates/sample/decision.json"),
            ),
        ];
        for (template, sample) in samples {
            let data: serde_json::Value = serde_json::from_str(sample).unwrap();
            let mut pdf = renderer
                .render(template, &data, "https://kvota.example.kz/verify/x", &meta)
                .unwrap();
            for (n, visible) in [false, true, false].into_iter().enumerate() {
                let mut options = sign::pades::PadesOptions::new(format!("S{n}"), created);
                options.reason = Some(format!("{template} {n}"));
                if visible {
                    options.appearance = Some(appearance.clone());
                }
                assert!(
                    sign::pdf_reader::load_for_update(&pdf).is_some(),
                    "{template} {n}"
                );
                let quick = sign::pades::prepare_pdf(&pdf, &options).unwrap();
                let full = sign::pades::prepare_pdf_parsing_all(&pdf, &options).unwrap();
                assert!(quick == full, "{template} {n}");
                pdf = quick.bytes;
            }
        }
    }

    #[test]
    fn a_trust_directory_yields_its_pem_certificates_and_a_missing_one_none() {
        let dir = tempfile::tempdir().unwrap();
        let pki = crate::sign::keys::make_dev_pki(&dir.path().join("pki"), "990140000017").unwrap();
        let anchors = dir.path().join("anchors");
        std::fs::create_dir_all(&anchors).unwrap();
        std::fs::copy(&pki.root_pem, anchors.join("root.pem")).unwrap();
        std::fs::write(anchors.join("README.md"), "not a certificate").unwrap();
        let loaded = load_trust_dir(&anchors).unwrap();
        assert_eq!(loaded.len(), 1);
        assert_eq!(loaded[0].to_der().unwrap(), pki.root_cert.to_der().unwrap());
        assert!(
            load_trust_dir(&dir.path().join("missing"))
                .unwrap()
                .is_empty()
        );
    }
}

//! Layered configuration: built-in defaults, then a TOML file, then `KVOTA_*` variables.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address of the gRPC listener.
    pub listen: String,
    /// Where the database, dev certificates and other state live.
    pub data_dir: PathBuf,
    /// `sqlite://…` (the default, `sqlite://{data_dir}/kvota.db`) or `postgres://…`.
    pub database_url: Option<String>,
    /// Where documents' PDF and CMS bytes live: in the database (the default) or in an
    /// S3-compatible object store, `s3://bucket/prefix` (credentials and endpoint from
    /// the standard AWS variables).
    pub documents_url: Option<String>,
    /// A fixed service time (RFC 3339), for tests and rehearsals of any date.
    pub clock: Option<String>,
    /// A directory whose `.typ` files replace the built-in templates of the same name.
    pub templates_dir: Option<PathBuf>,
    /// A directory of extra fonts (e.g. Liberation Serif or Times New Roman).
    pub fonts_dir: Option<PathBuf>,
    pub signing: SigningConfig,
    /// How callers connect: `tls` (the default: TLS, callers identified by their client
    /// certificates), `plaintext` (no TLS; every caller is PUBLIC) or `development`
    /// (no TLS, loopback only, every caller may do everything: local work and tests).
    pub transport: Transport,
    pub tls: TlsConfig,
    /// `text` or `json`.
    pub log_format: String,
    /// Address of the public web pages and gRPC-Web (HTTP); empty: not served.
    pub http_listen: String,
    /// The pages' address as the public reaches them, e.g. `https://kvota.enbek.kz`:
    /// every document's QR code carries `{public_base_url}/v/{code}`. Defaults to
    /// `http://{http_listen}` (the address actually bound).
    pub public_base_url: Option<String>,
    /// Origins whose browser applications may call the gRPC-Web methods (CORS), e.g.
    /// `https://egov.kz`; `*` for any. None by default: same origin only.
    pub http_cors_origins: Vec<String>,
    pub archive: ArchiveConfig,
}

/// The archive job (PAdES B-LTA): `kvota archive`, and within `serve` on a schedule.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ArchiveConfig {
    /// The level published decisions are brought to: `B-LTA` (B-LT while no TSA is
    /// configured), `B-LT`, or `` (left as issued).
    pub publish_level: String,
    /// A document timestamp whose certificate expires within this many days is renewed.
    pub margin_days: u32,
    /// Minutes between passes within `serve`; 0: none (run `kvota archive` instead).
    pub interval_minutes: u32,
}

impl Default for ArchiveConfig {
    fn default() -> Self {
        Self {
            publish_level: "B-LTA".into(),
            margin_days: 180,
            interval_minutes: 360,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    #[default]
    Tls,
    Plaintext,
    Development,
}

impl std::str::FromStr for Transport {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "tls" => Transport::Tls,
            "plaintext" => Transport::Plaintext,
            "development" => Transport::Development,
            _ => bail!("transport must be tls, plaintext or development, not {s:?}"),
        })
    }
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM certificate of the service (leaf first, then its chain). Without it, a
    /// development certificate for localhost is made under `{data_dir}/certs`.
    pub cert_file: Option<PathBuf>,
    /// PEM private key of that certificate.
    pub key_file: Option<PathBuf>,
    /// PEM CA certificates whose client certificates identify callers (the national CA's
    /// root and issuing CAs). Defaults to `signing.trust_anchors` and `signing.trust_dir`.
    pub client_ca_files: Vec<PathBuf>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct SigningConfig {
    /// PEM private key of the service's seal.
    pub key_file: Option<PathBuf>,
    /// PEM certificate of the seal.
    pub cert_file: Option<PathBuf>,
    /// PEM intermediate (and root) certificates.
    pub chain_file: Option<PathBuf>,
    /// A PKCS#12 bundle instead of the three PEM files.
    pub pkcs12_file: Option<PathBuf>,
    pub pkcs12_password: Option<String>,
    /// PEM trust anchors for verifying documents; the dev root when dev certificates
    /// are in use.
    pub trust_anchors: Vec<PathBuf>,
    /// BIN written into dev seal certificates.
    pub dev_bin: String,
    /// Development and tests only: the key of a development root among the trust
    /// anchors, with which the service issues that root's CRL (as it does for the
    /// development certificates it makes itself). A real root's key stays offline.
    pub dev_root_key_file: Option<PathBuf>,
    /// CRLs (PEM or DER) checked when verifying signatures of their issuers' certificates.
    pub crl_files: Vec<PathBuf>,
    /// CRL distribution points (http://…), fetched when first needed and again after an
    /// hour or once their nextUpdate has passed.
    pub crl_urls: Vec<String>,
    /// A directory whose PEM certificates are all trust anchors (skipped if missing).
    pub trust_dir: Option<PathBuf>,
    /// OCSP responders (http://…) by the common name of the issuing CA (`*`: every
    /// issuer), asked before the CRLs. A certificate issued by a trust anchor is also
    /// asked at the responder its Authority Information Access names.
    pub ocsp_urls: std::collections::BTreeMap<String, String>,
    /// RFC 3161 timestamp authority (http://…): when set, the seal and accepted party
    /// signatures carry a signature timestamp (PAdES B-T).
    pub tsa_url: Option<String>,
    /// BIN of the ministry, whose signatories may sign the published decision.
    pub ministry_bin: Option<String>,
    /// BIN of each region's body (KATO → BIN), whose signatories may sign that region's
    /// Appendices 2–4, protocols and notices.
    pub regional_body_bins: std::collections::BTreeMap<String, String>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:50051".into(),
            data_dir: PathBuf::from("./data"),
            database_url: None,
            documents_url: None,
            clock: None,
            templates_dir: None,
            fonts_dir: None,
            signing: SigningConfig {
                dev_bin: DEV_BIN.into(),
                trust_dir: Some(PathBuf::from("certs")),
                ..SigningConfig::default()
            },
            transport: Transport::Tls,
            tls: TlsConfig::default(),
            log_format: "text".into(),
            http_listen: "127.0.0.1:8080".into(),
            public_base_url: None,
            http_cors_origins: Vec::new(),
            archive: ArchiveConfig::default(),
        }
    }
}

/// A synthetic BIN with a valid check digit, for development seals only.
pub const DEV_BIN: &str = "000140000012";

impl Config {
    /// Defaults < `file` (if given) < environment.
    pub fn load(file: Option<&Path>) -> Result<Self> {
        let mut config = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading config file {}", path.display()))?;
                toml::from_str(&text)
                    .with_context(|| format!("parsing config file {}", path.display()))?
            }
            None => Config::default(),
        };
        config.apply_env(|k| std::env::var(k).ok())?;
        config.validate()?;
        Ok(config)
    }

    /// Applies `KVOTA_*` variables, read through `get` so tests need not touch the
    /// process environment.
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<()> {
        let path = |k: &str| get(k).filter(|v| !v.is_empty()).map(PathBuf::from);
        if let Some(v) = get("KVOTA_LISTEN") {
            self.listen = v;
        }
        if let Some(v) = path("KVOTA_DATA_DIR") {
            self.data_dir = v;
        }
        if let Some(v) = get("KVOTA_DATABASE_URL") {
            self.database_url = Some(v);
        }
        if let Some(v) = get("KVOTA_DOCUMENTS_URL") {
            self.documents_url = Some(v).filter(|v| !v.is_empty());
        }
        if let Some(v) = get("KVOTA_CLOCK") {
            self.clock = Some(v).filter(|v| !v.is_empty());
        }
        if let Some(v) = path("KVOTA_TEMPLATES_DIR") {
            self.templates_dir = Some(v);
        }
        if let Some(v) = path("KVOTA_FONTS_DIR") {
            self.fonts_dir = Some(v);
        }
        if let Some(v) = path("KVOTA_SIGNING_KEY_FILE") {
            self.signing.key_file = Some(v);
        }
        if let Some(v) = path("KVOTA_SIGNING_CERT_FILE") {
            self.signing.cert_file = Some(v);
        }
        if let Some(v) = path("KVOTA_SIGNING_CHAIN_FILE") {
            self.signing.chain_file = Some(v);
        }
        if let Some(v) = path("KVOTA_SIGNING_PKCS12_FILE") {
            self.signing.pkcs12_file = Some(v);
        }
        if let Some(v) = get("KVOTA_SIGNING_PKCS12_PASSWORD") {
            self.signing.pkcs12_password = Some(v);
        }
        if let Some(v) = get("KVOTA_SIGNING_TRUST_ANCHORS") {
            self.signing.trust_anchors = std::env::split_paths(&v).collect();
        }
        if let Some(v) = get("KVOTA_SIGNING_TRUST_DIR") {
            self.signing.trust_dir = Some(PathBuf::from(v)).filter(|p| !p.as_os_str().is_empty());
        }
        if let Some(v) = get("KVOTA_SIGNING_MINISTRY_BIN") {
            self.signing.ministry_bin = Some(v).filter(|v| !v.is_empty());
        }
        // "KATO=BIN,KATO=BIN"
        if let Some(v) = get("KVOTA_SIGNING_REGIONAL_BODY_BINS") {
            for pair in v.split(',').filter(|p| !p.trim().is_empty()) {
                let (kato, bin) = pair.split_once('=').ok_or_else(|| {
                    anyhow::anyhow!("KVOTA_SIGNING_REGIONAL_BODY_BINS: {pair:?} is not KATO=BIN")
                })?;
                self.signing
                    .regional_body_bins
                    .insert(kato.trim().to_owned(), bin.trim().to_owned());
            }
        }
        if let Some(v) = get("KVOTA_SIGNING_OCSP_URL").filter(|v| !v.trim().is_empty()) {
            self.signing
                .ocsp_urls
                .insert("*".into(), v.trim().to_owned());
        }
        if let Some(v) = path("KVOTA_SIGNING_DEV_ROOT_KEY_FILE") {
            self.signing.dev_root_key_file = Some(v);
        }
        if let Some(v) = get("KVOTA_SIGNING_TSA_URL") {
            self.signing.tsa_url = Some(v).filter(|v| !v.is_empty());
        }
        if let Some(v) = get("KVOTA_SIGNING_CRL_URLS") {
            self.signing.crl_urls = v
                .split(',')
                .map(|u| u.trim().to_owned())
                .filter(|u| !u.is_empty())
                .collect();
        }
        if let Some(v) = get("KVOTA_SIGNING_CRL_FILES") {
            self.signing.crl_files = std::env::split_paths(&v).collect();
        }
        if let Some(v) = get("KVOTA_ARCHIVE_PUBLISH_LEVEL") {
            self.archive.publish_level = v;
        }
        if let Some(v) = get("KVOTA_ARCHIVE_MARGIN_DAYS") {
            self.archive.margin_days = v.parse().with_context(|| {
                format!("KVOTA_ARCHIVE_MARGIN_DAYS: {v:?} is not a number of days")
            })?;
        }
        if let Some(v) = get("KVOTA_ARCHIVE_INTERVAL_MINUTES") {
            self.archive.interval_minutes = v.parse().with_context(|| {
                format!("KVOTA_ARCHIVE_INTERVAL_MINUTES: {v:?} is not a number of minutes")
            })?;
        }
        if let Some(v) = get("KVOTA_TRANSPORT") {
            self.transport = v.parse()?;
        }
        if let Some(v) = path("KVOTA_TLS_CERT_FILE") {
            self.tls.cert_file = Some(v);
        }
        if let Some(v) = path("KVOTA_TLS_KEY_FILE") {
            self.tls.key_file = Some(v);
        }
        if let Some(v) = get("KVOTA_TLS_CLIENT_CA_FILES") {
            self.tls.client_ca_files = std::env::split_paths(&v).collect();
        }
        if let Some(v) = get("KVOTA_LOG_FORMAT") {
            self.log_format = v;
        }
        if let Some(v) = get("KVOTA_HTTP_LISTEN") {
            self.http_listen = v.trim().to_owned();
        }
        if let Some(v) = get("KVOTA_PUBLIC_BASE_URL") {
            self.public_base_url = Some(v.trim().to_owned()).filter(|v| !v.is_empty());
        }
        if let Some(v) = get("KVOTA_HTTP_CORS_ORIGINS") {
            self.http_cors_origins = v
                .split(',')
                .map(|o| o.trim().to_owned())
                .filter(|o| !o.is_empty())
                .collect();
        }
        Ok(())
    }

    /// Where the development root's CRL is published, for the dev seal's certificate:
    /// below `public_base_url`, else the web listener's address; `None` when the pages
    /// are off or their port is chosen at start.
    pub fn dev_crl_url(&self) -> Option<String> {
        let base = match &self.public_base_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None if self.http_listen.is_empty() || self.http_listen.ends_with(":0") => return None,
            None => format!("http://{}", self.http_listen),
        };
        Some(format!("{base}{}", crate::sign::keys::DEV_ROOT_CRL_PATH))
    }

    pub fn validate(&self) -> Result<()> {
        self.fixed_clock()?;
        if !matches!(self.log_format.as_str(), "text" | "json") {
            bail!(
                "log_format must be \"text\" or \"json\", not {:?}",
                self.log_format
            );
        }
        if let Some(url) = &self.public_base_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            bail!("public_base_url must start with http:// or https://, not {url:?}");
        }
        for origin in &self.http_cors_origins {
            if origin != "*" && !(origin.starts_with("http://") || origin.starts_with("https://")) {
                bail!("http_cors_origins: {origin:?} is not an origin (https://host[:port]) or *");
            }
        }
        if !matches!(self.archive.publish_level.as_str(), "" | "B-LT" | "B-LTA") {
            bail!(
                "archive.publish_level must be \"B-LTA\", \"B-LT\" or \"\", not {:?}",
                self.archive.publish_level
            );
        }
        if self.tls.cert_file.is_some() != self.tls.key_file.is_some() {
            bail!("tls.cert_file and tls.key_file must be given together");
        }
        crate::domain::Bin::parse(&self.signing.dev_bin)
            .map_err(|e| anyhow::anyhow!("signing.dev_bin: {e}"))?;
        for (what, bin) in self
            .signing
            .ministry_bin
            .iter()
            .map(|b| ("signing.ministry_bin".to_string(), b))
            .chain(
                self.signing
                    .regional_body_bins
                    .iter()
                    .map(|(k, b)| (format!("signing.regional_body_bins.{k}"), b)),
            )
        {
            crate::domain::Bin::parse(bin).map_err(|e| anyhow::anyhow!("{what}: {e}"))?;
        }
        Ok(())
    }

    pub fn fixed_clock(&self) -> Result<Option<DateTime<Utc>>> {
        self.clock
            .as_deref()
            .map(|s| {
                DateTime::parse_from_rfc3339(s)
                    .map(|t| t.with_timezone(&Utc))
                    .with_context(|| format!("clock {s:?} is not an RFC 3339 time"))
            })
            .transpose()
    }

    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("kvota.db").display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_overrides_file_which_overrides_defaults() {
        let mut c: Config = toml::from_str(
            "listen = \"0.0.0.0:1\"\nclock = \"2026-09-01T00:00:00+05:00\"\n[signing]\nkey_file = \"k.pem\"\n",
        )
        .unwrap();
        assert_eq!(c.data_dir, PathBuf::from("./data"));
        c.apply_env(|k| (k == "KVOTA_LISTEN").then(|| "127.0.0.1:9".to_string()))
            .unwrap();
        assert_eq!(c.listen, "127.0.0.1:9");
        assert_eq!(c.signing.key_file, Some(PathBuf::from("k.pem")));
        assert!(c.fixed_clock().unwrap().is_some());
    }

    #[test]
    fn a_bad_clock_is_refused() {
        let c = Config {
            clock: Some("yesterday".into()),
            ..Config::default()
        };
        assert!(c.validate().is_err());
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(toml::from_str::<Config>("lisen = \"x\"").is_err());
    }
}

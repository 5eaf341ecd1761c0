//! Development certificates kept under the data directory: made once, reused after.

use std::fs;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use openssl::hash::MessageDigest;
use openssl::pkey::{Id, PKey, Private};
use openssl::x509::{X509, X509Crl, X509Ref};

use super::keys::{Signer, make_dev_pki_with};
use super::{Result, SignError};

/// A development seal and its root, loaded from (or just written to) a directory.
pub struct DevSeal {
    pub root_cert: X509,
    /// The root's key, to issue its CRL; `None` for a PKI made before it was kept.
    pub root_key: Option<PKey<Private>>,
    pub seal: Signer,
    pub root_pem: PathBuf,
    pub seal_key_pem: PathBuf,
    pub seal_cert_pem: PathBuf,
    pub chain_pem: PathBuf,
}

const FILES: [&str; 4] = ["root.pem", "seal.key.pem", "seal.cert.pem", "chain.pem"];

/// Loads the development PKI in `dir`, making it first if it is not there. A partial set
/// of files is an error rather than silently replaced, since a key may be in use.
pub fn ensure_dev_pki(dir: &Path, bin: &str) -> Result<DevSeal> {
    ensure_dev_pki_with(dir, bin, None)
}

/// [`ensure_dev_pki`] whose seal, when made now, names `crl_url` as its CRL distribution
/// point.
pub fn ensure_dev_pki_with(dir: &Path, bin: &str, crl_url: Option<&str>) -> Result<DevSeal> {
    let present: Vec<bool> = FILES.iter().map(|f| dir.join(f).exists()).collect();
    if present.iter().all(|p| !p) {
        let pki = make_dev_pki_with(dir, bin, crl_url)?;
        return Ok(DevSeal {
            root_cert: pki.root_cert,
            root_key: Some(pki.root_key),
            seal: pki.seal,
            root_pem: pki.root_pem,
            seal_key_pem: pki.seal_key_pem,
            seal_cert_pem: pki.seal_cert_pem,
            chain_pem: pki.chain_pem,
        });
    }
    if present.iter().any(|p| !p) {
        return Err(SignError::Invalid(format!(
            "{} holds only some of {FILES:?}: remove them or run `kvota certs dev --force`",
            dir.display()
        )));
    }
    let [root_pem, seal_key_pem, seal_cert_pem, chain_pem] = FILES.map(|f| dir.join(f));
    let root_cert = X509::from_pem(&fs::read(&root_pem)?)?;
    let seal = Signer::load_pem(
        &fs::read(&seal_key_pem)?,
        &fs::read(&seal_cert_pem)?,
        &fs::read(&chain_pem)?,
    )?;
    let root_key = match fs::read(dir.join(ROOT_KEY)) {
        Ok(pem) => Some(PKey::private_key_from_pem(&pem)?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e.into()),
    };
    Ok(DevSeal {
        root_cert,
        root_key,
        seal,
        root_pem,
        seal_key_pem,
        seal_cert_pem,
        chain_pem,
    })
}

/// The development root's key (optional: older PKIs lack it).
const ROOT_KEY: &str = "root.key.pem";

/// Removes the development PKI files from `dir`.
pub fn remove_dev_pki(dir: &Path) -> Result<()> {
    for f in FILES.iter().chain(&[ROOT_KEY]) {
        match fs::remove_file(dir.join(f)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
            _ => {}
        }
    }
    Ok(())
}

/// The development TLS certificate for `localhost` (self-signed; clients trust the file
/// itself): `server.cert.pem` and `server.key.pem` under `dir`, made once.
pub fn ensure_dev_tls(dir: &Path) -> Result<(PathBuf, PathBuf)> {
    use openssl::asn1::Asn1Time;
    use openssl::bn::{BigNum, MsbOption};
    use openssl::hash::MessageDigest;
    use openssl::x509::X509NameBuilder;
    use openssl::x509::extension::{
        BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAlternativeName,
    };

    let (cert_path, key_path) = (dir.join("server.cert.pem"), dir.join("server.key.pem"));
    if cert_path.exists() && key_path.exists() {
        return Ok((cert_path, key_path));
    }
    fs::create_dir_all(dir)?;
    let key = super::keys::generate_key(super::keys::KeyAlg::EcP256)?;
    let mut name = X509NameBuilder::new()?;
    name.append_entry_by_text("CN", "localhost")?;
    name.append_entry_by_text("O", "Kvota development")?;
    let name = name.build();
    let mut b = X509::builder()?;
    b.set_version(2)?;
    let mut serial = BigNum::new()?;
    serial.rand(127, MsbOption::MAYBE_ZERO, false)?;
    let serial = serial.to_asn1_integer()?;
    b.set_serial_number(&serial)?;
    b.set_subject_name(&name)?;
    b.set_issuer_name(&name)?;
    b.set_pubkey(&key)?;
    let (not_before, not_after) = (
        Asn1Time::from_str_x509(super::keys::DEV_NOT_BEFORE)?,
        Asn1Time::from_str_x509(super::keys::DEV_NOT_AFTER)?,
    );
    b.set_not_before(&not_before)?;
    b.set_not_after(&not_after)?;
    b.append_extension(BasicConstraints::new().critical().build()?)?;
    b.append_extension(
        KeyUsage::new()
            .critical()
            .digital_signature()
            .key_encipherment()
            .build()?,
    )?;
    b.append_extension(ExtendedKeyUsage::new().server_auth().build()?)?;
    let san = SubjectAlternativeName::new()
        .dns("localhost")
        .ip("127.0.0.1")
        .ip("::1")
        .build(&b.x509v3_context(None, None))?;
    b.append_extension(san)?;
    b.sign(&key, MessageDigest::sha256())?;
    let cert = b.build();
    write_private(&key_path, &key.private_key_to_pem_pkcs8()?)?;
    fs::write(&cert_path, cert.to_pem()?)?;
    Ok((cert_path, key_path))
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(bytes)?;
    Ok(())
}

/// How long a development root CRL is current: its nextUpdate is this long after its
/// thisUpdate. It is issued again once half of that has passed.
pub const DEV_CRL_VALIDITY: Duration = Duration::days(7);

/// A CRL (v2) of `root`, signed with `key`: nothing revoked, issued at `now`, current for
/// [`DEV_CRL_VALIDITY`], numbered `number` (RFC 5280, 5.1; the openssl crate has no CRL
/// builder, so it is written here in DER).
pub fn root_crl(
    key: &PKey<Private>,
    root: &X509Ref,
    number: u64,
    now: DateTime<Utc>,
) -> Result<X509Crl> {
    use super::cms::der;
    let sig_alg = match key.id() {
        Id::RSA => der::seq(&[&der::oid("1.2.840.113549.1.1.11"), &der::null()]),
        Id::EC => der::seq(&[&der::oid("1.2.840.10045.4.3.2")]),
        other => {
            return Err(SignError::Key(format!(
                "cannot sign a CRL with a {other:?} key"
            )));
        }
    };
    let mut extensions = Vec::new();
    if let Some(ski) = root.subject_key_id() {
        // authorityKeyIdentifier { keyIdentifier [0] }
        let aki = der::seq(&[&der::tlv(0x80, ski.as_slice())]);
        extensions.push(der::seq(&[
            &der::oid("2.5.29.35"),
            &der::octet_string(&aki),
        ]));
    }
    let number = der::integer_from_bn_bytes(&number.to_be_bytes());
    extensions.push(der::seq(&[
        &der::oid("2.5.29.20"),
        &der::octet_string(&number),
    ]));
    let refs: Vec<&[u8]> = extensions.iter().map(Vec::as_slice).collect();
    let tbs = der::seq(&[
        &der::integer_small(1),
        &sig_alg,
        &root.subject_name().to_der()?,
        &der::time(&now),
        &der::time(&(now + DEV_CRL_VALIDITY)),
        &der::tlv(0xA0, &der::seq(&refs)),
    ]);
    let mut signer = openssl::sign::Signer::new(MessageDigest::sha256(), key)?;
    signer.update(&tbs)?;
    let signature = signer.sign_to_vec()?;
    let bits = der::tlv(0x03, &[&[0u8][..], &signature].concat());
    Ok(X509Crl::from_der(&der::seq(&[&tbs, &sig_alg, &bits]))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dev_root_issues_a_crl_that_verifies_and_the_seal_names_its_point() {
        let dir = tempfile::tempdir().unwrap();
        let url = "http://127.0.0.1:8080/pki/dev-root.crl";
        let pki = ensure_dev_pki_with(dir.path(), "000140000012", Some(url)).unwrap();
        let key = pki.root_key.as_ref().expect("the root's key is kept");
        let now = DateTime::parse_from_rfc3339("2026-12-03T10:00:00Z")
            .unwrap()
            .to_utc();
        let crl = root_crl(key, &pki.root_cert, 7, now).unwrap();
        assert!(crl.verify(&pki.root_cert.public_key().unwrap()).unwrap());
        assert_eq!(
            crl.issuer_name().to_der().unwrap(),
            pki.root_cert.subject_name().to_der().unwrap()
        );
        assert!(crl.get_revoked().is_none());
        assert_eq!(crl.last_update().to_string(), "Dec  3 10:00:00 2026 GMT");
        assert_eq!(
            crl.next_update().unwrap().to_string(),
            "Dec 10 10:00:00 2026 GMT"
        );
        // openssl itself reads it, with its number.
        let path = dir.path().join("root.crl");
        std::fs::write(&path, crl.to_der().unwrap()).unwrap();
        let out = std::process::Command::new("openssl")
            .args(["crl", "-inform", "DER", "-noout", "-text", "-in"])
            .arg(&path)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{text}");
        assert!(
            text.contains("X509v3 CRL Number:") && text.contains("7"),
            "{text}"
        );
        // The seal's certificate names the point; loaded again, the key comes back.
        let points: Vec<String> = pki
            .seal
            .cert()
            .crl_distribution_points()
            .unwrap()
            .iter()
            .filter_map(|p| {
                p.distpoint()?
                    .fullname()?
                    .iter()
                    .next()?
                    .uri()
                    .map(str::to_owned)
            })
            .collect();
        assert_eq!(points, [url]);
        let again = ensure_dev_pki(dir.path(), "000140000012").unwrap();
        assert!(again.root_key.is_some());
    }
}

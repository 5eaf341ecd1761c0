//! Development certificates kept under the data directory: made once, reused after.

use std::fs;
use std::path::{Path, PathBuf};

use openssl::x509::X509;

use super::keys::{Signer, make_dev_pki};
use super::{Result, SignError};

/// A development seal and its root, loaded from (or just written to) a directory.
pub struct DevSeal {
    pub root_cert: X509,
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
    let present: Vec<bool> = FILES.iter().map(|f| dir.join(f).exists()).collect();
    if present.iter().all(|p| !p) {
        let pki = make_dev_pki(dir, bin)?;
        return Ok(DevSeal {
            root_cert: pki.root_cert,
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
    Ok(DevSeal {
        root_cert,
        seal,
        root_pem,
        seal_key_pem,
        seal_cert_pem,
        chain_pem,
    })
}

/// Removes the development PKI files from `dir`.
pub fn remove_dev_pki(dir: &Path) -> Result<()> {
    for f in FILES {
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

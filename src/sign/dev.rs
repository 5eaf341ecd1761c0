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

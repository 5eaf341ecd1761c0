//! Signing keys and certificates: loading (PEM / PKCS#12) and a development PKI.

use std::fs;
use std::path::{Path, PathBuf};

use openssl::asn1::{Asn1Integer, Asn1Time};
use openssl::bn::{BigNum, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkcs12::Pkcs12;
use openssl::pkey::{Id, PKey, Private};
use openssl::rsa::Rsa;
use openssl::x509::extension::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectKeyIdentifier,
};
use openssl::x509::{X509, X509Name, X509NameBuilder, X509NameRef, X509Ref};

use super::{Result, SignError};

/// A signing identity: private key, its certificate and the issuing chain
/// (intermediates, optionally the root), without the signer certificate itself.
pub struct Signer {
    key: PKey<Private>,
    cert: X509,
    chain: Vec<X509>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("subject", &self.subject_summary())
            .field("serial", &self.serial_hex())
            .field("chain_len", &self.chain.len())
            .finish()
    }
}

impl Signer {
    /// Build from parts; checks that the key matches the certificate.
    pub fn new(key: PKey<Private>, cert: X509, chain: Vec<X509>) -> Result<Self> {
        let pubkey = cert.public_key()?;
        if !pubkey.public_eq(&key) {
            return Err(SignError::Key(
                "private key does not match the certificate".into(),
            ));
        }
        match key.id() {
            Id::RSA | Id::EC => {}
            other => {
                return Err(SignError::Key(format!(
                    "unsupported key type {other:?} (RSA and EC are supported)"
                )));
            }
        }
        // Drop a copy of the signer certificate if the chain file contains it.
        let own = cert.to_der()?;
        let mut filtered = Vec::with_capacity(chain.len());
        for c in chain {
            if c.to_der()? != own {
                filtered.push(c);
            }
        }
        Ok(Signer {
            key,
            cert,
            chain: filtered,
        })
    }

    /// Load from PEM: private key (PKCS#8 or traditional), certificate, and an
    /// optional bundle of chain certificates (may be empty).
    pub fn load_pem(key_pem: &[u8], cert_pem: &[u8], chain_pem: &[u8]) -> Result<Self> {
        let key = PKey::private_key_from_pem(key_pem)
            .map_err(|e| SignError::Key(format!("cannot parse private key PEM: {e}")))?;
        let cert = X509::from_pem(cert_pem)
            .map_err(|e| SignError::Key(format!("cannot parse certificate PEM: {e}")))?;
        let chain = if chain_pem.iter().all(|b| b.is_ascii_whitespace()) {
            Vec::new()
        } else {
            X509::stack_from_pem(chain_pem)
                .map_err(|e| SignError::Key(format!("cannot parse chain PEM: {e}")))?
        };
        Signer::new(key, cert, chain)
    }

    /// Load from a PKCS#12 (.p12/.pfx) file. Note: OpenSSL 3 refuses legacy
    /// encryptions (RC2-40, 3DES...) unless the legacy provider is loaded.
    pub fn load_pkcs12(der: &[u8], password: &str) -> Result<Self> {
        let p12 = Pkcs12::from_der(der)
            .map_err(|e| SignError::Key(format!("cannot parse PKCS#12: {e}")))?;
        let parsed = p12.parse2(password).map_err(|e| {
            SignError::Key(format!("cannot decrypt PKCS#12 (wrong password?): {e}"))
        })?;
        let key = parsed
            .pkey
            .ok_or_else(|| SignError::Key("PKCS#12 has no private key".into()))?;
        let cert = parsed
            .cert
            .ok_or_else(|| SignError::Key("PKCS#12 has no certificate".into()))?;
        let chain = parsed
            .ca
            .map(|s| s.into_iter().collect())
            .unwrap_or_default();
        Signer::new(key, cert, chain)
    }

    pub fn key(&self) -> &PKey<Private> {
        &self.key
    }

    pub fn cert(&self) -> &X509Ref {
        &self.cert
    }

    pub fn chain(&self) -> &[X509] {
        &self.chain
    }

    pub fn subject_summary(&self) -> SubjectSummary {
        SubjectSummary::from_name(self.cert.subject_name())
    }

    /// Certificate serial number as uppercase hex (no separators).
    pub fn serial_hex(&self) -> String {
        cert_serial_hex(&self.cert)
    }
}

/// Certificate serial number as uppercase hex (no separators, no leading zeros).
pub fn cert_serial_hex(cert: &X509Ref) -> String {
    cert.serial_number()
        .to_bn()
        .and_then(|bn| bn.to_hex_str().map(|s| s.to_string()))
        .map(|s| s.to_uppercase())
        .unwrap_or_default()
}

/// The subject fields that matter for Kazakh (NCA-style) certificates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubjectSummary {
    pub common_name: Option<String>,
    pub organization: Option<String>,
    /// `serialNumber` attribute (2.5.4.5), e.g. "IIN123456789012" or "BIN...".
    pub serial_number: Option<String>,
    pub org_unit: Option<String>,
}

impl SubjectSummary {
    pub fn from_name(name: &X509NameRef) -> Self {
        let get = |nid: Nid| {
            name.entries_by_nid(nid)
                .next()
                .and_then(|e| e.data().to_string().ok())
        };
        SubjectSummary {
            common_name: get(Nid::COMMONNAME),
            organization: get(Nid::ORGANIZATIONNAME),
            serial_number: get(Nid::SERIALNUMBER),
            org_unit: get(Nid::ORGANIZATIONALUNITNAME),
        }
    }

    /// Individual identification number: from serialNumber "IIN<digits>".
    pub fn iin(&self) -> Option<String> {
        self.serial_number
            .as_deref()
            .and_then(|s| strip_id(s, "IIN"))
    }

    /// Business identification number: from OU "BIN<digits>", else serialNumber "BIN<digits>".
    pub fn bin(&self) -> Option<String> {
        self.org_unit
            .as_deref()
            .and_then(|s| strip_id(s, "BIN"))
            .or_else(|| {
                self.serial_number
                    .as_deref()
                    .and_then(|s| strip_id(s, "BIN"))
            })
    }
}

impl std::fmt::Display for SubjectSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        if let Some(v) = &self.common_name {
            parts.push(format!("CN={v}"));
        }
        if let Some(v) = &self.organization {
            parts.push(format!("O={v}"));
        }
        if let Some(v) = &self.org_unit {
            parts.push(format!("OU={v}"));
        }
        if let Some(v) = &self.serial_number {
            parts.push(format!("serialNumber={v}"));
        }
        f.write_str(&parts.join(", "))
    }
}

fn strip_id(s: &str, prefix: &str) -> Option<String> {
    let s = s.trim();
    let rest = s
        .get(..prefix.len())
        .filter(|p| p.eq_ignore_ascii_case(prefix))
        .map(|_| &s[prefix.len()..])?;
    let rest = rest.trim();
    if !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()) {
        Some(rest.to_string())
    } else {
        None
    }
}

// ---------------------------------------------------------------------------
// Development PKI
// ---------------------------------------------------------------------------

/// Key algorithm for generated certificates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAlg {
    Rsa(u32),
    EcP256,
}

/// Subject of a generated certificate.
#[derive(Debug, Clone, Default)]
pub struct CertSubject {
    pub common_name: String,
    pub organization: Option<String>,
    pub org_unit: Option<String>,
    pub serial_number: Option<String>,
    pub country: Option<String>,
}

impl CertSubject {
    fn to_name(&self) -> Result<X509Name> {
        let mut b = X509NameBuilder::new()?;
        if let Some(c) = &self.country {
            b.append_entry_by_nid(Nid::COUNTRYNAME, c)?;
        }
        if let Some(o) = &self.organization {
            b.append_entry_by_nid(Nid::ORGANIZATIONNAME, o)?;
        }
        if let Some(ou) = &self.org_unit {
            b.append_entry_by_nid(Nid::ORGANIZATIONALUNITNAME, ou)?;
        }
        b.append_entry_by_nid(Nid::COMMONNAME, &self.common_name)?;
        if let Some(sn) = &self.serial_number {
            b.append_entry_by_nid(Nid::SERIALNUMBER, sn)?;
        }
        Ok(b.build())
    }
}

/// Validity used for dev certificates: wide enough that fixed test clocks
/// (past or future) fall inside.
pub const DEV_NOT_BEFORE: &str = "20200101000000Z";
pub const DEV_NOT_AFTER: &str = "20451231235959Z";

pub fn generate_key(alg: KeyAlg) -> Result<PKey<Private>> {
    Ok(match alg {
        KeyAlg::Rsa(bits) => PKey::from_rsa(Rsa::generate(bits)?)?,
        KeyAlg::EcP256 => {
            let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
            PKey::from_ec_key(EcKey::generate(&group)?)?
        }
    })
}

fn random_serial() -> Result<Asn1Integer> {
    let mut bn = BigNum::new()?;
    // 16 random bytes with the top bit clear (positive, fits 16 bytes DER).
    bn.rand(127, MsbOption::MAYBE_ZERO, false)?;
    Ok(bn.to_asn1_integer()?)
}

/// Create a self-signed root CA certificate.
pub fn make_root_ca(subject: &CertSubject, alg: KeyAlg) -> Result<(PKey<Private>, X509)> {
    let key = generate_key(alg)?;
    let name = subject.to_name()?;
    let mut b = X509::builder()?;
    b.set_version(2)?;
    let serial = random_serial()?;
    b.set_serial_number(&serial)?;
    b.set_subject_name(&name)?;
    b.set_issuer_name(&name)?;
    b.set_pubkey(&key)?;
    let not_before = Asn1Time::from_str_x509(DEV_NOT_BEFORE)?;
    let not_after = Asn1Time::from_str_x509(DEV_NOT_AFTER)?;
    b.set_not_before(&not_before)?;
    b.set_not_after(&not_after)?;
    b.append_extension(BasicConstraints::new().critical().ca().build()?)?;
    b.append_extension(
        KeyUsage::new()
            .critical()
            .key_cert_sign()
            .crl_sign()
            .build()?,
    )?;
    let ski = SubjectKeyIdentifier::new().build(&b.x509v3_context(None, None))?;
    b.append_extension(ski)?;
    b.sign(&key, MessageDigest::sha256())?;
    Ok((key, b.build()))
}

/// Issue a certificate from `ca`. With `is_ca` a (sub-)CA certificate
/// (basicConstraints CA:true, keyCertSign+cRLSign); otherwise an end-entity
/// signing certificate (digitalSignature+nonRepudiation critical, EKU
/// emailProtection).
pub fn issue_cert(
    ca_key: &PKey<Private>,
    ca_cert: &X509Ref,
    subject: &CertSubject,
    alg: KeyAlg,
    is_ca: bool,
) -> Result<(PKey<Private>, X509)> {
    issue(ca_key, ca_cert, subject, alg, is_ca, None)
}

/// Where the service publishes the development root's CRL, below its public address.
pub const DEV_ROOT_CRL_PATH: &str = "/pki/dev-root.crl";

/// An end-entity signing certificate like [`issue_cert`]'s, naming `cdp` as its CRL
/// distribution point.
pub fn issue_cert_with_cdp(
    ca_key: &PKey<Private>,
    ca_cert: &X509Ref,
    subject: &CertSubject,
    alg: KeyAlg,
    cdp: Option<&str>,
) -> Result<(PKey<Private>, X509)> {
    issue(ca_key, ca_cert, subject, alg, false, cdp)
}

fn issue(
    ca_key: &PKey<Private>,
    ca_cert: &X509Ref,
    subject: &CertSubject,
    alg: KeyAlg,
    is_ca: bool,
    cdp: Option<&str>,
) -> Result<(PKey<Private>, X509)> {
    let key = generate_key(alg)?;
    let mut b = X509::builder()?;
    b.set_version(2)?;
    let serial = random_serial()?;
    b.set_serial_number(&serial)?;
    let name = subject.to_name()?;
    b.set_subject_name(&name)?;
    b.set_issuer_name(ca_cert.subject_name())?;
    b.set_pubkey(&key)?;
    let not_before = Asn1Time::from_str_x509(DEV_NOT_BEFORE)?;
    let not_after = Asn1Time::from_str_x509(DEV_NOT_AFTER)?;
    b.set_not_before(&not_before)?;
    b.set_not_after(&not_after)?;
    if is_ca {
        b.append_extension(BasicConstraints::new().critical().ca().build()?)?;
        b.append_extension(
            KeyUsage::new()
                .critical()
                .key_cert_sign()
                .crl_sign()
                .build()?,
        )?;
    } else {
        b.append_extension(BasicConstraints::new().build()?)?;
        b.append_extension(
            KeyUsage::new()
                .critical()
                .digital_signature()
                .non_repudiation()
                .build()?,
        )?;
        b.append_extension(ExtendedKeyUsage::new().email_protection().build()?)?;
    }
    let ski = SubjectKeyIdentifier::new().build(&b.x509v3_context(Some(ca_cert), None))?;
    b.append_extension(ski)?;
    let aki = AuthorityKeyIdentifier::new()
        .keyid(true)
        .build(&b.x509v3_context(Some(ca_cert), None))?;
    b.append_extension(aki)?;
    if let Some(url) = cdp {
        #[allow(deprecated)] // the configuration syntax is the simple way to write a CDP
        let ext = openssl::x509::X509Extension::new(
            None,
            Some(&b.x509v3_context(Some(ca_cert), None)),
            "crlDistributionPoints",
            &format!("URI:{url}"),
        )?;
        b.append_extension(ext)?;
    }
    b.sign(ca_key, MessageDigest::sha256())?;
    Ok((key, b.build()))
}

/// Files and objects of a development PKI made by [`make_dev_pki`].
pub struct DevPki {
    pub root_key: PKey<Private>,
    pub root_cert: X509,
    pub seal: Signer,
    pub root_pem: PathBuf,
    pub seal_key_pem: PathBuf,
    pub seal_cert_pem: PathBuf,
    pub chain_pem: PathBuf,
}

/// Create a development root CA ("Kvota Dev Root CA", RSA 3072) and a seal
/// certificate for organisation `bin` (RSA 2048), writing `root.pem`,
/// `seal.key.pem` (mode 0600), `seal.cert.pem` and `chain.pem` under `dir`.
pub fn make_dev_pki(dir: &Path, bin: &str) -> Result<DevPki> {
    make_dev_pki_with(dir, bin, None)
}

/// [`make_dev_pki`] whose seal certificate names `crl_url` as its CRL distribution
/// point (where the service publishes the dev root's CRL).
pub fn make_dev_pki_with(dir: &Path, bin: &str, crl_url: Option<&str>) -> Result<DevPki> {
    if bin.is_empty() || !bin.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SignError::Invalid(format!(
            "BIN must be digits, got {bin:?}"
        )));
    }
    fs::create_dir_all(dir)?;
    let (root_key, root_cert) = make_root_ca(
        &CertSubject {
            common_name: "Kvota Dev Root CA".into(),
            organization: Some("Kvota (development)".into()),
            country: Some("KZ".into()),
            ..Default::default()
        },
        KeyAlg::Rsa(3072),
    )?;
    let (seal_key, seal_cert) = issue_cert_with_cdp(
        &root_key,
        &root_cert,
        &CertSubject {
            common_name: "KVOTA DEV SEAL".into(),
            organization: Some("Kvota (development)".into()),
            org_unit: Some(format!("BIN{bin}")),
            serial_number: Some(format!("BIN{bin}")),
            country: Some("KZ".into()),
        },
        KeyAlg::Rsa(2048),
        crl_url,
    )?;

    let root_pem = dir.join("root.pem");
    let seal_key_pem = dir.join("seal.key.pem");
    let seal_cert_pem = dir.join("seal.cert.pem");
    let chain_pem = dir.join("chain.pem");
    let root_bytes = root_cert.to_pem()?;
    fs::write(&root_pem, &root_bytes)?;
    write_private(&seal_key_pem, &seal_key.private_key_to_pem_pkcs8()?)?;
    fs::write(&seal_cert_pem, seal_cert.to_pem()?)?;
    fs::write(&chain_pem, &root_bytes)?;
    // Kept to issue the root's CRL (development only: a real root's key is offline).
    write_private(
        &dir.join("root.key.pem"),
        &root_key.private_key_to_pem_pkcs8()?,
    )?;

    let seal = Signer::new(seal_key, seal_cert, vec![root_cert.clone()])?;
    Ok(DevPki {
        root_key,
        root_cert,
        seal,
        root_pem,
        seal_key_pem,
        seal_cert_pem,
        chain_pem,
    })
}

fn write_private(path: &Path, data: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(fs::Permissions::from_mode(0o600))?;
    }
    f.write_all(data)?;
    Ok(())
}

/// Key usage bits of a certificate (0x80 digitalSignature, 0x40 nonRepudiation, …), or
/// `None` when it has no key-usage extension.
pub fn key_usage(cert: &X509Ref) -> Option<u32> {
    use foreign_types::ForeignTypeRef;
    // SAFETY: X509_get_key_usage only reads the certificate (it caches its extensions).
    let ku = unsafe { openssl_sys::X509_get_key_usage(cert.as_ptr()) };
    (ku != u32::MAX).then_some(ku)
}

/// Whether a certificate's extended key usage extension lists `oid` (dotted form). Only
/// that extension counts: the same OID in a certificate policy, a name or any other
/// extension grants no role. A certificate whose extension does not parse, or that
/// carries it twice, lists nothing.
pub fn has_extended_key_usage(cert: &X509Ref, oid: &str) -> bool {
    use foreign_types::{ForeignType, ForeignTypeRef};
    use openssl::asn1::Asn1Object;
    use openssl::stack::Stack;
    let Ok(wanted) = Asn1Object::from_str(oid) else {
        return false;
    };
    // SAFETY: X509_get_ext_d2i returns a newly allocated EXTENDED_KEY_USAGE (a
    // STACK_OF(ASN1_OBJECT)) or null; the Stack takes ownership and frees it and its
    // objects (EXTENDED_KEY_USAGE_free does the same: sk_ASN1_OBJECT_pop_free).
    let usages: Stack<Asn1Object> = unsafe {
        let p = openssl_sys::X509_get_ext_d2i(
            cert.as_ptr(),
            openssl_sys::NID_ext_key_usage,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        );
        if p.is_null() {
            return false;
        }
        Stack::from_ptr(p.cast())
    };
    usages
        .iter()
        // SAFETY: both are valid ASN1_OBJECTs; OBJ_cmp only reads them.
        .any(|u| unsafe { openssl_sys::OBJ_cmp(u.as_ptr(), wanted.as_ptr()) } == 0)
}

/// Roles of Kazakhstan's national PKI, from the extended key usage OIDs.
pub const KZ_ROLES: [(&str, &str); 3] = [
    ("1.2.398.3.3.4.1.2.1", "HEAD"),
    ("1.2.398.3.3.4.1.2.2", "SIGNATORY"),
    ("1.2.398.3.3.4.1.1", "INDIVIDUAL"),
];

/// The signer's role in Kazakhstan's PKI, if its certificate names one.
pub fn kz_role(cert: &X509Ref) -> Option<&'static str> {
    KZ_ROLES
        .iter()
        .find(|(oid, _)| has_extended_key_usage(cert, oid))
        .map(|(_, r)| *r)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "1.2.398.3.3.4.1.2.1";

    /// An end-entity certificate with the given extended key usage OIDs and certificate
    /// policies.
    fn leaf(eku: &[&str], policies: &[&str]) -> X509 {
        let (ca_key, ca) = make_root_ca(
            &CertSubject {
                common_name: "Test CA".into(),
                ..Default::default()
            },
            KeyAlg::EcP256,
        )
        .unwrap();
        let key = generate_key(KeyAlg::EcP256).unwrap();
        let mut b = X509::builder().unwrap();
        b.set_version(2).unwrap();
        b.set_serial_number(&random_serial().unwrap()).unwrap();
        let name = CertSubject {
            common_name: "Signer".into(),
            ..Default::default()
        }
        .to_name()
        .unwrap();
        b.set_subject_name(&name).unwrap();
        b.set_issuer_name(ca.subject_name()).unwrap();
        b.set_pubkey(&key).unwrap();
        b.set_not_before(&Asn1Time::from_str_x509(DEV_NOT_BEFORE).unwrap())
            .unwrap();
        b.set_not_after(&Asn1Time::from_str_x509(DEV_NOT_AFTER).unwrap())
            .unwrap();
        let mut usage = ExtendedKeyUsage::new();
        usage.email_protection();
        for oid in eku {
            usage.other(oid);
        }
        b.append_extension(usage.build().unwrap()).unwrap();
        if !policies.is_empty() {
            // certificatePolicies ::= SEQUENCE OF PolicyInformation { policyIdentifier }
            use super::super::cms::der;
            let infos: Vec<Vec<u8>> = policies.iter().map(|p| der::seq(&[&der::oid(p)])).collect();
            let infos: Vec<&[u8]> = infos.iter().map(Vec::as_slice).collect();
            let ext = openssl::x509::X509Extension::new_from_der(
                &openssl::asn1::Asn1Object::from_str("2.5.29.32").unwrap(),
                false,
                &openssl::asn1::Asn1OctetString::new_from_bytes(&der::seq(&infos)).unwrap(),
            )
            .unwrap();
            b.append_extension(ext).unwrap();
        }
        b.sign(&ca_key, MessageDigest::sha256()).unwrap();
        b.build()
    }

    #[test]
    fn a_role_oid_counts_in_the_extended_key_usage_only() {
        let head = leaf(&[HEAD], &[]);
        assert!(has_extended_key_usage(&head, HEAD));
        assert_eq!(kz_role(&head), Some("HEAD"));

        // The same OID as a certificate policy, the extended key usage without it.
        let policy_only = leaf(&[], &[HEAD]);
        let der = policy_only.to_der().unwrap();
        let needle = super::super::cms::der::oid(HEAD);
        assert!(
            der.windows(needle.len()).any(|w| w == needle.as_slice()),
            "the policy carries the OID's bytes"
        );
        assert!(!has_extended_key_usage(&policy_only, HEAD));
        assert_eq!(kz_role(&policy_only), None);

        // An OID that another one begins with is a different OID.
        assert!(!has_extended_key_usage(&head, "1.2.398.3.3.4.1.2"));
        // No extended key usage at all.
        let (_, root) = make_root_ca(
            &CertSubject {
                common_name: "Root".into(),
                ..Default::default()
            },
            KeyAlg::EcP256,
        )
        .unwrap();
        assert!(!has_extended_key_usage(&root, HEAD));
        assert!(has_extended_key_usage(&head, "1.3.6.1.5.5.7.3.4"));
    }

    #[test]
    fn dev_pki_files_and_subject() {
        let dir = tempfile::tempdir().unwrap();
        let pki = make_dev_pki(dir.path(), "123456789012").unwrap();
        for f in ["root.pem", "seal.key.pem", "seal.cert.pem", "chain.pem"] {
            assert!(dir.path().join(f).is_file(), "{f}");
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&pki.seal_key_pem)
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let s = pki.seal.subject_summary();
        assert_eq!(s.common_name.as_deref(), Some("KVOTA DEV SEAL"));
        assert_eq!(s.organization.as_deref(), Some("Kvota (development)"));
        assert_eq!(s.org_unit.as_deref(), Some("BIN123456789012"));
        assert_eq!(s.bin().as_deref(), Some("123456789012"));
        assert_eq!(s.iin(), None);
        let hex = pki.seal.serial_hex();
        assert!(
            hex.len() >= 30
                && hex
                    .chars()
                    .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase()),
            "{hex}"
        );
        // reload from the written files
        let rd = |p: &std::path::Path| std::fs::read(p).unwrap();
        let again = Signer::load_pem(
            &rd(&pki.seal_key_pem),
            &rd(&pki.seal_cert_pem),
            &rd(&pki.chain_pem),
        )
        .unwrap();
        assert_eq!(again.serial_hex(), hex);
        assert_eq!(again.chain().len(), 1);
        // PKCS#12 round trip
        let mut chain = openssl::stack::Stack::new().unwrap();
        chain.push(pki.root_cert.clone()).unwrap();
        let p12 = openssl::pkcs12::Pkcs12::builder()
            .name("seal")
            .pkey(pki.seal.key())
            .cert(pki.seal.cert())
            .ca(chain)
            .build2("secret")
            .unwrap()
            .to_der()
            .unwrap();
        let from_p12 = Signer::load_pkcs12(&p12, "secret").unwrap();
        assert_eq!(from_p12.serial_hex(), hex);
        assert!(Signer::load_pkcs12(&p12, "wrong").is_err());
        // mismatched key/cert is refused
        let other = generate_key(KeyAlg::EcP256).unwrap();
        assert!(Signer::new(other, pki.seal.cert().to_owned(), vec![]).is_err());
    }
}

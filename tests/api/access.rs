//! Who may do what, over mutual TLS: key refusals and allowances of each role, written
//! out by hand; data scoping by BIN and region; the audit trail and its verification.

use std::process::Command;
use std::str::FromStr;

use kvota::api::pb;
use kvota::auth::Role;
use kvota::sign::keys::{CertSubject, KeyAlg, make_root_ca};
use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::x509::extension::{BasicConstraints, ExtendedKeyUsage, KeyUsage};
use openssl::x509::{X509, X509NameBuilder};
use tonic::transport::Channel;
use tonic::{Code, Status};

use crate::helpers::*;

/// A 12-digit IIN/BIN: `prefix` (11 digits) and its check digit.
fn id(prefix: &str) -> String {
    kvota::domain::Bin::complete(prefix)
        .unwrap_or_else(|| panic!("{prefix} has no check digit; pick another"))
        .as_str()
        .to_owned()
}

/// An authentication certificate as the national CA issues them: IIN in serialNumber,
/// BIN in OU, extended key usage clientAuth.
fn client_cert(
    ca: &(PKey<Private>, X509),
    cn: &str,
    iin: Option<&str>,
    bin: Option<&str>,
) -> (Vec<u8>, Vec<u8>) {
    client_cert_of(ca, cn, None, iin, bin)
}

/// [`client_cert`] with the organisation's name (O) too.
fn client_cert_of(
    ca: &(PKey<Private>, X509),
    cn: &str,
    organisation: Option<&str>,
    iin: Option<&str>,
    bin: Option<&str>,
) -> (Vec<u8>, Vec<u8>) {
    let key = kvota::sign::keys::generate_key(KeyAlg::EcP256).unwrap();
    let mut name = X509NameBuilder::new().unwrap();
    name.append_entry_by_text("C", "KZ").unwrap();
    name.append_entry_by_text("CN", cn).unwrap();
    if let Some(o) = organisation {
        name.append_entry_by_text("O", o).unwrap();
    }
    if let Some(i) = iin {
        name.append_entry_by_text("serialNumber", &format!("IIN{i}"))
            .unwrap();
    }
    if let Some(b) = bin {
        name.append_entry_by_text("OU", &format!("BIN{b}")).unwrap();
    }
    let name = name.build();
    let mut b = X509::builder().unwrap();
    b.set_version(2).unwrap();
    let mut serial = BigNum::new().unwrap();
    serial.rand(120, MsbOption::MAYBE_ZERO, false).unwrap();
    let serial = serial.to_asn1_integer().unwrap();
    b.set_serial_number(&serial).unwrap();
    b.set_subject_name(&name).unwrap();
    b.set_issuer_name(ca.1.subject_name()).unwrap();
    b.set_pubkey(&key).unwrap();
    let (nb, na) = (
        Asn1Time::days_from_now(0).unwrap(),
        Asn1Time::days_from_now(365).unwrap(),
    );
    b.set_not_before(&nb).unwrap();
    b.set_not_after(&na).unwrap();
    b.append_extension(BasicConstraints::new().build().unwrap())
        .unwrap();
    b.append_extension(
        KeyUsage::new()
            .critical()
            .digital_signature()
            .key_agreement()
            .build()
            .unwrap(),
    )
    .unwrap();
    b.append_extension(ExtendedKeyUsage::new().client_auth().build().unwrap())
        .unwrap();
    b.sign(&ca.0, MessageDigest::sha256()).unwrap();
    (
        b.build().to_pem().unwrap(),
        key.private_key_to_pem_pkcs8().unwrap(),
    )
}

struct Secured {
    dir: tempfile::TempDir,
    addr: std::net::SocketAddr,
    server_ca: Vec<u8>,
    db_url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl Secured {
    async fn spawn(transport: kvota::config::Transport, ca_pem: &std::path::Path) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = kvota::sign::dev::ensure_dev_tls(&dir.path().join("tls")).unwrap();
        let mut config = kvota::config::Config {
            listen: "127.0.0.1:0".into(),
            http_listen: "127.0.0.1:0".into(),
            data_dir: dir.path().join("data"),
            clock: Some(BEFORE_DEADLINE.into()),
            transport,
            ..Default::default()
        };
        config.tls.cert_file = Some(cert.clone());
        config.tls.key_file = Some(key);
        config.tls.client_ca_files = vec![ca_pem.to_path_buf()];
        let db_url = config.database_url();
        let app = kvota::startup::Application::build(&config).await.unwrap();
        let addr = app.local_addr();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until(async {
            let _ = rx.await;
        }));
        Secured {
            server_ca: std::fs::read(&cert).unwrap(),
            dir,
            addr,
            db_url,
            stop: Some(tx),
            server: Some(server),
        }
    }

    async fn channel(&self, identity: Option<&(Vec<u8>, Vec<u8>)>) -> Channel {
        kvota::tls::channel(
            self.addr,
            "localhost",
            &self.server_ca,
            identity.map(|(c, k)| kvota::tls::ClientIdentity {
                cert_pem: c,
                key_pem: k,
            }),
        )
        .await
        .unwrap()
    }

    fn kvota(&self, args: &[&str]) -> std::process::Output {
        Command::new(env!("CARGO_BIN_EXE_kvota"))
            .args(args)
            .env("KVOTA_DATABASE_URL", &self.db_url)
            .env("KVOTA_DATA_DIR", self.dir.path().join("cli"))
            .output()
            .unwrap()
    }

    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.server.take().unwrap().await.unwrap().unwrap();
    }
}

/// Calls `method` ("package.Service/Method") with an empty request message.
async fn call(channel: Channel, method: &str) -> Result<(), Status> {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready()
        .await
        .map_err(|e| Status::unavailable(e.to_string()))?;
    let path = http::uri::PathAndQuery::from_str(&format!("/{method}")).unwrap();
    grpc.unary(
        tonic::Request::new(()),
        path,
        tonic_prost::ProstCodec::<(), ()>::default(),
    )
    .await
    .map(|_| ())
}

const EMPLOYER_BIN: &str = "040140001236";
const REGION: &str = "110000000";
const OTHER_REGION: &str = "750000000";
const CENTRAL_BODY_NAME: &str = "Министерство сельского хозяйства Республики Казахстан";

struct People {
    employer: (Vec<u8>, Vec<u8>),
    other_employer: (Vec<u8>, Vec<u8>),
    regional: (Vec<u8>, Vec<u8>),
    other_regional: (Vec<u8>, Vec<u8>),
    commission: (Vec<u8>, Vec<u8>),
    central: (Vec<u8>, Vec<u8>),
    ministry: (Vec<u8>, Vec<u8>),
}

/// A national-style CA, a service trusting it, and one person per role, registered with
/// `kvota principals add` where the role needs it.
async fn setup() -> (Secured, People, tempfile::TempDir) {
    let pki = tempfile::tempdir().unwrap();
    let ca = make_root_ca(
        &CertSubject {
            common_name: "ҰЛТТЫҚ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ (TEST)".into(),
            country: Some("KZ".into()),
            ..Default::default()
        },
        KeyAlg::EcP256,
    )
    .unwrap();
    let ca_pem = pki.path().join("nca.pem");
    std::fs::write(&ca_pem, ca.1.to_pem().unwrap()).unwrap();
    let s = Secured::spawn(kvota::config::Transport::Tls, &ca_pem).await;
    let akimat = id("11014000111");
    let ministry = id("05014000222");
    let central = id("06014000333");
    let (reg_iin, reg2_iin, com_iin) = (id("80010130012"), id("80010130023"), id("80010130034"));
    let people = People {
        employer: client_cert(&ca, "HEAD", Some(&id("75030230045")), Some(EMPLOYER_BIN)),
        other_employer: client_cert(
            &ca,
            "OTHER",
            Some(&id("76030230056")),
            Some(&id("99014000444")),
        ),
        regional: client_cert(&ca, "AKIMAT", Some(&reg_iin), Some(&akimat)),
        other_regional: client_cert(&ca, "AKIMAT2", Some(&reg2_iin), Some(&akimat)),
        commission: client_cert(&ca, "COMMISSION", Some(&com_iin), Some(&akimat)),
        central: client_cert_of(
            &ca,
            "CENTRAL",
            Some(CENTRAL_BODY_NAME),
            Some(&id("81010130045")),
            Some(&central),
        ),
        ministry: client_cert(&ca, "MINISTRY", Some(&id("82010130056")), Some(&ministry)),
    };
    for args in [
        vec![
            "--iin",
            &reg_iin,
            "--role",
            "REGIONAL_BODY",
            "--region",
            REGION,
        ],
        vec![
            "--iin",
            &reg2_iin,
            "--role",
            "REGIONAL_BODY",
            "--region",
            OTHER_REGION,
        ],
        vec![
            "--iin",
            &com_iin,
            "--role",
            "COMMISSION",
            "--region",
            REGION,
        ],
        vec!["--bin", &central, "--role", "CENTRAL_BODY"],
        vec!["--bin", &ministry, "--role", "MINISTRY"],
    ] {
        let mut all = vec!["principals", "add"];
        all.extend(args);
        let o = s.kvota(&all);
        assert!(o.status.success(), "{}", text(&o));
    }
    (s, people, pki)
}

/// A role as the tests call: a certificate, or none for PUBLIC.
fn identity(p: &People, role: Role) -> Option<&(Vec<u8>, Vec<u8>)> {
    match role {
        Role::Employer => Some(&p.employer),
        Role::RegionalBody => Some(&p.regional),
        Role::Commission => Some(&p.commission),
        Role::CentralBody => Some(&p.central),
        Role::Ministry => Some(&p.ministry),
        Role::Public => None,
        Role::Developer => unreachable!("no certificate makes a developer"),
    }
}

/// Calls that the Rules keep from a role, written out by hand (not read from the table).
const REFUSED: &[(Role, &str)] = &[
    // An employer files its own applications and nothing of the state bodies' work.
    (Role::Employer, "kvota.v1.QuotaService/FormQuota"),
    (
        Role::Employer,
        "kvota.v1.RegionalService/RecordCommissionDecision",
    ),
    (
        Role::Employer,
        "kvota.v1.RegionalService/SetRegionalAssessment",
    ),
    (Role::Employer, "kvota.v1.CalendarService/ListOverdue"),
    (Role::Employer, "kvota.v1.AuditService/ListAuditRecords"),
    (Role::Employer, "kvota.v1.BodyService/UpdateBody"),
    // The Commission decides; the regional body files and notifies.
    (
        Role::Commission,
        "kvota.v1.RegionalService/FileWithMinistry",
    ),
    (Role::Commission, "kvota.v1.RegionalService/NotifyEmployer"),
    (
        Role::Commission,
        "kvota.v1.EmployerApplicationService/SubmitApplication",
    ),
    // A central body proposes; the ministry establishes and the region agrees.
    (Role::CentralBody, "kvota.v1.QuotaService/EstablishQuota"),
    (
        Role::CentralBody,
        "kvota.v1.CentralBodyService/AgreeProposal",
    ),
    (
        Role::CentralBody,
        "kvota.v1.EmployerApplicationService/GetApplication",
    ),
    // A regional body does not act for the ministry, a central body or an employer.
    (Role::RegionalBody, "kvota.v1.QuotaService/PublishDecision"),
    (Role::RegionalBody, "kvota.v1.QuotaService/SetLabourForce"),
    (
        Role::RegionalBody,
        "kvota.v1.CentralBodyService/SubmitProposal",
    ),
    (
        Role::RegionalBody,
        "kvota.v1.CalendarService/AddDayTransfer",
    ),
    (
        Role::RegionalBody,
        "kvota.v1.EmployerApplicationService/CreateApplication",
    ),
    // The ministry is neither an employer, a Commission, a central body nor a region.
    (
        Role::Ministry,
        "kvota.v1.EmployerApplicationService/CreateApplication",
    ),
    (
        Role::Ministry,
        "kvota.v1.RegionalService/RecordCommissionDecision",
    ),
    (Role::Ministry, "kvota.v1.CentralBodyService/SubmitProposal"),
    (Role::Ministry, "kvota.v1.RegionalService/FileWithMinistry"),
];

/// Calls refused to anyone without a certificate.
const REFUSED_TO_THE_PUBLIC: &[&str] = &[
    "kvota.v1.EmployerApplicationService/ListApplications",
    "kvota.v1.EmployerApplicationService/CreateApplication",
    "kvota.v1.DocumentService/ListDocuments",
    "kvota.v1.SigningService/PrepareSignature",
    "kvota.v1.QuotaService/GetQuota",
    "kvota.v1.AuditService/ListAuditRecords",
];

/// Calls a role makes in its part of the process, written out by hand. The empty request
/// may still be refused as invalid or not found, but never for the caller's role.
const ALLOWED: &[(Role, &str)] = &[
    (
        Role::Employer,
        "kvota.v1.EmployerApplicationService/CreateApplication",
    ),
    (
        Role::Employer,
        "kvota.v1.EmployerApplicationService/ListApplications",
    ),
    (
        Role::Employer,
        "kvota.v1.EmployerApplicationService/SubmitApplication",
    ),
    (Role::Employer, "kvota.v1.DocumentService/ListDocuments"),
    (Role::Employer, "kvota.v1.SigningService/PrepareSignature"),
    (
        Role::RegionalBody,
        "kvota.v1.RegionalService/SetRegionalAssessment",
    ),
    (
        Role::RegionalBody,
        "kvota.v1.RegionalService/NotifyEmployer",
    ),
    (
        Role::RegionalBody,
        "kvota.v1.RegionalService/FileWithMinistry",
    ),
    (
        Role::RegionalBody,
        "kvota.v1.CentralBodyService/AgreeProposal",
    ),
    (Role::RegionalBody, "kvota.v1.BodyService/UpdateBody"),
    (Role::RegionalBody, "kvota.v1.AuditService/ListAuditRecords"),
    (
        Role::Commission,
        "kvota.v1.RegionalService/RecordCommissionDecision",
    ),
    (
        Role::Commission,
        "kvota.v1.RegionalService/RenderCommissionProtocol",
    ),
    (
        Role::Commission,
        "kvota.v1.EmployerApplicationService/GetApplication",
    ),
    (Role::Commission, "kvota.v1.CalendarService/ListOverdue"),
    (
        Role::CentralBody,
        "kvota.v1.CentralBodyService/SubmitProposal",
    ),
    (
        Role::CentralBody,
        "kvota.v1.CentralBodyService/ListProposals",
    ),
    (Role::CentralBody, "kvota.v1.QuotaService/GetQuota"),
    (
        Role::CentralBody,
        "kvota.v1.RegionalService/GetRegionalAssessment",
    ),
    (Role::Ministry, "kvota.v1.QuotaService/FormQuota"),
    (Role::Ministry, "kvota.v1.QuotaService/EstablishQuota"),
    (Role::Ministry, "kvota.v1.QuotaService/PublishDecision"),
    (Role::Ministry, "kvota.v1.CentralBodyService/AgreeProposal"),
    (Role::Ministry, "kvota.v1.CalendarService/AddDayTransfer"),
    (Role::Ministry, "kvota.v1.AuditService/ListAuditRecords"),
    (
        Role::Ministry,
        "kvota.v1.EmployerApplicationService/GetApplication",
    ),
    (Role::Public, "kvota.v1.RegionService/ListRegions"),
    (Role::Public, "kvota.v1.BodyService/ListBodies"),
    (Role::Public, "kvota.v1.CalendarService/GetDeadlines"),
    (Role::Public, "kvota.v1.RegionalService/ListTreatyCountries"),
    (Role::Public, "kvota.v1.QuotaService/ListPublishedDecisions"),
    (Role::Public, "kvota.v1.DocumentService/VerifyDocument"),
];

#[tokio::test]
async fn each_role_is_refused_the_calls_of_the_others() {
    let (s, p, _pki) = setup().await;
    for (role, method) in REFUSED {
        let channel = s.channel(identity(&p, *role)).await;
        let e = call(channel, method)
            .await
            .expect_err(&format!("{role} must be refused {method}"));
        assert_eq!(
            (e.code(), reason(&e).as_str()),
            (Code::PermissionDenied, "ROLE_NOT_PERMITTED"),
            "{role} {method}: {e:?}"
        );
    }
    s.stop().await;
}

#[tokio::test]
async fn a_caller_without_a_certificate_is_asked_for_one() {
    let (s, _p, _pki) = setup().await;
    let channel = s.channel(None).await;
    for method in REFUSED_TO_THE_PUBLIC {
        let e = call(channel.clone(), method)
            .await
            .expect_err(&format!("PUBLIC must be refused {method}"));
        assert_eq!(
            (e.code(), reason(&e).as_str()),
            (Code::Unauthenticated, "CERTIFICATE_REQUIRED"),
            "{method}: {e:?}"
        );
    }
    s.stop().await;
}

#[tokio::test]
async fn each_role_makes_the_calls_of_its_part_and_health_answers_everyone() {
    let (s, p, _pki) = setup().await;
    for (role, method) in ALLOWED {
        let channel = s.channel(identity(&p, *role)).await;
        if let Err(e) = call(channel, method).await {
            assert!(
                !matches!(
                    reason(&e).as_str(),
                    "ROLE_NOT_PERMITTED" | "CERTIFICATE_REQUIRED"
                ),
                "{role} must be allowed {method}: {e:?}"
            );
            assert_ne!(e.code(), Code::Unimplemented, "{method}");
        }
    }
    for role in [
        Role::Employer,
        Role::RegionalBody,
        Role::Commission,
        Role::CentralBody,
        Role::Ministry,
        Role::Public,
    ] {
        let channel = s.channel(identity(&p, role)).await;
        tonic_health::pb::health_client::HealthClient::new(channel)
            .check(tonic_health::pb::HealthCheckRequest::default())
            .await
            .unwrap_or_else(|e| panic!("health must answer {role}: {e:?}"));
    }
    s.stop().await;
}

fn applications_client(
    ch: Channel,
) -> pb::employer_application_service_client::EmployerApplicationServiceClient<Channel> {
    pb::employer_application_service_client::EmployerApplicationServiceClient::new(ch)
}

/// The employer's application for Akmola, created and submitted over its own certificate.
async fn submitted_application(s: &Secured, p: &People) -> (pb::Application, pb::Application) {
    let mut employer = applications_client(s.channel(Some(&p.employer)).await);
    let created = employer
        .create_application(pb::CreateApplicationRequest {
            application: Some(sample_application()),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let submitted = employer
        .submit_application(pb::SubmitApplicationRequest {
            name: created.name.clone(),
            etag: created.etag.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    (created, submitted)
}

#[tokio::test]
async fn an_employer_files_for_itself_and_sees_its_own_applications_only() {
    let (s, p, _pki) = setup().await;
    let mut other = applications_client(s.channel(Some(&p.other_employer)).await);

    // An employer files for itself only.
    let err = other
        .create_application(pb::CreateApplicationRequest {
            application: Some(sample_application()),
            request_id: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(
        (err.code(), reason(&err).as_str()),
        (Code::PermissionDenied, "EMPLOYER_NOT_PERMITTED"),
        "{err:?}"
    );
    assert!(
        err.message().contains("application.employer.bin"),
        "{err:?}"
    );
    let (created, submitted) = submitted_application(&s, &p).await;
    let get = |name: String| pb::GetApplicationRequest { name };
    let err = other
        .get_application(get(created.name.clone()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    let listed = other
        .list_applications(pb::ListApplicationsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(listed.applications.is_empty(), "{listed:?}");
    let err = other
        .withdraw_application(pb::WithdrawApplicationRequest {
            name: created.name.clone(),
            etag: submitted.etag.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    s.stop().await;
}

#[tokio::test]
async fn a_regional_body_sees_its_own_regions_applications_and_the_ministry_every_one() {
    let (s, p, _pki) = setup().await;
    let (created, _) = submitted_application(&s, &p).await;
    let get = |name: String| pb::GetApplicationRequest { name };
    // The region's body sees it; another region's body does not; the ministry does.
    applications_client(s.channel(Some(&p.regional)).await)
        .get_application(get(created.name.clone()))
        .await
        .unwrap();
    let err = applications_client(s.channel(Some(&p.other_regional)).await)
        .get_application(get(created.name.clone()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    let mut ministry = applications_client(s.channel(Some(&p.ministry)).await);
    let all = ministry
        .list_applications(pb::ListApplicationsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(all.applications.len(), 1);
    let mut regional = pb::regional_service_client::RegionalServiceClient::new(
        s.channel(Some(&p.other_regional)).await,
    );
    let err = regional
        .get_regional_assessment(pb::GetRegionalAssessmentRequest {
            region_code: REGION.into(),
            quota_year: 2027,
        })
        .await
        .unwrap_err();
    assert_eq!(
        (err.code(), reason(&err).as_str()),
        (Code::PermissionDenied, "REGION_NOT_PERMITTED"),
        "{err:?}"
    );
    s.stop().await;
}

#[tokio::test]
async fn a_central_bodys_proposal_is_agreed_by_its_region_or_the_ministry_only() {
    let (s, p, _pki) = setup().await;
    // A central body's proposal for the region is agreed by that region's body only
    // (p. 13): the central body cannot record the agreement itself.
    let proposal_of = |agreed_by_region| pb::SubmitProposalRequest {
        body: "Министерство финансов Республики Казахстан".into(),
        region_code: REGION.into(),
        quota_year: 2027,
        lines: vec![pb::ProposalLine {
            occupation_code: "6111".into(),
            occupation_name: "Агроном".into(),
            category: pb::WorkerCategory::Third as i32,
            count: 15,
        }],
        justification: "Программа развития АПК".into(),
        agreed_by_region,
    };
    let err = pb::central_body_service_client::CentralBodyServiceClient::new(
        s.channel(Some(&p.central)).await,
    )
    .submit_proposal(proposal_of(true))
    .await
    .unwrap_err();
    assert_eq!(
        (err.code(), reason(&err).as_str()),
        (Code::PermissionDenied, "AGREEMENT_NOT_PERMITTED"),
        "{err:?}"
    );
    // The proposing body is the certificate's organisation, not the request's text.
    let second = pb::central_body_service_client::CentralBodyServiceClient::new(
        s.channel(Some(&p.central)).await,
    )
    .submit_proposal(proposal_of(false))
    .await
    .unwrap()
    .into_inner();
    assert!(
        second.body.starts_with(CENTRAL_BODY_NAME) && second.body.contains("БИН"),
        "{second:?}"
    );
    assert!(!second.agreed_by_region);
    let proposal = pb::central_body_service_client::CentralBodyServiceClient::new(
        s.channel(Some(&p.central)).await,
    )
    .submit_proposal(pb::SubmitProposalRequest {
        body: "Министерство сельского хозяйства Республики Казахстан".into(),
        region_code: REGION.into(),
        quota_year: 2027,
        lines: vec![pb::ProposalLine {
            occupation_code: "6111".into(),
            occupation_name: "Агроном".into(),
            category: pb::WorkerCategory::Third as i32,
            count: 15,
        }],
        justification: "Программа развития АПК".into(),
        agreed_by_region: false,
    })
    .await
    .unwrap()
    .into_inner();
    let agree = |name: String| pb::AgreeProposalRequest { name };
    let central_bodies =
        |ch: Channel| pb::central_body_service_client::CentralBodyServiceClient::new(ch);
    let err = central_bodies(s.channel(Some(&p.other_regional)).await)
        .agree_proposal(agree(proposal.name.clone()))
        .await
        .unwrap_err();
    assert_eq!(
        (err.code(), reason(&err).as_str()),
        (Code::PermissionDenied, "REGION_NOT_PERMITTED"),
        "{err:?}"
    );
    let agreed = central_bodies(s.channel(Some(&p.regional)).await)
        .agree_proposal(agree(proposal.name.clone()))
        .await
        .unwrap()
        .into_inner();
    assert!(agreed.agreed_by_region);
    let err = central_bodies(s.channel(Some(&p.central)).await)
        .agree_proposal(agree(second.name.clone()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    let by_ministry = central_bodies(s.channel(Some(&p.ministry)).await)
        .agree_proposal(agree(second.name.clone()))
        .await
        .unwrap()
        .into_inner();
    assert!(by_ministry.agreed_by_region);
    s.stop().await;
}

#[tokio::test]
async fn appendix_1_downloads_for_its_employer_only() {
    let (s, p, _pki) = setup().await;
    let (_, submitted) = submitted_application(&s, &p).await;
    // Appendix 1 downloads for its employer, not for another or the public.
    let docs = |ch: Channel| pb::document_service_client::DocumentServiceClient::new(ch);
    let download = |name: String| pb::DownloadDocumentRequest {
        name,
        format: pb::DocumentFormat::Pdf as i32,
    };
    let mut stream = docs(s.channel(Some(&p.employer)).await)
        .download_document(download(submitted.document.clone()))
        .await
        .unwrap()
        .into_inner();
    assert!(stream.message().await.unwrap().is_some());
    let err = docs(s.channel(Some(&p.other_employer)).await)
        .download_document(download(submitted.document.clone()))
        .await
        .unwrap_err();
    assert_eq!(
        (err.code(), reason(&err).as_str()),
        (Code::PermissionDenied, "NOT_PARTY")
    );
    let err = docs(s.channel(None).await)
        .download_document(download(submitted.document.clone()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    s.stop().await;
}

#[tokio::test]
async fn every_change_is_in_the_audit_chain_and_an_edit_breaks_it_there() {
    let (s, p, _pki) = setup().await;
    let mut employer =
        pb::employer_application_service_client::EmployerApplicationServiceClient::new(
            s.channel(Some(&p.employer)).await,
        );
    let created = employer
        .create_application(pb::CreateApplicationRequest {
            application: Some(sample_application()),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    employer
        .submit_application(pb::SubmitApplicationRequest {
            name: created.name.clone(),
            etag: created.etag.clone(),
        })
        .await
        .unwrap();

    let audit = |ch: Channel| pb::audit_service_client::AuditServiceClient::new(ch);
    let records = audit(s.channel(Some(&p.ministry)).await)
        .list_audit_records(pb::ListAuditRecordsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .records;
    // Five principals added by the CLI, then the create and the submit.
    assert_eq!(records.len(), 7, "{records:#?}");
    assert!(records[..5].iter().all(|r| r.method == "cli/principals"));
    let (c, sub) = (&records[5], &records[6]);
    assert_eq!(c.resource, created.name);
    assert_eq!(
        c.method,
        "kvota.v1.EmployerApplicationService/CreateApplication"
    );
    assert_eq!(c.role, "EMPLOYER");
    assert!(c.who.contains(&format!("BIN{EMPLOYER_BIN}")), "{}", c.who);
    assert!(c.before_digest.is_empty() && !c.after_digest.is_empty());
    assert_eq!(
        sub.method,
        "kvota.v1.EmployerApplicationService/SubmitApplication"
    );
    assert_eq!(sub.before_digest, c.after_digest);
    assert_eq!(sub.prev_hash, c.hash);
    assert_eq!(sub.region_code, REGION);

    // A regional body reads its own region's records only.
    let own = audit(s.channel(Some(&p.regional)).await)
        .list_audit_records(pb::ListAuditRecordsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .records;
    assert!(
        !own.is_empty() && own.iter().all(|r| r.region_code == REGION),
        "{own:#?}"
    );
    let theirs = audit(s.channel(Some(&p.other_regional)).await)
        .list_audit_records(pb::ListAuditRecordsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .records;
    assert!(
        theirs.iter().all(|r| r.region_code == OTHER_REGION),
        "{theirs:#?}"
    );
    let err = audit(s.channel(Some(&p.other_regional)).await)
        .list_audit_records(pb::ListAuditRecordsRequest {
            region_code: REGION.into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);

    let o = s.kvota(&["audit", "verify"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("intact: 7 records"), "{}", text(&o));

    // Someone edits record 6 in the database file: verification names it.
    let pool = sqlx::SqlitePool::connect(&s.db_url).await.unwrap();
    sqlx::query("UPDATE audit_records SET who = 'someone else' WHERE seq = 6")
        .execute(&pool)
        .await
        .unwrap();
    let o = s.kvota(&["audit", "verify"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("broken at record 6"), "{}", text(&o));
    // Deleting a record is found too.
    sqlx::query("UPDATE audit_records SET who = ? WHERE seq = 6")
        .bind(&c.who)
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("DELETE FROM audit_records WHERE seq = 3")
        .execute(&pool)
        .await
        .unwrap();
    let o = s.kvota(&["audit", "verify"]);
    assert!(text(&o).contains("record 3 is missing"), "{}", text(&o));
    s.stop().await;
}

#[tokio::test]
async fn a_certificate_from_an_unknown_ca_is_refused_and_plaintext_callers_are_public() {
    let (s, _p, _pki) = setup().await;
    let stranger_ca = make_root_ca(
        &CertSubject {
            common_name: "Someone's CA".into(),
            ..Default::default()
        },
        KeyAlg::EcP256,
    )
    .unwrap();
    let stranger = client_cert(&stranger_ca, "X", None, Some(EMPLOYER_BIN));
    let refused = kvota::tls::channel(
        s.addr,
        "localhost",
        &s.server_ca,
        Some(kvota::tls::ClientIdentity {
            cert_pem: &stranger.0,
            key_pem: &stranger.1,
        }),
    )
    .await;
    if let Ok(ch) = refused {
        // TLS 1.3 reports the refusal on first use.
        assert!(
            call(ch, "kvota.v1.RegionService/ListRegions")
                .await
                .is_err(),
            "a certificate from an unknown CA must not connect"
        );
    }
    s.stop().await;

    let pki = tempfile::tempdir().unwrap();
    let ca = make_root_ca(
        &CertSubject {
            common_name: "CA".into(),
            ..Default::default()
        },
        KeyAlg::EcP256,
    )
    .unwrap();
    let ca_pem = pki.path().join("ca.pem");
    std::fs::write(&ca_pem, ca.1.to_pem().unwrap()).unwrap();
    let plain = Secured::spawn(kvota::config::Transport::Plaintext, &ca_pem).await;
    let ch = Channel::from_shared(format!("http://{}", plain.addr))
        .unwrap()
        .connect()
        .await
        .unwrap();
    call(ch.clone(), "kvota.v1.RegionService/ListRegions")
        .await
        .unwrap();
    let e = call(ch, "kvota.v1.EmployerApplicationService/CreateApplication")
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::Unauthenticated);
    plain.stop().await;
}

#[tokio::test]
async fn a_regional_body_edits_its_own_profile_and_the_ministry_any() {
    use kvota::api::pb::body_service_client::BodyServiceClient;
    let (s, p, _pki) = setup().await;
    let update = |name: String, etag: String| pb::UpdateBodyRequest {
        body: Some(pb::Body {
            name,
            etag,
            head_position_ru: "Руководитель управления".into(),
            head_full_name: "Қасымов Әлібек Нұрланұлы".into(),
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["head_position_ru".into(), "head_full_name".into()],
        }),
    };
    let own = format!("bodies/{REGION}");
    let other = format!("bodies/{OTHER_REGION}");
    let mut regional = BodyServiceClient::new(s.channel(Some(&p.regional)).await);
    let done = regional
        .update_body(update(own.clone(), String::new()))
        .await
        .unwrap()
        .into_inner();
    assert!(done.profile_complete);
    for name in [other.clone(), "bodies/ministry".to_string()] {
        let err = regional
            .update_body(update(name.clone(), String::new()))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::PermissionDenied, "{name}: {err:?}");
    }
    // Anyone reads them, without a certificate too.
    let public = BodyServiceClient::new(s.channel(None).await)
        .get_body(pb::GetBodyRequest { name: own.clone() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(public.head_full_name, "Қасымов Әлібек Нұрланұлы");
    let mut ministry = BodyServiceClient::new(s.channel(Some(&p.ministry)).await);
    for name in [other, "bodies/ministry".to_string()] {
        ministry
            .update_body(update(name, String::new()))
            .await
            .unwrap();
    }
    s.stop().await;
}

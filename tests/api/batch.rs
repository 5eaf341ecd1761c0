//! A regional body signs the season's notices with one PIN entry: 300 employers of one
//! region file, the Commission decides, the body issues 300 notices and its head signs
//! them all in one PrepareSignatures and one CompleteSignatures. One CMS among them signs
//! the wrong digest: that notice alone is refused and stays as it was.

use kvota::api::pb;
use kvota::sign::keys::KeyAlg;
use tonic::Code;

use crate::helpers::*;
use crate::party_helpers::*;

pub(crate) const BODY_BIN: &str = "010140000024";
pub(crate) const NOTICES: usize = 300;

/// BINs with valid check digits, one per employer.
fn bin(n: u32) -> String {
    match kvota::domain::Bin::complete(&format!("0201400{n:04}")) {
        Some(b) => b.as_str().to_owned(),
        None => bin(n + 5000),
    }
}

/// 300 notices of Akmola's body, issued by `app`.
pub(crate) async fn notices(app: &TestApp) -> Vec<String> {
    akmola_commission(app).await;
    let mut out = Vec::with_capacity(NOTICES);
    for i in 0..NOTICES as u32 {
        let mut a = sample_application();
        a.employer = Some(pb::Employer {
            bin: bin(i),
            name: format!("ТОО «Құрылыс-{i}»"),
            legal_address: format!("г. Кокшетау, ул. Абая, {}", i + 1),
        });
        let submitted = app.submit(&app.create(a).await).await.unwrap();
        out.push(approve_and_notify(app, &submitted).await);
    }
    out
}

#[tokio::test]
async fn the_regional_body_signs_300_notices_in_one_batch_and_one_bad_cms_is_refused_alone() {
    let (app, ca) = app_with_national_ca().await;
    let documents = notices(&app).await;
    let app = app
        .restart_with(|c| {
            c.signing
                .regional_body_bins
                .insert("110000000".into(), BODY_BIN.into());
        })
        .await;
    let body_head = party(&ca, BODY_BIN, HEAD, KeyAlg::Rsa(2048), true);
    let prepared = signing(&app)
        .prepare_signatures(pb::PrepareSignaturesRequest {
            documents: documents.clone(),
            signer_certificate: body_head.cert().to_der().unwrap(),
        })
        .await
        .unwrap()
        .into_inner()
        .signatures;
    assert_eq!(prepared.len(), NOTICES);
    let sessions: Vec<pb::SigningSession> = prepared
        .iter()
        .zip(&documents)
        .map(|(p, d)| {
            assert_eq!(&p.document, d);
            assert!(p.error.is_none(), "{p:?}");
            p.session.clone().unwrap()
        })
        .collect();
    // The token signs every digest; the 150th CMS signs the first notice's digest.
    const BAD: usize = 150;
    let completions: Vec<pb::SignatureCompletion> = sessions
        .iter()
        .enumerate()
        .map(|(i, s)| pb::SignatureCompletion {
            session: s.name.clone(),
            cms: token_sign(&body_head, if i == BAD { &sessions[0] } else { s }),
        })
        .collect();
    let completed = signing(&app)
        .complete_signatures(pb::CompleteSignaturesRequest {
            completions,
            seal_after: false,
        })
        .await
        .unwrap()
        .into_inner()
        .signatures;
    assert_eq!(completed.len(), NOTICES);
    for (i, c) in completed.iter().enumerate() {
        assert_eq!(c.session, sessions[i].name);
        if i == BAD {
            let e = c.error.as_ref().expect("the bad one is refused");
            assert_eq!(e.code, Code::InvalidArgument as i32, "{e:?}");
            assert!(c.document.is_none());
        } else {
            let doc = c.document.as_ref().expect("signed");
            assert!(
                doc.signatures
                    .iter()
                    .any(|s| s.role == "REGIONAL_BODY_HEAD" && s.bin == BODY_BIN),
                "{doc:?}"
            );
        }
    }
    // Stored as answered: the refused notice has the seal only; its neighbours verify
    // with the head's signature.
    for i in [0, BAD - 1, BAD, BAD + 1, NOTICES - 1] {
        let pdf = app.download(&documents[i], pb::DocumentFormat::Pdf).await;
        let report = verify(&app, pdf, vec![]).await;
        let signatures = if i == BAD { 1 } else { 2 };
        assert_eq!(report.signatures.len(), signatures, "{i}: {report:#?}");
        assert!(report.valid, "{i}: {report:#?}");
    }
    app.stop().await;
}

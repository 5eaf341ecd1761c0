//! `/v/{code}`, the page a document's QR code opens, and `/verify`: a document's
//! identity and its signatures' verdicts, and the check of a file a person holds.

use axum::extract::{Multipart, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;
use std::sync::Arc;
use tokio::sync::Semaphore;

use super::pages::{self, Here, mono, number, page, row, time_el};
use super::{Page, WebError, WebState};
use crate::process::documents::{self, SignatureKind, Verification};
use crate::process::public::{self, PublicDocument, PublicSignature, Supersession};
use crate::sign::verify::Indication;

/// At most this many bytes of a PDF (and as many of its CMS) are accepted.
pub const MAX_UPLOAD_BYTES: usize = 20 * 1024 * 1024;

/// `GET /v/{code}`.
pub async fn document(
    State(s): State<WebState>,
    Path(code): Path<String>,
    p: Page,
) -> Result<Response, WebError> {
    let doc = s.public_document(&code).await?;
    Ok(s.html(document_page(&p.here(), &doc, None)))
}

/// `POST /v/{code}`: a file checked against the document issued under the code.
pub async fn check_against(
    State(s): State<WebState>,
    Path(code): Path<String>,
    p: Page,
    form: Multipart,
) -> Result<Response, WebError> {
    let doc = s.public_document(&code).await?;
    let upload = Upload::read(form).await?;
    let checked = s.verify_upload(upload).await?;
    Ok(s.html(document_page(&p.here(), &doc, Some(&checked))))
}

#[derive(Debug, Deserialize)]
pub struct CodeQuery {
    code: Option<String>,
    lang: Option<String>,
}

/// `GET /verify`: the forms; `?code=` opens that document's page.
pub async fn form(
    State(s): State<WebState>,
    Query(q): Query<CodeQuery>,
    p: Page,
) -> Result<Response, WebError> {
    if let Some(code) = q
        .code
        .as_deref()
        .map(normalise_code)
        .filter(|c| !c.is_empty())
    {
        let lang = q.lang.as_deref().unwrap_or(p.here().lang.code()).to_owned();
        let lang = if lang == "kk" || lang == "ru" {
            lang
        } else {
            "kk".into()
        };
        return Ok(Redirect::to(&format!("/v/{code}?lang={lang}")).into_response());
    }
    Ok(s.html(verify_page(&p.here(), None)))
}

/// `POST /verify`: a file checked on its own; if the service issued exactly these
/// bytes, the page links the document's own page.
pub async fn check(
    State(s): State<WebState>,
    p: Page,
    form: Multipart,
) -> Result<Response, WebError> {
    let upload = Upload::read(form).await?;
    let checked = s.verify_upload(upload).await?;
    let issued = match &checked.verification.document {
        Some(name) => Some(public::document_row(&s.ctx, name).await?.public_code),
        None => None,
    };
    Ok(s.html(verify_page(&p.here(), Some((&checked, issued.as_deref())))))
}

/// A code as people type it: spaces and dashes dropped, lower case.
fn normalise_code(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

/// The files of an upload form: `pdf`, and `cms` if given.
pub struct Upload {
    pub pdf: Vec<u8>,
    pub cms: Vec<u8>,
}

impl Upload {
    async fn read(mut form: Multipart) -> Result<Self, WebError> {
        let mut pdf = Vec::new();
        let mut cms = Vec::new();
        while let Some(mut field) = form.next_field().await.map_err(upload_error)? {
            let target = match field.name() {
                Some("pdf") => &mut pdf,
                Some("cms") => &mut cms,
                _ => continue,
            };
            while let Some(chunk) = field.chunk().await.map_err(upload_error)? {
                if target.len() + chunk.len() > MAX_UPLOAD_BYTES {
                    return Err(WebError::TooLarge);
                }
                target.extend_from_slice(&chunk);
            }
        }
        if pdf.is_empty() {
            return Err(WebError::BadUpload);
        }
        Ok(Self { pdf, cms })
    }
}

fn upload_error(e: axum::extract::multipart::MultipartError) -> WebError {
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        WebError::TooLarge
    } else {
        WebError::BadUpload
    }
}

/// What the check of an uploaded file found.
pub struct Checked {
    pub verification: Verification,
    pub size: usize,
    /// The bytes do not start as a PDF.
    pub not_pdf: bool,
}

impl WebState {
    /// Verifies an upload with the code of `VerifyDocument`, within the bound on
    /// verifications at once (503 with Retry-After past it). Nothing is stored.
    pub(super) async fn verify_upload(&self, upload: Upload) -> Result<Checked, WebError> {
        let _permit = verification_permit(&self.verifications)?;
        let size = upload.pdf.len();
        if !upload.pdf.starts_with(b"%PDF-") {
            return Ok(Checked {
                verification: Verification {
                    signatures: Vec::new(),
                    valid: false,
                    sha256: String::new(),
                    document: None,
                    checked: self.ctx.now(),
                },
                size,
                not_pdf: true,
            });
        }
        let verification = documents::verify(&self.ctx, upload.pdf, upload.cms).await?;
        Ok(Checked {
            verification,
            size,
            not_pdf: false,
        })
    }
}

/// One of the bounded verifications at once, or Busy (503 with Retry-After) at once:
/// an upload never waits in a queue holding its 20 MB.
fn verification_permit(
    slots: &Arc<Semaphore>,
) -> Result<tokio::sync::OwnedSemaphorePermit, WebError> {
    slots
        .clone()
        .try_acquire_owned()
        .map_err(|_| WebError::Busy)
}

fn signature_rows(here: &Here, sigs: &[PublicSignature], public: bool) -> Markup {
    let w = here.w();
    html! {
        @for (i, s) in sigs.iter().enumerate() {
            section.signature aria-labelledby=(format!("sig{i}")) {
                h3 id=(format!("sig{i}")) {
                    (i + 1) ". "
                    @match s.kind { SignatureKind::Pades => (w.embedded), SignatureKind::Cms => (w.detached), SignatureKind::DocumentTimestamp => (w.document_timestamp) }
                }
                dl.facts {
                    (row(w.result, pages::verdict(w, s.verdict)))
                    @if let (Some(sub), true) = (s.verdict.sub_indication, s.verdict.indication != Indication::TotalPassed) {
                        (row(w.why, html! { (w.sub_indication(sub)) }))
                    }
                    @if let Some(role) = &s.role { (row(w.role, html! { (w.signer_role(role)) })) }
                    @if public {
                        (row(w.signer, html! { (s.signer_name) }))
                        @if !s.organisation.is_empty() { (row(w.organisation, html! { (s.organisation) })) }
                        @if let Some(bin) = &s.bin { (row(w.bin, mono(bin))) }
                        @if let Some(iin) = &s.iin_masked { (row(w.iin, mono(iin))) }
                    }
                    // A document timestamp is only its time; a signature has a level, PAdES
                    // in the PDF, CAdES beside it.
                    @if s.kind != SignatureKind::DocumentTimestamp {
                        @if let Some(t) = s.signing_time { (row(w.signing_time, time_el(t))) }
                    }
                    @if let Some(t) = s.timestamp_time { (row(w.timestamp_time, time_el(t))) }
                    @match s.kind {
                        SignatureKind::Pades => (row(w.level, html! { "PAdES " (s.level.as_str()) })),
                        SignatureKind::Cms => (row(w.level, html! { "CAdES " (s.level.as_str()) })),
                        SignatureKind::DocumentTimestamp => {}
                    }
                }
            }
        }
    }
}

fn document_page(here: &Here, doc: &PublicDocument, checked: Option<&Checked>) -> Markup {
    let w = here.w();
    let kind = w.kind(&doc.kind);
    let body = html! {
        @if let Some(c) = checked {
            (upload_result(here, c, Some(doc)))
            h2 { (w.issued_document) }
        }
        p.summary {
            @if doc.valid { span.badge.ok { (w.all_hold) } } @else { span.badge.bad { (w.not_all_hold) } }
        }
        dl.facts {
            (row(w.doc_kind, html! { (kind) }))
            @if doc.public && !doc.title.is_empty() { (row(w.title_label, html! { (doc.title) })) }
            (row(w.doc_number, mono(&doc.name.to_string())))
            (row(w.doc_issued, time_el(doc.issued)))
            (row(w.doc_sha256, mono(&doc.sha256)))
            (row(w.doc_size, html! { (number(doc.size_bytes)) " " (w.bytes) }))
            (row(w.doc_checked, time_el(doc.checked)))
        }
        p.status {
            @match &doc.superseded {
                Some(Supersession::LaterVersion { code, issued }) => {
                    strong { (w.superseded_by) } ": "
                    a href=(here.link(&format!("/v/{code}"))) { (time_el(*issued)) }
                }
                Some(Supersession::Withdrawn) => strong { (w.withdrawn) },
                None => (w.current),
            }
        }
        @if !doc.public { p.note { (w.not_public) } }
        @if let Some((year, version)) = doc.decision {
            ul.downloads {
                li { a href=(format!("/decisions/{year}/v/{version}/decision.pdf")) download { (w.download_pdf) } }
                li { a href=(format!("/decisions/{year}/v/{version}/decision.pdf.p7s")) download { (w.download_cms) } }
                li { a href=(here.link(&format!("/decisions/{year}/v/{version}"))) { (w.decision_title) } }
            }
        }
        h2 { (w.signatures) }
        (signature_rows(here, &doc.signatures, doc.public))
        (upload_form(here, &format!("/v/{}", doc.code)))
    };
    page(here, &format!("{} — {kind}", w.doc_title), body)
}

fn upload_form(here: &Here, action: &str) -> Markup {
    let w = here.w();
    html! {
        section.upload aria-labelledby="upload" {
            h2 #upload { (w.check_file) }
            p #upload-help { (w.check_file_help) }
            form method="post" action=(here.link(action)) enctype="multipart/form-data" {
                p {
                    label for="pdf" { (w.pdf_file) }
                    input #pdf type="file" name="pdf" accept="application/pdf,.pdf" required aria-describedby="upload-help";
                }
                p {
                    label for="cms" { (w.cms_file) }
                    input #cms type="file" name="cms" accept=".p7s,.cms,.sig,application/pkcs7-signature";
                }
                p { button type="submit" { (w.check_button) } }
            }
        }
    }
}

/// The verdict on an uploaded file, in words: is it the document, do its signatures hold.
fn upload_result(here: &Here, c: &Checked, against: Option<&PublicDocument>) -> Markup {
    let w = here.w();
    let v = &c.verification;
    let same = against.map(|d| !c.not_pdf && d.sha256 == v.sha256);
    let good = !c.not_pdf && v.valid && same != Some(false);
    html! {
        section.result role="status" aria-labelledby="result" {
            h2 #result class=(if good { "ok" } else { "bad" }) {
                @if c.not_pdf {
                    (w.not_a_pdf)
                } @else if same == Some(false) {
                    (w.other_bytes)
                } @else if same == Some(true) {
                    (w.same_bytes)
                } @else if v.document.is_some() {
                    (w.issued_as) " " (v.document.as_ref().map(|d| d.to_string()).unwrap_or_default())
                } @else {
                    (w.not_issued)
                }
            }
            @if !c.not_pdf {
                p {
                    @if v.signatures.is_empty() {
                        (w.no_signatures)
                    } @else if v.valid {
                        (w.all_hold)
                    } @else {
                        (w.not_all_hold)
                    }
                }
                dl.facts {
                    (row(w.doc_sha256, mono(&v.sha256)))
                    (row(w.doc_size, html! { (number(c.size as u64)) " " (w.bytes) }))
                }
                ol.checks {
                    @for s in &v.signatures {
                        @let verdict = s.report.verdict();
                        li {
                            @match s.kind { SignatureKind::Pades => (w.embedded), SignatureKind::Cms => (w.detached), SignatureKind::DocumentTimestamp => (w.document_timestamp) }
                            ": " (pages::verdict(w, verdict))
                            @if let Some(sub) = verdict.sub_indication { " — " (w.sub_indication(sub)) }
                        }
                    }
                }
            }
        }
    }
}

fn verify_page(here: &Here, checked: Option<(&Checked, Option<&str>)>) -> Markup {
    let w = here.w();
    let body = html! {
        @if let Some((c, issued)) = checked {
            (upload_result(here, c, None))
            @if let Some(code) = issued {
                p { a href=(here.link(&format!("/v/{code}"))) { (w.verify_link) } }
            }
        }
        p { (w.verify_intro) }
        form method="get" action="/verify" {
            input type="hidden" name="lang" value=(here.lang.code());
            p {
                label for="code" { (w.code_label) }
                input #code type="text" name="code" inputmode="latin" autocomplete="off" spellcheck="false" maxlength="64" required;
                " "
                button type="submit" { (w.open_code) }
            }
        }
        (upload_form(here, "/verify"))
    };
    page(here, w.verify_title, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn past_the_bound_an_upload_is_turned_away_with_503_and_retry_after() {
        let slots = Arc::new(Semaphore::new(1));
        let held = verification_permit(&slots).expect("the one slot");
        let busy = verification_permit(&slots).expect_err("no slot left");
        let response = axum::response::IntoResponse::into_response(busy);
        assert_eq!(
            response.status(),
            axum::http::StatusCode::SERVICE_UNAVAILABLE
        );
        assert!(
            response
                .headers()
                .contains_key(axum::http::header::RETRY_AFTER)
        );
        drop(held);
        assert!(
            verification_permit(&slots).is_ok(),
            "the slot is free again"
        );
    }

    #[test]
    fn a_typed_code_loses_spaces_and_dashes() {
        assert_eq!(
            normalise_code(" 3F9A-1C00 ab "),
            "3f9a1c00ab".to_lowercase()
        );
    }
}

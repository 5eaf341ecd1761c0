//! The public web face (issue 13), over HTTP from the real server: the decision pages
//! show the figures of `GetPublishedDecision`, the page a QR code opens shows the
//! verdicts of `VerifyDocument`, uploads are checked against the issued bytes, and the
//! port serves nothing that changes state.

use std::net::SocketAddr;

use kvota::api::pb;
use prost::Message;

use crate::helpers::*;
use crate::http::{self, get, post_files};
use crate::seed::{latest_decision, three_versions, verification_url};

/// The rows of the table in the section labelled `section`: each row's header cell and
/// its numeric cells (thin spaces removed).
fn table_rows(html: &str, section: &str) -> Vec<(String, Vec<u64>)> {
    let start = html
        .find(&format!("aria-labelledby=\"{section}\""))
        .unwrap_or_else(|| panic!("no section {section}"));
    let end = start + html[start..].find("</section>").unwrap();
    let body = &html[start..end];
    let body = &body[body.find("<tbody>").unwrap()..body.find("</tbody>").unwrap()];
    body.split("<tr>")
        .skip(1)
        .map(|tr| {
            let head = between(tr, "<th scope=\"row\">", "</th>");
            let nums = tr
                .split("<td class=\"num\">")
                .skip(1)
                .map(|td| {
                    td[..td.find("</td>").unwrap()]
                        .replace('\u{202F}', "")
                        .parse()
                        .unwrap()
                })
                .collect();
            (head.to_owned(), nums)
        })
        .collect()
}

fn between<'a>(s: &'a str, from: &str, to: &str) -> &'a str {
    let a = s.find(from).map(|i| i + from.len()).unwrap_or(0);
    let b = a + s[a..].find(to).unwrap_or(s.len() - a);
    &s[a..b]
}

async fn region_names(app: &TestApp) -> std::collections::BTreeMap<String, String> {
    app.regions()
        .list_regions(pb::ListRegionsRequest {})
        .await
        .unwrap()
        .into_inner()
        .regions
        .into_iter()
        .map(|r| (r.kato, r.name_ru))
        .collect()
}

fn granted_by_region(
    d: &pb::PublishedDecision,
    part: pb::QuotaPart,
) -> std::collections::BTreeMap<String, u64> {
    let mut out = std::collections::BTreeMap::new();
    for c in d.cells.iter().filter(|c| c.part == part as i32) {
        *out.entry(c.region_code.clone()).or_default() += c.granted;
    }
    out
}

fn assert_page(r: &http::HttpResponse, lang: &str) -> String {
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        r.header("content-type").starts_with("text/html"),
        "{:?}",
        r.headers
    );
    let csp = r.header("content-security-policy");
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    let html = r.text();
    assert!(
        html.starts_with(&format!("<!DOCTYPE html><html lang=\"{lang}\">")),
        "{}",
        &html[..200.min(html.len())]
    );
    // Nothing is loaded from elsewhere, and no script at all.
    assert!(!html.contains("<script"), "a page has a script");
    assert!(!html.contains("src=\"http"), "a page loads from elsewhere");
    assert!(!html.contains("href=\"http"), "a page links elsewhere");
    assert!(
        r.body.len() <= 100 * 1024,
        "a page of {} bytes",
        r.body.len()
    );
    html
}

/// A gRPC-Web call: one length-prefixed message in, the first message out and the
/// trailers' grpc-status.
async fn grpc_web(web: SocketAddr, method: &str, message: &[u8]) -> (u16, Vec<u8>, String) {
    let mut body = vec![0u8];
    body.extend_from_slice(&(message.len() as u32).to_be_bytes());
    body.extend_from_slice(message);
    let r = http::request(
        web,
        "POST",
        method,
        &[
            ("Content-Type", "application/grpc-web+proto"),
            ("X-Grpc-Web", "1"),
        ],
        &body,
    )
    .await;
    let (mut data, mut trailers) = (Vec::new(), String::new());
    if !r.header("content-type").starts_with("application/grpc-web") {
        return (r.status, data, String::new());
    }
    let mut rest = r.body.as_slice();
    while rest.len() >= 5 {
        let flag = rest[0];
        let len = u32::from_be_bytes(rest[1..5].try_into().unwrap()) as usize;
        let frame = &rest[5..5 + len];
        if flag & 0x80 != 0 {
            trailers = String::from_utf8_lossy(frame).into_owned();
        } else if data.is_empty() {
            data = frame.to_vec();
        }
        rest = &rest[5 + len..];
    }
    let status = r
        .header("grpc-status")
        .to_owned()
        .chars()
        .chain(
            trailers
                .lines()
                .find_map(|l| l.trim().strip_prefix("grpc-status:"))
                .unwrap_or("")
                .trim()
                .chars(),
        )
        .collect();
    (r.status, data, status)
}

#[tokio::test]
async fn the_decision_pages_show_the_published_figures_in_both_languages() {
    let (app, _q, _v1) = three_versions().await;
    let web = app.web_addr();
    let latest = latest_decision(&app).await;
    assert_eq!(latest.version, 3);

    // The list: every version, newest first, with whether it came on time.
    let html = assert_page(&get(web, "/decisions?lang=ru").await, "ru");
    let v3 = html.find("/decisions/2027/v/3").expect("version 3 listed");
    let v1 = html.find("/decisions/2027/v/1").expect("version 1 listed");
    assert!(v3 < v1, "newest first");
    assert!(html.contains("опубликовано в срок"), "{html}");
    let kk = assert_page(&get(web, "/").await, "kk");
    assert!(kk.contains("Квота туралы жарияланған шешімдер"), "{kk}");
    let by_header = get_with(web, "/decisions", "ru-RU,ru;q=0.9,en;q=0.5").await;
    assert_page(&by_header, "ru");
    assert_eq!(by_header.header("content-language"), "ru");

    // The latest version's page: the same figures as GetPublishedDecision.
    let html = assert_page(&get(web, "/decisions/2027?lang=ru").await, "ru");
    assert!(
        html.contains("<span aria-current=\"page\">Редакция 3</span>"),
        "{html}"
    );
    assert!(html.contains("№ 412"), "the order's number");
    let names = region_names(&app).await;
    for (section, part) in [
        ("permits", pb::QuotaPart::Permits),
        ("immigrants", pb::QuotaPart::Immigrants),
    ] {
        let want = granted_by_region(&latest, part);
        let rows = table_rows(&html, section);
        assert_eq!(rows.len(), want.len(), "{section}: one row per region");
        for (code, granted) in &want {
            let name = &names[code];
            let (_, nums) = rows
                .iter()
                .find(|(h, _)| h == name)
                .unwrap_or_else(|| panic!("{section}: no row for {name}"));
            assert_eq!(nums.last(), Some(granted), "{section}: {name}");
        }
    }
    let moves = table_rows(&html, "moves");
    assert_eq!(moves.len(), latest.moves.len());

    // Open data: the JSON has exactly the cells; the CSV one line per cell.
    let json = get(web, "/decisions/2027/v/3/figures.json").await;
    assert_eq!(json.status, 200);
    assert_eq!(json.header("content-type"), "application/json");
    let figures: serde_json::Value = serde_json::from_slice(&json.body).unwrap();
    let cells = figures["cells"].as_array().unwrap();
    assert_eq!(cells.len(), latest.cells.len());
    for (got, want) in cells.iter().zip(&latest.cells) {
        assert_eq!(got["region_code"], want.region_code.as_str());
        assert_eq!(got["category"], want.category.as_str());
        assert_eq!(got["country_code"], want.country_code.as_str());
        assert_eq!(got["granted"], want.granted);
    }
    let csv = get(web, "/decisions/2027/v/3/figures.csv").await;
    assert!(csv.header("content-type").starts_with("text/csv"));
    assert_eq!(
        csv.text().trim_end().lines().count(),
        latest.cells.len() + 1
    );

    // The sealed files are the stored ones, byte for byte.
    let pdf = get(web, "/decisions/2027/v/3/decision.pdf").await;
    assert_eq!(pdf.status, 200);
    assert_eq!(pdf.header("content-type"), "application/pdf");
    assert!(
        pdf.header("content-disposition")
            .contains("kvota-decision-2027-v3.pdf")
    );
    assert_eq!(
        pdf.body,
        app.download(&latest.document, pb::DocumentFormat::Pdf)
            .await
    );
    let cms = get(web, "/decisions/2027/v/3/decision.pdf.p7s").await;
    assert_eq!(
        cms.body,
        app.download(&latest.document, pb::DocumentFormat::Cms)
            .await
    );

    // What does not exist is a 404 page in the asked language.
    for path in [
        "/decisions/2031?lang=ru",
        "/decisions/2027/v/9?lang=ru",
        "/decisions/2027/v/3/kvota.db?lang=ru",
        "/decisions/x?lang=ru",
        "/nowhere?lang=ru",
    ] {
        let r = get(web, path).await;
        assert_eq!(r.status, 404, "{path}");
        assert!(
            r.text().contains("Страница не найдена"),
            "{path}: {}",
            r.text()
        );
    }

    // gRPC-Web: the public reads answer as over gRPC; nothing that changes state is here.
    let request = pb::GetPublishedDecisionRequest {
        quota_year: 2027,
        version: 0,
    };
    let (status, data, grpc_status) = grpc_web(
        web,
        "/kvota.v1.QuotaService/GetPublishedDecision",
        &request.encode_to_vec(),
    )
    .await;
    assert_eq!((status, grpc_status.as_str()), (200, "0"));
    assert_eq!(
        pb::PublishedDecision::decode(data.as_slice()).unwrap(),
        latest
    );
    for method in [
        "/kvota.v1.QuotaService/PublishDecision",
        "/kvota.v1.QuotaService/RedistributeQuota",
        "/kvota.v1.EmployerApplicationService/CreateApplication",
    ] {
        let (status, _, _) = grpc_web(web, method, &[]).await;
        assert_eq!(status, 404, "{method} is not served on the web port");
    }
    app.stop().await;
}

async fn get_with(web: SocketAddr, path: &str, accept_language: &str) -> http::HttpResponse {
    http::request(
        web,
        "GET",
        path,
        &[("Accept-Language", accept_language)],
        &[],
    )
    .await
}

/// The QR codes of a PDF's pages, read back as a person's phone would.
fn qr_codes(app: &TestApp, pdf: &[u8], stem: &str) -> Vec<String> {
    let dir = app.path(stem);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("doc.pdf");
    std::fs::write(&file, pdf).unwrap();
    let prefix = dir.join("page");
    let o = tool(
        "pdftoppm",
        &[
            "-r",
            "150",
            "-png",
            file.to_str().unwrap(),
            prefix.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let mut pages: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "png"))
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    pages.sort();
    let mut args = vec!["-q", "--raw"];
    args.extend(pages.iter().map(String::as_str));
    let o = tool("zbarimg", &args);
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn the_qr_code_opens_the_verification_page_with_the_verdicts_of_verify_document() {
    let (app, _q, v1) = three_versions().await;
    let web = app.web_addr();
    let latest = latest_decision(&app).await;
    let pdf = app
        .download(&latest.document, pb::DocumentFormat::Pdf)
        .await;
    let cms = app
        .download(&latest.document, pb::DocumentFormat::Cms)
        .await;
    let url = verification_url(&app, &latest.document).await;
    let prefix = format!("http://{web}/v/");
    assert!(url.starts_with(&prefix), "{url}");
    let code = &url[prefix.len()..];
    assert!(
        code.len() >= 16 && code.chars().all(|c| c.is_ascii_hexdigit()),
        "{code}"
    );
    assert_eq!(qr_codes(&app, &pdf, "qr-v3"), std::slice::from_ref(&url));

    // The page a phone opens: the document, its digest and every signature's verdict,
    // the same as VerifyDocument's over the stored bytes.
    let report = app
        .documents()
        .verify_document(pb::VerifyDocumentRequest {
            pdf: pdf.clone(),
            cms: cms.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let html = assert_page(&get(web, &format!("/v/{code}?lang=ru")).await, "ru");
    let sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&pdf));
    assert!(html.contains(&sha256), "{html}");
    assert!(
        html.contains(latest.document.as_str()),
        "the identifier on the form"
    );
    assert!(html.contains("Решение министерства о квоте"));
    let shown: Vec<&str> = html
        .split("<code class=\"indication\">")
        .skip(1)
        .map(|s| &s[..s.find("</code>").unwrap()])
        .collect();
    let want: Vec<String> = report
        .signatures
        .iter()
        .map(|s| {
            let i = pb::signature_verification::Indication::try_from(s.verdict_indication).unwrap();
            i.as_str_name().trim_start_matches("INDICATION_").to_owned()
        })
        .collect();
    assert_eq!(shown, want, "one verdict per signature, in order");
    assert!(report.valid && html.contains("Все подписи документа действительны."));
    assert!(html.contains("Документ действует"), "v3 is current");
    assert!(html.contains("href=\"/decisions/2027/v/3/decision.pdf\""));
    let kk = assert_page(&get(web, &format!("/v/{code}?lang=kk")).await, "kk");
    assert!(kk.contains("Құжаттың барлық қолтаңбасы жарамды."), "{kk}");

    // The first version is superseded by the second.
    let v1_url = verification_url(&app, &v1.document).await;
    let v1_page = get(web, &format!("{}?lang=ru", &v1_url[prefix.len() - 3..])).await;
    assert!(
        v1_page
            .text()
            .contains("Вместо этого документа выдан более поздний")
    );

    // Uploads: the same bytes are the document; a changed byte is not, and its seal
    // fails; a file that is no PDF is said to be none.
    let path = format!("/v/{code}?lang=ru");
    let good = post_files(
        web,
        &path,
        &[("pdf", "d.pdf", &pdf), ("cms", "d.p7s", &cms)],
    )
    .await;
    let good = assert_page(&good, "ru");
    assert!(good.contains("в точности совпадает"), "{good}");
    let mut tampered = pdf.clone();
    let at = tampered.len() / 3;
    tampered[at] ^= 0x01;
    let bad = assert_page(
        &post_files(web, &path, &[("pdf", "d.pdf", &tampered)]).await,
        "ru",
    );
    assert!(bad.contains("НЕ является документом"), "{bad}");
    assert!(bad.contains("TOTAL_FAILED"), "{bad}");
    let not_pdf = post_files(web, &path, &[("pdf", "d.pdf", b"hello")]).await;
    assert!(assert_page(&not_pdf, "ru").contains("не является PDF"));
    // On /verify, the issued bytes lead to their page.
    let found = post_files(web, "/verify?lang=ru", &[("pdf", "d.pdf", &pdf)]).await;
    let found = assert_page(&found, "ru");
    assert!(found.contains("выдан сервисом Kvota"), "{found}");
    assert!(found.contains(&format!("/v/{code}")), "{found}");
    // A typed code opens its page.
    let typed = get(
        web,
        &format!("/verify?code={}&lang=ru", code.to_uppercase()),
    )
    .await;
    assert_eq!(typed.status, 303);
    assert_eq!(typed.header("location"), format!("/v/{code}?lang=ru"));
    // An unknown or malformed code is a 404 page, not an error dump.
    for bad_code in ["00000000000000000000", "x", "%27%20OR%201%3D1"] {
        let r = get(web, &format!("/v/{bad_code}?lang=kk")).await;
        assert_eq!(r.status, 404, "{bad_code}");
        assert!(r.text().contains("Бет табылмады"));
    }
    app.stop().await;
}

#[tokio::test]
async fn an_employers_application_shows_only_its_verdicts_and_its_withdrawal() {
    let app = TestApp::spawn().await;
    let web = app.web_addr();
    let created = app.create(sample_application()).await;
    let submitted = app.submit(&created).await.unwrap();
    let url = verification_url(&app, &submitted.document).await;
    let pdf = app
        .download(&submitted.document, pb::DocumentFormat::Pdf)
        .await;
    assert_eq!(qr_codes(&app, &pdf, "qr-a1"), std::slice::from_ref(&url));
    let path = url.split_once(&web.to_string()).unwrap().1.to_owned();
    let html = assert_page(&get(web, &format!("{path}?lang=ru")).await, "ru");
    assert!(
        html.contains("Заявка работодателя (приложение 1)"),
        "{html}"
    );
    assert!(html.contains("TOTAL_PASSED"));
    assert!(html.contains("Этот документ не публичный"));
    for private in [
        "Ақжол",
        "040140001236",
        "Сейтқали",
        "Инженер",
        "decision.pdf",
    ] {
        assert!(
            !html.contains(private),
            "{private} shown on a private document's page"
        );
    }
    let withdrawn = app
        .applications()
        .withdraw_application(pb::WithdrawApplicationRequest {
            name: submitted.name.clone(),
            etag: submitted.etag.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(withdrawn.state, pb::application::State::Withdrawn as i32);
    let html = get(web, &format!("{path}?lang=ru")).await.text();
    assert!(html.contains("Работодатель отозвал заявку."), "{html}");
    // Too large an upload is refused before it is read whole.
    let big = vec![b'%'; kvota::web::MAX_UPLOAD_BYTES + 1];
    let r = post_files(web, &format!("{path}?lang=ru"), &[("pdf", "big.pdf", &big)]).await;
    assert_eq!(r.status, 413);
    assert!(r.text().contains("Файл слишком большой"));
    app.stop().await;
}

/// A browser's CORS preflight for a gRPC-Web call from `origin`.
async fn preflight(web: SocketAddr, origin: &str) -> http::HttpResponse {
    http::request(
        web,
        "OPTIONS",
        "/kvota.v1.DocumentService/VerifyDocument",
        &[
            ("Origin", origin),
            ("Access-Control-Request-Method", "POST"),
            ("Access-Control-Request-Headers", "content-type,x-grpc-web"),
        ],
        &[],
    )
    .await
}

#[tokio::test]
async fn browser_applications_of_the_configured_origins_may_call_grpc_web() {
    let app = TestApp::spawn()
        .await
        .restart_with(|c| {
            c.http_cors_origins = vec!["https://egov.kz".into()];
            c.public_base_url = Some("https://kvota.example.kz/".into());
        })
        .await;
    let web = app.web_addr();
    let allowed = preflight(web, "https://egov.kz").await;
    assert_eq!(allowed.status, 200, "{:?}", allowed.headers);
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        "https://egov.kz"
    );
    assert!(
        allowed
            .header("access-control-allow-headers")
            .contains("x-grpc-web")
    );
    let other = preflight(web, "https://elsewhere.example").await;
    assert_eq!(other.header("access-control-allow-origin"), "");

    // The configured public address is what a new document's QR code carries.
    let created = app.create(sample_application()).await;
    let submitted = app.submit(&created).await.unwrap();
    let url = verification_url(&app, &submitted.document).await;
    assert!(url.starts_with("https://kvota.example.kz/v/"), "{url}");
    let pdf = app
        .download(&submitted.document, pb::DocumentFormat::Pdf)
        .await;
    assert_eq!(qr_codes(&app, &pdf, "qr-base"), std::slice::from_ref(&url));
    app.stop().await;
}

//! The ministry's internet resource (p. 19) and the verification of issued documents:
//! public, read-only HTML pages over the process layer, in Kazakh and Russian, with no
//! external assets and no script.
//!
//! Pages are written with maud: the markup is Rust, checked by the compiler, escaped by
//! default, with no template files to keep in step with the code. Nothing here changes
//! state; the only request bodies accepted are files to verify, never stored.

pub mod i18n;

mod decisions;
mod pages;
mod verify;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use maud::Markup;
use tokio::sync::Semaphore;

use self::i18n::Lang;
use self::pages::Here;
use crate::process::public::{self, PublicDocument};
use crate::process::{self as process_layer, Context};

pub use verify::MAX_UPLOAD_BYTES;

/// How the pages are served.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Verifications of uploaded files running at once; more get 503 with Retry-After.
    pub max_concurrent_verifications: usize,
    /// How long a stored document's verdicts are reused before its signatures are
    /// checked again (revocation can change them).
    pub verdict_ttl: Duration,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            max_concurrent_verifications: 4,
            verdict_ttl: Duration::from_secs(300),
        }
    }
}

/// Stored documents' pages by public code, with when their signatures were checked.
type VerdictCache = Mutex<HashMap<String, (Instant, Arc<PublicDocument>)>>;

/// At most this many stored documents' verdicts are kept.
const VERDICT_CACHE_ENTRIES: usize = 1024;

/// What every page handler shares.
#[derive(Clone)]
pub struct WebState {
    ctx: Context,
    verifications: Arc<Semaphore>,
    verdicts: Arc<VerdictCache>,
    verdict_ttl: Duration,
    counts: Arc<Mutex<HashMap<String, u64>>>,
}

impl WebState {
    pub fn new(ctx: Context, config: &WebConfig) -> Self {
        Self {
            ctx,
            verifications: Arc::new(Semaphore::new(config.max_concurrent_verifications.max(1))),
            verdicts: Arc::default(),
            verdict_ttl: config.verdict_ttl,
            counts: Arc::default(),
        }
    }

    fn html(&self, markup: Markup) -> Response {
        Html(markup.into_string()).into_response()
    }

    /// The document issued under `code`, its verdicts reused for a few minutes.
    async fn public_document(&self, code: &str) -> Result<Arc<PublicDocument>, WebError> {
        let cached = self
            .verdicts
            .lock()
            .expect("cache lock")
            .get(code)
            .filter(|(at, _)| at.elapsed() < self.verdict_ttl)
            .map(|(_, doc)| doc.clone());
        if let Some(doc) = cached {
            let superseded = public::standing(&self.ctx, code).await?;
            if superseded == doc.superseded {
                return Ok(doc);
            }
            let mut fresh = (*doc).clone();
            fresh.superseded = superseded;
            return Ok(Arc::new(fresh));
        }
        let doc = Arc::new(public::document(&self.ctx, code).await?);
        let mut cache = self.verdicts.lock().expect("cache lock");
        if cache.len() >= VERDICT_CACHE_ENTRIES {
            let ttl = self.verdict_ttl;
            cache.retain(|_, (at, _)| at.elapsed() < ttl);
            if cache.len() >= VERDICT_CACHE_ENTRIES {
                cache.clear();
            }
        }
        cache.insert(code.to_owned(), (Instant::now(), doc.clone()));
        Ok(doc)
    }
}

/// The language and path of the page asked for.
pub struct Page {
    lang: Lang,
    path: String,
}

impl Page {
    fn here(&self) -> Here<'_> {
        Here {
            lang: self.lang,
            path: &self.path,
        }
    }

    fn of(parts: &Parts) -> Self {
        let query_lang = parts.uri.query().and_then(|q| {
            q.split('&')
                .find_map(|kv| kv.strip_prefix("lang="))
                .map(str::to_owned)
        });
        let accept = parts
            .headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok());
        Self {
            lang: Lang::negotiate(query_lang.as_deref(), accept),
            path: parts.uri.path().to_owned(),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Page {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Page::of(parts))
    }
}

/// Why a page could not be shown; the pages middleware renders it in the page's language.
#[derive(Debug)]
pub enum WebError {
    NotFound,
    TooLarge,
    BadUpload,
    Busy,
    Internal(String),
}

impl From<process_layer::Error> for WebError {
    fn from(e: process_layer::Error) -> Self {
        match e {
            e if e.is_not_found() => WebError::NotFound,
            process_layer::Error::Invalid(_) => WebError::BadUpload,
            other => WebError::Internal(other.to_string()),
        }
    }
}

/// Marks a response as an error page to render.
#[derive(Debug, Clone, Copy)]
struct ErrorPage(StatusCode);

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let status = match self {
            WebError::NotFound => StatusCode::NOT_FOUND,
            WebError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            WebError::BadUpload => StatusCode::BAD_REQUEST,
            WebError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            WebError::Internal(detail) => {
                tracing::error!(%detail, "web page failed");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        let mut r = status.into_response();
        r.extensions_mut().insert(ErrorPage(status));
        if status == StatusCode::SERVICE_UNAVAILABLE {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
        }
        r
    }
}

/// The page of an error, in the language of the request.
fn error_page(page: &Page, status: StatusCode) -> Markup {
    let here = page.here();
    let w = here.w();
    let message = match status {
        StatusCode::PAYLOAD_TOO_LARGE => w.too_large,
        StatusCode::BAD_REQUEST => w.not_a_pdf,
        StatusCode::SERVICE_UNAVAILABLE => w.busy,
        StatusCode::NOT_FOUND => return pages::not_found(&here),
        _ => w.busy,
    };
    pages::page(
        &here,
        message,
        maud::html! { p { a href=(here.link("/verify")) { (w.nav_verify) } } },
    )
}

/// Security headers, error pages in the page's language, and a log line per request
/// with its route, status and latency (and the route's count so far).
async fn frame(State(s): State<WebState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    let page = Page::of(&parts);
    let route = parts
        .extensions
        .get::<MatchedPath>()
        .map_or_else(|| "(none)".to_owned(), |m| m.as_str().to_owned());
    let method = parts.method.clone();
    let mut response = next.run(Request::from_parts(parts, body)).await;
    if let Some(ErrorPage(status)) = response.extensions().get::<ErrorPage>().copied() {
        let retry = response.headers().get(header::RETRY_AFTER).cloned();
        response = (status, Html(error_page(&page, status).into_string())).into_response();
        if let Some(retry) = retry {
            response.headers_mut().insert(header::RETRY_AFTER, retry);
        }
    }
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
             base-uri 'none'; frame-ancestors 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if h.get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"))
    {
        h.insert(
            header::CONTENT_LANGUAGE,
            HeaderValue::from_static(page.lang.code()),
        );
        h.insert(header::VARY, HeaderValue::from_static("Accept-Language"));
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    let count = {
        let mut counts = s.counts.lock().expect("counts lock");
        let n = counts.entry(route.clone()).or_default();
        *n += 1;
        *n
    };
    tracing::info!(
        target: "kvota::web",
        %method,
        route,
        status = response.status().as_u16(),
        micros = started.elapsed().as_micros() as u64,
        count,
        "http request"
    );
    response
}

const CSS: &str = include_str!("kvota.css");
const FAVICON: &str = include_str!("favicon.svg");

async fn css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        CSS,
    )
}

async fn favicon() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        FAVICON,
    )
}

/// The development root's CRL, which the development seal's certificate names, when
/// this service issues one (with development certificates); else not found.
async fn dev_root_crl(State(state): State<WebState>) -> Result<impl IntoResponse, WebError> {
    let now = state.ctx.now();
    let sealer = state.ctx.sealer.clone();
    let der = tokio::task::spawn_blocking(move || sealer.dev_root_crl(now))
        .await
        .ok()
        .flatten()
        .ok_or(WebError::NotFound)?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pkix-crl"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        der,
    ))
}

async fn not_found() -> WebError {
    WebError::NotFound
}

/// The pages' routes, with `extra` (the gRPC-Web routes) merged in beside them.
pub fn router(state: WebState, extra: Router) -> Router {
    let uploads = DefaultBodyLimit::max(2 * MAX_UPLOAD_BYTES + 64 * 1024);
    let pages = Router::new()
        .route("/", get(decisions::list))
        .route("/decisions", get(decisions::list))
        .route("/decisions/{year}", get(decisions::latest))
        .route("/decisions/{year}/v/{version}", get(decisions::version))
        .route(
            "/decisions/{year}/v/{version}/{file}",
            get(decisions::download),
        )
        .route(
            "/v/{code}",
            get(verify::document)
                .post(verify::check_against)
                .layer(uploads),
        )
        .route(
            "/verify",
            get(verify::form).post(verify::check).layer(uploads),
        )
        .route("/static/kvota.css", get(css))
        .route("/static/favicon.svg", get(favicon))
        .route("/pki/dev-root.crl", get(dev_root_crl))
        .fallback(not_found)
        .with_state(state.clone());
    pages
        .merge(extra)
        .layer(middleware::from_fn_with_state(state, frame))
}

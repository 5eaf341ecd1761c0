//! Certificate revocation lists fetched from distribution points, and kept for a while.
//!
//! A CRL is signed by its issuer, so it is fetched over plain HTTP as distribution points
//! commonly serve it. The fetch has its own deadline and size bound (a national CA's list
//! can be tens of megabytes; a distribution point that dribbles bytes must not hold a
//! verification for long), separate from the timestamp authority's client.
//!
//! A source is checked, fetched and stored in three steps: no lock is held while the
//! network is waited for, so one slow distribution point delays only the verifications
//! that need its list fetched, never those that find it cached. Two callers that both
//! find the list stale may both fetch it; the later answer is kept.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use openssl::x509::X509Crl;

use super::{Result, SignError};

/// How long a fetched CRL is used before it is fetched again (sooner once its
/// nextUpdate has passed).
pub const REFRESH_AFTER: Duration = Duration::from_secs(3600);

/// Limits of one fetch from a distribution point.
#[derive(Debug, Clone, Copy)]
pub struct FetchLimits {
    /// To open the connection.
    pub connect: Duration,
    /// For the whole exchange, from connecting to the last byte.
    pub total: Duration,
    /// The largest reply (headers and body) accepted.
    pub max_bytes: usize,
}

impl Default for FetchLimits {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(5),
            total: Duration::from_secs(30),
            max_bytes: 32 << 20,
        }
    }
}

/// A CRL distribution point and the list last fetched from it.
pub struct CrlSource {
    url: String,
    limits: FetchLimits,
    cached: Mutex<Option<Cached>>,
}

/// What a distribution point gives a verification.
#[derive(Clone)]
pub struct CrlState {
    /// The list to check against: fresh, or the last good one while the point fails.
    pub crl: Option<Arc<X509Crl>>,
    /// Why the last fetch failed, if it did.
    pub problem: Option<String>,
}

#[derive(Clone)]
struct Cached {
    crl: Arc<X509Crl>,
    fetched: DateTime<Utc>,
}

impl CrlSource {
    pub fn new(url: impl Into<String>) -> Self {
        Self::with_limits(url, FetchLimits::default())
    }

    pub fn with_limits(url: impl Into<String>, limits: FetchLimits) -> Self {
        Self {
            url: url.into(),
            limits,
            cached: Mutex::new(None),
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// The list of this distribution point: the cached one while it is fresh, else
    /// fetched again. A failed fetch keeps the last list (logged); `None` only if no list
    /// was ever fetched. Blocking: call it off the async runtime.
    pub fn current(&self) -> Option<Arc<X509Crl>> {
        self.state_at(Utc::now()).crl
    }

    /// The list to check against at `now` (the service's time: a list past its
    /// nextUpdate then is fetched again), and what went wrong if the last fetch failed.
    /// An outage is not an error: a 404, an empty or corrupt reply or a timeout keeps
    /// the last good list, which a corrupt download never replaces. Blocking.
    pub fn state_at(&self, now: DateTime<Utc>) -> CrlState {
        let cached = self.lock().clone();
        if let Some(c) = &cached
            && !is_stale(c, now)
        {
            return CrlState {
                crl: Some(c.crl.clone()),
                problem: None,
            };
        }
        // No lock is held from here until the answer is stored.
        match fetch_crl(&self.url, &self.limits) {
            Ok(crl) => {
                let crl = Arc::new(crl);
                *self.lock() = Some(Cached {
                    crl: crl.clone(),
                    fetched: Utc::now(),
                });
                CrlState {
                    crl: Some(crl),
                    problem: None,
                }
            }
            Err(e) => {
                tracing::warn!(url = %self.url, error = %e, "CRL fetch failed");
                CrlState {
                    crl: cached.map(|c| c.crl),
                    problem: Some(e.to_string()),
                }
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Cached>> {
        // The cache holds only complete values: one left by a panicking thread is usable.
        self.cached.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Fetched too long ago (by the wall clock), or past the list's own nextUpdate at `now`.
fn is_stale(c: &Cached, now: DateTime<Utc>) -> bool {
    let age = (Utc::now() - c.fetched).to_std().unwrap_or_default();
    let next_update_passed = c.crl.next_update().is_some_and(|n| {
        openssl::asn1::Asn1Time::from_unix(now.timestamp()).is_ok_and(|now| n < now)
    });
    age > REFRESH_AFTER || next_update_passed
}

/// Fetches a CRL (DER or PEM) from an `http://` distribution point.
pub fn fetch_crl(url: &str, limits: &FetchLimits) -> Result<X509Crl> {
    let bytes = http_request(url, limits, None)?;
    if bytes.is_empty() {
        return Err(SignError::Invalid(format!("{url} served an empty reply")));
    }
    X509Crl::from_der(&bytes)
        .or_else(|_| X509Crl::from_pem(&bytes))
        .map_err(|_| {
            SignError::Invalid(format!(
                "{url} did not serve a readable CRL ({} bytes)",
                bytes.len()
            ))
        })
}

/// A plain HTTP/1.0 GET, or a POST of `body` (content type, bytes), within `limits`;
/// the body of a 200 reply.
pub(crate) fn http_request(
    url: &str,
    limits: &FetchLimits,
    body: Option<(&str, &[u8])>,
) -> Result<Vec<u8>> {
    let (addr, authority, path) = super::http_target(url, "revocation")?;
    let started = Instant::now();
    let mut stream = TcpStream::connect_timeout(&addr, limits.connect)?;
    let left = |what: &str| {
        limits
            .total
            .checked_sub(started.elapsed())
            .filter(|d| !d.is_zero())
            .ok_or_else(|| {
                SignError::Invalid(format!(
                    "{url}: no answer within {:?} ({what})",
                    limits.total
                ))
            })
    };
    stream.set_write_timeout(Some(left("sending")?))?;
    let head = match body {
        None => format!("GET {path} HTTP/1.0\r\nHost: {authority}\r\nConnection: close\r\n\r\n"),
        Some((content_type, bytes)) => format!(
            "POST {path} HTTP/1.0\r\nHost: {authority}\r\nConnection: close\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
            bytes.len()
        ),
    };
    stream.write_all(head.as_bytes())?;
    if let Some((_, bytes)) = body {
        stream.write_all(bytes)?;
    }
    let mut reply = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        stream.set_read_timeout(Some(left("reading")?))?;
        let n = match stream.read(&mut buf) {
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                left("reading")?;
                return Err(e.into());
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        if n == 0 {
            break;
        }
        if reply.len() + n > limits.max_bytes {
            return Err(SignError::Invalid(format!(
                "{url}: the reply exceeds {} bytes",
                limits.max_bytes
            )));
        }
        reply.extend_from_slice(&buf[..n]);
    }
    let split = reply
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| SignError::Invalid(format!("{url} did not answer in HTTP")))?;
    let head = String::from_utf8_lossy(&reply[..split]);
    let status_ok = head
        .lines()
        .next()
        .is_some_and(|l| l.split_whitespace().nth(1) == Some("200"));
    if !status_ok {
        return Err(SignError::Invalid(format!(
            "{url} answered {}",
            head.lines().next().unwrap_or_default()
        )));
    }
    Ok(reply[split + 4..].to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A CRL issued by a fresh CA, revoking nothing, valid for a day.
    fn crl_pem() -> Vec<u8> {
        let (key, cert) = crate::sign::keys::make_root_ca(
            &crate::sign::keys::CertSubject {
                common_name: "Test CRL CA".into(),
                ..Default::default()
            },
            crate::sign::keys::KeyAlg::EcP256,
        )
        .unwrap();
        crate::sign::test_support::crl(&key, &cert, &[], 1)
            .to_pem()
            .unwrap()
    }

    /// Serves `body` with `status` to every request; counts the requests.
    fn serve(status: &'static str, body: Vec<u8>) -> (String, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let hits = Arc::new(AtomicUsize::new(0));
        let counted = hits.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut s) = stream else { continue };
                counted.fetch_add(1, Ordering::SeqCst);
                let mut buf = [0u8; 2048];
                let _ = s.read(&mut buf);
                let _ = s.write_all(format!("HTTP/1.0 {status}\r\n\r\n").as_bytes());
                let _ = s.write_all(&body);
            }
        });
        (format!("http://{addr}/list.crl"), hits)
    }

    #[test]
    fn a_fetched_list_is_cached_and_kept_when_a_later_fetch_fails() {
        let (url, hits) = serve("200 OK", crl_pem());
        let source = CrlSource::new(&url);
        let first = source.current().expect("fetched");
        let again = source.current().expect("cached");
        assert!(Arc::ptr_eq(&first, &again));
        assert_eq!(hits.load(Ordering::SeqCst), 1);

        // Stale, and the distribution point now fails: the last list is kept.
        let (bad_url, _) = serve("500 Internal Server Error", Vec::new());
        let failing = CrlSource::new(&bad_url);
        *failing.lock() = Some(Cached {
            crl: first.clone(),
            fetched: Utc::now() - chrono::Duration::hours(2),
        });
        let kept = failing.current().expect("the last list");
        assert!(Arc::ptr_eq(&kept, &first));
        assert!(CrlSource::new(&bad_url).current().is_none());
    }

    #[test]
    fn a_reply_over_the_size_bound_is_refused() {
        let (url, _) = serve("200 OK", vec![b'x'; 64 * 1024]);
        let limits = FetchLimits {
            max_bytes: 16 * 1024,
            ..FetchLimits::default()
        };
        let Err(err) = fetch_crl(&url, &limits) else {
            panic!("a reply over the bound was accepted")
        };
        assert!(matches!(err, SignError::Invalid(_)), "{err}");
    }

    #[test]
    fn a_silent_distribution_point_is_given_up_on_at_the_deadline() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/list.crl", listener.local_addr().unwrap());
        // Accepts and never answers.
        let held = std::thread::spawn(move || listener.accept().map(|(s, _)| s));
        let limits = FetchLimits {
            total: Duration::from_millis(300),
            ..FetchLimits::default()
        };
        let started = Instant::now();
        assert!(fetch_crl(&url, &limits).is_err());
        assert!(started.elapsed() < Duration::from_secs(5));
        drop(held.join());
    }

    #[test]
    fn only_plain_http_urls_are_fetched() {
        assert!(fetch_crl("https://example.org/x.crl", &FetchLimits::default()).is_err());
    }

    /// Serves whatever `reply` holds at the time of each request.
    fn serve_switchable(reply: Arc<Mutex<(&'static str, Vec<u8>)>>) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut s) = stream else { continue };
                let mut buf = [0u8; 2048];
                let _ = s.read(&mut buf);
                let (status, body) = reply.lock().unwrap().clone();
                let _ = s.write_all(format!("HTTP/1.0 {status}\r\n\r\n").as_bytes());
                let _ = s.write_all(&body);
            }
        });
        format!("http://{addr}/list.crl")
    }

    #[test]
    fn an_outage_is_a_problem_to_report_and_never_replaces_a_good_list() {
        let reply = Arc::new(Mutex::new(("404 Not Found", Vec::new())));
        let source = CrlSource::new(serve_switchable(reply.clone()));
        let now = Utc::now();
        let good = crl_pem();
        let mut truncated = good.clone();
        truncated.truncate(good.len() / 2);
        for (status, body, says) in [
            ("404 Not Found", Vec::new(), "404"),
            ("200 OK", Vec::new(), "empty reply"),
            ("200 OK", truncated.clone(), "readable CRL"),
        ] {
            *reply.lock().unwrap() = (status, body);
            let state = source.state_at(now);
            assert!(state.crl.is_none(), "{says}");
            let problem = state.problem.expect("a problem");
            assert!(problem.contains(says), "{problem}");
        }
        *reply.lock().unwrap() = ("200 OK", good);
        let state = source.state_at(now);
        let kept = state.crl.expect("a list");
        assert!(state.problem.is_none());
        // Past the list's nextUpdate (a day) it is fetched again; the point now serves a
        // corrupt list, which does not replace the good one.
        *reply.lock().unwrap() = ("200 OK", truncated);
        let later = now + chrono::Duration::days(2);
        let state = source.state_at(later);
        assert!(Arc::ptr_eq(&state.crl.expect("the good list"), &kept));
        assert!(state.problem.expect("a problem").contains("readable CRL"));
        assert!(Arc::ptr_eq(&source.current().expect("still kept"), &kept));
    }
}

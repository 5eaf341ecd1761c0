//! The tower layer in front of every gRPC service: resolves the caller from the client
//! certificate, applies the RPC × role table of [`crate::auth`], and hands each handler
//! its caller and audit actor in the request's extensions.

use std::task::{Context, Poll};

use tonic::{Code, Status};

use crate::auth::{PeerIdentity, Resolver, authorize};
use crate::identity::Caller;
use crate::store::audit::Actor;

/// Who makes this call, as the layer resolved it: read by handlers with
/// [`super::caller`] and [`super::actor`].
#[derive(Debug, Clone)]
pub struct Call {
    pub caller: Caller,
    pub actor: Actor,
}

/// The tower layer that resolves the caller and applies [`TABLE`] to every call.
#[derive(Clone)]
pub struct AuthLayer {
    resolver: Resolver,
    clock: crate::clock::Clock,
}

impl AuthLayer {
    /// `clock` is the service clock, handed to the audit trail of every call.
    pub fn new(resolver: Resolver, clock: crate::clock::Clock) -> Self {
        AuthLayer { resolver, clock }
    }
}

impl<S> tower::Layer<S> for AuthLayer {
    type Service = AuthService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        AuthService {
            inner,
            resolver: self.resolver.clone(),
            clock: self.clock,
        }
    }
}

#[derive(Clone)]
pub struct AuthService<S> {
    inner: S,
    resolver: Resolver,
    clock: crate::clock::Clock,
}

type BoxFuture<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send>>;

impl<S, B> tower::Service<http::Request<B>> for AuthService<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<tonic::body::Body>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: http::Request<B>) -> Self::Future {
        // The clone that was ready serves this call (tower's readiness contract).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let resolver = self.resolver.clone();
        let clock = self.clock;
        Box::pin(async move {
            let peer = req.extensions().get::<PeerIdentity>().cloned();
            let path = req.uri().path().to_owned();
            let decided = match resolver.resolve(peer.as_ref()).await {
                Ok(caller) => authorize(&path, &caller).map(|()| caller),
                Err(e) => Err(e),
            }
            .map_err(Status::from);
            match decided {
                Ok(caller) => {
                    tracing::debug!(method = %path, role = %caller.role, who = %caller.identity(), "call");
                    let actor = Actor::caller(&caller, path.trim_start_matches('/'), clock);
                    req.extensions_mut().insert(Call { caller, actor });
                    let response = inner.call(req).await?;
                    Ok(oversized_as_invalid(response))
                }
                Err(status) => {
                    tracing::info!(method = %path, code = ?status.code(), reason = status.message(), "call refused");
                    Ok(status.into_http())
                }
            }
        })
    }
}

/// A request message over the size limit is refused by tonic's decoder with OUT_OF_RANGE
/// before any handler runs; callers get INVALID_ARGUMENT, like every other bound.
fn oversized_as_invalid(
    response: http::Response<tonic::body::Body>,
) -> http::Response<tonic::body::Body> {
    match Status::from_header_map(response.headers()) {
        Some(s)
            if s.code() == Code::OutOfRange
                && s.message()
                    .starts_with("Error, decoded message length too large") =>
        {
            super::error::invalid_field("request", s.message().replace("Error, d", "D")).into_http()
        }
        _ => response,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_method_of_the_service_is_in_the_table_once() {
        use prost::Message;
        let set =
            prost_types::FileDescriptorSet::decode(super::super::pb::FILE_DESCRIPTOR_SET).unwrap();
        let mut methods = vec![];
        for file in &set.file {
            for s in &file.service {
                for m in &s.method {
                    methods.push(format!("{}.{}/{}", file.package(), s.name(), m.name()));
                }
            }
        }
        let mut in_table: Vec<String> = crate::auth::TABLE
            .iter()
            .map(|(m, _)| m.to_string())
            .collect();
        methods.sort();
        in_table.sort();
        assert_eq!(methods, in_table);
    }
}

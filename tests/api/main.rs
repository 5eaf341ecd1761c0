//! Integration tests over the real gRPC socket, one test binary (zero2prod style).

mod applications;
mod helpers;
mod regions;
mod rendering;
mod service;
mod signatures;

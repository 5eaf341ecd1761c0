//! Integration tests over the real gRPC socket, one test binary (zero2prod style).

mod access;
mod applications;
mod bodies;
mod calendar;
mod durability;
mod helpers;
mod origin_countries;
mod party_helpers;
mod party_signing;
mod quota;
mod regions;
mod rendering;
mod season;
mod service;
mod sign;
mod signatures;
mod timestamp_helpers;
mod timestamps;

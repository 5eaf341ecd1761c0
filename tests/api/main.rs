//! Integration tests over the real gRPC socket, one test binary (zero2prod style).

// The deprecated string fields beside the new enums (issue 12) are still read here: they
// are the contract older clients rely on.
#![allow(deprecated)]

mod access;
mod applications;
mod batch;
mod bodies;
mod browser;
mod calendar;
mod contract;
mod durability;
mod helpers;
mod http;
mod ltv;
mod moto;
mod origin_countries;
mod party_helpers;
mod party_signing;
mod postgres;
mod quota;
mod regions;
mod rendering;
mod replicas;
mod schema;
mod season;
mod seed;
mod service;
mod sign;
mod signatures;
mod timestamp_helpers;
mod timestamps;
mod web;

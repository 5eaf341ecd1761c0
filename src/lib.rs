//! Kvota: Kazakhstan's foreign-labour quota process (Order No. 274) as a gRPC service
//! that keeps applications in SQLite, renders the Rules' forms with Typst and seals them.

#[cfg(feature = "service")]
pub mod api;
#[cfg(test)]
mod arch_tests;
#[cfg(feature = "service")]
pub mod auth;
pub mod clock;
pub mod config;
pub mod domain;
pub mod identity;
#[cfg(feature = "service")]
pub mod process;
#[cfg(feature = "service")]
pub mod render;
#[cfg(feature = "service")]
pub mod sealing;
pub mod sign;
#[cfg(feature = "service")]
pub mod startup;
#[cfg(feature = "service")]
pub mod store;
#[cfg(feature = "service")]
pub mod tls;
#[cfg(feature = "service")]
pub mod web;

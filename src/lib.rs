//! Kvota: Kazakhstan's foreign-labour quota process (Order No. 274) as a gRPC service
//! that keeps applications in SQLite, renders the Rules' forms with Typst and seals them.

pub mod api;
pub mod auth;
pub mod clock;
pub mod config;
pub mod domain;
pub mod render;
pub mod sealing;
pub mod sign;
pub mod startup;
pub mod store;
pub mod tls;

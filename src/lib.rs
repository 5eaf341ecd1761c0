//! Kvota: Kazakhstan's foreign-labour quota process (Order No. 274) as a gRPC service
//! that keeps applications in SQLite, renders the Rules' forms with Typst and seals them.

#[cfg(feature = "service")]
pub mod api;
#[cfg(feature = "service")]
pub mod auth;
pub mod clock;
pub mod config;
pub mod domain;
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

/// Typst's layout allocates and frees many small objects on every core (a long form is
/// laid out in parts in parallel); mimalloc returns freed pages to the system, where
/// glibc's per-thread arenas kept a long form's peak resident.
#[cfg(feature = "service")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

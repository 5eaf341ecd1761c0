//! The steps of the Rules, one module each: typed input and the caller in, domain →
//! store → render → sign, a typed result or an [`Error`] out. No protocol types here: the
//! gRPC service (`api`) and the public web face are thin adapters over these functions.

pub mod application;
pub mod archive;
pub mod audit;
pub mod bodies;
pub mod calendar;
pub mod commission;
pub mod deadlines;
pub mod documents;
pub mod error;
pub mod filing;
pub mod issue;
pub mod paging;
pub mod proposals;
pub mod public;
pub mod publication;
pub mod quota;
pub mod scope;
pub mod signing;

pub use error::{Error, Reason, Result};

use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};

use crate::clock::Clock;
use crate::domain::Regions;
use crate::domain::calendar::Calendar;
use crate::sealing::Sealer;
use crate::store::Store;

/// What every step of the process works with: the store, the sealer, the clock and the
/// facts loaded once at start.
#[derive(Clone)]
pub struct Context {
    pub store: Store,
    pub sealer: Arc<Sealer>,
    pub clock: Clock,
    /// The 20 regions, loaded once at start (they change only by migration).
    pub regions: Arc<Regions>,
    /// Who signs for the state bodies: the ministry's BIN and each region's body's BIN.
    pub parties: Arc<Parties>,
    /// The working-day calendar, loaded once and replaced whole when the ministry
    /// changes it.
    pub calendar: SharedCalendar,
}

impl Context {
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The calendar as it stands: a snapshot that a concurrent change does not alter.
    pub fn calendar(&self) -> Arc<Calendar> {
        self.calendar.get()
    }

    /// Reads the calendar again from the store after a change and shares it.
    pub async fn reload_calendar(&self) -> Result<Arc<Calendar>> {
        let fresh = Arc::new(self.store.load_calendar().await?);
        self.calendar.set(fresh.clone());
        Ok(fresh)
    }
}

/// BINs of the state bodies whose signatories may sign their documents.
#[derive(Debug, Clone, Default)]
pub struct Parties {
    pub ministry_bin: Option<String>,
    pub regional_body_bins: std::collections::BTreeMap<String, String>,
}

/// The calendar shared by every request: readers take an `Arc` snapshot, a change swaps
/// in a new one.
#[derive(Clone)]
pub struct SharedCalendar(Arc<RwLock<Arc<Calendar>>>);

impl SharedCalendar {
    pub fn new(calendar: Calendar) -> Self {
        Self(Arc::new(RwLock::new(Arc::new(calendar))))
    }

    pub fn get(&self) -> Arc<Calendar> {
        self.0.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn set(&self, calendar: Arc<Calendar>) {
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = calendar;
    }
}

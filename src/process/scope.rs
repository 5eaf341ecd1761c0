//! The region and the year a request acts on, and who may act for a region.

use super::{Context, Result};
use crate::domain::{QuotaYear, RegionCode, Violations};
use crate::identity::Caller;

/// A region and a quota year named at the top of a request, both checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionYear {
    pub region: RegionCode,
    pub year: QuotaYear,
}

impl RegionYear {
    /// The year as the store keeps it.
    pub fn stored_year(&self) -> i64 {
        i64::from(self.year.get())
    }
}

impl Context {
    /// Checks a region code and a quota year given at the top level of a request
    /// (`region_code`, `quota_year`), recording what is wrong in `v`.
    pub fn region_year(
        &self,
        region_code: &str,
        quota_year: u32,
        v: &mut Violations,
    ) -> Option<RegionYear> {
        let region = self.regions.check(v, "region_code", region_code);
        let year = v.check("quota_year", QuotaYear::parse(quota_year, self.now()));
        Some(RegionYear {
            region: region?,
            year: year?,
        })
    }
}

/// A regional body or commission acts for its own region only (the table has already
/// limited which roles reach the method); `field` names the request field that carries
/// the region.
pub fn scope_region(caller: &Caller, field: &str, region: &str) -> Result<()> {
    if caller.role.is_regional() {
        caller.require_region(field, region)?;
    }
    Ok(())
}

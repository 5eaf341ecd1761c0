//! The region and the year a request acts on, and who may act for a region.

use super::{Context, Result};
use crate::domain::{QuotaYear, Violations};
use crate::identity::Caller;

/// A region and a quota year named at the top of a request, both checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionYear {
    /// The KATO code of one of the 20 regions.
    pub region: String,
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
        let region = region_code.trim();
        let region_ok = self.is_region(region);
        if !region_ok {
            v.add(
                "region_code",
                format!("{region:?} is not the KATO code of one of the 20 regions"),
            );
        }
        let year = v.check("quota_year", QuotaYear::parse(quota_year, self.now()));
        match (region_ok, year) {
            (true, Some(year)) => Some(RegionYear {
                region: region.to_owned(),
                year,
            }),
            _ => None,
        }
    }

    /// Whether `code` is the KATO code of one of the 20 regions.
    pub fn is_region(&self, code: &str) -> bool {
        self.region_codes.iter().any(|c| c == code)
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

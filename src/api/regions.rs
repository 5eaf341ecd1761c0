//! `RegionService`: the 20 regions.

use tonic::{Request, Response, Status};

use super::AppState;
use super::pb::{self, region_service_server::RegionService};
use crate::store::RegionRow;

pub struct Regions(pub AppState);

fn to_pb(r: RegionRow) -> pb::Region {
    pb::Region {
        name: format!("regions/{}", r.kato),
        kato: r.kato,
        name_ru: r.name_ru,
        name_kk: r.name_kk,
        name_en: r.name_en,
        kind: r.kind,
        iso3166_2: r.iso3166_2,
        admin_center_ru: r.admin_center_ru,
    }
}

#[tonic::async_trait]
impl RegionService for Regions {
    #[tracing::instrument(skip_all)]
    async fn list_regions(
        &self,
        _: Request<pb::ListRegionsRequest>,
    ) -> Result<Response<pb::ListRegionsResponse>, Status> {
        let regions = self.0.store.list_regions().await?;
        Ok(Response::new(pb::ListRegionsResponse {
            regions: regions.into_iter().map(to_pb).collect(),
        }))
    }

    #[tracing::instrument(skip_all, fields(name = %request.get_ref().name))]
    async fn get_region(
        &self,
        request: Request<pb::GetRegionRequest>,
    ) -> Result<Response<pb::Region>, Status> {
        let name = request.into_inner().name;
        let kato = name
            .strip_prefix("regions/")
            .filter(|k| k.len() == 9 && k.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| {
                super::error::invalid_field(
                    "name",
                    format!("{name:?} is not a region name of the form regions/{{9-digit KATO}}"),
                )
            })?;
        Ok(Response::new(to_pb(self.0.store.get_region(kato).await?)))
    }
}

//! The 20 regions of the distribution (p. 19–20).

use kvota::api::pb;
use tonic::Code;

use crate::helpers::*;

#[tokio::test]
async fn the_twenty_regions_are_listed_with_russian_and_kazakh_names() {
    let app = TestApp::spawn().await;
    let regions = app
        .regions()
        .list_regions(pb::ListRegionsRequest {})
        .await
        .unwrap()
        .into_inner()
        .regions;
    assert_eq!(regions.len(), 20);
    let kinds = |k: &str| regions.iter().filter(|r| r.kind == k).count();
    assert_eq!(
        (kinds("oblast"), kinds("city"), kinds("capital")),
        (17, 2, 1)
    );
    let astana = regions.iter().find(|r| r.kato == "710000000").unwrap();
    assert_eq!(astana.name, "regions/710000000");
    assert_eq!(astana.name_ru, "город Астана");
    let akmola = app
        .regions()
        .get_region(pb::GetRegionRequest {
            name: "regions/110000000".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(akmola.name_kk, "Ақмола облысы");
    app.stop().await;
}

#[tokio::test]
async fn an_unknown_region_is_not_found_and_a_bad_name_is_invalid() {
    let app = TestApp::spawn().await;
    let err = app
        .regions()
        .get_region(pb::GetRegionRequest {
            name: "regions/510000000".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    let err = app
        .regions()
        .get_region(pb::GetRegionRequest {
            name: "Акмола".into(),
        })
        .await
        .unwrap_err();
    assert_invalid(&err, "name");
    app.stop().await;
}

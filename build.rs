//! Generates the gRPC code of `proto/kvota/v1` with the vendored protoc, so no system
//! protoc is needed.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protos = [
        "application.proto",
        "audit.proto",
        "body.proto",
        "calendar.proto",
        "document.proto",
        "quota.proto",
        "region.proto",
        "regional.proto",
        "signing.proto",
    ]
    .map(|f| PathBuf::from("proto/kvota/v1").join(f));
    let mut config = tonic_prost_build::Config::new();
    config.protoc_executable(protoc_bin_vendored::protoc_bin_path()?);
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    tonic_prost_build::configure()
        .file_descriptor_set_path(out_dir.join("kvota_descriptor.bin"))
        .build_client(true)
        .build_server(true)
        .compile_with_config(
            config,
            &protos,
            &[PathBuf::from("proto"), protoc_bin_vendored::include_path()?],
        )?;
    println!("cargo:rerun-if-changed=proto");
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=templates");
    Ok(())
}

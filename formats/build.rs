//! Compiles the vendored Loki push protocol (`proto/loki/push.proto`) into
//! prost types, so the Loki decoder uses generated code rather than
//! hand-written structs. protoc comes from `protoc-bin-vendored`, a crate,
//! so a build needs nothing installed on the machine.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto/loki/push.proto");
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    let include = protoc_bin_vendored::include_path()?;
    prost_build::Config::new()
        .protoc_executable(protoc)
        .compile_protos(
            &["proto/loki/push.proto"],
            &[std::path::PathBuf::from("proto"), include],
        )?;
    Ok(())
}

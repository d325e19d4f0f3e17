//! Write the seed corpora under `fuzz/seeds/<target>/` from real inputs:
//! request bodies of every layout, the repository's pipeline files, and
//! packed results a plugin could return.
//!
//! `cargo run --manifest-path fuzz/Cargo.toml --example seeds` (from the
//! repository root); the files are committed.

use std::path::Path;

use sluice_fuzz::ingest_body::{self, Encoding};

fn main() -> std::io::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let seeds = root.join("seeds");
    let write = |target: &str, name: &str, bytes: &[u8]| -> std::io::Result<()> {
        let dir = seeds.join(target);
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(name), bytes)
    };

    let event = r#"{"project_id":"123","service":"auth","level":"INFO","message":"hi","timestamp":"2025-02-01T12:34:56Z","metadata":{"user_ip":"1.2.3.4"}}"#;
    let bodies: [(&str, usize, String); 5] = [
        ("json_object", 0, event.to_owned()),
        ("json_array", 0, format!("[{event},{event}]")),
        ("ndjson", 1, format!("{event}\n{event}\r\n\n")),
        ("text", 2, "first line\nsecond line\n".to_owned()),
        (
            "json_pretty",
            3,
            "{\n  \"message\": \"x\",\n  \"level\": 3\n}".to_owned(),
        ),
    ];
    for (name, content_type, body) in &bodies {
        for (suffix, encoding) in [("", Encoding::None), ("_gzip", Encoding::Gzip)] {
            let input = ingest_body::input(*content_type, encoding, body.as_bytes());
            write("ingest_body", &format!("{name}{suffix}"), &input)?;
        }
    }

    let pipelines = root.join("../pipelines");
    for entry in std::fs::read_dir(&pipelines)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "toml") {
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
            write(
                "pipeline_file",
                &name.unwrap_or_default(),
                &std::fs::read(&path)?,
            )?;
        }
    }

    for (index, seed) in sluice_fuzz::plugin_output::seeds().iter().enumerate() {
        write("plugin_output", &format!("result_{index}"), seed)?;
    }
    Ok(())
}

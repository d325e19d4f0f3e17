//! The operator's command line, run as the real `sluice` binary (building
//! this test is also what builds the binary the CLI tests in `tests/` run).

use std::path::{Path, PathBuf};
use std::process::Command;

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_owned()
}

/// `sluice ARGS` from the repository root with its own data directory.
fn sluice(data: &Path, args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(args)
        .current_dir(repository())
        .env("SLUICE_DATA_DIR", data)
        .env("RUST_LOG", "error")
        .output()
        .expect("run sluice");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn check_accepts_the_example_pipelines() {
    let data = tempfile::tempdir().expect("temp dir");
    let (code, stdout, stderr) = sluice(data.path(), &["check"]);
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("3 pipeline(s) valid"), "{stdout}");
}

#[test]
fn check_names_file_line_column_and_field_of_every_problem() {
    let data = tempfile::tempdir().expect("temp dir");
    let pipelines = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        pipelines.path().join("typo.toml"),
        "[pipeline]\ntenants = [\"acme\"]\n\n[[steps]]\nplugin = \"normalize\"\ntimeout_msec = 5\n",
    )
    .expect("write");
    std::fs::write(
        pipelines.path().join("missing.toml"),
        "[pipeline]\ntenants = [\"beta\"]\n\n[[steps]]\nplugin = \"no-such-plugin\"\n",
    )
    .expect("write");
    let dir = pipelines.path().to_string_lossy().into_owned();
    let (code, stdout, _) = sluice(data.path(), &["check", &dir]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("typo.toml:6:"), "{stdout}");
    assert!(stdout.contains("timeout_msec"), "{stdout}");
    assert!(stdout.contains("no-such-plugin"), "{stdout}");
    assert!(stdout.contains("2 problem(s) found"), "{stdout}");
}

#[test]
fn tenants_and_keys_are_managed_from_the_command_line() {
    let data = tempfile::tempdir().expect("temp dir");
    let (code, stdout, stderr) = sluice(data.path(), &["tenant", "create", "acme"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let (code, _, stderr) = sluice(data.path(), &["tenant", "create", "acme"]);
    assert_ne!(code, 0);
    assert!(stderr.contains("already exists"), "{stderr}");

    let (code, stdout, stderr) = sluice(data.path(), &["key", "create", "acme", "--label", "ci"]);
    assert_eq!(code, 0, "{stderr}");
    let plaintext = stdout
        .lines()
        .find(|line| line.starts_with("slk_"))
        .expect("the key is printed once")
        .to_owned();
    let (_, listing, _) = sluice(data.path(), &["key", "list", "acme"]);
    assert!(
        listing.contains("active") && listing.contains("ci"),
        "{listing}"
    );
    assert!(
        !listing.contains(&plaintext),
        "a listing never shows the key"
    );
    let id = listing.split('\t').next().expect("key id").to_owned();

    let (code, stdout, _) = sluice(data.path(), &["key", "revoke", &id]);
    assert_eq!(code, 0);
    assert!(stdout.contains("revoked"), "{stdout}");
    let (_, listing, _) = sluice(data.path(), &["key", "list", "acme"]);
    assert!(listing.contains("revoked"), "{listing}");

    let database = std::fs::read(data.path().join("sluice.db")).expect("database file");
    let secret = plaintext.as_bytes();
    assert!(
        !database.windows(secret.len()).any(|w| w == secret),
        "the database holds no plaintext key"
    );
}

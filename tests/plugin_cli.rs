//! The plugin author's command line: `sluice plugin new|build|test|inspect`,
//! run as the real binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sluice_tests::{plugin, root};

/// The `sluice` binary of this build (`cargo test --workspace` builds it
/// for `host/tests/cli.rs`).
fn sluice() -> Command {
    let exe = std::env::current_exe().expect("test exe");
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let path = dir.join("sluice");
    assert!(
        path.exists(),
        "{} is missing: run the tests with `cargo test --workspace` or `cargo xtask test`, which build it",
        path.display()
    );
    Command::new(path)
}

fn run(command: &mut Command) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = command.output().expect("run sluice");
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

fn golden(case: &Path) -> [PathBuf; 3] {
    let input = if case.join("input.raw").exists() {
        case.join("input.raw")
    } else {
        case.join("input.ndjson")
    };
    [
        case.join("config.toml"),
        input,
        case.join("expected.ndjson"),
    ]
}

fn plugin_test(wasm: &Path, case: &Path) -> Command {
    let [config, input, expected] = golden(case);
    let mut command = sluice();
    command
        .args(["plugin", "test"])
        .arg(wasm)
        .arg("--input")
        .arg(input)
        .arg("--expect")
        .arg(expected);
    if config.exists() {
        command.arg("--config").arg(config);
    }
    command.env("RUST_LOG", "error");
    command
}

#[test]
fn golden_file_matches_and_a_changed_golden_file_fails_with_a_diff() {
    let case = root().join("tests/golden/testkit");
    let wasm = plugin("fixtures/testkit");
    let (code, stdout, stderr) = run(&mut plugin_test(&wasm, &case));
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");

    let temp = tempfile::tempdir().unwrap();
    for file in ["config.toml", "input.ndjson"] {
        std::fs::copy(case.join(file), temp.path().join(file)).unwrap();
    }
    let expected = std::fs::read_to_string(case.join("expected.ndjson")).unwrap();
    let tampered = expected.replacen("\"outcome\":\"drop\"", "\"outcome\":\"pass\"", 1);
    assert_ne!(tampered, expected, "the golden file must contain a drop");
    std::fs::write(temp.path().join("expected.ndjson"), tampered).unwrap();
    let (code, stdout, _) = run(&mut plugin_test(&wasm, temp.path()));
    assert_eq!(code, 1);
    assert!(
        stdout.contains("-{\"line\":") && stdout.contains("+{\"line\":"),
        "diff:\n{stdout}"
    );
}

#[test]
fn standard_plugins_match_their_golden_files() {
    let mut checked = 0;
    for name in ["normalize", "redact", "fingerprint", "alert"] {
        let cases = root().join("plugins").join(name).join("tests/golden");
        let Ok(entries) = std::fs::read_dir(&cases) else {
            panic!("{} has no golden cases", cases.display());
        };
        let wasm = plugin(name);
        for case in entries {
            let case = case.unwrap().path();
            let (code, stdout, stderr) = run(&mut plugin_test(&wasm, &case));
            assert_eq!(code, 0, "{}:\n{stdout}\n{stderr}", case.display());
            checked += 1;
        }
    }
    assert!(checked >= 12, "only {checked} golden cases");
}

#[test]
fn bad_input_names_file_line_and_field() {
    let temp = tempfile::tempdir().unwrap();
    let input = temp.path().join("events.ndjson");
    std::fs::write(
        &input,
        "{\"message\":\"ok\"}\n{\"message\":\"x\",\"level\":\"loud\"}\n",
    )
    .unwrap();
    let (code, _, stderr) = run(sluice()
        .args(["plugin", "test"])
        .arg(plugin("fixtures/testkit"))
        .arg("--input")
        .arg(&input));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("events.ndjson:2: field `level`"),
        "{stderr}"
    );
}

#[test]
fn a_plugin_of_another_abi_is_refused_by_the_cli_naming_both_versions() {
    let (code, _, stderr) = run(sluice()
        .args(["plugin", "inspect"])
        .arg(plugin("fixtures/abi-v2")));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("sluice:plugin@2.0.0") && stderr.contains("sluice:plugin@1.0.0"),
        "{stderr}"
    );
}

#[test]
fn inspect_shows_identity_and_hash() {
    let (code, stdout, _) = run(sluice()
        .args(["plugin", "inspect"])
        .arg(plugin("fixtures/testkit")));
    assert_eq!(code, 0);
    assert!(stdout.contains("sluice-fixture-testkit"), "{stdout}");
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("sha256:") && l.trim().len() == "sha256:".len() + 6 + 64),
        "{stdout}"
    );
}

/// The scaffold is the plugin author's first contact: it must test green,
/// build to a component, and run in the host.
#[test]
fn scaffolded_plugin_tests_builds_and_runs() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("drop-health");
    let (code, stdout, stderr) = run(sluice()
        .args(["plugin", "new", "drop-health", "--dir"])
        .arg(&dir));
    assert_eq!(code, 0, "{stdout}{stderr}");

    // Share compiled dependencies across runs, apart from the suite's own target dir.
    let target = root().join("target/scaffold");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(&cargo)
        .args(["test", "--quiet"])
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", &target)
        .status()
        .unwrap();
    assert!(status.success(), "the scaffold's own tests fail");
    let status = Command::new(&cargo)
        .args(["build", "--release", "--target", "wasm32-wasip2"])
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", &target)
        .status()
        .unwrap();
    assert!(
        status.success(),
        "the scaffold does not build to wasm32-wasip2"
    );

    let wasm = target.join("wasm32-wasip2/release/drop_health.wasm");
    let input = temp.path().join("in.ndjson");
    std::fs::write(
        &input,
        "{\"message\":\"GET /healthcheck\"}\n{\"message\":\"GET /orders\",\"service\":\"api\"}\n",
    )
    .unwrap();
    let config = temp.path().join("config.toml");
    std::fs::write(&config, "drop_containing = \"healthcheck\"\n").unwrap();
    let (code, stdout, stderr) = run(sluice()
        .args(["plugin", "test"])
        .arg(&wasm)
        .arg("--input")
        .arg(&input)
        .arg("--config")
        .arg(&config));
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["outcome"], "drop");
    assert_eq!(lines[1]["outcome"], "pass");
}

#[test]
fn plugin_new_refuses_bad_names_and_existing_directories() {
    let temp = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(sluice()
        .args(["plugin", "new", "Bad_Name", "--dir"])
        .arg(temp.path().join("x")));
    assert_eq!(code, 2);
    assert!(stderr.contains("must start with a letter"), "{stderr}");
    let (code, _, stderr) = run(sluice()
        .args(["plugin", "new", "ok", "--dir"])
        .arg(temp.path()));
    assert_eq!(code, 2);
    assert!(stderr.contains("already exists"), "{stderr}");
}

//! The `sluice` binary.

fn main() -> std::process::ExitCode {
    sluice::telemetry::init_logging();
    match sluice::cli::main() {
        Ok(code) => std::process::ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::from(2)
        }
    }
}

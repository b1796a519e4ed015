//! `tracker-publish`: the spec-kitty tracker snapshot publish request,
//! computed by the embedded WebAssembly component.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use tracker_publish::ErrorKind;
use tracker_publish_host::{Error, Publisher, error_json};

mod bench;
mod cli;
mod preview;
mod publish;
mod serve;

use cli::{Cli, Command};
use preview::preview;

/// Exit code for a refusal or bad usage.
pub(crate) const EXIT_REFUSED: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Preview {
            input,
            jsonl,
            show_secrets,
            idempotency,
        } => preview(input, jsonl, show_secrets, idempotency.into()),
        Command::Publish {
            project,
            server_url,
            auth_token,
            timeout_seconds,
            json,
            credentials,
            store,
            retries,
            retry_base_ms,
            idempotency,
            allow_empty,
            dry_run,
            show_secrets,
        } => publish::run(publish::Options {
            server_url,
            auth_token,
            timeout: Duration::from_secs_f64(timeout_seconds),
            json,
            retries,
            retry_base: Duration::from_millis(retry_base_ms),
            scheme: idempotency.into(),
            dry_run,
            show_secrets,
            at: tracker_publish_host::project::Locations {
                project,
                credentials,
                store,
                allow_empty,
            },
        }),
        Command::SampleProject {
            project,
            home,
            token,
        } => match Publisher::new().and_then(|mut p| {
            tracker_publish_host::project::sample::write_sample(&mut p, &project, &home, &token)
        }) {
            Ok(db) => {
                println!("{}", db.display());
                ExitCode::SUCCESS
            }
            Err(e) => fail(e),
        },
        Command::Serve(args) => serve::main(args),
        Command::Bench {
            input, iterations, ..
        } => {
            let text = match std::fs::read(&input)
                .map_err(|e| e.to_string())
                .and_then(|b| utf8(b, "--input").map_err(|e| e.message().to_owned()))
            {
                Ok(t) => t,
                Err(e) => {
                    return refuse(&Error::new(
                        ErrorKind::InvalidInput,
                        format!("--input {}: {e}", input.display()),
                    ));
                }
            };
            match bench::run(&text, iterations as usize) {
                Ok(v) => {
                    println!("{v}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("tracker-publish: bench: {e:#}");
                    ExitCode::from(EXIT_REFUSED)
                }
            }
        }
    }
}

/// A refusal: the error object on standard output, one line on standard error.
pub(crate) fn refuse(e: &Error) -> ExitCode {
    refuse_with(e, true)
}

/// A refusal; the error object on standard output only when `machine`.
pub(crate) fn refuse_with(e: &Error, machine: bool) -> ExitCode {
    if machine {
        println!("{}", error_json(e));
    }
    eprintln!("tracker-publish: refused ({}): {}", e.kind(), e.message());
    ExitCode::from(EXIT_REFUSED)
}

/// A failure of the tool itself (not of the input): message and exit 1.
pub(crate) fn fail(e: anyhow::Error) -> ExitCode {
    eprintln!("tracker-publish: {e:#}");
    ExitCode::FAILURE
}

/// Input bytes as text, or `invalid-input` naming where the UTF-8 breaks.
pub(crate) fn utf8(bytes: Vec<u8>, what: &str) -> Result<String, Error> {
    String::from_utf8(bytes).map_err(|e| {
        Error::new(
            ErrorKind::InvalidInput,
            format!(
                "{what}: not valid UTF-8 (at byte {})",
                e.utf8_error().valid_up_to()
            ),
        )
    })
}

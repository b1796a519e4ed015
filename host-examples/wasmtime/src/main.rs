//! `tracker-publish`: the spec-kitty tracker snapshot publish request,
//! computed by the embedded WebAssembly component.

use std::io::{self, BufRead, BufWriter, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use tracker_publish::{ErrorKind, IdempotencyScheme, PublishError};
use tracker_publish_host::{Publisher, error_json, request_json};

mod bench;

/// Exit code for a refusal or bad usage.
const EXIT_REFUSED: u8 = 2;

#[derive(Parser)]
#[command(
    name = "tracker-publish",
    version,
    about = "Compute (and send) spec-kitty tracker snapshot publish requests, byte for byte as spec-kitty-cli 2.1.3 does.",
    long_about = "Compute (and send) spec-kitty tracker snapshot publish requests.\n\n\
        Every request is computed by the embedded WebAssembly component (no imports: \
        no I/O, no clock), so the endpoint, header order, body bytes and idempotency \
        key equal those of spec-kitty-cli 2.1.3 for every input it publishes correctly, \
        and inputs it would mishandle are refused with a clear error.\n\n\
        Exit codes: 0 success, 2 refused input or bad usage."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum Scheme {
    /// The CLI's key: SHA-256 over provider, workspace, routing, counts and cursor.
    V1,
    /// SHA-256 of the exact body bytes: an edited snapshot gets a new key.
    Content,
}

impl From<Scheme> for IdempotencyScheme {
    fn from(s: Scheme) -> Self {
        match s {
            Scheme::V1 => IdempotencyScheme::V1,
            Scheme::Content => IdempotencyScheme::Content,
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Print the request for a snapshot input given as JSON, without sending it.
    ///
    /// The input is the JSON form of publish-contract.md section 1: an object with
    /// server_url, auth_token, provider, workspace, doctrine_mode,
    /// doctrine_field_owners, credentials, project_uuid, project_slug, issues,
    /// mappings and checkpoint (as the `input` objects of the conformance vectors).
    ///
    /// Output: {"endpoint", "headers": [[name, value], ...], "body": "<exact body>",
    /// "idempotency_key"}. A refusal prints {"error": {"kind", "message"}} on
    /// standard output, a one-line message on standard error, and exits 2.
    Preview {
        /// Read the input from FILE instead of standard input.
        #[arg(long, value_name = "FILE")]
        input: Option<PathBuf>,
        /// One input per line in, one JSON line out per input line, in order. A refused
        /// or malformed line is answered with its error object and processing goes on;
        /// exit 0 once every line is answered.
        #[arg(long)]
        jsonl: bool,
        /// Show the Authorization value instead of "Bearer ***".
        #[arg(long)]
        show_secrets: bool,
        /// How the Idempotency-Key is derived.
        #[arg(long, value_enum, default_value = "v1")]
        idempotency: Scheme,
    },
    /// Measure the component on one snapshot input: routing per call, both payload
    /// entry points, the same JSON work in native Rust, instantiation.
    ///
    /// Prints one JSON object: routing_ns (wasmtime) and routing_native_ns,
    /// payload_json_ms, payload_typed_ms, payload_native_ms (medians, each with
    /// _p25/_p75/_min/_max), instantiate_us (pooling allocator, pre-instantiated)
    /// and instantiate_on_demand_us, component_bytes, body_bytes, input_bytes,
    /// peak_guest_memory_bytes (JSON entry point, fresh instance) and
    /// peak_guest_memory_typed_bytes.
    Bench {
        /// The snapshot input (JSON form), e.g. from bench/gen_snapshot.py.
        #[arg(long, value_name = "FILE")]
        input: PathBuf,
        /// Calls per payload measurement.
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=100_000))]
        iterations: u32,
        /// Print the figures as JSON (the only format so far; accepted for scripts).
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Preview {
            input,
            jsonl,
            show_secrets,
            idempotency,
        } => preview(input, jsonl, show_secrets, idempotency.into()),
        Command::Bench {
            input, iterations, ..
        } => {
            let text = match std::fs::read(&input)
                .map_err(|e| e.to_string())
                .and_then(|b| utf8(b, "--input").map_err(|e| e.message().to_owned()))
            {
                Ok(t) => t,
                Err(e) => {
                    return refuse(&PublishError::new(
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
fn refuse(e: &PublishError) -> ExitCode {
    println!("{}", error_json(e));
    eprintln!("tracker-publish: refused ({}): {}", e.kind(), e.message());
    ExitCode::from(EXIT_REFUSED)
}

/// A failure of the tool itself (not of the input): message and exit 1.
fn fail(e: anyhow::Error) -> ExitCode {
    eprintln!("tracker-publish: {e:#}");
    ExitCode::FAILURE
}

/// Input bytes as text, or `invalid-input` naming where the UTF-8 breaks.
fn utf8(bytes: Vec<u8>, what: &str) -> Result<String, PublishError> {
    String::from_utf8(bytes).map_err(|e| {
        PublishError::new(
            ErrorKind::InvalidInput,
            format!(
                "{what}: not valid UTF-8 (at byte {})",
                e.utf8_error().valid_up_to()
            ),
        )
    })
}

fn preview(
    input: Option<PathBuf>,
    jsonl: bool,
    show_secrets: bool,
    scheme: IdempotencyScheme,
) -> ExitCode {
    let mut publisher = match Publisher::new() {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    let reader: io::BufReader<Box<dyn Read>> = match &input {
        Some(path) => match std::fs::File::open(path) {
            Ok(f) => io::BufReader::with_capacity(1 << 16, Box::new(f)),
            Err(e) => {
                return refuse(&PublishError::new(
                    ErrorKind::InvalidInput,
                    format!("--input {}: {e}", path.display()),
                ));
            }
        },
        None => io::BufReader::with_capacity(1 << 16, Box::new(io::stdin().lock())),
    };
    if jsonl {
        return preview_lines(&mut publisher, reader, show_secrets, scheme);
    }
    let mut bytes = Vec::new();
    let mut reader = reader;
    if let Err(e) = reader.read_to_end(&mut bytes) {
        return refuse(&PublishError::new(
            ErrorKind::InvalidInput,
            format!("input: {e}"),
        ));
    }
    let text = match utf8(bytes, "input") {
        Ok(t) => t,
        Err(e) => return refuse(&e),
    };
    match publisher.build_json(&text, scheme) {
        Ok(Ok(request)) => {
            let out = serde_json::to_string_pretty(&request_json(&request, show_secrets))
                .unwrap_or_default();
            println!("{out}");
            ExitCode::SUCCESS
        }
        Ok(Err(e)) => refuse(&e),
        Err(e) => fail(e),
    }
}

/// `--jsonl`: constant memory, one answer per line, in order.
fn preview_lines(
    publisher: &mut Publisher,
    mut reader: io::BufReader<Box<dyn Read>>,
    show_secrets: bool,
    scheme: IdempotencyScheme,
) -> ExitCode {
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut line = Vec::new();
    let mut n = 0usize;
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                let _ = out.flush();
                return refuse(&PublishError::new(
                    ErrorKind::InvalidInput,
                    format!("input: {e}"),
                ));
            }
        }
        n += 1;
        if line.last() == Some(&b'\n') {
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
        }
        let answer = match std::str::from_utf8(&line) {
            Err(e) => error_json(&PublishError::new(
                ErrorKind::InvalidInput,
                format!("line {n}: not valid UTF-8 (at byte {})", e.valid_up_to()),
            )),
            Ok(text) => match publisher.build_json(text, scheme) {
                Ok(Ok(request)) => request_json(&request, show_secrets),
                Ok(Err(e)) => error_json(&e),
                Err(e) => return fail(e),
            },
        };
        let mut written =
            serde_json::to_writer(&mut out, &answer).is_ok() && out.write_all(b"\n").is_ok();
        // Batch output while input is waiting; flush once it runs dry, so a
        // host that talks to us line by line gets each answer at once.
        if written && reader.buffer().is_empty() {
            written = out.flush().is_ok();
        }
        if !written {
            // Standard output closed (e.g. `| head`): stop quietly.
            return ExitCode::SUCCESS;
        }
    }
    if out.flush().is_err() {
        return ExitCode::SUCCESS;
    }
    ExitCode::SUCCESS
}

//! The command line: every subcommand and argument (clap), and the parsers
//! of argument values.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use tracker_publish::IdempotencyScheme;

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
        Exit codes: 0 success, 1 the server refused or every attempt failed (publish), \
        2 refused input or configuration, or bad usage."
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Scheme {
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
pub(crate) enum Command {
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
    /// Publish a spec-kitty project's tracker snapshot: a drop-in for
    /// `spec-kitty tracker sync publish`.
    ///
    /// Reads .kittify/config.yaml, the credentials TOML and the tracker's SQLite
    /// store read-only (publish-contract.md, project-state.md), computes the
    /// request in the component, and POSTs its exact bytes. A connection error,
    /// a timeout, 408, 425, 429 or 5xx is retried with exponential backoff and
    /// jitter (Retry-After honoured), every attempt with the same body and the
    /// same Idempotency-Key; other answers are final. Progress goes to standard
    /// error.
    ///
    /// Exit codes: 0 the server accepted (2xx); 1 the server refused or every
    /// attempt failed; 2 bad input or configuration.
    Publish {
        /// The project directory (default: the nearest directory at or above the
        /// current one that holds .kittify/, or SPECIFY_REPO_ROOT).
        #[arg(long, value_name = "DIR")]
        project: Option<PathBuf>,
        /// The SaaS base URL.
        #[arg(
            long,
            env = "SAAS_API_URL",
            default_value = "",
            hide_default_value = true,
            hide_env_values = true
        )]
        server_url: String,
        /// The bearer token (else the provider's access_token or token credential).
        #[arg(long, env = "SAAS_AUTH_TOKEN", hide_env_values = true)]
        auth_token: Option<String>,
        /// Seconds to wait for each attempt (1 to 120).
        #[arg(long, default_value_t = 10.0, value_parser = timeout_seconds)]
        timeout_seconds: f64,
        /// Print the result as one JSON object (the CLI's, plus "attempts").
        #[arg(long)]
        json: bool,
        /// The credentials file.
        #[arg(
            long,
            value_name = "PATH",
            help = "The credentials file [default: $HOME/.spec-kitty/credentials]"
        )]
        credentials: Option<PathBuf>,
        /// The tracker store [default: $HOME/.spec-kitty/trackers/<scope>.db].
        #[arg(long, value_name = "PATH")]
        store: Option<PathBuf>,
        /// Retries after the first attempt.
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(0..=20))]
        retries: u32,
        /// The first backoff delay in milliseconds (doubles per retry).
        #[arg(long, default_value_t = 500, hide = true)]
        retry_base_ms: u64,
        /// How the Idempotency-Key is derived.
        #[arg(long, value_enum, default_value = "v1")]
        idempotency: Scheme,
        /// Publish an empty snapshot when the store is missing (else refused: an
        /// empty snapshot tells the receiver the project has no issues).
        #[arg(long)]
        allow_empty: bool,
        /// Print the request as `preview` does and send nothing.
        #[arg(long)]
        dry_run: bool,
        /// With --dry-run: show the Authorization value instead of "Bearer ***".
        #[arg(long)]
        show_secrets: bool,
    },
    /// Write a sample spec-kitty project (config, credentials, SQLite store with
    /// three Jira issues, mappings and a checkpoint), for demos and tests.
    #[command(hide = true)]
    SampleProject {
        /// The project directory to create.
        #[arg(long, value_name = "DIR")]
        project: PathBuf,
        /// The directory to use as $HOME (credentials and store go below it).
        #[arg(long, value_name = "DIR")]
        home: PathBuf,
        /// The SaaS token to store as the provider's access_token.
        #[arg(long, default_value = "demo-token-123")]
        token: String,
    },
    /// Measure the component on one snapshot input: routing per call, both payload
    /// entry points, the same JSON work in native Rust, instantiation.
    ///
    /// Prints one JSON object: routing_ns (wasmtime) and routing_native_ns,
    /// payload_json_ms, payload_typed_ms, payload_native_ms (medians, each with
    /// _p25/_p75/_min/_max), instantiate_us (pooling allocator, pre-instantiated)
    /// and instantiate_on_demand_us, component_bytes, body_bytes, input_bytes,
    /// peak_guest_memory_bytes (JSON entry point, fresh instance) and
    /// peak_guest_memory_typed_bytes, verify_ms and verify_native_ms
    /// (verify-snapshot of the built body).
    /// component_bytes is the lean component's size (what client hosts embed),
    /// component_full_bytes the command's.
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
    /// Run an ingest server for snapshots: the receiving side of the contract,
    /// for demos and tests.
    ///
    /// POST /api/v1/connectors/trackers/snapshots/ checks the body and key with the
    /// component's verify-snapshot (the code that writes them), de-duplicates on
    /// Idempotency-Key (same key and body: the first response replayed with
    /// "duplicate": true; same key, another body: 422; key still in process: 409;
    /// no key: 400) and stores the snapshot under its routing key, durably (SQLite in
    /// DIR), before answering. GET on the same path lists what was accepted, a page at
    /// a time (?after=SEQUENCE&limit=N); GET /healthz and /readyz are probes. Errors
    /// are RFC 9457 application/problem+json.
    ///
    /// The first line on standard output is `listening on http://ADDR` (useful with
    /// port 0); one line per request goes to standard error. Fault injection
    /// (--fail-first, --fail-rate, --drop-connection-first, --delay-ms) applies to
    /// POST requests only, counted in arrival order.
    Serve(crate::serve::ServeArgs),
}

/// `--timeout-seconds`: 1 to 120, as the CLI accepts.
fn timeout_seconds(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("{s:?} is not a number"))?;
    if (1.0..=120.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{v} is not in 1 to 120"))
    }
}

//! `tracker-publish preview`: the request for a JSON input, printed, one
//! input or one per line.

use std::io::{self, BufRead, BufWriter, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use tracker_publish::{ErrorKind, IdempotencyScheme};
use tracker_publish_host::{Error, Publisher, error_json, request_json};

use crate::{fail, refuse, utf8};

pub(crate) fn preview(
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
                return refuse(&Error::new(
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
        return refuse(&Error::new(ErrorKind::InvalidInput, format!("input: {e}")));
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
                return refuse(&Error::new(ErrorKind::InvalidInput, format!("input: {e}")));
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
            Err(e) => error_json(&Error::new(
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

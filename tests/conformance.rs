//! Every shared conformance vector through the native Rust API, every entry
//! point (typed records, the JSON form, and the framed form of WIT interface
//! `framed`), each reported by name.

mod support;

use libtest_mimic::{Arguments, Trial};
use support::typed::typed_input;
use support::vectors::Outcome;
use support::vectors::{Case, cases, check};
use tracker_publish::{
    IdempotencyScheme, PublishOptions, build_snapshot_payload, build_snapshot_payload_framed,
    build_snapshot_payload_json,
};

fn trial(entry: &'static str, case: Case) -> Trial {
    Trial::test(format!("{entry}::{}", case.name), move || {
        let options = PublishOptions::default();
        let content = PublishOptions {
            idempotency: IdempotencyScheme::Content,
        };
        let got = match entry {
            "json" => build_snapshot_payload_json(&case.input_json, &options).into(),
            "framed" => unframe(&build_snapshot_payload_framed(&case.input_json))?,
            "framed-content" => {
                let r = build_snapshot_payload_json(&case.input_json, &content).into();
                let got = unframe(&build_snapshot_payload_framed(&format!(
                    "content\n{}",
                    case.input_json
                )))?;
                return if got == r {
                    Ok(())
                } else {
                    Err(format!("framed {got:?} is not {r:?}").into())
                };
            }
            _ => build_snapshot_payload(&typed_input(&case.input), &options).into(),
        };
        check(&case, &got).map_err(Into::into)
    })
}

/// A `build-snapshot-payload-framed` result, split as a host splits it.
fn unframe(frame: &str) -> Result<Outcome, String> {
    let mut f = frame.splitn(5, '\n');
    let mut next = || f.next().ok_or_else(|| format!("short frame: {frame:?}"));
    match next()? {
        "ok" => {
            let (endpoint, key) = (next()?.to_owned(), next()?.to_owned());
            let n: usize = next()?.parse().map_err(|_| "header count".to_owned())?;
            let rest = next()?;
            let mut parts = rest.splitn(2 * n + 1, '\n');
            let mut field = || parts.next().map(str::to_owned).ok_or("short headers");
            let mut headers = Vec::new();
            for _ in 0..n {
                headers.push((field()?, field()?));
            }
            Ok(Outcome::Request {
                endpoint,
                headers,
                body: field()?.into_bytes(),
                idempotency_key: key,
            })
        }
        "error" => {
            let rest = frame.splitn(3, '\n').collect::<Vec<_>>();
            Ok(Outcome::Error {
                kind: rest[1].to_owned(),
                message: rest.get(2).unwrap_or(&"").to_string(),
            })
        }
        tag => Err(format!("unknown frame tag {tag:?}")),
    }
}

fn main() {
    let args = Arguments::from_args();
    let cases = cases();
    let mut trials = Vec::new();
    for case in cases {
        trials.push(trial("json", case.clone()));
        trials.push(trial("framed", case.clone()));
        trials.push(trial("framed-content", case.clone()));
        trials.push(trial("typed", case));
    }
    libtest_mimic::run(&args, trials).exit();
}

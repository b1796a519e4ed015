//! Every shared conformance vector through the native Rust API, both entry
//! points (typed records and the JSON form), each reported by name.

mod support;

use libtest_mimic::{Arguments, Trial};
use support::typed::typed_input;
use support::vectors::{Case, Outcome, cases, check};
use tracker_publish::{
    PublishOptions, PublishRequest, build_snapshot_payload, build_snapshot_payload_json,
};

fn outcome(r: Result<PublishRequest, tracker_publish::PublishError>) -> Outcome {
    match r {
        Ok(r) => Outcome::Request {
            endpoint: r.endpoint,
            headers: r.headers,
            body: r.body,
            idempotency_key: r.idempotency_key,
        },
        Err(e) => Outcome::Error {
            kind: e.kind().as_str().to_owned(),
            message: e.message().to_owned(),
        },
    }
}

fn trial(entry: &'static str, case: Case) -> Trial {
    Trial::test(format!("{entry}::{}", case.name), move || {
        let options = PublishOptions::default();
        let got = match entry {
            "json" => outcome(build_snapshot_payload_json(&case.input_json, &options)),
            _ => outcome(build_snapshot_payload(&typed_input(&case.input), &options)),
        };
        check(&case, &got).map_err(Into::into)
    })
}

fn main() {
    let args = Arguments::from_args();
    let cases = cases();
    let mut trials = Vec::new();
    for case in cases {
        trials.push(trial("json", case.clone()));
        trials.push(trial("typed", case));
    }
    libtest_mimic::run(&args, trials).exit();
}

//! Every shared conformance vector through the native Rust API, both entry
//! points (typed records and the JSON form), each reported by name.

mod support;

use libtest_mimic::{Arguments, Trial};
use support::typed::typed_input;
use support::vectors::{Case, cases, check};
use tracker_publish::{PublishOptions, build_snapshot_payload, build_snapshot_payload_json};

fn trial(entry: &'static str, case: Case) -> Trial {
    Trial::test(format!("{entry}::{}", case.name), move || {
        let options = PublishOptions::default();
        let got = match entry {
            "json" => build_snapshot_payload_json(&case.input_json, &options).into(),
            _ => build_snapshot_payload(&typed_input(&case.input), &options).into(),
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

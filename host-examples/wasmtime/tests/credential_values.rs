//! The credential-values table (`tests/credential_values.json`) through the
//! component in wasmtime: the same rule as the core's and every other
//! host's (a non-string credential value is `invalid-input` naming the key;
//! strings are used as given). Table and checks: tests/support/credential_table.rs.

#[path = "../../../tests/support/credential_table.rs"]
mod credential_table;

use credential_table::{Got, check, run_all};
use tracker_publish::IdempotencyScheme;
use tracker_publish_host::Publisher;

#[test]
fn every_credential_value_case_through_the_component() {
    let mut publisher = Publisher::new().expect("loading the component");
    run_all(|case| {
        let got = publisher
            .build_json(&case.input_json, IdempotencyScheme::V1)
            .expect("the component runs");
        match got {
            Ok(r) => check(
                case,
                Got::Request {
                    body: &r.body,
                    headers: &r.headers,
                },
            ),
            Err(e) => check(
                case,
                Got::Refused {
                    kind: e.kind().as_str(),
                    message: e.message(),
                },
            ),
        }
    });
}

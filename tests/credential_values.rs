//! Credential values (`tests/credential_values.json`): the core refuses
//! every credential value that is not a string, naming the key, and uses
//! strings as given. The component (host-examples/wasmtime), Node and
//! Python run the same file.

#[path = "support/credential_table.rs"]
mod credential_table;

use credential_table::{Got, check, run_all};
use tracker_publish::{PublishOptions, build_snapshot_payload_json};

#[test]
fn every_credential_value_case() {
    run_all(|case| {
        match build_snapshot_payload_json(&case.input_json, &PublishOptions::default()) {
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

//! The retry-policy table (`tests/retry_policy.json`) through the component
//! in wasmtime (`decide-retry`), each row reported by name: the command's
//! decisions are these.

#[path = "../../../tests/support/retry_table.rs"]
mod retry_table;

use std::sync::Mutex;

use libtest_mimic::{Arguments, Trial};
use tracker_publish_host::Publisher;

/// One instance for every case, as the command reuses it.
static PUBLISHER: Mutex<Option<Publisher>> = Mutex::new(None);

fn main() {
    let args = Arguments::from_args();
    let trials = retry_table::cases()
        .into_iter()
        .map(|case| {
            Trial::test(format!("wasmtime::{}", case.name), move || {
                let mut guard = PUBLISHER.lock().unwrap_or_else(|p| p.into_inner());
                let p =
                    guard.get_or_insert_with(|| Publisher::new().expect("loading the component"));
                let got = p
                    .decide_retry(&case.report(), &case.options)
                    .map_err(|e| format!("{e:#}"))?;
                Ok(case.check(got)?)
            })
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}

//! The retry-policy table (`tests/retry_policy.json`) through the native
//! core, each row reported by name. Every host runs the same table through
//! the component.

mod support;

use libtest_mimic::{Arguments, Trial};
use support::retry_table::cases;

fn main() {
    let args = Arguments::from_args();
    let trials = cases()
        .into_iter()
        .map(|case| {
            Trial::test(format!("native::{}", case.name), move || {
                Ok(case.check(case.native())?)
            })
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}

//! The JSON of the contract: reading the input form, writing the body as the CLI does.

mod read;
pub mod write;

pub use read::{read_snapshot_input, read_snapshot_payload};

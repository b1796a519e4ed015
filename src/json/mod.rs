//! The JSON of the contract: reading the input form, writing the body as the CLI does.

mod read;
pub(crate) mod value;
pub mod write;

pub(crate) use read::{is_verbatim, read_snapshot_input_verbatim, read_value};
pub use read::{read_credentials, read_snapshot_input, read_snapshot_payload};

//! The JSON of the contract: reading the input form, writing the body as the CLI does.

mod read;
pub mod write;

pub use read::read_snapshot_input;
pub(crate) use read::{is_verbatim, read_snapshot_input_verbatim};

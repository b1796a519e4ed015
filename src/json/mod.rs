//! The JSON of the contract: reading the input form, writing the body as the CLI does.

mod read;
pub(crate) mod value;
pub mod write;

pub use read::read_snapshot_input;
pub(crate) use read::read_value;

//! Shared test support: the vectors, the typed form of a JSON input, the
//! retry-policy table.
#![allow(dead_code)]

pub mod retry_table;
pub mod typed;
pub mod vectors;

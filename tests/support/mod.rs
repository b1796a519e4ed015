//! Shared test support: the vectors, the typed form of a JSON input, the
//! retry-policy table, the Python runs of the differential tests.
#![allow(dead_code)]

pub mod python;
pub mod retry_table;
pub mod typed;
pub mod vectors;

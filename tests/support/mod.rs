//! Shared test support: the vectors and the typed form of a JSON input.
#![allow(dead_code)]

pub mod typed;
pub mod vectors;

//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub use lmlab_core::test_support::report_skip;

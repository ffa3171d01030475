//! Unit tests of the pure report: hand-made records, figures by hand.

#[allow(unused_imports)]
use super::*;

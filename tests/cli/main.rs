//! End-to-end tests of the real binary in temp git repositories.
//! One test binary (modules per command) keeps link time down.

mod env;

mod dirty;
mod lifecycle;
mod scan_cache;

//! End-to-end tests of the real binary in temp git repositories.
//! One test binary (modules per command) keeps link time down.

mod env;

mod analytics;
mod bad_input;
mod capture;
mod concurrency;
mod config;
mod demo;
mod dirty;
mod export;
mod git_env;
mod hooks;
mod import;
mod init;
mod lifecycle;
mod list;
mod outputs_fixture;
mod record;
mod resolve;
mod rollback;
mod scan_cache;
mod validate;
mod visualize;

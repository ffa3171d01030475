//! deploy-ledger: a git-native deployment ledger.
//!
//! The core (record, ledger, capture, analytics, render) knows nothing of
//! clap; `commands` maps parsed flags onto it.

pub mod analytics;
pub mod backfill;
pub mod capture;
pub mod cli;
pub mod commands;
pub mod config;
pub mod deploy;
pub mod error;
pub mod git;
pub mod hooks;
pub mod import;
pub mod ledger;
pub mod lock;
pub mod output;
pub mod record;
pub mod render;
pub mod rollback;
pub mod template;
pub mod validate;
pub mod yaml;

pub use error::{Error, Result};

use std::process::ExitCode;

use clap::Parser;
use deploy_ledger::{
    cli::Cli,
    commands,
    error::{escape_controls, EXIT_OK},
    git::Repo,
    Error,
};

fn main() -> ExitCode {
    // Before any repository is opened and any thread started.
    Repo::cap_pack_windows();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // clap prints help/version (exit 0) and usage errors (exit 2) itself.
        Err(e) => {
            let code = e.exit_code();
            let _ = e.print();
            return ExitCode::from(u8::try_from(code).unwrap_or(2));
        }
    };
    match commands::run(cli) {
        Ok(()) => ExitCode::from(EXIT_OK),
        Err(e) => {
            report(&e);
            ExitCode::from(e.exit_code())
        }
    }
}

/// `error: …`, the cause chain, then `hint: …`.
/// Each on one line: a value with a newline is escaped, never echoed raw.
fn report(e: &Error) {
    eprintln!("error: {}", escape_controls(&e.to_string()));
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !e.to_string().contains(&text) {
            eprintln!("  caused by: {}", escape_controls(&text));
        }
        source = cause.source();
    }
    if let Some(hint) = e.hint() {
        eprintln!("hint: {}", escape_controls(&hint));
    }
}

//! `deploy-ledger export`: the records as json, ndjson, csv, sqlite,
//! prometheus, org or sexp, to stdout or `--output FILE`.

use crate::analytics::ReportTz;
use crate::commands::outputs::{self, DoraArgs, FilterArgs, OutputArgs};
use crate::error::{Error, Result};
use crate::ledger::Ledger;
use crate::render::export;

const EXAMPLES: &str = "\
Examples:
  deploy-ledger export --format json | jq '.[] | select(.status == \"failed\") | .id'
  deploy-ledger export --format csv --env production --since 2025-01-01 > deployments.csv
  deploy-ledger export --format sqlite --output ledger.db && duckdb -c \"ATTACH 'ledger.db' (TYPE sqlite); SELECT * FROM ledger.deployments\"
  deploy-ledger export --format prometheus --output /var/lib/node_exporter/textfile_collector/deploy_ledger.prom --force
  deploy-ledger export --format org --service api-gateway > deployments.org

--output writes atomically (a temp file, then a rename) and refuses to replace
an existing file unless --force. sqlite needs --output.";

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Json,
    Ndjson,
    Csv,
    Sqlite,
    Prometheus,
    Org,
    Sexp,
}

#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// Output format
    #[arg(long, value_enum)]
    pub format: Format,
    #[command(flatten)]
    pub filter: FilterArgs,
    #[command(flatten)]
    pub dora: DoraArgs,
    #[command(flatten)]
    pub out: OutputArgs,
}

pub fn run(args: Args) -> Result<()> {
    let filter = args.filter.parse()?;
    if args.format == Format::Sqlite {
        let Some(path) = &args.out.output else {
            return Err(Error::usage(
                "--format sqlite needs --output FILE (a database is not written to stdout)",
                "e.g. deploy-ledger export --format sqlite --output ledger.db",
            ));
        };
        outputs::check_destination(path, args.out.force)?;
    } else if let Some(path) = &args.out.output {
        outputs::check_destination(path, args.out.force)?;
    }
    let ledger = Ledger::open_cwd()?;
    let records = outputs::selected_records(&ledger, &filter);
    let text = match args.format {
        Format::Json => export::json::json(&records)?,
        Format::Ndjson => export::json::ndjson(&records)?,
        Format::Csv => export::csv::csv(&records)?,
        Format::Org => export::org::org(&records),
        Format::Sexp => export::sexp::sexp(&records)?,
        Format::Prometheus => {
            // The DORA gauges are the analytics report's figures.
            let now = crate::capture::clock::now()?;
            let input = outputs::analytics_input(
                &ledger,
                &filter,
                &args.dora.dora_environments,
                ReportTz::default(),
                now,
            )?;
            let report = crate::analytics::compute(&input.records, &input.history, &input.options);
            let dora = crate::render::dashboard::dora_figures(&report);
            export::prometheus::render(&records, &dora)?
        }
        Format::Sqlite => {
            let path = args.out.output.as_deref().expect("checked above");
            let warnings = export::sqlite::write(&records, path, args.out.force)
                .map_err(|e| outputs::with_hint(e, path))?;
            for w in warnings {
                crate::output::warn(&w);
            }
            return Ok(());
        }
    };
    outputs::emit(&args.out, text.as_bytes())
}

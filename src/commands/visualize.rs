//! `deploy-ledger visualize`: a mermaid gantt timeline, a DOT dependency
//! graph, or a self-contained HTML dashboard.

use crate::analytics::ReportTz;
use crate::capture::clock;
use crate::commands::outputs::{self, DoraArgs, FilterArgs, OutputArgs};
use crate::error::Result;
use crate::ledger::Ledger;
use crate::render;

const EXAMPLES: &str = "\
Examples:
  deploy-ledger visualize --format mermaid --env production --last 20   # paste into a ```mermaid block
  deploy-ledger visualize --format dot | dot -Tsvg > services.svg
  deploy-ledger visualize --format html --output dashboard.html
  deploy-ledger visualize --format html --since 2025-01-01 --output site/deployments.html --force

The dependency graph comes from deployments/ledger.toml:
  [services.api-gateway]
  depends_on = [\"auth\", \"billing\"]";

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// mermaid gantt chart of deployments and their phases
    Mermaid,
    /// Graphviz DOT graph of services and their depends_on
    Dot,
    /// self-contained HTML dashboard (inline SVG and CSS, no network)
    Html,
}

#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// Output format
    #[arg(long, value_enum)]
    pub format: Format,
    /// mermaid: only the latest N deployments (large charts do not render on forges)
    #[arg(long, value_name = "N", default_value_t = 50)]
    pub last: usize,
    /// html: time zone of the heatmap and the weeks (UTC, +02:00, Europe/Paris)
    // An offset west of UTC starts with `-` (`--tz -05:30`): not a flag.
    #[arg(long, default_value = "UTC", allow_hyphen_values = true)]
    pub tz: String,
    #[command(flatten)]
    pub dora: DoraArgs,
    #[command(flatten)]
    pub filter: FilterArgs,
    #[command(flatten)]
    pub out: OutputArgs,
}

pub fn run(args: Args) -> Result<()> {
    let filter = args.filter.parse()?;
    let tz: ReportTz = args.tz.parse()?;
    if let Some(path) = &args.out.output {
        outputs::check_destination(path, args.out.force)?;
    }
    let ledger = Ledger::open_cwd()?;
    let now = clock::now()?;
    let records = outputs::selected_records(&ledger, &filter);
    let text = match args.format {
        Format::Mermaid => {
            let omitted = records.len().saturating_sub(args.last);
            render::mermaid::gantt(&records[omitted..], now, omitted)
        }
        Format::Dot => render::dot::graph(&records, &ledger.config.services),
        Format::Html => {
            let input =
                outputs::analytics_input(&ledger, &filter, &args.dora.dora_environments, tz, now)?;
            let dashboard = render::dashboard::dashboard(
                &input.records,
                &input.history,
                &input.options,
                "Deployments".into(),
                scope(&args.filter, &tz),
            );
            render::html::render(&dashboard)?
        }
    };
    outputs::emit(&args.out, text.as_bytes())
}

/// One line saying what the dashboard covers.
fn scope(f: &FilterArgs, tz: &ReportTz) -> String {
    let v = |o: &Option<String>| o.clone().unwrap_or_default();
    render::dashboard::scope(
        &[
            ("service", v(&f.service)),
            ("environment", v(&f.environment)),
            ("status", v(&f.status)),
            ("strategy", v(&f.strategy)),
            ("operator", v(&f.operator)),
            ("since", v(&f.since)),
            ("until", v(&f.until)),
        ],
        tz,
    )
}

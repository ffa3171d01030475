//! `deploy-ledger visualize`: a mermaid gantt timeline, a DOT dependency
//! graph, or a self-contained HTML dashboard.

use crate::capture::clock;
use crate::commands::outputs::{self, FilterArgs, OutputArgs};
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
    #[command(flatten)]
    pub filter: FilterArgs,
    #[command(flatten)]
    pub out: OutputArgs,
}

pub fn run(args: Args) -> Result<()> {
    let filter = args.filter.check()?;
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
        Format::Html => render::html::render(&dashboard(&records, now))?,
    };
    outputs::emit(&args.out, text.as_bytes())
}

/// The dashboard's figures (to be filled from the analytics report).
fn dashboard(
    records: &[crate::record::Record],
    now: chrono::DateTime<chrono::Utc>,
) -> render::html::Dashboard {
    let mut phases: std::collections::BTreeMap<String, Vec<f64>> = Default::default();
    for r in records {
        for p in &r.phases {
            if let Some(d) = p.duration_seconds {
                phases.entry(p.name.clone()).or_default().push(d as f64);
            }
        }
    }
    render::html::Dashboard {
        title: "Deployments".into(),
        generated_at: crate::record::format_time(now),
        phases: phases
            .into_iter()
            .map(|(name, durations)| render::html::PhaseSpread {
                name,
                durations,
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}

//! The analytics report as a terminal dashboard: aligned tables and bars,
//! colour only when asked (a TTY without NO_COLOR).

use std::fmt::Write as _;

use super::report_fmt::{
    duration, left_out, number, points, rate, recovered, signed, signed_duration, tier, AUDIT_SHOWN,
};
use crate::analytics::{Dora, Report};

struct Style {
    color: bool,
}

impl Style {
    fn head(&self, s: &str) -> String {
        if self.color {
            format!("\x1b[1;36m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn bar(&self, s: &str) -> String {
        if self.color {
            format!("\x1b[34m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn rate(&self, v: Option<f64>) -> String {
        let text = rate(v);
        match v {
            Some(v) if self.color && v >= 0.9 => format!("\x1b[32m{text}\x1b[0m"),
            Some(v) if self.color && v < 0.75 => format!("\x1b[31m{text}\x1b[0m"),
            _ => text,
        }
    }
}

fn bar(count: usize, max: usize, width: usize) -> String {
    if max == 0 {
        return String::new();
    }
    let n = (count * width).div_ceil(max);
    "█".repeat(n)
}

/// Rows of cells, left-aligned first column, right-aligned others; the
/// widths ignore colour escapes (the colour wraps whole cells).
fn table(out: &mut String, header: &[&str], rows: &[Vec<String>]) {
    let visible = |s: &str| {
        let mut n = 0;
        let mut esc = false;
        for c in s.chars() {
            match (esc, c) {
                (false, '\x1b') => esc = true,
                (true, 'm') => esc = false,
                (true, _) => {}
                // Columns on a terminal: 山 takes two, a combining mark none.
                _ => n += unicode_width::UnicodeWidthChar::width(c).unwrap_or(0),
            }
        }
        n
    };
    let cols = header.len();
    let mut w: Vec<usize> = vec![0; cols];
    for (i, h) in header.iter().enumerate() {
        w[i] = visible(h);
    }
    for r in rows {
        for (i, c) in r.iter().enumerate().take(cols) {
            w[i] = w[i].max(visible(c));
        }
    }
    let line = |cells: Vec<String>| {
        let mut s = String::from(" ");
        for (i, c) in cells.iter().enumerate() {
            let pad = " ".repeat(w[i].saturating_sub(visible(c)));
            if i == 0 {
                s.push_str(&format!(" {c}{pad}"));
            } else if i == cols - 1 && c.contains('█') {
                s.push_str(&format!("  {c}"));
            } else {
                s.push_str(&format!("  {pad}{c}"));
            }
        }
        s.trim_end().to_string()
    };
    let _ = writeln!(
        out,
        "{}",
        line(header.iter().map(|h| h.to_string()).collect())
    );
    for r in rows {
        let _ = writeln!(out, "{}", line(r.clone()));
    }
}

/// The busiest hours shown (JSON has all).
pub const PEAK_HOURS_SHOWN: usize = 8;

pub fn render(report: &Report, sections: &[&str], color: bool) -> String {
    let st = Style { color };
    let mut out = String::new();
    let tz = report
        .filters
        .get("tz")
        .and_then(|v| v.as_str())
        .unwrap_or("UTC");
    let _ = writeln!(
        out,
        "{} · rev {} · generated {} · times in {tz}",
        st.head("deploy-ledger analytics"),
        report
            .rev
            .as_deref()
            .map(|r| &r[..r.len().min(12)])
            .unwrap_or("(no commit)"),
        report.generated_at
    );
    if report.audit.history == "shallow" {
        let _ = writeln!(
            out,
            "history: shallow (a shallow clone: older commits and records are unknown)"
        );
    }
    let has = |s: &str| sections.contains(&s);
    let section = |out: &mut String, title: &str| {
        let _ = writeln!(out, "\n{}", st.head(title));
    };
    if has("summary") {
        section(&mut out, "SUMMARY");
        let s = &report.summary;
        let statuses: Vec<String> = s
            .by_status
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        if s.total == 0 {
            let _ = writeln!(
                out,
                "  deployments   0 (none recorded, or none match the filters)"
            );
        } else {
            let _ = writeln!(
                out,
                "  deployments   {}  ({})",
                s.total,
                statuses.join(", ")
            );
        }
        let _ = writeln!(out, "  success rate  {}", st.rate(s.success_rate));
        let _ = writeln!(
            out,
            "  first · last  {} · {}",
            s.first.as_deref().unwrap_or("–"),
            s.last.as_deref().unwrap_or("–")
        );
        if s.uncommitted > 0 {
            let _ = writeln!(out, "  uncommitted   {}", s.uncommitted);
        }
    }
    if has("peak_hours") && !report.peak_hours.is_empty() {
        section(&mut out, &format!("PEAK HOURS ({tz})"));
        if report.peak_hours.len() > PEAK_HOURS_SHOWN {
            let _ = writeln!(
                out,
                "  (top {PEAK_HOURS_SHOWN} of {} hours with deployments)",
                report.peak_hours.len()
            );
        }
        let max = report.peak_hours.first().map(|h| h.count).unwrap_or(0);
        let rows: Vec<Vec<String>> = report
            .peak_hours
            .iter()
            .take(PEAK_HOURS_SHOWN)
            .map(|h| {
                vec![
                    format!("{:02}:00", h.hour),
                    h.count.to_string(),
                    st.rate(h.success_rate),
                    st.bar(&bar(h.count, max, 30)),
                ]
            })
            .collect();
        table(&mut out, &["hour", "count", "success", ""], &rows);
    }
    if has("busiest_days") && !report.busiest_days.is_empty() {
        section(&mut out, &format!("BUSIEST DAYS ({tz})"));
        let max = report.busiest_days.first().map(|h| h.count).unwrap_or(0);
        let rows: Vec<Vec<String>> = report
            .busiest_days
            .iter()
            .map(|d| {
                vec![
                    d.day.clone(),
                    d.count.to_string(),
                    st.rate(d.success_rate),
                    st.bar(&bar(d.count, max, 30)),
                ]
            })
            .collect();
        table(&mut out, &["day", "count", "success", ""], &rows);
    }
    if has("heatmap") {
        section(&mut out, &format!("HEATMAP hour × weekday ({tz})"));
        let max = report
            .heatmap
            .iter()
            .flat_map(|r| r.hours.iter())
            .copied()
            .max()
            .unwrap_or(0);
        let _ = writeln!(out, "        0     6     12    18   23");
        for r in &report.heatmap {
            let cells: String = r
                .hours
                .iter()
                .map(|&c| match c {
                    0 => '·',
                    c if c * 4 <= max => '░',
                    c if c * 2 <= max => '▒',
                    c if c * 4 <= max * 3 => '▓',
                    _ => '█',
                })
                .collect();
            let _ = writeln!(out, "  {:<5} {}", &r.day[..3], st.bar(&cells));
        }
    }
    if has("operators") && !report.operators.is_empty() {
        section(&mut out, "OPERATORS");
        let rows: Vec<Vec<String>> = report
            .operators
            .iter()
            .map(|o| {
                vec![
                    o.operator.clone(),
                    o.count.to_string(),
                    st.rate(o.success_rate),
                    duration(o.median_duration_seconds),
                    o.rollbacks.to_string(),
                ]
            })
            .collect();
        table(
            &mut out,
            &["operator", "count", "success", "median", "rolled back"],
            &rows,
        );
    }
    for (key, title, list) in [
        ("environments", "ENVIRONMENTS", &report.environments),
        ("services", "SERVICES", &report.services),
        ("strategies", "STRATEGIES", &report.strategies),
    ] {
        if has(key) && !list.is_empty() {
            section(&mut out, title);
            let max = list.first().map(|g| g.count).unwrap_or(0);
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|g| {
                    vec![
                        g.name.clone(),
                        g.count.to_string(),
                        st.rate(g.success_rate),
                        st.bar(&bar(g.count, max, 20)),
                    ]
                })
                .collect();
            table(&mut out, &["name", "count", "success", ""], &rows);
        }
    }
    if has("durations") {
        section(&mut out, "DURATIONS");
        let d = &report.durations;
        let mut rows = vec![vec![
            "total".to_string(),
            d.total.count.to_string(),
            duration(d.total.median_seconds),
            duration(d.total.p90_seconds),
        ]];
        for (name, s) in &d.phases {
            rows.push(vec![
                format!("  {name}"),
                s.count.to_string(),
                duration(s.median_seconds),
                duration(s.p90_seconds),
            ]);
        }
        table(&mut out, &["", "n", "median", "p90"], &rows);
    }
    if has("trends") {
        section(
            &mut out,
            &format!(
                "TRENDS per {}",
                match report.trends.period {
                    crate::analytics::Period::Week => "week",
                    crate::analytics::Period::Month => "month",
                }
            ),
        );
        // The terminal shows the last 26 periods; JSON and markdown have all.
        let skip = report.trends.buckets.len().saturating_sub(26);
        if skip > 0 {
            let _ = writeln!(
                out,
                "  (last 26 of {} periods)",
                report.trends.buckets.len()
            );
        }
        let rows: Vec<Vec<String>> = report
            .trends
            .buckets
            .iter()
            .skip(skip)
            .map(|b| {
                let c = b.change.as_ref();
                vec![
                    b.label.clone(),
                    b.count.to_string(),
                    c.map(|c| signed(c.count)).unwrap_or_default(),
                    st.rate(b.success_rate),
                    c.map(|c| points(c.success_rate)).unwrap_or_default(),
                    duration(b.median_duration_seconds),
                    c.map(|c| signed_duration(c.median_duration_seconds))
                        .unwrap_or_default(),
                ]
            })
            .collect();
        table(
            &mut out,
            &["period", "count", "Δ", "success", "Δ", "median", "Δ"],
            &rows,
        );
    }
    if has("dora") {
        for (env, d) in &report.dora {
            section(&mut out, &format!("DORA · {env} ({})", d.thresholds));
            dora(&mut out, d);
        }
    }
    if has("audit") {
        section(&mut out, "AUDIT");
        let a = &report.audit;
        let _ = writeln!(out, "  history: {}", a.history);
        for (title, list) in [
            ("edited after finish", &a.edited_after_finish),
            ("deleted", &a.deleted),
            ("never committed", &a.uncommitted),
        ] {
            let _ = writeln!(out, "  {title}: {}", list.len());
            for e in list.iter().take(AUDIT_SHOWN) {
                let commit = e
                    .commit
                    .as_deref()
                    .map(|c| format!(" in {}", &c[..c.len().min(12)]))
                    .unwrap_or_default();
                let _ = writeln!(out, "    {} ({}){commit}", e.id, e.path);
            }
            more(&mut out, list.len());
        }
        let _ = writeln!(out, "  stale in progress: {}", a.stale_in_progress.len());
        for e in a.stale_in_progress.iter().take(AUDIT_SHOWN) {
            let _ = writeln!(
                out,
                "    {} started {} ({} h ago)",
                e.id, e.started_at, e.age_hours
            );
        }
        more(&mut out, a.stale_in_progress.len());
    }
    if has("recommendations") {
        section(&mut out, "RECOMMENDATIONS");
        if report.recommendations.is_empty() {
            let _ = writeln!(
                out,
                "  none (rules need at least {} deployments per group)",
                crate::analytics::MIN_SAMPLE
            );
        }
        for r in &report.recommendations {
            let _ = writeln!(out, "  • {}", r.finding);
        }
    }
    if has("warnings") && !report.warnings.is_empty() {
        section(&mut out, "WARNINGS");
        for w in &report.warnings {
            let _ = writeln!(out, "  ! {w}");
        }
    }
    out
}

/// Says how many entries of an audit list were left out, if any.
fn more(out: &mut String, total: usize) {
    if let Some(line) = left_out(total) {
        let _ = writeln!(out, "    {line}");
    }
}

fn dora(out: &mut String, d: &Dora) {
    let f = &d.deployment_frequency;
    let l = &d.lead_time;
    let c = &d.change_failure_rate;
    let r = &d.recovery_time;
    let rows = vec![
        vec![
            "deployment frequency".to_string(),
            format!(
                "{}/day, {} deploy-days/week (median)",
                number(f.per_day),
                number(f.deploy_days_per_week_median)
            ),
            tier(f.tier).to_string(),
        ],
        vec![
            "lead time for changes".to_string(),
            format!(
                "median {}, p90 {}, mean {} ({} commits)",
                duration(l.median_seconds),
                duration(l.p90_seconds),
                duration(l.mean_seconds),
                l.commits
            ),
            tier(l.tier).to_string(),
        ],
        vec![
            "change failure rate".to_string(),
            format!("{} ({} of {})", rate(c.value), c.failed, c.total),
            tier(c.tier).to_string(),
        ],
        vec![
            "recovery time".to_string(),
            format!(
                "median {}, mean {} ({})",
                duration(r.median_seconds),
                duration(r.mean_seconds),
                recovered(r)
            ),
            tier(r.tier).to_string(),
        ],
    ];
    table(out, &["metric", "value", "tier"], &rows);
}

/// A spinner on stderr, drawn only once the run has taken over a second
/// and stderr is a terminal.
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    pub fn new() -> Progress {
        use std::io::IsTerminal;
        let bar = std::io::stderr().is_terminal().then(|| {
            let b = indicatif::ProgressBar::with_draw_target(
                None,
                indicatif::ProgressDrawTarget::hidden(),
            );
            let later = b.clone();
            std::thread::spawn(move || {
                std::thread::sleep(std::time::Duration::from_secs(1));
                if !later.is_finished() {
                    later.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                    later.enable_steady_tick(std::time::Duration::from_millis(120));
                }
            });
            b
        });
        Progress { bar }
    }

    /// Names the current step.
    pub fn set(&self, message: &str) {
        if let Some(b) = &self.bar {
            b.set_message(message.to_string());
        }
    }

    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

impl Default for Progress {
    fn default() -> Self {
        Progress::new()
    }
}

#[cfg(test)]
mod tests {
    use unicode_width::UnicodeWidthStr;

    #[test]
    fn tables_align_by_display_width() {
        let mut out = String::new();
        let rows = vec![
            vec!["山田太郎".to_string(), "12".to_string()],
            vec!["bob".to_string(), "3".to_string()],
        ];
        super::table(&mut out, &["operator", "count"], &rows);
        // Every line ends in the same terminal column (numbers right-aligned).
        let widths: Vec<usize> = out.lines().map(UnicodeWidthStr::width).collect();
        assert!(widths.windows(2).all(|w| w[0] == w[1]), "{out}");
    }
}

//! The analytics report as GitHub-flavoured markdown, for a pull-request
//! comment or `$GITHUB_STEP_SUMMARY`.

use std::fmt::Write as _;

use super::report_fmt::{
    duration, left_out, number, points, rate, recovered, signed, signed_duration, tier, AUDIT_SHOWN,
};
use super::report_text::PEAK_HOURS_SHOWN;
use crate::analytics::{Period, Report};

fn table(out: &mut String, header: &[&str], rows: &[Vec<String>]) {
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let align: Vec<&str> = header
        .iter()
        .enumerate()
        .map(|(i, _)| if i == 0 { ":--" } else { "--:" })
        .collect();
    let _ = writeln!(out, "| {} |", align.join(" | "));
    for r in rows {
        let cells: Vec<String> = r.iter().map(|c| c.replace('|', "\\|")).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    out.push('\n');
}

pub fn render(report: &Report, sections: &[&str]) -> String {
    let mut out = String::new();
    let tz = report
        .filters
        .get("tz")
        .and_then(|v| v.as_str())
        .unwrap_or("UTC");
    let _ = writeln!(out, "## Deployment analytics\n");
    let _ = writeln!(
        out,
        "Rev `{}` · generated {} · times in {tz}{}\n",
        report
            .rev
            .as_deref()
            .map(|r| &r[..r.len().min(12)])
            .unwrap_or("(no commit)"),
        report.generated_at,
        if report.audit.history == "shallow" {
            " · **history: shallow**"
        } else {
            ""
        }
    );
    let has = |s: &str| sections.contains(&s);
    if has("summary") {
        let s = &report.summary;
        let _ = writeln!(out, "### Summary\n");
        if s.total == 0 {
            let _ = writeln!(out, "No deployments recorded, or none match the filters.\n");
        }
        let mut rows = vec![
            vec!["deployments".to_string(), s.total.to_string()],
            vec!["success rate".to_string(), rate(s.success_rate)],
        ];
        for (k, v) in &s.by_status {
            rows.push(vec![k.clone(), v.to_string()]);
        }
        rows.push(vec![
            "first".into(),
            s.first.clone().unwrap_or_else(|| "–".into()),
        ]);
        rows.push(vec![
            "last".into(),
            s.last.clone().unwrap_or_else(|| "–".into()),
        ]);
        rows.push(vec!["uncommitted".into(), s.uncommitted.to_string()]);
        table(&mut out, &["", "value"], &rows);
    }
    if has("dora") {
        for (env, d) in &report.dora {
            let _ = writeln!(out, "### DORA · {env}\n");
            let f = &d.deployment_frequency;
            let l = &d.lead_time;
            let c = &d.change_failure_rate;
            let r = &d.recovery_time;
            table(
                &mut out,
                &["metric", "value", "tier"],
                &[
                    vec![
                        "Deployment frequency".into(),
                        format!(
                            "{}/day · {} deploy-days/week (median)",
                            number(f.per_day),
                            number(f.deploy_days_per_week_median)
                        ),
                        tier(f.tier).into(),
                    ],
                    vec![
                        "Lead time for changes".into(),
                        format!(
                            "median {} · p90 {} · mean {} ({} commits)",
                            duration(l.median_seconds),
                            duration(l.p90_seconds),
                            duration(l.mean_seconds),
                            l.commits
                        ),
                        tier(l.tier).into(),
                    ],
                    vec![
                        "Change failure rate".into(),
                        format!("{} ({} of {})", rate(c.value), c.failed, c.total),
                        tier(c.tier).into(),
                    ],
                    vec![
                        "Failed deployment recovery time".into(),
                        format!(
                            "median {} · mean {} ({})",
                            duration(r.median_seconds),
                            duration(r.mean_seconds),
                            recovered(r)
                        ),
                        tier(r.tier).into(),
                    ],
                ],
            );
            let _ = writeln!(out, "Tiers: {} State of DevOps thresholds.\n", d.thresholds);
        }
    }
    if has("trends") {
        let _ = writeln!(
            out,
            "### Trends per {}\n",
            if report.trends.period == Period::Week {
                "week"
            } else {
                "month"
            }
        );
        let rows: Vec<Vec<String>> = report
            .trends
            .buckets
            .iter()
            .map(|b| {
                let c = b.change.as_ref();
                vec![
                    b.label.clone(),
                    b.count.to_string(),
                    c.map(|c| signed(c.count)).unwrap_or_default(),
                    rate(b.success_rate),
                    c.map(|c| points(c.success_rate)).unwrap_or_default(),
                    duration(b.median_duration_seconds),
                    c.map(|c| signed_duration(c.median_duration_seconds))
                        .unwrap_or_default(),
                ]
            })
            .collect();
        table(
            &mut out,
            &[
                "period",
                "count",
                "Δ count",
                "success",
                "Δ success",
                "median duration",
                "Δ median",
            ],
            &rows,
        );
    }
    if has("peak_hours") && !report.peak_hours.is_empty() {
        let _ = writeln!(out, "### Peak hours ({tz})\n");
        if report.peak_hours.len() > PEAK_HOURS_SHOWN {
            let _ = writeln!(
                out,
                "Top {PEAK_HOURS_SHOWN} of {} hours with deployments.\n",
                report.peak_hours.len()
            );
        }
        let rows: Vec<Vec<String>> = report
            .peak_hours
            .iter()
            .take(PEAK_HOURS_SHOWN)
            .map(|h| {
                vec![
                    format!("{:02}:00", h.hour),
                    h.count.to_string(),
                    rate(h.success_rate),
                ]
            })
            .collect();
        table(&mut out, &["hour", "count", "success"], &rows);
    }
    if has("busiest_days") && !report.busiest_days.is_empty() {
        let _ = writeln!(out, "### Busiest days ({tz})\n");
        let rows: Vec<Vec<String>> = report
            .busiest_days
            .iter()
            .map(|d| vec![d.day.clone(), d.count.to_string(), rate(d.success_rate)])
            .collect();
        table(&mut out, &["day", "count", "success"], &rows);
    }
    if has("heatmap") {
        let _ = writeln!(
            out,
            "<details><summary>Heatmap hour × weekday ({tz})</summary>\n"
        );
        let mut header: Vec<String> = vec!["day".into()];
        header.extend((0..24).map(|h| h.to_string()));
        let h: Vec<&str> = header.iter().map(String::as_str).collect();
        let rows: Vec<Vec<String>> = report
            .heatmap
            .iter()
            .map(|r| {
                let mut row = vec![r.day[..3].to_string()];
                row.extend(r.hours.iter().map(|c| {
                    if *c == 0 {
                        String::new()
                    } else {
                        c.to_string()
                    }
                }));
                row
            })
            .collect();
        table(&mut out, &h, &rows);
        let _ = writeln!(out, "</details>\n");
    }
    if has("operators") && !report.operators.is_empty() {
        let _ = writeln!(out, "### Operators\n");
        let rows: Vec<Vec<String>> = report
            .operators
            .iter()
            .map(|o| {
                vec![
                    o.operator.clone(),
                    o.count.to_string(),
                    rate(o.success_rate),
                    duration(o.median_duration_seconds),
                    o.rollbacks.to_string(),
                ]
            })
            .collect();
        table(
            &mut out,
            &[
                "operator",
                "count",
                "success",
                "median duration",
                "rolled back",
            ],
            &rows,
        );
    }
    for (key, title, list) in [
        ("environments", "Environments", &report.environments),
        ("services", "Services", &report.services),
        ("strategies", "Strategies", &report.strategies),
    ] {
        if has(key) && !list.is_empty() {
            let _ = writeln!(out, "### {title}\n");
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|g| vec![g.name.clone(), g.count.to_string(), rate(g.success_rate)])
                .collect();
            table(&mut out, &["name", "count", "success"], &rows);
        }
    }
    if has("durations") {
        let _ = writeln!(out, "### Durations\n");
        let d = &report.durations;
        let mut rows = vec![vec![
            "total".to_string(),
            d.total.count.to_string(),
            duration(d.total.median_seconds),
            duration(d.total.p90_seconds),
        ]];
        for (name, s) in &d.phases {
            rows.push(vec![
                name.clone(),
                s.count.to_string(),
                duration(s.median_seconds),
                duration(s.p90_seconds),
            ]);
        }
        table(&mut out, &["", "n", "median", "p90"], &rows);
    }
    if has("audit") {
        let a = &report.audit;
        let _ = writeln!(out, "### Audit\n");
        let _ = writeln!(out, "History: {}\n", a.history);
        for (title, list) in [
            ("Edited after finish", &a.edited_after_finish),
            ("Deleted", &a.deleted),
            ("Never committed", &a.uncommitted),
        ] {
            let _ = writeln!(out, "- {title}: {}", list.len());
            for e in list.iter().take(AUDIT_SHOWN) {
                let commit = e
                    .commit
                    .as_deref()
                    .map(|c| format!(" in `{}`", &c[..c.len().min(12)]))
                    .unwrap_or_default();
                let _ = writeln!(out, "  - `{}` (`{}`){commit}", e.id, e.path);
            }
            more(&mut out, list.len());
        }
        let _ = writeln!(out, "- Stale in progress: {}", a.stale_in_progress.len());
        for e in a.stale_in_progress.iter().take(AUDIT_SHOWN) {
            let _ = writeln!(
                out,
                "  - `{}` started {} ({} h ago)",
                e.id, e.started_at, e.age_hours
            );
        }
        more(&mut out, a.stale_in_progress.len());
        out.push('\n');
    }
    if has("recommendations") {
        let _ = writeln!(out, "### Recommendations\n");
        if report.recommendations.is_empty() {
            let _ = writeln!(
                out,
                "None: each rule needs at least {} deployments per group.",
                crate::analytics::MIN_SAMPLE
            );
        }
        for r in &report.recommendations {
            let _ = writeln!(out, "- {}", r.finding);
        }
        out.push('\n');
    }
    if has("warnings") && !report.warnings.is_empty() {
        let _ = writeln!(out, "### Warnings\n");
        for w in &report.warnings {
            let _ = writeln!(out, "- {w}");
        }
        out.push('\n');
    }
    out
}

/// Says how many entries of an audit list were left out, if any.
fn more(out: &mut String, total: usize) {
    if let Some(line) = left_out(total) {
        let _ = writeln!(out, "  - {line}");
    }
}

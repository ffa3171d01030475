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
        // GFM splits the row at `|` before reading code spans: escaped
        // everywhere, inside code spans too.
        let cells: Vec<String> = r.iter().map(|c| text(c).replace('|', "\\|")).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    out.push('\n');
}

/// Text that comes from the records (names, ids, times, warnings) as
/// markdown that shows it as it is: `<`, `>` and `&` as entities, so that an
/// operator `renovate <bot>` is not an HTML tag (which a forge's sanitizer
/// drops, and worse). Code spans are kept as they are: their text is shown
/// literally already, and an entity there would show as `&lt;`.
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find('`') {
        let (before, from) = rest.split_at(start);
        push_escaped(&mut out, before);
        let ticks = from.len() - from.trim_start_matches('`').len();
        let after = &from[ticks..];
        // A span ends at the next run of exactly as many backticks; without
        // one, the backticks are literal and the rest is text.
        match closing_run(after, ticks) {
            Some(end) => {
                out.push_str(&from[..ticks + end + ticks]);
                rest = &after[end + ticks..];
            }
            None => {
                out.push_str(&from[..ticks]);
                rest = after;
            }
        }
    }
    push_escaped(&mut out, rest);
    out
}

fn push_escaped(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
}

/// Where the first run of exactly `ticks` backticks starts in `s`.
fn closing_run(s: &str, ticks: usize) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'`' {
            let run = bytes[i..].iter().take_while(|&&b| b == b'`').count();
            if run == ticks {
                return Some(i);
            }
            i += run;
        } else {
            i += 1;
        }
    }
    None
}

/// `s` as one code span: fenced with more backticks than it holds, so that
/// a backtick in a record's id or path cannot end the span early (and let
/// what follows be read as markdown or HTML); a line break would end the
/// list item, and is a space.
fn code(s: &str) -> String {
    let s = s.replace(['\n', '\r'], " ");
    let longest = s
        .split(|c| c != '`')
        .map(str::len)
        .max()
        .unwrap_or_default();
    let fence = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{s}{pad}{fence}")
}

pub fn render(report: &Report, sections: &[&str]) -> String {
    let mut out = String::new();
    let tz = text(
        report
            .filters
            .get("tz")
            .and_then(|v| v.as_str())
            .unwrap_or("UTC"),
    );
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
            let _ = writeln!(out, "### DORA · {}\n", text(env));
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
                    .map(|c| format!(" in {}", code(&c[..c.len().min(12)])))
                    .unwrap_or_default();
                let _ = writeln!(out, "  - {} ({}){commit}", code(&e.id), code(&e.path));
            }
            more(&mut out, list.len());
        }
        let _ = writeln!(out, "- Stale in progress: {}", a.stale_in_progress.len());
        for e in a.stale_in_progress.iter().take(AUDIT_SHOWN) {
            let _ = writeln!(
                out,
                "  - {} started {} ({} h ago)",
                code(&e.id),
                text(&e.started_at),
                e.age_hours
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
            let _ = writeln!(out, "- {}", text(&r.finding));
        }
        out.push('\n');
    }
    if has("warnings") && !report.warnings.is_empty() {
        let _ = writeln!(out, "### Warnings\n");
        for w in &report.warnings {
            let _ = writeln!(out, "- {}", text(w));
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

#[cfg(test)]
mod tests {
    use super::{code, text};

    #[test]
    fn text_escapes_html_outside_code_spans() {
        assert_eq!(text("renovate <bot>"), "renovate &lt;bot&gt;");
        assert_eq!(text("R&D <a href=x>"), "R&amp;D &lt;a href=x&gt;");
        assert_eq!(
            text("--env `<prod>` matches <none>"),
            "--env `<prod>` matches &lt;none&gt;"
        );
        assert_eq!(text("``a`<b>`` <c>"), "``a`<b>`` &lt;c&gt;");
        // An unclosed backtick is a literal one: the rest is text.
        assert_eq!(text("a ` <b>"), "a ` &lt;b&gt;");
        assert_eq!(text("`` <b> `"), "`` &lt;b&gt; `");
    }

    #[test]
    fn code_spans_hold_backticks() {
        assert_eq!(code("DEP-1"), "`DEP-1`");
        assert_eq!(code("a`<b>"), "``a`<b>``");
        assert_eq!(code("`x"), "`` `x ``");
        assert_eq!(code("a\nb"), "`a b`");
    }
}

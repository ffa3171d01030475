//! The self-contained HTML dashboard: inline SVG charts and CSS, no script,
//! no network (a Content-Security-Policy forbids both), readable at phone
//! width (viewBox-scaled charts, a one-column layout under 720 px).
//!
//! The figures come in as a [`Dashboard`] (built from the analytics report,
//! see `commands::visualize`); this module only lays them out. Chart
//! geometry is computed here as numbers, and every piece of record text goes
//! through minijinja's HTML auto-escaping in `templates/dashboard.html.j2`,
//! so a service note with `<script>` is shown, never run.

use minijinja::{AutoEscape, Environment};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::record::Status;

pub const TEMPLATE: &str = include_str!("../../templates/dashboard.html.j2");

/// Everything the dashboard shows.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Dashboard {
    pub title: String,
    pub generated_at: String,
    /// What the figures cover (filters, time zone), one line.
    pub scope: String,
    /// Headline figures: (label, value, note).
    pub tiles: Vec<Tile>,
    /// Deployments per period, by status.
    pub periods: Vec<PeriodStack>,
    /// Success rate per period (0-1), None where nothing ended.
    pub success_trend: Vec<(String, Option<f64>)>,
    /// Rows Monday..Sunday of 24 hourly counts.
    pub heatmap: Vec<(String, Vec<usize>)>,
    pub heatmap_tz: String,
    pub phases: Vec<PhaseSpread>,
    /// Median lead time per period, seconds.
    pub lead_time_trend: Vec<(String, Option<f64>)>,
    pub lead_time_note: String,
    pub operators: Vec<OperatorRow>,
    /// The latest failed or rolled-back deployments, newest first.
    pub failures: Vec<FailureRow>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct FailureRow {
    pub id: String,
    pub service: String,
    pub environment: String,
    pub status: String,
    pub finished_at: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Tile {
    pub label: String,
    pub value: String,
    pub note: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct PeriodStack {
    pub label: String,
    /// (status, count), in [`Status::ALL`] order.
    pub counts: Vec<(Status, usize)>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct PhaseSpread {
    pub name: String,
    /// Every duration of this phase, seconds.
    pub durations: Vec<f64>,
    pub median_seconds: Option<f64>,
    pub p90_seconds: Option<f64>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct OperatorRow {
    pub operator: String,
    pub count: usize,
    pub success_rate: Option<f64>,
    pub median_duration_seconds: Option<f64>,
    pub rollbacks: usize,
}

// ------------------------------------------------------------ SVG geometry

/// One chart as SVG primitives in a `0 0 W H` view box.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Chart {
    pub id: String,
    pub title: String,
    pub note: String,
    pub width: f64,
    pub height: f64,
    pub rects: Vec<Rect>,
    pub lines: Vec<Line>,
    pub paths: Vec<Path>,
    pub dots: Vec<Dot>,
    pub texts: Vec<Text>,
    /// Shown instead of the chart when there is nothing to draw.
    pub empty: Option<String>,
    /// (css class, label) pairs for the legend under the chart.
    pub legend: Vec<(String, String)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
    pub class: String,
    pub opacity: f64,
    pub tip: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Line {
    pub x1: f64,
    pub y1: f64,
    pub x2: f64,
    pub y2: f64,
    pub class: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Path {
    pub d: String,
    pub class: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Dot {
    pub x: f64,
    pub y: f64,
    pub r: f64,
    pub class: String,
    pub tip: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Text {
    pub x: f64,
    pub y: f64,
    pub text: String,
    /// start | middle | end
    pub anchor: &'static str,
    pub class: String,
}

const W: f64 = 560.0;
const LEFT: f64 = 52.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 14.0;

fn r1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

fn text(x: f64, y: f64, t: impl Into<String>, anchor: &'static str, class: &str) -> Text {
    Text {
        x: r1(x),
        y: r1(y),
        text: t.into(),
        anchor,
        class: class.into(),
    }
}

fn hline(x1: f64, x2: f64, y: f64, class: &str) -> Line {
    Line {
        x1: r1(x1),
        y1: r1(y),
        x2: r1(x2),
        y2: r1(y),
        class: class.into(),
    }
}

/// "45s", "12m", "1h 05m", "3.2d".
pub fn human_duration(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as i64;
    match s {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", (s as f64 / 60.0).round() as i64),
        s if s < 86_400 * 2 => format!("{}h {:02}m", s / 3600, (s % 3600) / 60),
        s => format!("{:.1}d", s as f64 / 86_400.0),
    }
}

/// Axis label of a log-scale tick: "10s", "5m", "1h", "1d", "1w".
fn tick_label(seconds: f64) -> String {
    let s = seconds as i64;
    match s {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86_400 => format!("{}h", s / 3600),
        s if s < 604_800 => format!("{}d", s / 86_400),
        s => format!("{}w", s / 604_800),
    }
}

pub fn percent(v: f64) -> String {
    format!("{:.0}%", v * 100.0)
}

/// A "nice" upper bound for an axis: 1, 2, 5 × 10^k at or above `max`.
fn nice_max(max: f64) -> f64 {
    if max <= 0.0 {
        return 1.0;
    }
    let exp = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * exp)
        .find(|v| *v >= max)
        .unwrap_or(10.0 * exp)
}

/// What a line chart's y axis measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Axis {
    /// 0-1, shown as percent, axis 0-100%.
    Fraction,
    /// Seconds, axis in whole minutes, hours or days.
    Duration,
}

impl Axis {
    /// The axis top for values up to `max`, and the unit of its labels.
    fn scale(self, max: f64) -> (f64, f64, &'static str) {
        match self {
            Axis::Fraction => (1.0, 0.01, "%"),
            Axis::Duration => {
                let (unit, suffix) = if max <= 2.0 * 3600.0 {
                    (60.0, "m")
                } else if max <= 2.0 * 86_400.0 {
                    (3600.0, "h")
                } else {
                    (86_400.0, "d")
                };
                // Four grid steps of a whole number of units.
                let need = (max / unit / 4.0).ceil().max(1.0);
                let step = [
                    1.0, 2.0, 3.0, 5.0, 6.0, 10.0, 12.0, 15.0, 20.0, 25.0, 30.0, 50.0,
                ]
                .into_iter()
                .find(|s| *s >= need)
                .unwrap_or(need);
                (step * 4.0 * unit, unit, suffix)
            }
        }
    }

    fn value(self, v: f64) -> String {
        match self {
            Axis::Fraction => percent(v),
            Axis::Duration => human_duration(v),
        }
    }
}

/// Shows every n-th x label so that labels never overlap.
fn label_step(n: usize, room: f64, per_label: f64) -> usize {
    let fit = (room / per_label).floor().max(1.0) as usize;
    n.div_ceil(fit).max(1)
}

/// Short x label of a period: "2025-W03" → "W03", "2025-01" stays.
fn short(label: &str) -> String {
    label
        .split_once("-W")
        .map(|(_, w)| format!("W{w}"))
        .unwrap_or_else(|| label.to_string())
}

pub fn status_class(s: Status) -> String {
    format!("st-{}", s.as_str())
}

/// Deployments per period, stacked by status.
pub fn stacked_chart(periods: &[PeriodStack]) -> Chart {
    let h = 240.0;
    let bottom = h - 30.0;
    let mut c = Chart {
        id: "per-period".into(),
        title: "Deployments per week, by status".into(),
        width: W,
        height: h,
        legend: Status::ALL
            .iter()
            .map(|s| (status_class(*s), s.as_str().to_string()))
            .collect(),
        ..Chart::default()
    };
    let max = periods
        .iter()
        .map(|p| p.counts.iter().map(|(_, n)| n).sum::<usize>())
        .max()
        .unwrap_or(0);
    if max == 0 {
        c.empty = Some("No deployments in this range.".into());
        return c;
    }
    // Four grid steps of a whole number of deployments.
    let step = nice_max((max as f64 / 4.0).ceil());
    let top = step * 4.0;
    let y = |v: f64| bottom - (bottom - TOP) * v / top;
    for i in 0..=4 {
        let v = step * i as f64;
        c.lines.push(hline(LEFT, W - RIGHT, y(v), "grid"));
        c.texts
            .push(text(LEFT - 6.0, y(v) + 4.0, format!("{v}"), "end", "axis"));
    }
    let slot = (W - LEFT - RIGHT) / periods.len() as f64;
    let bar = (slot * 0.7).min(40.0);
    let step = label_step(periods.len(), W - LEFT - RIGHT, 44.0);
    for (i, p) in periods.iter().enumerate() {
        let x = LEFT + slot * i as f64 + (slot - bar) / 2.0;
        let mut acc = 0.0;
        let total: usize = p.counts.iter().map(|(_, n)| n).sum();
        for (status, n) in &p.counts {
            if *n == 0 {
                continue;
            }
            let (y0, y1) = (y(acc), y(acc + *n as f64));
            c.rects.push(Rect {
                x: r1(x),
                y: r1(y1),
                w: r1(bar),
                h: r1(y0 - y1),
                class: status_class(*status),
                opacity: 1.0,
                tip: format!("{}: {n} {status} of {total}", p.label),
            });
            acc += *n as f64;
        }
        if i % step == 0 {
            c.texts.push(text(
                x + bar / 2.0,
                bottom + 18.0,
                short(&p.label),
                "middle",
                "axis",
            ));
        }
    }
    c.lines.push(hline(LEFT, W - RIGHT, bottom, "axis-line"));
    c
}

/// A line over periods; `fmt` labels the y axis, `top` fixes its maximum.
pub fn line_chart(id: &str, title: &str, points: &[(String, Option<f64>)], axis: Axis) -> Chart {
    let h = 220.0;
    let bottom = h - 30.0;
    let mut c = Chart {
        id: id.into(),
        title: title.into(),
        width: W,
        height: h,
        ..Chart::default()
    };
    let values: Vec<f64> = points.iter().filter_map(|(_, v)| *v).collect();
    if values.is_empty() {
        c.empty = Some("Not enough data yet.".into());
        return c;
    }
    let (top, unit, suffix) = axis.scale(values.iter().cloned().fold(0.0, f64::max));
    let y = |v: f64| bottom - (bottom - TOP) * (v / top).clamp(0.0, 1.0);
    for i in 0..=4 {
        let v = top * i as f64 / 4.0;
        c.lines.push(hline(LEFT, W - RIGHT, y(v), "grid"));
        let label = format!("{}{suffix}", (v / unit).round());
        c.texts
            .push(text(LEFT - 6.0, y(v) + 4.0, label, "end", "axis"));
    }
    let slot = (W - LEFT - RIGHT) / points.len() as f64;
    let step = label_step(points.len(), W - LEFT - RIGHT, 44.0);
    let mut d = String::new();
    let mut pen_down = false;
    for (i, (label, v)) in points.iter().enumerate() {
        let x = LEFT + slot * (i as f64 + 0.5);
        if let Some(v) = v {
            d.push_str(&format!(
                "{}{} {} ",
                if pen_down { "L" } else { "M" },
                r1(x),
                r1(y(*v))
            ));
            pen_down = true;
            c.dots.push(Dot {
                x: r1(x),
                y: r1(y(*v)),
                r: 4.0,
                class: "point".into(),
                tip: format!("{label}: {}", axis.value(*v)),
            });
        } else {
            // A gap where the period has no value.
            pen_down = false;
        }
        if i % step == 0 {
            c.texts
                .push(text(x, bottom + 18.0, short(label), "middle", "axis"));
        }
    }
    c.paths.push(Path {
        d: d.trim_end().to_string(),
        class: "trend".into(),
    });
    c.lines.push(hline(LEFT, W - RIGHT, bottom, "axis-line"));
    c
}

/// Hour × weekday heatmap of deployment starts.
pub fn heatmap_chart(rows: &[(String, Vec<usize>)], tz: &str) -> Chart {
    let cell = 19.5;
    let left = 46.0; // room for "Wed" at the phone font size
    let h = TOP + 7.0 * cell + 28.0;
    let mut c = Chart {
        id: "heatmap".into(),
        title: "Deployments by hour and weekday".into(),
        note: format!("start times, {tz}"),
        width: left + 24.0 * cell + 4.0,
        height: h,
        ..Chart::default()
    };
    let max = rows
        .iter()
        .flat_map(|(_, hours)| hours.iter().copied())
        .max()
        .unwrap_or(0);
    if max == 0 {
        c.empty = Some("No deployments in this range.".into());
        return c;
    }
    for (d, (day, hours)) in rows.iter().enumerate() {
        let y = TOP + cell * d as f64;
        c.texts.push(text(
            left - 6.0,
            y + cell * 0.7,
            day.chars().take(3).collect::<String>(),
            "end",
            "axis",
        ));
        for (hour, n) in hours.iter().enumerate().take(24) {
            let x = left + cell * hour as f64;
            c.rects.push(Rect {
                x: r1(x),
                y: r1(y),
                w: r1(cell - 2.0),
                h: r1(cell - 2.0),
                class: if *n == 0 { "cell-empty" } else { "cell" }.into(),
                opacity: if *n == 0 { 1.0 } else { shade(*n, max) },
                tip: format!("{day} {hour:02}:00–{hour:02}:59: {n} deployments"),
            });
        }
    }
    for hour in (0..24).step_by(3) {
        c.texts.push(text(
            left + cell * hour as f64 + cell / 2.0 - 1.0,
            TOP + 7.0 * cell + 16.0,
            format!("{hour:02}"),
            "middle",
            "axis",
        ));
    }
    heatmap_scale(&mut c, max, left, TOP + 7.0 * cell + 30.0, cell);
    c
}

/// The colour scale under the heatmap: an empty cell for 0, then cells of
/// the shades used for a few counts up to `max`, each with its count.
fn heatmap_scale(c: &mut Chart, max: usize, left: f64, y: f64, cell: f64) {
    let mut steps = vec![0, 1];
    for quarter in 1..=4 {
        let n = (max * quarter).div_ceil(4);
        if n > *steps.last().unwrap_or(&0) {
            steps.push(n);
        }
    }
    let size = cell - 2.0;
    // Room for a count of three digits after each cell, at phone font size.
    let gap = cell * 3.0;
    for (i, n) in steps.iter().enumerate() {
        let x = left + gap * i as f64;
        c.rects.push(Rect {
            x: r1(x),
            y: r1(y),
            w: r1(size),
            h: r1(size),
            class: if *n == 0 { "scale-cell-empty" } else { "cell" }.into(),
            opacity: if *n == 0 { 1.0 } else { shade(*n, max) },
            tip: format!("{n} deployments"),
        });
        c.texts.push(text(
            x + size + 4.0,
            y + size * 0.75,
            n.to_string(),
            "start",
            "axis",
        ));
    }
    c.texts.push(text(
        left + gap * steps.len() as f64,
        y + size * 0.75,
        "deployments",
        "start",
        "axis",
    ));
    c.height = y + size + 8.0;
}

/// The fill opacity of a heatmap cell counting `n` of at most `max`.
fn shade(n: usize, max: usize) -> f64 {
    r1(0.2 + 0.8 * n as f64 / max.max(1) as f64).min(1.0)
}

/// Duration of each phase: every deployment a dot (log scale), with the
/// median and p90 marked.
pub fn phase_chart(phases: &[PhaseSpread]) -> Chart {
    let row = 36.0;
    let left = 92.0;
    let h = TOP + row * phases.len().max(1) as f64 + 30.0;
    let mut c = Chart {
        id: "phases".into(),
        title: "Duration of each phase".into(),
        note: "each dot a deployment; bar: median, tick: p90; log scale".into(),
        width: W,
        height: h,
        legend: vec![
            ("point".into(), "one deployment".into()),
            ("median".into(), "median".into()),
            ("p90".into(), "p90".into()),
        ],
        ..Chart::default()
    };
    let all: Vec<f64> = phases
        .iter()
        .flat_map(|p| p.durations.iter().copied())
        .filter(|d| *d >= 0.0)
        .collect();
    if all.is_empty() {
        c.empty = Some("No finished phases yet.".into());
        return c;
    }
    // Log scale from 10 s up to the next tick above the longest phase.
    let ticks = [
        10.0, 60.0, 300.0, 900.0, 3600.0, 14_400.0, 86_400.0, 604_800.0,
    ];
    let max = all.iter().cloned().fold(0.0, f64::max);
    let hi = ticks
        .iter()
        .copied()
        .find(|t| *t >= max)
        .unwrap_or(604_800.0);
    let lo = 10.0_f64;
    let x = |v: f64| {
        let v = v.max(lo);
        left + (W - left - RIGHT) * (v.ln() - lo.ln()) / (hi.ln() - lo.ln())
    };
    let bottom = TOP + row * phases.len() as f64;
    let mut sampled = false;
    for t in ticks.iter().filter(|t| **t <= hi) {
        c.lines.push(Line {
            x1: r1(x(*t)),
            y1: TOP,
            x2: r1(x(*t)),
            y2: r1(bottom),
            class: "grid".into(),
        });
        c.texts
            .push(text(x(*t), bottom + 18.0, tick_label(*t), "middle", "axis"));
    }
    for (i, p) in phases.iter().enumerate() {
        let mid = TOP + row * i as f64 + row / 2.0;
        c.texts
            .push(text(left - 8.0, mid + 4.0, p.name.clone(), "end", "label"));
        let shown = sample(&p.durations, MAX_DOTS);
        if shown.len() < p.durations.len() {
            sampled = true;
        }
        let n = shown.len();
        for (j, d) in shown.iter().enumerate() {
            // Spread dots vertically so equal durations stay visible; the
            // golden-ratio sequence scatters them evenly without a pattern.
            let jitter = if n > 1 {
                ((j as f64 * 0.618_034).fract() - 0.5) * row * 0.6
            } else {
                0.0
            };
            c.dots.push(Dot {
                x: r1(x(*d)),
                y: r1(mid + jitter),
                r: 3.5,
                class: "point".into(),
                tip: format!("{}: {}", p.name, human_duration(*d)),
            });
        }
        if let Some(m) = p.median_seconds {
            c.rects.push(Rect {
                x: r1(x(m) - 1.5),
                y: r1(mid - row * 0.4),
                w: 3.0,
                h: r1(row * 0.8),
                class: "median".into(),
                opacity: 1.0,
                tip: format!("{} median {}", p.name, human_duration(m)),
            });
        }
        if let Some(m) = p.p90_seconds {
            c.rects.push(Rect {
                x: r1(x(m) - 1.0),
                y: r1(mid - row * 0.25),
                w: 2.0,
                h: r1(row * 0.5),
                class: "p90".into(),
                opacity: 1.0,
                tip: format!("{} p90 {}", p.name, human_duration(m)),
            });
        }
    }
    if sampled {
        c.note = format!(
            "each dot a deployment (an even sample of {MAX_DOTS} where there are more); bar: median, tick: p90; log scale"
        );
    }
    c
}

/// At most this many dots per phase: beyond it a dot plot is a blot, and
/// the page grows by a few kilobytes per hundred dots.
pub const MAX_DOTS: usize = 240;

/// An even sample of at most `max` values, keeping the distribution's shape:
/// every k-th of the sorted values.
fn sample(values: &[f64], max: usize) -> Vec<f64> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    sorted.sort_by(f64::total_cmp);
    if sorted.len() <= max || max == 0 {
        return sorted;
    }
    let step = sorted.len() as f64 / max as f64;
    (0..max)
        .map(|i| sorted[((i as f64 + 0.5) * step) as usize])
        .collect()
}

/// The page.
pub fn render(d: &Dashboard) -> Result<String> {
    let charts = vec![
        stacked_chart(&d.periods),
        line_chart(
            "success-rate",
            "Success rate per week",
            &d.success_trend,
            Axis::Fraction,
        ),
        heatmap_chart(&d.heatmap, &d.heatmap_tz),
        phase_chart(&d.phases),
        {
            let mut c = line_chart(
                "lead-time",
                "Lead time for changes, median per week",
                &d.lead_time_trend,
                Axis::Duration,
            );
            c.note = d.lead_time_note.clone();
            c
        },
    ];
    let operators: Vec<serde_json::Value> = d
        .operators
        .iter()
        .map(|o| {
            serde_json::json!({
                "operator": o.operator,
                "count": o.count,
                "success_rate": o.success_rate.map(percent).unwrap_or_else(|| "–".into()),
                "median": o.median_duration_seconds.map(human_duration).unwrap_or_else(|| "–".into()),
                "rollbacks": o.rollbacks,
            })
        })
        .collect();
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    let name = "built-in dashboard.html.j2";
    env.add_template(name, TEMPLATE)
        .map_err(|e| Error::template_syntax(name, e))?;
    let template = env
        .get_template(name)
        .map_err(|e| Error::template_syntax(name, e))?;
    template
        .render(minijinja::context! {
            d => d,
            charts => charts,
            operators => operators,
        })
        .map_err(|e| Error::template_render(name, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_text_is_escaped() {
        let d = Dashboard {
            title: "<script>alert(1)</script>".into(),
            operators: vec![OperatorRow {
                operator: "<img src=x onerror=alert(1)>".into(),
                count: 1,
                ..OperatorRow::default()
            }],
            phases: vec![PhaseSpread {
                name: "\"><script>x</script>".into(),
                durations: vec![60.0],
                median_seconds: Some(60.0),
                p90_seconds: None,
            }],
            ..Dashboard::default()
        };
        let html = render(&d).expect("renders");
        assert!(!html.contains("<script>"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"),
            "{html}"
        );
    }

    #[test]
    fn axis_helpers() {
        assert_eq!(nice_max(7.0), 10.0);
        assert_eq!(nice_max(11.0), 20.0);
        assert_eq!(nice_max(0.0), 1.0);
        assert_eq!(human_duration(912.0), "15m");
        assert_eq!(human_duration(3900.0), "1h 05m");
        assert_eq!(short("2025-W03"), "W03");
        assert_eq!(label_step(52, 500.0, 44.0), 5);
        let many: Vec<f64> = (0..1000).map(f64::from).rev().collect();
        let s = sample(&many, 10);
        assert_eq!(s.len(), 10);
        assert_eq!((s[0], s[9]), (50.0, 950.0));
        assert_eq!(sample(&[3.0, 1.0], 10), vec![1.0, 3.0]);
        assert_eq!(
            Axis::Duration.scale(5.8 * 86_400.0),
            (8.0 * 86_400.0, 86_400.0, "d")
        );
        assert_eq!(
            Axis::Duration.scale(3.0 * 3600.0),
            (4.0 * 3600.0, 3600.0, "h")
        );
        assert_eq!(Axis::Duration.scale(50.0 * 60.0), (60.0 * 60.0, 60.0, "m"));
    }
}

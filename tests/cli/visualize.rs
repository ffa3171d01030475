//! `visualize`: mermaid gantt, DOT graph (checked by Graphviz), HTML dashboard.

use crate::env::TestEnv;
use crate::outputs_fixture::{ledger, HISTORY};
use std::collections::BTreeSet;
use std::process::{Command, Stdio};

#[test]
fn mermaid_gantt_has_sections_tasks_and_markers() {
    let env = ledger();
    env.ok(&[
        "start",
        "--service",
        "odd",
        "--env",
        "staging",
        "--version",
        "1:2;#x%y",
    ]);
    let text = env.ok(&["visualize", "--format", "mermaid"]);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("gantt"));
    assert!(
        text.contains("\n    dateFormat YYYY-MM-DD HH:mm:ss\n"),
        "{text}"
    );
    let sections: BTreeSet<&str> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("section "))
        .collect();
    let mut services: BTreeSet<&str> = HISTORY.iter().map(|r| r.0).collect();
    services.insert("odd");
    assert_eq!(sections, services);
    let tasks: Vec<(&str, &str)> = text
        .lines()
        .map(str::trim)
        .filter(|l| l.contains(" :"))
        .map(|l| l.split_once(" :").expect("task"))
        .collect();
    assert_eq!(tasks.len(), 2 * HISTORY.len() + 1, "one task per phase");
    let date = |s: &str| chrono::NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%d %H:%M:%S");
    for (name, data) in &tasks {
        assert!(!name.contains([':', ';', '#', '%']), "task name `{name}`");
        let fields: Vec<&str> = data.split(", ").collect();
        let (tags, dates) = fields.split_at(fields.len() - 2);
        for t in tags {
            assert!(["done", "crit", "active"].contains(t), "tag {t} in {data}");
        }
        let (start, end) = (date(dates[0]).expect("start"), date(dates[1]).expect("end"));
        assert!(start <= end, "{data}");
    }
    assert!(text.contains("    section api-gateway\n"));
    assert!(
        text.contains("    production 2.1.0 execution :crit, done, 2025-01-08 15:10:00, 2025-01-08 15:40:00\n"),
        "{text}"
    );
    assert!(text.contains(
        "    production 2.0.0 planning :done, 2025-01-06 10:00:00, 2025-01-06 10:05:00\n"
    ));
    // In progress: active, open phase ends now (the clock).
    assert!(
        text.contains(
            "    staging 0.9.0 execution :active, 2025-01-22 08:05:00, 2025-01-22 09:00:00\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("    staging 1 2 x y planning :active, "),
        "{text}"
    );

    let text = env.ok(&["visualize", "--format", "mermaid", "--last", "2"]);
    assert!(
        text.contains(&format!(
            "%% {} older deployments left out",
            HISTORY.len() - 1
        )),
        "{text}"
    );
    assert_eq!(text.lines().filter(|l| l.contains(" :")).count(), 3);
}

#[test]
fn dot_graph_of_dependencies_renders_with_graphviz() {
    let env = ledger();
    let text = env.ok(&["visualize", "--format", "dot"]);
    assert!(text.starts_with("digraph services {\n"), "{text}");
    assert!(text.contains("  \"api-gateway\" -> \"auth\";\n"), "{text}");
    assert!(text.contains("  \"web\" -> \"cdn\";\n"));
    // Latest deployment decides the colour: web is in progress, cdn never deployed.
    assert!(text.contains("\"web\" [label=\"web\\nin-progress staging 0.9.0\\n2025-01-22 08:00\", fillcolor=\"#a9cbf0\""), "{text}");
    assert!(text.contains("\"cdn\" [label=\"cdn\\nno deployment\", fillcolor=\"#ffffff\""));
    let mut child = Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("Graphviz `dot` must be installed (Debian: graphviz; .ci/run installs it)");
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("dot runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stderr.trim().is_empty(),
        "dot: {stderr}\n{text}"
    );
    let svg = String::from_utf8_lossy(&out.stdout);
    assert_eq!(svg.matches("class=\"node\"").count(), 4, "{svg}");
    assert_eq!(svg.matches("class=\"edge\"").count(), 3);
}

#[test]
fn visualize_refuses_bad_input() {
    let env = TestEnv::new();
    let err = env.fails(&["visualize", "--format", "png"], 2);
    assert!(err.contains("invalid value 'png'"), "{err}");
    let err = env.fails(
        &["visualize", "--format", "dot", "--output", "nowhere/x.dot"],
        1,
    );
    assert!(err.contains("folder nowhere does not exist"), "{err}");
    env.write("g.dot", "mine\n");
    let err = env.fails(&["visualize", "--format", "dot", "--output", "g.dot"], 1);
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(env.read("g.dot"), "mine\n");
    let out = env.ok(&["visualize", "--help"]);
    assert!(
        out.contains("Examples:\n  deploy-ledger visualize --format mermaid"),
        "{out}"
    );
}

/// Runs headless Chromium with `args` and `url`; panics (the test fails
/// loudly) if it is missing, hangs or fails. Returns (stdout, stderr).
fn chromium(args: &[String], url: &str) -> (String, String) {
    use wait_timeout::ChildExt;
    let profile = tempfile::tempdir().expect("profile dir");
    let mut child = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chromium must be installed (Debian: chromium; .ci/run installs it)");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut s).ok();
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut s).ok();
        s
    });
    let status = match child
        .wait_timeout(std::time::Duration::from_secs(90))
        .expect("wait")
    {
        Some(s) => s,
        None => {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within 90 s");
        }
    };
    let (out, err) = (
        out_reader.join().expect("stdout"),
        err_reader.join().expect("stderr"),
    );
    assert!(status.success(), "chromium failed ({status}):\n{err}");
    (out, err)
}

/// Console messages of the page. It has no script, so any message means
/// something is wrong: a script error ("Uncaught …"), a resource blocked by
/// the Content-Security-Policy ("… violates the following Content Security
/// Policy directive …"), a failed load.
fn console_errors(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.contains(":CONSOLE")).collect()
}

/// Width and height of a PNG, from its IHDR chunk.
fn png_size(path: &std::path::Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(
        &bytes[..8],
        b"\x89PNG\r\n\x1a\n",
        "{} is a PNG",
        path.display()
    );
    let be = |i: usize| u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    (be(16), be(20))
}

#[test]
fn html_dashboard_renders_in_headless_chromium() {
    let env = ledger();
    env.ok(&[
        "visualize",
        "--format",
        "html",
        "--output",
        "dashboard.html",
    ]);
    let html = env.read("dashboard.html");
    // Self-contained: no external reference, no script at all.
    for bad in [
        "<script",
        "<link",
        "src=\"http",
        "href=\"http",
        "@import",
        "url(",
    ] {
        assert!(!html.contains(bad), "the page contains `{bad}`");
    }
    assert!(
        html.contains("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
    );
    assert!(
        html.contains("&lt;script&gt;alert("),
        "the evil reason is shown escaped"
    );
    assert!(!html.contains("<script>alert("));
    for id in [
        "per-period",
        "success-rate",
        "heatmap",
        "phases",
        "lead-time",
        "operators",
    ] {
        assert!(html.contains(&format!("id=\"{id}\"")), "section {id}");
    }

    let url = format!("file://{}", env.path("dashboard.html").display());
    let (dom, stderr) = chromium(&["--dump-dom".into()], &url);
    assert!(
        console_errors(&stderr).is_empty(),
        "console errors: {:?}",
        console_errors(&stderr)
    );
    assert!(dom.contains("<h1>"), "rendered DOM:\n{dom}");
    assert!(
        !dom.contains("<script"),
        "no script element in the rendered DOM"
    );
    let svgs = dom.matches("<svg").count();
    assert_eq!(svgs, 5, "every chart has data and is in the rendered DOM");
    for op in ["alice", "bob", "carol", "dave &lt;dave@example.com&gt;"] {
        assert!(
            dom.contains(&format!("<td>{op}</td>")),
            "operator {op} in the table"
        );
    }
    assert!(
        dom.contains("&lt;script&gt;alert(\"x\")&lt;/script&gt; | \"quoted\""),
        "the failure reason is shown as text"
    );
    // Stacked bars: one rect per (week, status) with deployments.
    let bars = dom.matches("<rect").count();
    assert!(bars > 24 * 7, "heatmap cells and bars: {bars}");

    // Screenshots at desktop and phone width, kept under target/ for people.
    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("dashboard");
    std::fs::create_dir_all(&shots).expect("mkdir screenshots");
    std::fs::write(shots.join("dashboard.html"), &html).expect("keep the page");
    for (name, width, height) in [("desktop", 1280, 2000), ("phone", 390, 3600)] {
        let png = shots.join(format!("{name}.png"));
        let _ = std::fs::remove_file(&png);
        let (_, stderr) = chromium(
            &[
                format!("--screenshot={}", png.display()),
                format!("--window-size={width},{height}"),
            ],
            &url,
        );
        assert!(
            console_errors(&stderr).is_empty(),
            "{name}: {:?}",
            console_errors(&stderr)
        );
        assert_eq!(png_size(&png), (width, height), "{name} screenshot size");
        let bytes = std::fs::metadata(&png).expect("png").len();
        assert!(
            bytes > 20_000,
            "{name} screenshot is {bytes} bytes: a blank page?"
        );
        eprintln!("screenshot: {}", png.display());
    }
}

#[test]
fn html_heatmap_follows_tz_and_filters() {
    let env = ledger();
    let utc = env.ok(&["visualize", "--format", "html"]);
    assert!(utc.contains("all deployments · times in UTC"), "scope line");
    // api-gateway 2.1.0 started Wednesday 15:00 UTC, alone in that hour.
    assert!(utc.contains("<title>Wednesday 15:00–15:59: 1 deployments</title>"));
    let paris = env.ok(&["visualize", "--format", "html", "--tz", "+02:00"]);
    assert!(paris.contains("times in +02:00"));
    assert!(paris.contains("<title>Wednesday 17:00–17:59: 1 deployments</title>"));
    assert!(paris.contains("<title>Wednesday 15:00–15:59: 0 deployments</title>"));
    // Filters apply to every figure: only auth, so bob never appears.
    let auth = env.ok(&["visualize", "--format", "html", "--service", "auth"]);
    assert!(auth.contains("service auth"));
    assert!(auth.contains("<td>carol</td>"));
    assert!(!auth.contains("<td>bob</td>"));
    let err = env.fails(
        &["visualize", "--format", "html", "--tz", "Mars/Olympus"],
        1,
    );
    assert!(err.contains("`Mars/Olympus` is not a time zone"), "{err}");
}

#[test]
fn mermaid_and_dot_snapshots() {
    let env = ledger();
    insta::assert_snapshot!(
        "gantt_last_4",
        env.ok(&["visualize", "--format", "mermaid", "--last", "4"])
    );
    insta::assert_snapshot!(
        "dependency_graph",
        env.ok(&["visualize", "--format", "dot"])
    );
}

/// At phone width (390 px) every cell of the operator table is inside the
/// page, with no horizontal scroll, and the heatmap has its colour scale.
/// The page has no script (its CSP forbids one), so a copy without the CSP
/// gets one that measures the layout and writes the result into the DOM.
#[test]
fn html_dashboard_fits_a_phone_and_the_heatmap_has_a_scale() {
    let env = ledger();
    env.ok(&[
        "visualize",
        "--format",
        "html",
        "--output",
        "dashboard.html",
    ]);
    let html = env.read("dashboard.html");
    let heatmap = &html[html.find("id=\"heatmap\"").expect("heatmap")..];
    let heatmap = &heatmap[..heatmap.find("</section>").expect("end")];
    assert!(
        heatmap.contains("class=\"scale-cell-empty\"><title>0 deployments</title>"),
        "the scale starts at 0: {heatmap}"
    );
    assert!(
        heatmap.contains(">deployments</text>"),
        "the scale says what it counts"
    );
    for label in [
        "Deployments",
        "Success rate",
        "Median duration",
        "Rollbacks",
    ] {
        assert!(
            html.contains(&format!("<td data-label=\"{label}\">")),
            "{label}"
        );
    }

    let csp = html
        .lines()
        .find(|l| l.contains("Content-Security-Policy"))
        .expect("a CSP line");
    let probe = html.replace(csp, "").replace(
        "</body>",
        "<script>
const vw = document.documentElement.clientWidth;
const out = [];
for (const td of document.querySelectorAll('#operators td')) {
  const r = td.getBoundingClientRect();
  if (r.width === 0 || r.left < 0 || r.right > vw) out.push((td.dataset.label || 'operator') + ' at ' + r.left + '..' + r.right);
}
for (const el of document.querySelectorAll('#operators .scroll, #heatmap .scroll')) {
  if (el.scrollWidth > el.clientWidth) out.push('scrolls ' + el.scrollWidth + ' > ' + el.clientWidth);
}
if (document.documentElement.scrollWidth > vw) out.push('page ' + document.documentElement.scrollWidth);
parent.document.body.setAttribute('data-width', vw);
parent.document.body.setAttribute('data-overflow', out.join('; ') || 'none');
</script>
</body>",
    );
    // --dump-dom ignores --window-size: the page goes into a frame 390 px
    // wide (a srcdoc frame shares the probe's origin, so it can report).
    let srcdoc = probe.replace('&', "&amp;").replace('"', "&quot;");
    env.write(
        "probe.html",
        &format!(
            "<!DOCTYPE html><html><body style=\"margin:0\"><iframe style=\"width:390px;height:3600px;border:0\" srcdoc=\"{srcdoc}\"></iframe></body></html>"
        ),
    );
    let url = format!("file://{}", env.path("probe.html").display());
    let (dom, _) = chromium(&["--dump-dom".into()], &url);
    assert!(
        dom.contains("data-width=\"390\""),
        "a 390 px viewport: {dom}"
    );
    assert!(
        dom.contains("data-overflow=\"none\""),
        "{}",
        dom.lines()
            .find(|l| l.contains("data-overflow"))
            .unwrap_or(&dom)
    );
}

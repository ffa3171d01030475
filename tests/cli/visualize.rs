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

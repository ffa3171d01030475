//! A ledger with a few weeks of history, shared by the export and visualize
//! tests: several services, environments, statuses and operators, and record
//! text that must be escaped (quotes, `<script>`, `|`, newlines).

use crate::env::TestEnv;

/// (service, env, version, operator, start, execution phase at, finish at, status, reason)
pub type Row = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    &'static str,
    Option<&'static str>,
);

pub const EVIL: &str = "<script>alert(\"x\")</script> | \"quoted\" \\ back";

pub const HISTORY: &[Row] = &[
    (
        "api-gateway",
        "staging",
        "2.0.0",
        "alice",
        "2025-01-06T09:00:00Z",
        "2025-01-06T09:02:00Z",
        Some("2025-01-06T09:10:00Z"),
        "success",
        None,
    ),
    (
        "api-gateway",
        "production",
        "2.0.0",
        "alice",
        "2025-01-06T10:00:00Z",
        "2025-01-06T10:05:00Z",
        Some("2025-01-06T10:20:00Z"),
        "success",
        None,
    ),
    (
        "auth",
        "production",
        "1.4.0",
        "carol",
        "2025-01-07T13:00:00Z",
        "2025-01-07T13:01:00Z",
        Some("2025-01-07T13:31:00Z"),
        "success",
        None,
    ),
    (
        "api-gateway",
        "production",
        "2.1.0",
        "bob",
        "2025-01-08T15:00:00Z",
        "2025-01-08T15:10:00Z",
        Some("2025-01-08T15:40:00Z"),
        "failed",
        Some(EVIL),
    ),
    (
        "api-gateway",
        "production",
        "2.1.1",
        "alice",
        "2025-01-09T09:00:00Z",
        "2025-01-09T09:03:00Z",
        Some("2025-01-09T09:15:00Z"),
        "success",
        None,
    ),
    (
        "api-gateway",
        "production",
        "2.2.0",
        "bob",
        "2025-01-14T11:00:00Z",
        "2025-01-14T11:04:00Z",
        Some("2025-01-14T11:50:00Z"),
        "success",
        None,
    ),
    (
        "auth",
        "production",
        "1.5.0",
        "carol",
        "2025-01-15T14:00:00Z",
        "2025-01-15T14:02:00Z",
        Some("2025-01-15T14:05:00Z"),
        "cancelled",
        None,
    ),
    (
        "api-gateway",
        "production",
        "2.3.0",
        "alice",
        "2025-01-20T16:00:00Z",
        "2025-01-20T16:06:00Z",
        Some("2025-01-20T16:30:00Z"),
        "success",
        None,
    ),
    (
        "auth",
        "production",
        "1.5.1",
        "carol",
        "2025-01-21T10:00:00Z",
        "2025-01-21T10:01:00Z",
        Some("2025-01-21T10:09:00Z"),
        "success",
        None,
    ),
    (
        "web",
        "staging",
        "0.9.0",
        "dave <dave@example.com>",
        "2025-01-22T08:00:00Z",
        "2025-01-22T08:05:00Z",
        None,
        "in-progress",
        None,
    ),
];

pub const CONFIG: &str = "\
[services.api-gateway]
depends_on = [\"auth\"]

[services.web]
depends_on = [\"api-gateway\", \"cdn\"]
";

/// A repository with [`HISTORY`] recorded through the real commands.
pub fn ledger() -> TestEnv {
    let mut env = TestEnv::new();
    env.write("deployments/ledger.toml", CONFIG);
    for (i, &(service, environment, version, operator, start, exec, finish, status, reason)) in
        HISTORY.iter().enumerate()
    {
        // A code change committed two hours before each deployment, so that
        // lead time has commits to measure.
        let started = chrono::DateTime::parse_from_rfc3339(start).expect("fixture time");
        let committed = (started - chrono::Duration::hours(2)).to_rfc3339();
        env.at(&committed);
        env.write(&format!("src/{service}.txt"), &format!("change {i}\n"));
        env.git(&["add", "src"]);
        env.git(&["commit", "-q", "-m", &format!("change {i}")]);
        env.at(start).ok(&[
            "start",
            "--service",
            service,
            "--env",
            environment,
            "--version",
            version,
            "--operator",
            operator,
            "--label",
            "team=edge",
        ]);
        env.at(exec).ok(&["phase", "execution"]);
        if let Some(finish) = finish {
            let mut args = vec!["finish", "--status", status];
            if let Some(reason) = reason {
                args.extend(["--reason", reason]);
            }
            env.at(finish).ok(&args);
        }
    }
    env.at("2025-01-22T09:00:00Z");
    env
}

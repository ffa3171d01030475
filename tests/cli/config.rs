//! Configuration layers, malformed configuration, templates and record_path.

use crate::env::TestEnv;

fn first_phase(env: &TestEnv, vars: &[(&str, &str)], service: &str) -> String {
    let mut cmd = env.cmd();
    cmd.args(["start", "--service", service, "--env", "staging"]);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    crate::env::succeeds(&mut cmd);
    let id = format!("DEP-2025-01-15-14-30-{service}-staging");
    let v: serde_json::Value =
        serde_json::from_str(&env.ok(&["show", &id, "--json"])).expect("json");
    v["phases"][0]["name"].as_str().expect("phase").to_string()
}

#[test]
fn precedence_user_then_repo_then_variables_then_flags() {
    let mut env = TestEnv::new();
    let user = env.home().join(".config/deploy-ledger/config.toml");
    std::fs::create_dir_all(user.parent().expect("parent")).expect("mkdir");
    std::fs::write(
        &user,
        "phases = [\"prepare\", \"ship\"]\nstale_after_hours = 1\n",
    )
    .expect("write");
    assert_eq!(
        first_phase(&env, &[], "a"),
        "prepare",
        "user config over built-in"
    );
    env.write("deployments/ledger.toml", "phases = [\"plan\", \"go\"]\n");
    assert_eq!(
        first_phase(&env, &[], "b"),
        "plan",
        "repo config over user config"
    );
    assert_eq!(
        first_phase(&env, &[("DEPLOY_LEDGER_PHASES", "alpha, beta")], "c"),
        "alpha",
        "DEPLOY_LEDGER_* over the files"
    );
    // The user's stale_after_hours still applies where the repo is silent.
    env.at("2025-01-15T16:00:00Z");
    assert!(env.ok(&["status"]).contains("STALE (>1h)"));
    // Flags over variables.
    crate::env::succeeds(
        env.cmd()
            .env("DEPLOY_LEDGER_COMMIT", "false")
            .env("DEPLOY_LEDGER_ENV", "staging")
            .args(["start", "--service", "d", "--env", "production", "--commit"]),
    );
    let log = env.git(&["log", "-1", "--format=%s"]);
    assert_eq!(
        log,
        "deploy(d): start DEP-2025-01-15-16-00-d-production [production]\n"
    );
}

#[test]
fn malformed_config_names_the_file_and_line() {
    let env = TestEnv::new();
    env.write(
        "deployments/ledger.toml",
        "commit = false\nphases = [\"plan\",\nstrategies = 3\n",
    );
    let err = env.fails(&["start", "--service", "api", "--env", "staging"], 1);
    assert!(err.contains("deployments/ledger.toml"), "{err}");
    assert!(err.contains("line 3"), "{err}");
    assert!(err.contains("hint: "), "{err}");
    assert!(env.records().is_empty(), "nothing written");

    env.write("deployments/ledger.toml", "phasez = [\"plan\"]\n");
    let err = env.fails(&["list"], 1);
    assert!(
        err.contains(
            "deployments/ledger.toml: invalid configuration: line 1: unknown field `phasez`"
        ),
        "{err}"
    );

    // A wrong type inside a table, with the table's other keys left out.
    env.write(
        "deployments/ledger.toml",
        "commit = false\n\n[capture]\ntimeout_ms = \"fast\"\n",
    );
    let err = env.fails(&["status"], 1);
    assert!(
        err.contains(
            "deployments/ledger.toml: invalid configuration: line 4: invalid type: string \"fast\""
        ),
        "{err}"
    );

    // A broken user config is named too.
    std::fs::remove_file(env.path("deployments/ledger.toml")).expect("rm");
    let user = env.home().join(".config/deploy-ledger/config.toml");
    std::fs::create_dir_all(user.parent().expect("parent")).expect("mkdir");
    std::fs::write(&user, "stale_after_hours = \"soon\"\n").expect("write");
    let err = env.fails(&["status"], 1);
    assert!(err.contains(".config/deploy-ledger/config.toml"), "{err}");
    assert!(
        err.contains("line 1: invalid type: string \"soon\""),
        "{err}"
    );

    std::fs::remove_file(&user).expect("rm");
    let out = env
        .cmd()
        .env("DEPLOY_LEDGER_COMMIT", "maybe")
        .arg("status")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("DEPLOY_LEDGER_COMMIT=`maybe`"));
}

#[test]
fn template_override_is_used_and_regions_are_updated() {
    let mut env = TestEnv::new();
    env.write(
        "deployments/templates/checklist.md.j2",
        "# {{ service }} to {{ environment }} (our template)\n\n{% for phase in phases %}- [ ] {{ phase.name }} signed off\n{% endfor %}\n<!-- deploy-ledger:timeline -->\n{{ timeline }}\n<!-- /deploy-ledger:timeline -->\n",
    );
    env.ok(&["start", "--service", "api", "--env", "staging"]);
    let text = env.only_record();
    assert!(text.contains("# api to staging (our template)\n"), "{text}");
    assert!(text.contains("- [ ] execution signed off\n"), "{text}");
    env.ok(&["check", "planning"]);
    env.at("2025-01-15T14:40:00Z").ok(&["finish"]);
    let text = env.only_record();
    assert!(text.contains("- [x] planning signed off\n"), "{text}");
    assert!(
        text.contains("✅ **success** at 2025-01-15 14:40:00Z after 10m 00s"),
        "{text}"
    );
    assert!(text.contains("checklist: { total: 3, done: 1 }"), "{text}");
}

#[test]
fn template_syntax_error_names_template_and_line() {
    let env = TestEnv::new();
    env.write(
        "deployments/templates/checklist.md.j2",
        "# {{ service }}\n\n{% for phase in %}\n{% endfor %}\n",
    );
    let err = env.fails(&["start", "--service", "api", "--env", "staging"], 1);
    assert!(
        err.contains("template deployments/templates/checklist.md.j2: syntax error at line 3"),
        "{err}"
    );
    assert!(err.contains("hint: "), "{err}");
    assert!(env.records().is_empty(), "nothing written");
    assert!(
        !env.path(".git/deploy-ledger/current").exists(),
        "no pointer to a record that does not exist"
    );
}

#[test]
fn record_path_template() {
    let env = TestEnv::new();
    env.write(
        "deployments/ledger.toml",
        "record_path = \"{service}/{environment}/{year}/{id}.md\"\n",
    );
    env.ok(&["start", "--service", "api", "--env", "staging"]);
    assert_eq!(
        env.records(),
        ["deployments/checklists/api/staging/2025/DEP-2025-01-15-14-30-api-staging.md"]
    );
    env.ok(&["finish"]);
    env.ok(&["validate"]);
    for bad in ["../{id}.md", "/abs/{id}.md", "{year}/x.md", "{id}.txt"] {
        env.write(
            "deployments/ledger.toml",
            &format!("record_path = \"{bad}\"\n"),
        );
        let err = env.fails(&["start", "--service", "web", "--env", "staging"], 1);
        assert!(err.contains("record_path"), "{bad}: {err}");
    }
    assert_eq!(env.records().len(), 1, "nothing written");
}

/// Starts and finishes a deployment of `service` with `record_path` set by
/// `ledger.toml`; returns the path `start --json` printed.
fn start_and_finish(env: &TestEnv, record_path: &str, service: &str) -> String {
    env.write(
        "deployments/ledger.toml",
        &format!("record_path = \"{record_path}\"\n"),
    );
    let started = env.json(&["start", "--service", service, "--env", "staging", "--json"]);
    env.ok(&["finish"]);
    started["path"].as_str().expect("path").to_string()
}

#[test]
fn record_path_must_name_the_file_after_the_id() {
    let env = TestEnv::new();
    // Folders are free, the file name is the id: every record validates.
    let mut written = Vec::new();
    for (pattern, service) in [
        ("{id}.md", "a"),
        ("{year}/{month}/{day}/{id}.md", "b"),
        ("{year}/{id}/{id}.md", "c"),
        ("{environment}/{service}/{id}.md", "d"),
    ] {
        written.push(start_and_finish(&env, pattern, service));
    }
    assert_eq!(
        written,
        [
            "deployments/checklists/DEP-2025-01-15-14-30-a-staging.md",
            "deployments/checklists/2025/01/15/DEP-2025-01-15-14-30-b-staging.md",
            "deployments/checklists/2025/DEP-2025-01-15-14-30-c-staging/DEP-2025-01-15-14-30-c-staging.md",
            "deployments/checklists/staging/d/DEP-2025-01-15-14-30-d-staging.md",
        ]
    );
    env.ok(&["validate"]);
    env.git(&["add", "-A"]);
    env.git(&["commit", "-q", "-m", "records"]);

    // Any other file name would write records `validate` (and the pre-push
    // hook) refuses: the configuration is refused, by every command.
    let hint = "hint: keep the file name `{id}.md` and put the rest in folders, e.g. `{year}/{month}/{id}.md` (the default)";
    for (pattern, file) in [
        ("{year}/{month}/{day}-{id}.md", "{day}-{id}.md"),
        ("{year}/{id}/record.md", "record.md"),
        ("{id}.checklist.md", "{id}.checklist.md"),
        (" {id}.md", " {id}.md"),
        ("{year}\\\\{id}.md", "{year}\\{id}.md"),
    ] {
        env.write(
            "deployments/ledger.toml",
            &format!("commit = false\nrecord_path = \"{pattern}\"\n"),
        );
        let before = env.snapshot();
        for args in [
            &["start", "--service", "e", "--env", "staging"][..],
            &["validate"],
            &["list"],
        ] {
            let err = one_error(&env.fails_quietly(args, 1));
            assert!(
                err.contains(&format!(
                    "deployments/ledger.toml: invalid configuration: line 2: `record_path = \"{}\"` names the file `{file}`: a record's file name is its id, `{{id}}.md`",
                    pattern.replace("\\\\", "\\")
                )),
                "{pattern} {args:?}: {err}"
            );
            assert!(err.contains(hint), "{pattern}: {err}");
        }
        assert_eq!(env.snapshot(), before, "{pattern}: nothing written");
    }

    // The same from the variable, named as such.
    env.write("deployments/ledger.toml", "");
    let before = env.snapshot();
    let out = env
        .cmd()
        .env("DEPLOY_LEDGER_RECORD_PATH", "{year}/{id}/record.md")
        .args(["start", "--service", "e", "--env", "staging"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = one_error(&String::from_utf8_lossy(&out.stderr));
    assert!(
        err.contains("error: DEPLOY_LEDGER_RECORD_PATH: `record_path = \"{year}/{id}/record.md\"` names the file `record.md`"),
        "{err}"
    );
    assert!(
        err.contains(&format!("{hint}; or unset DEPLOY_LEDGER_RECORD_PATH")),
        "{err}"
    );
    assert_eq!(env.snapshot(), before, "nothing written");
}

#[test]
fn record_path_with_a_dot_or_an_empty_folder_is_refused() {
    let env = TestEnv::new();
    for (pattern, clean) in [
        ("./{id}.md", "{id}.md"),
        ("{service}//{id}.md", "{service}/{id}.md"),
        ("{year}/./{month}/{id}.md", "{year}/{month}/{id}.md"),
        ("./{year}//{id}.md", "{year}/{id}.md"),
    ] {
        let want = format!(
            "`record_path = \"{pattern}\"` has an empty or `.` folder: the path a record is written to would not be the one `list` shows"
        );
        let hint = format!("hint: give each folder once, without `.` or `//`: `{clean}`");
        env.write(
            "deployments/ledger.toml",
            &format!("\nrecord_path = \"{pattern}\"\n"),
        );
        let before = env.snapshot();
        let err = one_error(&env.fails_quietly(
            &["start", "--service", "a", "--env", "staging", "--json"],
            1,
        ));
        assert!(
            err.contains(&format!(
                "deployments/ledger.toml: invalid configuration: line 2: {want}"
            )),
            "{pattern}: {err}"
        );
        assert!(err.contains(&hint), "{pattern}: {err}");
        assert_eq!(env.snapshot(), before, "{pattern}: nothing written");

        env.write("deployments/ledger.toml", "");
        let out = env
            .cmd()
            .env("DEPLOY_LEDGER_RECORD_PATH", pattern)
            .args(["start", "--service", "a", "--env", "staging", "--json"])
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(1), "{pattern}: {out:?}");
        assert!(out.stdout.is_empty(), "{pattern}: {out:?}");
        let err = one_error(&String::from_utf8_lossy(&out.stderr));
        assert!(
            err.contains(&format!("error: DEPLOY_LEDGER_RECORD_PATH: {want}")),
            "{pattern}: {err}"
        );
        assert!(
            err.contains(&format!("{hint}; or unset DEPLOY_LEDGER_RECORD_PATH")),
            "{pattern}: {err}"
        );
        assert_eq!(env.snapshot(), before, "{pattern}: nothing written");
    }
    // The clean pattern: `start` and `list` print one path.
    let path = start_and_finish(&env, "{service}/{id}.md", "b");
    assert_eq!(
        path,
        "deployments/checklists/b/DEP-2025-01-15-14-30-b-staging.md"
    );
    let listed = env.ok(&["list", "--json"]);
    let listed: serde_json::Value = serde_json::from_str(&listed).expect("json");
    assert_eq!(listed[0]["path"], path.as_str(), "{listed}");
}

#[test]
fn environments_and_strategies_from_config() {
    let env = TestEnv::new();
    let out = env.run(&["start", "--service", "api", "--env", "qa"]);
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("warning: environment `qa` is not in the configuration (development, production, staging)"),
        "{out:?}"
    );
    env.ok(&["finish"]);
    env.write(
        "deployments/ledger.toml",
        "strict_environments = true\nstrategies = [\"rolling\", \"shadow\"]\n[environments.qa]\n",
    );
    env.ok(&[
        "start",
        "--service",
        "api",
        "--env",
        "qa",
        "--strategy",
        "shadow",
    ]);
    env.ok(&["finish"]);
    let err = env.fails(&["start", "--service", "api", "--env", "uat"], 1);
    assert!(
        err.contains("environment `uat` is not in the configuration"),
        "{err}"
    );
    let err = env.fails(
        &[
            "start",
            "--service",
            "api",
            "--env",
            "qa",
            "--strategy",
            "canary",
        ],
        1,
    );
    assert!(err.contains("unknown strategy `canary`"), "{err}");
    assert!(err.contains("rolling, shadow"), "{err}");
    assert_eq!(env.records().len(), 2, "nothing written by the refusals");
}

/// The `error:` lines of stderr, and that there is one error line and one hint.
fn one_error(err: &str) -> String {
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "one error line and one hint: {err}");
    assert!(
        lines[0].starts_with("error: ") && lines[1].starts_with("hint: "),
        "{err}"
    );
    err.to_string()
}

#[test]
fn config_errors_are_one_line_with_the_file_line_and_a_hint_that_fits() {
    let env = TestEnv::new();
    // A TOML syntax error: the toml crate's message has several lines.
    env.write("deployments/ledger.toml", "[x\n");
    let err = one_error(&env.fails(&["status"], 1));
    assert!(
        err.contains("ledger.toml: invalid configuration: line 1: invalid table header; expected"),
        "{err}"
    );
    assert!(
        err.contains(
            "hint: fix the file, or move it away and run `deploy-ledger init` to write the default one"
        ),
        "{err}"
    );
    // Following the hint writes the default ledger.toml and leaves a
    // customised template as it is (`init --force` would rewrite it).
    let template = "deployments/templates/checklist.md.j2";
    env.write(template, "# ours\n");
    std::fs::rename(
        env.path("deployments/ledger.toml"),
        env.path("ledger.toml.broken"),
    )
    .expect("move away");
    env.ok(&["init"]);
    assert_eq!(env.read(template), "# ours\n");
    env.ok(&["status"]);
    env.write("deployments/ledger.toml", "[x\n");

    for (text, line, want) in [
        (
            "commit = false\nphases = [\"Bad Phase\"]\n",
            2,
            "phase `Bad Phase` is not a slug",
        ),
        ("\nphases = []\n", 2, "`phases` is empty"),
        (
            "commit = false\n\nrecord_path = \"../{id}.md\"\n",
            3,
            "`record_path = \"../{id}.md\"` must be relative",
        ),
        (
            "record_path = \"{team}/{id}.md\"\n",
            1,
            "`record_path = \"{team}/{id}.md\"` has `{team}`, which is not a placeholder ({year} {month} {day} {service} {environment} {id})",
        ),
        (
            "record_path = \"{year}/{id}-{x.md\"\n",
            1,
            "`record_path = \"{year}/{id}-{x.md\"` has `{x.md`, which is not a placeholder",
        ),
    ] {
        env.write("deployments/ledger.toml", text);
        let err = one_error(&env.fails(&["start", "--service", "api"], 1));
        assert!(
            err.contains(&format!(
                "deployments/ledger.toml: invalid configuration: line {line}: {want}"
            )),
            "{err}"
        );
        assert!(env.records().is_empty());
    }
    std::fs::remove_file(env.path("deployments/ledger.toml")).expect("rm");

    // The user config: init --force would not touch it.
    let user = env.home().join(".config/deploy-ledger/config.toml");
    std::fs::create_dir_all(user.parent().expect("parent")).expect("mkdir");
    std::fs::write(&user, "phases = [\n").expect("write");
    let err = one_error(&env.fails(&["status"], 1));
    assert!(
        err.contains("config.toml: invalid configuration: line 2: invalid array; expected"),
        "{err}"
    );
    assert!(
        err.contains(
            "hint: fix your user config (it applies to every repository), or move it away"
        ),
        "{err}"
    );
    assert!(!err.contains("init --force"), "{err}");
    std::fs::remove_file(&user).expect("rm");

    // mise.toml, for init --mise.
    env.write("mise.toml", "[tools\n");
    let err = one_error(&env.fails(&["init", "--mise"], 1));
    assert!(
        err.contains("mise.toml: invalid configuration: line 1: "),
        "{err}"
    );
    assert!(
        err.contains(
            "hint: fix the file (mise reads it too), then run `deploy-ledger init --mise` again"
        ),
        "{err}"
    );
    assert_eq!(env.read("mise.toml"), "[tools\n");

    // Variables are named as such.
    for (var, value, want) in [
        (
            "DEPLOY_LEDGER_PHASES",
            "A B",
            "error: DEPLOY_LEDGER_PHASES: phase `A B` is not a slug",
        ),
        (
            "DEPLOY_LEDGER_STALE_AFTER_HOURS",
            "abc",
            "error: DEPLOY_LEDGER_STALE_AFTER_HOURS=`abc` is not a number of hours",
        ),
    ] {
        let out = env
            .cmd()
            .env(var, value)
            .arg("status")
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(1));
        let err = one_error(&String::from_utf8_lossy(&out.stderr));
        assert!(err.contains(want), "{err}");
    }
}

#[test]
fn a_name_with_a_newline_is_escaped_in_the_error() {
    let env = TestEnv::new();
    let err = one_error(&env.fails(&["start", "--service", "a\nb"], 1));
    assert!(
        err.contains("error: service `a\\nb` is not a slug"),
        "{err}"
    );
    let err = one_error(&env.fails(&["start", "--service", "api", "--env", "Prod"], 1));
    assert!(
        err.contains("hint: an environment name is lowercase"),
        "{err}"
    );
    assert!(err.contains("e.g. `staging`"), "{err}");
    assert!(env.records().is_empty());
}

/// Every command that loads the configuration, with arguments that would
/// write (or read) something if the configuration were accepted.
const LOADING_COMMANDS: &[&[&str]] = &[
    &["init"],
    &["start", "--service", "web", "--env", "staging"],
    &["phase", "execution"],
    &["check", "1"],
    &["finish"],
    &["rollback", "--service", "api", "--env", "production"],
    &[
        "record",
        "--service",
        "web",
        "--env",
        "staging",
        "--status",
        "success",
        "--started",
        "2025-01-12T10:00:00Z",
        "--finished",
        "2025-01-12T10:05:00Z",
    ],
    &["import", "past.csv"],
    &["list"],
    &["show", "--json"],
    &["status"],
    &["validate"],
    &["export", "--format", "json"],
    &["analytics"],
    &["visualize", "--format", "mermaid"],
];

#[test]
fn config_values_that_could_never_work_are_refused_by_every_command() {
    let mut env = TestEnv::new();
    env.ok(&["init"]);
    env.at("2025-01-10T10:00:00Z").ok(&[
        "record",
        "--service",
        "api",
        "--env",
        "production",
        "--status",
        "success",
        "--started",
        "2025-01-10T10:00:00Z",
        "--finished",
        "2025-01-10T10:05:00Z",
    ]);
    env.at("2025-01-15T14:30:00Z")
        .ok(&["start", "--service", "api", "--env", "staging"]);
    env.write(
        "past.csv",
        "service,environment,status,started_at,finished_at\nweb,production,success,2025-01-11T10:00:00Z,2025-01-11T10:05:00Z\n",
    );
    env.git(&["add", "-A"]);
    env.git(&["commit", "-q", "-m", "a ledger"]);
    let records: Vec<(String, String)> = env
        .records()
        .into_iter()
        .map(|r| {
            let text = env.read(&r);
            (r, text)
        })
        .collect();
    let pointer = env.read(".git/deploy-ledger/current");

    for (text, line, want, hint) in [
        (
            "[environments.\"Prod Env\"]\n",
            1,
            "`[environments.\"Prod Env\"]`: environment `Prod Env` is not a slug",
            "hint: an environment name is lowercase letters",
        ),
        (
            "commit = false\nphases = [\"plan\", \"go\", \"plan\"]\n",
            2,
            "`phases` lists `plan` twice",
            "hint: give each phase once",
        ),
        (
            "phases = [\"plan\", \"go\"]\n\n[checklist]\nplan = [\"Approved\"]\nship = [\"Shipped\"]\n",
            5,
            "`[checklist] ship`: `ship` is not one of the phases (plan, go)",
            "hint: name a phase of `phases`, or add `ship` to `phases`",
        ),
        (
            "[capture]\ntools = [\"git\"]\ntimeout_ms = 0\n",
            3,
            "`[capture] timeout_ms = 0`: every tool would time out",
            "hint: give the milliseconds a tool may take, e.g. `timeout_ms = 2000`",
        ),
        (
            "[capture]\ntools = [\"git\"]\ntimeout_ms = 3600000\n",
            3,
            "`[capture] timeout_ms = 3600000`: a tool that hangs would hold the deployment up that long (at most 60000 ms, one minute)",
            "hint: give the milliseconds a tool may take",
        ),
        (
            "[checklist]\nplanning = [\"Change approved\", \"  \"]\n",
            2,
            "`[checklist] planning` item 2 is empty: the record would get a box with nothing to tick",
            "hint: give each checklist item its text, or leave the item out",
        ),
        (
            "[services.\"Web App\"]\npaths = [\"web\"]\n",
            1,
            "`[services.\"Web App\"]`: service `Web App` is not a slug",
            "hint: a service name is lowercase letters",
        ),
        (
            "[checklist]\nplanning = [\"Change approved\",\n  \"Release\\nnotes written\"]\n",
            3,
            "`[checklist] planning` item 2 (`Release\\nnotes written`) contains a line break or another control character",
            "hint: give each checklist item on one line",
        ),
        (
            "[services.api]\npaths = [\n  \"services/api/**\",\n  \"services/*/src\",\n]\n",
            4,
            "`[services.api] paths` item 2 (`services/*/src`) is a glob",
            "hint: give the folder from the repository's root, e.g. `services/api` (`services/api/**`, `./services/api` and `/services/api` mean the same)",
        ),
        (
            "[services.api]\npaths = [\"../api\"]\n",
            2,
            "`[services.api] paths` item 1 (`../api`) contains `..`",
            "hint: give the folder from the repository's root",
        ),
        (
            "[services.web]\ndepends_on = [\"api\"]\npaths = [\"./\"]\n",
            3,
            "`[services.web] paths` item 1 (`./`) names no folder",
            "hint: give a folder, e.g. `services/api`, or leave `paths` out",
        ),
    ] {
        env.write("deployments/ledger.toml", text);
        env.git(&["commit", "-q", "-am", "a bad ledger.toml"]);
        for args in LOADING_COMMANDS {
            let err = one_error(&env.fails(args, 1));
            assert!(
                err.contains(&format!(
                    "deployments/ledger.toml: invalid configuration: line {line}: {want}"
                )),
                "{args:?}: {err}"
            );
            assert!(err.contains(hint), "{args:?}: {err}");
            assert_eq!(
                env.git(&["status", "--porcelain", "--untracked-files=all"]),
                "",
                "{args:?} wrote nothing"
            );
            for (path, before) in &records {
                assert_eq!(&env.read(path), before, "{args:?} left {path} as it was");
            }
            assert_eq!(env.read(".git/deploy-ledger/current"), pointer);
        }
    }

    // A variable is named as such.
    env.write("deployments/ledger.toml", "");
    env.git(&["commit", "-q", "-am", "an empty ledger.toml"]);
    let out = env
        .cmd()
        .env("DEPLOY_LEDGER_PHASES", "plan,go,plan")
        .args(["start", "--service", "web", "--env", "staging"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let err = one_error(&String::from_utf8_lossy(&out.stderr));
    assert!(
        err.contains("error: DEPLOY_LEDGER_PHASES: `phases` lists `plan` twice"),
        "{err}"
    );
    assert_eq!(env.records().len(), records.len(), "nothing written");
}

#[test]
fn config_values_that_work_are_accepted() {
    let mut env = TestEnv::new();
    // The user's checklist names the user's phases; a repository with
    // other phases leaves those items unused, not an error.
    let user = env.home().join(".config/deploy-ledger/config.toml");
    std::fs::create_dir_all(user.parent().expect("parent")).expect("mkdir");
    std::fs::write(
        &user,
        "phases = [\"prepare\", \"ship\"]\n[checklist]\nprepare = [\"Prepared\"]\n",
    )
    .expect("write");
    env.write(
        "deployments/ledger.toml",
        "phases = [\"plan\", \"go-live\"]\nstrict_environments = true\n\n[environments.prod-eu]\n\n[capture]\ntimeout_ms = 1\n\n[checklist]\nplan = [\"Plan reviewed; risk = low\"]\ngo-live = [\"Traffic shifted\", 'Dashboards \"green\"']\n",
    );
    env.ok(&["start", "--service", "api", "--env", "prod-eu"]);
    let text = env.only_record();
    assert!(text.contains("- [ ] Plan reviewed; risk = low\n"), "{text}");
    assert!(text.contains("- [ ] Dashboards \"green\"\n"), "{text}");
    assert!(!text.contains("Prepared"), "{text}");
    env.at("2025-01-15T14:40:00Z").ok(&["phase", "go-live"]);
    env.at("2025-01-15T14:50:00Z").ok(&["finish"]);
    env.ok(&["validate"]);
}

/// The built-in environments are a default list, not entries merged into the
/// files': with `[environments.prod]` and `[environments.qa]` only, and
/// `strict_environments`, `staging` is refused by every command that takes
/// an environment, and nothing is written.
#[test]
fn strict_environments_are_the_ones_the_files_name() {
    let env = TestEnv::new();
    env.write(
        "deployments/ledger.toml",
        "strict_environments = true\n[environments.prod]\n[environments.qa]\n",
    );
    let before = env.snapshot();
    let err = env.fails_quietly(&["start", "--service", "api", "--env", "staging"], 1);
    one_error(&err);
    assert!(
        err.starts_with("error: environment `staging` is not in the configuration (prod, qa)\n"),
        "{err}"
    );
    assert!(
        err.contains("hint: strict_environments is set: use one of the configured environments (prod, qa), or add `[environments.staging]` to deployments/ledger.toml"),
        "{err}"
    );
    // Without --env, the fallback `development` is not configured either.
    let err = env.fails(&["start", "--service", "api"], 1);
    assert!(err.contains("environment `development` is not in"), "{err}");
    let err = env.fails(
        &[
            "record",
            "--service",
            "api",
            "--env",
            "production",
            "--started",
            "2025-01-15T14:00:00Z",
            "--finished",
            "2025-01-15T14:10:00Z",
            "--status",
            "success",
        ],
        1,
    );
    assert!(err.contains("environment `production` is not in"), "{err}");
    env.write(
        "past.csv",
        "service,environment,status,started_at,finished_at\n\
         api,staging,success,2025-01-14T10:00:00Z,2025-01-14T10:05:00Z\n",
    );
    let out = env.run(&["import", "past.csv"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("past.csv:2: environment `staging` is not in the configuration (prod, qa)"),
        "{err}"
    );
    assert!(
        err.contains("could not be imported") && err.contains("hint: "),
        "{err}"
    );
    std::fs::remove_file(env.path("past.csv")).expect("rm");
    let err = env.fails(&["analytics", "--env", "staging"], 1);
    assert!(
        err.contains("--env `staging` is not in the configuration (prod, qa)"),
        "{err}"
    );
    assert_eq!(env.snapshot(), before, "nothing written by the refusals");
    env.ok(&["start", "--service", "api", "--env", "qa"]);

    // The user config's environments join the repository's; without strict
    // an environment outside them is a warning naming them.
    let user = env.home().join(".config/deploy-ledger/config.toml");
    std::fs::create_dir_all(user.parent().expect("parent")).expect("mkdir");
    std::fs::write(&user, "[environments.dev]\n").expect("user config");
    env.ok(&["start", "--service", "web", "--env", "dev"]);
    env.write("deployments/ledger.toml", "[environments.prod]\n");
    let out = env.run(&["start", "--service", "db", "--env", "staging"]);
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("warning: environment `staging` is not in the configuration (dev, prod)"),
        "{out:?}"
    );
    // No file names an environment: the built-in ones stay.
    std::fs::remove_file(&user).expect("rm");
    env.write("deployments/ledger.toml", "strict_environments = true\n");
    env.ok(&["start", "--service", "api", "--env", "production"]);
}

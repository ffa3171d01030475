//! Auto-capture (SPEC §4): git state, CI providers, operator, environment
//! and tool versions.

use crate::env::TestEnv;
use serde_json::Value;

/// Starts a deployment with extra variables; returns the record's fields.
fn start_with(env: &TestEnv, vars: &[(&str, &str)], args: &[&str]) -> Value {
    let mut cmd = env.cmd();
    cmd.arg("start").args(args);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("runs");
    assert!(
        out.status.success(),
        "start failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .nth(1)
        .expect("started ID (path)")
        .to_string();
    serde_json::from_str(&env.ok(&["show", &id, "--json"])).expect("json")
}

#[test]
fn head_branch_tag_dirty_and_remote() {
    let env = TestEnv::new();
    let head = env.git(&["rev-parse", "HEAD"]).trim().to_string();
    env.git(&["tag", "-a", "v1.2.0", "-m", "release"]);
    env.git(&[
        "remote",
        "add",
        "origin",
        "https://deployer:ghp_secret123@github.com/org/repo.git",
    ]);
    let r = start_with(&env, &[], &["--service", "api", "--env", "staging"]);
    assert_eq!(r["git"]["commit"], head.as_str());
    assert_eq!(r["git"]["branch"], "main");
    assert_eq!(r["git"]["tag"], "v1.2.0");
    assert_eq!(r["git"]["dirty"], false);
    assert_eq!(r["git"]["remote"], "https://github.com/org/repo.git");
    let text = env.only_record();
    assert!(
        !text.contains("ghp_secret123") && !text.contains("deployer"),
        "{text}"
    );

    // A change to tracked code is dirty; the ledger's own files are not.
    env.ok(&["finish"]);
    env.write("README.md", "changed\n");
    let r = start_with(&env, &[], &["--service", "web", "--env", "staging"]);
    assert_eq!(r["git"]["dirty"], true);
}

#[test]
fn detached_head_records_the_commit_without_a_branch() {
    let env = TestEnv::new();
    let head = env.git(&["rev-parse", "HEAD"]).trim().to_string();
    env.git(&["checkout", "-q", "--detach"]);
    let r = start_with(&env, &[], &["--service", "api", "--env", "staging"]);
    assert_eq!(r["git"]["commit"], head.as_str());
    assert!(r["git"]["branch"].is_null(), "{r}");
    // CI often detaches HEAD: its branch variable fills in.
    env.ok(&["finish"]);
    let r = start_with(
        &env,
        &[("GITHUB_ACTIONS", "true"), ("GITHUB_REF_NAME", "release/7")],
        &["--service", "web", "--env", "staging"],
    );
    assert_eq!(r["git"]["branch"], "release/7");
}

#[test]
fn a_repository_without_commits_records_what_is_known() {
    let env = TestEnv::empty();
    let r = start_with(&env, &[], &["--service", "api", "--env", "staging"]);
    assert!(r["git"]["commit"].is_null(), "{r}");
    assert_eq!(r["git"]["branch"], "main");
    assert_eq!(r["status"], "in-progress");
    env.ok(&["finish"]);
    env.ok(&["validate"]);
}

/// A provider's variables, then the provider, run id, run URL and actor.
type CiCase<'a> = (
    &'a [(&'a str, &'a str)],
    &'a str,
    &'a str,
    Option<&'a str>,
    &'a str,
);

/// Each provider's documented variables → provider, run, URL and actor.
#[test]
fn each_ci_provider() {
    let cases: &[CiCase] = &[
        (
            &[
                ("GITHUB_ACTIONS", "true"),
                ("GITHUB_RUN_ID", "9001"),
                ("GITHUB_SERVER_URL", "https://github.com"),
                ("GITHUB_REPOSITORY", "org/repo"),
                ("GITHUB_ACTOR", "octocat"),
                ("GITHUB_WORKFLOW", "deploy"),
            ],
            "github-actions",
            "9001",
            Some("https://github.com/org/repo/actions/runs/9001"),
            "octocat",
        ),
        (
            &[
                ("GITLAB_CI", "true"),
                ("CI_PIPELINE_ID", "77"),
                (
                    "CI_PIPELINE_URL",
                    "https://gitlab.com/org/repo/-/pipelines/77",
                ),
                ("GITLAB_USER_LOGIN", "tanuki"),
            ],
            "gitlab-ci",
            "77",
            Some("https://gitlab.com/org/repo/-/pipelines/77"),
            "tanuki",
        ),
        (
            &[
                ("JENKINS_URL", "https://jenkins.example/"),
                ("BUILD_NUMBER", "12"),
                ("BUILD_URL", "https://jenkins.example/job/deploy/12/"),
                ("BUILD_USER_ID", "jenkins-user"),
            ],
            "jenkins",
            "12",
            Some("https://jenkins.example/job/deploy/12/"),
            "jenkins-user",
        ),
        (
            &[
                ("CIRCLECI", "true"),
                ("CIRCLE_BUILD_NUM", "345"),
                ("CIRCLE_BUILD_URL", "https://circleci.com/gh/org/repo/345"),
                ("CIRCLE_USERNAME", "circle-user"),
            ],
            "circleci",
            "345",
            Some("https://circleci.com/gh/org/repo/345"),
            "circle-user",
        ),
        (
            &[
                ("BUILDKITE", "true"),
                ("BUILDKITE_BUILD_NUMBER", "56"),
                (
                    "BUILDKITE_BUILD_URL",
                    "https://buildkite.com/org/p/builds/56",
                ),
                ("BUILDKITE_BUILD_CREATOR", "kite-user"),
            ],
            "buildkite",
            "56",
            Some("https://buildkite.com/org/p/builds/56"),
            "kite-user",
        ),
        (
            &[
                ("TF_BUILD", "True"),
                ("BUILD_BUILDID", "678"),
                ("SYSTEM_COLLECTIONURI", "https://dev.azure.com/org/"),
                ("SYSTEM_TEAMPROJECT", "proj"),
                ("BUILD_REQUESTEDFOR", "azure-user"),
            ],
            "azure-pipelines",
            "678",
            Some("https://dev.azure.com/org/proj/_build/results?buildId=678"),
            "azure-user",
        ),
    ];
    for (vars, provider, run_id, run_url, actor) in cases {
        let env = TestEnv::new();
        let r = start_with(&env, vars, &["--service", "api", "--env", "staging"]);
        assert_eq!(r["ci"]["provider"], *provider, "{r}");
        assert_eq!(r["ci"]["run_id"], *run_id, "{provider}");
        assert_eq!(r["ci"]["run_url"].as_str(), *run_url, "{provider}");
        assert_eq!(r["operator"], *actor, "{provider}: the CI actor operates");
        // The run is linked from the body.
        assert!(
            env.only_record()
                .contains(&format!("| **CI** | [{provider} {run_id}]")),
            "{provider}"
        );
    }
    // No CI variables: no ci block at all.
    let env = TestEnv::new();
    let r = start_with(&env, &[], &["--service", "api", "--env", "staging"]);
    assert!(r["ci"].as_object().is_none_or(|m| m.is_empty()), "{r}");
    assert!(!env.only_record().contains("\nci:"));
}

#[test]
fn operator_precedence() {
    let env = TestEnv::new();
    let gh = [("GITHUB_ACTIONS", "true"), ("GITHUB_ACTOR", "octocat")];
    let mut n = 0;
    let mut next = |env: &TestEnv, vars: &[(&str, &str)], extra: &[&str]| {
        n += 1;
        let service = format!("svc{n}");
        let mut args = vec!["--service", service.as_str(), "--env", "staging"];
        args.extend_from_slice(extra);
        start_with(env, vars, &args)["operator"].clone()
    };
    assert_eq!(
        next(&env, &gh, &["--operator", "alice"]),
        "alice",
        "flag first"
    );
    assert_eq!(next(&env, &gh, &[]), "octocat", "then the CI actor");
    assert_eq!(next(&env, &[], &[]), "Test User", "then git user.name");
    // No user.name anywhere: the login name.
    let empty = env.dir.path().join("empty-gitconfig");
    std::fs::write(&empty, "").expect("write");
    let empty = empty.to_string_lossy().into_owned();
    assert_eq!(
        next(&env, &[("GIT_CONFIG_GLOBAL", &empty)], &[]),
        "tester",
        "then $USER"
    );
    // DEPLOY_LEDGER_OPERATOR sits between the flag and capture.
    assert_eq!(
        next(&env, &[("DEPLOY_LEDGER_OPERATOR", "dana")], &[]),
        "dana"
    );
}

#[test]
fn environment_precedence() {
    let env = TestEnv::new();
    env.write(
        "deployments/ledger.toml",
        "[environments.production]\nbranches = [\"main\", \"release/*\"]\n",
    );
    let gitlab = [("GITLAB_CI", "true"), ("CI_ENVIRONMENT_NAME", "staging")];
    let env_of = |vars: &[(&str, &str)], args: &[&str], service: &str| {
        let mut all = vec!["--service", service];
        all.extend_from_slice(args);
        start_with(&env, vars, &all)["environment"].clone()
    };
    assert_eq!(
        env_of(&gitlab, &["--env", "development"], "a"),
        "development",
        "flag first"
    );
    assert_eq!(env_of(&gitlab, &[], "b"), "staging", "then CI");
    assert_eq!(
        env_of(&[], &[], "c"),
        "production",
        "then the branch rules (main)"
    );
    env.git(&["checkout", "-q", "-b", "release/2.0"]);
    assert_eq!(env_of(&[], &[], "d"), "production", "release/* matches");
    env.git(&["checkout", "-q", "-b", "feature/x"]);
    assert_eq!(env_of(&[], &[], "e"), "development", "else development");
}

/// Puts executable scripts `(name, text)` in a folder of their own, names
/// them in `[capture] tools` with `timeout_ms`, and runs `start` with that
/// folder first on PATH; returns the output and how long it took.
#[cfg(unix)]
fn start_with_tools(
    env: &TestEnv,
    scripts: &[(&str, String)],
    tools: &[&str],
    timeout_ms: u64,
) -> (std::process::Output, std::time::Duration) {
    use std::os::unix::fs::PermissionsExt;
    let bin = env.dir.path().join("bin");
    std::fs::create_dir_all(&bin).expect("mkdir");
    for (name, script) in scripts {
        let p = bin.join(name);
        std::fs::write(&p, script).expect("write");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let names: Vec<String> = tools.iter().map(|t| format!("\"{t}\"")).collect();
    env.write(
        "deployments/ledger.toml",
        &format!(
            "[capture]\ntools = [{}]\ntimeout_ms = {timeout_ms}\n",
            names.join(", ")
        ),
    );
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let started = std::time::Instant::now();
    let out = env
        .cmd()
        .env("PATH", &path)
        .args(["start", "--service", "api", "--env", "staging"])
        .output()
        .expect("runs");
    (out, started.elapsed())
}

#[cfg(unix)]
#[test]
fn tool_versions_with_a_hanging_and_a_missing_tool() {
    let env = TestEnv::new();
    let (out, took) = start_with_tools(
        &env,
        &[
            (
                "faketool",
                "#!/bin/sh\necho \"faketool version v3.4.5 (linux)\"\n".into(),
            ),
            ("hangtool", "#!/bin/sh\nexec sleep 30\n".into()),
        ],
        &["faketool", "hangtool", "no-such-tool"],
        300,
    );
    assert!(out.status.success());
    assert!(
        took < std::time::Duration::from_secs(5),
        "start waited {took:?} for a hanging tool"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("warning: tool `hangtool` left out: no answer within 300 ms"),
        "{err}"
    );
    assert!(
        err.contains("warning: tool `no-such-tool` left out: not found on PATH"),
        "{err}"
    );
    let text = env.only_record();
    assert!(text.contains("tools: { faketool: 3.4.5 }\n"), "{text}");
    assert!(text.contains("🛠 faketool 3.4.5"), "badge: {text}");
}

#[cfg(unix)]
#[test]
fn a_timed_out_tool_is_killed_with_its_children() {
    let env = TestEnv::new();
    let late = env.dir.path().join("late");
    // A wrapper script whose own child outlives it unless the group is killed.
    let script = format!(
        "#!/bin/sh\n( sleep 3; echo late > '{}' ) &\nwait\n",
        late.display()
    );
    let (out, took) = start_with_tools(&env, &[("wraptool", script)], &["wraptool"], 200);
    assert!(out.status.success(), "{out:?}");
    assert!(
        took < std::time::Duration::from_secs(3),
        "start waited {took:?} for the tool"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("warning: tool `wraptool` left out: no answer within 200 ms"),
        "{out:?}"
    );
    std::thread::sleep(std::time::Duration::from_secs(4));
    assert!(
        !late.exists(),
        "the tool's child kept running after start returned"
    );
}

#[test]
fn only_the_variables_config_names_are_copied() {
    let env = TestEnv::new();
    env.write(
        "deployments/ledger.toml",
        "[capture]\nenv = [\"DEPLOY_REGION\", \"UNSET_ONE\"]\n",
    );
    start_with(
        &env,
        &[
            ("DEPLOY_REGION", "eu-west-1"),
            ("AWS_SECRET_ACCESS_KEY", "hunter2"),
        ],
        &["--service", "api", "--env", "staging"],
    );
    let text = env.only_record();
    assert!(
        text.contains("env: { DEPLOY_REGION: eu-west-1 }\n"),
        "{text}"
    );
    assert!(
        !text.contains("hunter2") && !text.contains("UNSET_ONE"),
        "{text}"
    );
}

#[test]
fn operator_follows_git_config_global_then_the_os_account() {
    let env = TestEnv::new();
    // ~/.gitconfig says one name; GIT_CONFIG_GLOBAL, as git reads it, wins.
    std::fs::write(
        env.home().join(".gitconfig"),
        "[user]\n\tname = Home File\n",
    )
    .expect("write");
    let operator = |vars: &[(&str, &str)], service: &str| {
        let mut cmd = env.cmd();
        cmd.env_remove("USER").env_remove("LOGNAME");
        for (k, v) in vars {
            cmd.env(k, v);
        }
        crate::env::succeeds(cmd.args(["start", "--service", service]));
        let path = env
            .records()
            .into_iter()
            .find(|p| p.contains(&format!("-{service}-")))
            .expect("record");
        env.read(&path)
            .lines()
            .find_map(|l| l.strip_prefix("operator: ").map(str::to_string))
    };
    assert_eq!(operator(&[], "a").as_deref(), Some("Test User"));
    let git_says = |global: &str| {
        let out = std::process::Command::new("git")
            .args(["config", "user.name"])
            .current_dir(&env.repo)
            .env("HOME", env.home())
            .env("GIT_CONFIG_GLOBAL", global)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .expect("git");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    assert_eq!(git_says("/dev/null"), "", "git reads no ~/.gitconfig then");
    // No user.name anywhere git looks: the OS account name.
    let login = std::process::Command::new("id")
        .arg("-un")
        .output()
        .expect("id");
    let login = String::from_utf8_lossy(&login.stdout).trim().to_string();
    assert_eq!(
        operator(&[("GIT_CONFIG_GLOBAL", "/dev/null")], "b"),
        Some(login),
        "not the ~/.gitconfig that git ignores"
    );
}

#[cfg(unix)]
#[test]
fn a_tool_that_leaves_a_child_behind_keeps_its_version_and_loses_the_child() {
    let env = TestEnv::new();
    let late = env.dir.path().join("late");
    // Prints its version, then leaves a background child holding the pipe.
    let script = format!(
        "#!/bin/sh\necho \"forky 1.0.0\"\n( sleep 3; echo late > '{}' ) &\n",
        late.display()
    );
    let (out, took) = start_with_tools(&env, &[("forky", script)], &["forky"], 2000);
    assert!(out.status.success(), "{out:?}");
    assert!(
        took < std::time::Duration::from_secs(2),
        "start waited {took:?} for the child"
    );
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("forky"),
        "{out:?}"
    );
    assert!(env.only_record().contains("tools: { forky: 1.0.0 }"));
    std::thread::sleep(std::time::Duration::from_secs(4));
    assert!(!late.exists(), "the tool's child kept running");
}

/// A CI environment name is lowercased, as `import` does with GitHub's
/// (GitLab's `Production` is `production`); one that is still not a slug
/// fails naming the variable it came from, with a hint to pass --env, and
/// writes nothing.
#[test]
fn a_ci_environment_name_is_lowercased_or_named_in_the_error() {
    let env = TestEnv::new();
    let gitlab = |name| [("GITLAB_CI", "true"), ("CI_ENVIRONMENT_NAME", name)];
    let r = start_with(&env, &gitlab("Production"), &["--service", "api"]);
    assert_eq!(r["environment"], "production");
    assert!(r["id"]
        .as_str()
        .is_some_and(|id| id.ends_with("-api-production")));
    let azure = [("TF_BUILD", "True"), ("ENVIRONMENT_NAME", "QA")];
    assert_eq!(
        start_with(&env, &azure, &["--service", "web"])["environment"],
        "qa"
    );

    let before = env.snapshot();
    for args in [
        &["start", "--service", "db"][..],
        &["start", "--service", "db", "--json"],
    ] {
        let mut cmd = env.cmd();
        cmd.args(args).envs(gitlab("Prod Env"));
        let out = cmd.output().expect("runs");
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        assert!(out.stdout.is_empty(), "{out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            err,
            "error: environment `Prod Env` is not a slug (from the CI variable CI_ENVIRONMENT_NAME, as no --env was given)\n\
             hint: pass --env NAME (or DEPLOY_LEDGER_ENV) to name the environment, e.g. --env production\n"
        );
    }
    assert_eq!(env.snapshot(), before, "nothing written");
    // A flag wins over CI, whatever CI says.
    let r = start_with(
        &env,
        &gitlab("Prod Env"),
        &["--service", "db", "--env", "staging"],
    );
    assert_eq!(r["environment"], "staging");
}

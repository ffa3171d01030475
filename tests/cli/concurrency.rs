//! Commands that write a record take this clone's lock: run at once, they are
//! applied one after the other, and a lock held too long is a refusal.

use crate::env::TestEnv;

fn ticked(text: &str) -> usize {
    text.matches("- [x] ").count()
}

#[test]
fn concurrent_checks_all_apply() {
    let env = TestEnv::new();
    env.ok(&["start", "--service", "api", "--env", "staging"]);
    let children = (1..=8)
        .map(|n| env.spawn(&["check", &n.to_string()]))
        .collect();
    crate::env::all_succeed(children);
    assert_eq!(ticked(&env.only_record()), 8, "{}", env.only_record());
    assert!(!env.path(".git/deploy-ledger/lock").exists(), "released");
}

#[test]
fn concurrent_phase_and_checks_all_apply() {
    let mut env = TestEnv::new();
    env.ok(&["start", "--service", "api", "--env", "staging"]);
    env.at("2025-01-15T14:40:00Z");
    crate::env::all_succeed(vec![
        env.spawn(&["phase", "execution"]),
        env.spawn(&["check", "1"]),
        env.spawn(&["check", "2"]),
        env.spawn(&["check", "3"]),
    ]);
    let text = env.only_record();
    assert_eq!(ticked(&text), 3, "{text}");
    assert!(
        text.contains("{ name: execution, started_at: 2025-01-15T14:40:00Z }"),
        "{text}"
    );
}

#[test]
fn a_held_lock_is_waited_for_then_refused() {
    let env = TestEnv::new();
    env.ok(&["start", "--service", "api", "--env", "staging"]);
    let before = env.only_record();
    let lock = env.path(".git/deploy-ledger/lock");
    let file = std::fs::File::create(&lock).expect("lock file");
    std::fs::write(&lock, "4242\n").expect("pid");
    file.lock().expect("locks");
    for args in [
        &["check", "1"][..],
        &["phase", "execution"],
        &["finish"],
        &["start", "--service", "web", "--env", "staging"],
    ] {
        let out = env
            .cmd()
            .env("DEPLOY_LEDGER_LOCK_TIMEOUT", "0.2")
            .args(args)
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(3), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("error: another deploy-ledger command (pid 4242) still holds")
                && err.contains("after 0.2 s"),
            "{err}"
        );
        assert!(
            err.contains("hint: run this again when it has ended"),
            "{err}"
        );
        assert_eq!(env.only_record(), before, "nothing written");
    }
    drop(file);
    env.ok(&["check", "1"]);
}

#[test]
fn a_lock_file_left_by_a_crash_does_not_block() {
    let env = TestEnv::new();
    env.ok(&["start", "--service", "api", "--env", "staging"]);
    std::fs::write(env.path(".git/deploy-ledger/lock"), "999999999\n").expect("lock");
    env.ok(&["check", "1"]);
    assert_eq!(ticked(&env.only_record()), 1);
}

#[test]
fn a_bad_lock_timeout_is_a_user_error() {
    let env = TestEnv::new();
    env.ok(&["start", "--service", "api", "--env", "staging"]);
    let out = env
        .cmd()
        .env("DEPLOY_LEDGER_LOCK_TIMEOUT", "soon")
        .args(["check", "1"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("error: DEPLOY_LEDGER_LOCK_TIMEOUT=`soon` is not a number of seconds"),
        "{err}"
    );
    assert!(
        err.contains("hint: e.g. DEPLOY_LEDGER_LOCK_TIMEOUT=30"),
        "{err}"
    );
    assert_eq!(ticked(&env.only_record()), 0);
}

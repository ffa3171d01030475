//! The scan cache under `.git/deploy-ledger/scan-cache` must never serve
//! stale data: `start`'s lock check sees every edit, deletion and pull.

use crate::env::TestEnv;
use std::path::Path;

const API_STAGING: &str = "deployments/checklists/2025/01/DEP-2025-01-15-14-30-api-staging.md";

/// Sets a file's modification time, as `touch -d` does.
fn set_mtime(path: &Path, when: &str) {
    let status = std::process::Command::new("touch")
        .args(["-d", when])
        .arg(path)
        .status()
        .expect("touch runs");
    assert!(status.success());
}

/// `status` scans every record (and writes the cache); from then on
/// `start` uses the cache too.
fn scan(env: &TestEnv) {
    env.ok(&["status"]);
    assert!(env.path(".git/deploy-ledger/scan-cache").is_file());
}

/// Replaces `from` by `to` (same length) in place, keeping the inode.
fn edit_in_place(env: &TestEnv, rel: &str, from: &str, to: &str) {
    assert_eq!(from.len(), to.len(), "same size");
    let text = env.read(rel);
    assert!(text.contains(from), "{text}");
    std::fs::write(env.path(rel), text.replacen(from, to, 1)).expect("write");
}

#[test]
fn a_record_edited_in_the_same_second_is_seen() {
    let env = TestEnv::new();
    env.ok(&["start", "--service", "api", "--env", "staging"]);
    env.ok(&["finish"]);
    scan(&env); // caches api-staging as success
                // Same size, same second as the cache: `pending` means in-progress.
    edit_in_place(&env, API_STAGING, "status: success", "status: pending");
    let err = env.fails(&["start", "--service", "api", "--env", "staging"], 3);
    assert!(
        err.contains("DEP-2025-01-15-14-30-api-staging is already in progress"),
        "{err}"
    );
}

#[test]
fn an_old_record_edited_keeping_size_and_mtime_is_seen() {
    let env = TestEnv::new();
    env.ok(&["start", "--service", "api", "--env", "staging"]);
    env.ok(&["finish"]);
    // Old enough that the cache trusts its size and modification time.
    set_mtime(&env.path(API_STAGING), "2020-01-01 00:00:00");
    scan(&env);
    scan(&env); // served from the cache
    edit_in_place(&env, API_STAGING, "status: success", "status: pending");
    set_mtime(&env.path(API_STAGING), "2020-01-01 00:00:00");
    let err = env.fails(&["start", "--service", "api", "--env", "staging"], 3);
    assert!(err.contains("already in progress"), "{err}");
}

#[test]
fn a_deleted_record_is_forgotten() {
    let env = TestEnv::new();
    env.ok(&["start", "--service", "api", "--env", "staging"]);
    set_mtime(&env.path(API_STAGING), "2020-01-01 00:00:00");
    scan(&env); // caches api-staging in progress
    std::fs::remove_file(env.path(API_STAGING)).expect("delete");
    // Not refused, and the id is free again (no `-2`).
    let out = env.ok(&["start", "--service", "api", "--env", "staging"]);
    assert!(out.contains("DEP-2025-01-15-14-30-api-staging "), "{out}");
    assert!(!out.contains("api-staging-2"), "{out}");
}

#[test]
fn a_record_renamed_or_moved_is_followed() {
    let env = TestEnv::new();
    env.ok(&["start", "--service", "api", "--env", "staging"]);
    set_mtime(&env.path(API_STAGING), "2020-01-01 00:00:00");
    scan(&env);
    let moved = "deployments/checklists/archive/api-staging.md";
    std::fs::create_dir_all(env.path("deployments/checklists/archive")).expect("mkdir");
    std::fs::rename(env.path(API_STAGING), env.path(moved)).expect("move");
    let err = env.fails(&["start", "--service", "api", "--env", "staging"], 3);
    assert!(err.contains("already in progress"), "{err}");
}

#[test]
fn records_pulled_from_another_clone_are_seen() {
    let env = TestEnv::new();
    let other = env.dir.path().join("other");
    env.git(&[
        "clone",
        "-q",
        env.repo.to_str().expect("utf-8"),
        other.to_str().expect("utf-8"),
    ]);
    let in_other = |args: &[&str]| {
        let out = env
            .cmd()
            .current_dir(&other)
            .args(args)
            .output()
            .expect("runs");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // The other clone builds its cache before the record exists (`status`
    // scans everything; a first `start` alone reads only its own records).
    assert_eq!(
        in_other(&["start", "--service", "web", "--env", "staging"]).0,
        Some(0)
    );
    assert_eq!(in_other(&["status"]).0, Some(0));
    assert!(other.join(".git/deploy-ledger/scan-cache").is_file());
    env.ok(&[
        "start",
        "--service",
        "api",
        "--env",
        "production",
        "--commit",
    ]);
    env.git(&[
        "-C",
        other.to_str().expect("utf-8"),
        "pull",
        "-q",
        "--no-rebase",
    ]);
    let (code, err) = in_other(&["start", "--service", "api", "--env", "production"]);
    assert_eq!(code, Some(3), "{err}");
    assert!(err.contains("already in progress"), "{err}");
    // The record finished upstream: pulled again, the lock is gone.
    env.ok(&["finish", "--commit"]);
    env.git(&[
        "-C",
        other.to_str().expect("utf-8"),
        "pull",
        "-q",
        "--no-rebase",
    ]);
    let (code, err) = in_other(&["start", "--service", "api", "--env", "production"]);
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn a_broken_or_foreign_cache_is_ignored() {
    let env = TestEnv::new();
    env.ok(&["start", "--service", "api", "--env", "staging"]);
    let cache = env.repo.join(".git/deploy-ledger/scan-cache");
    for junk in [
        "not a cache\n",
        "",
        "deploy-ledger scan-cache 1 0\nwhatever\tline\n",
        "\u{0}\u{1}binary",
    ] {
        std::fs::write(&cache, junk).expect("write cache");
        let err = env.fails(&["start", "--service", "api", "--env", "staging"], 3);
        assert!(err.contains("already in progress"), "{junk:?}: {err}");
    }
    std::fs::remove_file(&cache).expect("delete cache");
    let err = env.fails(&["start", "--service", "api", "--env", "staging"], 3);
    assert!(err.contains("already in progress"), "{err}");
}

#[test]
fn a_record_made_unreadable_then_fixed_is_read_again() {
    let env = TestEnv::new();
    env.ok(&["start", "--service", "api", "--env", "staging"]);
    let good = env.read(API_STAGING);
    env.write(API_STAGING, "---\nid: [broken\n---\n");
    set_mtime(&env.path(API_STAGING), "2020-01-01 00:00:00");
    // A broken record does not hold the lock.
    scan(&env);
    env.write(API_STAGING, &good);
    set_mtime(&env.path(API_STAGING), "2020-01-01 00:00:00");
    let err = env.fails(&["start", "--service", "api", "--env", "staging"], 3);
    assert!(err.contains("already in progress"), "{err}");
}

#[test]
fn a_cold_start_reads_only_its_service_and_environment() {
    let env = TestEnv::new();
    env.ok(&[
        "start",
        "--service",
        "api",
        "--env",
        "production",
        "--commit",
    ]);
    // A broken record of another service, committed: a cold start need not
    // read it (it would only be named by `validate`).
    env.write(
        "deployments/checklists/2025/01/DEP-2025-01-15-14-30-web-staging.md",
        "---\nid: [broken\n---\n",
    );
    env.git(&["add", "deployments"]);
    env.git(&["commit", "-q", "-m", "a broken record"]);
    let other = env.dir.path().join("fresh");
    env.git(&[
        "clone",
        "-q",
        env.repo.to_str().expect("utf-8"),
        other.to_str().expect("utf-8"),
    ]);
    let in_other = |args: &[&str]| {
        env.cmd()
            .current_dir(&other)
            .args(args)
            .output()
            .expect("runs")
    };
    // No cache in a fresh clone: the in-progress record is still found.
    let out = in_other(&["start", "--service", "api", "--env", "production"]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("DEP-2025-01-15-14-30-api-production is already in progress"));
    // Another service starts, next to the broken record, with the next free id.
    let out = in_other(&["start", "--service", "api", "--env", "staging"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !other.join(".git/deploy-ledger/scan-cache").exists(),
        "a cold start writes no partial cache"
    );
    // A second record of the same service and environment gets `-2`.
    let out = in_other(&[
        "start",
        "--service",
        "api",
        "--env",
        "production",
        "--force",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("DEP-2025-01-15-14-30-api-production-2"));
}

//! Which deployment `phase`, `check` and `finish` act on (SPEC §3): --id,
//! else --service/--env, else DEPLOY_LEDGER_ID, else this clone's pointer,
//! else the single in-progress record; ambiguous → exit 1 with candidates.

use crate::env::TestEnv;

const API: &str = "DEP-2025-01-15-14-30-api-staging";
const WEB: &str = "DEP-2025-01-15-14-30-web-staging";
const DB: &str = "DEP-2025-01-15-14-30-db-production";

fn open_phase(env: &TestEnv, id: &str) -> String {
    let v: serde_json::Value =
        serde_json::from_str(&env.ok(&["show", id, "--json"])).expect("json");
    let phases = v["phases"].as_array().expect("phases");
    phases.last().expect("a phase")["name"]
        .as_str()
        .expect("name")
        .to_string()
}

fn three_open() -> TestEnv {
    let env = TestEnv::new();
    env.ok(&["start", "--service", "api", "--env", "staging"]);
    env.ok(&["start", "--service", "db", "--env", "production"]);
    env.ok(&["start", "--service", "web", "--env", "staging"]);
    env
}

#[test]
fn the_order_of_resolution() {
    let env = three_open();
    // The pointer: the last `start` of this clone.
    env.ok(&["phase", "execution"]);
    assert_eq!(open_phase(&env, WEB), "execution");
    // DEPLOY_LEDGER_ID beats the pointer.
    crate::env::succeeds(
        env.cmd()
            .env("DEPLOY_LEDGER_ID", API)
            .args(["phase", "execution"]),
    );
    assert_eq!(open_phase(&env, API), "execution");
    // --service/--env beat DEPLOY_LEDGER_ID.
    let out = env
        .cmd()
        .env("DEPLOY_LEDGER_ID", API)
        .args(["phase", "execution", "--env", "production"])
        .output()
        .expect("runs");
    assert!(out.status.success());
    assert_eq!(open_phase(&env, DB), "execution");
    assert_eq!(open_phase(&env, API), "execution", "API untouched");
    // --id beats everything.
    let out = env
        .cmd()
        .env("DEPLOY_LEDGER_ID", WEB)
        .args(["phase", "validation", "--id", API, "--service", "web"])
        .output()
        .expect("runs");
    assert!(out.status.success());
    assert_eq!(open_phase(&env, API), "validation");
    assert_eq!(open_phase(&env, WEB), "execution");
}

#[test]
fn ambiguous_without_pointer_lists_the_candidates() {
    let env = three_open();
    std::fs::remove_file(env.path(".git/deploy-ledger/current")).expect("rm pointer");
    let before: Vec<String> = env.records().iter().map(|r| env.read(r)).collect();
    let err = env.fails(&["finish"], 1);
    assert!(
        err.contains("error: 3 deployments are in progress"),
        "{err}"
    );
    assert!(
        err.contains(&format!("hint: pass --id, one of: {API}, {DB}, {WEB}")),
        "{err}"
    );
    let err = env.fails(&["phase", "execution", "--env", "staging"], 1);
    assert!(err.contains("2 deployments match --service/--env"), "{err}");
    assert!(
        err.contains(API) && err.contains(WEB) && !err.contains(DB),
        "{err}"
    );
    let after: Vec<String> = env.records().iter().map(|r| env.read(r)).collect();
    assert_eq!(before, after, "nothing changed");
    // Once only one is in progress, it is the one.
    env.ok(&["finish", "--id", API]);
    env.ok(&["finish", "--id", WEB]);
    env.ok(&["check", "1"]);
    assert!(env
        .read(&format!("deployments/checklists/2025/01/{DB}.md"))
        .contains("- [x] Change approved"));
    let err = env.fails(&["phase", "execution", "--id", "DEP-nope"], 1);
    assert!(err.contains("no record with id `DEP-nope`"), "{err}");
    let err = env.fails(&["phase", "execution", "--service", "nope"], 1);
    assert!(
        err.contains("no deployment matching --service/--env"),
        "{err}"
    );
}

#[test]
fn a_pointer_to_an_ended_record_is_not_used() {
    const WEB_LATER: &str = "DEP-2025-01-15-14-31-web-staging";
    let web = format!("deployments/checklists/2025/01/{WEB_LATER}.md");
    let api = format!("deployments/checklists/2025/01/{API}.md");
    let pointer = ".git/deploy-ledger/current";
    let mut env = TestEnv::new();
    env.ok(&["start", "--service", "api", "--env", "staging"]);
    env.at("2025-01-15T14:31:00Z");
    env.ok(&["start", "--service", "web", "--env", "staging"]);
    assert!(env.read(pointer).contains(WEB_LATER));
    env.at("2025-01-15T14:35:00Z");
    env.ok(&["finish"]);
    // `finish` of the pointed record clears the pointer...
    assert!(!env.path(pointer).exists(), "the pointer is cleared");
    // ...and a pointer to an ended record (finished in another clone and
    // pulled, or by an older version) is passed over: the single record
    // in progress is the one.
    env.write(pointer, &format!("{web}\n"));
    let web_before = env.read(&web);
    env.at("2025-01-15T14:36:00Z");
    env.ok(&["phase", "execution"]);
    assert_eq!(open_phase(&env, API), "execution");
    env.ok(&["check", "1"]);
    assert!(env.read(&api).contains("- [x] Change approved"));
    assert_eq!(
        env.read(&web),
        web_before,
        "the finished record is untouched"
    );
    // Two in progress and a stale pointer: ambiguous, as without a pointer.
    env.ok(&["start", "--service", "db", "--env", "production"]);
    env.write(pointer, &format!("{web}\n"));
    let err = env.fails(&["phase", "validation"], 1);
    assert!(err.contains("2 deployments are in progress"), "{err}");
    // An explicit --id still reaches an ended record.
    env.ok(&["check", "2", "--id", WEB_LATER]);
    assert!(env.read(&web).contains("- [x] "));
    assert_eq!(open_phase(&env, API), "execution");
}

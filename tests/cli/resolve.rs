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

//! scripts/demo.sh, the README's first command, runs with only git and the
//! binary on PATH.

use crate::env::TestEnv;

#[test]
fn the_demo_script_runs() {
    let env = TestEnv::new();
    let bin = assert_cmd::cargo::cargo_bin("deploy-ledger");
    let bin_dir = bin.parent().expect("binary folder");
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/demo.sh");
    let tmp = env.dir.path().join("tmp");
    std::fs::create_dir_all(&tmp).expect("mkdir");
    let out = std::process::Command::new("sh")
        .arg(&script)
        .env_clear()
        .env("PATH", path)
        .env("HOME", env.home())
        .env("TMPDIR", &tmp)
        // No identity or settings of the user's: a fresh machine.
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("sh runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "demo failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("3 records checked, no problems")
            || String::from_utf8_lossy(&out.stderr).contains("3 records checked, no problems")
    );
    assert!(
        stdout.contains("DEP-2025-01-13-09-00-api-gateway-production"),
        "{stdout}"
    );
    assert!(stdout.contains("One record: "), "{stdout}");
    assert!(
        !stdout.contains('\u{1b}'),
        "no escape codes when not a terminal"
    );
}

//! `git.dirty` of `start`: tracked files outside `deployments/` that differ
//! from HEAD (in the index or the work tree); the ledger's own files and
//! untracked files do not count.

use crate::env::TestEnv;

/// Starts a deployment and returns the `git:` line of its record.
fn git_line(env: &TestEnv) -> String {
    let out = env.ok(&["start", "--service", "api", "--env", "staging", "--force"]);
    // `started ID (PATH)`
    let path = out
        .split_once('(')
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(path, _)| path)
        .unwrap_or_else(|| panic!("a path in {out}"));
    let text = env.read(path);
    text.lines()
        .find(|l| l.starts_with("git: "))
        .expect("a git line")
        .to_string()
}

fn fresh() -> TestEnv {
    let env = TestEnv::new();
    env.write("src/app/main.rs", "fn main() {}\n");
    env.write("deployments.txt", "not the ledger\n");
    env.write("deployments/ledger.toml", "commit = false\n");
    env.git(&["add", "."]);
    env.git(&["commit", "-q", "-m", "code"]);
    env
}

#[test]
fn clean_and_ledger_only_changes_are_not_dirty() {
    let env = fresh();
    assert!(git_line(&env).contains("dirty: false"), "clean tree");
    env.write("deployments/ledger.toml", "commit = false\n# edited\n");
    env.write("untracked.txt", "new\n");
    env.write("src/app/new.rs", "// untracked\n");
    assert!(
        git_line(&env).contains("dirty: false"),
        "ledger and untracked only"
    );
}

#[test]
fn a_modified_tracked_file_is_dirty() {
    let env = fresh();
    env.write("src/app/main.rs", "fn main() { println!(); }\n");
    assert!(git_line(&env).contains("dirty: true"));
}

#[test]
fn a_file_named_like_the_ledger_folder_counts() {
    let env = fresh();
    env.write("deployments.txt", "edited\n");
    assert!(git_line(&env).contains("dirty: true"));
}

#[test]
fn staged_deleted_and_new_staged_files_are_dirty() {
    let env = fresh();
    env.write("src/app/main.rs", "fn main() { staged(); }\n");
    env.git(&["add", "src/app/main.rs"]);
    env.write("src/app/main.rs", "fn main() {}\n");
    assert!(
        git_line(&env).contains("dirty: true"),
        "staged, work tree reverted"
    );
    env.git(&["reset", "-q", "--hard"]);

    std::fs::remove_file(env.path("README.md")).expect("delete");
    assert!(git_line(&env).contains("dirty: true"), "deleted");
    env.git(&["reset", "-q", "--hard"]);

    env.write("newdir/file.txt", "new\n");
    env.git(&["add", "newdir/file.txt"]);
    assert!(
        git_line(&env).contains("dirty: true"),
        "new staged top-level folder"
    );
    env.git(&["reset", "-q", "--hard"]);
    assert!(git_line(&env).contains("dirty: false"), "clean again");
}

#[test]
fn a_staged_ledger_file_is_not_dirty() {
    let env = fresh();
    env.write("deployments/notes.md", "x\n");
    env.git(&["add", "deployments/notes.md"]);
    assert!(git_line(&env).contains("dirty: false"));
}

/// The `tag:` of the record, if any.
fn tag_of(env: &TestEnv) -> Option<String> {
    let line = git_line(env);
    let (_, rest) = line.split_once("tag: ")?;
    Some(rest.split([',', ' ']).next()?.to_string())
}

#[test]
fn the_tag_on_head_is_recorded_lightweight_annotated_or_packed() {
    let env = fresh();
    assert_eq!(tag_of(&env), None);
    env.git(&["tag", "v1.0.0", "HEAD~1"]);
    assert_eq!(tag_of(&env), None, "a tag on another commit");
    env.git(&["tag", "v1.1.0"]);
    assert_eq!(tag_of(&env).as_deref(), Some("v1.1.0"), "lightweight");
    env.git(&["tag", "-a", "-m", "release", "v1.2.0"]);
    assert_eq!(tag_of(&env).as_deref(), Some("v1.2.0"), "annotated, loose");
    env.git(&["pack-refs", "--all"]);
    assert_eq!(tag_of(&env).as_deref(), Some("v1.2.0"), "annotated, packed");
    env.git(&["tag", "-d", "v1.2.0"]);
    assert_eq!(
        tag_of(&env).as_deref(),
        Some("v1.1.0"),
        "packed lightweight"
    );
    // A loose tag overrides a packed one of the same name, both ways.
    env.git(&["tag", "-f", "v1.1.0", "HEAD~1"]);
    assert_eq!(tag_of(&env), None, "moved away, loose over packed");
    env.git(&["tag", "v2.0.0", "HEAD~1"]);
    env.git(&["pack-refs", "--all"]);
    env.git(&["tag", "-f", "-a", "-m", "moved", "v2.0.0"]);
    assert_eq!(
        tag_of(&env).as_deref(),
        Some("v2.0.0"),
        "moved here, annotated"
    );
    // Packed-refs written without the peeled trait: objects are read.
    env.git(&["pack-refs", "--all"]);
    let packed = env.repo.join(".git/packed-refs");
    let text = std::fs::read_to_string(&packed).expect("packed-refs");
    let bare: String = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with('^'))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&packed, bare).expect("rewrite packed-refs");
    assert_eq!(tag_of(&env).as_deref(), Some("v2.0.0"), "no peeled lines");
}

#[test]
fn the_cached_answer_follows_head_the_index_and_the_files() {
    let env = fresh();
    // Files changed less than 2 s ago are never trusted from the cache.
    std::thread::sleep(std::time::Duration::from_millis(2100));
    assert!(git_line(&env).contains("dirty: false"));
    assert!(env.repo.join(".git/deploy-ledger/dirty-cache").is_file());
    assert!(git_line(&env).contains("dirty: false"), "from the cache");
    // The cache is what answered: a forged answer shows through.
    let cache = env.repo.join(".git/deploy-ledger/dirty-cache");
    let text = std::fs::read_to_string(&cache).expect("cache");
    std::fs::write(&cache, text.replace("\ndirty false\n", "\ndirty true\n")).expect("forge");
    assert!(
        git_line(&env).contains("dirty: true"),
        "forged cache answer"
    );
    std::fs::write(&cache, text).expect("restore");

    // HEAD moves, the index stays: the code commit's files are now staged.
    env.git(&["reset", "-q", "--soft", "HEAD~1"]);
    assert!(git_line(&env).contains("dirty: true"), "HEAD moved");
    env.git(&["reset", "-q", "--soft", "ORIG_HEAD"]);
    assert!(git_line(&env).contains("dirty: false"), "HEAD back");

    // An edit that keeps the size and the modification time.
    let main = env.path("src/app/main.rs");
    let before = std::fs::metadata(&main)
        .expect("stat")
        .modified()
        .expect("mtime");
    std::fs::write(&main, "fn main() {}\n".replace("main", "mian")).expect("write");
    std::fs::File::options()
        .write(true)
        .open(&main)
        .and_then(|f| f.set_modified(before))
        .expect("set mtime");
    assert!(
        git_line(&env).contains("dirty: true"),
        "same size and mtime"
    );
    env.git(&["checkout", "-q", "--", "src/app/main.rs"]);
    assert!(git_line(&env).contains("dirty: false"), "restored");

    // A staged change, work tree restored: only the index tells.
    env.write("src/app/main.rs", "fn main() { 1; }\n");
    env.git(&["add", "src/app/main.rs"]);
    env.write("src/app/main.rs", "fn main() {}\n");
    assert!(git_line(&env).contains("dirty: true"), "staged");
}

#[test]
fn a_linked_work_tree_has_its_own_answer() {
    let env = fresh();
    let wt = env.dir.path().join("linked");
    env.git(&[
        "worktree",
        "add",
        "-q",
        wt.to_str().expect("utf-8"),
        "-b",
        "other",
    ]);
    let start_in_linked = || {
        let out = crate::env::succeeds(env.cmd().current_dir(&wt).args([
            "start",
            "--service",
            "api",
            "--env",
            "staging",
            "--force",
        ]));
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let (_, rest) = stdout.split_once('(').expect("a path");
        let path = rest.split_once(')').expect("a path").0.to_string();
        std::fs::read_to_string(wt.join(path)).expect("record")
    };
    assert!(start_in_linked().contains("dirty: false"));
    std::fs::write(wt.join("src/app/main.rs"), "fn main() { linked(); }\n").expect("edit");
    assert!(
        start_in_linked().contains("dirty: true"),
        "edited in the linked tree"
    );
    assert!(
        git_line(&env).contains("dirty: false"),
        "the main tree is clean"
    );
}

#[test]
fn a_commit_of_a_record_carries_the_cached_answer_over() {
    let env = fresh();
    std::thread::sleep(std::time::Duration::from_millis(2100));
    assert!(git_line(&env).contains("dirty: false"));
    // Forge the cached answer to see which commands keep it.
    let cache = env.repo.join(".git/deploy-ledger/dirty-cache");
    let text = std::fs::read_to_string(&cache).expect("cache");
    std::fs::write(&cache, text.replace("\ndirty false\n", "\ndirty true\n")).expect("forge");
    env.ok(&["finish", "--commit"]);
    assert!(
        git_line(&env).contains("dirty: true"),
        "a record commit moved HEAD and the index, the answer was kept"
    );
    // A commit of code is not carried over: recomputed, and really clean.
    env.write("src/app/main.rs", "fn main() { v2(); }\n");
    env.git(&["commit", "-q", "-am", "code"]);
    assert!(git_line(&env).contains("dirty: false"));
}

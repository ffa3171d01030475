//! The only module that uses git2: a newtype over `git2::Repository`.

pub mod history;
mod packed;

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

mod dirty;

pub struct Repo {
    inner: git2::Repository,
    /// Opened as git would from the current folder and git's variables
    /// ([`Repo::from_env`]): a handle opened again is opened the same way.
    from_env: bool,
}

/// What `start` records of the checked-out commit.
#[derive(Debug, Clone, Default)]
pub struct HeadInfo {
    /// None in a repository with no commits yet.
    pub commit: Option<String>,
    /// None on a detached HEAD.
    pub branch: Option<String>,
    pub tag: Option<String>,
}

/// The repository git's variables and the current folder name. libgit2
/// leaves a bare repository bare whatever `GIT_WORK_TREE` says; git checks
/// files out there (`GIT_DIR=clone.git GIT_WORK_TREE=dir git checkout`),
/// and so that work tree is the one used here too.
fn open_from_env() -> std::result::Result<git2::Repository, git2::Error> {
    let repo = git2::Repository::open_from_env()?;
    if repo.is_bare() {
        if let Some(dir) = std::env::var_os("GIT_WORK_TREE").filter(|d| !d.is_empty()) {
            repo.set_workdir(Path::new(&dir), false)?;
        }
    }
    Ok(repo)
}

/// The error of a folder outside any repository.
fn not_a_repository(dir: &Path) -> Error {
    Error::user_hint(
        format!("{} is not inside a git repository", dir.display()),
        "run deploy-ledger inside the repository you deploy, or `git init` one first",
    )
}

impl Repo {
    /// The repository containing `dir`, searching upwards like git does
    /// (git's variables aside: the folder is given).
    pub fn discover(dir: &Path) -> Result<Repo> {
        match git2::Repository::discover(dir) {
            Ok(inner) => Ok(Repo {
                inner,
                from_env: false,
            }),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Err(not_a_repository(dir)),
            Err(e) => Err(e.into()),
        }
    }

    /// The repository of the current folder, found as git finds it: from
    /// `GIT_DIR` when set (git sets it for the hooks of a linked work tree;
    /// `GIT_DIR=clone.git deploy-ledger analytics` reads a bare clone), else
    /// upwards from the current folder, stopping at `GIT_CEILING_DIRECTORIES`
    /// and (unless `GIT_DISCOVERY_ACROSS_FILESYSTEM`) at a file system
    /// boundary; `GIT_WORK_TREE`, `GIT_INDEX_FILE` and `GIT_OBJECT_DIRECTORY`
    /// apply too.
    pub fn from_env() -> Result<Repo> {
        match open_from_env() {
            Ok(inner) => Ok(Repo {
                inner,
                from_env: true,
            }),
            Err(e) if e.code() == git2::ErrorCode::NotFound => match std::env::var_os("GIT_DIR") {
                Some(dir) => Err(Error::user_hint(
                    format!(
                        "GIT_DIR=`{}` is not a git repository",
                        crate::error::escape_controls(&dir.to_string_lossy())
                    ),
                    "point GIT_DIR at a repository (its .git folder, or a bare clone), or unset it",
                )),
                None => {
                    let cwd = std::env::current_dir().map_err(|e| Error::io(".", e))?;
                    Err(not_a_repository(&cwd))
                }
            },
            Err(e) => Err(e.into()),
        }
    }

    /// Whether `id` (a full hex id) is a commit of this repository.
    pub fn has_commit(&self, id: &str) -> bool {
        id.len() == 40
            && git2::Oid::from_str(id).is_ok_and(|oid| {
                self.inner
                    .odb()
                    .and_then(|odb| odb.read_header(oid))
                    .is_ok_and(|(_, kind)| kind == git2::ObjectType::Commit)
            })
    }

    /// Lets go of the object database this handle opened: libgit2 keeps
    /// each pack's index and windows mapped while a handle holds it (180 MB
    /// at 100,000 records), which the work after the last object read does
    /// not need. Objects read through this handle afterwards are not found.
    pub fn release_objects(&self) -> Result<()> {
        self.inner.set_odb(&git2::Odb::new()?)?;
        Ok(())
    }

    /// The same repository opened again: a handle for another thread
    /// (a `git2::Repository` is not `Sync`).
    pub fn reopen(&self) -> Result<Repo> {
        // From the variables again: `GIT_WORK_TREE` or `GIT_INDEX_FILE`
        // would be lost by opening the git dir alone.
        let inner = match self.from_env {
            true => open_from_env()?,
            false => git2::Repository::open(self.inner.path())?,
        };
        Ok(Repo {
            inner,
            from_env: self.from_env,
        })
    }

    /// The ignore files outside the work tree that decide which files git
    /// lists: `core.excludesFile`, else `$XDG_CONFIG_HOME/git/ignore` (or
    /// `~/.config/git/ignore`).
    pub fn global_ignore_files(&self) -> Vec<PathBuf> {
        let mut files = Vec::new();
        if let Ok(path) = self
            .inner
            .config()
            .and_then(|c| c.get_path("core.excludesFile"))
        {
            files.push(path);
        }
        let xdg = std::env::var_os("XDG_CONFIG_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")));
        if let Some(dir) = xdg {
            files.push(dir.join("git").join("ignore"));
        }
        files
    }

    /// The work tree's root; an error in a bare repository.
    pub fn workdir(&self) -> Result<&Path> {
        self.inner.workdir().ok_or_else(|| {
            Error::user_hint(
                "this is a bare repository: there is no work tree to write records in",
                "run it in a clone with a work tree",
            )
        })
    }

    pub fn is_bare(&self) -> bool {
        self.inner.is_bare()
    }

    /// `.git/deploy-ledger/`: this clone's local state (pointer, locks, caches).
    pub fn state_dir(&self) -> PathBuf {
        self.inner.path().join("deploy-ledger")
    }

    /// The `.git` folder (or the bare repository itself).
    pub fn git_dir(&self) -> &Path {
        self.inner.path()
    }

    /// The folder shared by all work trees (hooks, common config).
    pub fn common_dir(&self) -> PathBuf {
        self.inner.commondir().to_path_buf()
    }

    pub fn head_info(&self) -> HeadInfo {
        let mut info = HeadInfo::default();
        let head = match self.inner.head() {
            Ok(head) => head,
            Err(_) => {
                // Unborn HEAD: the branch is known from HEAD's symbolic target.
                if let Ok(reference) = self.inner.find_reference("HEAD") {
                    info.branch = reference
                        .symbolic_target()
                        .and_then(|t| t.strip_prefix("refs/heads/"))
                        .map(str::to_string);
                }
                return info;
            }
        };
        if head.is_branch() {
            info.branch = head.shorthand().map(str::to_string);
        }
        if let Ok(commit) = head.peel_to_commit() {
            let id = commit.id();
            info.commit = Some(id.to_string());
            info.tag = self.tag_pointing_at(id);
        }
        info
    }

    /// The newest-named tag on `id`. Reads `packed-refs` as text: an
    /// annotated tag's target is its peeled (`^`) line, and in a file git
    /// wrote with the `peeled` trait a tag without one is lightweight, so
    /// 30,000 packed tags cost a 2 MB scan, not 30,000 object reads. Loose
    /// tags (few: git packs them) override packed ones and go through
    /// libgit2; a reftable repository goes through libgit2 entirely.
    fn tag_pointing_at(&self, id: git2::Oid) -> Option<String> {
        let common = self.inner.commondir().to_path_buf();
        if common.join("reftable").exists() {
            return self.tag_pointing_at_by_references(id);
        }
        let hex = id.to_string();
        // Full ref name -> whether it points at `id`.
        let mut tags: std::collections::BTreeMap<String, bool> = Default::default();
        if let Ok(text) = std::fs::read_to_string(common.join("packed-refs")) {
            let peeled = text.lines().next().is_some_and(|l| {
                l.starts_with("# pack-refs with:")
                    && l.split_whitespace()
                        .any(|t| t == "peeled" || t == "fully-peeled")
            });
            let mut last: Option<(&str, &str)> = None;
            let mut settle = |last: Option<(&str, &str)>, peel: Option<&str>| {
                if let Some((name, sha)) = last {
                    let here = match peel {
                        Some(p) => p == hex,
                        None if sha == hex => true,
                        None if peeled => false,
                        None => git2::Oid::from_str(sha).is_ok_and(|o| self.tag_targets(o, id)),
                    };
                    tags.insert(name.to_string(), here);
                }
            };
            for line in text.lines() {
                if line.starts_with('#') {
                    continue;
                }
                if let Some(peel) = line.strip_prefix('^') {
                    settle(last.take(), Some(peel.trim()));
                    continue;
                }
                settle(last.take(), None);
                last = line
                    .split_once(' ')
                    .filter(|(_, name)| name.starts_with("refs/tags/"))
                    .map(|(sha, name)| (name, sha));
            }
            settle(last.take(), None);
        }
        let mut loose = Vec::new();
        loose_refs(&common.join("refs").join("tags"), "refs/tags", &mut loose);
        for name in loose {
            let here = self
                .inner
                .find_reference(&name)
                .and_then(|r| r.resolve())
                .ok()
                .and_then(|r| r.target())
                .is_some_and(|t| t == id || self.tag_targets(t, id));
            tags.insert(name, here);
        }
        tags.into_iter()
            .filter(|(_, here)| *here)
            .map(|(name, _)| name["refs/tags/".len()..].to_string())
            .next_back()
    }

    /// Whether `tag` is an annotated tag object whose target is `id`.
    fn tag_targets(&self, tag: git2::Oid, id: git2::Oid) -> bool {
        self.inner.find_tag(tag).is_ok_and(|t| t.target_id() == id)
    }

    /// `tag_pointing_at` through libgit2's reference iterator.
    fn tag_pointing_at_by_references(&self, id: git2::Oid) -> Option<String> {
        let mut found: Vec<String> = Vec::new();
        for reference in self.inner.references_glob("refs/tags/*").ok()?.flatten() {
            let Some(target) = reference.target() else {
                continue;
            };
            let here = target == id
                || match reference.target_peel() {
                    Some(peeled) => peeled == id,
                    None => self.tag_targets(target, id),
                };
            if here {
                if let Some(name) = reference.shorthand() {
                    found.push(name.to_string());
                }
            }
        }
        found.sort();
        found.pop()
    }

    /// Whether tracked files outside `deployments/` differ from HEAD, in the
    /// index or the work tree (the ledger's own files do not make the
    /// deployed code dirty; untracked files do not count).
    ///
    /// The status is limited to the top-level entries of HEAD and of the
    /// index other than `deployments`, given as literal paths, so libgit2
    /// never reads the ledger's trees nor stats its files: the cost follows
    /// the size of the code, not of the ledger. The answer is cached (see
    /// [`dirty`]) so that an unchanged index is not read again.
    pub fn is_dirty(&self) -> Option<bool> {
        let workdir = self.inner.workdir()?.to_path_buf();
        let head = self
            .inner
            .refname_to_id("HEAD")
            .map(|id| id.to_string())
            .unwrap_or_default();
        let cache = self.state_dir().join("dirty-cache");
        let fingerprint = dirty::Fingerprint::of(self.inner.path(), self.inner.commondir(), &head);
        if let Some(f) = &fingerprint {
            if let Some(answer) = dirty::lookup(&cache, f, &workdir) {
                return Some(answer);
            }
        }
        let taken = std::time::SystemTime::now();
        let ledger = crate::config::LEDGER_DIR;
        let mut top: std::collections::BTreeSet<Vec<u8>> = Default::default();
        if let Ok(tree) = self.inner.head().and_then(|h| h.peel_to_tree()) {
            top.extend(tree.iter().map(|e| e.name_bytes().to_vec()));
        }
        let index = self.inner.index().ok()?;
        // Index entries are sorted by path: skip the ledger's range by
        // binary search instead of visiting its entries.
        let prefix = format!("{ledger}/");
        let (from, to) = index_range(&index, prefix.as_bytes());
        let mut keys: Option<Vec<(String, Option<dirty::FileKey>)>> = Some(Vec::new());
        for n in (0..from).chain(to..index.len()) {
            let Some(entry) = index.get(n) else { continue };
            let path = entry.path;
            let name = path.split(|b| *b == b'/').next().unwrap_or(&path);
            top.insert(name.to_vec());
            // Each file's key is taken before the status is computed, so a
            // change after this point shows in the next lookup.
            match std::str::from_utf8(&path) {
                Ok(p) if !p.contains(['\t', '\n']) && entry.mode != 0o160000 => {
                    if let Some(k) = keys.as_mut() {
                        k.push((p.to_string(), dirty::FileKey::of(&workdir.join(p))));
                    }
                }
                Ok(_) if entry.mode == 0o160000 => {}
                _ => keys = None,
            }
        }
        top.remove(ledger.as_bytes());
        let mut opts = git2::StatusOptions::new();
        opts.include_untracked(false)
            .include_ignored(false)
            .exclude_submodules(true)
            .disable_pathspec_match(true);
        let mut any = false;
        for name in &top {
            // Git paths are bytes; a name that is not UTF-8 cannot be passed
            // as a path here: fall back to the whole status.
            let Ok(name) = std::str::from_utf8(name) else {
                return self.is_dirty_everywhere();
            };
            opts.pathspec(name);
            any = true;
        }
        let answer = if any {
            let statuses = self.inner.statuses(Some(&mut opts)).ok()?;
            statuses.iter().any(|s| {
                s.path_bytes().split(|b| *b == b'/').next() != Some(ledger.as_bytes())
                    && s.status() != git2::Status::CURRENT
            })
        } else {
            false
        };
        // Cache only if the index and HEAD did not move meanwhile.
        if let (Some(f), Some(keys)) = (fingerprint, keys) {
            let head_now = self.inner.refname_to_id("HEAD").map(|id| id.to_string());
            if head_now.unwrap_or_default() == head
                && dirty::Fingerprint::of(self.inner.path(), self.inner.commondir(), &head).as_ref()
                    == Some(&f)
            {
                dirty::store(&cache, &f, &keys, answer, taken);
            }
        }
        Some(answer)
    }

    /// The status of the whole tree, ledger left out afterwards.
    fn is_dirty_everywhere(&self) -> Option<bool> {
        let ledger = crate::config::LEDGER_DIR;
        let mut opts = git2::StatusOptions::new();
        opts.include_untracked(false)
            .include_ignored(false)
            .exclude_submodules(true);
        let statuses = self.inner.statuses(Some(&mut opts)).ok()?;
        Some(statuses.iter().any(|s| {
            s.path_bytes().split(|b| *b == b'/').next() != Some(ledger.as_bytes())
                && s.status() != git2::Status::CURRENT
        }))
    }

    /// The URL of `origin` (else the first remote), without credentials.
    pub fn remote_url(&self) -> Option<String> {
        let names = self.inner.remotes().ok()?;
        let name = if names.iter().flatten().any(|n| n == "origin") {
            "origin".to_string()
        } else {
            names.iter().flatten().next()?.to_string()
        };
        let remote = self.inner.find_remote(&name).ok()?;
        remote.url().map(strip_credentials)
    }

    /// The repository's git config, with the levels git reads: libgit2
    /// ignores `GIT_CONFIG_GLOBAL`, `GIT_CONFIG_SYSTEM` and
    /// `GIT_CONFIG_NOSYSTEM`, and would still read ~/.gitconfig and
    /// ~/.config/git/config when `GIT_CONFIG_GLOBAL` names another file (or
    /// /dev/null), so that the tool and `git config user.name` disagreed.
    pub fn config(&self) -> Option<git2::Config> {
        let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
        if [
            "GIT_CONFIG_GLOBAL",
            "GIT_CONFIG_SYSTEM",
            "GIT_CONFIG_NOSYSTEM",
        ]
        .iter()
        .all(|k| var(k).is_none())
        {
            return self.inner.config().ok();
        }
        let mut config = git2::Config::new().ok()?;
        let mut add = |path: PathBuf, level: git2::ConfigLevel| {
            if path.is_file() {
                let _ = config.add_file(&path, level, true);
            }
        };
        let no_system = var("GIT_CONFIG_NOSYSTEM").is_some_and(|v| {
            !matches!(
                v.to_string_lossy().to_ascii_lowercase().as_str(),
                "0" | "false" | "no" | "off"
            )
        });
        if !no_system {
            match var("GIT_CONFIG_SYSTEM") {
                Some(p) => add(PathBuf::from(p), git2::ConfigLevel::System),
                None => {
                    if let Ok(p) = git2::Config::find_system() {
                        add(p, git2::ConfigLevel::System)
                    }
                }
            }
        }
        match var("GIT_CONFIG_GLOBAL") {
            Some(p) => add(PathBuf::from(p), git2::ConfigLevel::Global),
            None => {
                if let Ok(p) = git2::Config::find_xdg() {
                    add(p, git2::ConfigLevel::XDG)
                }
                if let Ok(p) = git2::Config::find_global() {
                    add(p, git2::ConfigLevel::Global)
                }
            }
        }
        add(
            self.inner.commondir().join("config"),
            git2::ConfigLevel::Local,
        );
        Some(config)
    }

    /// A value of git config (`user.name`, `core.hooksPath`…).
    pub fn config_string(&self, key: &str) -> Option<String> {
        self.config()?
            .snapshot()
            .ok()?
            .get_string(key)
            .ok()
            .filter(|s| !s.is_empty())
    }

    /// Who commits: `GIT_COMMITTER_*`/`GIT_AUTHOR_*`, else `user.name` and
    /// `user.email`; the time is the tool's clock.
    fn signature(&self) -> Result<git2::Signature<'static>> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let name = var("GIT_COMMITTER_NAME")
            .or_else(|| var("GIT_AUTHOR_NAME"))
            .or_else(|| self.config_string("user.name"));
        let email = var("GIT_COMMITTER_EMAIL")
            .or_else(|| var("GIT_AUTHOR_EMAIL"))
            .or_else(|| self.config_string("user.email"));
        let (Some(name), Some(email)) = (name, email) else {
            return Err(Error::user_hint(
                "git has no identity to commit with",
                "set one with `git config user.name \"Your Name\"` and `git config user.email you@example.com`",
            ));
        };
        let now = crate::capture::clock::now()?;
        Ok(git2::Signature::new(
            &name,
            &email,
            &git2::Time::new(now.timestamp(), 0),
        )?)
    }

    /// Whether a commit can be made (git knows who commits), so that
    /// `--commit` fails before anything is written.
    pub fn can_commit(&self) -> Result<()> {
        self.signature().map(|_| ())
    }

    /// Commits one file of the work tree alone, whatever else is staged: the
    /// new tree is HEAD's with that one entry replaced, and the index entry of
    /// that file is updated so that other staged changes stay staged.
    pub fn commit_file(&self, rel_path: &Path, message: &str) -> Result<String> {
        self.commit_files(&[rel_path], message)
    }

    /// Commits these files of the work tree alone, in one commit (a rollback
    /// and the record it marks), as `commit_file` does for one.
    pub fn commit_files(&self, rel_paths: &[&Path], message: &str) -> Result<String> {
        let repo = &self.inner;
        let workdir = self.workdir()?;
        // A commit of ledger files leaves the dirty answer as it was; only
        // the index checksum and HEAD move. Carry a valid cached answer over.
        let in_ledger = rel_paths
            .iter()
            .all(|p| p.starts_with(crate::config::LEDGER_DIR));
        let dirty_cache = self.state_dir().join("dirty-cache");
        let dirty_before = self
            .dirty_fingerprint()
            .filter(|f| in_ledger && dirty::lookup(&dirty_cache, f, workdir).is_some());
        // One commit of this tool at a time: each reads HEAD and git's
        // index, and writes both (parallel `start --commit`s lost each
        // other's index entries).
        let _serial = self.commit_lock()?;
        // git's own lock: a commit now could not update the index after it.
        let index_lock = repo.path().join("index.lock");
        if index_lock.exists() {
            return Err(Error::user_hint(
                format!("git's index is locked ({})", index_lock.display()),
                "another git command is running: wait for it to end, or remove that file if none is",
            ));
        }
        let parent = match repo.head() {
            Ok(head) => Some(head.peel_to_commit()?),
            Err(_) => None,
        };
        let base = match &parent {
            Some(c) => c.tree()?,
            None => repo.find_tree(repo.treebuilder(None)?.write()?)?,
        };
        let mut update = git2::build::TreeUpdateBuilder::new();
        for rel_path in rel_paths {
            let content = std::fs::read(workdir.join(rel_path))
                .map_err(|e| Error::io(workdir.join(rel_path), e))?;
            let blob = repo.blob(&content)?;
            let git_path = rel_path.to_string_lossy().replace('\\', "/");
            update.upsert(&git_path, blob, git2::FileMode::Blob);
        }
        let tree = repo.find_tree(update.create_updated(repo, &base)?)?;
        let signature = self.signature()?;
        let parents: Vec<&git2::Commit> = parent.iter().collect();
        // The index as it is on disk now (the handle may hold an older read,
        // from before another process's commit).
        let mut index = repo.index()?;
        index.read(true)?;
        for rel_path in rel_paths {
            index.add_path(rel_path)?;
        }
        let id = repo.commit(
            Some("HEAD"),
            &signature,
            &signature,
            message,
            &tree,
            &parents,
        )?;
        if let Err(e) = index.write() {
            // The index would not match HEAD: take the commit back.
            self.undo_commit(id, parent.as_ref().map(git2::Commit::id));
            return Err(e.into());
        }
        if let (Some(before), Some(after)) = (dirty_before, self.dirty_fingerprint()) {
            dirty::rekey(&dirty_cache, &before, &after);
        }
        // libgit2 writes the commit: no hook runs and nothing signs it.
        let signs = repo.config().and_then(|c| c.get_bool("commit.gpgsign"));
        if signs.unwrap_or(false) {
            crate::output::warn(&format!(
                "commit {} is not signed: commit.gpgsign is set, but --commit does not sign (commit the record with `git commit` where signatures are required)",
                &id.to_string()[..12]
            ));
        }
        Ok(id.to_string())
    }

    /// Holds `.git/deploy-ledger/commit-lock` (an OS lock, waited for).
    fn commit_lock(&self) -> Result<std::fs::File> {
        let dir = self.state_dir();
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let path = dir.join("commit-lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        file.lock().map_err(|e| Error::io(&path, e))?;
        Ok(file)
    }

    /// Moves HEAD's branch (or a detached HEAD) from `made` back to
    /// `parent`; deletes the branch `made` started. Best effort.
    fn undo_commit(&self, made: git2::Oid, parent: Option<git2::Oid>) {
        let Ok(mut target) = self.inner.find_reference("HEAD").and_then(|h| h.resolve()) else {
            return;
        };
        if target.target() != Some(made) {
            return;
        }
        let _ = match parent {
            Some(p) => target
                .set_target(
                    p,
                    "deploy-ledger: undo a commit whose index could not be written",
                )
                .map(drop),
            None => target.delete(),
        };
    }

    /// What the cached dirty answer depends on besides the files.
    fn dirty_fingerprint(&self) -> Option<dirty::Fingerprint> {
        let head = self
            .inner
            .refname_to_id("HEAD")
            .map(|id| id.to_string())
            .unwrap_or_default();
        dirty::Fingerprint::of(self.inner.path(), self.inner.commondir(), &head)
    }

    /// Resolves a revision (`HEAD`, a branch, a sha) to a commit id.
    pub fn resolve_commit(&self, rev: &str) -> Result<String> {
        let object = self.inner.revparse_single(rev).map_err(|_| {
            Error::user_hint(
                format!("`{rev}` is not a revision of this repository"),
                "pass a branch, tag or commit, e.g. --rev HEAD",
            )
        })?;
        let commit = object.peel_to_commit().map_err(|_| {
            let kind = object.kind().map_or("object", |k| k.str());
            Error::user_hint(
                format!("`{rev}` names a {kind}, not a commit"),
                "pass a branch, tag or commit, e.g. --rev HEAD",
            )
        })?;
        Ok(commit.id().to_string())
    }

    /// Every `*.md` blob under `prefix` (e.g. `deployments/checklists`) in the
    /// tree of commit `commit`: (path, blob id, bytes). Reads each object
    /// once; an absent prefix gives an empty list.
    pub fn blobs_at(&self, commit: &str, prefix: &str) -> Result<Vec<(String, String, Vec<u8>)>> {
        let commit = self.inner.find_commit(git2::Oid::from_str(commit)?)?;
        let tree = commit.tree()?;
        let sub = match tree.get_path(Path::new(prefix)) {
            Ok(entry) => entry.to_object(&self.inner)?.peel_to_tree()?,
            Err(e) if e.code() == git2::ErrorCode::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        let mut ids = Vec::new();
        sub.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
            if entry.kind() == Some(git2::ObjectType::Blob)
                && entry.name().is_some_and(|n| n.ends_with(".md"))
            {
                ids.push((
                    format!("{prefix}/{dir}{}", entry.name().unwrap_or_default()),
                    entry.id(),
                ));
            }
            git2::TreeWalkResult::Ok
        })?;
        let odb = self.inner.odb()?;
        ids.into_iter()
            .map(|(path, id)| Ok((path, id.to_string(), odb.read(id)?.data().to_vec())))
            .collect()
    }

    pub fn raw(&self) -> &git2::Repository {
        &self.inner
    }
}

/// The names of the loose references under `dir` (named `prefix/…`).
fn loose_refs(dir: &Path, prefix: &str, out: &mut Vec<String>) {
    let Ok(read) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in read.flatten() {
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            continue;
        };
        let full = format!("{prefix}/{name}");
        match entry.file_type() {
            Ok(t) if t.is_dir() => loose_refs(&entry.path(), &full, out),
            Ok(t) if t.is_file() && !name.ends_with(".lock") => out.push(full),
            _ => {}
        }
    }
}

/// The positions `[from, to)` of the index entries whose path starts with
/// `prefix` (entries are sorted by path bytes).
fn index_range(index: &git2::Index, prefix: &[u8]) -> (usize, usize) {
    let lower_bound = |pred: &dyn Fn(&[u8]) -> bool| {
        let (mut lo, mut hi) = (0, index.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match index.get(mid) {
                Some(e) if pred(&e.path) => lo = mid + 1,
                _ => hi = mid,
            }
        }
        lo
    };
    let from = lower_bound(&|p| p < prefix);
    let to = lower_bound(&|p| p < prefix || p.starts_with(prefix));
    (from, to)
}

/// Removes user-info (`user:token@`) from a URL; scp-like `git@host:path`
/// keeps its user, which is not a credential.
pub fn strip_credentials(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        let host = authority
            .rsplit_once('@')
            .map(|(_, h)| h)
            .unwrap_or(authority);
        return format!("{scheme}://{host}{path}");
    }
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_stripped() {
        assert_eq!(
            strip_credentials("https://user:tok@github.com/o/r.git"),
            "https://github.com/o/r.git"
        );
        assert_eq!(
            strip_credentials("https://x-access-token:ghp_1@github.com"),
            "https://github.com"
        );
        assert_eq!(
            strip_credentials("git@github.com:o/r.git"),
            "git@github.com:o/r.git"
        );
        assert_eq!(strip_credentials("/srv/repo.git"), "/srv/repo.git");
    }
}

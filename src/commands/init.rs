//! `deploy-ledger init`: write the configuration, the template copies and the
//! records folder; print the mise and make task snippets, or with `--mise` /
//! `--make` write them. Idempotent; never overwrites without `--force`.

use std::path::{Path, PathBuf};

use crate::config::{Config, CHECKLISTS_DIR, CONFIG_FILE, DEFAULT_TOML, TEMPLATES_DIR};
use crate::error::{Error, Result};
use crate::git::Repo;
use crate::ledger::write_atomic;
use crate::output;

const EXAMPLES: &str = "\
Examples:
  deploy-ledger init                 # config, template, and print the task snippets
  deploy-ledger init --mise          # also write the tasks into mise.toml
  deploy-ledger init --make          # also write deployments/deploy-ledger.mk, included by Makefile
  deploy-ledger init --force         # rewrite the files that differ from the defaults

Then: mise run deployment-start -- --service api --version 1.2.0
  or: make deployment-start ARGS=\"--service api --version 1.2.0\"";

/// The task snippets, rendered with the configured phases.
const MISE_TEMPLATE: &str = include_str!("../../templates/mise.toml.j2");
const MAKE_TEMPLATE: &str = include_str!("../../templates/deploy-ledger.mk.j2");
/// Where `--make` writes its fragment, and the line that includes it.
pub const MAKE_FRAGMENT: &str = "deployments/deploy-ledger.mk";
const MAKE_INCLUDE: &str = "include deployments/deploy-ledger.mk";

#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// Write the deployment-* tasks into mise.toml (or .mise.toml if that exists)
    #[arg(long)]
    pub mise: bool,
    /// Write deployments/deploy-ledger.mk and add an include line to the Makefile
    #[arg(long)]
    pub make: bool,
    /// Overwrite files and tasks that differ from what init would write
    #[arg(long)]
    pub force: bool,
}

/// What happened to one file or task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Created,
    Unchanged,
    Overwritten,
    /// Exists and differs; left alone without --force.
    Kept,
    /// Something was added to a file of the user's.
    Updated,
}

/// What init will do: the report lines, and the files to write. Everything
/// is planned (read, parsed, merged) before the first write, so a bad file
/// stops init with nothing written.
#[derive(Default)]
struct Actions {
    report: Vec<(String, Outcome)>,
    /// (path, content, whether the file is new)
    writes: Vec<(PathBuf, Vec<u8>, bool)>,
}

impl Actions {
    fn add(&mut self, what: impl Into<String>, outcome: Outcome) {
        self.report.push((what.into(), outcome));
    }

    fn write(&mut self, path: PathBuf, bytes: impl Into<Vec<u8>>, new: bool) {
        self.writes.push((path, bytes.into(), new));
    }

    /// Writes each planned file atomically.
    fn apply(&self) -> Result<()> {
        for (path, bytes, new) in &self.writes {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
            }
            write_atomic(path, bytes, *new)?;
        }
        Ok(())
    }
}

pub fn run(args: Args) -> Result<()> {
    let repo = Repo::from_env()?;
    let root = repo.workdir()?.to_path_buf();
    // Read the configuration before writing anything, so that a broken file
    // stops init with nothing written. With --force, ledger.toml is about to
    // become the default, so only the user config and variables count.
    let config = Config::load(if args.force { None } else { Some(&root) })?;
    let (mise_text, make_text) = snippets(&config)?;

    let mut actions = Actions::default();
    write_file(&root, CONFIG_FILE, DEFAULT_TOML, args.force, &mut actions)?;
    for (name, text) in crate::template::BUILT_IN {
        write_file(
            &root,
            &format!("{TEMPLATES_DIR}/{name}"),
            text,
            args.force,
            &mut actions,
        )?;
    }
    // git keeps no empty folders: a marker makes the folder committable.
    write_file(
        &root,
        &format!("{CHECKLISTS_DIR}/.gitkeep"),
        "",
        false,
        &mut actions,
    )?;
    if args.mise {
        write_mise(&root, &mise_text, args.force, &mut actions)?;
    }
    if args.make {
        write_file(&root, MAKE_FRAGMENT, &make_text, args.force, &mut actions)?;
        add_make_include(&root, &mut actions)?;
    }
    actions.apply()?;

    let mut text = String::new();
    for (what, outcome) in &actions.report {
        text.push_str(&match outcome {
            Outcome::Created => format!("created   {what}\n"),
            Outcome::Unchanged => format!("unchanged {what}\n"),
            Outcome::Overwritten => format!("rewrote   {what}\n"),
            Outcome::Updated => format!("updated   {what}\n"),
            Outcome::Kept => {
                format!("kept      {what} (it differs from the default; --force rewrites it)\n")
            }
        });
    }
    if actions.report.iter().all(|(_, o)| *o == Outcome::Unchanged) {
        text.push_str("nothing to do: this repository is already set up\n");
    }
    if !args.mise && !args.make {
        text.push_str(&format!(
            "\n# mise.toml tasks (`deploy-ledger init --mise` writes them):\n\n{mise_text}\n\
             # Makefile tasks (`deploy-ledger init --make` writes them to {MAKE_FRAGMENT}):\n\n{make_text}"
        ));
    }
    output::print(&text)
}

/// The mise and make snippets for the configured phases.
fn snippets(config: &Config) -> Result<(String, String)> {
    let mut env = minijinja::Environment::new();
    env.set_keep_trailing_newline(true);
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    let context = minijinja::context! { phases => &config.phases };
    let mut render = |name: &'static str, text: &'static str| -> Result<String> {
        env.add_template(name, text)
            .map_err(|e| Error::template_syntax(name, e))?;
        env.get_template(name)
            .and_then(|t| t.render(&context))
            .map_err(|e| Error::template_render(name, e))
    };
    Ok((
        render("mise.toml.j2", MISE_TEMPLATE)?,
        render("deploy-ledger.mk.j2", MAKE_TEMPLATE)?,
    ))
}

/// Writes `text` to `rel` unless it is there already; a different file is
/// kept unless `force`.
fn write_file(
    root: &Path,
    rel: &str,
    text: &str,
    force: bool,
    actions: &mut Actions,
) -> Result<()> {
    let path = root.join(rel);
    let outcome = match std::fs::read(&path) {
        Ok(existing) if existing == text.as_bytes() => Outcome::Unchanged,
        Ok(_) if !force => Outcome::Kept,
        Ok(_) => Outcome::Overwritten,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Outcome::Created,
        Err(e) => return Err(Error::io(&path, e)),
    };
    if matches!(outcome, Outcome::Created | Outcome::Overwritten) {
        actions.write(path, text, outcome == Outcome::Created);
    }
    actions.add(rel, outcome);
    Ok(())
}

/// `mise.toml`, or `.mise.toml` when only that one exists.
fn mise_file(root: &Path) -> PathBuf {
    let hidden = root.join(".mise.toml");
    let plain = root.join("mise.toml");
    if hidden.exists() && !plain.exists() {
        hidden
    } else {
        plain
    }
}

/// Adds each task of `snippet` to the mise file, keeping everything else of
/// the file (comments, order, other tasks) as it was.
fn write_mise(root: &Path, snippet: &str, force: bool, actions: &mut Actions) -> Result<()> {
    let path = mise_file(root);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let existing = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            actions.write(path, snippet, true);
            actions.add(format!("{name} (deployment-* tasks)"), Outcome::Created);
            return Ok(());
        }
        Err(e) => return Err(Error::io(&path, e)),
    };
    let mut doc: toml_edit::DocumentMut = existing.parse().map_err(|e: toml_edit::TomlError| {
        let line = e.span().map(|s| {
            existing[..s.start.min(existing.len())]
                .matches('\n')
                .count()
                + 1
        });
        Error::Config {
            path: path.clone(),
            message: match line {
                Some(l) => format!("line {l}: {}", crate::error::one_line(e.message())),
                None => crate::error::one_line(e.message()),
            },
        }
    })?;
    let wanted: toml_edit::DocumentMut = snippet
        .parse()
        .map_err(|e| Error::user(format!("internal: the mise snippet does not parse: {e}")))?;
    let wanted_tasks = wanted
        .get("tasks")
        .and_then(toml_edit::Item::as_table)
        .expect("the mise snippet has a [tasks] table");
    if doc.get("tasks").is_none() {
        let mut tasks = toml_edit::Table::new();
        tasks.set_implicit(true);
        doc.insert("tasks", toml_edit::Item::Table(tasks));
    }
    // What follows the file's last table (a comment under it) is printed
    // after every table, so after the added tasks: it goes before them.
    let trailing = doc.trailing().as_str().unwrap_or_default().to_string();
    let Some(tasks) = doc
        .get_mut("tasks")
        .and_then(toml_edit::Item::as_table_like_mut)
    else {
        return Err(Error::Config {
            path,
            message: "`tasks` is not a table".into(),
        });
    };
    let mut changed = false;
    // Whether a task went after everything else of the file: the added
    // ones do, in the snippet's order, under one comment line.
    let mut appended = false;
    let mut position = 1_000_000;
    for (task, item) in wanted_tasks.iter() {
        let want_run = run_of(item);
        let outcome = match tasks.get(task) {
            None => Outcome::Created,
            Some(have) if run_of(have) == want_run => Outcome::Unchanged,
            Some(_) if !force => Outcome::Kept,
            Some(_) => Outcome::Overwritten,
        };
        if matches!(outcome, Outcome::Created | Outcome::Overwritten) {
            let mut item = item.clone();
            // An overwritten table keeps its place and its comments.
            let kept = match (
                tasks.get(task).and_then(toml_edit::Item::as_table),
                item.as_table_mut(),
            ) {
                (Some(have), Some(table)) if outcome == Outcome::Overwritten => {
                    if let Some(p) = have.position() {
                        table.set_position(p);
                    }
                    *table.decor_mut() = have.decor().clone();
                    true
                }
                _ => false,
            };
            if let Some(table) = item.as_table_mut().filter(|_| !kept) {
                table.set_position(position);
                position += 1;
                let prefix = if appended {
                    "\n".to_string()
                } else {
                    format!("{trailing}\n# deployment-* tasks (deploy-ledger init --mise)\n")
                };
                appended = true;
                table.decor_mut().set_prefix(prefix);
            }
            match tasks.get_mut(task) {
                Some(have) => *have = item,
                None => {
                    tasks.insert(task, item);
                }
            }
            changed = true;
        }
        actions.add(format!("{name} task {task}"), outcome);
    }
    if appended {
        doc.set_trailing("");
    }
    if changed {
        actions.write(path, doc.to_string(), false);
    }
    Ok(())
}

/// The command of a mise task, written as a table, an inline table or a string.
fn run_of(item: &toml_edit::Item) -> Option<String> {
    if let Some(s) = item.as_str() {
        return Some(s.to_string());
    }
    let run = item.as_table_like()?.get("run")?;
    run.as_str().map(str::to_string).or_else(|| {
        run.as_array().map(|a| {
            a.iter()
                .filter_map(|v| v.as_str())
                .collect::<Vec<_>>()
                .join("\n")
        })
    })
}

/// Adds `include deployments/deploy-ledger.mk` to the makefile (GNU make's
/// search order), creating `Makefile` if there is none.
fn add_make_include(root: &Path, actions: &mut Actions) -> Result<()> {
    let path = ["GNUmakefile", "makefile", "Makefile"]
        .iter()
        .map(|n| root.join(n))
        .find(|p| p.exists())
        .unwrap_or_else(|| root.join("Makefile"));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let what = format!("{name} ({MAKE_INCLUDE})");
    let existing = match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(Error::io(&path, e)),
    };
    let included = existing.as_deref().is_some_and(|text| {
        text.lines().any(|l| {
            let l = l.trim();
            let l = l
                .strip_prefix('-')
                .or_else(|| l.strip_prefix("s"))
                .unwrap_or(l);
            l.strip_prefix("include")
                .is_some_and(|rest| rest.split_whitespace().any(|f| f == MAKE_FRAGMENT))
        })
    });
    if included {
        actions.add(what, Outcome::Unchanged);
        return Ok(());
    }
    let mut text = existing.clone().unwrap_or_default();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    if !text.is_empty() {
        text.push('\n');
    }
    text.push_str("# deployment-* tasks (deploy-ledger init --make)\n");
    text.push_str(MAKE_INCLUDE);
    text.push('\n');
    actions.write(path, text, existing.is_none());
    actions.add(
        what,
        if existing.is_none() {
            Outcome::Created
        } else {
            Outcome::Updated
        },
    );
    Ok(())
}

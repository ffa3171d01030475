//! Generates a large synthetic ledger: a git repository whose history looks
//! like a real team's, with records byte-compatible with what `start`,
//! `phase` and `finish` write (they are built with the library itself).
//!
//! ```sh
//! cargo run --release --example gen-ledger -- --records 10000 --out /tmp/ledger-10k
//! ```
//!
//! For each deployment: 5 code commits under `services/<svc>/` authored
//! before it lands, then 4 record commits (start, phase execution, phase
//! validation, finish), each rewriting the record blob like the real tool
//! with `--commit`. The last few deployments stay in progress. Everything is
//! streamed into `git fast-import`; the same `--seed` gives the same
//! repository, byte for byte (commit ids included).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use clap::Parser;
use serde_json::{json, Map, Value};

use deploy_ledger::capture::CiRun;
use deploy_ledger::config;
use deploy_ledger::deploy::{self, render_body};
use deploy_ledger::ledger::Ledger;
use deploy_ledger::record::{self, body, format_time, Document, Record, Status};

#[derive(Debug, Parser)]
#[command(about = "Generate a synthetic deployment ledger in a new git repository")]
struct Args {
    /// Number of deployment records
    #[arg(long, default_value_t = 1000)]
    records: usize,
    /// The repository to create (must not exist, or be empty, unless --force)
    #[arg(long)]
    out: PathBuf,
    /// Seed of the random generator: the same seed gives the same repository
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Average deployments per calendar day (weekdays get more, weekends few)
    #[arg(long, default_value_t = 40.0)]
    per_day: f64,
    /// Day of the first deployment (YYYY-MM-DD)
    #[arg(long, default_value = "2019-01-07")]
    since: NaiveDate,
    /// How many of the last deployments are left in progress
    #[arg(long, default_value_t = 3)]
    in_progress: usize,
    /// Code commits before each deployment
    #[arg(long, default_value_t = 5)]
    code_commits: usize,
    /// Replace --out if it exists
    #[arg(long)]
    force: bool,
    /// Do not check out the work tree after the import
    #[arg(long)]
    no_checkout: bool,
    /// Do not write a commit-graph after the import
    #[arg(long)]
    no_commit_graph: bool,
}

const SERVICES: &[(&str, &str)] = &[
    ("api-gateway", "platform"),
    ("auth", "identity"),
    ("billing", "payments"),
    ("catalog", "commerce"),
    ("checkout", "commerce"),
    ("notifications", "platform"),
    ("search", "discovery"),
    ("payments", "payments"),
    ("inventory", "commerce"),
    ("web-frontend", "web"),
];
const MODULES: &[&str] = &[
    "handlers", "models", "routes", "config", "db", "metrics", "client", "jobs",
];
const OPERATORS: &[&str] = &[
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
];
const DEVELOPERS: &[&str] = &[
    "Alice Martin",
    "Bob Chen",
    "Carol Diaz",
    "Dave Patel",
    "Erin Kowalski",
    "Frank Okafor",
    "Grace Lee",
    "Heidi Novak",
    "Ivan Petrov",
    "Judy Nguyen",
    "Ken Sato",
    "Lena Fischer",
];
/// (name, weight)
const ENVIRONMENTS: &[(&str, u32)] = &[("production", 40), ("staging", 35), ("development", 25)];
const STRATEGIES: &[(&str, u32)] = &[
    ("rolling", 40),
    ("blue-green", 25),
    ("canary", 20),
    ("recreate", 10),
    ("big-bang", 5),
];
/// Relative weight of each hour of the day (UTC) for a deployment's start.
const HOURS: [u32; 24] = [
    1, 1, 0, 0, 0, 1, 2, 4, 8, 14, 18, 16, 8, 10, 16, 18, 14, 9, 5, 3, 2, 2, 1, 1,
];
/// Relative weight of Monday..Sunday.
const WEEKDAYS: [f64; 7] = [1.15, 1.25, 1.2, 1.1, 0.8, 0.12, 0.08];
const FAILURES: &[&str] = &[
    "health checks failed",
    "error rate above threshold",
    "migration timed out",
    "pods crash-looping",
    "latency p99 above SLO",
    "smoke tests failed",
];
const CANCELS: &[&str] = &["change window closed", "superseded by a newer release"];
const REMOTE: &str = "https://github.com/example/shop.git";

#[derive(Debug, Clone, Copy, PartialEq)]
enum Outcome {
    Success,
    Failed,
    Cancelled,
    RolledBack,
    /// Still running at the end of the history, with this many phase commits.
    Open(u8),
}

/// Everything about one deployment, decided before anything is written.
#[derive(Debug, Clone)]
struct Plan {
    service: usize,
    environment: &'static str,
    operator: &'static str,
    strategy: &'static str,
    version: String,
    start: i64,
    /// Durations of planning, execution, validation, in seconds.
    phases: [i64; 3],
    outcome: Outcome,
    reason: Option<&'static str>,
    /// Run id when started from GitHub Actions.
    ci_run: Option<u64>,
    change: Option<(String, &'static str, &'static str)>,
    /// Times of the code commits before the deployment.
    code: Vec<i64>,
}

impl Plan {
    /// Times of the record commits: start, phase, phase, finish.
    fn steps(&self) -> Vec<i64> {
        let mut t = self.start;
        let mut out = vec![t];
        let n = match self.outcome {
            Outcome::Open(n) => n as usize,
            _ => 3,
        };
        for d in self.phases.iter().take(n) {
            t += d;
            out.push(t);
        }
        out
    }
}

/// One commit of the history.
#[derive(Debug, Clone, Copy)]
enum Event {
    Code { dep: u32, k: u8 },
    Record { dep: u32, step: u8 },
}

fn pick<T: Copy>(rng: &mut fastrand::Rng, items: &[(T, u32)]) -> T {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut x = rng.u32(0..total);
    for (item, w) in items {
        if x < *w {
            return *item;
        }
        x -= w;
    }
    items[items.len() - 1].0
}

fn plan(args: &Args, rng: &mut fastrand::Rng) -> Vec<Plan> {
    let hours: Vec<(u32, u32)> = HOURS
        .iter()
        .enumerate()
        .map(|(h, w)| (h as u32, *w))
        .collect();
    let mean_weight: f64 = WEEKDAYS.iter().sum::<f64>() / 7.0;
    let mut versions = vec![(1u32, 0u32, 0u32); SERVICES.len()];
    let mut changes = 1000u64;
    let mut run_id = 7_000_000_000u64;
    let mut plans = Vec::with_capacity(args.records);
    let mut day = args.since;
    while plans.len() < args.records {
        let weekday = day.weekday().num_days_from_monday() as usize;
        let expected = args.per_day * WEEKDAYS[weekday] / mean_weight;
        // Expected count, plus or minus half of it, rounded at random.
        let jitter = expected * (rng.f64() - 0.5);
        let count = ((expected + jitter).max(0.0) + rng.f64()) as usize;
        let midnight = Utc
            .from_utc_datetime(&day.and_hms_opt(0, 0, 0).expect("midnight exists"))
            .timestamp();
        let mut starts: Vec<i64> = (0..count)
            .map(|_| midnight + i64::from(pick(rng, &hours)) * 3600 + rng.i64(0..3600))
            .collect();
        starts.sort_unstable();
        for start in starts {
            if plans.len() == args.records {
                break;
            }
            let service = rng.usize(0..SERVICES.len());
            let environment = pick(rng, ENVIRONMENTS);
            let v = &mut versions[service];
            if environment == "development" {
                // A new build: bump the patch, now and then the minor.
                if rng.u8(0..10) == 0 {
                    *v = (v.0, v.1 + 1, 0);
                } else {
                    v.2 += 1;
                }
            }
            let version = format!("{}.{}.{}", v.0, v.1, v.2);
            // Friday deployments fail more often, as they do.
            let friday = weekday == 4;
            let roll = rng.u32(0..1000);
            let fail = if friday { 200 } else { 80 };
            let outcome = if roll < fail {
                Outcome::Failed
            } else if roll < fail + 40 {
                Outcome::Cancelled
            } else if roll < fail + 40 + if environment == "production" { 60 } else { 20 } {
                Outcome::RolledBack
            } else {
                Outcome::Success
            };
            let reason = match outcome {
                Outcome::Failed | Outcome::RolledBack => {
                    Some(FAILURES[rng.usize(0..FAILURES.len())])
                }
                Outcome::Cancelled => Some(CANCELS[rng.usize(0..CANCELS.len())]),
                _ => None,
            };
            let strategy = pick(rng, STRATEGIES);
            let slow = if strategy == "canary" { 3 } else { 1 };
            let phases = [
                rng.i64(60..600),
                rng.i64(180..1800) * slow,
                rng.i64(60..900),
            ];
            let ci_run = (rng.u8(0..10) < 6).then(|| {
                run_id += rng.u64(1..500);
                run_id
            });
            let change = (environment == "production").then(|| {
                changes += 1;
                let kind = pick(rng, &[("standard", 80), ("normal", 15), ("emergency", 5)]);
                let risk = pick(rng, &[("low", 70), ("medium", 25), ("high", 5)]);
                (format!("CHG-{}-{changes}", SERVICES[service].0), kind, risk)
            });
            // Code lands in the two days before, authored earlier still.
            let mut code: Vec<i64> = (0..args.code_commits)
                .map(|_| start - rng.i64(120..2 * 86_400))
                .collect();
            code.sort_unstable();
            plans.push(Plan {
                service,
                environment,
                operator: OPERATORS[rng.usize(0..OPERATORS.len())],
                strategy,
                version,
                start,
                phases,
                outcome,
                reason,
                ci_run,
                change,
                code,
            });
        }
        day = day.succ_opt().expect("a next day");
    }
    let n = plans.len();
    for (i, p) in plans.iter_mut().enumerate() {
        if i + args.in_progress >= n {
            p.outcome = Outcome::Open(rng.u8(0..3));
            p.reason = None;
        }
    }
    plans
}

fn time(ts: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(ts, 0).single().expect("a valid time")
}

fn reparse(doc: &Document) -> Record {
    Record::from_document(doc).expect("generated records are valid")
}

/// The texts of a record as each of its record commits leaves it, built
/// the way `deploy::start`, `phase`, `check` and `finish` build them.
fn record_versions(ledger: &Ledger, p: &Plan, id: &str, commit: &str) -> Vec<String> {
    let started = format_time(time(p.start));
    let first_phase = ledger.config.phases[0].clone();
    let ci = p.ci_run.map(|run| {
        let run = CiRun {
            provider: "github-actions",
            run_id: Some(run.to_string()),
            run_url: Some(format!(
                "https://github.com/example/shop/actions/runs/{run}"
            )),
            actor: Some(p.operator.to_string()),
            workflow: Some("deploy".to_string()),
            environment: None,
            environment_variable: "",
            branch: Some("main".to_string()),
        };
        Value::Object(
            run.to_map()
                .into_iter()
                .map(|(k, v)| (k.to_string(), Value::from(v)))
                .collect(),
        )
    });
    let change = p
        .change
        .as_ref()
        .map(|(id, kind, risk)| json!({ "id": id, "type": kind, "risk": risk }));
    let mut labels = Map::new();
    labels.insert("team".into(), json!(SERVICES[p.service].1));
    let entries: Vec<(&str, Value)> = vec![
        ("schema", json!(record::SCHEMA)),
        ("id", json!(id)),
        ("service", json!(SERVICES[p.service].0)),
        ("environment", json!(p.environment)),
        ("version", json!(p.version)),
        ("strategy", json!(p.strategy)),
        ("status", json!(Status::InProgress.as_str())),
        ("operator", json!(p.operator)),
        ("started_at", json!(started)),
        (
            "git",
            json!({ "commit": commit, "branch": "main", "dirty": false, "remote": REMOTE }),
        ),
        ("ci", ci.unwrap_or(Value::Null)),
        ("tools", Value::Null),
        (
            "phases",
            json!([{ "name": first_phase, "started_at": started }]),
        ),
        ("change", change.unwrap_or(Value::Null)),
        ("labels", Value::Object(labels)),
        ("env", Value::Null),
        ("forced", Value::Null),
    ];
    let mut doc = Document::new(&entries, String::new());
    let rec = reparse(&doc);
    doc.set_body(render_body(ledger, &rec, None).expect("the built-in template renders"));
    let mut out = vec![doc.render()];

    let steps = p.steps();
    let items = body::count(doc.body()).0 as usize;
    let per_phase = items / ledger.config.phases.len().max(1);
    for (i, &t) in steps.iter().enumerate().skip(1) {
        let now = time(t);
        // Tick the items of the phase that ends, as operators do (`check`);
        // a failed phase leaves its last item unticked.
        let last_step = i == 3;
        let ticked = if last_step && p.outcome != Outcome::Success {
            per_phase.saturating_sub(1)
        } else {
            per_phase
        };
        let mut b = doc.body().to_string();
        for n in 0..ticked {
            let number = (i - 1) * per_phase + n + 1;
            if let Ok((nb, _)) = body::tick(&b, &number.to_string(), true) {
                b = nb;
            }
        }
        doc.set_body(b);
        let mut phases = deploy::closed_phases(&doc, now);
        if !last_step {
            let name = &ledger.config.phases[i.min(ledger.config.phases.len() - 1)];
            phases.push(json!({ "name": name, "started_at": format_time(now) }));
            doc.set("phases", Value::Array(phases));
        } else {
            let status = match p.outcome {
                Outcome::Failed => Status::Failed,
                Outcome::Cancelled => Status::Cancelled,
                Outcome::RolledBack => Status::RolledBack,
                _ => Status::Success,
            };
            let (total, done) = body::count(doc.body());
            doc.set("status", json!(status.as_str()));
            doc.set("finished_at", json!(format_time(now)));
            doc.set("duration_seconds", json!(t - p.start));
            doc.set("phases", Value::Array(phases));
            doc.set("checklist", json!({ "total": total, "done": done }));
            if let Some(reason) = p.reason {
                doc.set("failure", json!({ "reason": reason }));
            }
        }
        let rec = reparse(&doc);
        deploy::refresh_regions(&mut doc, &rec);
        out.push(doc.render());
    }
    out
}

/// A source file of a service at a given revision.
fn code_file(service: &str, module: &str, revision: u32) -> String {
    let mut s = format!("//! {service}: {module}\n\npub const REVISION: u32 = {revision};\n\n");
    for n in 0..(4 + revision % 6) {
        s.push_str(&format!(
            "pub fn {module}_{n}(x: u64) -> u64 {{\n    x.wrapping_mul({}) ^ {}\n}}\n\n",
            2 * n + 3,
            revision.wrapping_mul(31).wrapping_add(n)
        ));
    }
    s
}

/// The fast-import stream writer, with a reader for `get-mark` answers.
struct Import {
    out: BufWriter<std::process::ChildStdin>,
    answers: BufReader<std::process::ChildStdout>,
    mark: u64,
}

impl Import {
    fn data(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        writeln!(self.out, "data {}", bytes.len())?;
        self.out.write_all(bytes)?;
        self.out.write_all(b"\n")
    }

    fn commit(
        &mut self,
        author: (&str, i64),
        committer: (&str, i64),
        message: &str,
        files: &[(String, Vec<u8>)],
    ) -> std::io::Result<u64> {
        self.mark += 1;
        let email = |name: &str| {
            format!(
                "{}@example.com",
                name.split(' ').next().unwrap_or(name).to_ascii_lowercase()
            )
        };
        writeln!(self.out, "commit refs/heads/main\nmark :{}", self.mark)?;
        writeln!(
            self.out,
            "author {} <{}> {} +0000",
            author.0,
            email(author.0),
            author.1
        )?;
        writeln!(
            self.out,
            "committer {} <{}> {} +0000",
            committer.0,
            email(committer.0),
            committer.1
        )?;
        self.data(message.as_bytes())?;
        for (path, content) in files {
            writeln!(self.out, "M 100644 inline {path}")?;
            self.data(content)?;
        }
        Ok(self.mark)
    }

    /// The commit id of a mark (a round trip through `get-mark`).
    fn sha(&mut self, mark: u64) -> std::io::Result<String> {
        writeln!(self.out, "get-mark :{mark}")?;
        self.out.flush()?;
        let mut line = String::new();
        self.answers.read_line(&mut line)?;
        let sha = line.trim().to_string();
        if sha.len() != 40 {
            return Err(std::io::Error::other(format!(
                "git fast-import answered `{sha}` to get-mark"
            )));
        }
        Ok(sha)
    }
}

fn git(dir: &Path, args: &[&str]) -> Result<(), String> {
    let status = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .status()
        .map_err(|e| format!("git {args:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("git {args:?} failed ({status})"))
    }
}

fn main() -> std::process::ExitCode {
    match run(Args::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<(), String> {
    let clock = Instant::now();
    if args.out.exists() {
        let empty = std::fs::read_dir(&args.out)
            .map(|mut d| d.next().is_none())
            .unwrap_or(false);
        if !empty && !args.force {
            return Err(format!(
                "{} exists; pass --force to replace it",
                args.out.display()
            ));
        }
        std::fs::remove_dir_all(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
    }
    std::fs::create_dir_all(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
    git(&args.out, &["init", "-q", "-b", "main"])?;
    let config_path = args.out.join(config::CONFIG_FILE);
    std::fs::create_dir_all(config_path.parent().expect("has a parent"))
        .map_err(|e| e.to_string())?;
    std::fs::write(&config_path, config::DEFAULT_TOML).map_err(|e| e.to_string())?;
    let ledger = Ledger::open(&args.out).map_err(|e| e.to_string())?;

    let mut rng = fastrand::Rng::with_seed(args.seed);
    let plans = plan(&args, &mut rng);

    // Every commit in time order (ties: code before records, then by plan).
    let mut events: Vec<(i64, u32, Event)> = Vec::with_capacity(plans.len() * 9);
    for (dep, p) in plans.iter().enumerate() {
        let dep = dep as u32;
        for (k, &t) in p.code.iter().enumerate() {
            events.push((t, 0, Event::Code { dep, k: k as u8 }));
        }
        for (step, t) in p.steps().into_iter().enumerate() {
            events.push((
                t,
                1,
                Event::Record {
                    dep,
                    step: step as u8,
                },
            ));
        }
    }
    events.sort_by_key(|(t, order, e)| {
        let (dep, k) = match e {
            Event::Code { dep, k } => (*dep, *k),
            Event::Record { dep, step } => (*dep, *step),
        };
        (*t, *order, dep, k)
    });

    let mut child = Command::new("git")
        .arg("-C")
        .arg(&args.out)
        .args(["fast-import", "--quiet", "--done", "--cat-blob-fd=1"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("git fast-import: {e}"))?;
    let mut import = Import {
        out: BufWriter::with_capacity(1 << 20, child.stdin.take().expect("piped stdin")),
        answers: BufReader::new(child.stdout.take().expect("piped stdout")),
        mark: 0,
    };
    let io = |e: std::io::Error| format!("writing to git fast-import: {e}");

    // The first commit: the config `init` writes and every service's code.
    let first = events.first().map(|e| e.0).unwrap_or(0) - 86_400;
    let mut revisions: HashMap<(usize, usize), u32> = HashMap::new();
    let mut files =
        vec![
        (
            "README.md".to_string(),
            b"# shop\n\nA synthetic repository generated by deploy-ledger's bench/generate.rs.\n"
                .to_vec(),
        ),
        (config::CONFIG_FILE.to_string(), config::DEFAULT_TOML.as_bytes().to_vec()),
    ];
    for (s, (service, _)) in SERVICES.iter().enumerate() {
        for (m, module) in MODULES.iter().enumerate() {
            revisions.insert((s, m), 0);
            files.push((
                format!("services/{service}/src/{module}.rs"),
                code_file(service, module, 0).into_bytes(),
            ));
        }
    }
    import
        .commit(
            (DEVELOPERS[0], first),
            (DEVELOPERS[0], first),
            "Initial commit\n",
            &files,
        )
        .map_err(io)?;

    let mut ids: HashMap<String, u32> = HashMap::new();
    let mut open: HashMap<u32, (String, String, Vec<String>)> = HashMap::new();
    let mut code_rng = fastrand::Rng::with_seed(args.seed ^ 0x9e37_79b9_7f4a_7c15);
    let total = events.len();
    for (n, (t, _, event)) in events.into_iter().enumerate() {
        match event {
            Event::Code { dep, k } => {
                let p = &plans[dep as usize];
                let service = SERVICES[p.service].0;
                let touched = 1 + code_rng.usize(0..2);
                let mut files = Vec::with_capacity(touched);
                for _ in 0..touched {
                    let m = code_rng.usize(0..MODULES.len());
                    let rev = revisions.entry((p.service, m)).or_default();
                    *rev += 1;
                    files.push((
                        format!("services/{service}/src/{}.rs", MODULES[m]),
                        code_file(service, MODULES[m], *rev).into_bytes(),
                    ));
                }
                let dev = DEVELOPERS[code_rng.usize(0..DEVELOPERS.len())];
                let authored = t - code_rng.i64(600..3 * 86_400);
                let kind = ["feat", "fix", "refactor", "chore", "perf"][code_rng.usize(0..5)];
                let message = format!("{kind}({service}): change {} of {}\n", k + 1, p.version);
                import
                    .commit((dev, authored), (dev, t), &message, &files)
                    .map_err(io)?;
            }
            Event::Record { dep, step } => {
                if step == 0 {
                    let p = &plans[dep as usize];
                    let service = SERVICES[p.service].0;
                    let started = time(p.start);
                    let base = format!(
                        "DEP-{}-{service}-{}",
                        started.format("%Y-%m-%d-%H-%M"),
                        p.environment
                    );
                    let count = ids.entry(base.clone()).or_insert(0);
                    *count += 1;
                    let id = if *count == 1 {
                        base
                    } else {
                        format!("{base}-{count}")
                    };
                    let head = import.sha(import.mark).map_err(io)?;
                    let rel = ledger.record_path(&id, service, p.environment, started);
                    let versions = record_versions(&ledger, p, &id, &head);
                    open.insert(
                        dep,
                        (id, rel.to_string_lossy().replace('\\', "/"), versions),
                    );
                }
                let p = &plans[dep as usize];
                let (id, path, versions) = open.get(&dep).expect("started first");
                let text = versions[step as usize].as_bytes().to_vec();
                let action = match (step, p.outcome) {
                    (0, _) => "start".to_string(),
                    (3, _) => "finish".to_string(),
                    (s, _) => format!("phase {}", ledger.config.phases[s as usize]),
                };
                let message = format!(
                    "deploy({}): {action} {id} [{}]\n",
                    SERVICES[p.service].0, p.environment
                );
                let who = (p.operator, t);
                import
                    .commit(who, who, &message, &[(path.clone(), text)])
                    .map_err(io)?;
                if step as usize + 1 == versions.len() {
                    open.remove(&dep);
                }
            }
        }
        if (n + 1) % 100_000 == 0 {
            eprintln!(
                "gen-ledger: {} of {total} commits ({:.1}s)",
                n + 1,
                clock.elapsed().as_secs_f64()
            );
        }
    }
    import.out.write_all(b"done\n").map_err(io)?;
    import.out.flush().map_err(io)?;
    drop(import);
    let status = child.wait().map_err(|e| format!("git fast-import: {e}"))?;
    if !status.success() {
        return Err(format!("git fast-import failed ({status})"));
    }
    eprintln!(
        "gen-ledger: imported {} records, {} commits ({:.1}s)",
        plans.len(),
        total + 1,
        clock.elapsed().as_secs_f64()
    );
    if !args.no_checkout {
        git(&args.out, &["reset", "-q", "--hard", "main"])?;
    }
    if !args.no_commit_graph {
        git(&args.out, &["commit-graph", "write", "--reachable"])?;
    }
    eprintln!(
        "gen-ledger: {} ready ({:.1}s)",
        args.out.display(),
        clock.elapsed().as_secs_f64()
    );
    Ok(())
}

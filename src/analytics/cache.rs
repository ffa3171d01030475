//! The analytics cache, `.git/deploy-ledger/analytics-cache`: the history
//! walk, the parsed records and the audit facts of the last revision read.
//!
//! Everything in it is keyed by object ids, which never change meaning: a
//! record is reused only for the same blob id, the walk only when its tip
//! is the revision read or an ancestor of it (then only the new commits are
//! walked), the audit facts only for the same tip. Service paths are part
//! of the key. A cache that is missing, from another version or unreadable
//! is ignored and rewritten: deleting it only costs time.

use chrono::{DateTime, FixedOffset, TimeZone};
use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::path::Path;

use super::graph::{Commit, Oid};
use super::AuditEntry;
use crate::git::history::{ToolAction, ToolEdit, Walk};
use crate::record::{GitInfo, Phase, Record, Rollback, Status};

// 4: the same layout as 3, but the audit facts of a 3 were computed with
// versions ordered by committer time (wrong when clocks disagree): not
// reused. 5: record-file changes and tool commits listed sparsely. 6: the
// same layout, but a 5's audit named the merge for an edit made on a branch.
// 7: a commit's flags byte also says whether history is cut below it.
// 8: a CRC-32 of the whole file after it (a damaged cache gave other
// figures, or asked for gigabytes from a damaged length). 9: the record ids
// of tool commits listed once, each tool commit naming one by its index.
const MAGIC: &[u8] = b"deploy-ledger analytics-cache 9\n";
pub const FILE: &str = "analytics-cache";

/// One file under `deployments/checklists` at the tip, parsed.
#[derive(Debug, Clone)]
pub enum Parsed {
    NotARecord,
    Broken(String),
    Record(Box<Record>),
}

#[derive(Debug, Default)]
pub struct Cache {
    pub tip: String,
    pub prefixes: Vec<String>,
    pub walk: Walk,
    /// Files at the tip: (path, blob, what it holds).
    pub files: Vec<(String, Oid, Parsed)>,
    pub edited: Vec<AuditEntry>,
    pub deleted: Vec<AuditEntry>,
}

// ---------------------------------------------------------------- writing

struct W(Vec<u8>);

impl W {
    /// Moves what is buffered to `out` once it is large: the cache of a
    /// large ledger is written as it is encoded, never held whole.
    fn spill(&mut self, out: &mut impl Write) -> std::io::Result<()> {
        if self.0.len() >= 1 << 20 {
            out.write_all(&self.0)?;
            self.0.clear();
        }
        Ok(())
    }
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn i64(&mut self, v: i64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn oid(&mut self, v: &Oid) {
        self.0.extend_from_slice(v);
    }
    fn str(&mut self, s: &str) {
        self.u32(s.len() as u32);
        self.0.extend_from_slice(s.as_bytes());
    }
    fn opt_str(&mut self, s: &Option<String>) {
        match s {
            None => self.u8(0),
            Some(s) => {
                self.u8(1);
                self.str(s);
            }
        }
    }
    fn opt_i64(&mut self, v: Option<i64>) {
        match v {
            None => self.u8(0),
            Some(v) => {
                self.u8(1);
                self.i64(v);
            }
        }
    }
    fn opt_u64(&mut self, v: Option<u64>) {
        self.opt_i64(v.map(|v| v as i64));
    }
    fn time(&mut self, t: &DateTime<FixedOffset>) {
        self.i64(t.timestamp());
        self.u32(t.timestamp_subsec_nanos());
        self.i64(i64::from(t.offset().local_minus_utc()));
    }
    fn opt_time(&mut self, t: &Option<DateTime<FixedOffset>>) {
        match t {
            None => self.u8(0),
            Some(t) => {
                self.u8(1);
                self.time(t);
            }
        }
    }
    fn map(&mut self, m: &BTreeMap<String, String>) {
        self.u32(m.len() as u32);
        for (k, v) in m {
            self.str(k);
            self.str(v);
        }
    }
    fn entries(&mut self, list: &[AuditEntry]) {
        self.u32(list.len() as u32);
        for e in list {
            self.str(&e.id);
            self.str(&e.path);
            self.opt_str(&e.commit);
        }
    }
    fn record(&mut self, r: &Record) {
        self.str(&r.id);
        self.str(&r.service);
        self.str(&r.environment);
        self.opt_str(&r.version);
        self.opt_str(&r.strategy);
        self.u8(Status::ALL.iter().position(|s| *s == r.status).unwrap_or(0) as u8);
        self.opt_str(&r.operator);
        self.time(&r.started_at);
        self.opt_time(&r.finished_at);
        self.opt_i64(r.duration_seconds);
        self.opt_str(&r.git.commit);
        self.opt_str(&r.git.branch);
        self.opt_str(&r.git.tag);
        self.u8(match r.git.dirty {
            None => 0,
            Some(false) => 1,
            Some(true) => 2,
        });
        self.opt_str(&r.git.remote);
        self.map(&r.ci);
        self.map(&r.tools);
        self.u32(r.phases.len() as u32);
        for p in &r.phases {
            self.str(&p.name);
            self.time(&p.started_at);
            self.opt_time(&p.finished_at);
            self.opt_i64(p.duration_seconds);
        }
        self.opt_u64(r.checklist_total);
        self.opt_u64(r.checklist_done);
        self.map(&r.change);
        match &r.rollback {
            None => self.u8(0),
            Some(b) => {
                self.u8(1);
                self.opt_str(&b.of);
                self.opt_str(&b.from_version);
                self.opt_str(&b.to_version);
                self.opt_str(&b.reason);
            }
        }
        self.opt_str(&r.failure_reason);
        self.map(&r.labels);
    }
}

/// A cache written up to its audit facts, in a temp file: the walk and the
/// records are written while the audit facts are worked out.
pub struct Head {
    tmp: super::checksum::Summed<tempfile::NamedTempFile>,
    w: W,
}

/// Writes all of the cache but its audit facts (see [`Head::finish`]).
pub fn write_head(
    dir: &Path,
    tip: &str,
    prefixes: &[String],
    walk: &Walk,
    files: &[(String, Oid, Parsed)],
) -> std::io::Result<Head> {
    std::fs::create_dir_all(dir)?;
    let file = tempfile::NamedTempFile::new_in(dir)?;
    let mut tmp = super::checksum::Summed::new(file);
    let mut w = W(Vec::with_capacity(2 << 20));
    w.0.extend_from_slice(MAGIC);
    w.str(tip);
    w.u32(prefixes.len() as u32);
    for p in prefixes {
        w.str(p);
    }
    let g = &walk.graph;
    w.u8(u8::from(walk.shallow));
    w.u32(g.commits.len() as u32);
    for (i, (c, oid)) in (0..).zip(g.commits.iter().zip(&g.ids)) {
        w.oid(oid);
        w.i64(c.author_time);
        w.i64(c.commit_time);
        w.u8(u8::from(c.code) | u8::from(c.cut) << 1);
        w.u64(g.touches(i));
        let parents = g.parents(i);
        w.u32(parents.len() as u32);
        for p in parents {
            w.u32(*p);
        }
        w.spill(&mut tmp)?;
    }
    // The record-file changes, behind their length: a run at the cached tip
    // does not need them and skips them. (The length is worked out first:
    // the section is written as it is encoded, 40 MB at 100,000 records.)
    let changes: usize = walk
        .changes
        .iter()
        .map(|(_, (path, blob))| 4 + 4 + path.len() + 1 + if blob.is_some() { 20 } else { 0 })
        .sum();
    let ids: usize = walk.tool_ids.iter().map(|id| 4 + id.len()).sum();
    let tools = 4 + ids + 4 + walk.tool.len() * (4 + 1 + 4);
    w.u64((4 + changes + tools) as u64);
    {
        w.u32(walk.changes.len() as u32);
        for (i, (path, blob)) in &walk.changes {
            w.u32(*i);
            w.str(path);
            match blob {
                None => w.u8(0),
                Some(b) => {
                    w.u8(1);
                    w.oid(b);
                }
            }
            w.spill(&mut tmp)?;
        }
        w.u32(walk.tool_ids.len() as u32);
        for id in &walk.tool_ids {
            w.str(id);
            w.spill(&mut tmp)?;
        }
        w.u32(walk.tool.len() as u32);
        for (i, t) in &walk.tool {
            let a = ToolAction::ALL
                .iter()
                .position(|a| *a == t.action)
                .unwrap_or(0);
            w.u32(*i);
            w.u8(a as u8);
            w.u32(t.id);
            w.spill(&mut tmp)?;
        }
    }
    w.u32(files.len() as u32);
    for (path, blob, parsed) in files {
        w.str(path);
        w.oid(blob);
        match parsed {
            Parsed::NotARecord => w.u8(0),
            Parsed::Broken(m) => {
                w.u8(1);
                w.str(m);
            }
            Parsed::Record(r) => {
                w.u8(2);
                w.record(r);
            }
        }
        w.spill(&mut tmp)?;
    }
    Ok(Head { tmp, w })
}

impl Head {
    /// Writes the audit facts and puts the cache in place (atomically: the
    /// temp file is renamed over the old one).
    pub fn finish(
        self,
        dir: &Path,
        edited: &[AuditEntry],
        deleted: &[AuditEntry],
    ) -> std::io::Result<()> {
        let Head { mut tmp, mut w } = self;
        w.entries(edited);
        w.entries(deleted);
        tmp.write_all(&w.0)?;
        let file = tmp.finish()?;
        file.persist(dir.join(FILE)).map_err(|e| e.error)?;
        Ok(())
    }
}

// ---------------------------------------------------------------- reading

/// Reads the cache file in order, through a buffer (the file is not held
/// whole: 110 MB at 100,000 records); `end` is where its sum begins.
struct R {
    r: std::io::BufReader<std::fs::File>,
    at: u64,
    end: u64,
}

impl R {
    /// Moves past `n` bytes, if the file has them before its sum.
    fn advance(&mut self, n: usize) -> Option<()> {
        self.at = self.at.checked_add(n as u64).filter(|at| *at <= self.end)?;
        Some(())
    }
    fn bytes<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.advance(N)?;
        let mut b = [0u8; N];
        self.r.read_exact(&mut b).ok()?;
        Some(b)
    }
    fn vec(&mut self, n: usize) -> Option<Vec<u8>> {
        self.advance(n)?;
        let mut v = vec![0u8; n];
        self.r.read_exact(&mut v).ok()?;
        Some(v)
    }
    fn skip(&mut self, n: usize) -> Option<()> {
        self.advance(n)?;
        self.r.seek_relative(i64::try_from(n).ok()?).ok()
    }
    fn u8(&mut self) -> Option<u8> {
        Some(self.bytes::<1>()?[0])
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.bytes()?))
    }
    fn i64(&mut self) -> Option<i64> {
        Some(i64::from_le_bytes(self.bytes()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.bytes()?))
    }
    fn oid(&mut self) -> Option<Oid> {
        self.bytes()
    }
    fn str(&mut self) -> Option<String> {
        let n = self.u32()? as usize;
        String::from_utf8(self.vec(n)?).ok()
    }
    fn flag(&mut self) -> Option<bool> {
        match self.u8()? {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }
    fn opt_str(&mut self) -> Option<Option<String>> {
        Some(if self.flag()? {
            Some(self.str()?)
        } else {
            None
        })
    }
    fn opt_i64(&mut self) -> Option<Option<i64>> {
        Some(if self.flag()? {
            Some(self.i64()?)
        } else {
            None
        })
    }
    fn time(&mut self) -> Option<DateTime<FixedOffset>> {
        let secs = self.i64()?;
        let nanos = self.u32()?;
        let offset = FixedOffset::east_opt(i32::try_from(self.i64()?).ok()?)?;
        offset.timestamp_opt(secs, nanos).single()
    }
    fn opt_time(&mut self) -> Option<Option<DateTime<FixedOffset>>> {
        Some(if self.flag()? {
            Some(self.time()?)
        } else {
            None
        })
    }
    fn map(&mut self) -> Option<BTreeMap<String, String>> {
        let n = self.u32()?;
        let mut m = BTreeMap::new();
        for _ in 0..n {
            let k = self.str()?;
            m.insert(k, self.str()?);
        }
        Some(m)
    }
    fn entries(&mut self) -> Option<Vec<AuditEntry>> {
        let n = self.u32()?;
        (0..n)
            .map(|_| {
                Some(AuditEntry {
                    id: self.str()?,
                    path: self.str()?,
                    commit: self.opt_str()?,
                })
            })
            .collect()
    }
    fn record(&mut self) -> Option<Record> {
        let id = self.str()?;
        let service = self.str()?;
        let environment = self.str()?;
        let version = self.opt_str()?;
        let strategy = self.opt_str()?;
        let status = *Status::ALL.get(self.u8()? as usize)?;
        let operator = self.opt_str()?;
        let started_at = self.time()?;
        let finished_at = self.opt_time()?;
        let duration_seconds = self.opt_i64()?;
        let git = GitInfo {
            commit: self.opt_str()?,
            branch: self.opt_str()?,
            tag: self.opt_str()?,
            dirty: match self.u8()? {
                0 => None,
                1 => Some(false),
                _ => Some(true),
            },
            remote: self.opt_str()?,
        };
        let ci = self.map()?;
        let tools = self.map()?;
        let n = self.u32()?;
        // Exact in size (a phase takes at least 26 bytes of the file).
        let left = usize::try_from(self.end - self.at).ok()?;
        let mut phases = Vec::with_capacity((n as usize).min(left / 26));
        for _ in 0..n {
            phases.push(Phase {
                name: self.str()?,
                started_at: self.time()?,
                finished_at: self.opt_time()?,
                duration_seconds: self.opt_i64()?,
            });
        }
        let checklist_total = self.opt_i64()?.map(|v| v as u64);
        let checklist_done = self.opt_i64()?.map(|v| v as u64);
        let change = self.map()?;
        let rollback = if self.flag()? {
            Some(Box::new(Rollback {
                of: self.opt_str()?,
                from_version: self.opt_str()?,
                to_version: self.opt_str()?,
                reason: self.opt_str()?,
            }))
        } else {
            None
        };
        Some(Record {
            id,
            service,
            environment,
            version,
            strategy,
            status,
            operator,
            started_at,
            finished_at,
            duration_seconds,
            git,
            ci,
            tools,
            phases,
            checklist_total,
            checklist_done,
            change,
            rollback,
            failure_reason: self.opt_str()?,
            labels: self.map()?,
        })
    }
}

/// Reads the cache; None when absent, of another version or damaged (its
/// sum is checked before anything is decoded).
/// At `rev` itself the record-file changes are not needed and not decoded
/// (the audit facts are cached).
pub fn read(dir: &Path, rev: &str) -> Option<Cache> {
    let mut file = std::fs::File::open(dir.join(FILE)).ok()?;
    let end = super::checksum::verified_file(&mut file)?;
    let size = usize::try_from(end).ok()?;
    let mut r = R {
        r: std::io::BufReader::with_capacity(1 << 16, file),
        at: 0,
        end,
    };
    if r.vec(MAGIC.len())? != MAGIC {
        return None;
    }
    let mut cache = Cache {
        tip: r.str()?,
        ..Cache::default()
    };
    for _ in 0..r.u32()? {
        cache.prefixes.push(r.str()?);
    }
    cache.walk.shallow = r.flag()?;
    let n = r.u32()? as usize;
    let g = &mut cache.walk.graph;
    // A commit takes at least 49 bytes: no length asks for more than the
    // file could hold.
    g.commits.reserve(n.min(size / 49));
    g.ids.reserve(n.min(size / 49));
    g.prefixes = cache.prefixes.clone();
    for _ in 0..n {
        let oid = r.oid()?;
        let author_time = r.i64()?;
        let commit_time = r.i64()?;
        let flags = r.u8()?;
        if flags > 3 {
            return None;
        }
        let touches = r.u64()?;
        let np = r.u32()?;
        let mut parents = super::graph::Parents::new();
        for _ in 0..np {
            let p = r.u32()?;
            if p as usize >= n {
                return None;
            }
            parents.push(p);
        }
        g.add(
            oid,
            Commit {
                author_time,
                commit_time,
                code: flags & 1 != 0,
                cut: flags & 2 != 0,
                ..Commit::default()
            },
            &parents,
            touches,
        );
    }
    let len = usize::try_from(r.u64()?).ok()?;
    if cache.tip == rev {
        r.skip(len)?;
    } else {
        let k = r.u32()? as usize;
        cache.walk.changes.reserve(k.min(len));
        for _ in 0..k {
            let i = r.u32()?;
            let path = r.str()?;
            let blob = if r.flag()? { Some(r.oid()?) } else { None };
            if i as usize >= n {
                return None;
            }
            cache.walk.changes.push((i, (path, blob)));
        }
        let k = r.u32()? as usize;
        cache.walk.tool_ids.reserve(k.min(len));
        for _ in 0..k {
            cache.walk.tool_ids.push(r.str()?.into());
        }
        let k = r.u32()? as usize;
        cache.walk.tool.reserve(k.min(len));
        for _ in 0..k {
            let i = r.u32()?;
            let action = *ToolAction::ALL.get(usize::from(r.u8()?))?;
            let id = r.u32()?;
            if i as usize >= n || id as usize >= cache.walk.tool_ids.len() {
                return None;
            }
            cache.walk.tool.push((i, ToolEdit { id, action }));
        }
    }
    for _ in 0..r.u32()? {
        let path = r.str()?;
        let blob = r.oid()?;
        let parsed = match r.u8()? {
            0 => Parsed::NotARecord,
            1 => Parsed::Broken(r.str()?),
            2 => Parsed::Record(Box::new(r.record()?)),
            _ => return None,
        };
        cache.files.push((path, blob, parsed));
    }
    cache.edited = r.entries()?;
    cache.deleted = r.entries()?;
    (r.at == r.end).then_some(cache)
}

/// The parsed files of a cache by blob id, for reuse at another tip. A
/// broken file is left out (parsed again): its message names the path it
/// was at, and the same blob may now be at another.
pub fn by_blob(files: Vec<(String, Oid, Parsed)>) -> HashMap<Oid, Parsed> {
    files
        .into_iter()
        .filter(|(_, _, p)| !matches!(p, Parsed::Broken(_)))
        .map(|(_, b, p)| (b, p))
        .collect()
}

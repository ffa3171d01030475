//! The commit objects a commit-graph file names, and their root trees, read
//! straight from the pack files in pack order (the author time and the
//! message are not in the commit-graph file; lead time and the audit need
//! them, and each commit's root tree says whether it changed code).
//!
//! libgit2 reads an object by id: a binary search of the pack index (85 MB
//! at 50,000 records, each step a cache miss) under the pack's lock, then
//! the inflate. Here each pack index is read once, a first byte of the ids
//! at a time, beside the ids wanted in id order (the order of the
//! commit-graph file for commits, sorted ids for trees), the objects are sorted by their place
//! in the pack, and runs of them are read and inflated on every core, a
//! block of the pack at a time. A root tree stored as a delta is rebuilt
//! from its base, which lies earlier in the pack and is most often a root
//! tree read just before it.
//!
//! An object this cannot read (in no pack of the repository's own folder,
//! a commit stored as a delta, a delta of a base named by id, cut by the end
//! of a block) is left to the caller, which reads it with libgit2.

use std::io::{Read as _, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::history::{commit_fields, CommitInfo};
use crate::config::LEDGER_DIR;

/// Objects per block read at once (about 4 MB of a pack written by `git
/// fast-import`, where commits lie between their trees and blobs).
const BLOCK: usize = 4096;

/// A gap between two wanted objects that ends a block (what lies between
/// is not read).
const GAP: u64 = 1 << 20;

/// Bytes read past a block's last object: a commit object's or a root
/// tree's compressed size (a longer one is read on its own, or by the
/// caller).
const TAIL: u64 = 64 << 10;

/// Rebuilt objects kept per block for the deltas after them.
const KEPT: usize = 64;

/// What a commit's root tree says for the comparison with its parent's.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct RootTree {
    /// The `deployments` entry: its id and kind.
    pub ledger: Option<(git2::Oid, git2::ObjectType)>,
    /// The first 16 bytes of the SHA-1 of every other entry's name and id,
    /// in the tree's order: two root trees with the same digest have the
    /// same entries outside `deployments/`.
    pub rest: [u8; 16],
    /// Whether it has any entry besides `deployments`.
    pub has_rest: bool,
}

impl RootTree {
    /// Whether this tree changes anything outside `deployments/` against
    /// `old` (None: a root commit, whose tree has anything else).
    pub fn code_changed(&self, old: Option<&RootTree>) -> bool {
        match old {
            None => self.has_rest,
            Some(old) => self.rest != old.rest,
        }
    }

    /// The summary of a tree object's bytes; None when they are not a tree.
    fn of(data: &[u8]) -> Option<RootTree> {
        use sha1::Digest as _;
        let mut rest = sha1::Sha1::new();
        let mut ledger = None;
        let mut has_rest = false;
        let mut at = data;
        while !at.is_empty() {
            let space = at.iter().position(|b| *b == b' ')?;
            let nul = space + 1 + at[space + 1..].iter().position(|b| *b == 0)?;
            let (mode, name) = (&at[..space], &at[space + 1..nul]);
            let id = at.get(nul + 1..nul + 21)?;
            if name == LEDGER_DIR.as_bytes() {
                let kind = match mode {
                    b"40000" | b"040000" => git2::ObjectType::Tree,
                    b"160000" => git2::ObjectType::Commit,
                    _ => git2::ObjectType::Blob,
                };
                ledger = Some((git2::Oid::from_bytes(id).ok()?, kind));
            } else {
                rest.update(name);
                rest.update([0]);
                rest.update(id);
                has_rest = true;
            }
            at = &at[nul + 21..];
        }
        let digest = rest.finalize();
        Some(RootTree {
            ledger,
            rest: digest[..16].try_into().ok()?,
            has_rest,
        })
    }
}

/// What was read from the packs, by commit-graph position.
#[derive(Default)]
pub struct Packed {
    pub commits: Vec<Option<CommitInfo>>,
    pub roots: Vec<Option<RootTree>>,
}

/// A wanted object: a graph position, with this bit set for its root tree.
const ROOT: u32 = 1 << 31;

/// The commits of `graph` and their root trees, by position: those read
/// from the packs of `objects/pack`. Err when a commit's object names
/// another tree than the commit-graph file (the file is not this
/// repository's).
pub fn read(
    objects: &Path,
    graph: &gix_commitgraph::Graph,
) -> std::result::Result<Packed, gix_hash::ObjectId> {
    let n = graph.num_commits() as usize;
    if n >= ROOT as usize {
        return Ok(Packed::default());
    }
    let mut out = Packed::default();
    out.commits.resize_with(n, || None);
    out.roots.resize(n, None);
    // The root trees by id, for searches in id order.
    let mut trees: Vec<(gix_hash::ObjectId, u32)> = (0..n as u32)
        .into_par_iter()
        .map(|p| {
            let c = graph.commit_at(gix_commitgraph::Position(p));
            (c.root_tree_id().to_owned(), p)
        })
        .collect();
    trees.par_sort_unstable();
    let indexes = pack_indexes(objects);
    let last = indexes.len().saturating_sub(1);
    for (k, idx) in indexes.into_iter().enumerate() {
        let Some(index) = PackIndex::open(&idx) else {
            continue;
        };
        let mut located = index.locate(graph, &trees, &out);
        if k == last {
            // Not needed for reading (25 MB at 100,000 records).
            trees = Vec::new();
        }
        located.par_sort_unstable_by_key(|l| l.key());
        let pack = idx.with_extension("pack");
        // Each block's objects go to their places as it ends (all of them
        // at once took 100 MB more at 100,000 records).
        let shared = std::sync::Mutex::new(&mut out);
        blocks(&located).par_iter().try_for_each(|block| {
            let read = read_block(&pack, block, graph)?;
            let mut out = shared.lock().unwrap_or_else(|e| e.into_inner());
            for (p, r) in read {
                match r {
                    Object::Commit(c) => out.commits[p as usize] = Some(c),
                    Object::Root(t) => out.roots[p as usize] = Some(t),
                }
            }
            Ok::<(), gix_hash::ObjectId>(())
        })?;
    }
    Ok(out)
}

/// A pack index (version 2), read in pieces rather than mapped: it is
/// searched once, in id order, by walking its sorted ids beside the sorted
/// ids wanted (170 MB at 100,000 records, which a binary search per object
/// kept resident).
struct PackIndex {
    file: std::fs::File,
    /// The fan-out table: the number of objects whose id's first byte is at
    /// most the index.
    fanout: Vec<u32>,
    objects: u64,
}

/// Where a version-2 pack index's sorted ids begin.
const IDX_IDS: u64 = 8 + 256 * 4;

impl PackIndex {
    /// The index at `path`; None when it is not a version-2 index of the
    /// size its fan-out table says (its objects are then left to libgit2).
    fn open(path: &Path) -> Option<PackIndex> {
        let file = std::fs::File::open(path).ok()?;
        let mut head = vec![0u8; IDX_IDS as usize];
        file.read_exact_at(&mut head, 0).ok()?;
        if head[..8] != [0xff, b't', b'O', b'c', 0, 0, 0, 2] {
            return None;
        }
        let fanout: Vec<u32> = head[8..]
            .chunks_exact(4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        let objects = u64::from(*fanout.last()?);
        let len = file.metadata().ok()?.len();
        // Ids, CRCs and offsets (28 bytes an object), then two checksums.
        if len < IDX_IDS + 28 * objects + 40 || fanout.windows(2).any(|w| w[0] > w[1]) {
            return None;
        }
        Some(PackIndex {
            file,
            fanout,
            objects,
        })
    }

    /// The pack offsets of the commits of `graph` and of the root `trees`
    /// (sorted by id) this index has, each tagged as in [`Packed`] (the
    /// position, with [`ROOT`] for a root tree), leaving out those `found`
    /// already. One task per first byte of the ids, on every core.
    fn locate(
        &self,
        graph: &gix_commitgraph::Graph,
        trees: &[(gix_hash::ObjectId, u32)],
        found: &Packed,
    ) -> Vec<Located> {
        let n = graph.num_commits();
        let commit_id = |p: u32| graph.id_at(gix_commitgraph::Position(p)).as_bytes();
        (0..256usize)
            .into_par_iter()
            .flat_map_iter(|first| {
                let lo = if first == 0 {
                    0
                } else {
                    self.fanout[first - 1]
                };
                let hi = self.fanout[first];
                let byte = first as u8;
                // The wanted ids with this first byte.
                let commits = first_position(n, |p| commit_id(p)[0] >= byte)
                    ..first_position(n, |p| commit_id(p)[0] > byte);
                let roots = trees.partition_point(|(id, _)| id.as_bytes()[0] < byte)
                    ..trees.partition_point(|(id, _)| id.as_bytes()[0] <= byte);
                let mut out = Vec::new();
                if lo == hi || (commits.is_empty() && roots.is_empty()) {
                    return out.into_iter();
                }
                let Some((ids, offsets)) = self.bucket(lo, hi) else {
                    return out.into_iter();
                };
                let wanted_commits = commits
                    .filter(|p| found.commits[*p as usize].is_none())
                    .map(|p| (commit_id(p), p));
                let wanted_roots = trees[roots]
                    .iter()
                    .filter(|(_, p)| found.roots[*p as usize].is_none())
                    .map(|(id, p)| (id.as_bytes(), p | ROOT));
                self.merge(&ids, &offsets, wanted_commits, &mut out);
                self.merge(&ids, &offsets, wanted_roots, &mut out);
                out.into_iter()
            })
            .collect()
    }

    /// Walks `ids` (sorted, 20 bytes each) beside `wanted` (sorted): each
    /// wanted id found goes to `out` with its offset.
    fn merge<'a>(
        &self,
        ids: &[u8],
        offsets: &[u8],
        wanted: impl Iterator<Item = (&'a [u8], u32)>,
        out: &mut Vec<Located>,
    ) {
        let mut ids = ids.chunks_exact(20).zip(offsets.chunks_exact(4)).peekable();
        for (id, tag) in wanted {
            while ids.next_if(|(have, _)| *have < id).is_some() {}
            // Not taken: commits with the same root tree want it again.
            if let Some((_, entry)) = ids.peek().filter(|(have, _)| *have == id) {
                if let Some(offset) = self.offset(entry) {
                    out.push(Located { offset, tag });
                }
            }
        }
    }

    /// The ids and 4-byte offsets of the objects `lo..hi` (by index).
    fn bucket(&self, lo: u32, hi: u32) -> Option<(Vec<u8>, Vec<u8>)> {
        let (lo, count) = (u64::from(lo), u64::from(hi - lo));
        let mut ids = vec![0u8; usize::try_from(count * 20).ok()?];
        self.file.read_exact_at(&mut ids, IDX_IDS + lo * 20).ok()?;
        let mut offsets = vec![0u8; usize::try_from(count * 4).ok()?];
        let at = IDX_IDS + self.objects * 24 + lo * 4;
        self.file.read_exact_at(&mut offsets, at).ok()?;
        Some((ids, offsets))
    }

    /// A pack offset from its 4-byte entry: the offset itself, or with the
    /// high bit set, the place of an 8-byte one in the table after.
    fn offset(&self, entry: &[u8]) -> Option<u64> {
        let v = u32::from_be_bytes(entry.try_into().ok()?);
        if v & 0x8000_0000 == 0 {
            return Some(u64::from(v));
        }
        let mut big = [0u8; 8];
        let at = IDX_IDS + self.objects * 28 + u64::from(v & 0x7fff_ffff) * 8;
        self.file.read_exact_at(&mut big, at).ok()?;
        Some(u64::from_be_bytes(big))
    }
}

/// The first position of `0..n` where `past` holds (`past` is false, then
/// true), or `n`.
fn first_position(n: u32, past: impl Fn(u32) -> bool) -> u32 {
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if past(mid) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo
}

/// One wanted object read from a pack.
enum Object {
    Commit(CommitInfo),
    Root(RootTree),
}

/// The `.idx` files of `objects/pack`, in name order.
fn pack_indexes(objects: &Path) -> Vec<PathBuf> {
    let Ok(dir) = std::fs::read_dir(objects.join("pack")) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = dir
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "idx"))
        .filter(|p| p.with_extension("pack").is_file())
        .collect();
    out.sort();
    out
}

/// A wanted object found in a pack: its offset there, and what it is (as
/// in [`Packed`]: the position, with [`ROOT`] for a root tree). 12 bytes,
/// not 16: 1.8 million of these are held while the pack is read at
/// 100,000 records.
#[derive(Clone, Copy)]
#[repr(C, packed(4))]
struct Located {
    offset: u64,
    tag: u32,
}

impl Located {
    fn key(&self) -> (u64, u32) {
        (self.offset, self.tag)
    }
}

/// `located` (by offset) cut into blocks of at most [`BLOCK`] objects,
/// none spanning a gap of more than [`GAP`] bytes.
fn blocks(located: &[Located]) -> Vec<&[Located]> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=located.len() {
        let end = i == located.len()
            || i - start == BLOCK
            || located[i].offset - located[i - 1].offset > GAP;
        if end {
            out.push(&located[start..i]);
            start = i;
        }
    }
    out
}

/// Reads the objects of one block (`(pack offset, wanted)`, by offset)
/// from the pack file at `pack`; those it cannot read are left out.
fn read_block(
    pack: &Path,
    block: &[Located],
    graph: &gix_commitgraph::Graph,
) -> std::result::Result<Vec<(u32, Object)>, gix_hash::ObjectId> {
    let (Some(first), Some(last)) = (block.first(), block.last()) else {
        return Ok(Vec::new());
    };
    let Ok(mut reader) = BlockReader::new(pack, first.offset, last.offset + TAIL) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::with_capacity(block.len());
    let mut last_root: Option<(u64, RootTree)> = None;
    for &Located {
        offset,
        tag: wanted,
    } in block
    {
        let p = wanted & !ROOT;
        if wanted & ROOT != 0 {
            // Commits with the same tree share its summary.
            let root = match last_root {
                Some((at, t)) if at == offset => Some(t),
                _ => reader
                    .object(offset)
                    .filter(|(kind, _)| *kind == Kind::Tree)
                    .and_then(|(_, data)| RootTree::of(&data)),
            };
            if let Some(t) = root {
                last_root = Some((offset, t));
                out.push((p, Object::Root(t)));
            }
            continue;
        }
        let Some(data) = reader.commit(offset) else {
            continue;
        };
        let commit = graph.commit_at(gix_commitgraph::Position(p));
        let Some(c) =
            commit_fields(data).filter(|c| c.tree.as_bytes() == commit.root_tree_id().as_bytes())
        else {
            return Err(graph.id_at(gix_commitgraph::Position(p)).to_owned());
        };
        out.push((p, Object::Commit(c.info())));
    }
    Ok(out)
}

/// The kind of a whole object.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Commit,
    Tree,
    Other,
}

/// The bytes of one block of a pack, and the pack file for those before.
struct Source {
    file: std::fs::File,
    /// The block's bytes, from `start` in the pack.
    bytes: Vec<u8>,
    start: u64,
}

impl Source {
    /// The pack's bytes from `offset`: from the block, or read from the
    /// file (`len` bytes at most) for an offset before it.
    fn at(&self, offset: u64, len: u64) -> Option<std::borrow::Cow<'_, [u8]>> {
        if offset >= self.start {
            let at = usize::try_from(offset - self.start).ok()?;
            return self.bytes.get(at..).map(std::borrow::Cow::Borrowed);
        }
        let mut bytes = vec![0; usize::try_from(len).ok()?];
        let got = self.file.read_at(&mut bytes, offset).ok()?;
        bytes.truncate(got);
        Some(std::borrow::Cow::Owned(bytes))
    }
}

/// A block of a pack, and what rebuilding deltas needs.
struct BlockReader {
    src: Source,
    inflate: gix_zlib::Inflate,
    /// The last objects rebuilt, by offset, for the deltas after them.
    kept: std::collections::VecDeque<(u64, Kind, std::rc::Rc<[u8]>)>,
    /// An inflated commit.
    buf: Vec<u8>,
}

impl BlockReader {
    fn new(pack: &Path, start: u64, end: u64) -> std::io::Result<BlockReader> {
        let mut file = std::fs::File::open(pack)?;
        file.seek(SeekFrom::Start(start))?;
        let mut bytes = Vec::new();
        (&mut file).take(end - start).read_to_end(&mut bytes)?;
        Ok(BlockReader {
            src: Source { file, bytes, start },
            inflate: gix_zlib::Inflate::default(),
            kept: Default::default(),
            buf: Vec::new(),
        })
    }

    /// The commit object at `offset` (in the block), when it is stored
    /// whole.
    fn commit(&mut self, offset: u64) -> Option<&[u8]> {
        let at = usize::try_from(offset.checked_sub(self.src.start)?).ok()?;
        let entry = self.src.bytes.get(at..)?;
        let e = gix_pack::data::Entry::from_bytes(entry, offset, gix_hash::Kind::Sha1).ok()?;
        if !matches!(e.header, gix_pack::data::entry::Header::Commit) {
            return None;
        }
        inflate_entry(&mut self.inflate, entry, offset, &e, &mut self.buf)
            .then_some(self.buf.as_slice())
    }

    /// The whole object at `offset` and its kind, a delta rebuilt from its
    /// bases (each base at an earlier offset of the same pack).
    fn object(&mut self, offset: u64) -> Option<(Kind, std::rc::Rc<[u8]>)> {
        // The deltas from `offset` down to a base that is whole or kept.
        let mut deltas: Vec<(u64, Vec<u8>)> = Vec::new();
        let mut at = offset;
        let (kind, mut object) = loop {
            if let Some((_, kind, o)) = self.kept.iter().find(|(o, _, _)| *o == at) {
                break (*kind, o.clone());
            }
            let (header, data) = self.entry(at)?;
            use gix_pack::data::entry::Header;
            let kind = match header {
                Header::OfsDelta { base_distance } => {
                    deltas.push((at, data));
                    at = Header::verified_base_pack_offset(at, base_distance)?;
                    // A chain longer than git writes is not followed.
                    if deltas.len() > 10_000 {
                        return None;
                    }
                    continue;
                }
                Header::RefDelta { .. } => return None,
                Header::Commit => Kind::Commit,
                Header::Tree => Kind::Tree,
                Header::Blob | Header::Tag => Kind::Other,
            };
            let whole: std::rc::Rc<[u8]> = data.into();
            self.keep(at, kind, whole.clone());
            break (kind, whole);
        };
        while let Some((at, delta)) = deltas.pop() {
            object = apply_delta(&object, &delta)?.into();
            self.keep(at, kind, object.clone());
        }
        Some((kind, object))
    }

    fn keep(&mut self, offset: u64, kind: Kind, object: std::rc::Rc<[u8]>) {
        if self.kept.len() == KEPT {
            self.kept.pop_front();
        }
        self.kept.push_back((offset, kind, object));
    }

    /// The header and inflated data of the pack entry at `offset`.
    fn entry(&mut self, offset: u64) -> Option<(gix_pack::data::entry::Header, Vec<u8>)> {
        // An entry before the block is read on its own: a small one first.
        for len in [4 << 10, 1 << 20] {
            let bytes = self.src.at(offset, len)?;
            let Ok(e) = gix_pack::data::Entry::from_bytes(&bytes, offset, gix_hash::Kind::Sha1)
            else {
                return None;
            };
            let mut out = Vec::new();
            if inflate_entry(&mut self.inflate, &bytes, offset, &e, &mut out) {
                return Some((e.header, out));
            }
            if offset >= self.src.start {
                return None;
            }
        }
        None
    }
}

/// Inflates the data of entry `e`, whose bytes (from its header on) start
/// `entry`, into `out`; false when it does not end within `entry`.
fn inflate_entry(
    inflate: &mut gix_zlib::Inflate,
    entry: &[u8],
    offset: u64,
    e: &gix_pack::data::Entry,
    out: &mut Vec<u8>,
) -> bool {
    let (Ok(size), Ok(start)) = (
        usize::try_from(e.decompressed_size),
        usize::try_from(e.data_offset - offset),
    ) else {
        return false;
    };
    let Some(input) = entry.get(start..) else {
        return false;
    };
    out.clear();
    out.resize(size, 0);
    inflate.reset();
    matches!(
        inflate.once(input, out),
        Ok((gix_zlib::Status::StreamEnd, _, written)) if written == size
    )
}

/// A size at the start of a delta: 7 bits a byte, low bits first.
fn delta_size(d: &mut &[u8]) -> Option<usize> {
    let mut size = 0usize;
    for shift in (0..64).step_by(7) {
        let (b, rest) = d.split_first()?;
        *d = rest;
        size |= usize::from(b & 0x7f).checked_shl(shift)?;
        if b & 0x80 == 0 {
            return Some(size);
        }
    }
    None
}

/// The object a git delta makes of `base` (git's `patch-delta.c`): the
/// sizes of the base and of the result, then instructions that copy a
/// range of the base or insert the bytes that follow them. None for a
/// malformed delta.
///
/// Written here because gix-pack keeps its own `delta::apply` private, and
/// its public `decode_entry` needs the whole pack mapped (1 GB at 100,000
/// records, most of it read in through the mapping).
fn apply_delta(base: &[u8], mut d: &[u8]) -> Option<Vec<u8>> {
    if delta_size(&mut d)? != base.len() {
        return None;
    }
    let size = delta_size(&mut d)?;
    let mut out = Vec::with_capacity(size);
    while let Some((&op, rest)) = d.split_first() {
        d = rest;
        if op & 0x80 != 0 {
            // Copy: which bytes of offset and length follow is in `op`.
            let mut field = |bits: std::ops::Range<u32>| -> Option<usize> {
                let mut v = 0usize;
                for (i, bit) in bits.enumerate() {
                    if op & (1 << bit) != 0 {
                        let (b, rest) = d.split_first()?;
                        d = rest;
                        v |= usize::from(*b) << (8 * i);
                    }
                }
                Some(v)
            };
            let from = field(0..4)?;
            let len = match field(4..7)? {
                0 => 0x10000,
                n => n,
            };
            out.extend_from_slice(base.get(from..from.checked_add(len)?)?);
        } else if op != 0 {
            let (bytes, rest) = d.split_at_checked(usize::from(op))?;
            out.extend_from_slice(bytes);
            d = rest;
        } else {
            return None;
        }
    }
    (out.len() == size).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A version-2 pack index of `objects` (id, offset), sorted by id.
    fn pack_index(objects: &[([u8; 20], u64)]) -> Vec<u8> {
        let mut out = vec![0xff, b't', b'O', b'c', 0, 0, 0, 2];
        for byte in 0..=255u8 {
            let n = objects.iter().filter(|(id, _)| id[0] <= byte).count() as u32;
            out.extend(n.to_be_bytes());
        }
        for (id, _) in objects {
            out.extend(id);
        }
        out.extend(vec![0u8; 4 * objects.len()]); // CRCs
        let mut large = Vec::new();
        for (_, offset) in objects {
            let entry = match u32::try_from(*offset) {
                Ok(o) if o < 0x8000_0000 => o,
                _ => {
                    large.extend(offset.to_be_bytes());
                    0x8000_0000 | (large.len() / 8 - 1) as u32
                }
            };
            out.extend(entry.to_be_bytes());
        }
        out.extend(large);
        out.extend([0u8; 40]); // the pack's and the index's checksums
        out
    }

    #[test]
    fn pack_index_searched_beside_the_wanted_ids() {
        let id = |first: u8, last: u8| {
            let mut id = [first; 20];
            id[19] = last;
            id
        };
        // Offsets past 2 GiB go through the table of 8-byte offsets.
        let objects = [
            (id(0x01, 1), 12),
            (id(0x01, 2), 5_000_000_000),
            (id(0x01, 3), 99),
            (id(0xfe, 0), 1 << 31),
        ];
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("pack-x.idx");
        std::fs::write(&path, pack_index(&objects)).expect("write");
        let index = PackIndex::open(&path).expect("a version-2 index");
        assert_eq!(index.objects, 4);
        let (ids, offsets) = index.bucket(0, 3).expect("the 0x01 bucket");
        // Wanted in id order, one absent, one wanted twice (two commits
        // with the same root tree).
        let wanted = [
            id(0x01, 0),
            id(0x01, 2),
            id(0x01, 2),
            id(0x01, 3),
            id(0x01, 9),
        ];
        let mut out = Vec::new();
        let tagged = wanted.iter().enumerate().map(|(i, w)| (&w[..], i as u32));
        index.merge(&ids, &offsets, tagged, &mut out);
        let keys = |out: &[Located]| out.iter().map(Located::key).collect::<Vec<_>>();
        assert_eq!(
            keys(&out),
            vec![(5_000_000_000, 1), (5_000_000_000, 2), (99, 3)]
        );
        let (ids, offsets) = index.bucket(3, 4).expect("the 0xfe bucket");
        let mut out = Vec::new();
        index.merge(
            &ids,
            &offsets,
            [(&id(0xfe, 0)[..], 7)].into_iter(),
            &mut out,
        );
        assert_eq!(keys(&out), vec![(1 << 31, 7)]);
        // Not an index of version 2, or cut short: not read.
        let mut v1 = pack_index(&objects);
        v1[7] = 1;
        std::fs::write(&path, &v1).expect("write");
        assert!(PackIndex::open(&path).is_none());
        let cut = pack_index(&objects);
        std::fs::write(&path, &cut[..cut.len() - 41]).expect("write");
        assert!(PackIndex::open(&path).is_none());
    }

    /// A delta in git's format: base size, result size, instructions.
    fn delta(base: usize, result: usize, ops: &[u8]) -> Vec<u8> {
        let mut d = Vec::new();
        for mut n in [base, result] {
            loop {
                let b = (n & 0x7f) as u8;
                n >>= 7;
                if n == 0 {
                    d.push(b);
                    break;
                }
                d.push(b | 0x80);
            }
        }
        d.extend_from_slice(ops);
        d
    }

    #[test]
    fn deltas_copy_and_insert() {
        let base = b"0123456789abcdef".repeat(10);
        // Copy 4 bytes from 2 (offset byte 0, length byte 0), insert "XY",
        // copy 3 bytes from 150 (offset byte 0 = 150).
        let d = delta(
            base.len(),
            9,
            &[0x80 | 0x01 | 0x10, 2, 4, 2, b'X', b'Y', 0x91, 150, 3],
        );
        assert_eq!(apply_delta(&base, &d).as_deref(), Some(&b"2345XY678"[..]));
        // A copy with no length byte copies 0x10000 bytes.
        let big = vec![7u8; 0x10000];
        let d = delta(big.len(), 0x10000, &[0x80]);
        assert_eq!(apply_delta(&big, &d), Some(big.clone()));
        // Malformed: wrong base size, a copy past the base, op 0, a
        // result of another size, an insert cut short.
        assert_eq!(apply_delta(&base, &delta(5, 1, &[1, b'a'])), None);
        assert_eq!(
            apply_delta(&base, &delta(base.len(), 4, &[0x91, 159, 4])),
            None
        );
        assert_eq!(apply_delta(&base, &delta(base.len(), 0, &[0])), None);
        assert_eq!(apply_delta(&base, &delta(base.len(), 3, &[1, b'a'])), None);
        assert_eq!(apply_delta(&base, &delta(base.len(), 3, &[3, b'a'])), None);
    }

    #[test]
    fn root_trees_are_summed_up_without_their_ledger() {
        let entry = |mode: &str, name: &str, id: u8| {
            let mut e = format!("{mode} {name}\0").into_bytes();
            e.extend_from_slice(&[id; 20]);
            e
        };
        let tree = |entries: &[Vec<u8>]| entries.concat();
        let a = RootTree::of(&tree(&[
            entry("100644", "README.md", 1),
            entry("40000", "deployments", 2),
            entry("40000", "src", 3),
        ]))
        .expect("a tree");
        assert_eq!(
            a.ledger,
            Some((
                git2::Oid::from_bytes(&[2; 20]).expect("an id"),
                git2::ObjectType::Tree
            ))
        );
        // Another ledger, the same code: no code change.
        let b = RootTree::of(&tree(&[
            entry("100644", "README.md", 1),
            entry("40000", "deployments", 9),
            entry("40000", "src", 3),
        ]))
        .expect("a tree");
        assert!(!b.code_changed(Some(&a)) && b.ledger != a.ledger);
        // Another id or name outside deployments/: a code change.
        let c = RootTree::of(&tree(&[
            entry("100644", "README.md", 1),
            entry("40000", "deployments", 2),
            entry("40000", "src", 4),
        ]))
        .expect("a tree");
        assert!(c.code_changed(Some(&a)));
        let d = RootTree::of(&tree(&[
            entry("100644", "README.md", 1),
            entry("40000", "deployments", 2),
        ]))
        .expect("a tree");
        assert!(d.code_changed(Some(&a)));
        // A root commit: code when it has anything besides the ledger.
        let only = RootTree::of(&entry("40000", "deployments", 2)).expect("a tree");
        assert!(!only.code_changed(None) && a.code_changed(None));
        assert_eq!(only.ledger.map(|l| l.1), Some(git2::ObjectType::Tree));
        // A file named deployments, and bytes that are no tree.
        let file = RootTree::of(&entry("100644", "deployments", 2)).expect("a tree");
        assert_eq!(file.ledger.map(|l| l.1), Some(git2::ObjectType::Blob));
        assert_eq!(RootTree::of(b"100644 cut"), None);
        assert_eq!(RootTree::of(&entry("100644", "x", 1)[..20]), None);
    }
}

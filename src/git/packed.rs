//! The commit objects a commit-graph file names, read straight from the
//! pack files in pack order (the author time and the message are not in the
//! commit-graph file; lead time and the audit need them).
//!
//! libgit2 reads an object by id: a binary search of the pack index (85 MB
//! at 50,000 records, each step a cache miss) under the pack's lock, then
//! the inflate. Here each pack index is searched in id order (the order of
//! the commit-graph file: each search lands next to the previous one), the
//! commits are sorted by their place in the pack, and runs of them are read
//! and inflated on every core, a block of the pack at a time.
//!
//! A commit this cannot read (in no pack of the repository's own folder, or
//! stored as a delta, or cut by the end of a block) is left to the caller.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::history::{commit_fields, CommitInfo};

/// Commits per block read at once (about 4 MB of a pack written by `git
/// fast-import`, where commits lie between their trees and blobs).
const BLOCK: usize = 4096;

/// Bytes read past a block's last commit: a commit object's compressed
/// size (a longer one is read by the caller).
const TAIL: u64 = 64 << 10;

/// The commits of `graph` by position: those read from the packs of
/// `objects/pack`. Err when a commit's object names another tree than the
/// commit-graph file (the file is not this repository's).
pub fn read_commits(
    objects: &Path,
    graph: &gix_commitgraph::Graph,
) -> std::result::Result<Vec<Option<CommitInfo>>, gix_hash::ObjectId> {
    let n = graph.num_commits() as usize;
    let mut out: Vec<Option<CommitInfo>> = Vec::new();
    out.resize_with(n, || None);
    for idx in pack_indexes(objects) {
        let Ok(index) = gix_pack::index::File::at(&idx, gix_hash::Kind::Sha1) else {
            continue;
        };
        let mut located: Vec<(u64, u32)> = (0..n as u32)
            .into_par_iter()
            .with_min_len(BLOCK)
            .filter(|p| out[*p as usize].is_none())
            .filter_map(|p| {
                let id = graph.id_at(gix_commitgraph::Position(p));
                let at = index.lookup(id)?;
                Some((index.pack_offset_at_index(at), p))
            })
            .collect();
        // The index's pages go before the pack is read.
        drop(index);
        located.par_sort_unstable();
        let pack = idx.with_extension("pack");
        let read: Vec<Vec<(u32, CommitInfo)>> = located
            .par_chunks(BLOCK)
            .map(|block| read_block(&pack, block, graph))
            .collect::<Result<_, _>>()?;
        for (p, r) in read.into_iter().flatten() {
            out[p as usize] = Some(r);
        }
    }
    Ok(out)
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

/// Reads the commits of one block (`(pack offset, graph position)`, by
/// offset) from the pack file at `pack`; those it cannot read are left out.
fn read_block(
    pack: &Path,
    block: &[(u64, u32)],
    graph: &gix_commitgraph::Graph,
) -> std::result::Result<Vec<(u32, CommitInfo)>, gix_hash::ObjectId> {
    let (Some(first), Some(last)) = (block.first(), block.last()) else {
        return Ok(Vec::new());
    };
    let bytes = match read_range(pack, first.0, last.0 + TAIL) {
        Ok(b) => b,
        Err(_) => return Ok(Vec::new()),
    };
    let mut inflate = gix_zlib::Inflate::default();
    let mut object = Vec::new();
    let mut out = Vec::with_capacity(block.len());
    for &(offset, p) in block {
        let at = (offset - first.0) as usize;
        let Some(data) = inflated(&bytes[at..], offset, &mut inflate, &mut object) else {
            continue;
        };
        let commit = graph.commit_at(gix_commitgraph::Position(p));
        let Some(c) =
            commit_fields(data).filter(|c| c.tree.as_bytes() == commit.root_tree_id().as_bytes())
        else {
            return Err(graph.id_at(gix_commitgraph::Position(p)).to_owned());
        };
        out.push((p, c.info()));
    }
    Ok(out)
}

/// The bytes of the file at `path` from `start` to `end` (or its end).
fn read_range(path: &Path, start: u64, end: u64) -> std::io::Result<Vec<u8>> {
    let mut file = std::fs::File::open(path)?;
    file.seek(SeekFrom::Start(start))?;
    let mut bytes = Vec::new();
    file.take(end - start).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// The commit object whose pack entry starts `entry` (at `offset` in the
/// pack), inflated into `buf`; None for another kind of entry (a delta),
/// or one that does not end within `entry`.
fn inflated<'b>(
    entry: &[u8],
    offset: u64,
    inflate: &mut gix_zlib::Inflate,
    buf: &'b mut Vec<u8>,
) -> Option<&'b [u8]> {
    let e = gix_pack::data::Entry::from_bytes(entry, offset, gix_hash::Kind::Sha1).ok()?;
    if !matches!(e.header, gix_pack::data::entry::Header::Commit) {
        return None;
    }
    let size = usize::try_from(e.decompressed_size).ok()?;
    let start = usize::try_from(e.data_offset - offset).ok()?;
    buf.clear();
    buf.resize(size, 0);
    inflate.reset();
    let (status, _, written) = inflate.once(entry.get(start..)?, buf).ok()?;
    (status == gix_zlib::Status::StreamEnd && written == size).then_some(buf.as_slice())
}

//! The commit graph that lead time needs, as plain data (no git2): built by
//! `git::history` from the repository, or by hand in tests.

use std::collections::{BinaryHeap, HashMap};

/// A commit id, 20 raw bytes (SHA-1).
pub type Oid = [u8; 20];

/// Parses 40 hex digits; None for anything else (an abbreviated or bogus id
/// in a record is treated like a commit missing from the repository).
pub fn parse_oid(hex: &str) -> Option<Oid> {
    let hex = hex.trim().as_bytes();
    if hex.len() != 40 {
        return None;
    }
    let mut out = [0u8; 20];
    faster_hex::hex_decode(hex, &mut out).ok()?;
    Some(out)
}

/// 40 lowercase hex digits (50,000 of these cost 20 small strings each
/// through `format!`).
pub fn oid_hex(oid: &Oid) -> String {
    faster_hex::hex_string(oid)
}

/// A commit's parents, as a list to build a [`Commit`] from.
pub type Parents = smallvec::SmallVec<[u32; 2]>;

/// No parent at this place of [`Commit::parents`].
const NO_PARENT: u32 = u32::MAX;

/// One commit of the graph: 32 bytes (900,000 of them at 100,000 records).
/// Its parents are read with [`Graph::parents`], its touched service paths
/// with [`Graph::touches`].
#[derive(Debug, Clone, Copy)]
pub struct Commit {
    /// Author time, seconds since the epoch.
    pub author_time: i64,
    /// Committer time: orders the range walk, as in git.
    pub commit_time: i64,
    /// The first two parents' indices into [`Graph::commits`] (`NO_PARENT`
    /// where there is none); parents outside a shallow clone's history are
    /// left out. A commit with more (an octopus merge) has them all in
    /// `Graph::octopus`. Set by [`Graph::add`] or [`Commit::with_parents`].
    pub(crate) parents: [u32; 2],
    /// How many parents (255 for 255 or more).
    pub(crate) parent_count: u8,
    /// Whether the commit changes anything outside `deployments/` (against
    /// its first parent; a root commit: whether its tree has anything else).
    pub code: bool,
    /// Some of its parents are not in the repository (a shallow clone's
    /// cut): what it changed is unknown (`code` was taken against an empty
    /// tree), and so is the history before it.
    pub cut: bool,
}

impl Default for Commit {
    fn default() -> Self {
        Commit {
            author_time: 0,
            commit_time: 0,
            parents: [NO_PARENT; 2],
            parent_count: 0,
            code: false,
            cut: false,
        }
    }
}

impl Commit {
    /// The commit with `parents`: the first two kept here; with more, the
    /// graph must hold them all (`Graph::add` does, or `Graph::octopus`).
    pub fn with_parents(mut self, parents: &[u32]) -> Commit {
        self.parents = [
            parents.first().copied().unwrap_or(NO_PARENT),
            parents.get(1).copied().unwrap_or(NO_PARENT),
        ];
        self.parent_count = u8::try_from(parents.len()).unwrap_or(u8::MAX);
        self
    }

    /// A merge: more than one parent.
    pub fn is_merge(&self) -> bool {
        self.parent_count > 1
    }
}

/// The commits reachable from `--rev`.
/// Commit ids are already uniformly random: their first 8 bytes are the
/// hash (SipHash over 450,000 ids was a tenth of a warm run).
#[derive(Debug, Clone, Copy, Default)]
pub struct OidHasher(u64);

impl std::hash::Hasher for OidHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for (i, b) in bytes.iter().take(8).enumerate() {
            self.0 ^= u64::from(*b) << (8 * i);
        }
    }
}

/// The hash of a commit id for [`Graph::find`]'s table.
fn oid_hash(oid: &Oid) -> u64 {
    let mut h = OidHasher::default();
    std::hash::Hasher::write(&mut h, oid);
    std::hash::Hasher::finish(&h)
}

pub type OidMap<V> = HashMap<Oid, V, std::hash::BuildHasherDefault<OidHasher>>;

#[derive(Debug, Clone, Default)]
pub struct Graph {
    pub commits: Vec<Commit>,
    /// Each commit's id, by index.
    pub ids: Vec<Oid>,
    /// The parents of each commit with more than two (octopus merges), by
    /// index.
    pub octopus: HashMap<u32, Box<[u32]>>,
    /// Bit `i` set when the commit touches `prefixes[i]`, by index: empty
    /// while no commit touches one (no service paths configured), else one
    /// for each commit.
    pub touches: Vec<u64>,
    /// Each commit's index, hashed by its id, made at the first lookup after
    /// a change: the walk, its audit and the cache need none. Only the index
    /// is kept (the id is read from `ids`): 5 MB for 900,000 commits where a
    /// map of ids to indices took 26 MB.
    index: std::sync::OnceLock<hashbrown::HashTable<u32>>,
    /// Service path prefixes whose touches are recorded in `touches` (at
    /// most 64).
    pub prefixes: Vec<String>,
}

impl Graph {
    /// Adds commit `oid` with its `parents` and the prefixes it `touches`.
    pub fn add(&mut self, oid: Oid, commit: Commit, parents: &[u32], touches: u64) -> u32 {
        let i = self.commits.len() as u32;
        self.commits.push(commit.with_parents(parents));
        if parents.len() > 2 {
            self.octopus.insert(i, parents.into());
        }
        self.touches_from(i as usize, &[touches]);
        self.ids.push(oid);
        self.ids_changed();
        i
    }

    /// Appends `commits` built with [`Commit::with_parents`], the parents of
    /// those with more than two (by index in the graph) and what each
    /// touches (empty: nothing). Their ids are pushed to `ids` by the
    /// caller, who then calls [`Graph::ids_changed`].
    pub fn append(
        &mut self,
        commits: Vec<Commit>,
        octopus: Vec<(u32, Box<[u32]>)>,
        touches: &[u64],
    ) {
        let from = self.commits.len();
        if from == 0 {
            self.commits = commits;
        } else {
            self.commits.extend(commits);
        }
        self.octopus.extend(octopus);
        self.touches_from(from, touches);
    }

    /// Records what the commits from `from` on touch: listed only once some
    /// commit touches a prefix, then one for each commit.
    fn touches_from(&mut self, from: usize, touches: &[u64]) {
        if self.touches.is_empty() && touches.iter().all(|t| *t == 0) {
            return;
        }
        self.touches.resize(from, 0);
        self.touches.extend_from_slice(touches);
        self.touches.resize(self.commits.len(), 0);
    }

    /// The parents of commit `i`.
    pub fn parents(&self, i: u32) -> &[u32] {
        let c = &self.commits[i as usize];
        match c.parent_count {
            0..=2 => &c.parents[..usize::from(c.parent_count)],
            _ => self.octopus.get(&i).map_or(&c.parents[..], |p| &p[..]),
        }
    }

    /// The service path prefixes commit `i` touches (bit `k`:
    /// `prefixes[k]`).
    pub fn touches(&self, i: u32) -> u64 {
        self.touches.get(i as usize).copied().unwrap_or(0)
    }

    /// To be called after `commits` and `ids` were extended directly.
    pub fn ids_changed(&mut self) {
        self.index.take();
    }

    /// The index of commit `oid`.
    pub fn find(&self, oid: &Oid) -> Option<u32> {
        let ids = &self.ids;
        let index = self.index.get_or_init(|| {
            let mut index = hashbrown::HashTable::with_capacity(ids.len());
            for (i, id) in ids.iter().enumerate() {
                index.insert_unique(oid_hash(id), i as u32, |&j| oid_hash(&ids[j as usize]));
            }
            index
        });
        index
            .find(oid_hash(oid), |&i| ids[i as usize] == *oid)
            .copied()
    }

    pub fn get(&self, hex: &str) -> Option<u32> {
        parse_oid(hex).and_then(|o| self.find(&o))
    }

    /// The commits of `from..to` (reachable from `to`, not from `from`), as
    /// `git rev-list from..to` would give them: a walk painting both sides,
    /// newest generation first. When `to` is an ancestor of `from` (a
    /// rollback to an older commit) the range is empty.
    pub fn range(&self, from: u32, to: u32) -> Vec<u32> {
        self.range_with(from, to, &self.generations(), &mut Scratch::default())
    }

    /// [`Graph::range`] with the graph's [`Graph::generations`], reusing
    /// `scratch` between calls (no allocation proportional to the graph per
    /// call).
    ///
    /// The walk takes commits by generation (then committer time), not by
    /// committer time alone: a commit is taken only after every commit of
    /// the walk that descends from it, so its paint is final when it is
    /// taken and the walk can stop as soon as nothing wanted is left. By
    /// committer time, a commit older than its parent (a skewed clock, a
    /// replayed date) let the baseline's ancestors into the range.
    pub fn range_with(
        &self,
        from: u32,
        to: u32,
        generations: &[u32],
        scratch: &mut Scratch,
    ) -> Vec<u32> {
        const WANT: u8 = 1;
        const HAVE: u8 = 2;
        const EMITTED: u8 = 4;
        if scratch.flags.len() < self.commits.len() {
            scratch.flags.resize(self.commits.len(), 0);
        }
        for i in scratch.touched.drain(..) {
            scratch.flags[i as usize] = 0;
        }
        let flags = &mut scratch.flags;
        let touched = &mut scratch.touched;
        let time = |i: u32| {
            (
                generations[i as usize],
                self.commits[i as usize].commit_time,
            )
        };
        let mut queue = BinaryHeap::new();
        flags[to as usize] = WANT;
        touched.push(to);
        flags[from as usize] |= HAVE;
        touched.push(from);
        queue.push((time(to), to));
        if from != to {
            queue.push((time(from), from));
        }
        // Wanted commits not yet walked: the walk ends when none is left.
        let mut pending = usize::from(flags[to as usize] == WANT);
        let mut emitted = Vec::new();
        while let Some((_, i)) = queue.pop() {
            let f = flags[i as usize];
            if f == WANT {
                flags[i as usize] |= EMITTED;
                pending -= 1;
                emitted.push(i);
            }
            let paint = f & (WANT | HAVE);
            for &p in self.parents(i) {
                let old = flags[p as usize];
                let new = old | paint;
                if old == new {
                    continue;
                }
                if old == 0 {
                    touched.push(p);
                }
                if new == WANT {
                    pending += 1;
                } else if old == WANT {
                    // Queued as wanted, now known to be reachable from `from`.
                    pending -= 1;
                }
                flags[p as usize] = new;
                queue.push((time(p), p));
            }
            // Only uninteresting commits left: the rest is shared history.
            if pending == 0 {
                break;
            }
        }
        emitted
    }

    /// The generation number of each commit: 1 for a root (or a commit
    /// whose parents a shallow clone cut off), else one more than its
    /// highest parent. A commit's generation is above all its ancestors',
    /// whatever the clocks say, so it orders the versions of a file from
    /// newest to oldest (committer times can go backwards: replayed clocks,
    /// rebases, other machines).
    pub fn generations(&self) -> Vec<u32> {
        let mut generation = vec![0u32; self.commits.len()];
        // Depth first, iteratively (histories are deep): a commit is done
        // when its parents are.
        let mut stack: Vec<(u32, bool)> = Vec::new();
        for start in 0..self.commits.len() as u32 {
            if generation[start as usize] != 0 {
                continue;
            }
            stack.push((start, false));
            while let Some((i, parents_done)) = stack.pop() {
                if generation[i as usize] != 0 {
                    continue;
                }
                let parents = self.parents(i);
                if parents_done {
                    let top = parents.iter().map(|p| generation[*p as usize]).max();
                    generation[i as usize] = top.unwrap_or(0) + 1;
                } else {
                    stack.push((i, true));
                    stack.extend(
                        parents
                            .iter()
                            .filter(|p| generation[**p as usize] == 0)
                            .map(|p| (*p, false)),
                    );
                }
            }
        }
        generation
    }
}

/// Reusable memory for [`Graph::range_with`].
#[derive(Debug, Default)]
pub struct Scratch {
    flags: Vec<u8>,
    touched: Vec<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oid(n: u8) -> Oid {
        [n; 20]
    }

    /// a ← b ← c ← m (merge of c and d) ; a ← d
    fn sample() -> Graph {
        let mut g = Graph::default();
        let a = g.add(
            oid(1),
            Commit {
                commit_time: 1,
                ..Default::default()
            },
            &[],
            0,
        );
        let b = g.add(
            oid(2),
            Commit {
                commit_time: 2,
                ..Default::default()
            },
            &[a],
            0,
        );
        let c = g.add(
            oid(3),
            Commit {
                commit_time: 3,
                ..Default::default()
            },
            &[b],
            0,
        );
        let d = g.add(
            oid(4),
            Commit {
                commit_time: 4,
                ..Default::default()
            },
            &[a],
            0,
        );
        g.add(
            oid(5),
            Commit {
                commit_time: 5,
                ..Default::default()
            },
            &[c, d],
            0,
        );
        g
    }

    #[test]
    fn lookups_follow_every_change_of_the_ids() {
        let mut g = Graph::default();
        g.add(oid(1), Commit::default(), &[], 0);
        assert_eq!(g.find(&oid(1)), Some(0));
        assert_eq!(g.find(&oid(2)), None);
        // Added after a lookup made the map: found, not a stale miss.
        g.add(oid(2), Commit::default(), &[], 0);
        assert_eq!(g.find(&oid(2)), Some(1));
        // Extended directly (as the walk does), then told.
        g.commits.push(Commit::default());
        g.ids.push(oid(3));
        g.ids_changed();
        assert_eq!(g.find(&oid(3)), Some(2));
        assert_eq!(g.get(&oid_hex(&oid(3))), Some(2));
        assert_eq!(g.find(&oid(1)), Some(0));
    }

    #[test]
    fn octopus_parents_and_touches_are_kept_beside_the_commits() {
        let mut g = Graph::default();
        let a = g.add(oid(1), Commit::default(), &[], 0);
        let b = g.add(oid(2), Commit::default(), &[a], 0);
        let c = g.add(oid(3), Commit::default(), &[a], 0b10);
        let m = g.add(oid(4), Commit::default(), &[a, b, c], 0);
        assert_eq!(g.parents(m), &[a, b, c]);
        assert_eq!(g.parents(b), &[a]);
        assert!(g.parents(a).is_empty());
        assert!(g.commits[m as usize].is_merge() && !g.commits[b as usize].is_merge());
        // Touches listed from the first commit that touches a path on.
        assert_eq!(g.touches, vec![0, 0, 0b10, 0]);
        assert_eq!((g.touches(a), g.touches(c), g.touches(m)), (0, 0b10, 0));
        // b..m = c, m: the third parent is walked too.
        let mut r = g.range(b, m);
        r.sort();
        assert_eq!(r, vec![c, m]);
        assert_eq!(g.generations(), vec![1, 2, 2, 3]);
        // Appended as the walk does: the list stays one for each commit.
        let more = vec![Commit::default().with_parents(&[m]); 2];
        g.append(more, Vec::new(), &[]);
        assert_eq!(g.touches, vec![0, 0, 0b10, 0, 0, 0]);
        g.append(
            vec![Commit::default().with_parents(&[m])],
            Vec::new(),
            &[0b1],
        );
        assert_eq!(g.touches(6), 0b1);
        // A graph whose commits touch nothing lists no touches.
        let mut plain = Graph::default();
        plain.append(vec![Commit::default(); 2], Vec::new(), &[0, 0]);
        plain.add(oid(9), Commit::default(), &[0], 0);
        assert!(plain.touches.is_empty());
        // What 900,000 of them take (was 56 bytes).
        assert_eq!(std::mem::size_of::<Commit>(), 32);
    }

    #[test]
    fn ranges() {
        let g = sample();
        let mut r = g.range(1, 4);
        r.sort();
        assert_eq!(r, vec![2, 3, 4], "b..m = c, d, m");
        assert_eq!(
            g.range(4, 1),
            Vec::<u32>::new(),
            "m..b is empty: b is an ancestor"
        );
        let mut r = g.range(3, 2);
        r.sort();
        assert_eq!(r, vec![1, 2], "d..c = b, c");
        assert!(g.range(2, 2).is_empty());
    }

    #[test]
    fn a_commit_older_than_its_parent_keeps_the_baselines_history_out() {
        // c0 (t=100) <- o1 (t=50, the baseline: older than its parent)
        // c0 <- m1 (t=200) <- merge of m1 and o1 (t=300) <- k1 (t=400).
        // o1..k1 = k1, merge, m1; c0 is the baseline's parent. By committer
        // time alone c0 (100) came before o1 (50) and was taken as wanted.
        let mut g = Graph::default();
        let commit = |t: i64| Commit {
            commit_time: t,
            ..Default::default()
        };
        let c0 = g.add(oid(1), commit(100), &[], 0);
        let o1 = g.add(oid(2), commit(50), &[c0], 0);
        let m1 = g.add(oid(3), commit(200), &[c0], 0);
        let merge = g.add(oid(4), commit(300), &[m1, o1], 0);
        let k1 = g.add(oid(5), commit(400), &[merge], 0);
        let mut r = g.range(o1, k1);
        r.sort();
        assert_eq!(r, vec![m1, merge, k1]);
        assert!(g.range(k1, o1).is_empty(), "o1 is an ancestor of k1");
    }

    #[test]
    fn generations_follow_the_graph_not_the_clock() {
        // sample(): a=1; b, d = 2; c = 3; m = max(c, d) + 1 = 4.
        assert_eq!(sample().generations(), vec![1, 2, 3, 2, 4]);
        // A child added first, with an older clock, still comes after its
        // parent: e (index 0, time 0) ← f (index 1, time 9).
        let mut g2 = Graph::default();
        g2.add(
            oid(6),
            Commit {
                ..Default::default()
            },
            &[1],
            0,
        );
        g2.add(
            oid(7),
            Commit {
                commit_time: 9,
                ..Default::default()
            },
            &[],
            0,
        );
        assert_eq!(g2.generations(), vec![2, 1]);
        assert!(Graph::default().generations().is_empty());
    }

    #[test]
    fn oids() {
        let hex = "00112233445566778899aabbccddeeff00112233";
        assert_eq!(oid_hex(&parse_oid(hex).expect("hex")), hex);
        assert!(parse_oid("abc").is_none());
        assert!(parse_oid(&"g".repeat(40)).is_none());
        // Upper case and surrounding blanks, as a hand-written record may have.
        let upper = format!(" {} ", hex.to_uppercase());
        assert_eq!(parse_oid(&upper), parse_oid(hex));
        assert!(parse_oid(&format!("{}-", &hex[..39])).is_none());
    }
}

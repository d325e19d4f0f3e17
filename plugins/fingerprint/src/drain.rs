//! The second half of the hot path: Drain template mining over masked
//! tokens (He et al., "Drain: An Online Log Parsing Approach with Fixed
//! Depth Tree", ICWS 2017), in the form Drain3 uses, with the clusters of
//! [`crate::cluster`].
//!
//! Lines are routed by token count and their first `depth - 3` tokens to a
//! leaf (a one-token line by its count alone); in the leaf the cluster with
//! the most equal positions wins if their share reaches the similarity
//! threshold, ties going to the cluster with more open positions. Otherwise
//! the line starts a new cluster.
//!
//! Memory is bounded by a cap on clusters and on their bytes, enforced by
//! forgetting the least recently used cluster (an intrusive LRU list over a
//! slab: O(1) per line) and pruning tree nodes left empty. A forgotten
//! template that comes back is mined again and, its text being the same,
//! gets the same fingerprint.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::cluster::{Cluster, Merge, Sub};
use crate::tokenize::{Tokens, WILDCARD_HASH};

/// Index of a cluster in the slab.
pub type ClusterId = u32;

const NIL: u32 = u32::MAX;

/// Bytes a cluster costs besides what [`Cluster::bytes`] counts: the slab
/// entry, leaf entries and tree nodes, roughly.
const CLUSTER_OVERHEAD: usize = 256;

/// The keys are xxh3 hashes already: hashing them again buys nothing.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
    fn write_u32(&mut self, n: u32) {
        self.0 = u64::from(n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

type IdMap<K, V> = HashMap<K, V, BuildHasherDefault<IdHasher>>;

/// Mining parameters, checked by [`crate::config::Config::validate`].
#[derive(Debug, Clone)]
pub struct Params {
    /// Share of equal positions a line needs to join a cluster.
    pub similarity: f64,
    /// Drain depth: lines are routed by their first `depth - 3` tokens.
    pub depth: usize,
    /// Children per node before new tokens share the `<*>` child.
    pub max_children: usize,
    /// Distinct values after which a position becomes `<*>`.
    pub variable_after: usize,
    /// Most clusters held.
    pub max_templates: usize,
    /// Most bytes of clusters held.
    pub max_bytes: usize,
}

#[derive(Debug, Default)]
struct Node {
    children: IdMap<u64, Node>,
    clusters: Vec<ClusterId>,
}

/// Where a cluster sits in the tree: token count and routing keys.
#[derive(Debug, Clone)]
struct Path {
    len: u32,
    keys: Vec<u64>,
}

#[derive(Debug)]
struct Entry {
    cluster: Cluster,
    path: Path,
    prev: u32,
    next: u32,
    bytes: usize,
}

/// Where a line went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Learned {
    /// Its cluster.
    pub cluster: ClusterId,
    /// Its sub-template in the cluster.
    pub sub: usize,
}

/// A Drain miner for one tenant.
#[derive(Debug)]
pub struct Drain {
    params: Params,
    roots: IdMap<u32, Node>,
    entries: Vec<Option<Entry>>,
    free: Vec<ClusterId>,
    head: u32,
    tail: u32,
    live: usize,
    bytes: usize,
    merges: Vec<Merge>,
}

impl Drain {
    /// An empty miner.
    pub fn new(params: Params) -> Self {
        Self {
            params,
            roots: IdMap::default(),
            entries: Vec::new(),
            free: Vec::new(),
            head: NIL,
            tail: NIL,
            live: 0,
            bytes: 0,
            merges: Vec::new(),
        }
    }

    /// Clusters held.
    pub fn len(&self) -> usize {
        self.live
    }

    /// Whether no cluster is held.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Bytes of clusters held, as counted against the budget.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Tree nodes, token-count level included, for tests of pruning.
    pub fn nodes(&self) -> usize {
        fn count(node: &Node) -> usize {
            node.children.values().map(|c| 1 + count(c)).sum()
        }
        self.roots.values().map(|r| 1 + count(r)).sum()
    }

    /// The sub-template a line went to.
    pub fn sub(&self, learned: Learned) -> Option<&Sub> {
        self.get(learned.cluster)?.cluster.subs().get(learned.sub)
    }

    /// Merges caused by the last line learned.
    pub fn merges(&self) -> &[Merge] {
        &self.merges
    }

    /// Every template held, most recently used cluster first.
    pub fn templates(&self) -> Vec<&Sub> {
        let mut out = Vec::new();
        let mut id = self.head;
        while let Some(e) = self.get(id) {
            out.extend(e.cluster.subs());
            id = e.next;
        }
        out
    }

    fn get(&self, id: ClusterId) -> Option<&Entry> {
        self.entries.get(id as usize).and_then(Option::as_ref)
    }

    fn get_mut(&mut self, id: ClusterId) -> Option<&mut Entry> {
        self.entries.get_mut(id as usize).and_then(Option::as_mut)
    }

    /// Mine one line's tokens.
    pub fn learn(&mut self, tokens: &Tokens) -> Learned {
        self.merges.clear();
        let hashes = tokens.hashes();
        let id = match self.search(hashes) {
            Some(id) => id,
            None => self.create(tokens),
        };
        self.touch(id);
        let variable_after = self.params.variable_after;
        let mut merges = std::mem::take(&mut self.merges);
        let Some(entry) = self.get_mut(id) else {
            return Learned {
                cluster: id,
                sub: 0,
            };
        };
        let known = if entry.cluster.covers(tokens) {
            entry.cluster.find(hashes)
        } else {
            None
        };
        let sub = match known {
            Some(sub) => sub,
            None => {
                let sub = entry.cluster.absorb(tokens, variable_after, &mut merges);
                let bytes = CLUSTER_OVERHEAD + entry.cluster.bytes() + 8 * entry.path.keys.len();
                let before = std::mem::replace(&mut entry.bytes, bytes);
                self.bytes = self.bytes + bytes - before;
                sub
            }
        };
        self.merges = merges;
        if known.is_none() {
            self.enforce_limits();
        }
        Learned { cluster: id, sub }
    }

    /// Number of leading tokens that route a line of `len` tokens.
    fn route_len(&self, len: usize) -> usize {
        (self.params.depth - 3).min(len.saturating_sub(1))
    }

    /// Drain's tree search and fast match.
    fn search(&self, hashes: &[u64]) -> Option<ClusterId> {
        let mut node = self.roots.get(&(hashes.len() as u32))?;
        for h in &hashes[..self.route_len(hashes.len())] {
            node = node
                .children
                .get(h)
                .or_else(|| node.children.get(&WILDCARD_HASH))?;
        }
        let mut best = None;
        let mut best_score = (0usize, 0usize);
        for &id in &node.clusters {
            let Some(e) = self.get(id) else { continue };
            let score = e.cluster.similarity(hashes);
            if best.is_none() || score > best_score {
                (best, best_score) = (Some(id), score);
            }
        }
        let len = hashes.len().max(1) as f64;
        best.filter(|_| best_score.0 as f64 / len >= self.params.similarity || hashes.is_empty())
    }

    /// A new, empty cluster for a line no cluster took.
    fn create(&mut self, tokens: &Tokens) -> ClusterId {
        let path = self.insert_path(tokens.hashes());
        let entry = Entry {
            cluster: Cluster::new(tokens),
            path,
            prev: NIL,
            next: NIL,
            bytes: 0,
        };
        let id = match self.free.pop() {
            Some(id) => {
                self.entries[id as usize] = Some(entry);
                id
            }
            None => {
                self.entries.push(Some(entry));
                (self.entries.len() - 1) as ClusterId
            }
        };
        self.live += 1;
        let (len, keys) = self
            .get(id)
            .map_or((0, Vec::new()), |e| (e.path.len, e.path.keys.clone()));
        leaf(&mut self.roots, len, &keys).clusters.push(id);
        self.push_front(id);
        id
    }

    /// Forget least recently used clusters until both caps hold; the most
    /// recent one always stays.
    fn enforce_limits(&mut self) {
        while (self.live > self.params.max_templates || self.bytes > self.params.max_bytes)
            && self.live > 1
        {
            self.remove(self.tail);
        }
    }

    /// Take a cluster out of the tree, the LRU list and the slab.
    fn remove(&mut self, id: ClusterId) {
        self.unlink(id);
        let Some(e) = self.entries.get_mut(id as usize).and_then(Option::take) else {
            return;
        };
        if let Some(root) = self.roots.get_mut(&e.path.len)
            && detach(root, &e.path.keys, id)
        {
            self.roots.remove(&e.path.len);
        }
        self.live -= 1;
        self.bytes -= e.bytes;
        self.free.push(id);
    }

    /// Walk (and grow) the tree the way Drain3 inserts a template, returning
    /// the keys taken.
    fn insert_path(&mut self, hashes: &[u64]) -> Path {
        let route = self.route_len(hashes.len());
        let max_children = self.params.max_children;
        let mut node = self.roots.entry(hashes.len() as u32).or_default();
        let mut keys = Vec::with_capacity(route);
        for &h in &hashes[..route] {
            let key = if node.children.contains_key(&h) {
                h
            } else if node.children.contains_key(&WILDCARD_HASH) {
                if node.children.len() < max_children {
                    h
                } else {
                    WILDCARD_HASH
                }
            } else if node.children.len() + 1 < max_children {
                h
            } else {
                WILDCARD_HASH
            };
            keys.push(key);
            node = node.children.entry(key).or_default();
        }
        Path {
            len: hashes.len() as u32,
            keys,
        }
    }

    fn touch(&mut self, id: ClusterId) {
        if self.head != id {
            self.unlink(id);
            self.push_front(id);
        }
    }

    fn push_front(&mut self, id: ClusterId) {
        let head = self.head;
        if let Some(c) = self.get_mut(id) {
            c.prev = NIL;
            c.next = head;
        }
        if let Some(h) = self.get_mut(head) {
            h.prev = id;
        }
        self.head = id;
        if self.tail == NIL {
            self.tail = id;
        }
    }

    fn unlink(&mut self, id: ClusterId) {
        let Some(c) = self.get_mut(id) else { return };
        let (prev, next) = (c.prev, c.next);
        c.prev = NIL;
        c.next = NIL;
        if let Some(p) = self.get_mut(prev) {
            p.next = next;
        } else if self.head == id {
            self.head = next;
        }
        if let Some(n) = self.get_mut(next) {
            n.prev = prev;
        } else if self.tail == id {
            self.tail = prev;
        }
    }
}

/// The leaf at `keys` below the token-count root `len`, created if missing.
fn leaf<'a>(roots: &'a mut IdMap<u32, Node>, len: u32, keys: &[u64]) -> &'a mut Node {
    let mut node = roots.entry(len).or_default();
    for key in keys {
        node = node.children.entry(*key).or_default();
    }
    node
}

/// Remove `id` from the leaf at `keys` below `node`, pruning nodes left
/// empty. Returns whether `node` itself is empty now.
fn detach(node: &mut Node, keys: &[u64], id: ClusterId) -> bool {
    match keys.split_first() {
        None => node.clusters.retain(|&c| c != id),
        Some((key, rest)) => {
            if let Some(child) = node.children.get_mut(key)
                && detach(child, rest, id)
            {
                node.children.remove(key);
            }
        }
    }
    node.clusters.is_empty() && node.children.is_empty()
}

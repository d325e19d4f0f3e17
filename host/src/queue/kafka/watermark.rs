//! Which offset of a partition may be committed: the first one not yet
//! acknowledged. Batches are acknowledged out of order (workers run in
//! parallel), so an offset is only ever committed when every offset before
//! it is stored or dead-lettered; a crash then replays from there and never
//! skips an unacknowledged event.

use std::collections::{HashMap, VecDeque};

/// Offsets of one partition in flight, in dispatch order.
#[derive(Debug, Default)]
struct Partition {
    pending: VecDeque<(i64, bool)>,
    /// Next offset to commit (one past the last acknowledged prefix).
    committable: Option<i64>,
}

/// Per-partition watermarks.
#[derive(Debug, Default)]
pub struct Watermarks {
    partitions: HashMap<i32, Partition>,
}

impl Watermarks {
    /// An offset was handed to a worker. Offsets of a partition arrive in
    /// increasing order.
    pub fn dispatched(&mut self, partition: i32, offset: i64) {
        self.partitions
            .entry(partition)
            .or_default()
            .pending
            .push_back((offset, false));
    }

    /// An offset is stored or dead-lettered.
    pub fn acked(&mut self, partition: i32, offset: i64) {
        let Some(p) = self.partitions.get_mut(&partition) else {
            return;
        };
        if let Ok(index) = p.pending.binary_search_by_key(&offset, |(o, _)| *o) {
            p.pending[index].1 = true;
        }
        while let Some(&(offset, true)) = p.pending.front() {
            p.pending.pop_front();
            p.committable = Some(offset + 1);
        }
    }

    /// Offsets to commit per partition (each one past the acknowledged prefix).
    pub fn committable(&self) -> Vec<(i32, i64)> {
        self.partitions
            .iter()
            .filter_map(|(p, state)| state.committable.map(|o| (*p, o)))
            .collect()
    }

    /// Offsets dispatched and not yet acknowledged, for these partitions.
    pub fn in_flight(&self, partitions: &[i32]) -> usize {
        partitions
            .iter()
            .filter_map(|p| self.partitions.get(p))
            .map(|p| p.pending.iter().filter(|(_, acked)| !acked).count())
            .sum()
    }

    /// Offsets dispatched and not yet acknowledged, in every partition.
    pub fn total_in_flight(&self) -> usize {
        self.partitions
            .values()
            .map(|p| p.pending.iter().filter(|(_, acked)| !acked).count())
            .sum()
    }

    /// Forget partitions this consumer no longer owns.
    pub fn forget(&mut self, partitions: &[i32]) {
        for p in partitions {
            self.partitions.remove(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn commits_only_the_acknowledged_prefix() {
        let mut w = Watermarks::default();
        for o in 10..15 {
            w.dispatched(0, o);
        }
        w.acked(0, 12);
        w.acked(0, 11);
        assert!(w.committable().is_empty(), "10 is not acknowledged yet");
        w.acked(0, 10);
        assert_eq!(w.committable(), vec![(0, 13)]);
        w.acked(0, 14);
        assert_eq!(w.committable(), vec![(0, 13)]);
        w.acked(0, 13);
        assert_eq!(w.committable(), vec![(0, 15)]);
        assert_eq!(w.in_flight(&[0]), 0);
    }

    proptest! {
        /// Against a simple model: the committed offset is always one past
        /// the longest acknowledged prefix, so it never passes an
        /// unacknowledged offset, whatever order acknowledgements come in.
        #[test]
        fn never_passes_an_unacknowledged_offset(
            start in 0i64..1000,
            len in 1usize..200,
            order in proptest::collection::vec(any::<proptest::sample::Index>(), 0..200),
        ) {
            let mut w = Watermarks::default();
            let offsets: Vec<i64> = (0..len as i64).map(|i| start + i * 2).collect();
            for &o in &offsets {
                w.dispatched(3, o);
            }
            let mut acked = vec![false; len];
            for index in order {
                let i = index.index(len);
                acked[i] = true;
                w.acked(3, offsets[i]);
                let prefix = acked.iter().take_while(|a| **a).count();
                let expected = (prefix > 0).then(|| offsets[prefix - 1] + 1);
                let got = w.committable().first().map(|(_, o)| *o);
                prop_assert_eq!(got, expected);
                if let Some(commit) = got {
                    for (j, &o) in offsets.iter().enumerate() {
                        if o < commit {
                            prop_assert!(acked[j], "committed {} past unacknowledged {}", commit, o);
                        }
                    }
                }
            }
        }
    }
}

//! `self-similar`: every sequence of `length` tokens (no separator inside) that
//! occurs at least twice, as clusters (first position, count, positions).

use crate::lcp::{lcp_at_least, runs};
use crate::{Idx, Token};

/// Clusters sorted by first position. With positions, cluster i's (ascending)
/// follow those of the clusters before it in `positions`.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Clusters {
    pub first: Vec<u64>,
    pub count: Vec<u64>,
    pub positions: Option<Vec<u64>>,
}

/// The clusters as runs of suffix-array ranks, sorted by first position (24
/// bytes per cluster): the positions of a cluster are read from the suffix array
/// when asked for, so a writer can stream them instead of holding 8 bytes per
/// occurrence.
pub struct ClusterRuns<'a, I> {
    sa: &'a [I],
    runs: Vec<(u64, usize, usize)>, // (first position, k0, k1)
}

impl<I: Idx> ClusterRuns<'_, I> {
    pub fn len(&self) -> usize {
        self.runs.len()
    }
    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }
    /// (first position, count) of each cluster, in order.
    pub fn records(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.runs.iter().map(|&(f, k0, k1)| (f, (k1 - k0 + 1) as u64))
    }
    pub fn occurrences(&self) -> u64 {
        self.records().map(|r| r.1).sum()
    }
    /// The positions of cluster i, ascending.
    pub fn positions(&self, i: usize) -> Vec<u64> {
        let (_, k0, k1) = self.runs[i];
        let mut p: Vec<u64> = self.sa[k0..=k1].iter().map(|x| x.to_usize() as u64).collect();
        p.sort_unstable();
        p
    }
    /// Everything in memory (tests, small inputs).
    pub fn to_clusters(&self, with_positions: bool) -> Clusters {
        Clusters {
            first: self.records().map(|r| r.0).collect(),
            count: self.records().map(|r| r.1).collect(),
            positions: with_positions.then(|| (0..self.len()).flat_map(|i| self.positions(i)).collect()),
        }
    }
}

pub fn cluster_runs<'a, T: Token, I: Idx>(text: &[T], sa: &'a [I], length: usize, threads: usize) -> ClusterRuns<'a, I> {
    assert!(length > 0);
    let bits = lcp_at_least(text, sa, length, threads);
    let mut runs: Vec<(u64, usize, usize)> = runs(&bits)
        .map(|(k0, k1)| {
            let first = sa[k0..=k1].iter().map(|x| x.to_usize()).min().unwrap() as u64;
            (first, k0, k1)
        })
        .collect();
    drop(bits);
    runs.sort_unstable_by_key(|x| x.0);
    ClusterRuns { sa, runs }
}

pub fn self_similar<T: Token, I: Idx>(text: &[T], sa: &[I], length: usize, with_positions: bool, threads: usize) -> Clusters {
    cluster_runs(text, sa, length, threads).to_clusters(with_positions)
}

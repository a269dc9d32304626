//! `self-similar`: every sequence of `length` tokens (no separator inside) that
//! occurs at least twice, as clusters (first position, count, positions).

use crate::lcp::{lcp_at_least, runs};
use crate::{Idx, Token};

/// Clusters sorted by first position. `offsets[i]..offsets[i+1]` indexes the
/// positions of cluster i in `positions` when positions were requested.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Clusters {
    pub first: Vec<u64>,
    pub count: Vec<u64>,
    pub positions: Option<Vec<u64>>,
}

pub fn self_similar<T: Token, I: Idx>(text: &[T], sa: &[I], length: usize, with_positions: bool, threads: usize) -> Clusters {
    assert!(length > 0);
    let bits = lcp_at_least(text, sa, length, threads);
    // (first, k0, k1)
    let mut cl: Vec<(u64, usize, usize)> = runs(&bits)
        .map(|(k0, k1)| {
            let first = sa[k0..=k1].iter().map(|x| x.to_usize()).min().unwrap() as u64;
            (first, k0, k1)
        })
        .collect();
    drop(bits);
    cl.sort_unstable_by_key(|x| x.0);
    let first = cl.iter().map(|x| x.0).collect();
    let count = cl.iter().map(|x| (x.2 - x.1 + 1) as u64).collect();
    let positions = if with_positions {
        let total: usize = cl.iter().map(|x| x.2 - x.1 + 1).sum();
        let mut p = Vec::with_capacity(total);
        for &(_, k0, k1) in &cl {
            let s = p.len();
            p.extend(sa[k0..=k1].iter().map(|x| x.to_usize() as u64));
            p[s..].sort_unstable();
        }
        Some(p)
    } else {
        None
    };
    Clusters { first, count, positions }
}

//! `collect`: the token ranges covered by repeats of at least `length` tokens,
//! bitmap-backed: occurrence starts are marked in an n-bit map, then one sweep
//! turns them into maximal covered ranges.

use crate::lcp::{lcp_at_least, runs};
use crate::util::BitVec;
use crate::{Idx, Token};

/// `keep_first`: the first occurrence of each repeated `length`-gram is not
/// marked (only later copies are); otherwise every occurrence is marked.
/// Returns maximal half-open ranges `[start, end)` covered by marked
/// occurrences `[p, p + length)`, ascending and disjoint (touching ranges are
/// joined).
pub fn collect<T: Token, I: Idx>(text: &[T], sa: &[I], length: usize, keep_first: bool, threads: usize) -> Vec<(u64, u64)> {
    assert!(length > 0);
    let n = text.len();
    let bits = lcp_at_least(text, sa, length, threads);
    let mut starts = BitVec::new(n);
    for (k0, k1) in runs(&bits) {
        let run = &sa[k0..=k1];
        let skip = if keep_first { Some(run.iter().map(|x| x.to_usize()).min().unwrap()) } else { None };
        for &p in run {
            let p = p.to_usize();
            if Some(p) != skip {
                starts.set(p);
            }
        }
    }
    drop(bits);
    let mut out: Vec<(u64, u64)> = Vec::new();
    let mut cur: Option<(usize, usize)> = None;
    for p in starts.ones() {
        match cur {
            Some((s, e)) if p <= e => cur = Some((s, e.max(p + length))),
            _ => {
                if let Some((s, e)) = cur {
                    out.push((s as u64, e as u64));
                }
                cur = Some((p, p + length));
            }
        }
    }
    if let Some((s, e)) = cur {
        out.push((s as u64, e as u64));
    }
    out
}

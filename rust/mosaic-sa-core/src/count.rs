//! `count`: exact occurrence counts of many queries, by binary search in the
//! suffix array, in parallel over queries.

use crate::util::{chunks, for_each_index, SyncPtr};
use crate::{Idx, Token};
use std::cmp::Ordering;

/// Compare the suffix at `p` with the query `q` on `q.len()` tokens, in the
/// suffix order (a separator or the text end is greater than every token).
#[inline]
fn cmp_prefix<T: Token>(text: &[T], p: usize, q: &[u32]) -> Ordering {
    let n = text.len();
    for (d, &c) in q.iter().enumerate() {
        if p + d >= n {
            return Ordering::Greater;
        }
        let x = text[p + d];
        if x.is_sep() {
            return Ordering::Greater;
        }
        match x.to_u32().cmp(&c) {
            Ordering::Equal => {}
            o => return o,
        }
    }
    Ordering::Equal
}

/// The suffix-array range `[lo, hi)` of the suffixes that start with `q`.
pub fn find_range<T: Token, I: Idx>(text: &[T], sa: &[I], q: &[u32]) -> (usize, usize) {
    let lo = sa.partition_point(|&p| cmp_prefix(text, p.to_usize(), q) == Ordering::Less);
    let hi = lo + sa[lo..].partition_point(|&p| cmp_prefix(text, p.to_usize(), q) != Ordering::Greater);
    (lo, hi)
}

/// Ranges for all queries, computed on `threads` threads.
pub fn count_all<T: Token, I: Idx>(text: &[T], sa: &[I], queries: &[Vec<u32>], threads: usize) -> Vec<(usize, usize)> {
    let mut out = vec![(0usize, 0usize); queries.len()];
    // finer chunks than threads for load balance, run by at most `threads` workers
    let parts = chunks(queries.len(), threads.max(1) * 4);
    let op = SyncPtr(out.as_mut_ptr());
    for_each_index(threads, parts.len(), |ci| {
        let (a, b) = parts[ci];
        for (i, q) in queries[a..b].iter().enumerate() {
            // SAFETY: chunks are disjoint, each index is written by one worker
            unsafe { op.write(a + i, find_range(text, sa, q)) };
        }
    });
    out
}

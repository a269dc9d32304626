//! LCP information. `plcp`: the permuted LCP by the Phi/PLCP method (Kärkkäinen,
//! Manzini, Puglisi 2009): `phi[sa[k]] = sa[k-1]`, then the permuted LCP in text
//! order, overwriting phi in place; each text chunk starts from h = 0 (at most one
//! extra comparison per chunk). `lcp_at_least`: the bits "adjacent suffixes share at
//! least L tokens" by direct comparison, without the n-pointer PLCP array. Lengths
//! stop at separators (matches never cross a document boundary); the passes run on
//! several threads.

use crate::util::{big_vec, chunks, for_each_index, prefetch, BitVec, SyncPtr};
use crate::{Idx, Token};

const PF: usize = 32;

/// Permuted LCP: `plcp[p]` = length of the longest common prefix (stopping at
/// separators) of suffix p and the suffix just before it in `sa` (0 for the
/// smallest suffix).
pub fn plcp<T: Token, I: Idx>(text: &[T], sa: &[I], threads: usize) -> Vec<I> {
    let n = text.len();
    assert_eq!(sa.len(), n);
    let mut phi: Vec<I> = big_vec(n, I::EMPTY);
    if n == 0 {
        return phi;
    }
    let threads = threads.max(1);
    let pp = SyncPtr(phi.as_mut_ptr());
    let c1 = chunks(n, threads);
    for_each_index(threads, c1.len(), |ci| {
        let (a, b) = c1[ci];
        for k in a.max(1)..b {
            if k + PF < b {
                prefetch(pp.0.wrapping_add(sa[k + PF].to_usize()));
            }
            // SAFETY: sa is a permutation, so indices sa[k] are distinct
            unsafe { pp.write(sa[k].to_usize(), sa[k - 1]) };
        }
    });
    // finer chunks than threads for load balance, run by at most `threads` workers
    let c2 = chunks(n, threads * 4);
    for_each_index(threads, c2.len(), |ci| {
        let (a, b) = c2[ci];
        let mut h = 0usize;
        for i in a..b {
            if i + PF < b {
                // SAFETY: index i + PF belongs to this chunk only
                let q = unsafe { pp.read(i + PF) }.to_usize();
                prefetch(text.as_ptr().wrapping_add(q));
            }
            // SAFETY: index i belongs to this chunk only
            let j = unsafe { pp.read(i) };
            if j == I::EMPTY {
                h = 0;
                unsafe { pp.write(i, I::from_usize(0)) };
                continue;
            }
            let j = j.to_usize();
            while i + h < n && j + h < n {
                let x = text[i + h];
                if x != text[j + h] || x.is_sep() {
                    break;
                }
                h += 1;
            }
            unsafe { pp.write(i, I::from_usize(h)) };
            h = h.saturating_sub(1);
        }
    });
    phi
}

/// Bit k (k >= 1) set when the suffixes `sa[k-1]` and `sa[k]` share at least
/// `length` tokens (without crossing a separator).
///
/// Computed by comparing the two suffixes' first `length` tokens directly (in
/// blocks of 16, stopping at the first block that differs), not from the PLCP array: that
/// array costs `n` pointers (4-8 bytes per token) of memory, this pass only the
/// n-bit result, and it touches one new text position per rank (`sa[k-1]`'s was
/// read for rank k-1) where PLCP's three passes make three random accesses. Its cost
/// is at most `length` tokens per rank, contiguous, where a repeat is that long.
pub fn lcp_at_least<T: Token, I: Idx>(text: &[T], sa: &[I], length: usize, threads: usize) -> BitVec {
    let n = text.len();
    assert_eq!(sa.len(), n);
    let mut bits = BitVec::new(n);
    let words = bits.words_mut();
    let nw = words.len();
    let wp = SyncPtr(words.as_mut_ptr());
    let c3 = chunks(nw, threads.max(1) * 4);
    for_each_index(threads, c3.len(), |ci| {
        let (a, b) = c3[ci];
        for w in a..b {
            let mut word = 0u64;
            let lo = w * 64;
            let hi = (lo + 64).min(n);
            for k in lo.max(1)..hi {
                if k + PF < n {
                    prefetch(text.as_ptr().wrapping_add(sa[k + PF].to_usize()));
                }
                let (p, q) = (sa[k - 1].to_usize(), sa[k].to_usize());
                if p + length <= n && q + length <= n && shared_no_sep(&text[p..p + length], &text[q..q + length]) {
                    word |= 1u64 << (k - lo);
                }
            }
            // SAFETY: word w belongs to this chunk only
            unsafe { wp.write(w, word) };
        }
    });
    bits
}

/// `x == y` with no separator in `x` (separators are unique: a shared prefix that
/// holds one crosses a document boundary). Blocks of 16 tokens are tested without
/// branches (the compiler vectorizes them), with an exit between blocks.
#[inline(always)]
fn shared_no_sep<T: Token>(x: &[T], y: &[T]) -> bool {
    const B: usize = 16;
    let mut xs = x.chunks_exact(B);
    let mut ys = y.chunks_exact(B);
    for (a, b) in (&mut xs).zip(&mut ys) {
        let mut bad = false;
        for i in 0..B {
            bad |= (a[i] != b[i]) | a[i].is_sep();
        }
        if bad {
            return false;
        }
    }
    xs.remainder().iter().zip(ys.remainder()).all(|(a, b)| a == b && !a.is_sep())
}

/// Maximal runs `[k0, k1]` (k1 > k0) of suffix-array ranks whose adjacent
/// suffixes share at least `length` tokens: each run is one distinct repeated
/// `length`-gram, occurring `k1 - k0 + 1` times. Yielded in rank order, lazily (a
/// list of them would cost 16 bytes per repeated gram).
pub fn runs(bits: &BitVec) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut ones = bits.ones().peekable();
    std::iter::from_fn(move || {
        let k = ones.next()?;
        let mut k1 = k;
        while ones.peek() == Some(&(k1 + 1)) {
            k1 = ones.next().unwrap();
        }
        Some((k - 1, k1))
    })
}

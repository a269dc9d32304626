//! Suffix array construction: SA-IS (Nong, Zhang and Chan 2009) over an integer
//! alphabet, plus a parallel path that builds parts at document separators in
//! parallel and merges them with gap arrays computed by backward search
//! (LF-mapping), whose cost does not depend on the length of repeated text.
//!
//! The suffix order is the one described in the crate documentation: separators
//! are unique symbols greater than every token and ordered by position, and the
//! end of the text is the greatest symbol. On the symbol level a part `[s, e)` is
//! turned into `sym[i] = token id` for ordinary tokens, `alpha + (rank of the
//! separator within the part)` for separators, followed by one terminal symbol
//! `alpha + nsep` (standing for the separator or text end at `e`), and sorted
//! with the classic SA-IS whose virtual sentinel is the smallest symbol.

use crate::util::{big_vec, chunks, prefetch, BitVec, SyncPtr};
use crate::{Idx, Token};
use std::sync::Mutex;

// ----------------------------------------------------------------- SA-IS core

#[inline(always)]
fn is_lms(st: &BitVec, i: usize) -> bool {
    i > 0 && i < st.len() && st.get(i) && !st.get(i - 1)
}

// Bucket arrays are typed like the pointers (u32 below 2^32): at the recursion
// levels the alphabet is up to n/2 names, and usize buckets would cost more
// memory than the suffix array itself.
fn bucket_starts<I: Idx>(cnt: &[I], bkt: &mut [I]) {
    let mut s = 0;
    for (b, &c) in bkt.iter_mut().zip(cnt) {
        *b = I::from_usize(s);
        s += c.to_usize();
    }
}

fn bucket_ends<I: Idx>(cnt: &[I], bkt: &mut [I]) {
    let mut s = 0;
    for (b, &c) in bkt.iter_mut().zip(cnt) {
        s += c.to_usize();
        *b = I::from_usize(s);
    }
}

const PF: usize = 32;

/// Phase timings of the suffix sorting on stderr (`MOSAIC_SA_PHASES=1`), one
/// line per phase and recursion level (and per phase of a parts merge): where
/// a build spends its time.
struct Phases {
    on: bool,
    label: String,
    t: std::time::Instant,
}

impl Phases {
    fn new(level: usize, n: usize) -> Phases {
        Phases::named(format!("sais level {level} (n = {n})"))
    }
    fn named(label: String) -> Phases {
        let on = std::env::var_os("MOSAIC_SA_PHASES").is_some();
        Phases { on, label, t: std::time::Instant::now() }
    }
    fn mark(&mut self, what: &str) {
        if self.on {
            let now = std::time::Instant::now();
            eprintln!("[mosaic-sa] {}: {what} {:.3}s", self.label, (now - self.t).as_secs_f64());
            self.t = now;
        }
    }
}

/// Induced sorting (L pass left to right, S pass right to left) from the
/// seeds in `sa` (empty slots are 0). Types are not read from a bit vector:
/// as in Mori's sais, an entry is stored complemented when its predecessor must
/// not be induced in the current pass (the predecessor's type follows from
/// comparing two adjacent symbols, which share a cache line), and complemented
/// entries are restored when the scan passes them. The current bucket's
/// pointer is cached in a register.
fn induce<I: Idx>(t: &[I], sa: &mut [I], cnt: &[I], bkt: &mut [I]) {
    let n = t.len();
    assert_eq!(sa.len(), n);
    assert!(n >= 1 && bkt.len() == cnt.len());
    debug_assert!(t.iter().all(|c| c.to_usize() < bkt.len()));
    bucket_starts(cnt, bkt);
    let tp = t.as_ptr();
    let sp = sa.as_mut_ptr();
    let bp = bkt.as_mut_ptr();
    // SAFETY: symbols are < k = bkt.len() (debug-asserted above); every positive
    // (non-flipped) value read from sa is a position in 1..n, so j = value - 1
    // and j - 1 (only read when j > 0) are < n; bucket pointers stay inside
    // [0, n) by the invariants of induced sorting (L pass: the write slot of a
    // bucket never passes its end; S pass: never below its start), checked by
    // debug_asserts; prefetch addresses use wrapping arithmetic and are hints.
    unsafe {
        let chr = |i: usize| (*tp.add(i)).to_usize();
        // L pass. Suffix n-1 is L-type and follows the virtual sentinel.
        let j = n - 1;
        let mut c1 = chr(j);
        let mut b = (*bp.add(c1)).to_usize();
        *sp.add(b) = if j > 0 && chr(j - 1) < c1 { I::from_usize(j).flip() } else { I::from_usize(j) };
        b += 1;
        for i in 0..n {
            // staged prefetch: the symbols 2*PF entries ahead, then the bucket
            // cursor and the slot it points to PF entries ahead
            if i + 2 * PF < n {
                let q = *sp.add(i + 2 * PF);
                if q.is_pos() {
                    prefetch(tp.wrapping_add(q.to_usize().wrapping_sub(2)));
                }
                let q = *sp.add(i + PF);
                if q.is_pos() {
                    let c = chr(q.to_usize() - 1);
                    prefetch(bp.add(c));
                }
                let q = *sp.add(i + PF / 2);
                if q.is_pos() {
                    let c = chr(q.to_usize() - 1);
                    prefetch(sp.wrapping_add((*bp.add(c)).to_usize()));
                }
            }
            let e = *sp.add(i);
            *sp.add(i) = e.flip();
            if e.is_pos() {
                let j = e.to_usize() - 1;
                let c0 = chr(j);
                if c0 != c1 {
                    *bp.add(c1) = I::from_usize(b);
                    c1 = c0;
                    b = (*bp.add(c1)).to_usize();
                }
                debug_assert!(b < n && b > i);
                *sp.add(b) = if j > 0 && chr(j - 1) < c1 { I::from_usize(j).flip() } else { I::from_usize(j) };
                b += 1;
            }
        }
        // S pass
        bucket_ends(cnt, bkt);
        c1 = 0;
        b = (*bp).to_usize();
        for i in (0..n).rev() {
            if i >= 2 * PF {
                let q = *sp.add(i - 2 * PF);
                if q.is_pos() {
                    prefetch(tp.wrapping_add(q.to_usize().wrapping_sub(2)));
                }
                let q = *sp.add(i - PF);
                if q.is_pos() {
                    let c = chr(q.to_usize() - 1);
                    prefetch(bp.add(c));
                }
                let q = *sp.add(i - PF / 2);
                if q.is_pos() {
                    let c = chr(q.to_usize() - 1);
                    prefetch(sp.wrapping_add((*bp.add(c)).to_usize().wrapping_sub(1)));
                }
            }
            let e = *sp.add(i);
            if e.is_pos() {
                let j = e.to_usize() - 1;
                let c0 = chr(j);
                if c0 != c1 {
                    *bp.add(c1) = I::from_usize(b);
                    c1 = c0;
                    b = (*bp.add(c1)).to_usize();
                }
                debug_assert!(b >= 1 && b <= i);
                b -= 1;
                *sp.add(b) = if j == 0 || chr(j - 1) > c1 { I::from_usize(j).flip() } else { I::from_usize(j) };
            } else {
                *sp.add(i) = e.flip();
            }
        }
    }
}

/// Type bits (set = S-type) of `t` followed by a virtual sentinel, built a
/// word at a time from the right; on `threads` threads each chunk of 64-bit
/// words learns the type of the position after it from the first unequal pair
/// at or after it, then fills its own words.
fn types<I: Idx>(t: &[I], threads: usize) -> BitVec {
    let n = t.len();
    let mut st = BitVec::new(n);
    let nw = st.words().len();
    let wp = SyncPtr(st.words_mut().as_mut_ptr());
    let chunk = |wa: usize, wb: usize| {
        let (a, e) = (wa * 64, (wb * 64).min(n));
        // type of position e (S = true); position n - 1 is L-type (the
        // sentinel is smallest)
        let mut s_next = if e >= n - 1 {
            false
        } else {
            let mut x = e;
            while x + 1 < n && t[x] == t[x + 1] {
                x += 1;
            }
            x + 1 < n && t[x] < t[x + 1]
        };
        let mut w = 0u64;
        // (position n - 1 keeps its zero bit)
        let top = if e == n { n - 1 } else { e };
        for i in (a..top).rev() {
            let (x, y) = (t[i], t[i + 1]);
            let s = x < y || (x == y && s_next);
            w |= (s as u64) << (i & 63);
            if i & 63 == 0 {
                // SAFETY: a chunk writes only its own words wa..wb
                unsafe { wp.write(i >> 6, w) };
                w = 0;
            }
            s_next = s;
        }
    };
    if threads <= 1 {
        chunk(0, nw);
    } else {
        let wc = chunks(nw, threads);
        crate::util::for_each_index(threads, wc.len(), |j| chunk(wc[j].0, wc[j].1));
    }
    st
}

/// LMS bits of word `w`: S-type positions whose predecessor is L-type
/// (position 0 is never LMS).
#[inline(always)]
fn lms_word(words: &[u64], w: usize) -> u64 {
    let cur = words[w];
    let carry = if w == 0 { 1 } else { words[w - 1] >> 63 };
    cur & !((cur << 1) | carry)
}

/// Calls `f` on every LMS position, ascending.
#[inline(always)]
fn for_each_lms(st: &BitVec, mut f: impl FnMut(usize)) {
    let words = st.words();
    for w in 0..words.len() {
        let mut x = lms_word(words, w);
        while x != 0 {
            f(w * 64 + x.trailing_zeros() as usize);
            x &= x - 1;
        }
    }
}

/// Calls `f` on every LMS position, descending.
#[inline(always)]
fn for_each_lms_rev(st: &BitVec, f: impl FnMut(usize)) {
    for_each_lms_rev_in(st, 0, st.words().len(), f)
}

/// Calls `f` on every LMS position in the type-bit words `wa..wb`, descending.
#[inline(always)]
fn for_each_lms_rev_in(st: &BitVec, wa: usize, wb: usize, mut f: impl FnMut(usize)) {
    let words = st.words();
    for w in (wa..wb).rev() {
        let mut x = lms_word(words, w);
        while x != 0 {
            let b = 63 - x.leading_zeros() as usize;
            f(w * 64 + b);
            x &= !(1u64 << b);
        }
    }
}

/// SA-IS: `sa` receives the suffix array of `t` (symbols `< k`), where the end
/// of `t` is a virtual sentinel smaller than every symbol.
pub fn sais_core<I: Idx>(t: &[I], sa: &mut [I], k: usize) {
    sais_with(t, sa, k, Par::default());
}

/// How SA-IS uses threads: at every recursion level with at least `min_len`
/// symbols, the type bits, the LMS naming, the map back, the fills and (at the
/// top) the symbol string run on `threads` threads. The induced sorts stay
/// sequential (see rust/README.md for what a parallel one measured).
#[derive(Clone, Copy, Debug)]
pub struct Par {
    pub threads: usize,
    pub min_len: usize,
}

impl Default for Par {
    fn default() -> Par {
        Par { threads: 1, min_len: 1 << 16 }
    }
}

impl Par {
    pub fn threads(threads: usize) -> Par {
        Par { threads, ..Par::default() }
    }
    /// The threads for a level of `n` symbols: 1 below `min_len`.
    fn threads_for(&self, n: usize) -> usize {
        if n >= self.min_len {
            self.threads.max(1)
        } else {
            1
        }
    }
}

/// [`sais_core`] with the threads of `par`; the same array for every `par`.
pub fn sais_with<I: Idx>(t: &[I], sa: &mut [I], k: usize, par: Par) {
    sais_ws(t, sa, k, &mut [], 0, par);
}

/// [`sais_core`] with spare memory `free` (disjoint from `t` and `sa`): the
/// bucket arrays live there when they fit. A recursion level passes the unused
/// middle of its suffix array (`n - 2m` entries), which holds at least one of
/// the reduced problem's bucket arrays on typical texts (the first recursion
/// level of a Zipf text has almost as many names as LMS suffixes).
fn sais_ws<I: Idx>(t: &[I], sa: &mut [I], k: usize, free: &mut [I], level: usize, par: Par) {
    let n = t.len();
    let mut ph = Phases::new(level, n);
    assert_eq!(sa.len(), n);
    if n == 0 {
        return;
    }
    if n == 1 {
        sa[0] = I::from_usize(0);
        return;
    }
    assert!(I::BYTES > 4 || n < (1usize << 31), "u32 pointers need n < 2^31");
    let th = par.threads_for(n);
    let st = types(t, th);
    let (own_cnt, own_bkt): (&mut Vec<I>, &mut Vec<I>) = (&mut Vec::new(), &mut Vec::new());
    let (cnt, bkt): (&mut [I], &mut [I]) = if free.len() >= 2 * k {
        let (a, b) = free.split_at_mut(k);
        (a, &mut b[..k])
    } else if free.len() >= k {
        *own_bkt = big_vec(k, I::from_usize(0));
        (&mut free[..k], &mut own_bkt[..])
    } else {
        *own_cnt = big_vec(k, I::from_usize(0));
        *own_bkt = big_vec(k, I::from_usize(0));
        (&mut own_cnt[..], &mut own_bkt[..])
    };
    cnt.fill(I::from_usize(0));
    for (i, &c) in t.iter().enumerate() {
        if i + PF < n {
            prefetch(cnt.as_ptr().wrapping_add(t[i + PF].to_usize()));
        }
        let x = &mut cnt[c.to_usize()];
        *x = I::from_usize(x.to_usize() + 1);
    }
    ph.mark("types and counts");

    // stage 1: sort LMS substrings
    par_chunks_mut(sa, th, |x| x.fill(I::from_usize(0)));
    bucket_ends(cnt, bkt);
    for_each_lms(&st, |i| {
        if i + 2 * PF < n {
            prefetch(bkt.as_ptr().wrapping_add(t[i + 2 * PF].to_usize()));
            prefetch(sa.as_ptr().wrapping_add(bkt[t[i + PF].to_usize()].to_usize().wrapping_sub(1)));
        }
        let c = t[i].to_usize();
        let b = bkt[c].to_usize() - 1;
        bkt[c] = I::from_usize(b);
        sa[b] = I::from_usize(i);
    });
    ph.mark("stage 1 seeds");
    induce(t, sa, cnt, bkt);
    ph.mark("stage 1 induce");

    let (m, names) = if th > 1 { name_lms_par(t, sa, &st, th) } else { name_lms(t, sa, &st) };
    ph.mark("LMS names");
    // gather the reduced string into the tail, in text order
    let mut j = n;
    for i in (m..n).rev() {
        if sa[i] != I::EMPTY {
            j -= 1;
            sa[j] = sa[i];
        }
    }
    debug_assert_eq!(j, n - m);
    {
        let (head, tail) = sa.split_at_mut(n - m);
        let s1: &[I] = tail;
        let (sa1, gap) = head.split_at_mut(m);
        if names < m {
            ph.mark("reduced string");
            sais_ws(s1, sa1, names, gap, level + 1, par);
        } else {
            for (i, &c) in s1.iter().enumerate() {
                sa1[c.to_usize()] = I::from_usize(i);
            }
        }
    }
    ph.mark("recursion");
    // map reduced suffixes back to LMS positions
    let mut j = n - m;
    for_each_lms(&st, |i| {
        sa[j] = I::from_usize(i);
        j += 1;
    });
    {
        let (head, tail) = sa.split_at_mut(n - m);
        let lms: &[I] = tail;
        let map = |x: &mut [I]| {
            for i in 0..x.len() {
                if i + PF < x.len() {
                    prefetch(lms.as_ptr().wrapping_add(x[i + PF].to_usize()));
                }
                x[i] = lms[x[i].to_usize()];
            }
        };
        par_chunks_mut(&mut head[..m], th, map);
    }
    par_chunks_mut(&mut sa[m..], th, |x| x.fill(I::from_usize(0)));
    // stage 3: place sorted LMS suffixes at their bucket ends and induce
    bucket_ends(cnt, bkt);
    for i in (0..m).rev() {
        if i >= PF {
            prefetch(t.as_ptr().wrapping_add(sa[i - PF].to_usize()));
        }
        let p = sa[i].to_usize();
        sa[i] = I::from_usize(0);
        let c = t[p].to_usize();
        let b = bkt[c].to_usize() - 1;
        bkt[c] = I::from_usize(b);
        sa[b] = I::from_usize(p);
    }
    ph.mark("stage 3 seeds");
    induce(t, sa, cnt, bkt);
    ph.mark("stage 3 induce");
}

/// `f` on `threads` contiguous pieces of `x`, in parallel (on the calling
/// thread, without a pool job, for one thread).
fn par_chunks_mut<I: Copy + Send>(x: &mut [I], threads: usize, f: impl Fn(&mut [I]) + Sync) {
    if threads <= 1 {
        return f(x);
    }
    let cs = chunks(x.len(), threads);
    let p = SyncPtr(x.as_mut_ptr());
    crate::util::for_each_index(threads, cs.len(), |j| {
        let (a, b) = cs[j];
        // SAFETY: the pieces are disjoint
        f(unsafe { std::slice::from_raw_parts_mut(p.ptr().add(a), b - a) })
    });
}

/// LMS substring equality: two LMS substrings (lengths to the next LMS position
/// inclusive) are equal iff they have the same length, neither contains the
/// sentinel and their symbols are equal (the types then agree too: both end
/// with an S-type symbol).
#[inline(always)]
fn same_lms<I: Idx>(t: &[I], p: usize, plen: usize, q: usize, qlen: usize) -> bool {
    let n = t.len();
    plen == qlen && p + plen <= n && q + qlen <= n && t[p..p + plen] == t[q..q + plen]
}

/// Moves the entries of `x` that are LMS positions to its front, in order;
/// returns how many.
fn keep_lms<I: Idx>(x: &mut [I], st: &BitVec) -> usize {
    let mut w = 0;
    for i in 0..x.len() {
        if i + PF < x.len() {
            prefetch(st.words().as_ptr().wrapping_add(x[i + PF].to_usize() >> 6));
        }
        let v = x[i];
        if is_lms(st, v.to_usize()) {
            x[w] = v;
            w += 1;
        }
    }
    w
}

/// Moves the LMS suffixes of the sorted `sa` to `sa[..m]` (in order) and gives
/// each a name (its rank among distinct LMS substrings) at `sa[m + pos / 2]`,
/// the other slots of `sa[m..]` EMPTY. Returns `(m, number of names)`.
fn name_lms<I: Idx>(t: &[I], sa: &mut [I], st: &BitVec) -> (usize, usize) {
    let n = t.len();
    let m = keep_lms(sa, st);
    for x in sa[m..].iter_mut() {
        *x = I::EMPTY;
    }
    // length of each LMS substring (to the next LMS position inclusive; the
    // last one runs to the virtual sentinel at n), stored at sa[m + pos/2]
    let mut next = n;
    for_each_lms_rev(st, |i| {
        sa[m + i / 2] = I::from_usize(next - i + 1);
        next = i;
    });
    let mut names = 0usize;
    let (mut q, mut qlen) = (n, 0usize);
    for i in 0..m {
        if i + PF < m {
            let r = sa[i + PF].to_usize();
            prefetch(t.as_ptr().wrapping_add(r));
            prefetch(sa.as_ptr().wrapping_add(m + r / 2));
        }
        let p = sa[i].to_usize();
        let plen = sa[m + p / 2].to_usize();
        if !same_lms(t, p, plen, q, qlen) {
            names += 1;
            q = p;
            qlen = plen;
        }
        sa[m + p / 2] = I::from_usize(names - 1);
    }
    (m, names)
}

/// [`name_lms`] on `threads` threads, the same result: the LMS suffixes are
/// compacted per chunk then moved into place; lengths are written per chunk of
/// the type bits; "differs from the previous LMS substring" is a bit per rank
/// (first pass), the names its running count from per-chunk offsets (second).
fn name_lms_par<I: Idx>(t: &[I], sa: &mut [I], st: &BitVec, threads: usize) -> (usize, usize) {
    let n = t.len();
    let sp = SyncPtr(sa.as_mut_ptr());
    // compact each chunk's LMS entries to its front, then move the blocks
    let cs = chunks(n, threads);
    let kept = crate::util::parallel_map(threads, cs.len(), |j| {
        let (a, b) = cs[j];
        // SAFETY: chunk j reads and writes only sa[a..b)
        keep_lms(unsafe { std::slice::from_raw_parts_mut(sp.ptr().add(a), b - a) }, st)
    });
    let mut m = 0;
    for (&(a, _), &w) in cs.iter().zip(&kept) {
        sa.copy_within(a..a + w, m);
        m += w;
    }
    par_chunks_mut(&mut sa[m..], threads, |x| x.fill(I::EMPTY));
    let sp = SyncPtr(sa.as_mut_ptr());
    // lengths, per chunk of type-bit words (each chunk finds the first LMS
    // position after it)
    let words = st.words();
    let wc = chunks(words.len(), threads);
    let first_lms_from = |w0: usize| -> usize {
        (w0..words.len())
            .find_map(|w| {
                let x = lms_word(words, w);
                (x != 0).then(|| w * 64 + x.trailing_zeros() as usize)
            })
            .unwrap_or(n)
    };
    crate::util::for_each_index(threads, wc.len(), |j| {
        let (wa, wb) = wc[j];
        let mut next = first_lms_from(wb);
        for_each_lms_rev_in(st, wa, wb, |i| {
            // SAFETY: LMS positions are never adjacent, so the slots
            // m + i / 2 are distinct; m + i / 2 < n
            unsafe { sp.write(m + i / 2, I::from_usize(next - i + 1)) };
            next = i;
        });
    });
    // "differs from the previous one", a bit per rank, in chunks of 64 ranks
    let rc: Vec<(usize, usize)> = chunks(m.div_ceil(64), threads).iter().map(|&(a, b)| (a * 64, (b * 64).min(m))).collect();
    let mut dif = BitVec::new(m);
    let dp = SyncPtr(dif.words_mut().as_mut_ptr());
    let counts = crate::util::parallel_map(threads, rc.len(), |j| {
        let (a, b) = rc[j];
        // SAFETY: this pass only reads sa
        let rd = |i: usize| unsafe { sp.read(i) }.to_usize();
        let (mut q, mut qlen) = if a == 0 { (n, 0) } else { (rd(a - 1), rd(m + rd(a - 1) / 2)) };
        let mut count = 0;
        let mut word = 0u64;
        for i in a..b {
            if i + PF < b {
                let r = rd(i + PF);
                prefetch(t.as_ptr().wrapping_add(r));
                prefetch(sp.ptr().wrapping_add(m + r / 2));
            }
            let p = rd(i);
            let plen = rd(m + p / 2);
            if !same_lms(t, p, plen, q, qlen) {
                word |= 1u64 << (i & 63);
                count += 1;
                q = p;
                qlen = plen;
            }
            if i & 63 == 63 || i + 1 == b {
                // SAFETY: chunks start at multiples of 64: their words are disjoint
                unsafe { dp.write(i >> 6, word) };
                word = 0;
            }
        }
        count
    });
    // names: the running count of the bits
    let mut offs = Vec::with_capacity(counts.len());
    let mut names = 0usize;
    for c in &counts {
        offs.push(names);
        names += c;
    }
    crate::util::for_each_index(threads, rc.len(), |j| {
        let (a, b) = rc[j];
        let mut name = offs[j];
        for i in a..b {
            name += dif.get(i) as usize;
            // SAFETY: reads sa[i] (i < m); writes the distinct slots m + p / 2
            let p = unsafe { sp.read(i) }.to_usize();
            unsafe { sp.write(m + p / 2, I::from_usize(name - 1)) };
        }
    });
    (m, names)
}

// ----------------------------------------------------------------- alphabet

/// Maps token values to dense ids `0..size`; dense (identity) for ordinary
/// vocabularies, a sorted table of the values present for huge ones.
pub enum AlphaMap {
    Dense(usize),
    Sparse(Vec<u32>),
}

impl AlphaMap {
    pub fn new<T: Token>(text: &[T], vocab: usize) -> AlphaMap {
        let limit = (1usize << 24).max(text.len());
        if vocab <= limit {
            // vocab may be understated by a caller; widen to the max token present
            let mx = text.iter().filter(|t| !t.is_sep()).map(|t| t.idx() + 1).max().unwrap_or(0);
            AlphaMap::Dense(vocab.max(mx))
        } else {
            let mut v: Vec<u32> = text.iter().filter(|t| !t.is_sep()).map(|t| t.to_u32()).collect();
            v.sort_unstable();
            v.dedup();
            AlphaMap::Sparse(v)
        }
    }
    pub fn size(&self) -> usize {
        match self {
            AlphaMap::Dense(k) => *k,
            AlphaMap::Sparse(v) => v.len(),
        }
    }
    #[inline(always)]
    pub fn id<T: Token>(&self, t: T) -> usize {
        match self {
            AlphaMap::Dense(_) => t.idx(),
            AlphaMap::Sparse(v) => v.binary_search(&t.to_u32()).unwrap(),
        }
    }
}

// ----------------------------------------------------------------- parts

/// Suffix array of the part `[s, e)` of `text` (global positions), in the
/// global suffix order (the part must end at a separator or at the text end).
pub fn build_part<T: Token, I: Idx>(text: &[T], s: usize, e: usize, amap: &AlphaMap) -> Vec<I> {
    build_part_with(text, s, e, amap, Par::default())
}

/// [`build_part`] with the threads of `par` (see [`sais_with`]).
pub fn build_part_with<T: Token, I: Idx>(text: &[T], s: usize, e: usize, amap: &AlphaMap, par: Par) -> Vec<I> {
    if e == s {
        return Vec::new();
    }
    let (sym, k) = part_symbols::<T, I>(text, s, e, amap, par.threads_for(e - s + 1));
    sort_symbols(sym, k, s, par)
}

/// The symbol string of the part `[s, e)` plus its terminal, and the alphabet
/// size, built on `threads` threads (each chunk numbers its separators from
/// the count of the chunks before it; the caller applies [`Par::threads_for`]).
fn part_symbols<T: Token, I: Idx>(text: &[T], s: usize, e: usize, amap: &AlphaMap, threads: usize) -> (Vec<I>, usize) {
    let len = e - s;
    let alpha = amap.size();
    let part = &text[s..e];
    // the symbol of `tk`; `sep` is the symbol of the next separator
    let symbol = |tk: T, sep: &mut usize| -> I {
        I::from_usize(if tk.is_sep() {
            *sep += 1;
            *sep - 1
        } else {
            amap.id(tk)
        })
    };
    if threads == 1 {
        // one pass, no first fill
        let mut sym: Vec<I> = crate::util::big_capacity(len + 1);
        let mut sep = alpha;
        sym.extend(part.iter().map(|&tk| symbol(tk, &mut sep)));
        sym.push(I::from_usize(sep));
        return (sym, sep + 1);
    }
    let cs = chunks(len, threads);
    let seps: Vec<usize> = crate::util::parallel_map(threads, cs.len(), |j| part[cs[j].0..cs[j].1].iter().filter(|t| t.is_sep()).count());
    let nsep: usize = seps.iter().sum();
    let mut sym: Vec<I> = crate::util::big_vec_par(len + 1, I::default(), threads);
    let sp = SyncPtr(sym.as_mut_ptr());
    crate::util::for_each_index(threads, cs.len(), |j| {
        let (a, b) = cs[j];
        let mut sep = alpha + seps[..j].iter().sum::<usize>();
        for (i, &tk) in part[a..b].iter().enumerate() {
            // SAFETY: the chunks are disjoint and inside 0..len
            unsafe { sp.write(a + i, symbol(tk, &mut sep)) };
        }
    });
    sym[len] = I::from_usize(alpha + nsep);
    (sym, alpha + nsep + 1)
}

fn sort_symbols<I: Idx>(sym: Vec<I>, k: usize, s: usize, par: Par) -> Vec<I> {
    let len = sym.len() - 1;
    let mut ph = Phases::new(0, len + 1);
    // (sais_with sets every slot before reading it)
    let mut sa = crate::util::big_vec_par(len + 1, I::EMPTY, par.threads_for(len + 1));
    ph.mark("allocate the suffix array");
    sais_with(&sym, &mut sa, k, par);
    ph.mark("SA-IS");
    drop(sym);
    debug_assert_eq!(sa[len].to_usize(), len);
    sa.truncate(len);
    ph.mark("free the symbols");
    if s > 0 {
        for x in sa.iter_mut() {
            *x = I::from_usize(x.to_usize() + s);
        }
    }
    sa
}

/// Like [`suffix_array`] with one part, but frees the text as soon as its
/// symbol string is built (peak memory: 4n symbols + 4n pointers + buckets).
pub fn suffix_array_owned<T: Token, I: Idx>(text: Vec<T>, vocab: usize, parts: usize, threads: usize) -> Vec<I> {
    if part_bounds(&text, parts).len() > 1 {
        // the last merge frees the text once the gap values are known
        let amap = AlphaMap::new(&text, vocab);
        let mut level = parts_until_two::<T, I>(&text, &amap, parts, threads);
        if level.len() == 1 {
            return level.pop().unwrap().2;
        }
        let (b0, b1, sa_b) = level.pop().unwrap();
        let (a0, a1, sa_a) = level.pop().unwrap();
        let step = crate::util::Step::new("merging 2 parts");
        let g = merge_gaps(&text, &amap, (a0, a1, &sa_a), (b0, b1), threads);
        drop(text);
        drop(amap);
        let m = merge_out(&sa_a, &sa_b, &g, b0, threads);
        step.done();
        return m;
    }
    let n = text.len();
    if n == 0 {
        return Vec::new();
    }
    let mut ph = Phases::new(0, n);
    let amap = AlphaMap::new(&text, vocab);
    let par = Par::threads(threads);
    let (sym, k) = part_symbols::<T, I>(&text, 0, n, &amap, par.threads_for(n + 1));
    drop(text);
    drop(amap);
    ph.mark("symbols");
    sort_symbols(sym, k, 0, par)
}

/// Merge the suffix arrays of two adjacent parts `[a0, a1)` and `[a1, b1)`
/// (`a1` a separator). Gap array by backward search: for each suffix b of the
/// second part, the number of first-part suffixes smaller than it is
/// `C[c] + occ(c, g(b+1)) (+1 for the last first-part position)`, one rank query
/// per suffix, independent of shared-prefix lengths.
pub fn merge_parts<T: Token, I: Idx>(
    text: &[T],
    amap: &AlphaMap,
    a: (usize, usize, Vec<I>),
    b: (usize, usize, Vec<I>),
    threads: usize,
) -> Vec<I> {
    let g = merge_gaps(text, amap, (a.0, a.1, &a.2), (b.0, b.1), threads);
    merge_out(&a.2, &b.2, &g, b.0, threads)
}

/// Gap values of the second part `[b0, b1)` against the suffix array of the
/// first part `[a0, a1)`, indexed by position - b0 (see [`merge_parts`]).
pub fn merge_gaps<T: Token, I: Idx>(
    text: &[T],
    amap: &AlphaMap,
    a: (usize, usize, &[I]),
    b: (usize, usize),
    threads: usize,
) -> Vec<I> {
    let (a0, a1, sa_a) = a;
    let (b0, b1) = b;
    assert_eq!(a1, b0);
    assert!(b0 < text.len() && text[b0].is_sep());
    let na = a1 - a0;
    let nb = b1 - b0;
    let alpha = amap.size();
    let mut ph = Phases::named(format!("merge of {na} + {nb} suffixes"));
    // C[c] = number of first-part suffixes that start with a token < c
    let mut cnt = vec![0usize; alpha + 1];
    for &tk in &text[a0..a1] {
        if !tk.is_sep() {
            cnt[amap.id(tk) + 1] += 1;
        }
    }
    let mut c_less = cnt.clone();
    for i in 1..=alpha {
        c_less[i] += c_less[i - 1];
    }
    // occ lists: for each token c, ranks r (ascending) with BWT_A[r] == c;
    // built on all threads over rank chunks (per-chunk counts give each chunk
    // its write offsets, so every list stays ascending)
    let threads = threads.max(1);
    let rchunks = chunks(na, threads);
    let bwt = |r: usize| -> Option<usize> {
        let p = sa_a[r].to_usize();
        if p > a0 && !text[p - 1].is_sep() {
            Some(amap.id(text[p - 1]))
        } else {
            None
        }
    };
    let pf = |r: usize, end: usize| {
        if r + PF < end {
            prefetch(text.as_ptr().wrapping_add(sa_a[r + PF].to_usize().wrapping_sub(1)));
        }
    };
    let mut counts: Vec<Vec<usize>> = crate::util::parallel_map(threads, rchunks.len(), |j| {
        let (x, y) = rchunks[j];
        let mut cc = vec![0usize; alpha];
        for r in x..y {
            pf(r, y);
            if let Some(c) = bwt(r) {
                cc[c] += 1;
            }
        }
        cc
    });
    ph.mark("BWT counts");
    let mut start = vec![0usize; alpha + 1];
    for c in 0..alpha {
        let mut s = start[c];
        for cc in counts.iter_mut() {
            let v = cc[c];
            cc[c] = s; // becomes this chunk's write offset for c
            s += v;
        }
        start[c + 1] = s;
    }
    let mut occ: Vec<I> = big_vec(start[alpha], I::default());
    {
        let op = SyncPtr(occ.as_mut_ptr());
        let fills: Vec<std::sync::Mutex<Vec<usize>>> = counts.into_iter().map(std::sync::Mutex::new).collect();
        crate::util::for_each_index(threads, rchunks.len(), |j| {
            let (x, y) = rchunks[j];
            let mut fill = fills[j].lock().unwrap();
            for r in x..y {
                pf(r, y);
                if let Some(c) = bwt(r) {
                    // SAFETY: each chunk writes its own offsets range of list c
                    unsafe { op.write(fill[c], I::from_usize(r)) };
                    fill[c] += 1;
                }
            }
        });
    }
    ph.mark("occurrence lists");
    // directory over each large occ list: dir[d] = number of list values below
    // d << shift (~8 values per block where the list is spread evenly over the
    // ranks; the sample levels below take over where it is not)
    let mut dir_start = vec![0usize; alpha + 1];
    let mut shifts = vec![0u32; alpha];
    for c in 0..alpha {
        let size = start[c + 1] - start[c];
        let mut nb = 0;
        if size > 32 {
            let blocks = (size / 8).max(1);
            let mut sh = 0u32;
            while (na >> sh) > blocks {
                sh += 1;
            }
            shifts[c] = sh;
            nb = (na >> sh) + 2;
        }
        dir_start[c + 1] = dir_start[c] + nb;
    }
    let mut dir: Vec<I> = vec![I::default(); dir_start[alpha]];
    for c in 0..alpha {
        let nb = dir_start[c + 1] - dir_start[c];
        if nb == 0 {
            continue;
        }
        let lst = &occ[start[c]..start[c + 1]];
        let sh = shifts[c];
        let mut k = 0usize;
        for d in 0..nb {
            let bound = d << sh;
            while k < lst.len() && lst[k].to_usize() < bound {
                k += 1;
            }
            dir[dir_start[c] + d] = I::from_usize(k);
        }
    }
    // sample levels over each list (see `FAN`): a directory block can hold
    // thousands of values where the BWT has runs of c (repeated text), and the
    // queries for c fall exactly there
    let mut samp_start = vec![0usize; alpha + 1];
    for c in 0..alpha {
        samp_start[c + 1] = samp_start[c] + sample_levels_len(start[c + 1] - start[c]);
    }
    let mut samp: Vec<I> = big_vec(samp_start[alpha], I::default());
    {
        let sp = SyncPtr(samp.as_mut_ptr());
        let cs = chunks(alpha, threads * 4);
        crate::util::for_each_index(threads, cs.len(), |j| {
            for c in cs[j].0..cs[j].1 {
                let lst = &occ[start[c]..start[c + 1]];
                let mut o = samp_start[c];
                let mut w = FAN;
                while w < lst.len() {
                    for x in lst.iter().step_by(w) {
                        // SAFETY: symbol c writes its own range samp_start[c]..samp_start[c + 1]
                        unsafe { sp.write(o, *x) };
                        o += 1;
                    }
                    w *= FAN;
                }
                debug_assert_eq!(o, samp_start[c + 1]);
            }
        });
    }
    let last = if a1 > a0 && !text[a1 - 1].is_sep() { Some(amap.id(text[a1 - 1])) } else { None };
    // everything a rank query needs about token c, in one cache line
    let meta: Vec<Meta> = (0..alpha)
        .map(|c| Meta {
            c_less: c_less[c],
            start: start[c],
            len: start[c + 1] - start[c],
            dir_start: dir_start[c],
            samp: samp_start[c],
            shift: shifts[c],
            has_dir: dir_start[c + 1] > dir_start[c],
        })
        .collect();
    drop(samp_start);
    drop(c_less);
    drop(dir_start);
    drop(shifts);
    ph.mark("directories and sample levels");

    // gap values of the second part, by position; chunks start at separators
    let mut g: Vec<I> = big_vec(nb, I::default());
    let nchunks = (threads * 8).max(1);
    let mut bounds = vec![b0];
    for (_, ce) in chunks(nb, nchunks) {
        let mut x = b0 + ce;
        while x < b1 && !text[x].is_sep() {
            x += 1;
        }
        if x > *bounds.last().unwrap() {
            bounds.push(x);
        }
    }
    if *bounds.last().unwrap() != b1 {
        bounds.push(b1);
    }
    let gp = SyncPtr(g.as_mut_ptr());
    crate::util::for_each_index(threads, bounds.len() - 1, |ci| {
        let (x, y) = (bounds[ci], bounds[ci + 1]);
        let lists = Lists { meta: &meta, occ: &occ, dir: &dir, samp: &samp };
        gap_chunk(text, amap, &lists, x, y, b1, na, last, b0, gp);
    });
    ph.mark("gap values");
    g
}

/// Merge two suffix arrays given the gap values of the second part (indexed by
/// position - b0): the suffix `p` of the second part follows exactly `g[p - b0]`
/// suffixes of the first part. The output is split over threads at ranks of
/// the second part (gap values are non-decreasing along its suffix array).
pub fn merge_out<I: Idx>(sa_a: &[I], sa_b: &[I], g: &[I], b0: usize, threads: usize) -> Vec<I> {
    let (na, nb) = (sa_a.len(), sa_b.len());
    let mut out: Vec<I> = big_vec(na + nb, I::default());
    let gap = |k: usize| g[sa_b[k].to_usize() - b0].to_usize();
    let bc = chunks(nb, threads.max(1));
    let op = SyncPtr(out.as_mut_ptr());
    crate::util::for_each_index(threads, bc.len(), |j| {
        let (x, y) = bc[j];
        let ia0 = if j == 0 { 0 } else { gap(x) };
        let ia1 = if j + 1 == bc.len() { na } else { gap(y) };
        let mut i = ia0;
        let mut o = x + ia0;
        for k in x..y {
            if k + PF < y {
                prefetch(g.as_ptr().wrapping_add(sa_b[k + PF].to_usize().wrapping_sub(b0)));
            }
            let gv = gap(k);
            debug_assert!(gv >= i && gv <= ia1);
            // SAFETY: chunk j writes out[x + ia0 .. y + ia1), disjoint
            // from the other chunks' ranges (gap values are monotone)
            while i < gv {
                unsafe { op.write(o, sa_a[i]) };
                i += 1;
                o += 1;
            }
            unsafe { op.write(o, sa_b[k]) };
            o += 1;
        }
        while i < ia1 {
            unsafe { op.write(o, sa_a[i]) };
            i += 1;
            o += 1;
        }
        assert_eq!(o, y + ia1);
    });
    out
}

#[repr(align(64))]
#[derive(Clone, Copy)]
struct Meta {
    c_less: usize,
    start: usize,
    len: usize,
    dir_start: usize,
    samp: usize,
    shift: u32,
    has_dir: bool,
}

/// Fan-out of the sample levels over an occurrence list: level l (l >= 1, while
/// `FAN^l` < the list's length) holds every `FAN^l`-th value of the list, so a
/// rank query narrows a range of the list `FAN`-fold per level, reading one
/// window of at most `FAN` consecutive samples (one or two cache lines) each
/// time, instead of a binary search's dependent misses over a long range.
const FAN: usize = 16;

/// Number of sample entries of a list of `len` values (all levels).
fn sample_levels_len(len: usize) -> usize {
    let (mut total, mut w) = (0, FAN);
    while w < len {
        total += len.div_ceil(w);
        w *= FAN;
    }
    total
}

/// The occurrence lists of the first part's BWT and their search structures.
struct Lists<'a, I> {
    meta: &'a [Meta],
    occ: &'a [I],
    dir: &'a [I],
    samp: &'a [I],
}

/// Where the next step of a rank query reads: the list itself (a final
/// window) or the samples of one level.
#[derive(Clone, Copy, Default)]
enum Probe {
    #[default]
    /// `[lo, hi)` of the list holds at most `FAN` values: count those `< g`
    List,
    /// level-`l` samples `j0..j1` (list indices `j * FAN^l` in `[lo, hi)`)
    Level { l: u32, j0: usize, j1: usize, at: usize },
}

impl<I: Idx> Lists<'_, I> {
    /// The next read of a query whose answer (the number of list values `< g`)
    /// lies in `[lo, hi]`; prefetches it.
    #[inline(always)]
    fn plan(&self, m: &Meta, lo: usize, hi: usize) -> Probe {
        if hi - lo <= FAN {
            prefetch_window(self.occ, m.start + lo, m.start + hi);
            return Probe::List;
        }
        // the smallest level whose samples in [lo, hi) are at most FAN; it
        // exists: hi - lo > FAN^l there, so FAN^l < len
        let (mut l, mut w, mut off) = (1u32, FAN, m.samp);
        while hi - lo > w * FAN {
            off += m.len.div_ceil(w);
            l += 1;
            w *= FAN;
        }
        let (j0, j1) = (lo.div_ceil(w), hi.div_ceil(w));
        prefetch_window(self.samp, off + j0, off + j1);
        Probe::Level { l, j0, j1, at: off }
    }

    /// One step: the narrowed `(lo, hi)` after reading `probe`, or the answer.
    #[inline(always)]
    fn step(&self, m: &Meta, probe: &Probe, lo: usize, hi: usize, g: usize) -> Result<usize, (usize, usize)> {
        match *probe {
            Probe::List => {
                let w = &self.occ[m.start + lo..m.start + hi];
                Ok(lo + w.iter().filter(|v| v.to_usize() < g).count())
            }
            Probe::Level { l, j0, j1, at } => {
                let w = FAN.pow(l);
                let k = j0 + self.samp[at + j0..at + j1].iter().filter(|v| v.to_usize() < g).count();
                // value k * w is >= g (if inside), value (k - 1) * w is < g (if inside)
                let nlo = if k > j0 { (k - 1) * w + 1 } else { lo };
                let nhi = if k < j1 { k * w } else { hi };
                Err((nlo, nhi))
            }
        }
    }
}

/// Prefetch the cache lines of `x[a..b)` (at most `FAN` entries).
#[inline(always)]
fn prefetch_window<I>(x: &[I], a: usize, b: usize) {
    let p = x.as_ptr();
    prefetch(p.wrapping_add(a));
    if b > a + 1 {
        prefetch(p.wrapping_add((a + b) / 2));
        prefetch(p.wrapping_add(b - 1));
    }
}

/// Chains of the backward search that run interleaved: one per document.
const CHAINS: usize = 24;

#[derive(Clone, Copy, Default)]
struct Chain {
    pos: usize,  // next position to compute (exclusive upper end while running)
    stop: usize, // first position of the document (a separator)
    gnext: usize,
    phase: u8,
    c: usize,
    lo: usize,
    hi: usize,
    probe: Probe,
}

/// Gap values of the positions `[x, y)` of the second part (x a separator, y a
/// separator or the end `b1`). Each document is an independent chain of rank
/// queries (g(pos) depends on g(pos + 1)); `CHAINS` documents advance in
/// round-robin, each step split in phases that prefetch the directory entry,
/// then each sample-level window and the final list window ([`Lists::plan`]),
/// so the cache misses of different chains overlap instead of serializing.
#[allow(clippy::too_many_arguments)]
fn gap_chunk<T: Token, I: Idx>(
    text: &[T],
    amap: &AlphaMap,
    lists: &Lists<I>,
    x: usize,
    y: usize,
    b1: usize,
    na: usize,
    last: Option<usize>,
    b0: usize,
    gp: SyncPtr<I>,
) {
    // documents [s, e) of the chunk, taken from the back
    let mut doc_end = y;
    let mut scan = y; // positions >= scan are assigned to chains
    let next_doc = |scan: &mut usize, doc_end: &mut usize| -> Option<(usize, usize)> {
        if *scan <= x {
            return None;
        }
        let e = *doc_end;
        let mut s = e - 1;
        while s > x && !text[s].is_sep() {
            s -= 1;
        }
        *scan = s;
        *doc_end = s;
        Some((s, e))
    };
    let mut chains: Vec<Chain> = Vec::with_capacity(CHAINS);
    for _ in 0..CHAINS {
        match next_doc(&mut scan, &mut doc_end) {
            Some((s, e)) => chains.push(Chain { pos: e, stop: s, gnext: na, ..Default::default() }),
            None => break,
        }
    }
    while !chains.is_empty() {
        let mut k = 0;
        while k < chains.len() {
            let ch = &mut chains[k];
            match ch.phase {
                0 => {
                    // start the step for position ch.pos - 1
                    let pos = ch.pos - 1;
                    let tk = text[pos];
                    if tk.is_sep() {
                        // SAFETY: chunks (and documents) are disjoint
                        unsafe { gp.write(pos - b0, I::from_usize(na)) };
                        ch.gnext = na;
                        ch.pos = pos;
                    } else {
                        let c = amap.id(tk);
                        let m = &lists.meta[c];
                        ch.c = c;
                        if m.has_dir {
                            let d = m.dir_start + (ch.gnext >> m.shift);
                            prefetch(lists.dir.as_ptr().wrapping_add(d));
                            ch.lo = d;
                            ch.phase = 1;
                        } else {
                            (ch.lo, ch.hi) = (0, m.len);
                            ch.probe = lists.plan(m, 0, m.len);
                            ch.phase = 2;
                        }
                    }
                }
                1 => {
                    let m = &lists.meta[ch.c];
                    let d = ch.lo;
                    ch.lo = lists.dir[d].to_usize();
                    ch.hi = lists.dir[d + 1].to_usize();
                    ch.probe = lists.plan(m, ch.lo, ch.hi);
                    ch.phase = 2;
                }
                _ => {
                    let m = &lists.meta[ch.c];
                    let r = match lists.step(m, &ch.probe, ch.lo, ch.hi, ch.gnext) {
                        Ok(r) => r,
                        Err((lo, hi)) => {
                            // narrowed: read the next level on this chain's next turn
                            (ch.lo, ch.hi) = (lo, hi);
                            ch.probe = lists.plan(m, lo, hi);
                            k += 1;
                            continue;
                        }
                    };
                    let pos = ch.pos - 1;
                    let extra = match last {
                        Some(lc) if lc == ch.c && (pos + 1 == b1 || text[pos + 1].is_sep()) => 1,
                        _ => 0,
                    };
                    let gv = m.c_less + r + extra;
                    // SAFETY: chunks (and documents) are disjoint
                    unsafe { gp.write(pos - b0, I::from_usize(gv)) };
                    ch.gnext = gv;
                    ch.pos = pos;
                    ch.phase = 0;
                    if pos > ch.stop {
                        let tk = text[pos - 1];
                        if !tk.is_sep() {
                            prefetch(lists.meta.as_ptr().wrapping_add(amap.id(tk)));
                        }
                    }
                }
            }
            let ch = &mut chains[k];
            if ch.phase == 0 && ch.pos == ch.stop {
                match next_doc(&mut scan, &mut doc_end) {
                    Some((s, e)) => {
                        chains[k] = Chain { pos: e, stop: s, gnext: na, ..Default::default() };
                    }
                    None => {
                        chains.swap_remove(k);
                        continue;
                    }
                }
            }
            k += 1;
        }
    }
}

/// Split `[0, n)` into at most `parts` ranges whose inner boundaries are
/// separator positions.
pub fn part_bounds<T: Token>(text: &[T], parts: usize) -> Vec<(usize, usize)> {
    let n = text.len();
    let mut b = vec![0usize];
    for i in 1..parts.max(1) {
        let mut x = n * i / parts;
        if x <= *b.last().unwrap() {
            x = *b.last().unwrap() + 1;
        }
        while x < n && !text[x].is_sep() {
            x += 1;
        }
        if x < n && x > *b.last().unwrap() {
            b.push(x);
        }
    }
    b.push(n);
    b.windows(2).map(|w| (w[0], w[1])).collect()
}

/// Builds the parts of `text` on up to `threads` threads and merges them
/// pairwise until at most two remain.
fn parts_until_two<T: Token, I: Idx>(text: &[T], amap: &AlphaMap, parts: usize, threads: usize) -> Vec<(usize, usize, Vec<I>)> {
    let n = text.len();
    let threads = threads.max(1);
    let bounds = part_bounds(text, parts);
    if bounds.len() == 1 {
        return vec![(0, n, build_part_with(text, 0, n, amap, Par::threads(threads)))];
    }
    let step = crate::util::Step::new(format!("building {} parts on {threads} threads", bounds.len()));
    let results: Mutex<Vec<Option<Vec<I>>>> = Mutex::new(vec![None; bounds.len()]);
    crate::util::for_each_index(threads, bounds.len(), |i| {
        let (s, e) = bounds[i];
        let sa = build_part::<T, I>(text, s, e, &amap);
        results.lock().unwrap()[i] = Some(sa);
    });
    step.done();
    let mut level: Vec<(usize, usize, Vec<I>)> = bounds
        .iter()
        .zip(results.into_inner().unwrap())
        .map(|(&(s, e), sa)| (s, e, sa.unwrap()))
        .collect();
    while level.len() > 2 {
        let step = crate::util::Step::new(format!("merging {} parts", level.len()));
        let mut nextl = Vec::with_capacity(level.len().div_ceil(2));
        let mut it = level.into_iter();
        while let Some(a) = it.next() {
            match it.next() {
                Some(b) => {
                    let (s, e) = (a.0, b.1);
                    let m = merge_parts(text, &amap, a, b, threads);
                    nextl.push((s, e, m));
                }
                None => nextl.push(a),
            }
        }
        level = nextl;
        step.done();
    }
    level
}

/// Suffix array of `text` (tokens `< vocab` or separators) in the crate's suffix
/// order. `parts > 1` builds that many parts (split at separators) on up to
/// `threads` threads and merges them.
pub fn suffix_array<T: Token, I: Idx>(text: &[T], vocab: usize, parts: usize, threads: usize) -> Vec<I> {
    let amap = AlphaMap::new(text, vocab);
    let mut level = parts_until_two::<T, I>(text, &amap, parts, threads);
    if level.len() == 1 {
        return level.pop().unwrap().2;
    }
    let b = level.pop().unwrap();
    let a = level.pop().unwrap();
    let step = crate::util::Step::new("merging 2 parts");
    let m = merge_parts(text, &amap, a, b, threads);
    step.done();
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sample-level search against `partition_point` (the oracle) on sorted
    /// lists made of runs of consecutive values (a BWT of repeated text) and
    /// scattered values, from the whole list and from random ranges that
    /// contain the answer (a directory block).
    #[test]
    fn sample_levels_rank_equals_partition_point() {
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut rnd = |n: usize| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % n.max(1) as u64) as usize
        };
        for len in [0usize, 1, 2, 15, 16, 17, 31, 255, 256, 257, 4095, 4097, 70_000] {
            let mut lst: Vec<u32> = Vec::with_capacity(len);
            let mut v = 0usize;
            while lst.len() < len {
                let gap = if rnd(3) == 0 { 1000 } else { 3 };
                v += 1 + rnd(gap);
                let run = if rnd(4) == 0 { 5000 } else { 2 };
                for _ in 0..(1 + rnd(run)).min(len - lst.len()) {
                    lst.push(v as u32);
                    v += 1;
                }
            }
            let mut samp = Vec::new();
            let mut w = FAN;
            while w < len {
                samp.extend(lst.iter().step_by(w).copied());
                w *= FAN;
            }
            assert_eq!(samp.len(), sample_levels_len(len));
            let meta = Meta { c_less: 0, start: 0, len, dir_start: 0, samp: 0, shift: 0, has_dir: false };
            let lists = Lists { meta: std::slice::from_ref(&meta), occ: &lst, dir: &[], samp: &samp };
            for _ in 0..2000 {
                let g = rnd(v + 2);
                let want = lst.partition_point(|&y| (y as usize) < g);
                let (mut lo, mut hi) = if rnd(2) == 0 { (0, len) } else { (want - rnd(want + 1), want + rnd(len - want + 1)) };
                let mut steps = 0;
                let got = loop {
                    let probe = lists.plan(&meta, lo, hi);
                    match lists.step(&meta, &probe, lo, hi, g) {
                        Ok(r) => break r,
                        Err((a, b)) => {
                            assert!(a <= want && want <= b && b - a < hi - lo, "len {len} g {g}: [{lo}, {hi}] -> [{a}, {b}]");
                            (lo, hi) = (a, b);
                        }
                    }
                    steps += 1;
                };
                assert_eq!(got, want, "len {len} g {g}");
                assert!(steps <= 5, "len {len}: {steps} levels");
            }
        }
    }
}

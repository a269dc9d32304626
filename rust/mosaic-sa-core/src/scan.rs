//! `scan`: near-duplicates of a set of targets (SPEC §7 step 5).
//!
//! One streaming pass over the corpus, split into chunks on several threads.
//! A sliding window of `m` tokens (the target length) keeps, for every target,
//! its bag-of-tokens overlap `sum_c min(window(c), target(c))`, updated through
//! an inverted index token -> (target, multiplicity) so that only the targets
//! containing the entering / leaving token are touched. Because `m - overlap`
//! is a lower bound on both the Hamming and the Levenshtein distance of two
//! m-token sequences, only windows with overlap >= m - max_distance are
//! verified, with the exact Hamming distance and the bit-parallel
//! Myers/Hyyrö Levenshtein distance. Windows never contain a separator.
//! Verified windows within `max_distance` are reduced per target greedily
//! (best distance first, then lower position) to non-overlapping matches.

use crate::util::{chunks, doc_of, prefetch, run_workers};
use crate::Token;
use std::collections::BTreeSet;
use std::sync::Mutex;

/// Which distance the threshold and the greedy selection use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Select {
    Levenshtein,
    Hamming,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Match {
    pub pos: u64,
    pub doc: u64,
    pub hamming: u32,
    pub levenshtein: u32,
}

// ----------------------------------------------------------------- Myers

/// Pattern bit masks of one target for the bit-parallel edit distance.
pub struct Pattern {
    pub tokens: Vec<u32>,
    /// sorted distinct tokens and their `words`-word masks
    keys: Vec<u32>,
    masks: Vec<u64>,
    words: usize,
    /// the masks as one u128 per key when m <= 128 (single-block fast path)
    masks128: Vec<u128>,
}

impl Pattern {
    pub fn new(tokens: &[u32]) -> Pattern {
        let m = tokens.len();
        let words = m.div_ceil(64).max(1);
        let mut keys: Vec<u32> = tokens.to_vec();
        keys.sort_unstable();
        keys.dedup();
        let mut masks = vec![0u64; keys.len() * words];
        for (i, &t) in tokens.iter().enumerate() {
            let k = keys.binary_search(&t).unwrap();
            masks[k * words + i / 64] |= 1u64 << (i % 64);
        }
        let masks128 = if m <= 128 {
            (0..keys.len()).map(|k| masks[k * words] as u128 | if words > 1 { (masks[k * words + 1] as u128) << 64 } else { 0 }).collect()
        } else {
            Vec::new()
        };
        Pattern { tokens: tokens.to_vec(), keys, masks, words, masks128 }
    }

    /// Semi-global scores for m <= 128 (else false, `out` untouched): after the
    /// call `out[j]` (j in 1..=n) is `min over s <= j` of the Levenshtein
    /// distance between the pattern and text[s..j] (free start: Myers' search
    /// recurrence, the top row stays 0), `out[0] = m`. Given, as for
    /// [`Pattern::levenshtein_by`], each text position's index in the keys.
    pub fn semiglobal_scores(&self, n: usize, key_of: impl Fn(usize) -> Option<usize>, out: &mut Vec<u32>) -> bool {
        let m = self.tokens.len();
        if m == 0 || m > 128 {
            return false;
        }
        out.clear();
        out.push(m as u32);
        let hibit = 1u128 << (m - 1);
        let (mut pv, mut mv) = (!0u128, 0u128);
        let mut score = m as i64;
        for i in 0..n {
            let eq = match key_of(i) {
                Some(k) => self.masks128[k],
                None => 0,
            };
            let xv = eq | mv;
            let xh = ((eq & pv).wrapping_add(pv) ^ pv) | eq;
            let ph = mv | !(xh | pv);
            let mh = pv & xh;
            score += ((ph & hibit) != 0) as i64 - ((mh & hibit) != 0) as i64;
            let ph = ph << 1;
            let mh = mh << 1;
            pv = mh | !(xv | ph);
            mv = ph & xv;
            out.push(score as u32);
        }
        true
    }

    /// Levenshtein distance between the pattern and `text` (global alignment),
    /// Myers' bit-vector algorithm in Hyyrö's block formulation.
    pub fn levenshtein(&self, text: &[u32]) -> u32 {
        self.levenshtein_by(text.len(), |i| self.keys.binary_search(&text[i]).ok())
    }

    /// Distinct tokens of the pattern, sorted (`levenshtein_by` takes indices into it).
    pub fn keys(&self) -> &[u32] {
        &self.keys
    }

    /// [`Pattern::levenshtein`] of a text of `n` tokens given, for each text
    /// position, the index of its token in [`Pattern::keys`] (None: not in the pattern).
    #[inline]
    pub fn levenshtein_by(&self, n: usize, key_of: impl Fn(usize) -> Option<usize>) -> u32 {
        let m = self.tokens.len();
        if m == 0 {
            return n as u32;
        }
        if m <= 128 {
            // one 128-bit block: Myers' recurrence with the top row growing by 1
            let hibit = 1u128 << (m - 1);
            let (mut pv, mut mv) = (!0u128, 0u128);
            let mut score = m as i64;
            for i in 0..n {
                let eq = match key_of(i) {
                    Some(k) => self.masks128[k],
                    None => 0,
                };
                let xv = eq | mv;
                let xh = ((eq & pv).wrapping_add(pv) ^ pv) | eq;
                let ph = mv | !(xh | pv);
                let mh = pv & xh;
                score += ((ph & hibit) != 0) as i64 - ((mh & hibit) != 0) as i64;
                let ph = (ph << 1) | 1;
                let mh = mh << 1;
                pv = mh | !(xv | ph);
                mv = ph & xv;
            }
            return score as u32;
        }
        let w = self.words;
        let mut stack = [[!0u64; 4], [0u64; 4]];
        let mut heap: Vec<u64> = Vec::new();
        let (pv, mv): (&mut [u64], &mut [u64]) = if w <= 4 {
            let [a, b] = &mut stack;
            (&mut a[..w], &mut b[..w])
        } else {
            heap = vec![0u64; 2 * w];
            let (a, b) = heap.split_at_mut(w);
            a.iter_mut().for_each(|x| *x = !0);
            (a, b)
        };
        let last_bit = (m - 1) % 64;
        let mut score = m as i64;
        let zeros = [0u64; 4];
        let zeros_heap: Vec<u64> = if w <= 4 { Vec::new() } else { vec![0u64; w] };
        for i in 0..n {
            let eqs: &[u64] = match key_of(i) {
                Some(k) => &self.masks[k * w..(k + 1) * w],
                None if w <= 4 => &zeros[..w],
                None => &zeros_heap,
            };
            let mut hin: i64 = 1; // global alignment: the top row grows by 1 per column
            for b in 0..w {
                let (p, mm, eq) = (pv[b], mv[b], eqs[b]);
                let hneg = (hin < 0) as u64;
                let xv = eq | mm;
                let eq2 = eq | hneg;
                let xh = ((eq2 & p).wrapping_add(p) ^ p) | eq2;
                let mut ph = mm | !(xh | p);
                let mut mh = p & xh;
                let hb = if b + 1 == w { last_bit } else { 63 };
                let hout = ((ph >> hb) & 1) as i64 - ((mh >> hb) & 1) as i64;
                ph <<= 1;
                mh <<= 1;
                mh |= hneg;
                ph |= (hin > 0) as u64;
                pv[b] = mh | !(xv | ph);
                mv[b] = ph & xv;
                hin = hout;
            }
            score += hin;
        }
        drop(heap);
        score as u32
    }
}

/// Plain dynamic-programming Levenshtein distance (reference for tests).
pub fn levenshtein_dp(a: &[u32], b: &[u32]) -> u32 {
    let mut prev: Vec<u32> = (0..=b.len() as u32).collect();
    let mut cur = vec![0u32; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i as u32;
        for j in 1..=b.len() {
            let sub = prev[j - 1] + (a[i - 1] != b[j - 1]) as u32;
            cur[j] = sub.min(prev[j] + 1).min(cur[j - 1] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

pub fn hamming(a: &[u32], b: &[u32]) -> u32 {
    a.iter().zip(b).filter(|(x, y)| x != y).count() as u32
}

// ----------------------------------------------------------------- selection

/// Greedy non-overlapping selection of candidate windows of length `m`:
/// best (selected distance, other distance, position) first. Returns the kept
/// candidates sorted by position.
pub fn greedy_select(mut cands: Vec<Match>, m: usize, select: Select) -> Vec<Match> {
    let key = |c: &Match| match select {
        Select::Levenshtein => (c.levenshtein, c.hamming, c.pos),
        Select::Hamming => (c.hamming, c.levenshtein, c.pos),
    };
    cands.sort_unstable_by_key(key);
    let mut taken: BTreeSet<u64> = BTreeSet::new();
    let mut out = Vec::new();
    let m = m as u64;
    for c in cands {
        let lo = c.pos.saturating_sub(m - 1);
        if taken.range(lo..c.pos + m).next().is_some() {
            continue;
        }
        taken.insert(c.pos);
        out.push(c);
    }
    out.sort_unstable();
    out
}

/// [`greedy_select`] of the windows within `d`, given candidate windows
/// `(position, lower bound of both distances)` and `dist(p) = (hamming,
/// levenshtein)`, evaluated lazily: each candidate is ordered under the
/// key `(bound, 0, position)` (not above its exact key) until it comes first,
/// then its exact distances; a window that overlaps a kept one when it comes
/// first is dropped without computing them (the greedy order would have kept
/// the other one first), and so is one within `lev(q) - 2 |p - q| > d` of a
/// computed window q beyond `d` (two windows p, q of one length are 2 |p - q|
/// edits apart; Levenshtein selection). Same result as computing every distance.
pub fn lazy_select(cands: Vec<(u64, u32)>, m: usize, d: usize, select: Select, dist: &mut dyn FnMut(usize) -> (u32, u32), doc: impl Fn(u64) -> u64) -> Vec<Match> {
    use std::cmp::Reverse;
    use std::collections::{BTreeMap, BinaryHeap};
    // keys (selected, other, position, exact): the bounds sorted once, the
    // exact keys (fewer) in a heap; the smaller of the two heads comes next
    let mut bounds: Vec<(u32, u64)> = cands.into_iter().map(|(p, lb)| (lb, p)).collect();
    bounds.sort_unstable();
    let mut next_bound = 0usize;
    let mut heap: BinaryHeap<Reverse<(u32, u32, u64, bool)>> = BinaryHeap::new();
    let mut taken: BTreeSet<u64> = BTreeSet::new();
    let mut rejected: BTreeMap<u64, u32> = BTreeMap::new();
    let mut out = Vec::new();
    let mm = m as u64;
    loop {
        let from_bounds = bounds.get(next_bound).map(|&(lb, p)| (lb, 0, p, false));
        let (a, b, p, exact) = match (from_bounds, heap.peek()) {
            (None, None) => break,
            (Some(x), Some(&Reverse(y))) if y < x => heap.pop().unwrap().0,
            (Some(x), _) => {
                next_bound += 1;
                x
            }
            (None, Some(_)) => heap.pop().unwrap().0,
        };
        if taken.range(p.saturating_sub(mm - 1)..p + mm).next().is_some() {
            continue;
        }
        if exact {
            taken.insert(p);
            let (hamming, levenshtein) = match select {
                Select::Levenshtein => (b, a),
                Select::Hamming => (a, b),
            };
            out.push(Match { pos: p, doc: doc(p), hamming, levenshtein });
            continue;
        }
        if select == Select::Levenshtein
            && rejected.range(p.saturating_sub(mm - 1)..p + mm).any(|(&q, &l)| l as i64 - 2 * (p as i64 - q as i64).abs() > d as i64)
        {
            continue;
        }
        let (h, l) = dist(p as usize);
        let (s, o) = match select {
            Select::Levenshtein => (l, h),
            Select::Hamming => (h, l),
        };
        if s as usize > d {
            if select == Select::Levenshtein {
                rejected.insert(p, l);
            }
            continue;
        }
        heap.push(Reverse((s, o, p, true)));
    }
    out.sort_unstable();
    out
}

// ----------------------------------------------------------------- scan

/// The previous scan (bag-of-tokens overlap of every target kept up to date
/// through an inverted index), kept as the reference implementation of
/// [`scan`] (same results; its cost grows with the number of targets).
/// Returns, per target, the selected matches sorted by position.
pub fn scan_reference<T: Token>(text: &[T], seps: &[u64], targets: &[Vec<u32>], max_distance: usize, select: Select, threads: usize) -> Vec<Vec<Match>> {
    let nt = targets.len();
    if nt == 0 {
        return Vec::new();
    }
    let m = targets[0].len();
    assert!(m > 0 && targets.iter().all(|t| t.len() == m));
    let n = text.len();
    // local ids for the tokens that occur in some target
    let mut keys: Vec<u32> = targets.iter().flatten().copied().collect();
    keys.sort_unstable();
    keys.dedup();
    let nk = keys.len();
    let dense_limit = 1usize << 24;
    let max_key = *keys.last().unwrap() as usize;
    let dense: Option<Vec<u32>> = if max_key < dense_limit {
        let mut d = vec![u32::MAX; max_key + 1];
        for (i, &k) in keys.iter().enumerate() {
            d[k as usize] = i as u32;
        }
        Some(d)
    } else {
        None
    };
    let local = |t: T| -> u32 {
        if t.is_sep() {
            return u32::MAX;
        }
        let v = t.to_u32();
        match &dense {
            Some(d) => d.get(v as usize).copied().unwrap_or(u32::MAX),
            None => keys.binary_search(&v).map(|i| i as u32).unwrap_or(u32::MAX),
        }
    };
    // inverted index: local token -> (target, multiplicity) in CSR form
    let mut post_start = vec![0usize; nk + 1];
    let mut per_target: Vec<Vec<(u32, u32)>> = Vec::with_capacity(nt);
    for t in targets {
        let mut ids: Vec<u32> = t.iter().map(|&x| keys.binary_search(&x).unwrap() as u32).collect();
        ids.sort_unstable();
        let mut v: Vec<(u32, u32)> = Vec::new();
        for id in ids {
            match v.last_mut() {
                Some((k, c)) if *k == id => *c += 1,
                _ => v.push((id, 1)),
            }
        }
        for &(k, _) in &v {
            post_start[k as usize + 1] += 1;
        }
        per_target.push(v);
    }
    for i in 1..=nk {
        post_start[i] += post_start[i - 1];
    }
    let mut fill = post_start.clone();
    let mut postings = vec![(0u32, 0u32); post_start[nk]];
    for (ti, v) in per_target.iter().enumerate() {
        for &(k, c) in v {
            postings[fill[k as usize]] = (ti as u32, c);
            fill[k as usize] += 1;
        }
    }
    drop(fill);
    let patterns: Vec<Pattern> = targets.iter().map(|t| Pattern::new(t)).collect();
    let thr = m.saturating_sub(max_distance);
    let all_active = thr == 0;

    let results: Mutex<Vec<Vec<Match>>> = Mutex::new(vec![Vec::new(); nt]);
    let nwin = n.saturating_sub(m - 1);
    let parts = chunks(nwin, threads.max(1) * 8);
    run_workers(threads, parts.len(), |take| {
        {
            {
                let mut local_res: Vec<Vec<Match>> = vec![Vec::new(); nt];
                let mut wcnt = vec![0u32; nk];
                let mut overlap = vec![0u32; nt];
                let mut active: Vec<u32> = if all_active { (0..nt as u32).collect() } else { Vec::new() };
                let mut slot = vec![u32::MAX; nt];
                let mut window: Vec<u32> = vec![0; m];
                while let Some(ci) = take() {
                    let (ws, we) = parts[ci];
                    if ws >= we {
                        continue;
                    }
                    // reset the state
                    for x in wcnt.iter_mut() {
                        *x = 0;
                    }
                    for x in overlap.iter_mut() {
                        *x = 0;
                    }
                    if !all_active {
                        for &t in &active {
                            slot[t as usize] = u32::MAX;
                        }
                        active.clear();
                    }
                    // windows start in [ws, we); tokens [ws, we + m - 1)
                    let end = (we + m - 1).min(n);
                    let mut wstart = ws; // start of the current separator-free run
                    for i in ws..end {
                        let tk = text[i];
                        if tk.is_sep() {
                            // drop the whole window
                            let from = wstart.max(i.saturating_sub(m));
                            for j in from..i {
                                let u = local(text[j]);
                                if u != u32::MAX {
                                    remove(u, &mut wcnt, &postings, &post_start, &mut overlap, &mut active, &mut slot, thr, all_active);
                                }
                            }
                            wstart = i + 1;
                            continue;
                        }
                        let u = local(tk);
                        if u != u32::MAX {
                            add(u, &mut wcnt, &postings, &post_start, &mut overlap, &mut active, &mut slot, thr, all_active);
                        }
                        if i >= wstart + m {
                            let v = local(text[i - m]);
                            if v != u32::MAX {
                                remove(v, &mut wcnt, &postings, &post_start, &mut overlap, &mut active, &mut slot, thr, all_active);
                            }
                        }
                        if i + 1 >= wstart + m {
                            let p = i + 1 - m;
                            if !active.is_empty() {
                                for (w, x) in window.iter_mut().zip(&text[p..p + m]) {
                                    *w = x.to_u32();
                                }
                                for &t in &active {
                                    let t = t as usize;
                                    let pat = &patterns[t];
                                                        let h = hamming(&pat.tokens, &window);
                                    let lev = if (h as usize) <= max_distance || select == Select::Levenshtein {
                                        pat.levenshtein(&window)
                                    } else {
                                        continue;
                                    };
                                    let d = match select {
                                        Select::Levenshtein => lev,
                                        Select::Hamming => h,
                                    };
                                    if (d as usize) <= max_distance {
                                        local_res[t].push(Match { pos: p as u64, doc: doc_of(seps, p as u64), hamming: h, levenshtein: lev });
                                    }
                                }
                            }
                        }
                    }
                }
                let mut r = results.lock().unwrap();
                for (t, v) in local_res.into_iter().enumerate() {
                    r[t].extend(v);
                }
            }
        }
    });
    results.into_inner().unwrap().into_iter().map(|c| greedy_select(c, m, select)).collect()
}

#[allow(clippy::too_many_arguments)]
#[inline]
fn add(u: u32, wcnt: &mut [u32], postings: &[(u32, u32)], ps: &[usize], overlap: &mut [u32], active: &mut Vec<u32>, slot: &mut [u32], thr: usize, all: bool) {
    let w = {
        let c = &mut wcnt[u as usize];
        *c += 1;
        *c
    };
    for &(t, need) in &postings[ps[u as usize]..ps[u as usize + 1]] {
        if w <= need {
            let o = &mut overlap[t as usize];
            *o += 1;
            if !all && *o as usize == thr {
                slot[t as usize] = active.len() as u32;
                active.push(t);
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
#[inline]
fn remove(u: u32, wcnt: &mut [u32], postings: &[(u32, u32)], ps: &[usize], overlap: &mut [u32], active: &mut Vec<u32>, slot: &mut [u32], thr: usize, all: bool) {
    let w = wcnt[u as usize];
    for &(t, need) in &postings[ps[u as usize]..ps[u as usize + 1]] {
        if w <= need {
            let o = &mut overlap[t as usize];
            if !all && *o as usize == thr {
                let s = slot[t as usize] as usize;
                let lastt = *active.last().unwrap();
                active[s] = lastt;
                slot[lastt as usize] = s as u32;
                active.pop();
                slot[t as usize] = u32::MAX;
            }
            *o -= 1;
        }
    }
    wcnt[u as usize] -= 1;
}

// ----------------------------------------------------------------- piece filter

/// Longest piece of the exact-piece filter.
const LMAX: usize = 3;
// the stream's passes probe bigrams, then trigrams
const _: () = assert!(LMAX == 3);
/// Corpus positions per block of the stream's passes.
const BLK: usize = 64;
/// How many positions ahead the stream prefetches the target states of the hits.
const SLA: usize = 4;
/// Most pieces beyond `D + 1` (the filter then asks for up to `RMAX` hits).
const RMAX: usize = 12;
/// Corpus tokens sampled to estimate piece frequencies.
const SAMPLE: usize = 1 << 20;

#[inline(always)]
fn fold(h: u64, x: u32) -> u64 {
    (h ^ x as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(23)
}

/// Hash of a piece of `len` tokens once its tokens are folded into `h`
/// (starting from 0); never 0 (0 marks an empty slot).
#[inline(always)]
fn finish(h: u64, len: usize) -> u64 {
    let h = h ^ (len as u64).wrapping_mul(0xA24B_AED4_963E_E407);
    let h = (h ^ (h >> 31)).wrapping_mul(0xD6E8_FEB8_6659_FD93);
    let h = h ^ (h >> 32);
    h | 1
}

fn piece_hash(p: &[u32]) -> u64 {
    finish(p.iter().fold(0, |h, &x| fold(h, x)), p.len())
}

/// Open-addressing hash table u64 -> u32 keeping a 32-bit fingerprint of each
/// key (slot = fingerprint + value, 8 bytes; huge pages). Two keys that share
/// the slot chain and the fingerprint alias: for the piece index that only adds
/// hits (candidates are verified exactly), for the frequency estimates it only
/// changes an estimate.
struct Table {
    slots: Vec<(u32, u32)>,
    mask: usize,
    len: usize,
}

impl Table {
    fn new(cap: usize) -> Table {
        let size = (cap * 2).next_power_of_two().max(16);
        Table { slots: crate::util::big_vec(size, (0u32, 0u32)), mask: size - 1, len: 0 }
    }
    #[inline(always)]
    fn fp(h: u64) -> u32 {
        (h >> 32) as u32 | 1
    }
    #[inline(always)]
    fn slot(&self, h: u64) -> usize {
        let f = Self::fp(h);
        let mut i = h as usize & self.mask;
        loop {
            let k = self.slots[i].0;
            if k == f || k == 0 {
                return i;
            }
            i = (i + 1) & self.mask;
        }
    }
    #[inline(always)]
    fn get(&self, h: u64) -> Option<u32> {
        let (k, v) = self.slots[self.slot(h)];
        (k == Self::fp(h)).then_some(v)
    }
    fn insert(&mut self, h: u64, v: u32) {
        let i = self.slot(h);
        if self.slots[i].0 == 0 {
            self.len += 1;
        }
        self.slots[i] = (Self::fp(h), v);
    }
    fn len(&self) -> usize {
        self.len
    }
}

/// P(X >= k) for X ~ Poisson(lambda).
fn poisson_tail(lambda: f64, k: usize) -> f64 {
    let mut term = (-lambda).exp();
    let mut below = 0.0;
    for j in 0..k {
        below += term;
        term *= lambda / (j + 1) as f64;
    }
    (1.0 - below).max(0.0)
}

/// The filter plan of one target: the number of hits `r` a window needs and
/// `D + r` disjoint pieces `(offset, length)`.
struct Plan {
    r: usize,
    pieces: Vec<(usize, usize)>,
}

/// Choose `D + r` disjoint pieces (1..=LMAX tokens) of `t` minimising the sum
/// of their estimated frequencies (DP over the target), and `r` in
/// `1..=min(RMAX, m - D)` minimising an estimated cost: hits per corpus
/// position plus the triggers they cause (Poisson estimate). Correctness does
/// not depend on the estimates.
fn plan(t: &[u32], d: usize, freq: &dyn Fn(&[u32]) -> f64, shift: usize) -> Plan {
    let m = t.len();
    let rmax = RMAX.min(m - d);
    let kmax = d + rmax;
    // f[l][i]: frequency of the piece t[i..i + l + 1]
    let f: Vec<Vec<f64>> = (1..=LMAX).map(|l| (0..m).map(|i| if i + l <= m { freq(&t[i..i + l]) } else { f64::INFINITY }).collect()).collect();
    let w = m + 1;
    let mut dp = vec![f64::INFINITY; (kmax + 1) * w];
    let mut choice = vec![0u8; (kmax + 1) * w];
    for i in 0..=m {
        dp[i] = 0.0;
    }
    // only the cells that dp[d + 1..=kmax][m] depend on: k pieces need at
    // least k tokens (cells with i < k stay infinite), and the d + 1 - k pieces
    // still to come need d + 1 - k more
    for k in 1..=kmax {
        for i in k..=m - (d + 1).saturating_sub(k) {
            let mut best = dp[k * w + i - 1];
            let mut ch = 0u8;
            for l in 1..=LMAX.min(i) {
                let v = dp[(k - 1) * w + i - l] + f[l - 1][i - l];
                if v < best {
                    best = v;
                    ch = l as u8;
                }
            }
            dp[k * w + i] = best;
            choice[k * w + i] = ch;
        }
    }
    let verify_cost = (2 * shift + 1 + m) as f64;
    let mut best_r = 1;
    let mut best_cost = f64::INFINITY;
    for r in 1..=rmax {
        let mass = dp[(d + r) * w + m];
        if !mass.is_finite() {
            break;
        }
        // real text clusters: count twice the independent expectation
        let cost = mass * (1.0 + verify_cost * poisson_tail(2.0 * m as f64 * mass, r - 1));
        if cost < best_cost {
            best_cost = cost;
            best_r = r;
        }
    }
    let mut pieces = Vec::with_capacity(d + best_r);
    let (mut k, mut i) = (d + best_r, m);
    while k > 0 {
        let l = choice[k * w + i] as usize;
        if l == 0 {
            i -= 1;
        } else {
            pieces.push((i - l, l));
            i -= l;
            k -= 1;
        }
    }
    pieces.reverse();
    Plan { r: best_r, pieces }
}

/// Scan `text` for windows within `max_distance` of each target (all targets
/// have the same length m). Returns, per target, the selected matches sorted by
/// position; the same result as [`scan_reference`] and [`crate::naive::scan`].
///
/// Exact-piece filter (pigeonhole): D edits (substitutions for Hamming) break
/// at most D of any `D + r` disjoint pieces of the target, so a window within
/// D contains at least `r` of them unedited, each inside the window and
/// shifted by at most `D / 2` from its offset in the target (0 for Hamming;
/// target and window have the same length, so insertions and deletions before
/// a piece balance those after it). Every occurrence of a piece (hit) gives the
/// range of window starts it can belong to; a target's hit whose `r - 1`
/// previous hits all lie at or after the start of that range makes the range a
/// candidate (the last of the `r` unedited pieces of a matching window always
/// does). Candidate ranges are merged per target; windows with bag overlap
/// `>= m - D` get a lower bound of both distances (bag, free-start and free-end
/// Myers scores over the range), and those with bound `<= D` go to a lazily
/// evaluated greedy selection ([`lazy_select`]) that computes exact Hamming /
/// Levenshtein distances only for the windows it reaches. Pieces (1-3 tokens)
/// and `r` are chosen per target from frequencies estimated on a sample of the
/// corpus, so the work per corpus token is the number of hits, not the number
/// of targets. With `D + 1 > m` no piece exists: falls back to the reference.
pub fn scan<T: Token>(text: &[T], seps: &[u64], targets: &[Vec<u32>], max_distance: usize, select: Select, threads: usize) -> Vec<Vec<Match>> {
    scan_with(text, seps, targets, max_distance, select, threads, Stream::Auto)
}

/// How [`scan_with`] walks the corpus; every choice gives the same result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    /// [`Stream::Blocks`] when the piece index and the target states exceed
    /// 4 MiB (measured crossover: ~3,000 targets of 100 tokens, D = 50), else
    /// [`Stream::OnePass`]
    Auto,
    /// one position at a time
    OnePass,
    /// blocks of positions in three passes that prefetch the index lookups
    Blocks,
}

/// [`scan`] with the corpus walk chosen by `stream`.
pub fn scan_with<T: Token>(text: &[T], seps: &[u64], targets: &[Vec<u32>], max_distance: usize, select: Select, threads: usize, stream: Stream) -> Vec<Vec<Match>> {
    let nt = targets.len();
    if nt == 0 {
        return Vec::new();
    }
    let m = targets[0].len();
    assert!(m > 0 && targets.iter().all(|t| t.len() == m));
    let d = max_distance;
    if d + 1 > m {
        return scan_reference(text, seps, targets, max_distance, select, threads);
    }
    let n = text.len();
    let t_start = std::time::Instant::now();
    let stats = std::env::var_os("MOSAIC_SA_SCAN_STATS").is_some();
    let shift = match select {
        Select::Levenshtein => d / 2,
        Select::Hamming => 0,
    };
    // local ids for the tokens that occur in some target
    let mut keys: Vec<u32> = targets.iter().flatten().copied().collect();
    keys.sort_unstable();
    keys.dedup();
    let nk = keys.len();
    let max_key = *keys.last().unwrap() as usize;
    let dense: Option<Vec<u32>> = (max_key < 1 << 24).then(|| {
        let mut v = vec![u32::MAX; max_key + 1];
        for (i, &k) in keys.iter().enumerate() {
            v[k as usize] = i as u32;
        }
        v
    });
    let local = |v: u32| -> u32 {
        match &dense {
            Some(dd) => dd.get(v as usize).copied().unwrap_or(u32::MAX),
            None => keys.binary_search(&v).map(|i| i as u32).unwrap_or(u32::MAX),
        }
    };
    let local_t = |t: T| -> u32 { if t.is_sep() { u32::MAX } else { local(t.to_u32()) } };

    // ---- frequencies of the target tokens and n-grams on a corpus sample
    let blocks: Vec<(usize, usize)> = if n <= SAMPLE {
        vec![(0, n)]
    } else {
        let nb = 16;
        (0..nb).map(|b| {
            let a = (n - SAMPLE / nb) / (nb - 1) * b;
            (a, a + SAMPLE / nb)
        }).collect()
    };
    let sample_len: usize = blocks.iter().map(|&(a, b)| b - a).sum::<usize>().max(1);
    let mut cnt1 = vec![0u32; nk];
    // n-gram counts when their table stays small (<= 8 M n-grams), else the
    // product of the unigram frequencies estimates a longer piece
    let count_grams = nt * m * (LMAX - 1) <= 1 << 23;
    let mut grams = Table::new(if count_grams { nt * m * (LMAX - 1) } else { 0 });
    let mut gram_cnt: Vec<u32> = Vec::new();
    for t in targets.iter().filter(|_| count_grams) {
        for l in 2..=LMAX {
            for i in 0..=m.saturating_sub(l) {
                if i + l <= m {
                    let h = piece_hash(&t[i..i + l]);
                    if grams.get(h).is_none() {
                        grams.insert(h, gram_cnt.len() as u32);
                        gram_cnt.push(0);
                    }
                }
            }
        }
    }
    for &(a, b) in &blocks {
        for c in a..b {
            let u = local_t(text[c]);
            if u == u32::MAX {
                continue;
            }
            cnt1[u as usize] += 1;
            if !count_grams {
                continue;
            }
            let mut h = fold(0, text[c].to_u32());
            for l in 2..=LMAX.min(b - c) {
                if text[c + l - 1].is_sep() {
                    break;
                }
                h = fold(h, text[c + l - 1].to_u32());
                if let Some(g) = grams.get(finish(h, l)) {
                    gram_cnt[g as usize] += 1;
                }
            }
        }
    }
    let sl = sample_len as f64;
    let freq = |p: &[u32]| -> f64 {
        if p.len() == 1 || !count_grams {
            return p.iter().map(|&x| (cnt1[local(x) as usize] as f64 + 0.5) / sl).product();
        }
        let c = grams.get(piece_hash(p)).map(|g| gram_cnt[g as usize]).unwrap_or(0);
        (c as f64 + 0.5) / sl
    };
    let t_plan = std::time::Instant::now();
    let plans: Vec<Plan> = crate::util::parallel_map(threads, nt, |i| plan(&targets[i], d, &freq, shift));
    if std::env::var_os("MOSAIC_SA_SCAN_STATS").is_some() {
        let mass: f64 = plans.iter().enumerate().map(|(ti, p)| p.pieces.iter().map(|&(o, l)| freq(&targets[ti][o..o + l])).sum::<f64>()).sum();
        let mut rh = vec![0usize; RMAX + 1];
        for p in &plans {
            rh[p.r] += 1;
        }
        crate::util::progress(format!("scan plans: {:.2}s; expected hits per corpus token {:.1}; targets by r: {:?}", t_plan.elapsed().as_secs_f64(), mass, rh));
    }
    drop(grams);
    drop(gram_cnt);

    // ---- piece index: unigrams by local id, longer pieces by hash; entries (target, offset)
    let mut uni: Vec<(u32, u32, u32)> = Vec::new(); // (local id, target, offset)
    let mut multi: Vec<(u64, u32, u32, u8)> = Vec::new(); // (hash, target, offset, length)
    for (ti, p) in plans.iter().enumerate() {
        for &(off, l) in &p.pieces {
            let piece = &targets[ti][off..off + l];
            if l == 1 {
                uni.push((local(piece[0]), ti as u32, off as u32));
            } else {
                multi.push((piece_hash(piece), ti as u32, off as u32, l as u8));
            }
        }
    }
    uni.sort_unstable();
    multi.sort_unstable();
    let mut uni_start = vec![0u32; nk + 1];
    for &(u, _, _) in &uni {
        uni_start[u as usize + 1] += 1;
    }
    for i in 1..=nk {
        uni_start[i] += uni_start[i - 1];
    }
    let uni_e: Vec<(u32, u32)> = uni.iter().map(|&(_, t, o)| (t, o)).collect();
    // longer pieces by hash; the table also holds every proper prefix (>= 2
    // tokens) of a longer piece, flagged, so a corpus position probes length
    // l + 1 only when its l-token prefix extends to some piece
    let mut first = vec![false; nk]; // some piece of >= 2 tokens starts with this token
    let mut mtab = Table::new(multi.len() + multi.iter().filter(|e| e.3 > 2).count() * (LMAX - 2));
    // the entries of each key in one run of `mlist`, behind a header (count, 0):
    // the table value points at the header, so a hit list costs one cache miss
    let mut mlist: Vec<(u32, u32)> = Vec::with_capacity(multi.len() * 2);
    let mut n_multi_keys = 0usize;
    let mut head = 0usize;
    for (i, &(h, t, o, l)) in multi.iter().enumerate() {
        if i == 0 || multi[i - 1].0 != h {
            let old = mtab.get(h).unwrap_or(0);
            head = mlist.len();
            assert!(head < PIECE as usize, "scan: too many pieces for the piece index");
            mtab.insert(h, (old & EXT) | PIECE | head as u32);
            mlist.push((0, 0));
            n_multi_keys += 1;
        }
        mlist[head].0 += 1;
        mlist.push((t, o));
        let tg = &targets[t as usize][o as usize..o as usize + l as usize];
        first[local(tg[0]) as usize] = true;
        for pl in 2..l as usize {
            let ph = piece_hash(&tg[..pl]);
            let old = mtab.get(ph).unwrap_or(0);
            mtab.insert(ph, old | EXT);
        }
    }
    drop(multi);
    // a bit per hash bucket in front of the table (fits in L2): most corpus
    // n-grams are no piece and no prefix, and skip the table's cache miss
    let nbits = (mtab.len() * 8).next_power_of_two().clamp(1 << 12, 1 << 24);
    let mut bloom = vec![0u64; nbits / 64];
    let bmask = nbits - 1;
    for &(f, _) in &mtab.slots {
        if f != 0 {
            // a key's home slot is lost after probing: the filter hashes its fingerprint
            let b = bloom_bit(f) & bmask;
            bloom[b >> 6] |= 1 << (b & 63);
        }
    }
    drop(uni);
    let in_bloom = |hh: u64| {
        let b = bloom_bit(Table::fp(hh)) & bmask;
        bloom[b >> 6] & (1 << (b & 63)) != 0
    };
    // bag of each target (local id, multiplicity)
    let bags: Vec<Vec<(u32, u32)>> = targets
        .iter()
        .map(|t| {
            let mut ids: Vec<u32> = t.iter().map(|&x| local(x)).collect();
            ids.sort_unstable();
            let mut v: Vec<(u32, u32)> = Vec::new();
            for id in ids {
                match v.last_mut() {
                    Some((k, c)) if *k == id => *c += 1,
                    _ => v.push((id, 1)),
                }
            }
            v
        })
        .collect();
    let patterns: Vec<Pattern> = targets.iter().map(|t| Pattern::new(t)).collect();
    // reversed targets (same keys): free-end scores, read backwards
    let patterns_rev: Vec<Pattern> = targets.iter().map(|t| Pattern::new(&t.iter().rev().copied().collect::<Vec<u32>>())).collect();
    let pattern_keys: Vec<Vec<u32>> = patterns.iter().map(|p| p.keys().iter().map(|&k| local(k)).collect()).collect();
    let thr = (m - d) as u32;
    let init: Vec<TState> = plans.iter().map(|p| TState { r: p.r as u32, head: 0, ring: [0; RMAX - 1] }).collect();
    drop(plans);

    let index_bytes = (mtab.slots.len() + uni_e.len() + mlist.len()) * 8 + nt * std::mem::size_of::<TState>();
    let blocks = match stream {
        Stream::Auto => index_bytes > 4 << 20,
        Stream::OnePass => false,
        Stream::Blocks => true,
    };
    let results: Mutex<Vec<Vec<(u64, u32)>>> = Mutex::new(vec![Vec::new(); nt]);
    let nwin = n.saturating_sub(m - 1);
    // chunk positions are kept relative to the chunk start in u32
    let parts = chunks(nwin, (threads.max(1) * 8).max(nwin >> 31));
    if stats {
        crate::util::progress(format!(
            "scan: setup {:.2}s; pieces: {} unigram entries, {} longer entries under {} keys (table {} KiB, filter {} KiB; index + states {} KiB: {})",
            t_start.elapsed().as_secs_f64(),
            uni_e.len(),
            mlist.len() - n_multi_keys,
            n_multi_keys,
            mtab.slots.len() * 8 >> 10,
            nbits >> 13,
            index_bytes >> 10,
            if blocks { "blocks" } else { "one pass" }
        ));
    }
    run_workers(threads, parts.len(), |take| {
        let mut local_res: Vec<Vec<(u64, u32)>> = vec![Vec::new(); nt];
        let mut state = init.clone();
        let mut cands: Vec<(u32, u32, u32)> = Vec::new(); // (target, lo - ws, hi - ws)
        let mut need = vec![0u32; nk];
        let mut slot_of = vec![u32::MAX; nk];
        let (mut ikeys, mut lb_end, mut lb_start): (Vec<u32>, Vec<u32>, Vec<u32>) = (Vec::new(), Vec::new(), Vec::new());
        let mut wc = vec![0u32; nk];
        let mut st = [0u64; 5];
        let (mut bu, mut bh2, mut bv2, mut bh3) = ([0u32; BLK], [0u64; BLK], [0u32; BLK], [0u64; BLK]);
        let mut tstream = 0f64;
        let mut tsort = 0f64;
        let tall = std::time::Instant::now();
        while let Some(ci) = take() {
            let (ws, we) = parts[ci];
            if ws >= we {
                continue;
            }
            let t0 = std::time::Instant::now();
            state.copy_from_slice(&init);
            cands.clear();
            // windows start in [ws, we); their pieces lie in [ws, end)
            let end = (we + m - 1).min(n);
            let mut c = ws;
            while c < end {
                if text[c].is_sep() {
                    c += 1;
                    continue;
                }
                let k = seps.partition_point(|&x| (x as usize) <= c);
                let ds = if k == 0 { 0 } else { seps[k - 1] as usize + 1 };
                let de = if k < seps.len() { seps[k] as usize } else { n };
                let stop = de.min(end);
                if de - ds < m {
                    c = stop;
                    continue;
                }
                // window starts p (relative to ws): plo <= p <= phi
                let plo = (ds.max(ws) - ws) as i64;
                let phi = ((de - m).min(we - 1) - ws) as i64;
                // a hit of a piece of length l at offset off of target t at c
                macro_rules! hit {
                    ($t:expr, $off:expr, $l:expr, $cr:expr) => {{
                        let cr = $cr as i64;
                        let base = cr - $off as i64;
                        let lo = (base - shift as i64).max(cr + $l as i64 - m as i64).max(plo);
                        let hi = (base + shift as i64).min(cr).min(phi);
                        if lo <= hi {
                            st[0] += 1;
                            let s = &mut state[$t as usize];
                            let trig = if s.r == 1 {
                                true
                            } else {
                                let h = s.head as usize;
                                let prev = s.ring[h];
                                s.ring[h] = cr as u32 + 1;
                                s.head = if s.head + 2 == s.r { 0 } else { s.head + 1 };
                                prev as i64 > lo
                            };
                            if trig {
                                st[1] += 1;
                                cands.push(($t, lo as u32, hi as u32));
                            }
                        }
                    }};
                }
                // blocks of positions in three passes, so that the cache misses of
                // a block overlap: (1) local ids, bigram hashes that pass the
                // filter, prefetch of their table slots and of the unigram lists;
                // (2) bigram probes, prefetch of their hit lists and of the trigram
                // slots; (3) the hits, in position order (as one pass would).
                if !blocks {
                    // one pass (small index: its lookups hit the cache anyway)
                    while c < stop {
                        let u = local_t(text[c]);
                        if u != u32::MAX {
                            let u = u as usize;
                            let cr = c - ws;
                            for &(t, off) in &uni_e[uni_start[u] as usize..uni_start[u + 1] as usize] {
                                hit!(t, off, 1, cr);
                            }
                            if first[u] {
                                let mut h = fold(0, text[c].to_u32());
                                for l in 2..=LMAX.min(stop - c) {
                                    h = fold(h, text[c + l - 1].to_u32());
                                    let hh = finish(h, l);
                                    if !in_bloom(hh) {
                                        break;
                                    }
                                    let Some(v) = mtab.get(hh) else { break };
                                    if v & PIECE != 0 {
                                        let g = (v & !(PIECE | EXT)) as usize;
                                        for &(t, off) in &mlist[g + 1..g + 1 + mlist[g].0 as usize] {
                                            hit!(t, off, l, cr);
                                        }
                                    }
                                    if v & EXT == 0 {
                                        break;
                                    }
                                }
                            }
                        }
                        c += 1;
                    }
                }
                while c < stop {
                    let bend = (c + BLK).min(stop);
                    let nb = bend - c;
                    for j in 0..nb {
                        let i = c + j;
                        let u = local_t(text[i]);
                        bu[j] = u;
                        bh2[j] = 0;
                        if u != u32::MAX {
                            prefetch(uni_e.as_ptr().wrapping_add(uni_start[u as usize] as usize));
                            if first[u as usize] && i + 2 <= stop {
                                let hh = finish(fold(fold(0, text[i].to_u32()), text[i + 1].to_u32()), 2);
                                if in_bloom(hh) {
                                    prefetch(mtab.slots.as_ptr().wrapping_add(hh as usize & mtab.mask));
                                    bh2[j] = hh;
                                }
                            }
                        }
                    }
                    for j in 0..nb {
                        bv2[j] = 0;
                        bh3[j] = 0;
                        if bh2[j] == 0 {
                            continue;
                        }
                        let Some(v) = mtab.get(bh2[j]) else { continue };
                        bv2[j] = v;
                        if v & PIECE != 0 {
                            prefetch(mlist.as_ptr().wrapping_add((v & !(PIECE | EXT)) as usize));
                        }
                        let i = c + j;
                        if v & EXT != 0 && i + 3 <= stop {
                            let hh = finish(fold(fold(fold(0, text[i].to_u32()), text[i + 1].to_u32()), text[i + 2].to_u32()), 3);
                            if in_bloom(hh) {
                                prefetch(mtab.slots.as_ptr().wrapping_add(hh as usize & mtab.mask));
                                bh3[j] = hh;
                            }
                        }
                    }
                    for j in 0..nb {
                        // the target states of the hits SLA positions ahead
                        if j + SLA < nb {
                            let u = bu[j + SLA];
                            if u != u32::MAX {
                                for &(t, _) in &uni_e[uni_start[u as usize] as usize..uni_start[u as usize + 1] as usize] {
                                    prefetch(state.as_ptr().wrapping_add(t as usize));
                                }
                                let v = bv2[j + SLA];
                                if v & PIECE != 0 {
                                    let g = (v & !(PIECE | EXT)) as usize;
                                    for &(t, _) in &mlist[g + 1..g + 1 + mlist[g].0 as usize] {
                                        prefetch(state.as_ptr().wrapping_add(t as usize));
                                    }
                                }
                            }
                        }
                        let u = bu[j];
                        if u == u32::MAX {
                            continue;
                        }
                        let u = u as usize;
                        let cr = c + j - ws;
                        for &(t, off) in &uni_e[uni_start[u] as usize..uni_start[u + 1] as usize] {
                            hit!(t, off, 1, cr);
                        }
                        let v = bv2[j];
                        if v & PIECE != 0 {
                            let g = (v & !(PIECE | EXT)) as usize;
                            for &(t, off) in &mlist[g + 1..g + 1 + mlist[g].0 as usize] {
                                hit!(t, off, 2, cr);
                            }
                        }
                        if bh3[j] != 0 {
                            if let Some(v) = mtab.get(bh3[j]) {
                                if v & PIECE != 0 {
                                    let g = (v & !(PIECE | EXT)) as usize;
                                    for &(t, off) in &mlist[g + 1..g + 1 + mlist[g].0 as usize] {
                                        hit!(t, off, 3, cr);
                                    }
                                }
                            }
                        }
                    }
                    c = bend;
                }
            }
            tstream += t0.elapsed().as_secs_f64();
            let t1 = std::time::Instant::now();
            // ---- verify the candidate ranges, per target
            cands.sort_unstable();
            tsort += t1.elapsed().as_secs_f64();
            let mut i = 0;
            while i < cands.len() {
                let t = cands[i].0 as usize;
                let mut j = i;
                while j < cands.len() && cands[j].0 as usize == t {
                    j += 1;
                }
                for &(u, cnt) in &bags[t] {
                    need[u as usize] = cnt;
                }
                for (k, &u) in pattern_keys[t].iter().enumerate() {
                    slot_of[u as usize] = k as u32;
                }
                // the sliding bag: `cur` is the window start it holds (None: empty)
                let mut cur: Option<usize> = None;
                let mut overlap = 0u32;
                macro_rules! add {
                    ($x:expr) => {{
                        let u = local_t($x);
                        if u != u32::MAX {
                            let w = &mut wc[u as usize];
                            *w += 1;
                            if *w <= need[u as usize] {
                                overlap += 1;
                            }
                        }
                    }};
                }
                macro_rules! sub {
                    ($x:expr) => {{
                        let u = local_t($x);
                        if u != u32::MAX {
                            let w = &mut wc[u as usize];
                            if *w <= need[u as usize] {
                                overlap -= 1;
                            }
                            *w -= 1;
                        }
                    }};
                }
                let mut k = i;
                while k < j {
                    let a = ws + cands[k].1 as usize;
                    let mut b = ws + cands[k].2 as usize;
                    k += 1;
                    while k < j && ws + cands[k].1 as usize <= b + 1 {
                        b = b.max(ws + cands[k].2 as usize);
                        k += 1;
                    }
                    // bring the bag to window a: slide from cur when close (same
                    // document: windows of candidate ranges in different
                    // documents are more than m apart), else rebuild
                    match cur {
                        Some(q) if a <= q + m => {
                            for p in q + 1..=a {
                                sub!(text[p - 1]);
                                add!(text[p + m - 1]);
                            }
                        }
                        _ => {
                            if let Some(q) = cur {
                                for &x in &text[q..q + m] {
                                    sub!(x);
                                }
                            }
                            for &x in &text[a..a + m] {
                                add!(x);
                            }
                        }
                    }
                    // free-start / free-end scores over text[a..b + m), once per
                    // range that has a window passing the bag (None: m > 128)
                    let mut range_lb: Option<bool> = None;
                    for p in a..=b {
                        if p > a {
                            sub!(text[p - 1]);
                            add!(text[p + m - 1]);
                        }
                        st[2] += 1;
                        if overlap < thr {
                            continue;
                        }
                        st[3] += 1;
                        // lower bounds of both distances: m - overlap (<= Hamming,
                        // Levenshtein); the best alignment of the target ending where
                        // the window ends (starting anywhere in the range), and the best
                        // one starting where the window starts
                        let mut lb = m as u32 - overlap;
                        let have = *range_lb.get_or_insert_with(|| {
                            let len = b + m - a;
                            ikeys.clear();
                            ikeys.extend(text[a..b + m].iter().map(|&x| {
                                let u = local_t(x);
                                if u == u32::MAX {
                                    u32::MAX
                                } else {
                                    slot_of[u as usize]
                                }
                            }));
                            let key = |k: u32| (k != u32::MAX).then_some(k as usize);
                            patterns[t].semiglobal_scores(len, |i| key(ikeys[i]), &mut lb_end)
                                && patterns_rev[t].semiglobal_scores(len, |i| key(ikeys[len - 1 - i]), &mut lb_start)
                        });
                        if have {
                            // lb_end[j]: target vs text[s..a + j]; lb_start[j]: text[b + m - j..e]
                            lb = lb.max(lb_end[p + m - a]).max(lb_start[b + m - p]);
                        }
                        if lb as usize > d {
                            st[4] += 1;
                            continue;
                        }
                        // a window for the selection with its lower bound; the exact
                        // distances are computed there, only for the windows it reaches
                        local_res[t].push((p as u64, lb));
                    }
                    cur = Some(b);
                }
                if let Some(q) = cur {
                    for &x in &text[q..q + m] {
                        sub!(x);
                    }
                }
                debug_assert_eq!(overlap, 0);
                for &(u, _) in &bags[t] {
                    need[u as usize] = 0;
                }
                for &u in &pattern_keys[t] {
                    slot_of[u as usize] = u32::MAX;
                }
                i = j;
            }
        }
        if stats {
            crate::util::progress(format!("scan worker: stream {tstream:.2}s (+ verify {:.2}s); sort {tsort:.2}s; hits {} triggers {} windows checked {} bag-passed {} (ruled out by the alignment bounds {})", tall.elapsed().as_secs_f64() - tstream - tsort, st[0], st[1], st[2], st[3], st[4]));
        }
        let mut r = results.lock().unwrap();
        for (t, v) in local_res.into_iter().enumerate() {
            r[t].extend(v);
        }
    });
    if stats {
        crate::util::progress(format!("scan: workers done at {:.2}s", t_start.elapsed().as_secs_f64()));
    }
    let tg = std::time::Instant::now();
    let mut out: Vec<Vec<Match>> = vec![Vec::new(); nt];
    let op = crate::util::SyncPtr(out.as_mut_ptr());
    let exact = std::sync::atomic::AtomicU64::new(0);
    run_workers(threads, nt, |take| {
        let mut slot_of = vec![u32::MAX; nk];
        let mut wk = vec![u32::MAX; m];
        let mut computed = 0u64;
        while let Some(t) = take() {
            for (k, &u) in pattern_keys[t].iter().enumerate() {
                slot_of[u as usize] = k as u32;
            }
            let pat = &patterns[t];
            let mut dist = |p: usize| {
                computed += 1;
                for (i, &x) in text[p..p + m].iter().enumerate() {
                    let u = local_t(x);
                    wk[i] = if u == u32::MAX { u32::MAX } else { slot_of[u as usize] };
                }
                let h = pat.tokens.iter().zip(&text[p..p + m]).filter(|(x, y)| **x != y.to_u32()).count() as u32;
                let l = pat.levenshtein_by(m, |i| (wk[i] != u32::MAX).then_some(wk[i] as usize));
                (h, l)
            };
            let cands = std::mem::take(&mut results.lock().unwrap()[t]);
            let sel = lazy_select(cands, m, d, select, &mut dist, |p| doc_of(seps, p));
            // SAFETY: each target index is taken by one worker
            unsafe { op.put(t, sel) };
            for &u in &pattern_keys[t] {
                slot_of[u as usize] = u32::MAX;
            }
        }
        exact.fetch_add(computed, std::sync::atomic::Ordering::Relaxed);
    });
    if stats {
        crate::util::progress(format!("scan: selection {:.2}s, exact distances of {} windows", tg.elapsed().as_secs_f64(), exact.into_inner()));
    }
    out
}

#[inline(always)]
fn bloom_bit(f: u32) -> usize {
    (f.wrapping_mul(0x9E37_79B1) >> 7) as usize
}

/// Table value flags of the piece index.
const PIECE: u32 = 1 << 30;
const EXT: u32 = 1 << 31;

/// Per-target state of the stream: `r` and the ring of the `r - 1` previous
/// hits (positions relative to the chunk start, + 1; 0 = none). One cache line.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct TState {
    r: u32,
    head: u32,
    ring: [u32; RMAX - 1],
}

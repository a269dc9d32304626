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

use crate::util::{chunks, doc_of, run_workers};
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
        Pattern { tokens: tokens.to_vec(), keys, masks, words }
    }

    #[inline]
    fn eq(&self, c: u32) -> Option<&[u64]> {
        self.keys.binary_search(&c).ok().map(|k| &self.masks[k * self.words..(k + 1) * self.words])
    }

    /// Levenshtein distance between the pattern and `text` (global alignment),
    /// Myers' bit-vector algorithm in Hyyrö's block formulation.
    pub fn levenshtein(&self, text: &[u32]) -> u32 {
        let m = self.tokens.len();
        if m == 0 {
            return text.len() as u32;
        }
        let w = self.words;
        let mut pv = vec![!0u64; w];
        let mut mv = vec![0u64; w];
        let last_bit = (m - 1) % 64;
        let mut score = m as i64;
        let zeros = vec![0u64; w];
        for &c in text {
            let eqs = self.eq(c).unwrap_or(&zeros);
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

// ----------------------------------------------------------------- scan

/// Scan `text` for windows within `max_distance` of each target (all targets
/// have the same length m). Returns, per target, the selected matches sorted by
/// position.
pub fn scan<T: Token>(text: &[T], seps: &[u64], targets: &[Vec<u32>], max_distance: usize, select: Select, threads: usize) -> Vec<Vec<Match>> {
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

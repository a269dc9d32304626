//! Naive reference implementations (quadratic or worse), used by the tests.

use crate::scan::{greedy_select, hamming, levenshtein_dp, Match, Select};
use crate::selfsim::Clusters;
use crate::util::doc_of;
use crate::Token;
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// The symbol at position p: tokens (0, value), separators and the text end (1, position).
#[inline]
fn sym<T: Token>(t: &[T], p: usize) -> (u8, u64) {
    if p >= t.len() || t[p].is_sep() {
        (1, p as u64)
    } else {
        (0, t[p].to_u32() as u64)
    }
}

/// Compare two suffixes in the crate's suffix order.
pub fn cmp_suffixes<T: Token>(t: &[T], a: usize, b: usize) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let mut d = 0;
    loop {
        let (x, y) = (sym(t, a + d), sym(t, b + d));
        if x != y {
            return x.cmp(&y);
        }
        d += 1;
    }
}

pub fn suffix_array<T: Token>(t: &[T]) -> Vec<u64> {
    let mut v: Vec<usize> = (0..t.len()).collect();
    v.sort_by(|&a, &b| cmp_suffixes(t, a, b));
    v.into_iter().map(|x| x as u64).collect()
}

/// The `length`-grams without separators, grouped: gram -> positions ascending.
fn grams<T: Token>(t: &[T], length: usize) -> BTreeMap<Vec<u32>, Vec<u64>> {
    let mut m: BTreeMap<Vec<u32>, Vec<u64>> = BTreeMap::new();
    if length == 0 || length > t.len() {
        return m;
    }
    for p in 0..=t.len() - length {
        let w = &t[p..p + length];
        if w.iter().any(|x| x.is_sep()) {
            continue;
        }
        m.entry(w.iter().map(|x| x.to_u32()).collect()).or_default().push(p as u64);
    }
    m
}

pub fn self_similar<T: Token>(t: &[T], length: usize, with_positions: bool) -> Clusters {
    let mut cl: Vec<Vec<u64>> = grams(t, length).into_values().filter(|v| v.len() >= 2).collect();
    cl.sort_by_key(|v| v[0]);
    Clusters {
        first: cl.iter().map(|v| v[0]).collect(),
        count: cl.iter().map(|v| v.len() as u64).collect(),
        positions: if with_positions { Some(cl.concat()) } else { None },
    }
}

pub fn count<T: Token>(t: &[T], q: &[u32]) -> Vec<u64> {
    if q.is_empty() || q.len() > t.len() {
        return Vec::new();
    }
    (0..=t.len() - q.len())
        .filter(|&p| t[p..p + q.len()].iter().zip(q).all(|(a, b)| !a.is_sep() && a.to_u32() == *b))
        .map(|p| p as u64)
        .collect()
}

pub fn collect<T: Token>(t: &[T], length: usize, keep_first: bool) -> Vec<(u64, u64)> {
    let mut covered = vec![false; t.len()];
    for v in grams(t, length).into_values().filter(|v| v.len() >= 2) {
        for (i, &p) in v.iter().enumerate() {
            if keep_first && i == 0 {
                continue;
            }
            for c in covered.iter_mut().skip(p as usize).take(length) {
                *c = true;
            }
        }
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < t.len() {
        if covered[i] {
            let s = i;
            while i < t.len() && covered[i] {
                i += 1;
            }
            out.push((s as u64, i as u64));
        } else {
            i += 1;
        }
    }
    out
}

/// Verify every separator-free window against every target (no filter).
pub fn scan<T: Token>(t: &[T], seps: &[u64], targets: &[Vec<u32>], max_distance: usize, select: Select) -> Vec<Vec<Match>> {
    let m = targets.first().map(|x| x.len()).unwrap_or(0);
    let mut out = Vec::new();
    for tg in targets {
        let mut cands = Vec::new();
        if m <= t.len() {
            for p in 0..=t.len() - m {
                let w = &t[p..p + m];
                if w.iter().any(|x| x.is_sep()) {
                    continue;
                }
                let w: Vec<u32> = w.iter().map(|x| x.to_u32()).collect();
                let h = hamming(tg, &w);
                let l = levenshtein_dp(tg, &w);
                let d = if select == Select::Levenshtein { l } else { h };
                if d as usize <= max_distance {
                    cands.push(Match { pos: p as u64, doc: doc_of(seps, p as u64), hamming: h, levenshtein: l });
                }
            }
        }
        out.push(greedy_select(cands, m, select));
    }
    out
}

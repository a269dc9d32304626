//! The exact-piece scan against two oracles: the previous scan
//! (`scan_reference`, bag-overlap filter) and the brute force
//! (`naive::scan`: every window, DP Hamming and Levenshtein, O(n m^2) per target),
//! on random, repetitive and planted inputs, several thread counts.
mod common;
use common::*;
use mosaic_sa_core::scan::{scan, scan_reference, scan_with, Match, Select, Stream};
use mosaic_sa_core::{naive, util, Token};

/// Skewed tokens (a few very common ones, like real text) in documents of
/// random length, each preceded by a separator.
fn skewed_text(rng: &mut Rng, n: usize, vocab: u64, min_doc: usize, max_doc: usize) -> Vec<u32> {
    let mut v = Vec::with_capacity(n);
    while v.len() < n {
        v.push(u32::SEP);
        let len = min_doc + rng.below((max_doc - min_doc + 1) as u64) as usize;
        for _ in 0..len {
            // ~ 1 / (rank + 1): min of two uniforms, squared
            let a = rng.below(vocab);
            let b = rng.below(vocab);
            v.push((a.min(b) * a.min(b) / vocab) as u32);
        }
    }
    v.truncate(n);
    v
}

/// `e` edits of a copy of `t`, each with a fresh token (never in a target), mixing
/// substitutions, insertions and deletions unless `subs_only`; the copy keeps length m
/// (trimmed or padded from `tail`).
fn edited(rng: &mut Rng, t: &[u32], e: usize, subs_only: bool, fresh: &mut u32, tail: &[u32]) -> Vec<u32> {
    let mut c = t.to_vec();
    let mut pos: Vec<usize> = (0..t.len()).collect();
    // distinct positions for substitutions so that their number is exact
    for i in (1..pos.len()).rev() {
        pos.swap(i, rng.below(i as u64 + 1) as usize);
    }
    for &p in pos.iter().take(e) {
        *fresh += 1;
        match if subs_only { 0 } else { rng.below(3) } {
            0 => {
                let q = p.min(c.len() - 1);
                c[q] = *fresh;
            }
            1 => c.insert(p.min(c.len()), *fresh),
            _ => {
                c.remove(p.min(c.len() - 1));
            }
        }
    }
    let m = t.len();
    c.extend_from_slice(tail);
    c.truncate(m);
    while c.len() < m {
        *fresh += 1;
        c.push(*fresh);
    }
    c
}

fn check(what: &str, text: &[u32], targets: &[Vec<u32>], d: usize, select: Select) -> Vec<Vec<Match>> {
    let seps = seps_of(text);
    let want = naive::scan(text, &seps, targets, d, select);
    let r = scan_reference(text, &seps, targets, d, select, 2);
    assert_eq!(r, want, "{what}: reference != brute force (d={d} {select:?})");
    for threads in [1usize, 2, 3, 7] {
        let got = scan(text, &seps, targets, d, select, threads);
        assert_eq!(got, want, "{what}: scan != brute force (d={d} {select:?} threads={threads})");
    }
    // both corpus walks give the same (Auto picks one pass for these small indexes)
    for stream in [Stream::OnePass, Stream::Blocks] {
        assert_eq!(scan_with(text, &seps, targets, d, select, 2, stream), want, "{what}: {stream:?} scan != brute force (d={d} {select:?})");
    }
    // the u16 path gives the same
    if targets.iter().flatten().all(|&x| x < 0xFFFF) && text.iter().all(|&x| x == u32::SEP || x < 0xFFFF) {
        let t16: Vec<u16> = text.iter().map(|&x| if x == u32::SEP { u16::SEP } else { x as u16 }).collect();
        assert_eq!(scan(&t16, &seps, targets, d, select, 2), want, "{what}: u16 scan");
    }
    want
}

#[test]
fn scan_random_skewed_vs_oracles() {
    util::set_quiet(true);
    let mut rng = Rng::new(21);
    for round in 0..6 {
        for &m in &[8usize, 100] {
            let n = if m == 8 { 4000 } else { 2500 };
            let vocab = [4u64, 30, 300][round % 3];
            let text = skewed_text(&mut rng, n, vocab, 1, if m == 8 { 60 } else { 400 });
            // targets: windows of the text (so there are matches) and random ones
            let mut targets = Vec::new();
            while targets.len() < 4 {
                let p = rng.below((n - m) as u64) as usize;
                if text[p..p + m].iter().all(|&x| x != u32::SEP) {
                    targets.push(text[p..p + m].to_vec());
                }
            }
            targets.push((0..m).map(|_| rng.below(vocab) as u32).collect());
            for &d in &[0usize, 1, 10, 50] {
                if d >= m && m == 100 {
                    continue;
                }
                for select in [Select::Levenshtein, Select::Hamming] {
                    check(&format!("skewed round {round} m {m} vocab {vocab}"), &text, &targets, d, select);
                }
            }
        }
    }
}

#[test]
fn scan_repetitive_vs_oracles() {
    util::set_quiet(true);
    let mut rng = Rng::new(22);
    // one token everywhere; a short period; a document repeated
    let mut inputs: Vec<(String, Vec<u32>)> = vec![];
    let mut one = vec![u32::SEP];
    one.extend(std::iter::repeat_n(3u32, 1500));
    one.push(u32::SEP);
    one.extend(std::iter::repeat_n(3u32, 99));
    inputs.push(("one token".into(), one));
    let mut per = vec![u32::SEP];
    per.extend((0..2000).map(|i| [1u32, 2, 3, 1, 2][i % 5]));
    inputs.push(("period 5".into(), per));
    let doc: Vec<u32> = (0..130).map(|_| rng.below(20) as u32).collect();
    inputs.push(("doc x12".into(), repeated_doc::<u32>(&doc, 12)));
    for (what, text) in &inputs {
        let mut targets: Vec<Vec<u32>> = vec![text[1..101].to_vec(), vec![3u32; 100], (0..100).map(|i| [1u32, 2, 3, 1, 2][(i + 2) % 5]).collect()];
        let mut fresh = 1000;
        targets.push(edited(&mut rng, &text[5..105], 20, false, &mut fresh, &text[105..140]));
        for &d in &[0usize, 1, 10, 50] {
            for select in [Select::Levenshtein, Select::Hamming] {
                check(what, text, &targets, d, select);
            }
        }
        let t8: Vec<Vec<u32>> = targets.iter().map(|t| t[..8].to_vec()).collect();
        for &d in &[0usize, 1, 7] {
            check(&format!("{what} m=8"), text, &t8, d, Select::Levenshtein);
        }
    }
}

/// Copies of the targets with exactly D and D + 1 fresh edits, at document
/// starts and ends, and at many offsets (so that some straddle the chunk
/// boundaries of every thread count), in skewed background text.
#[test]
fn scan_planted_vs_oracles() {
    util::set_quiet(true);
    let mut rng = Rng::new(23);
    for &m in &[8usize, 100] {
        for &d in &[0usize, 1, 10, 50] {
            if d >= m {
                continue;
            }
            let bg = skewed_text(&mut rng, 30_000, 200, 5, 300);
            let targets: Vec<Vec<u32>> = (0..3)
                .map(|_| {
                    let p = 1 + rng.below(20_000) as usize;
                    let w: Vec<u32> = bg[p..p + m].iter().map(|&x| if x == u32::SEP { 7 } else { x }).collect();
                    w
                })
                .collect();
            let mut fresh = 100_000u32;
            let mut text: Vec<u32> = Vec::new();
            let mut planted: Vec<(usize, usize, usize, bool)> = Vec::new(); // (target, start, edits, subs only)
            let mut bgpos = 0;
            for rep in 0..12 {
                for (ti, tg) in targets.iter().enumerate() {
                    for &e in &[d, d + 1, d / 2] {
                        let subs_only = rep % 2 == 0;
                        let tail: Vec<u32> = bg[bgpos..bgpos + 60].iter().map(|&x| if x == u32::SEP { 9 } else { x }).collect();
                        let copy = edited(&mut rng, tg, e.min(m), subs_only, &mut fresh, &tail);
                        // document layout: copy at the start, at the end, or inside
                        let before = match rep % 3 {
                            0 => 0,
                            _ => rng.below(150) as usize,
                        };
                        let after = match rep % 3 {
                            1 => 0,
                            _ => rng.below(150) as usize,
                        };
                        text.push(u32::SEP);
                        text.extend(bg[bgpos..bgpos + before].iter().map(|&x| if x == u32::SEP { 11 } else { x }));
                        planted.push((ti, text.len(), e, subs_only));
                        text.extend(copy);
                        text.extend(bg[bgpos + before..bgpos + before + after].iter().map(|&x| if x == u32::SEP { 11 } else { x }));
                        bgpos += 200;
                    }
                }
            }
            for select in [Select::Levenshtein, Select::Hamming] {
                let got = check(&format!("planted m {m}"), &text, &targets, d, select);
                // copies with exactly d substitutions (fresh tokens: Hamming = d) are found
                for &(ti, start, e, subs_only) in &planted {
                    if subs_only && e <= d && select == Select::Hamming {
                        assert!(
                            got[ti].iter().any(|mm| (mm.pos as i64 - start as i64).unsigned_abs() < m as u64),
                            "planted copy of target {ti} at {start} with {e} substitutions not found (m {m} d {d})"
                        );
                    }
                }
            }
        }
    }
}

/// The worst case of the shift bound: a document that starts with
/// `target[k..] + k fresh tokens` (or ends with `k fresh tokens + target[..m - k]`)
/// has exactly one window near the copy, at Levenshtein distance 2k, whose
/// unedited pieces are all shifted by k; with k = D / 2 the scan must find it
/// (a scan that allowed shifts up to D / 2 - 1 only misses it).
#[test]
fn scan_shifted_copies_at_document_edges() {
    util::set_quiet(true);
    let mut rng = Rng::new(24);
    for &m in &[8usize, 100] {
        for &d in &[2usize, 3, 10, 11, 50] {
            if d >= m {
                continue;
            }
            let k = d / 2;
            let bg = skewed_text(&mut rng, 5_000, 200, 5, 300);
            let targets: Vec<Vec<u32>> = (0..3).map(|i| (0..m).map(|j| 1000 + (i * m + j) as u32).collect()).collect();
            let mut fresh = 100_000u32;
            let mut text: Vec<u32> = Vec::new();
            let mut expect: Vec<(usize, usize)> = Vec::new();
            for (ti, tg) in targets.iter().enumerate() {
                // at the start of a document
                text.push(u32::SEP);
                expect.push((ti, text.len()));
                text.extend_from_slice(&tg[k..]);
                for _ in 0..k {
                    fresh += 1;
                    text.push(fresh);
                }
                text.extend(bg[ti * 300..ti * 300 + 50].iter().map(|&x| if x == u32::SEP { 5 } else { x }));
                // at the end of a document
                text.push(u32::SEP);
                text.extend(bg[ti * 300 + 100..ti * 300 + 150].iter().map(|&x| if x == u32::SEP { 5 } else { x }));
                for _ in 0..k {
                    fresh += 1;
                    text.push(fresh);
                }
                expect.push((ti, text.len() - k));
                text.extend_from_slice(&tg[..m - k]);
            }
            let got = check(&format!("shifted copies m {m}"), &text, &targets, d, Select::Levenshtein);
            for &(ti, want) in &expect {
                assert!(
                    got[ti].iter().any(|mm| mm.pos as usize == want && mm.levenshtein as usize == 2 * k),
                    "m {m} d {d}: shifted copy of target {ti} (window {want}) not found: {:?}",
                    got[ti]
                );
            }
        }
    }
}

mod common;
use common::*;
use mosaic_sa_core::count::{count_all, find_range};
use mosaic_sa_core::sais::suffix_array;
use mosaic_sa_core::scan::{levenshtein_dp, scan, Pattern, Select};
use mosaic_sa_core::{collect::collect, naive, selfsim::self_similar, util, Idx, Token};

fn inputs<T: Token>(seed: u64) -> Vec<(String, Vec<T>, usize)> {
    let mut rng = Rng::new(seed);
    let mut v = Vec::new();
    for &(n, alpha, sep) in &[(0usize, 3u32, 0u64), (1, 3, 0), (2, 1, 0), (300, 2, 0), (500, 3, 30), (2000, 4, 50), (3000, 50, 200)] {
        v.push((format!("random n={n} alpha={alpha}"), random_text(&mut rng, n, alpha, sep, sep > 0), alpha as usize));
    }
    v.push(("one token".into(), vec![T::from_u32(1); 500], 2));
    let doc: Vec<u32> = (0..15).map(|_| rng.below(6) as u32).collect();
    v.push(("doc x200".into(), repeated_doc(&doc, 200), 6));
    v
}

fn all<T: Token>(seed: u64) {
    util::set_quiet(true);
    for (what, t, vocab) in inputs::<T>(seed) {
        let sa: Vec<u32> = suffix_array(&t, vocab, 3, 2);
        // the direct-comparison bits equal the ones the PLCP array implies
        let pl = mosaic_sa_core::lcp::plcp(&t, &sa, 2);
        for length in [1usize, 2, 3, 5, 10, 40] {
            let bits = mosaic_sa_core::lcp::lcp_at_least(&t, &sa, length, 2);
            for k in 0..t.len() {
                assert_eq!(bits.get(k), k > 0 && pl[sa[k] as usize] as usize >= length, "lcp_at_least {what} length {length} rank {k}");
            }
        }
        for length in [1usize, 2, 3, 5, 10, 40] {
            for pos in [false, true] {
                let got = self_similar(&t, &sa, length, pos, 2);
                let want = naive::self_similar(&t, length, pos);
                assert_eq!(got, want, "self-similar {what} length {length}");
            }
            for keep_first in [true, false] {
                assert_eq!(collect(&t, &sa, length, keep_first, 2), naive::collect(&t, length, keep_first), "collect {what} length {length} keep_first {keep_first}");
            }
        }
        // queries: substrings of the text (without separators) and random ones
        let mut rng = Rng::new(seed + 99);
        let mut qs: Vec<Vec<u32>> = Vec::new();
        for _ in 0..200 {
            if t.is_empty() {
                break;
            }
            let len = 1 + rng.below(8) as usize;
            if rng.below(2) == 0 && t.len() >= len {
                let p = rng.below((t.len() - len + 1) as u64) as usize;
                qs.push(t[p..p + len].iter().map(|x| if x.is_sep() { 0 } else { x.to_u32() }).collect());
            } else {
                qs.push((0..len).map(|_| rng.below(vocab as u64 + 1) as u32).collect());
            }
        }
        let ranges = count_all(&t, &sa, &qs, 2);
        for (q, &(lo, hi)) in qs.iter().zip(&ranges) {
            let want = naive::count(&t, q);
            let mut got: Vec<u64> = sa[lo..hi].iter().map(|x| x.to_usize() as u64).collect();
            got.sort_unstable();
            assert_eq!(got, want, "count {what} query {q:?}");
            assert_eq!(find_range(&t, &sa, q), (lo, hi));
        }
    }
}

#[test]
fn selfsim_collect_count_u16() {
    all::<u16>(10);
}

#[test]
fn selfsim_collect_count_u32() {
    all::<u32>(11);
}

#[test]
fn myers_equals_dp() {
    let mut rng = Rng::new(5);
    for _ in 0..3000 {
        let m = 1 + rng.below(200) as usize;
        let n = rng.below(220) as usize;
        let alpha = 1 + rng.below(6);
        let a: Vec<u32> = (0..m).map(|_| rng.below(alpha) as u32).collect();
        let b: Vec<u32> = (0..n).map(|_| rng.below(alpha) as u32).collect();
        assert_eq!(Pattern::new(&a).levenshtein(&b), levenshtein_dp(&a, &b), "m={m} n={n}");
        // near copies
        let mut c = a.clone();
        for _ in 0..rng.below(5) {
            let p = rng.below(c.len() as u64 + 1) as usize;
            match rng.below(3) {
                0 if p < c.len() => {
                    c.remove(p);
                }
                1 => c.insert(p, rng.below(alpha) as u32),
                _ if p < c.len() => c[p] = rng.below(alpha) as u32,
                _ => {}
            }
        }
        assert_eq!(Pattern::new(&a).levenshtein(&c), levenshtein_dp(&a, &c));
    }
}

#[test]
fn semiglobal_scores_equal_dp() {
    // out[j] = min over s <= j of lev(pattern, text[s..j]), for m <= 128; false above
    let mut rng = Rng::new(6);
    let mut out = Vec::new();
    for _ in 0..400 {
        let m = 1 + rng.below(128) as usize;
        let n = rng.below(60) as usize;
        let alpha = 1 + rng.below(5);
        let a: Vec<u32> = (0..m).map(|_| rng.below(alpha) as u32).collect();
        let mut b: Vec<u32> = (0..n).map(|_| rng.below(alpha) as u32).collect();
        if n > 10 && rng.below(2) == 0 {
            // part of the pattern inside the text
            let k = (m / 2).min(n - 5);
            b[3..3 + k].copy_from_slice(&a[..k]);
        }
        let pat = Pattern::new(&a);
        assert!(pat.semiglobal_scores(n, |i| pat.keys().binary_search(&b[i]).ok(), &mut out));
        assert_eq!(out.len(), n + 1);
        for j in 0..=n {
            let want = (0..=j).map(|s| levenshtein_dp(&a, &b[s..j])).min().unwrap();
            assert_eq!(out[j], want, "m={m} n={n} j={j}");
        }
    }
    let long: Vec<u32> = (0..129).collect();
    assert!(!Pattern::new(&long).semiglobal_scores(3, |_| None, &mut out));
}

/// Apply edits to a copy: (kind, position) with 0 = substitute, 1 = insert, 2 = delete.
fn perturb(t: &[u32], edits: &[(u8, usize)], fresh: &mut u32) -> Vec<u32> {
    let mut c = t.to_vec();
    for &(k, p) in edits {
        *fresh += 1;
        match k {
            0 => c[p] = *fresh,
            1 => c.insert(p, *fresh),
            _ => {
                c.remove(p);
            }
        }
    }
    c
}

#[test]
fn scan_finds_planted_copies() {
    util::set_quiet(true);
    let mut rng = Rng::new(7);
    let m = 100;
    let targets: Vec<Vec<u32>> = (0..4).map(|_| (0..m).map(|_| rng.below(5000) as u32).collect()).collect();
    // background: random tokens from a disjoint range
    let mut fresh = 100_000u32;
    let mut text: Vec<u32> = Vec::new();
    let mut planted: Vec<(usize, usize, usize)> = Vec::new(); // (target, start of copy, edits)
    let edit_sets: Vec<Vec<(u8, usize)>> = vec![
        vec![],
        vec![(0, 0)],
        vec![(0, 99)],
        vec![(1, 0)],
        vec![(2, 0)],
        vec![(1, 100)],
        vec![(2, 99)],
        vec![(1, 1), (2, 98)],
        vec![(0, 10), (0, 20), (0, 30), (1, 50), (2, 70)],
        (0..12).map(|i| (0u8, i * 8)).collect(),
        (0..30).map(|i| (0u8, i * 3)).collect(),
    ];
    for (ti, tg) in targets.iter().enumerate() {
        for es in &edit_sets {
            text.push(u32::SEP);
            for _ in 0..rng.below(150) {
                text.push(50_000 + rng.below(1000) as u32);
            }
            let copy = perturb(tg, es, &mut fresh);
            let bound = es.len() + es.iter().filter(|e| e.0 != 0).count();
            planted.push((ti, text.len(), bound));
            text.extend(copy);
            for _ in 0..rng.below(150) {
                text.push(50_000 + rng.below(1000) as u32);
            }
        }
    }
    let seps = seps_of(&text);
    for &d in &[0usize, 5, 31] {
        for select in [Select::Levenshtein, Select::Hamming] {
            let got = scan(&text, &seps, &targets, d, select, 2);
            let want = naive::scan(&text, &seps, &targets, d, select);
            assert_eq!(got, want, "scan d={d} {select:?}");
            for r in &got {
                for mm in r {
                    let dist = if select == Select::Levenshtein { mm.levenshtein } else { mm.hamming };
                    assert!(dist as usize <= d);
                }
            }
            // every planted copy whose edit count is within d is found (Levenshtein)
            if select == Select::Levenshtein {
                for &(ti, start, ne) in &planted {
                    if ne <= d {
                        let hit = got[ti].iter().any(|mm| (mm.pos as i64 - start as i64).abs() <= ne as i64 && mm.levenshtein as usize <= ne);
                        assert!(hit, "planted copy of target {ti} at {start} with {ne} edits not found at d={d}: {:?}", got[ti]);
                    }
                }
            }
        }
    }
}

#[test]
fn scan_random_vs_naive() {
    util::set_quiet(true);
    let mut rng = Rng::new(8);
    for round in 0..20 {
        let m = 1 + rng.below(20) as usize;
        let alpha = 2 + rng.below(5) as u32;
        let text: Vec<u16> = random_text(&mut rng, 300 + round * 20, alpha, 40, true);
        let seps = seps_of(&text);
        let targets: Vec<Vec<u32>> = (0..5).map(|_| (0..m).map(|_| rng.below(alpha as u64) as u32).collect()).collect();
        for d in [0, 1, m / 3, m] {
            for select in [Select::Levenshtein, Select::Hamming] {
                assert_eq!(scan(&text, &seps, &targets, d, select, 2), naive::scan(&text, &seps, &targets, d, select), "round {round} m {m} d {d}");
            }
        }
    }
}

/// `--threads N` runs at most N worker threads in every parallel job (the work
/// may be split into more chunks than N, pulled by the N workers). The pool
/// records, per calling thread, the workers it started and the high-water mark
/// of workers live at once; a job that spawned its own threads would record
/// nothing, one that ran 4 x N workers would record 4 x N.
#[test]
fn threads_means_threads() {
    util::set_quiet(true);
    let mut rng = Rng::new(12);
    let t: Vec<u16> = random_text(&mut rng, 200_000, 30, 500, true);
    let sa: Vec<u32> = suffix_array(&t, 30, 1, 1);
    let qs: Vec<Vec<u32>> = (0..5000).map(|_| (0..3).map(|_| rng.below(30) as u32).collect()).collect();
    let seps = seps_of(&t);
    let targets: Vec<Vec<u32>> = (0..20).map(|_| (0..16).map(|_| rng.below(30) as u32).collect()).collect();
    for threads in [1usize, 2, 3] {
        let check = |what: &str, st: &util::PoolStats, calls: usize| {
            let started = st.started.load(std::sync::atomic::Ordering::SeqCst);
            let peak = st.peak.load(std::sync::atomic::Ordering::SeqCst);
            assert!(started >= calls, "{what} --threads {threads}: no pooled worker recorded ({started})");
            assert!(started <= calls * threads, "{what} --threads {threads}: {started} workers started in {calls} parallel passes");
            assert!(peak >= 1 && peak <= threads, "{what} --threads {threads}: {peak} workers live at once");
            // the calling thread works too: N workers are N OS threads, not N + 1
            let spawned = st.spawned.load(std::sync::atomic::Ordering::SeqCst);
            assert!(spawned <= calls * (threads - 1), "{what} --threads {threads}: {spawned} OS threads spawned in {calls} parallel passes");
        };
        let (r, st) = util::with_pool_stats(|| count_all(&t, &sa, &qs, threads));
        check("count", &st, 1);
        for (q, &x) in qs.iter().zip(&r).take(50) {
            assert_eq!(x, find_range(&t, &sa, q));
        }
        let (_, st) = util::with_pool_stats(|| mosaic_sa_core::lcp::plcp(&t, &sa, threads));
        check("plcp", &st, 2);
        let (_, st) = util::with_pool_stats(|| mosaic_sa_core::lcp::lcp_at_least(&t, &sa, 3, threads));
        check("lcp_at_least", &st, 1);
        let (_, st) = util::with_pool_stats(|| scan(&t, &seps, &targets, 4, Select::Levenshtein, threads));
        check("scan", &st, 3); // target plans, the corpus chunks, the per-target selection
        // the parts build and its merges (occ counts and lists, gaps, output) run
        // in the pool too: each job's w <= N workers are w - 1 spawned threads + the caller
        let (sa3, st) = util::with_pool_stats(|| suffix_array::<u16, u32>(&t, 30, 3, threads));
        assert_eq!(sa3, sa);
        let started = st.started.load(std::sync::atomic::Ordering::SeqCst);
        let spawned = st.spawned.load(std::sync::atomic::Ordering::SeqCst);
        let peak = st.peak.load(std::sync::atomic::Ordering::SeqCst);
        assert!(started >= 5, "parts build --threads {threads}: {started} pooled workers (the parts, then 4 jobs per merge)");
        assert!(peak >= 1 && peak <= threads, "parts build --threads {threads}: {peak} workers live at once");
        assert!(spawned * threads <= started * (threads - 1), "parts build --threads {threads}: {spawned} spawned for {started} workers");
    }
    // the high-water mark is a real concurrency measure: slow items on 2 workers overlap
    let (_, st) = util::with_pool_stats(|| util::for_each_index(2, 8, |_| std::thread::sleep(std::time::Duration::from_millis(20))));
    assert_eq!(st.started.load(std::sync::atomic::Ordering::SeqCst), 2);
    assert_eq!(st.peak.load(std::sync::atomic::Ordering::SeqCst), 2);
    assert_eq!(st.spawned.load(std::sync::atomic::Ordering::SeqCst), 1);
}

mod common;
use common::*;
use mosaic_sa_core::sais::suffix_array;
use mosaic_sa_core::{naive, util, Idx, Token};

fn check<T: Token>(text: &[T], vocab: usize, what: &str) {
    util::set_quiet(true);
    let want = naive::suffix_array(text);
    for parts in [1usize, 2, 3, 7] {
        let got: Vec<u32> = suffix_array(text, vocab, parts, 2);
        let got: Vec<u64> = got.iter().map(|x| x.to_usize() as u64).collect();
        assert_eq!(got, want, "{what}: u32 pointers, {parts} parts, n = {}", text.len());
    }
    let got: Vec<u64> = suffix_array(text, vocab, 3, 2);
    assert_eq!(got, want, "{what}: u64 pointers, n = {}", text.len());
}

#[test]
fn random_inputs_both_widths() {
    let mut rng = Rng::new(1);
    for n in (0..64).chain([100, 257, 1000, 3000]) {
        for &alpha in &[1u32, 2, 3, 17, 1000] {
            for &sep in &[0u64, 3, 40] {
                let t16: Vec<u16> = random_text(&mut rng, n, alpha, sep, sep > 0);
                check(&t16, alpha as usize, &format!("u16 alpha {alpha} sep {sep}"));
                let t32: Vec<u32> = random_text(&mut rng, n, alpha, sep, sep > 0);
                check(&t32, alpha as usize, &format!("u32 alpha {alpha} sep {sep}"));
            }
        }
    }
}

#[test]
fn large_token_values() {
    let mut rng = Rng::new(2);
    // u32 tokens near the top of the range (sparse alphabet path) and u16 near 65534
    let t: Vec<u32> = (0..2000).map(|i| if i % 97 == 0 { u32::SEP } else { u32::MAX - 1 - rng.below(50) as u32 }).collect();
    check(&t, (u32::MAX - 1) as usize, "u32 sparse");
    let t: Vec<u16> = (0..2000).map(|i| if i % 97 == 0 { u16::SEP } else { 65534 - rng.below(3) as u16 }).collect();
    check(&t, 65535, "u16 top");
}

#[test]
fn repetitive_inputs() {
    // one token repeated, with and without separators
    let t: Vec<u16> = vec![7; 3000];
    check(&t, 8, "one token");
    let mut t: Vec<u32> = vec![u32::SEP];
    t.extend(std::iter::repeat(5).take(2999));
    check(&t, 6, "one token after a separator");
    // a document repeated 1,000 times
    let mut rng = Rng::new(3);
    let doc: Vec<u32> = (0..20).map(|_| rng.below(50) as u32).collect();
    let t: Vec<u16> = repeated_doc(&doc, 1000);
    check(&t, 50, "doc x1000");
    let t: Vec<u32> = repeated_doc(&doc, 1000);
    check(&t, 50, "doc x1000 u32");
    // long repeats, longer than any part: 6 copies of a 2,500-token document,
    // mixed with short random documents, split into up to 7 parts
    let long: Vec<u32> = (0..2500).map(|_| rng.below(4) as u32).collect();
    let mut t: Vec<u16> = Vec::new();
    for k in 0..6 {
        t.extend(repeated_doc::<u16>(&long, 1));
        let short: Vec<u32> = (0..k * 10).map(|_| rng.below(4) as u32).collect();
        t.extend(repeated_doc::<u16>(&short, 1));
    }
    check(&t, 4, "long repeats across parts");
    // periodic text without separators (repeat spanning everything)
    let t: Vec<u32> = (0..4000).map(|i| (i % 3) as u32).collect();
    check(&t, 3, "periodic");
}

#[test]
fn empty_and_one_token() {
    check::<u16>(&[], 10, "empty");
    check::<u32>(&[], 10, "empty");
    check::<u16>(&[3], 10, "one token");
    check::<u32>(&[3], 10, "one token");
    check::<u16>(&[u16::SEP], 10, "one separator");
    check::<u32>(&[u32::SEP, 1], 10, "separator + token");
    check::<u16>(&[u16::SEP, u16::SEP, u16::SEP], 10, "empty documents");
}

/// SA-IS with threads (parallel type bits, LMS naming, map back and fills),
/// forced at every recursion level (`min_len: 0`), gives the array of the
/// one-thread SA-IS and of the naive sort: random symbol strings of several
/// alphabets (runs of one symbol included), u32 and u64 pointers.
#[test]
fn sais_with_threads_equals_one_thread() {
    use mosaic_sa_core::sais::{sais_core, sais_with, Par};
    fn naive_sa(t: &[u32]) -> Vec<u64> {
        // the virtual sentinel is smaller than every symbol: a proper prefix sorts first
        let mut v: Vec<u64> = (0..t.len() as u64).collect();
        v.sort_by(|&a, &b| t[a as usize..].cmp(&t[b as usize..]));
        v
    }
    let mut rng = Rng::new(11);
    let two = Par { threads: 2, min_len: 0 };
    for n in (1..40).chain([100, 1000, 5000, 20000]) {
        for &k in &[1u32, 2, 3, 5, 50, 5000] {
            let t: Vec<u32> = (0..n)
                .map(|i| if k > 3 && i % 7 < 3 { (i / 21) as u32 % k } else { rng.below(k as u64) as u32 })
                .collect();
            let mut one = vec![0u32; n];
            sais_core(&t, &mut one, k as usize);
            let mut got = vec![0u32; n];
            sais_with(&t, &mut got, k as usize, two);
            assert_eq!(got, one, "u32 pointers, n = {n}, k = {k}");
            let t64: Vec<u64> = t.iter().map(|&x| x as u64).collect();
            let mut got64 = vec![0u64; n];
            sais_with(&t64, &mut got64, k as usize, two);
            assert_eq!(got64, one.iter().map(|&x| x as u64).collect::<Vec<_>>(), "u64 pointers, n = {n}, k = {k}");
            if n <= 5000 {
                assert_eq!(one.iter().map(|&x| x as u64).collect::<Vec<_>>(), naive_sa(&t), "naive, n = {n}, k = {k}");
            }
        }
    }
}

/// `build --threads 2` (one part) takes the threaded path at the default
/// threshold on a text long enough for it, and gives the one-thread array.
#[test]
fn one_part_two_threads_equals_one_thread() {
    util::set_quiet(true);
    let mut rng = Rng::new(12);
    // Zipf-like tokens in documents, plus a long repeated document
    let mut t: Vec<u16> = random_text(&mut rng, 300_000, 2000, 150, true)
        .into_iter()
        .map(|x: u16| if x.is_sep() { x } else { ((x as u64 * x as u64) / 2000) as u16 })
        .collect();
    let doc: Vec<u32> = (0..3000).map(|_| rng.below(30) as u32).collect();
    t.extend(repeated_doc::<u16>(&doc, 20));
    let (one, st1): (Vec<u32>, _) = util::with_pool_stats(|| suffix_array(&t, 2000, 1, 1));
    let (two, st2): (Vec<u32>, _) = util::with_pool_stats(|| suffix_array(&t, 2000, 1, 2));
    assert!(one == two, "two threads differ from one");
    // --threads N means N OS threads: none spawned for 1; for 2 the threaded
    // phases ran (several pooled jobs), never more than 2 workers at once
    let get = |a: &std::sync::atomic::AtomicUsize| a.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(get(&st1.spawned), 0, "one thread spawned threads");
    assert!(get(&st2.started) >= 10, "two threads: only {} pooled workers", get(&st2.started));
    assert!(get(&st2.peak) <= 2 && get(&st2.spawned) * 2 <= get(&st2.started), "two threads: {:?}", st2);
    let four: Vec<u64> = suffix_array(&t, 2000, 1, 4);
    assert!(four.iter().zip(&one).all(|(&a, &b)| a == b as u64), "four threads / u64 differ");
}

/// A parts merge whose rank queries go through several sample levels: a
/// 3-token alphabet, 400 K tokens of documents repeated many times (long runs
/// in each part's BWT, lists of ~60 K values); 2, 3 and 7 parts, both pointer
/// widths, must give the one-part array (itself checked against the naive sort
/// above).
#[test]
fn parts_merge_through_sample_levels() {
    util::set_quiet(true);
    let mut rng = Rng::new(21);
    let docs: Vec<Vec<u32>> = (0..40).map(|i| (0..200 + 37 * i).map(|_| rng.below(3) as u32).collect()).collect();
    let mut t: Vec<u16> = Vec::new();
    while t.len() < 400_000 {
        let d = &docs[rng.below(docs.len() as u64) as usize];
        t.extend(repeated_doc::<u16>(d, 1 + rng.below(3) as usize));
    }
    let one: Vec<u32> = suffix_array(&t, 3, 1, 1);
    for parts in [2usize, 3, 7] {
        let got: Vec<u32> = suffix_array(&t, 3, parts, 2);
        assert!(got == one, "{parts} parts (u32) differ from one part");
        let got: Vec<u64> = suffix_array(&t, 3, parts, 2);
        assert!(got.iter().zip(&one).all(|(&a, &b)| a == b as u64), "{parts} parts (u64) differ from one part");
    }
}

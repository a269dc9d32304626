#![allow(dead_code)]
use mosaic_sa_core::Token;

pub struct Rng(u64);
impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E3779B97F4A7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Random text: tokens below `alpha`, a separator with probability 1/`sep_every`
/// (0 = never), starting with a separator when `lead_sep`.
pub fn random_text<T: Token>(rng: &mut Rng, n: usize, alpha: u32, sep_every: u64, lead_sep: bool) -> Vec<T> {
    let mut v = Vec::with_capacity(n);
    for i in 0..n {
        if (i == 0 && lead_sep) || (sep_every > 0 && rng.below(sep_every) == 0) {
            v.push(T::SEP);
        } else {
            v.push(T::from_u32(rng.below(alpha as u64) as u32));
        }
    }
    v
}

/// A document repeated `times` times, each copy preceded by a separator.
pub fn repeated_doc<T: Token>(doc: &[u32], times: usize) -> Vec<T> {
    let mut v = Vec::new();
    for _ in 0..times {
        v.push(T::SEP);
        v.extend(doc.iter().map(|&x| T::from_u32(x)));
    }
    v
}

pub fn seps_of<T: Token>(t: &[T]) -> Vec<u64> {
    t.iter().enumerate().filter(|(_, x)| x.is_sep()).map(|(i, _)| i as u64).collect()
}

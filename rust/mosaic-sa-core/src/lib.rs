//! mosaic-sa-core: token-level suffix arrays and the jobs built on them.
//!
//! Standard library only. See `rust/README.md` for the file formats and the CLI.
//!
//! Suffix order (the one every function here and the naive references use):
//! suffixes are compared token by token; a separator token is greater than every
//! ordinary token and separators are *unique*: two separators compare by their
//! position. The end of the text behaves like one more separator at position `n`
//! (the greatest symbol). Consequences: no comparison ever looks past a separator,
//! documents are independent, and the text can be split into parts at separators
//! whose suffix arrays merge without comparing text.

#[cfg(target_endian = "big")]
compile_error!("mosaic-sa-core assumes a little-endian target");

pub mod collect;
pub mod count;
pub mod error;
pub mod files;
pub mod lcp;
pub mod naive;
pub mod sais;
pub mod scan;
pub mod selfsim;
pub mod util;

pub use error::{Error, Result};

/// A token type stored in a token file (u16 or u32, little-endian).
pub trait Token: Copy + Send + Sync + Eq + Ord + std::fmt::Debug + Default + 'static {
    /// Width in bytes.
    const WIDTH: usize;
    /// The separator value: the maximum of the type.
    const SEP: Self;
    fn to_u32(self) -> u32;
    fn from_u32(x: u32) -> Self;
    #[inline(always)]
    fn idx(self) -> usize {
        self.to_u32() as usize
    }
    #[inline(always)]
    fn is_sep(self) -> bool {
        self == Self::SEP
    }
}

impl Token for u16 {
    const WIDTH: usize = 2;
    const SEP: Self = u16::MAX;
    #[inline(always)]
    fn to_u32(self) -> u32 {
        self as u32
    }
    #[inline(always)]
    fn from_u32(x: u32) -> Self {
        x as u16
    }
}

impl Token for u32 {
    const WIDTH: usize = 4;
    const SEP: Self = u32::MAX;
    #[inline(always)]
    fn to_u32(self) -> u32 {
        self
    }
    #[inline(always)]
    fn from_u32(x: u32) -> Self {
        x
    }
}

/// A suffix-array pointer type (u32 below 2^32 entries, else u64).
pub trait Idx: Copy + Send + Sync + Eq + Ord + std::fmt::Debug + Default + 'static {
    const EMPTY: Self;
    const BYTES: usize;
    fn from_usize(x: usize) -> Self;
    fn to_usize(self) -> usize;
    /// Bitwise complement (used as a flag by the induced sort; positions are
    /// below 2^31 for u32 pointers, so the top bit is free).
    fn flip(self) -> Self;
    /// Greater than zero as a signed number (set, non-zero, not flipped).
    fn is_pos(self) -> bool;
}

impl Idx for u32 {
    const EMPTY: Self = u32::MAX;
    const BYTES: usize = 4;
    #[inline(always)]
    fn from_usize(x: usize) -> Self {
        x as u32
    }
    #[inline(always)]
    fn to_usize(self) -> usize {
        self as usize
    }
    #[inline(always)]
    fn flip(self) -> Self {
        !self
    }
    #[inline(always)]
    fn is_pos(self) -> bool {
        (self as i32) > 0
    }
}

impl Idx for u64 {
    const EMPTY: Self = u64::MAX;
    const BYTES: usize = 8;
    #[inline(always)]
    fn from_usize(x: usize) -> Self {
        x as u64
    }
    #[inline(always)]
    fn to_usize(self) -> usize {
        self as usize
    }
    #[inline(always)]
    fn flip(self) -> Self {
        !self
    }
    #[inline(always)]
    fn is_pos(self) -> bool {
        (self as i64) > 0
    }
}

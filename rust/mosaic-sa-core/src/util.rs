//! Small helpers: thread chunking, a raw shared pointer for disjoint parallel
//! writes, a bit vector and progress messages.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

static QUIET: AtomicBool = AtomicBool::new(false);

/// Silence progress messages (used by tests).
pub fn set_quiet(q: bool) {
    QUIET.store(q, Ordering::Relaxed);
}

/// A progress line on stderr: `[mosaic-sa] <msg>`.
pub fn progress(msg: impl AsRef<str>) {
    if !QUIET.load(Ordering::Relaxed) {
        eprintln!("[mosaic-sa] {}", msg.as_ref());
    }
}

/// Times a step and reports it on stderr when done.
pub struct Step {
    name: String,
    start: Instant,
}

impl Step {
    pub fn new(name: impl Into<String>) -> Step {
        let name = name.into();
        progress(format!("{name} ..."));
        Step { name, start: Instant::now() }
    }
    pub fn done(self) {
        progress(format!("{} done in {:.2}s", self.name, self.start.elapsed().as_secs_f64()));
    }
}

/// Split `0..n` into at most `parts` contiguous ranges of nearly equal length.
pub fn chunks(n: usize, parts: usize) -> Vec<(usize, usize)> {
    let parts = parts.max(1).min(n.max(1));
    let mut v = Vec::with_capacity(parts);
    for i in 0..parts {
        let a = n * i / parts;
        let b = n * (i + 1) / parts;
        if b > a || (n == 0 && i == 0) {
            v.push((a, b));
        }
    }
    v
}

/// Counters of the worker pool [`for_each_index`], for tests: workers started,
/// workers live now and the high-water mark of live workers.
#[derive(Default, Debug)]
pub struct PoolStats {
    pub started: AtomicUsize,
    /// OS threads spawned (the calling thread is a worker too: at most N - 1 per job)
    pub spawned: AtomicUsize,
    pub live: AtomicUsize,
    pub peak: AtomicUsize,
}

thread_local! {
    static POOL_STATS: std::cell::RefCell<Option<std::sync::Arc<PoolStats>>> = const { std::cell::RefCell::new(None) };
}

/// Run `f` with pool statistics recorded for every [`for_each_index`] called
/// from this thread (tests use it to check that `--threads N` runs at most N
/// worker threads).
pub fn with_pool_stats<R>(f: impl FnOnce() -> R) -> (R, std::sync::Arc<PoolStats>) {
    let st = std::sync::Arc::new(PoolStats::default());
    let old = POOL_STATS.with(|p| p.replace(Some(st.clone())));
    let r = f();
    POOL_STATS.with(|p| *p.borrow_mut() = old);
    (r, st)
}

/// Run `f(i)` for every `i` in `0..n` on at most `threads` OS threads: the
/// workers pull the indices from a shared counter (so `n` may be larger than
/// `threads` for load balance; it never adds threads). With one worker it runs
/// on the calling thread.
pub fn for_each_index(threads: usize, n: usize, f: impl Fn(usize) + Sync) {
    run_workers(threads, n, |next| {
        while let Some(i) = next() {
            f(i);
        }
    });
}

/// `(0..n).map(f)` computed on at most `threads` threads, in order.
pub fn parallel_map<R: Send>(threads: usize, n: usize, f: impl Fn(usize) -> R + Sync) -> Vec<R> {
    let mut out: Vec<Option<R>> = (0..n).map(|_| None).collect();
    let p = SyncPtr(out.as_mut_ptr());
    // SAFETY: every index is written by exactly one worker
    for_each_index(threads, n, |i| unsafe { p.put(i, Some(f(i))) });
    out.into_iter().map(|x| x.unwrap()).collect()
}

/// The pool under [`for_each_index`]: `min(threads, n)` workers (at least one
/// when `n > 0`; the calling thread is one of them) each run `body`
/// once, with a function handing out the indices `0..n`, each exactly once,
/// then `None`. A worker keeps its own state across the indices it takes.
pub fn run_workers(threads: usize, n: usize, body: impl Fn(&mut dyn FnMut() -> Option<usize>) + Sync) {
    let workers = threads.max(1).min(n);
    if workers == 0 {
        return;
    }
    let stats = POOL_STATS.with(|p| p.borrow().clone());
    let next = AtomicUsize::new(0);
    let work = || {
        if let Some(s) = &stats {
            s.started.fetch_add(1, Ordering::SeqCst);
            let l = s.live.fetch_add(1, Ordering::SeqCst) + 1;
            s.peak.fetch_max(l, Ordering::SeqCst);
        }
        let mut take = || {
            let i = next.fetch_add(1, Ordering::Relaxed);
            (i < n).then_some(i)
        };
        body(&mut take);
        if let Some(s) = &stats {
            s.live.fetch_sub(1, Ordering::SeqCst);
        }
    };
    if workers == 1 {
        work();
        return;
    }
    // the calling thread is one of the workers, and the others are joined
    // (not only waited for), so no more than `workers` OS threads ever exist
    std::thread::scope(|sc| {
        let hs: Vec<_> = (1..workers).map(|_| sc.spawn(&work)).collect();
        if let Some(s) = &stats {
            s.spawned.fetch_add(hs.len(), Ordering::SeqCst);
        }
        work();
        for h in hs {
            if let Err(e) = h.join() {
                std::panic::resume_unwind(e);
            }
        }
    });
}

/// Number of worker threads to use when the user gave none.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map(|x| x.get()).unwrap_or(1)
}

/// A raw pointer that may be shared between threads. Callers guarantee that the
/// threads write disjoint indices.
#[derive(Clone, Copy)]
pub struct SyncPtr<T>(pub *mut T);
unsafe impl<T> Send for SyncPtr<T> {}
unsafe impl<T> Sync for SyncPtr<T> {}

impl<T> SyncPtr<T> {
    /// The pointer (a method, so that closures capture the whole `SyncPtr`).
    #[inline(always)]
    pub fn ptr(self) -> *mut T {
        self.0
    }
    /// Store `v` at index `i` (dropping the old value), for non-Copy `T`.
    /// # Safety
    /// `i` is in bounds and no other thread accesses index `i` concurrently.
    #[inline(always)]
    pub unsafe fn put(&self, i: usize, v: T) {
        *self.0.add(i) = v;
    }
    /// # Safety
    /// `i` is in bounds and no other thread accesses index `i` concurrently.
    #[inline(always)]
    pub unsafe fn write(self, i: usize, v: T) {
        *self.0.add(i) = v;
    }
    /// # Safety
    /// `i` is in bounds and no other thread writes index `i` concurrently.
    #[inline(always)]
    pub unsafe fn read(self, i: usize) -> T
    where
        T: Copy,
    {
        *self.0.add(i)
    }
}

/// A fixed-size bit vector.
#[derive(Clone)]
pub struct BitVec {
    words: Vec<u64>,
    len: usize,
}

impl BitVec {
    pub fn new(len: usize) -> BitVec {
        BitVec { words: vec![0; len.div_ceil(64)], len }
    }
    #[inline(always)]
    pub fn len(&self) -> usize {
        self.len
    }
    #[inline(always)]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    #[inline(always)]
    pub fn get(&self, i: usize) -> bool {
        (self.words[i >> 6] >> (i & 63)) & 1 != 0
    }
    #[inline(always)]
    pub fn set(&mut self, i: usize) {
        self.words[i >> 6] |= 1u64 << (i & 63);
    }
    pub fn words(&self) -> &[u64] {
        &self.words
    }
    pub fn words_mut(&mut self) -> &mut [u64] {
        &mut self.words
    }
    /// Positions of the set bits, ascending.
    pub fn ones(&self) -> impl Iterator<Item = usize> + '_ {
        self.words.iter().enumerate().flat_map(|(wi, &w)| {
            let mut w = w;
            std::iter::from_fn(move || {
                if w == 0 {
                    None
                } else {
                    let b = w.trailing_zeros() as usize;
                    w &= w - 1;
                    Some(wi * 64 + b)
                }
            })
        })
    }
    pub fn count_ones(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }
}

/// Document id of each position: index of the last separator at or before it
/// (`seps` ascending). Positions before the first separator get document 0.
#[inline]
pub fn doc_of(seps: &[u64], pos: u64) -> u64 {
    let k = seps.partition_point(|&s| s <= pos);
    k.saturating_sub(1) as u64
}

/// Ask the kernel to back `[p, p + len)` with transparent huge pages (Linux,
/// `madvise(MADV_HUGEPAGE)`; a hint, failures are ignored). The big arrays of
/// the suffix sorting are accessed at random, and 2 MiB pages remove most of
/// the TLB misses. Only the 2 MiB-aligned interior of the range is advised.
pub fn advise_huge(p: *const u8, len: usize) {
    #[cfg(target_os = "linux")]
    {
        extern "C" {
            fn madvise(addr: *mut std::ffi::c_void, len: usize, advice: i32) -> i32;
        }
        const HUGE: usize = 2 << 20;
        const MADV_HUGEPAGE: i32 = 14;
        if len >= 2 * HUGE && std::env::var_os("MOSAIC_SA_NO_HUGEPAGES").is_none() {
            let a = (p as usize).div_ceil(HUGE) * HUGE;
            let e = (p as usize + len) / HUGE * HUGE;
            if e > a {
                // SAFETY: the range lies inside one live allocation of ours;
                // MADV_HUGEPAGE changes no contents, only the backing
                unsafe {
                    madvise(a as *mut std::ffi::c_void, e - a, MADV_HUGEPAGE);
                }
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (p, len);
}

/// `vec![v; n]` whose pages are advised huge before they are first touched.
pub fn big_vec<T: Copy>(n: usize, v: T) -> Vec<T> {
    let mut x: Vec<T> = Vec::with_capacity(n);
    advise_huge(x.as_ptr() as *const u8, n * std::mem::size_of::<T>());
    x.resize(n, v);
    x
}

/// [`big_vec`] whose pages are first touched (faulted in: the kernel zeroes
/// them, a few hundred ms per GB with huge pages) by `threads` threads at once.
pub fn big_vec_par<T: Copy + Send + Sync>(n: usize, v: T, threads: usize) -> Vec<T> {
    if threads <= 1 {
        // no pool job: a part built inside a pool worker stays on its thread
        return big_vec(n, v);
    }
    let mut x: Vec<T> = Vec::with_capacity(n);
    advise_huge(x.as_ptr() as *const u8, n * std::mem::size_of::<T>());
    let p = SyncPtr(x.as_mut_ptr());
    let cs = chunks(n, threads);
    for_each_index(threads, cs.len(), |j| {
        let (a, b) = cs[j];
        for i in a..b {
            // SAFETY: i < n = capacity; the chunks are disjoint
            unsafe { p.ptr().add(i).write(v) };
        }
    });
    // SAFETY: every element in 0..n was written above
    unsafe { x.set_len(n) };
    x
}

/// `Vec::with_capacity(n)` advised huge (for vectors filled by `push`).
pub fn big_capacity<T>(n: usize) -> Vec<T> {
    let x: Vec<T> = Vec::with_capacity(n);
    advise_huge(x.as_ptr() as *const u8, n * std::mem::size_of::<T>());
    x
}

/// Hint the CPU to fetch the cache line holding `p` (no-op off x86_64). Used by the
/// memory-latency-bound loops of SA-IS, the merge and the LCP passes.
#[inline(always)]
pub(crate) fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is only a hint; it never faults, whatever the address
    unsafe {
        std::arch::x86_64::_mm_prefetch(p as *const i8, std::arch::x86_64::_MM_HINT_T0);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

//! Induced sorting on two threads: a reader and a writer joined by a ring.
//!
//! The sequential pass (`sais::induce`) does, per suffix-array slot, two things
//! that miss the cache: it reads the text at the slot's suffix (to learn the
//! bucket of its predecessor and whether that predecessor is induced in this
//! pass) and it writes the predecessor into its bucket. Here one thread (the
//! reader) scans the slots and reads the text, and pushes `(encoded
//! predecessor, bucket)` into a single-producer single-consumer ring; the other
//! (the writer) keeps the bucket cursors and does the writes. Both kinds of
//! misses then proceed on two cores at once.
//!
//! The reader must not read a slot before its final value is there. Every
//! slot of a pass is written at most once, and which slots a pass fills is
//! known in advance: the L pass fills the first `nl[c]` slots of bucket `c`
//! (its L-type suffixes), the S pass the rest. Those slots hold [`Idx::HOLE`]
//! until written, so the reader waits (spins) on a hole in a region the
//! current pass fills, and reads the other slots at once. The L pass turns the
//! slots of the S regions (the LMS seeds, already read) into holes for the S
//! pass. Values, flags (an entry stored complemented when its predecessor is
//! not induced in the current pass) and the order of writes are those of the
//! sequential pass, so the output is the same array.
//!
//! Hand-written because no library induced sort takes an integer alphabet of a
//! million symbols with this suffix order (libsais does, in C, behind a build
//! step this std-only crate avoids); the ring is a plain SPSC queue.

use crate::util::{prefetch, run_workers, SyncPtr};
use crate::Idx;
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Ring capacity (entries); a power of two.
const RING: usize = 1 << 13;
/// Entries between two publications of the ring's head or tail.
const BATCH: usize = 64;
/// Prefetch distance (entries) of both threads.
const PF: usize = 32;

#[repr(align(64))]
struct Padded<T>(T);

struct Ring<I> {
    buf: Box<[UnsafeCell<(I, I)>]>,
    /// entries published by the reader (a running count)
    head: Padded<AtomicUsize>,
    /// entries consumed (and written to the suffix array) by the writer
    tail: Padded<AtomicUsize>,
    reader_done: Padded<AtomicBool>,
    writer_done: Padded<AtomicBool>,
}

// SAFETY: an entry is written by the reader only while it is outside
// [tail, head) and read by the writer only while inside; head and tail are
// published with release and read with acquire.
unsafe impl<I: Send> Sync for Ring<I> {}

impl<I: Idx> Ring<I> {
    fn new() -> Ring<I> {
        Ring {
            buf: (0..RING).map(|_| UnsafeCell::new((I::default(), I::default()))).collect(),
            head: Padded(AtomicUsize::new(0)),
            tail: Padded(AtomicUsize::new(0)),
            reader_done: Padded(AtomicBool::new(false)),
            writer_done: Padded(AtomicBool::new(false)),
        }
    }
}

/// Spin a little, then give the core away (a partner thread that was
/// descheduled must get to run).
#[inline(always)]
fn pause(spins: &mut u32) {
    *spins += 1;
    if *spins < 256 {
        std::hint::spin_loop();
    } else {
        std::thread::yield_now();
    }
}

/// Sets a flag when dropped, also while unwinding: the partner thread stops
/// waiting for a thread that panicked.
struct DoneOnDrop<'a>(&'a AtomicBool);
impl Drop for DoneOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

struct Reader<'a, I> {
    ring: &'a Ring<I>,
    head: usize,
    published: usize,
    tail_seen: usize,
}

impl<'a, I: Idx> Reader<'a, I> {
    fn new(ring: &'a Ring<I>) -> Self {
        Reader { ring, head: 0, published: 0, tail_seen: 0 }
    }
    #[inline(always)]
    fn publish(&mut self) {
        if self.published != self.head {
            self.ring.head.0.store(self.head, Ordering::Release);
            self.published = self.head;
        }
    }
    #[inline(always)]
    fn push(&mut self, v: (I, I)) {
        if self.head - self.tail_seen >= RING {
            self.publish();
            let mut spins = 0;
            loop {
                self.tail_seen = self.ring.tail.0.load(Ordering::Acquire);
                if self.head - self.tail_seen < RING {
                    break;
                }
                assert!(!self.ring.writer_done.0.load(Ordering::Acquire), "induce: the writer thread stopped");
                pause(&mut spins);
            }
        }
        // SAFETY: slot head % RING is outside [tail, head): the writer is not reading it
        unsafe { *self.ring.buf[self.head & (RING - 1)].get() = v };
        self.head += 1;
        if self.head - self.published >= BATCH {
            self.publish();
        }
    }
    /// The value of slot `i`, once the writer has filled it.
    #[inline(always)]
    fn wait_filled(&mut self, sa: SyncPtr<I>, i: usize) -> I {
        // SAFETY: i < n; the writer stores to this slot atomically
        let e = unsafe { I::load_shared(sa.0.add(i)) };
        if e != I::HOLE {
            return e;
        }
        self.publish();
        let mut spins = 0;
        loop {
            let e = unsafe { I::load_shared(sa.0.add(i)) };
            if e != I::HOLE {
                return e;
            }
            // every entry that could fill slot i was pushed before the reader
            // got here; if the writer has consumed them all, it never will
            let drained = self.ring.tail.0.load(Ordering::Acquire) == self.head;
            let e = unsafe { I::load_shared(sa.0.add(i)) };
            if e != I::HOLE {
                return e;
            }
            assert!(
                !(drained || self.ring.writer_done.0.load(Ordering::Acquire)),
                "induce: slot {i} of a filled region was never written"
            );
            pause(&mut spins);
        }
    }
}

/// The published entries ahead of the writer's current one (for prefetching).
struct Look<'a, I> {
    ring: &'a Ring<I>,
    tail: usize,
    head: usize,
}

impl<I: Idx> Look<'_, I> {
    /// The bucket of the entry `d` places ahead, if it is published.
    #[inline(always)]
    fn bucket(&self, d: usize) -> Option<usize> {
        // SAFETY: entries in [tail, head) are published and not overwritten
        (self.tail + d < self.head).then(|| unsafe { (*self.ring.buf[(self.tail + d) & (RING - 1)].get()).1.to_usize() })
    }
}

/// The writer's side of the ring: `f(entry, look)` per entry in order.
fn drain<I: Idx>(ring: &Ring<I>, mut f: impl FnMut((I, I), &Look<'_, I>)) {
    let _done = DoneOnDrop(&ring.writer_done.0);
    let mut tail = 0usize;
    let mut head_seen = 0usize;
    loop {
        if tail == head_seen {
            ring.tail.0.store(tail, Ordering::Release);
            let mut spins = 0;
            loop {
                head_seen = ring.head.0.load(Ordering::Acquire);
                if head_seen != tail {
                    break;
                }
                if ring.reader_done.0.load(Ordering::Acquire) {
                    // the reader publishes before it says it is done
                    head_seen = ring.head.0.load(Ordering::Acquire);
                    if head_seen == tail {
                        return;
                    }
                    break;
                }
                pause(&mut spins);
            }
        }
        let look = Look { ring, tail, head: head_seen };
        // SAFETY: entries in [tail, head_seen) are published and not overwritten
        let v = unsafe { *ring.buf[tail & (RING - 1)].get() };
        f(v, &look);
        tail += 1;
        if tail & (BATCH - 1) == 0 {
            ring.tail.0.store(tail, Ordering::Release);
        }
    }
}

/// Marks the slots that the L pass fills (the first `nl[c]` of bucket `c`) as
/// holes. Call after the seeds are placed (seeds lie in the S regions).
pub fn mark_l_regions<I: Idx>(sa: &mut [I], cnt: &[I], nl: &[I]) {
    let mut s = 0usize;
    for (c, l) in cnt.iter().zip(nl) {
        let l = l.to_usize();
        sa[s..s + l].fill(I::HOLE);
        s += c.to_usize();
    }
    debug_assert_eq!(s, sa.len());
}

/// The induced sort of `sais::induce` (same input, same output) on two threads.
/// `sa` holds the seeds in the S regions and holes in the L regions (see
/// [`mark_l_regions`]); `nl[c]` is the number of L-type suffixes starting with
/// `c` (suffix n - 1, before the virtual sentinel, is L-type).
pub fn induce_two_threads<I: Idx>(t: &[I], sa: &mut [I], cnt: &[I], nl: &[I], bkt: &mut [I]) {
    let n = t.len();
    assert!(n >= 1 && sa.len() == n && bkt.len() == cnt.len() && nl.len() == cnt.len());
    debug_assert!(t.iter().all(|c| c.to_usize() < bkt.len()));
    let k = cnt.len();
    let sp = SyncPtr(sa.as_mut_ptr());
    let bkp = SyncPtr(bkt.as_mut_ptr());
    // SAFETY (both passes): symbols are < k; positive values read from sa are
    // positions in 1..n, so j = value - 1 and j - 1 (read when j > 0) are < n;
    // the writer's cursors stay inside their bucket's region (each region gets
    // exactly as many writes as it has slots); prefetches are hints.
    let chr = |i: usize| unsafe { t.get_unchecked(i).to_usize() };

    // ---- L pass: left to right
    crate::sais::bucket_starts(cnt, bkt);
    let ring = Ring::<I>::new();
    run_workers(2, 2, |next| match next() {
        Some(0) => {
            let _done = DoneOnDrop(&ring.reader_done.0);
            let mut rd = Reader::new(&ring);
            // suffix n - 1 follows the virtual sentinel: the first entry
            let j = n - 1;
            let c0 = chr(j);
            let v = if j > 0 && chr(j - 1) < c0 { I::from_usize(j).flip() } else { I::from_usize(j) };
            rd.push((v, I::from_usize(c0)));
            let (mut c, mut bend) = (0usize, cnt[0].to_usize());
            let mut lend = nl[0].to_usize();
            for i in 0..n {
                while i >= bend {
                    c += 1;
                    let bstart = bend;
                    bend += cnt[c].to_usize();
                    lend = bstart + nl[c].to_usize();
                }
                if i + PF < n {
                    let q = unsafe { I::load_shared(sp.ptr().add(i + PF)) };
                    if q.is_pos() {
                        prefetch(t.as_ptr().wrapping_add(q.to_usize().wrapping_sub(2)));
                    }
                }
                let e = if i < lend {
                    let e = rd.wait_filled(sp, i);
                    unsafe { I::store_shared(sp.ptr().add(i), e.flip()) };
                    e
                } else {
                    let e = unsafe { I::load_shared(sp.ptr().add(i)) };
                    unsafe { I::store_shared(sp.ptr().add(i), I::HOLE) };
                    e
                };
                if e.is_pos() {
                    let j = e.to_usize() - 1;
                    let c0 = chr(j);
                    let v = if j > 0 && chr(j - 1) < c0 { I::from_usize(j).flip() } else { I::from_usize(j) };
                    rd.push((v, I::from_usize(c0)));
                }
            }
            rd.publish();
        }
        Some(_) => {
            let bp = bkp.ptr();
            let mut c1 = 0usize;
            let mut b = unsafe { *bp }.to_usize();
            drain(&ring, |(v, c0), look| {
                if let Some(c) = look.bucket(PF) {
                    prefetch(bp.wrapping_add(c));
                }
                if let Some(c) = look.bucket(PF / 2) {
                    prefetch(sp.ptr().wrapping_add(unsafe { *bp.add(c) }.to_usize()));
                }
                let c0 = c0.to_usize();
                if c0 != c1 {
                    unsafe { *bp.add(c1) = I::from_usize(b) };
                    c1 = c0;
                    b = unsafe { *bp.add(c1) }.to_usize();
                }
                debug_assert!(b < n);
                unsafe { I::store_shared(sp.ptr().add(b), v) };
                b += 1;
            });
        }
        None => {}
    });

    // ---- S pass: right to left
    crate::sais::bucket_ends(cnt, bkt);
    let ring = Ring::<I>::new();
    run_workers(2, 2, |next| match next() {
        Some(0) => {
            let _done = DoneOnDrop(&ring.reader_done.0);
            let mut rd = Reader::new(&ring);
            let mut c = k - 1;
            let mut bstart = n - cnt[c].to_usize();
            let mut lend = bstart + nl[c].to_usize();
            for i in (0..n).rev() {
                while i < bstart {
                    c -= 1;
                    bstart -= cnt[c].to_usize();
                    lend = bstart + nl[c].to_usize();
                }
                if i >= PF {
                    let q = unsafe { I::load_shared(sp.ptr().add(i - PF)) };
                    if q.is_pos() {
                        prefetch(t.as_ptr().wrapping_add(q.to_usize().wrapping_sub(2)));
                    }
                }
                let e = if i >= lend { rd.wait_filled(sp, i) } else { unsafe { I::load_shared(sp.ptr().add(i)) } };
                if e.is_pos() {
                    let j = e.to_usize() - 1;
                    let c0 = chr(j);
                    let v = if j == 0 || chr(j - 1) > c0 { I::from_usize(j).flip() } else { I::from_usize(j) };
                    rd.push((v, I::from_usize(c0)));
                } else {
                    unsafe { I::store_shared(sp.ptr().add(i), e.flip()) };
                }
            }
            rd.publish();
        }
        Some(_) => {
            let bp = bkp.ptr();
            let mut c1 = 0usize;
            let mut b = unsafe { *bp }.to_usize();
            drain(&ring, |(v, c0), look| {
                if let Some(c) = look.bucket(PF) {
                    prefetch(bp.wrapping_add(c));
                }
                if let Some(c) = look.bucket(PF / 2) {
                    prefetch(sp.ptr().wrapping_add(unsafe { *bp.add(c) }.to_usize().wrapping_sub(1)));
                }
                let c0 = c0.to_usize();
                if c0 != c1 {
                    unsafe { *bp.add(c1) = I::from_usize(b) };
                    c1 = c0;
                    b = unsafe { *bp.add(c1) }.to_usize();
                }
                debug_assert!(b >= 1);
                b -= 1;
                unsafe { I::store_shared(sp.ptr().add(b), v) };
            });
        }
        None => {}
    });
}

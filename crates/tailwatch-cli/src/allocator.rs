//! The binary's global allocator: mimalloc for blocks under 4 MiB, the system's above.
//!
//! Why two. A short run (self-BLEU of 5,000 sentences: ~30 ms) spent a quarter of its time in
//! page faults: glibc returns freed blocks of a few MiB to the kernel and the next allocation
//! faults fresh pages in again. mimalloc keeps and reuses them (4,700 minor faults became 500;
//! the run 25-30 % faster). For the largest blocks glibc is the better of the two: it grows a
//! mapped block with `mremap` instead of copying it, and returns it to the kernel when freed,
//! so a profile of hundreds of MiB of n-gram tables runs as fast as before and peaks no higher
//! (with mimalloc alone it ran 15 % slower and held 5-15 % more). A block keeps its allocator
//! for life: both sides are chosen by the size in its `Layout`, which `dealloc` and `realloc`
//! receive, and a `realloc` across the threshold moves the block.
//!
//! Only the binary sets it: the library crates run on whatever allocator their host (Python,
//! a JVM, another binary) has.
#![allow(unsafe_code)] // implementing `GlobalAlloc` is unsafe; each call forwards a caller's contract

use std::alloc::{GlobalAlloc, Layout, System};

use mimalloc::MiMalloc;

/// Blocks of at least this many bytes come from the system allocator.
const LARGE: usize = 4 << 20;

/// mimalloc below [`LARGE`], the system allocator from it.
pub struct SplitAllocator;

// SAFETY: every method forwards to the allocator that owns the block, chosen by the block's
// size alone, so a block is always freed or resized by the allocator that made it; `realloc`
// across the threshold allocates from the other one, copies the smaller of the two sizes and
// frees the old block, as `GlobalAlloc::realloc`'s default does.
unsafe impl GlobalAlloc for SplitAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `layout` (non-zero size) is passed on unchanged
        unsafe { if layout.size() >= LARGE { System.alloc(layout) } else { MiMalloc.alloc(layout) } }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`
        unsafe {
            if layout.size() >= LARGE { System.alloc_zeroed(layout) } else { MiMalloc.alloc_zeroed(layout) }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated with `layout`, so by the allocator its size picks
        unsafe {
            if layout.size() >= LARGE { System.dealloc(ptr, layout) } else { MiMalloc.dealloc(ptr, layout) }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` was allocated with `layout` by the allocator its size picks; a block
        // that changes sides is copied into a new block of `new_size` bytes (a valid layout:
        // the caller guarantees `new_size` rounded to the alignment does not overflow)
        unsafe {
            match (layout.size() >= LARGE, new_size >= LARGE) {
                (true, true) => System.realloc(ptr, layout, new_size),
                (false, false) => MiMalloc.realloc(ptr, layout, new_size),
                _ => {
                    let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
                    let new = self.alloc(new_layout);
                    if !new.is_null() {
                        std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                        self.dealloc(ptr, layout);
                    }
                    new
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    /// Blocks that cross the threshold both ways keep their contents (this binary's tests run
    /// on this allocator, so every test exercises it; this one aims at the crossing).
    #[test]
    fn realloc_across_the_threshold_keeps_contents() {
        let mut v: Vec<u64> = (0..1000).collect();
        v.reserve_exact(super::LARGE); // small -> large
        assert_eq!(v.iter().sum::<u64>(), 999 * 1000 / 2);
        v.extend(0..(super::LARGE as u64 / 8));
        v.truncate(500);
        v.shrink_to_fit(); // large -> small
        assert_eq!(v, (0..500).collect::<Vec<u64>>());
        let zeroed = vec![0u8; super::LARGE + 1];
        assert!(zeroed.iter().all(|&b| b == 0));
    }
}

//! The process's memory allocator: mimalloc instead of the system's (glibc) malloc.
//!
//! A run allocates and frees small blocks at a high rate (object copies on every API
//! write, keys, event payloads); with glibc's malloc, `malloc`/`free` were about 30 % of
//! all instructions of the attach storm. Declared in the library so that the binary, the
//! benches and the tests all use it. Which allocator runs changes no output: nothing in
//! the library orders or hashes by address.
//!
//! Why not the `mimalloc` crate's own `MiMalloc`: it asks for every block with
//! `mi_malloc_aligned`, even at the word alignment that every mimalloc block has anyway.
//! In mimalloc 3 that call takes the free list of the size class only when its first
//! block happens to be aligned; when the list is empty it does not refill it but
//! over-allocates from a larger class (`mi_theap_malloc_zero_aligned_at_overalloc`,
//! ≈ 220 instructions, and a block of the wrong size). In the attach storm that was 34k
//! of 800k allocations. Rust's own `System` allocator makes the same choice as here:
//! plain `malloc` when the alignment is one the allocator always gives.

use core::alloc::{GlobalAlloc, Layout};
use core::ffi::c_void;
use libmimalloc_sys::{mi_free, mi_malloc, mi_malloc_aligned, mi_realloc, mi_realloc_aligned};
use libmimalloc_sys::{mi_zalloc, mi_zalloc_aligned};

/// Every mimalloc block is aligned to a machine word: its size classes are whole words
/// and its pages start aligned (`page-queue.c`, `mi_bin`).
const WORD_ALIGN: usize = core::mem::size_of::<usize>();

/// mimalloc, with plain `mi_malloc` for word-aligned (or less) layouts.
pub struct Allocator;

// SAFETY: every block comes from mimalloc with at least the layout's alignment (plain
// `mi_malloc` only when `align <= WORD_ALIGN`, which every block has) and is given back
// to mimalloc's `mi_free`, which takes blocks of either kind.
unsafe impl GlobalAlloc for Allocator {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: plain C calls; mimalloc returns null or a block of at least `size` bytes.
        unsafe {
            if layout.align() <= WORD_ALIGN {
                mi_malloc(layout.size()) as *mut u8
            } else {
                mi_malloc_aligned(layout.size(), layout.align()) as *mut u8
            }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as `alloc`.
        unsafe {
            if layout.align() <= WORD_ALIGN {
                mi_zalloc(layout.size()) as *mut u8
            } else {
                mi_zalloc_aligned(layout.size(), layout.align()) as *mut u8
            }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: `ptr` came from this allocator, so from mimalloc.
        unsafe { mi_free(ptr as *mut c_void) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` came from this allocator with `layout`; the new block keeps its
        // alignment as `alloc` would give it.
        unsafe {
            if layout.align() <= WORD_ALIGN {
                mi_realloc(ptr as *mut c_void, new_size) as *mut u8
            } else {
                mi_realloc_aligned(ptr as *mut c_void, new_size, layout.align()) as *mut u8
            }
        }
    }
}

#[global_allocator]
static GLOBAL: Allocator = Allocator;

#[cfg(test)]
mod tests {
    use super::*;

    /// Blocks of every small size and alignment come back aligned, zeroed when asked,
    /// and keep their bytes when grown.
    #[test]
    fn blocks_have_the_layouts_alignment() {
        let a = Allocator;
        for align in [1usize, 2, 4, 8, 16, 32, 64, 4096] {
            for size in [1usize, 3, 8, 12, 24, 40, 100, 1000, 5000, 70_000] {
                let layout = Layout::from_size_align(size, align).unwrap();
                // SAFETY: a non-zero layout; every block is freed with its layout.
                unsafe {
                    let p = a.alloc(layout);
                    assert!(!p.is_null());
                    assert_eq!(p as usize % align, 0, "size {size} align {align}");
                    p.write_bytes(0xab, size);
                    let q = a.realloc(p, layout, size * 3);
                    assert_eq!(q as usize % align, 0, "realloc {size} align {align}");
                    assert!((0..size).all(|i| *q.add(i) == 0xab));
                    a.dealloc(q, Layout::from_size_align(size * 3, align).unwrap());
                    let z = a.alloc_zeroed(layout);
                    assert_eq!(z as usize % align, 0);
                    assert!((0..size).all(|i| *z.add(i) == 0));
                    a.dealloc(z, layout);
                }
            }
        }
    }
}

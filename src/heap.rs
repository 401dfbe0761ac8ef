//! The wasm heap: a size-class allocator of a few hundred bytes, in place of dlmalloc's ~8 KB.
//!
//! The widget allocates little and briefly (strings, small vectors, one response at a time), so
//! a simple design is enough: every block is a power of two (8 B up to 2 GiB), a freed block goes
//! on its class's free list and is handed out again for the next request of that class. Blocks
//! are never split or merged, so memory use settles at the high-water mark of each class; a
//! show/destroy loop reuses the same blocks instead of growing. New blocks are bumped from
//! pages taken with `memory.grow`.

/// Number of size classes: class `c` holds blocks of `1 << c` bytes.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
const CLASSES: usize = 32;

/// The class whose blocks fit `size` bytes at `align`: the smallest power of two at least as
/// large as both (and at least 8, room for the free-list link). Blocks of class `c` are then
/// aligned to `align` by construction.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
fn class(size: usize, align: usize) -> usize {
    let need = size.max(align).max(8);
    (usize::BITS - (need - 1).leading_zeros()) as usize
}

#[cfg(target_arch = "wasm32")]
pub(crate) use wasm::Heap;

#[cfg(target_arch = "wasm32")]
mod wasm {
    use core::alloc::{GlobalAlloc, Layout};
    use core::arch::wasm32::memory_grow;
    use core::cell::UnsafeCell;
    use core::ptr::{self, null_mut};

    use super::{class, CLASSES};

    const PAGE: usize = 65_536;

    struct State {
        /// Head of each class's free list; a free block's first word points to the next.
        free: [*mut u8; CLASSES],
        /// The bump region: `next..end` is untouched memory.
        next: usize,
        end: usize,
    }

    /// The global allocator of the wasm build.
    pub(crate) struct Heap(UnsafeCell<State>);

    // SAFETY: wasm32-unknown-unknown without the atomics feature runs one thread; nothing can
    // reach the state concurrently.
    unsafe impl Sync for Heap {}

    impl Heap {
        pub(crate) const fn new() -> Heap {
            Heap(UnsafeCell::new(State {
                free: [null_mut(); CLASSES],
                next: 0,
                end: 0,
            }))
        }
    }

    unsafe impl GlobalAlloc for Heap {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            let c = class(layout.size(), layout.align());
            if c >= CLASSES {
                return null_mut();
            }
            // SAFETY: single-threaded (see `Sync`), and no allocator call re-enters another.
            let s = unsafe { &mut *self.0.get() };
            let align = layout.align();
            let head = s.free[c];
            if !head.is_null() && head as usize % align == 0 {
                // SAFETY: `head` is a freed block of class `c`, whose first word we wrote.
                s.free[c] = unsafe { *head.cast::<*mut u8>() };
                return head;
            }
            let size = 1usize << c;
            loop {
                let start = (s.next + align - 1) & !(align - 1);
                if let Some(end) = start.checked_add(size).filter(|&e| e <= s.end) {
                    s.next = end;
                    return start as *mut u8;
                }
                let pages = (size + align).div_ceil(PAGE);
                let before = memory_grow(0, pages);
                if before == usize::MAX {
                    return null_mut();
                }
                let base = before * PAGE;
                if base != s.end {
                    // Not contiguous with our region (the first call, or someone else grew
                    // memory): start a new region there.
                    s.next = base;
                }
                s.end = base + pages * PAGE;
            }
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            let c = class(layout.size(), layout.align());
            // SAFETY: as in `alloc`; `ptr` is a live block of class `c` (at least 8 bytes,
            // aligned to 4 at least) that the caller gives back.
            unsafe {
                let s = &mut *self.0.get();
                *ptr.cast::<*mut u8>() = s.free[c];
                s.free[c] = ptr;
            }
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            if class(new_size, layout.align()) == class(layout.size(), layout.align()) {
                return ptr;
            }
            // SAFETY: the caller guarantees `layout` describes `ptr` and `new_size` is valid
            // for `layout.align()`.
            unsafe {
                let new = Layout::from_size_align_unchecked(new_size, layout.align());
                let moved = self.alloc(new);
                if !moved.is_null() {
                    ptr::copy_nonoverlapping(ptr, moved, layout.size().min(new_size));
                    self.dealloc(ptr, layout);
                }
                moved
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::class;

    #[test]
    fn classes_are_the_next_power_of_two_of_size_or_align() {
        for (size, align, expected) in [
            (0, 1, 3),
            (1, 1, 3),
            (8, 8, 3),
            (9, 1, 4),
            (16, 4, 4),
            (17, 4, 5),
            (4, 32, 5),
            (1000, 8, 10),
            (1024, 8, 10),
            (1025, 8, 11),
            (65_536, 8, 16),
        ] {
            assert_eq!(class(size, align), expected, "size {size} align {align}");
        }
    }
}

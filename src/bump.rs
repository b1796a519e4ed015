//! The component's allocator: a bump allocator that starts over whenever
//! nothing is allocated.
//!
//! Every call into the component allocates its arguments, its working data
//! and its result, and the host frees the result right after the call (the
//! canonical ABI's post-return). No allocation outlives that, so when the
//! count of live blocks falls to zero the whole heap is free and the next
//! allocation starts again at the bottom. Within a call, freeing the newest
//! block gives its space back and growing the newest block grows it in place
//! (a `Vec` being filled, or the body being written), so the heap stays close
//! to what the call needs at its peak. Compared with dlmalloc this saves the
//! bookkeeping on every allocation and every free (benchmarks issue; numbers
//! in bench/NOTES.md).
//!
//! The component runs on one thread (wasm32 without threads), so the state
//! needs no lock.

use core::alloc::{GlobalAlloc, Layout};
use core::arch::wasm32;
use core::cell::UnsafeCell;

const PAGE: usize = 65536;

struct State {
    /// The bottom of the heap: the end of memory when the first block was asked for.
    base: usize,
    /// The next free byte.
    top: usize,
    /// The end of memory.
    end: usize,
    /// Blocks allocated and not yet freed.
    live: usize,
}

struct Bump(UnsafeCell<State>);

// SAFETY: wasm32 without the threads proposal has one thread.
unsafe impl Sync for Bump {}

#[global_allocator]
static ALLOCATOR: Bump = Bump(UnsafeCell::new(State {
    base: 0,
    top: 0,
    end: 0,
    live: 0,
}));

impl State {
    /// Makes `[top, top + size)` fit in memory, growing it; false when memory is out.
    fn fit(&mut self, start: usize, size: usize) -> bool {
        let Some(need) = start.checked_add(size) else {
            return false;
        };
        if need <= self.end {
            return true;
        }
        let pages = (need - self.end).div_ceil(PAGE);
        if wasm32::memory_grow(0, pages) == usize::MAX {
            return false;
        }
        self.end += pages * PAGE;
        true
    }

    // Out of line: inlined into every drop it costs more code than time.
    #[inline(never)]
    fn alloc(&mut self, layout: Layout) -> *mut u8 {
        if self.end == 0 {
            // First use: the heap is everything above the memory the module
            // starts with (its data and its stack).
            self.end = wasm32::memory_size(0) * PAGE;
            self.base = self.end;
            self.top = self.end;
        }
        if self.live == 0 {
            self.top = self.base;
        }
        let start = match self.top.checked_add(layout.align() - 1) {
            Some(x) => x & !(layout.align() - 1),
            None => return core::ptr::null_mut(),
        };
        if !self.fit(start, layout.size()) {
            return core::ptr::null_mut();
        }
        self.top = start + layout.size();
        self.live += 1;
        start as *mut u8
    }

    #[inline(never)]
    fn dealloc(&mut self, ptr: *mut u8, layout: Layout) {
        self.live -= 1;
        if ptr as usize + layout.size() == self.top {
            self.top = ptr as usize;
        }
    }
}

unsafe impl GlobalAlloc for Bump {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: one thread, and no reference to the state outlives this call.
        unsafe { (*self.0.get()).alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { (*self.0.get()).dealloc(ptr, layout) }
    }

    #[inline(never)]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as above; the caller guarantees `ptr` is a live block of `layout`.
        let s = unsafe { &mut *self.0.get() };
        if ptr as usize + layout.size() == s.top {
            // The newest block: grow or shrink it where it is.
            if !s.fit(ptr as usize, new_size) {
                return core::ptr::null_mut();
            }
            s.top = ptr as usize + new_size;
            return ptr;
        }
        if new_size <= layout.size() {
            return ptr;
        }
        // SAFETY: `layout.align()` is a valid alignment and `new_size` is non-zero.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        let new = s.alloc(new_layout);
        if !new.is_null() {
            // SAFETY: both blocks are live and distinct, the old one holds `layout.size()` bytes.
            unsafe { core::ptr::copy_nonoverlapping(ptr, new, layout.size()) };
            s.dealloc(ptr, layout);
        }
        new
    }
}

"""Freed memory kept for reuse, so each batch's activations land on pages already mapped.

glibc returns large freed blocks to the operating system at once (mmapped ones, and the heap's top when more
than twice the last such block is free), so every batch of `handclip predict` faults fresh zeroed pages in:
200 frames at 256 px (batch 8) took 5.0 s of CPU, a fifth in the kernel, instead of 4.2 s. Fixed mmap and
trim thresholds (mallopt) keep them in the heap for the next batch. Only allocations of the calling thread's arena are
helped: one PyTorch thread (predict's default on 2 cores) allocates in the main arena.
"""

from __future__ import annotations

import ctypes
import sys

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)
MMAP_THRESHOLD = 256 << 20  # blocks below this come from the heap (dg_clip/cpu, batch 8: 17 MB at most)
TRIM_THRESHOLD = 1 << 30  # the heap is shrunk only when more than this is free at its top


def keep_freed_memory() -> bool:
    """Ask glibc to serve blocks below 256 MB from the heap and to shrink it only above 1 GB free; True when it
    took effect (False elsewhere than Linux with glibc, where nothing changes)."""
    if not sys.platform.startswith("linux"):
        return False
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)  # the process's own C library
    if mallopt is None:  # musl and others have none
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))

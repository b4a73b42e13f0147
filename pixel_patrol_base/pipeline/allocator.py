"""Keep freed memory in the process for reuse, instead of handing it back at once.

The per-plane processors allocate arrays of a plane's size (megabytes) for every image.
glibc serves blocks that large with ``mmap`` and unmaps them on ``free``, so each new
array costs a page fault per 4 KiB when first written, a third of a plane's compute time
for 1024×1024 images. A shard job therefore raises glibc's mmap and trim thresholds:
blocks up to :data:`KEEP_BYTES` come from the heap and go back to it, already mapped.
Larger blocks (planes of large images) are still mapped and unmapped one by one, so a
job's memory stays bounded by its budget. Elsewhere than glibc nothing changes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)

KEEP_BYTES = 256 * 2**20
"""Blocks up to this size are reused from the heap."""
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds; whether it took effect."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):  # not glibc (musl, macOS)
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    done = bool(mallopt(_M_MMAP_THRESHOLD, KEEP_BYTES)) and bool(
        mallopt(_M_TRIM_THRESHOLD, 2 * KEEP_BYTES)
    )
    log.debug("mallopt thresholds raised: %s", done)
    return done

"""Keep freed memory in the process for reuse, instead of handing it back at once.

The per-plane processors allocate arrays of a plane's size (megabytes) for every image.
glibc serves blocks that large with ``mmap`` and unmaps them on ``free``, so each new
array costs a page fault per 4 KiB when first written, a third of a plane's compute time
for 1024×1024 images. A shard job therefore raises glibc's mmap threshold to its memory
budget (``mb_per_task``): blocks up to that size come from the heap and go back to it,
already mapped, and the heap keeps up to twice that much free memory. Larger blocks
(whole planes of very large images) are still mapped and unmapped one by one. Elsewhere
than glibc nothing changes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)

MAX_KEEP_BYTES = 1 << 30
"""The threshold never exceeds this, whatever the budget."""
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def keep_freed_memory(budget_bytes: int) -> bool:
    """Let blocks up to ``budget_bytes`` be reused from the heap; whether it took effect."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):  # not glibc (musl, macOS)
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    keep = max(1, min(int(budget_bytes), MAX_KEEP_BYTES))
    done = bool(mallopt(_M_MMAP_THRESHOLD, keep)) and bool(mallopt(_M_TRIM_THRESHOLD, 2 * keep))
    log.debug("mallopt thresholds raised: %s", done)
    return done

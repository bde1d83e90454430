"""One small thread pool shared by the readers and the validation of large layers.

Arrow, numpy and GEOS release the GIL, so on a multi-core machine the WKB validity pre-check, the
attribute checks and the duplicate-id hashing of a large layer run while the main thread parses
geometries or checks them. Small layers never use it.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

__all__ = ["pool", "THREAD_MIN_ROWS"]

#: layers with at least this many rows use the pool
THREAD_MIN_ROWS = 50_000
_POOL: tuple[int, ThreadPoolExecutor] | None = None


def pool() -> ThreadPoolExecutor:
    """The pool of this process.

    A process forked from one whose pool had started its threads has a pool of its own: threads
    are not forked, and work given to the parent's pool there would wait forever.
    """
    global _POOL
    if _POOL is None or _POOL[0] != os.getpid():
        # three: the attribute checks and the duplicate ids of a layer may hold two while the
        # geometry checks split their GEOS validity test with a third
        _POOL = (os.getpid(), ThreadPoolExecutor(max_workers=3,
                                                 thread_name_prefix="zlgis-validate"))
    return _POOL[1]

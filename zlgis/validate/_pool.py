"""One small thread pool shared by the readers and the validation of large layers.

Arrow, numpy and GEOS release the GIL, so on a multi-core machine the WKB validity pre-check, the
attribute checks and the duplicate-id hashing of a large layer run while the main thread parses
geometries or checks them. Small layers never use it.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

__all__ = ["POOL", "THREAD_MIN_ROWS"]

# three: the attribute checks and the duplicate ids of a layer may hold two while the geometry
# checks split their GEOS validity test with a third
POOL = ThreadPoolExecutor(max_workers=3, thread_name_prefix="zlgis-validate")
#: layers with at least this many rows use the pool
THREAD_MIN_ROWS = 50_000

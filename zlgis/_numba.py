"""numba's ``njit`` when numba is importable, else a no-op decorator (plain Python fallback).

numba is a dependency; the fallback only keeps modules importable where it is broken, and the
callers then take their NumPy/SciPy reference paths (``HAVE_NUMBA`` is False).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

__all__ = ["njit", "HAVE_NUMBA", "compiled_on_first_call"]

try:
    from numba import njit

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover - exercised only without numba
    HAVE_NUMBA = False

    def njit(*args: Any, **kwargs: Any) -> Any:  # type: ignore[no-redef]
        if args and callable(args[0]):
            return args[0]
        return lambda f: f


@contextlib.contextmanager
def compiled_on_first_call() -> Iterator[None]:
    """Within the block, ``numba.njit(signature)`` compiles nothing at once: the function is
    compiled when it is first called, for the types it is called with (numba's lazy mode).

    For importing a library that compiles its kernels while it is imported: mapclassify
    compiles its Fisher-Jenks kernel (``@njit("f8[:](f8[:], u2)")``, not cached) on every
    import, 3.3 s, though the natural-breaks and quantile schemes never call it.

    >>> import numba
    >>> with compiled_on_first_call():
    ...     double = numba.njit("f8(f8)")(lambda x: 2 * x)
    >>> double.signatures, double(2.0), len(double.signatures)
    ([], 4.0, 1)
    """
    if not HAVE_NUMBA:
        yield
        return
    import numba

    eager = numba.njit

    def lazy(*args: Any, **kwargs: Any) -> Any:
        if args and not callable(args[0]):  # a signature: left to the first call
            return eager(**kwargs)
        return eager(*args, **kwargs)

    numba.njit = lazy
    try:
        yield
    finally:
        numba.njit = eager

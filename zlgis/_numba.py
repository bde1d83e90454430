"""numba's ``njit`` when numba is importable, else a no-op decorator (plain Python fallback).

numba is a dependency; the fallback only keeps modules importable where it is broken, and the
callers then take their NumPy/SciPy reference paths (``HAVE_NUMBA`` is False).
"""

from __future__ import annotations

from typing import Any

__all__ = ["njit", "HAVE_NUMBA"]

try:
    from numba import njit

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover - exercised only without numba
    HAVE_NUMBA = False

    def njit(*args: Any, **kwargs: Any) -> Any:  # type: ignore[no-redef]
        if args and callable(args[0]):
            return args[0]
        return lambda f: f

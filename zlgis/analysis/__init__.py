"""Analysed: pure functions, layers in, findings out.

Every check that feeds the weekly ledger exposes ``run_check(catalog, layers, *, as_of=None)``
returning a findings GeoDataFrame (:mod:`zlgis.findings`). :data:`CHECKS` names them, read from
the rule registry (:mod:`zlgis.rules`: every ``config/rules/<check>.yaml`` with a ``run:``
adapter, in ``order:``); they are imported lazily so that one check's optional heavy
dependencies do not slow the others.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

__all__ = ["CHECKS", "get_check"]


def _registered() -> dict[str, str]:
    from ..rules import checks

    return {c.name: c.run for c in checks(weekly_only=True)}


#: Checks run by the weekly job, in registry order (``order:``): name -> "module:function".
CHECKS: dict[str, str] = _registered()


def get_check(name: str) -> Callable[..., Any]:
    """Import and return the ``run_check`` function of check ``name``.

    In a worker process of the weekly run, a check module imported for the first time (with
    numba's, SciPy's ... modules: ~100,000 objects) is frozen out of the garbage collector's full
    passes, which the worker otherwise repeats over them during its checks; garbage left by the
    worker's earlier checks is collected first, so none of it is kept.
    """
    import sys

    module, func = CHECKS[name].split(":")
    if module in sys.modules:
        return getattr(sys.modules[module], func)
    import gc
    import multiprocessing

    worker = multiprocessing.parent_process() is not None
    if worker:
        gc.collect()
    fn = getattr(importlib.import_module(module), func)
    if worker:
        gc.freeze()
    return fn

"""Analysed: pure functions, layers in, findings out.

Every check that feeds the weekly ledger exposes ``run_check(catalog, layers, *, as_of=None)``
returning a findings GeoDataFrame (:mod:`zlgis.findings`). :data:`CHECKS` names them; they are
imported lazily so that one check's optional heavy dependencies do not slow the others.
Checks registered in the rule registry (:mod:`zlgis.rules`, ``config/rules/<check>.yaml`` with a
``run:`` adapter) join :data:`CHECKS` in their registry order.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

__all__ = ["CHECKS", "get_check"]

#: Checks run by the weekly job, in order: name -> "module:function".
CHECKS: dict[str, str] = {
    "controllines": "zlgis.analysis.controllines:run_check",
    "coverage": "zlgis.analysis.coverage:run_check",
    "waterlogging": "zlgis.analysis.waterlogging:run_check",
    "trucks": "zlgis.analysis.trucks:run_check",
}


def _registered() -> None:
    from ..rules import checks

    for c in checks(weekly_only=True):
        CHECKS.setdefault(c.name, c.run)


_registered()


def get_check(name: str) -> Callable[..., Any]:
    """Import and return the ``run_check`` function of check ``name``."""
    module, func = CHECKS[name].split(":")
    return getattr(importlib.import_module(module), func)

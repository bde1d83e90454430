"""What cannot run, and why: rules whose layers or fields are missing.

Every rule of the registry (:mod:`zlgis.rules`) lists what it needs (layer ids, or
``layer.field``). :func:`skipped_rules` compares those needs with the layers a run has loaded;
the weekly run, every command and ``zlgis layers`` report the result with
:func:`zlgis.rules.skip_message` ("未检查：货车禁停（缺少图层 truck_pings）"), so a missing layer
is never a silent zero.

Examples
--------
>>> from zlgis.rules import Rule
>>> r = Rule(id="x", check="lamps", task_ids=("2.1.5",), title="路灯故障", label="路灯故障",
...          source="plan", needs=("street_lamps.status",))
>>> import pandas as pd
>>> [(rule.id, miss) for rule, miss in skipped_rules({"street_lamps": pd.DataFrame({"a": []})},
...                                                  rules=[r])]
[('x', ['street_lamps.status'])]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .rules import Rule, missing_needs, skip_message
from .rules import rules as _all_rules

__all__ = ["skipped_rules", "skip_lines", "disabled_rules", "disabled_checks"]


def skipped_rules(layers: Mapping[str, Any], *, checks: Iterable[str] | None = None,
                  rules: Iterable[Rule] | None = None) -> list[tuple[Rule, list[str]]]:
    """Rules (of ``checks``, default all registered) whose needs ``layers`` does not meet."""
    pool = list(rules) if rules is not None else [
        r for r in _all_rules() if checks is None or r.check in set(checks)]
    out = []
    for r in pool:
        miss = missing_needs(r, layers)
        if miss:
            out.append((r, miss))
    return out


def skip_lines(layers: Mapping[str, Any], *, checks: Iterable[str] | None = None) -> list[str]:
    """One Chinese line per rule that cannot run (:func:`zlgis.rules.skip_message`)."""
    return [skip_message(r, miss) for r, miss in skipped_rules(layers, checks=checks)]


def disabled_rules(missing: Iterable[str]) -> dict[str, list[Rule]]:
    """Missing layer id -> the registered rules that need it."""
    return {lid: [r for r in _all_rules() if any(n.partition(".")[0] == lid for n in r.needs)]
            for lid in missing}


def disabled_checks(catalog: Any, missing: Iterable[str]) -> list[str]:
    """For each missing layer id, one Chinese line naming the rules it disables (titles from
    ``catalog``, else from the shipped catalog, which is read only when needed)."""
    from .catalog import Catalog

    default: dict[str, Any] | None = None  # the shipped catalog, read only when a title is missing
    lines = []
    for lid, hit_rules in disabled_rules(missing).items():
        hit = [r.label for r in hit_rules]
        spec = catalog.layers.get(lid)
        if spec is None:
            default = Catalog.load().layers if default is None else default
            spec = default.get(lid)
        title = spec.title if spec is not None else lid
        if hit:
            lines.append(f"缺少图层 {lid}（{title}）：以下检查不能运行：{'、'.join(hit)}")
        else:
            lines.append(f"缺少图层 {lid}（{title}）")
    return lines

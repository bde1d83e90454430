"""The rule registry: every rule zlgis checks, defined once.

Each check owns one YAML file ``zlgis/config/rules/<check>.yaml``. It names the check, the adapter
that runs it (``run: module:function`` with the signature ``run_check(catalog, layers, *,
as_of=None) -> findings``) and its rules. A rule carries its id, the campaign task ids, the
Chinese title and short label staff see, its source (standard, clause) and confidence, severity,
whether it may appear on the public map, the layers (and fields) it needs and those it reads
when the catalog has them (``uses``: the weekly run loads them before starting it), the digital
city-management event codes and, optionally, its rectification deadline. Lead and cooperating
departments come from the rule's first task in ``departments.yaml``.

Checks, ledger, Excel, maps, summary and notebooks all read rules from here; a new check adds its
file and nothing else. A bureau overrides a rule's values (not its id) in
``$ZLGIS_CONFIG_DIR/rules/<check>.yaml``, merged key by key.

File format::

    check: controllines
    title: 规划控制线检查
    run: zlgis.analysis.controllines:run_check
    order: 10                         # position in the weekly run
    graphs: [walk]                    # optional: street graphs of the roads it builds
    coordinates: [sweeper_tracks]     # optional: point layers it reads by coordinates only
    rules:
      red_line_encroachment:
        task_ids: ["1.3.3"]
        title: 建筑压占道路红线        # full title (Excel, popups)
        label: 压占红线                # short label (legends, charts)
        source: "GB 50352-2019 §2.0.6"
        confidence: standard           # standard | plan | secondary | example
        severity: high                 # high | medium | low
        public: false
        needs: [buildings, road_red_lines]   # layer ids, or "layer.field"
        uses: [construction_sites]           # optional: layers read when the catalog has them
        event_code_old: "01-01"
        event_code_new: "06001"
        deadline: {date: "2022-10-31"}       # or {days: N} / {hours: N}; optional

Examples
--------
>>> r = Rule(id="demo", check="demo", task_ids=("2.1.5",), title="路灯故障超时未修复",
...          label="路灯超时", source="扎政办字〔2022〕51号 任务2.1.5", needs=("street_lamps",))
>>> missing_needs(r, {"buildings": None})
['street_lamps']
>>> skip_message(r, ["street_lamps"])
'未检查：路灯超时（缺少图层 street_lamps）'
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from .config import CONFIG_DIR, config_override_dir, department_name, read_yaml, task_routing
from .errors import ConfigError

__all__ = [
    "GRAPHS",
    "Rule",
    "Check",
    "RULES_DIR",
    "checks",
    "load_registry",
    "get_check",
    "rule",
    "find_rule",
    "rules",
    "layers_read",
    "missing_needs",
    "skip_message",
    "SKIP_PREFIX",
    "is_skip_line",
]

RULES_DIR = CONFIG_DIR / "rules"
SEVERITIES = ("high", "medium", "low")
CONFIDENCES = ("standard", "plan", "secondary", "example")
_RULE_KEYS = {"task_ids", "title", "label", "source", "confidence", "severity", "public",
              "needs", "uses", "event_code_old", "event_code_new", "layer_event_codes", "deadline"}
_DEADLINE_KINDS = ("date", "days", "hours")
_DEADLINE_NOTES = ("source", "confidence")
_CHECK_KEYS = {"check", "title", "run", "order", "graphs", "coordinates", "rules"}
#: The street graphs a check may declare (``graphs:``): the walking and the driving network of
#: the ``roads`` layer (:meth:`zlgis.analysis.street_graph.StreetGraph.from_roads`).
GRAPHS = ("walk", "drive")


@dataclass(frozen=True)
class Rule:
    """One rule: what it checks, where it comes from and who acts on it."""

    id: str
    check: str
    task_ids: tuple[str, ...]
    title: str
    label: str
    source: str
    confidence: str = "example"
    severity: str = "medium"
    public: bool = False
    needs: tuple[str, ...] = ()
    #: layers the rule also reads when the catalog has them (it runs without them)
    uses: tuple[str, ...] = ()
    event_code_old: str = ""
    event_code_new: str = ""
    deadline: Mapping[str, Any] | None = None
    layer_event_codes: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def event_codes(self, layer: str | None = None) -> tuple[str, str]:
        """``(event_code_old, event_code_new)`` for findings on ``layer``.

        A rule whose code depends on the layer (an unpermitted building is 私搭乱建, an
        unpermitted construction site 无证建设) lists the exceptions under ``layer_event_codes``.
        """
        codes = self.layer_event_codes.get(layer or "", {})
        return (str(codes.get("event_code_old", self.event_code_old)),
                str(codes.get("event_code_new", self.event_code_new)))

    @property
    def task_id(self) -> str:
        """The main campaign task (the first of :attr:`task_ids`)."""
        return self.task_ids[0] if self.task_ids else ""

    @property
    def lead(self) -> tuple[str, ...]:
        """Lead department codes, from the main task in ``departments.yaml``."""
        return tuple(task_routing(self.task_id).get("lead", [])) if self.task_id else ()

    @property
    def coop(self) -> tuple[str, ...]:
        """Cooperating department codes, from the main task in ``departments.yaml``."""
        return tuple(task_routing(self.task_id).get("coop", [])) if self.task_id else ()

    @property
    def lead_names(self) -> tuple[str, ...]:
        """Chinese names of the lead departments."""
        return tuple(department_name(c) for c in self.lead)


@dataclass(frozen=True)
class Check:
    """A check of the weekly run: its adapter and its rules."""

    name: str
    title: str
    run: str
    order: int
    rules: tuple[Rule, ...] = field(default=())
    #: street graphs of the ``roads`` layer the check builds (:data:`GRAPHS`): the weekly run
    #: builds them once before its workers start, and every check shares them
    graphs: tuple[str, ...] = ()
    #: point layers the check reads by their coordinates only: its adapter takes each of them
    #: as a GeoDataFrame or as a plain frame with ``x`` and ``y`` columns, which the weekly run
    #: hands it when no other check or map needs the points (:func:`zlgis.weekly.run_weekly`)
    coordinates: tuple[str, ...] = ()

    def function(self) -> Callable[..., Any]:
        """Import and return the adapter ``run_check(catalog, layers, *, as_of=None)``."""
        module, func = self.run.split(":")
        return getattr(importlib.import_module(module), func)


def _merge(base: dict[str, Any], over: Mapping[str, Any], path: str) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        # a deadline is one of date/days/hours: an override replaces it whole
        if key != "deadline" and isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(dict(out[key]), value, path)
        else:
            out[key] = value
    return out


def _parse_rule(check: str, rid: str, spec: Any, path: str) -> Rule:
    if not isinstance(spec, Mapping):
        raise ConfigError(f"规则 {rid} 应为映射", path=path, field=rid)
    unknown = set(spec) - _RULE_KEYS
    if unknown:
        raise ConfigError(f"规则 {rid} 含未知键：{', '.join(sorted(map(str, unknown)))}",
                          path=path, field=rid)
    for key in ("task_ids", "title", "label", "source"):
        if not spec.get(key):
            raise ConfigError(f"规则 {rid} 缺少 {key}", path=path, field=f"{rid}.{key}")
    severity = str(spec.get("severity", "medium"))
    if severity not in SEVERITIES:
        raise ConfigError(f"规则 {rid} 的 severity 应为 {'/'.join(SEVERITIES)}", path=path,
                          field=f"{rid}.severity")
    confidence = str(spec.get("confidence", "example"))
    if confidence not in CONFIDENCES:
        raise ConfigError(f"规则 {rid} 的 confidence 应为 {'/'.join(CONFIDENCES)}", path=path,
                          field=f"{rid}.confidence")
    deadline = spec.get("deadline")
    if deadline is not None and (
            not isinstance(deadline, Mapping)
            or len([k for k in deadline if k in _DEADLINE_KINDS]) != 1
            or set(deadline) - set(_DEADLINE_KINDS) - set(_DEADLINE_NOTES)):
        raise ConfigError(f"规则 {rid} 的 deadline 应为 date/days/hours 之一（可附 source、confidence）",
                          path=path, field=f"{rid}.deadline")
    layer_codes = spec.get("layer_event_codes") or {}
    if not isinstance(layer_codes, Mapping) or not all(
            isinstance(v, Mapping) and set(v) <= {"event_code_old", "event_code_new"}
            for v in layer_codes.values()):
        raise ConfigError(f"规则 {rid} 的 layer_event_codes 应为 图层 -> {{event_code_old, "
                          f"event_code_new}}", path=path, field=f"{rid}.layer_event_codes")
    return Rule(
        id=rid, check=check, task_ids=tuple(str(t) for t in spec["task_ids"]),
        title=str(spec["title"]), label=str(spec["label"]), source=str(spec["source"]),
        confidence=confidence, severity=severity, public=bool(spec.get("public", False)),
        needs=tuple(str(n) for n in spec.get("needs", ())),
        uses=tuple(str(n) for n in spec.get("uses", ())),
        event_code_old=str(spec.get("event_code_old", "") or ""),
        event_code_new=str(spec.get("event_code_new", "") or ""),
        deadline=dict(deadline) if deadline else None,
        layer_event_codes={str(k): {c: str(x or "") for c, x in v.items()}
                           for k, v in layer_codes.items()},
    )


def _read_check(path: Path, override: Path | None) -> Check:
    data = read_yaml(path)
    if override is not None and (override / "rules" / path.name).exists():
        data = _merge(data, read_yaml(override / "rules" / path.name), str(path))
    unknown = set(data) - _CHECK_KEYS
    if unknown:
        raise ConfigError(f"未知键：{', '.join(sorted(map(str, unknown)))}", path=str(path))
    name = str(data.get("check") or path.stem)
    if name != path.stem:
        raise ConfigError(f"check 名称 {name} 应与文件名 {path.stem} 一致", path=str(path))
    rules_spec = data.get("rules") or {}
    rules_ = tuple(_parse_rule(name, str(rid), spec, str(path)) for rid, spec in rules_spec.items())
    graphs = data.get("graphs") or []
    if not isinstance(graphs, list) or not all(g in GRAPHS for g in graphs):
        raise ConfigError(f"graphs 应为 {'、'.join(GRAPHS)} 组成的列表：{graphs!r}", path=str(path),
                          field="graphs")
    coords = data.get("coordinates") or []
    if not isinstance(coords, list) or not all(isinstance(c, str) and c for c in coords):
        raise ConfigError(f"coordinates 应为图层编号组成的列表：{coords!r}", path=str(path),
                          field="coordinates")
    return Check(name=name, title=str(data.get("title", name)), run=str(data.get("run", "")),
                 order=int(data.get("order", 100)), rules=rules_, graphs=tuple(graphs),
                 coordinates=tuple(coords))


@lru_cache(maxsize=8)
def load_registry(folder: Path = RULES_DIR, override: Path | None = None
                  ) -> tuple[tuple[Check, ...], dict[str, Rule]]:
    """Read and check every ``<check>.yaml`` in ``folder`` (with a bureau's ``override`` folder).

    Returns the checks in run order and the rules by id. A malformed file, an unknown key, a
    rule without task, title, label or source, or a rule id defined twice is a
    :class:`~zlgis.errors.ConfigError` naming the file and the rule.
    """
    found = sorted((_read_check(p, override) for p in sorted(Path(folder).glob("*.yaml"))),
                   key=lambda c: (c.order, c.name))
    by_id: dict[str, Rule] = {}
    for c in found:
        for r in c.rules:
            if r.id in by_id:
                raise ConfigError(f"规则编号 {r.id} 在 {by_id[r.id].check} 与 {c.name} 中重复定义",
                                  path=str(Path(folder) / f"{c.name}.yaml"), field=r.id)
            by_id[r.id] = r
    return tuple(found), by_id


def _current() -> tuple[tuple[Check, ...], dict[str, Rule]]:
    return load_registry(RULES_DIR, config_override_dir())


def checks(*, weekly_only: bool = False) -> tuple[Check, ...]:
    """Every registered check in run order (``weekly_only``: those with an adapter)."""
    found = _current()[0]
    return tuple(c for c in found if c.run) if weekly_only else found


def get_check(name: str) -> Check:
    """The check called ``name``."""
    for c in checks():
        if c.name == name:
            return c
    raise ConfigError(f"未知的检查：{name}（可用：{', '.join(c.name for c in checks())}）")


def rule(rule_id: str) -> Rule:
    """The rule with id ``rule_id``: its title, label, source, severity, task and departments.

    Parameters
    ----------
    rule_id : str
        The rule id, as in a finding's ``rule`` column.

    Returns
    -------
    Rule

    Raises
    ------
    ConfigError
        When no ``config/rules/<check>.yaml`` registers the id.

    Examples
    --------
    >>> import zlgis as zl
    >>> ids = [r.id for r in zl.rules()]
    >>> all(zl.rule(i).id == i for i in ids)
    True
    >>> zl.rule("no_such_rule")
    Traceback (most recent call last):
    zlgis.errors.ConfigError: 规则 no_such_rule 未在 zlgis/config/rules/ 中登记
    """
    by_id = _current()[1]
    if rule_id not in by_id:
        raise ConfigError(f"规则 {rule_id} 未在 zlgis/config/rules/ 中登记")
    return by_id[rule_id]


def find_rule(rule_id: str) -> Rule | None:
    """The rule with id ``rule_id``, or None when it is not registered."""
    return _current()[1].get(rule_id)


def rules(check: str | None = None) -> tuple[Rule, ...]:
    """Every registered rule (of one check when ``check`` is given), in run order.

    Parameters
    ----------
    check : str, optional
        A check name (``controllines``, ``coverage`` ...); default every check.

    Returns
    -------
    tuple of Rule

    Examples
    --------
    >>> import zlgis as zl
    >>> table = [(r.check, r.id, r.label, r.source) for r in zl.rules()]
    >>> all(check and rid and label and source for check, rid, label, source in table)
    True
    """
    return tuple(r for c in checks() if check in (None, c.name) for r in c.rules)


def layers_read(check: str) -> set[str]:
    """Ids of the layers the registered rules of ``check`` need or use (none: unregistered).

    A rule's ``needs`` or ``uses`` entry ``layer.field`` names its layer.

    >>> sorted(layers_read("water"))
    ['buildings', 'construction_sites', 'hotline_cases', 'water_source_zones']
    >>> layers_read("no_such_check")
    set()
    """
    return {x.partition(".")[0] for r in rules(check) for x in r.needs + r.uses}


def missing_needs(r: Rule, layers: Mapping[str, Any]) -> list[str]:
    """Needs of ``r`` that ``layers`` (layer id -> frame) does not meet.

    A need is a layer id, or ``layer.field`` for a column the layer must have. A layer that is
    absent is named once as the layer, not by its fields (``residential_compounds``, not
    ``residential_compounds.fee_disclosed``); a layer given as ``None`` is present with
    unknown columns.

    Examples
    --------
    >>> r = Rule(id="x", check="compounds", task_ids=("4.3",), title="收费未公开", label="收费未公开",
    ...          source="plan", needs=("residential_compounds.fee_disclosed",))
    >>> missing_needs(r, {})
    ['residential_compounds']
    """
    out: list[str] = []
    for need in r.needs:
        layer, _, fld = need.partition(".")
        frame = layers.get(layer)
        if layer not in layers:
            miss = layer
        elif fld and frame is not None and fld not in getattr(frame, "columns", ()):
            miss = need
        else:
            continue
        if miss not in out:
            out.append(miss)
    return out


#: How every line of a rule that could not run starts (:func:`skip_message`).
SKIP_PREFIX = "未检查："


def is_skip_line(text: str) -> bool:
    """Whether ``text`` is a :func:`skip_message` line (commands print these on stdout).

    >>> is_skip_line(skip_message(rule("case_overdue"), ["hotline_cases"]))
    True
    """
    return text.startswith(SKIP_PREFIX)


def skip_message(r: Rule, missing: Iterable[str]) -> str:
    """The Chinese line that says a rule was not checked and why.

    A missing layer's fields are not listed again.

    Examples
    --------
    >>> skip_message(rule("case_overdue"), ["hotline_cases", "hotline_cases.received_at"])
    '未检查：案件超期（缺少图层 hotline_cases）'
    >>> skip_message(rule("case_overdue"), ["hotline_cases.received_at"])
    '未检查：案件超期（缺少字段 hotline_cases.received_at）'
    """
    parts = []
    missing = list(missing)
    layers_ = [m for m in missing if "." not in m]
    fields_ = [m for m in missing if "." in m and m.partition(".")[0] not in layers_]
    if layers_:
        parts.append("缺少图层 " + "、".join(layers_))
    if fields_:
        parts.append("缺少字段 " + "、".join(fields_))
    return f"{SKIP_PREFIX}{r.label}（{'；'.join(parts)}）"

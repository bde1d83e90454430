"""The rule registry (zlgis/rules.py): file checks, and every rule used is registered."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from zlgis.errors import ConfigError
from zlgis.rules import RULES_DIR, checks, load_registry, rule, rules

ROOT = Path(__file__).resolve().parents[1]

GOOD_RULE = """\
    task_ids: ["1.3.3"]
    title: 建筑压占道路红线
    label: 压占红线
    source: "GB 50352-2019 §2.0.6"
"""


def _write(folder: Path, name: str, rules_text: str, head: str = "") -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(f"check: {name}\ntitle: 测试\n{head}rules:\n{rules_text}", encoding="utf-8")
    return path


def test_a_good_file_loads(tmp_path):
    _write(tmp_path, "demo", "  r1:\n" + GOOD_RULE, head="order: 5\n")
    found, by_id = load_registry(tmp_path)
    assert [c.name for c in found] == ["demo"] and by_id["r1"].label == "压占红线"
    assert by_id["r1"].lead == ("natural_resources",)    # routed by task 1.3.3


def test_unknown_key_names_file_and_rule(tmp_path):
    path = _write(tmp_path, "demo", "  r1:\n" + GOOD_RULE + "    colour: red\n")
    with pytest.raises(ConfigError) as err:
        load_registry(tmp_path)
    assert str(err.value) == f"文件 {path}，字段 r1：规则 r1 含未知键：colour"


def test_unknown_top_level_key(tmp_path):
    path = _write(tmp_path, "demo", "  r1:\n" + GOOD_RULE, head="owner: 城管局\n")
    with pytest.raises(ConfigError) as err:
        load_registry(tmp_path)
    assert str(err.value) == f"文件 {path}：未知键：owner"


def test_graphs_a_check_builds(tmp_path):
    _write(tmp_path, "demo", "  r1:\n" + GOOD_RULE, head="graphs: [drive, walk]\n")
    assert load_registry(tmp_path)[0][0].graphs == ("drive", "walk")
    path = _write(tmp_path / "bad", "demo", "  r1:\n" + GOOD_RULE, head="graphs: [bike]\n")
    with pytest.raises(ConfigError) as err:
        load_registry(tmp_path / "bad")
    assert str(err.value) == f"文件 {path}，字段 graphs：graphs 应为 walk、drive 组成的列表：['bike']"
    _write(tmp_path / "odd", "demo", "  r1:\n" + GOOD_RULE, head="graphs: [{walk: 1}]\n")
    with pytest.raises(ConfigError, match="graphs 应为 walk、drive 组成的列表"):
        load_registry(tmp_path / "odd")


def test_point_layers_a_check_reads_by_coordinates(tmp_path):
    _write(tmp_path, "demo", "  r1:\n" + GOOD_RULE, head="coordinates: [sweeper_tracks]\n")
    assert load_registry(tmp_path)[0][0].coordinates == ("sweeper_tracks",)
    path = _write(tmp_path / "bad", "demo", "  r1:\n" + GOOD_RULE, head="coordinates: tracks\n")
    with pytest.raises(ConfigError) as err:
        load_registry(tmp_path / "bad")
    assert str(err.value) == f"文件 {path}，字段 coordinates：coordinates 应为图层编号组成的列表：'tracks'"


def test_duplicate_rule_id_across_files(tmp_path):
    _write(tmp_path, "alpha", "  r1:\n" + GOOD_RULE, head="order: 1\n")
    path = _write(tmp_path, "beta", "  r1:\n" + GOOD_RULE, head="order: 2\n")
    with pytest.raises(ConfigError) as err:
        load_registry(tmp_path)
    assert str(err.value) == f"文件 {path}，字段 r1：规则编号 r1 在 alpha 与 beta 中重复定义"


def test_missing_source(tmp_path):
    text = "".join(line + "\n" for line in GOOD_RULE.splitlines() if "source" not in line)
    path = _write(tmp_path, "demo", "  r1:\n" + text)
    with pytest.raises(ConfigError) as err:
        load_registry(tmp_path)
    assert str(err.value) == f"文件 {path}，字段 r1.source：规则 r1 缺少 source"


def test_bad_deadline_and_severity(tmp_path):
    _write(tmp_path / "a", "demo", "  r1:\n" + GOOD_RULE + "    deadline: {days: 7, hours: 2}\n")
    with pytest.raises(ConfigError, match="r1 的 deadline 应为 date/days/hours 之一"):
        load_registry(tmp_path / "a")
    _write(tmp_path / "b", "demo", "  r2:\n" + GOOD_RULE + "    severity: urgent\n")
    with pytest.raises(ConfigError, match="r2 的 severity 应为 high/medium/low"):
        load_registry(tmp_path / "b")


def test_override_changes_values_not_ids(tmp_path):
    _write(tmp_path / "base", "demo", "  r1:\n" + GOOD_RULE + "    deadline: {date: '2022-10-31'}\n")
    (tmp_path / "bureau" / "rules").mkdir(parents=True)
    (tmp_path / "bureau" / "rules" / "demo.yaml").write_text(
        "rules:\n  r1:\n    deadline: {days: 14}\n    severity: high\n", encoding="utf-8")
    _, by_id = load_registry(tmp_path / "base", tmp_path / "bureau")
    # the bureau's deadline replaces the shipped one whole; other keys merge key by key
    assert by_id["r1"].deadline == {"days": 14} and by_id["r1"].severity == "high"
    assert by_id["r1"].source == "GB 50352-2019 §2.0.6"


def test_shipped_registry():
    names = [c.name for c in checks()]
    assert names[:4] == ["controllines", "coverage", "waterlogging", "trucks"]
    assert {p.stem for p in RULES_DIR.glob("*.yaml")} == set(names)
    assert len(rules("controllines")) == 7 and len(rules("trucks")) == 6
    for r in rules():
        assert r.lead, r.id                  # every rule is routed to a lead department
    # per-layer event codes: an unpermitted construction site is 无证建设 (08016)
    assert rule("unpermitted_construction").event_codes("buildings") == ("01-01", "06001")
    assert rule("unpermitted_construction").event_codes("construction_sites") == ("", "08016")


def _rule_literals() -> set[tuple[str, str]]:
    """(file, rule id) of every rule named by a literal in zlgis/: ``make_findings(rule="x")``
    and ``rule_spec("x")`` / ``rule("x")`` / ``find_rule("x")``."""
    found = set()
    for path in (ROOT / "zlgis").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            if name == "make_findings":
                for kw in node.keywords:
                    if kw.arg == "rule" and isinstance(kw.value, ast.Constant):
                        found.add((path.name, kw.value.value))
            elif name in ("rule_spec", "rule", "find_rule") and node.args \
                    and isinstance(node.args[0], ast.Constant):
                found.add((path.name, node.args[0].value))
    return found


def test_every_rule_a_check_names_is_registered():
    named = _rule_literals()
    registered = {r.id for r in rules()}
    assert len(named) >= 15          # the scan sees the checks (a broken scan finds nothing)
    assert not [(f, r) for f, r in named if r not in registered]


def test_uses_names_layers_of_the_shipped_catalog():
    """``uses``: the layers a rule reads when the catalog has them (the weekly run loads them
    before starting the rule's check early); every one is a layer of the shipped catalog."""
    from zlgis.catalog import Catalog

    assert rule("no_parking_zone").uses == ("patrol_observations",)
    assert rule("red_line_encroachment").uses == ()
    shipped = set(Catalog.load().layers)
    used = {lid for r in rules() for lid in r.uses}
    assert used and used <= shipped, used - shipped

"""Every check command treats a layer missing from the catalog the same way (issue 12 item 5):
one "未检查：<label>（缺少图层 <layer>）" line per rule it cannot run, on stdout; the rules that
can run do; a command that can run none of its rules says so, writes nothing and exits 0
(``zlgis.cli.NOTHING_TO_CHECK``, the README's exit codes), never an error or a silent zero.

The catalogs are the demo city's without the layers named, written into tmp_path and reading
the cached demo city in place.
"""

from __future__ import annotations

import json

import pytest
import yaml

from zlgis.catalog import Catalog
from zlgis.cli import NOTHING_TO_CHECK, main

NONE_RUN = "图层目录缺少所需图层，没有可以运行的检查，未写出结果"


def _catalog_without(demo_city, tmp_path, *drop: str):
    raw = Catalog.load(demo_city / "catalog.yaml").raw
    raw = {**raw, "data_dir": str(demo_city),
           "layers": {k: v for k, v in raw["layers"].items() if k not in drop}}
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _run(argv, capsys):
    code = main(["--quiet", *argv])
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    return code, out


CASES = {
    "lamps": (["check", "lamps"], ["street_lamps", "lamp_faults"], [
        "未检查：照明盲区（缺少图层 street_lamps）",
        "未检查：亮灯率不足（缺少图层 street_lamps）",
        "未检查：路灯超时未修（缺少图层 street_lamps）",
        f"路灯检查：{NONE_RUN}"]),
    "waterlogging": (["waterlogging"], ["dem"], [
        "未检查：洼地积水（缺少图层 dem）",
        "未检查：道路积水（缺少图层 dem）",
        "未检查：积水点无洼地（缺少图层 dem）",
        "未检查：建议排查（缺少图层 dem）",
        f"城区易涝点分析：{NONE_RUN}"]),
    "cases": (["cases"], ["hotline_cases"], [
        "未检查：案件超期（缺少图层 hotline_cases）",
        "未检查：重复投诉（缺少图层 hotline_cases）",
        "未检查：吹哨升级（缺少图层 hotline_cases）",
        "未检查：案件热点（缺少图层 hotline_cases）",
        "未检查：未入网格（缺少图层 hotline_cases）",
        "未检查：分类不符（缺少图层 hotline_cases）",
        f"案件分析：{NONE_RUN}（可用 --input 指定 12345/110 导出文件）"]),
    "toilets": (["coverage", "toilets"], ["toilets"], [
        "未检查：公厕盲区（缺少图层 toilets）",
        f"公共厕所覆盖分析：{NONE_RUN}"]),
    "transfer_network": (["coverage", "transfer", "--method", "network"], ["roads"], [
        "未检查：转运站盲区（缺少图层 roads）",
        "未检查：转运站间距不足（缺少图层 roads）",
        f"垃圾转运站覆盖分析：{NONE_RUN}"]),
    "grids": (["grids", "check"], ["grids"], [
        "未检查：网格空隙（缺少图层 grids）",
        "未检查：网格重叠（缺少图层 grids）",
        "未检查：网格面积（缺少图层 grids）",
        "未检查：网格编码（缺少图层 grids）",
        "未检查：网格跨社区（缺少图层 grids）",
        f"网格检查：{NONE_RUN}（可先用 zlgis grids make 划分网格）"]),
    "controllines": (["check", "controllines"],
                     ["buildings", "construction_sites", "red_lines", "green_lines",
                      "blue_lines", "purple_lines", "yellow_lines"], [
        "未检查：压占红线（缺少图层 buildings、red_lines）",
        "未检查：退让不足（缺少图层 buildings、red_lines）",
        "未检查：占压绿线（缺少图层 green_lines）",
        "未检查：占压蓝线（缺少图层 blue_lines）",
        "未检查：占压紫线（缺少图层 purple_lines）",
        "未检查：占压黄线（缺少图层 yellow_lines）",
        "未检查：无证建设（缺少图层 buildings）",
        f"五线管控检查：{NONE_RUN}（没有道路红线图层 red_lines：可加 --red-lines-from-roads "
        "由道路中心线生成）"]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_a_command_that_can_run_nothing_names_each_rule_and_exits_0(name, demo_city, tmp_path,
                                                                    capsys):
    argv, drop, expected = CASES[name]
    cat = _catalog_without(demo_city, tmp_path, *drop)
    code, out = _run([*argv, "--catalog", str(cat), "--out", str(tmp_path / "out")], capsys)
    assert code == NOTHING_TO_CHECK == 0
    assert out.out.splitlines() == expected
    assert out.err == ""
    assert not (tmp_path / "out").exists()


def test_json_output_stays_json_when_nothing_can_run(demo_city, tmp_path, capsys):
    cat = _catalog_without(demo_city, tmp_path, "street_lamps")
    code, out = _run(["check", "lamps", "--json", "--catalog", str(cat), "--out",
                      str(tmp_path / "out")], capsys)
    assert code == 0
    doc = json.loads(out.out)
    assert doc["findings"] == 0 and doc["by_rule"] == {}
    assert doc["skipped"] == CASES["lamps"][2][:3]


def test_compound_rules_name_the_missing_layer_not_its_fields(demo_city, tmp_path, capsys):
    """Without residential_compounds the rules that need only one of its fields said 缺少字段
    residential_compounds.fee_disclosed; the layer is what is missing. The compound rules that
    read other layers (fire lanes, green space from the city reports) still run."""
    cat = _catalog_without(demo_city, tmp_path, "residential_compounds")
    code, out = _run(["check", "compounds", "--catalog", str(cat), "--out",
                      str(tmp_path / "out")], capsys)
    lines = out.out.splitlines()
    assert code in (0, 1)
    skipped = [x for x in lines if x.startswith("未检查：")]
    assert skipped == ["未检查：无业委会无物管会（缺少图层 residential_compounds）",
                       "未检查：无物业服务（缺少图层 residential_compounds）",
                       "未检查：收费未公开（缺少图层 residential_compounds）",
                       "未检查：无充电桩（缺少图层 residential_compounds）",
                       "未检查：生活圈设施缺失（缺少图层 residential_compounds）",
                       "未检查：物业用房不足（缺少图层 residential_compounds）",
                       "未检查：便民用房不足（缺少图层 residential_compounds）"]
    assert "缺少字段" not in out.out + out.err
    assert (tmp_path / "out" / "compounds_findings.csv").exists()


def test_control_lines_without_red_lines_run_the_other_lines(demo_city, tmp_path, capsys):
    """A missing red-line layer skips the two red-line rules (with the hint of the derived red
    lines) and does not block the green, blue, purple and yellow lines (it was exit 1 with an
    error and nothing checked)."""
    cat = _catalog_without(demo_city, tmp_path, "red_lines")
    code, out = _run(["check", "controllines", "--catalog", str(cat), "--out",
                      str(tmp_path / "out")], capsys)
    lines = out.out.splitlines()
    assert code == 1  # the demo plants green, blue, purple and yellow line cases
    assert [x.strip() for x in lines if "未检查" in x] == [
        "未检查：压占红线（缺少图层 red_lines）", "未检查：退让不足（缺少图层 red_lines）"]
    for title in ("城市绿线", "城市蓝线", "城市紫线", "城市黄线"):
        assert [x for x in lines if title in x and "未检查" not in x], title
    assert out.err.strip() == "注意：没有道路红线图层 red_lines：可加 --red-lines-from-roads 由道路中心线生成"

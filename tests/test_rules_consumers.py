"""One rule registry: a rule's title and label, changed in a bureau's override of the registry,
reach every reader (findings, the Excel/CSV table, the web map legend
and the QGIS style): none holds a copy of the wording (issue 13 item 3)."""

from __future__ import annotations

from shapely import Point

from zlgis.findings import make_findings
from zlgis.rules import rule

TITLE, LABEL = "测试标题甲乙", "测试标签丙丁"


def test_a_bureau_title_and_label_reach_every_reader(tmp_path, monkeypatch) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "controllines.yaml").write_text(
        f"rules:\n  unpermitted_construction:\n    title: {TITLE}\n    label: {LABEL}\n",
        encoding="utf-8")
    shipped = rule("unpermitted_construction")
    monkeypatch.setenv("ZLGIS_CONFIG_DIR", str(tmp_path))
    assert (rule("unpermitted_construction").title, rule("unpermitted_construction").label) \
        == (TITLE, LABEL)
    f = make_findings(rule="unpermitted_construction", feature_ids=[["S1"]],
                      layer="construction_sites", geometry=[Point(0, 0)])
    assert f.iloc[0]["title"] == TITLE
    # the ledger's Excel / CSV table
    from zlgis.publish.tables import findings_table

    assert findings_table(f)["规则"].tolist() == [TITLE]
    # the web map's legend
    from zlgis.publish.maps import _rule_legend

    legend = "".join(_rule_legend(f.assign(_sev=f["severity"]), {"unpermitted_construction": 1}))
    assert LABEL in legend and shipped.label not in legend
    # the QGIS style's rule names
    from zlgis.publish import qgis

    assert LABEL in qgis._findings_renderer()
    # the shipped wording is back once the override is gone
    monkeypatch.delenv("ZLGIS_CONFIG_DIR")
    assert rule("unpermitted_construction").label == shipped.label
    assert findings_table(f)["规则"].tolist() == [shipped.title]

"""The grid audit in the weekly run (issue 16): a catalog with a grids layer has its grids
checked every week (gaps, overlaps, sizes, codes) with the findings in the ledger and on the
maps; fixed grids leave the ledger as rectified; a catalog without grids says so."""

from __future__ import annotations

import geopandas as gpd
import yaml
from _small_city import CRS, X0, Y0, write_city
from shapely.geometry import box

from zlgis.ledger import Ledger
from zlgis.weekly import run_weekly

CHECKS = ["grids"]


def cell_id(k: int) -> str:
    return f"150783001001{k:03d}"


def write_grids(folder, *, broken: bool) -> None:
    """3 x 3 unit grids of 100 m x 100 m (1 ha, GB/T 30428.1's size). ``broken``: the centre
    cell is missing (a hole in the grids: a gap), cell 9 is shifted 30 m west over cell 8 (an
    overlap, and a 30 m strip left uncovered at the east edge is outside the outline, so not a
    gap) and cell 3's code starts with another county's GB/T 2260 code (a repeated code never
    reaches the audit: the loader rejects the row as a duplicate id, in the validation report)."""
    cells, ids = [], []
    for k in range(9):
        r, c = divmod(k, 3)
        x, y = X0 + 100 * c, Y0 + 200 - 100 * r
        cells.append(box(x, y, x + 100, y + 100))
        ids.append(cell_id(k + 1))
    if broken:
        del cells[4], ids[4]                       # the centre: a gap inside the grids
        x0, y0, x1, y1 = cells[-1].bounds          # cell 9 over cell 8
        cells[-1] = box(x0 - 30, y0, x1 - 30, y1)
        ids[2] = "150700" + ids[2][6:]              # cell 3: another county's code
    g = gpd.GeoDataFrame({"grid_id": ids, "subdistrict": "兴华街道", "community": "一社区",
                          "road_chief": "张路长"}, geometry=cells, crs=CRS)
    g.to_file(folder / "grids.gpkg", layer="grids")


def test_grid_audit_runs_weekly_with_ledger_and_maps(tmp_path):
    city, out = tmp_path / "city", tmp_path / "out"
    cat = write_city(city, ["B1"])
    write_grids(city, broken=True)
    r35 = run_weekly(cat, out, week="2022-W35", checks=CHECKS)
    assert "check:grids" in r35.timings
    v = Ledger(out / "ledger.sqlite").view("2022-W35")
    assert set(v["check"]) == {"grids"}
    by_rule = v.groupby("rule")["feature_id"].apply(set).to_dict()
    assert set(by_rule) == {"grid_gap", "grid_overlap", "grid_code"}
    # the hole where the centre cell was: one gap of 1 ha
    gap = v[v["rule"] == "grid_gap"]
    assert len(gap) == 1 and abs(gap["measure"].iloc[0] - 10_000) < 1
    # cell 9 over cell 8 (30 m x 100 m), both named; cell 3's county code
    ov = v[v["rule"] == "grid_overlap"]
    assert len(ov) == 1 and abs(ov["measure"].iloc[0] - 3_000) < 1
    assert set(ov["feature_id"]) | set(ov["related_ids"]) == {cell_id(8), cell_id(9)}
    assert by_rule["grid_code"] == {"150700001001003"}
    assert v.loc[v["rule"] == "grid_code", "title"].str.contains("行政区划代码 150783").all()
    assert (v["status"] == "new").all() and (v["lead_department"] != "").all()
    # every finding is on the internal map; none on the public map (grid findings are internal)
    internal = r35.files["map_internal"].read_text(encoding="utf-8")
    public = r35.files["map_public"].read_text(encoding="utf-8")
    assert all(fid in internal for fid in v["finding_id"])
    assert not [fid for fid in v["finding_id"] if fid in public]
    # the bureau fixes its grids: next week every grid finding is rectified
    write_grids(city, broken=False)
    run_weekly(cat, out, week="2022-W36", checks=CHECKS)
    v36 = Ledger(out / "ledger.sqlite").view("2022-W36")
    assert len(v36) == len(v) and (v36["status"] == "rectified").all()


def test_weekly_without_grids_says_why_the_audit_did_not_run(tmp_path):
    city, out = tmp_path / "city", tmp_path / "out"
    cat = write_city(city, ["B1"])
    raw = yaml.safe_load(cat.read_text(encoding="utf-8"))
    del raw["layers"]["grids"]
    cat.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    res = run_weekly(cat, out, week="2022-W35", checks=["controllines", "grids"])
    for line in ("未检查：网格空隙（缺少图层 grids）", "未检查：网格重叠（缺少图层 grids）",
                 "未检查：网格面积（缺少图层 grids）", "未检查：网格编码（缺少图层 grids）",
                 "未检查：网格跨社区（缺少图层 grids）"):
        assert line in res.skipped
    assert "grids" not in set(Ledger(out / "ledger.sqlite").view()["check"])

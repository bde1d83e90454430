"""Catalog ``filter:`` and ``values:`` on real shared sources, and the bad-catalog cases."""

from __future__ import annotations

from pathlib import Path

from zlgis.catalog import Catalog
from zlgis.cli import main
from zlgis.validate import read_layer

SWELLENDAM_ROADS = """
version: 1
city: Swellendam
data_dir: {data}
working_crs: EPSG:32734
boundary_layer: null
layers:
  roads:
    title: 道路中心线
    kind: road
    source: {{path: training_data.gpkg, layer: roads, filter: {{highway: [primary, secondary, residential]}}}}
    geometry: LineString
    id_field: road_id
    fields:
      road_id: {{type: str, required: true, aliases: [full_id]}}
      road_class: {{type: str, required: true, allowed: [主干路, 次干路, 支路], aliases: [highway],
                   values: {{primary: 主干路, secondary: 次干路, residential: 支路}}}}
      oneway: {{type: str, aliases: [oneway]}}
"""


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "catalog.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_filter_and_values_on_a_shared_gpkg(realdata, tmp_path):
    import pyogrio

    p = _write(tmp_path, SWELLENDAM_ROADS.format(data=realdata / "swellendam"))
    res = read_layer(Catalog.load(p), "roads", check_boundary=False)
    raw = pyogrio.read_dataframe(realdata / "swellendam" / "training_data.gpkg", layer="roads",
                                 read_geometry=False)
    want = raw["highway"].value_counts()
    got = res.gdf["road_class"].value_counts()
    # the filter keeps exactly the three classes; each OSM value becomes its Chinese class
    assert got.get("主干路", 0) == want.get("primary", 0)
    assert got.get("次干路", 0) == want.get("secondary", 0)
    assert got.get("支路", 0) == want.get("residential", 0)
    assert res.rows_in == int(raw["highway"].isin(["primary", "secondary", "residential"]).sum())
    # `oneway: yes` stays the string "yes" (not True): YAML 1.1 booleans are not applied
    assert "yes" in set(res.gdf["oneway"].dropna())


def test_yes_in_a_catalog_value_map_stays_a_string(realdata, tmp_path):
    text = SWELLENDAM_ROADS.format(data=realdata / "swellendam").replace(
        "residential: 支路}", "residential: 支路, yes: 支路, no: 支路}")
    values = Catalog.load(_write(tmp_path, text)).layers["roads"].fields["road_class"].values
    assert {"yes", "no"} <= set(values) and True not in values


def test_value_mapped_to_unknown_class_is_refused(realdata, tmp_path, capsys):
    text = SWELLENDAM_ROADS.format(data=realdata / "swellendam").replace(
        "residential: 支路}", "residential: 小路}")
    p = _write(tmp_path, text)
    assert main(["layers", "--catalog", str(p)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"错误：文件 {p}，图层 roads，字段 road_class：图层 roads 字段 road_class 的值映射 "
                   "residential → 小路 不在允许值中（允许：主干路、次干路、支路）")


def test_filter_on_a_missing_field_is_refused(realdata, tmp_path, capsys):
    text = SWELLENDAM_ROADS.format(data=realdata / "swellendam").replace(
        "filter: {highway:", "filter: {road_type:")
    p = _write(tmp_path, text)
    assert main(["validate", "--catalog", str(p)]) == 2
    err = capsys.readouterr().err
    import pyogrio

    gpkg = (realdata / "swellendam" / "training_data.gpkg").resolve()
    have = list(pyogrio.read_info(gpkg, layer="roads")["fields"])
    assert have[:2] == ["full_id", "osm_id"]
    assert err.strip() == (f"错误：文件 {gpkg}，图层 roads，字段 source.filter：图层 roads 的筛选条件 "
                           "filter 用到源数据中没有的字段 road_type"
                           f"（源数据字段：{'、'.join(have[:30])}）")

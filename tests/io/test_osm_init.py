"""zlgis init on the real Helsinki extract (../shared/realdata/helsinki), and its bad inputs."""

from __future__ import annotations

import pyogrio
import pytest

from zlgis.catalog import Catalog
from zlgis.cli import main
from zlgis.errors import CRSError
from zlgis.io.osm_init import init_from_osm
from zlgis.validate import load_layers, read_layer


@pytest.fixture(scope="module")
def helsinki(helsinki_catalog):
    cat = Catalog.load(helsinki_catalog)
    return cat, load_layers(cat)


def test_catalog_is_in_the_city_utm_zone_with_its_name(helsinki):
    cat, _ = helsinki
    # Helsinki lies at 24.94E, 60.17N: UTM zone 35N
    assert cat.working_crs == "EPSG:32635"
    assert cat.city == "赫尔辛基"
    assert cat.layers["red_lines"].derived == {
        "derive": "red_lines_from_roads", "from": "roads",
        "classes": ["快速路", "主干路", "次干路", "支路"]}


def test_layer_counts_match_the_extract(helsinki):
    """Counts from the data README (../shared/realdata/README.md), each with its reason."""
    _, layers = helsinki
    # 586 highway=street_lamp, 649 natural=tree, 92 highway=bus_stop nodes (README)
    assert len(layers["street_lamps"]) == 586
    assert len(layers["trees"]) == 649
    assert len(layers["bus_stops"]) == 92
    # 17 toilet nodes (README) plus one building tagged amenity=toilets, taken at its centre
    assert len(layers["toilets"]) == 18
    # 36 waste baskets (README) + 14 waste_disposal + 2 recycling (the README's 16 points)
    assert layers["garbage_points"]["category"].value_counts().to_dict() == {
        "垃圾桶": 36, "收集点": 14, "分类投放点": 2}
    # 494 building ways and relations (README); GDAL gives no geometry to 5 relations cut by the
    # clip, and validation rejects 7 more whose rings keep fewer than 3 vertices after the clip
    assert len(layers["buildings"]) == 494 - 5 - 7
    # 17 leisure=park (README) and 1 leisure=garden; one park relation is cut by the clip
    # and GDAL gives it no geometry
    assert len(layers["parks"]) == 17 + 1 - 1
    for gdf in layers.values():
        assert str(gdf.crs) == "EPSG:32635"


def test_values_map_osm_tags_to_catalog_classes(helsinki, helsinki_catalog):
    """``values:`` in the written catalog turns OSM values into the catalog's Chinese classes."""
    _, layers = helsinki
    raw = pyogrio.read_dataframe(helsinki_catalog.parent / "osm_layers.gpkg", layer="roads",
                                 read_geometry=False)
    roads = layers["roads"]
    assert set(roads["road_class"]) <= {"快速路", "主干路", "次干路", "支路", "巷道", "公路", "人行道"}
    # every primary street of the source is a 主干路 after mapping
    n_primary = int(raw["highway"].isin(["primary", "primary_link"]).sum())
    assert n_primary > 100  # 139 + 7 in the extract
    assert int((roads["road_class"] == "主干路").sum()) == n_primary
    # lines that are not roads (platforms, corridors, construction) are filtered out; the rest
    # are loaded, or rejected with their row and reason (two footways tagged width=0.7 m)
    loaded = read_layer(Catalog.load(helsinki_catalog), "roads")
    not_roads = raw["highway"].isin(["platform", "corridor", "construction", "elevator"])
    assert loaded.rows_in == len(roads) + len(loaded.rejected) == int((~not_roads).sum())
    assert loaded.rejected["reject_reason"].tolist() == ["数值 0.7 超出范围（1～120），该行已剔除"] * 2
    b = layers["buildings"]
    # building=yes is mapped to 住宅 (osm.yaml): it is by far the most common value here
    assert (b["use"] == "住宅").sum() > len(b) / 2
    assert set(b["use"]) <= {"住宅", "商业", "办公", "公共服务", "工业", "仓储", "市政设施", "其他"}


def test_widths_come_from_tag_lanes_or_class(helsinki_catalog):
    raw = pyogrio.read_dataframe(helsinki_catalog.parent / "osm_layers.gpkg", layer="roads",
                                 read_geometry=False)
    lanes = raw[raw["width_source"] == "lanes"]
    # lanes x 3.5 m (CJJ 37-2012 lane width, osm.yaml)
    assert (lanes["width_m"] == lanes["lanes"].astype(float) * 3.5).all()
    assert len(raw[raw["width_source"] == "width"]) == 49  # 49 lines carry a width tag
    footway = raw[(raw["highway"] == "footway") & (raw["width_source"] == "default")]
    assert (footway["width_m"] == 2).all()


def test_init_cli_says_what_was_found_and_missing(realdata, tmp_path, capsys):
    code = main(["init", str(realdata / "helsinki" / "Helsinki.osm.pbf"), "--out",
                 str(tmp_path), "--quiet"])
    out = capsys.readouterr().out
    assert code == 0
    assert "工作坐标系 EPSG:32635" in out and "路灯 586" in out
    assert "缺少图层 grids（城市管理单元网格）" in out
    assert (tmp_path / "catalog.yaml").exists() and (tmp_path / "osm_layers.gpkg").exists()


def test_init_refuses_a_crs_that_does_not_fit(realdata, tmp_path):
    pbf = realdata / "helsinki" / "Helsinki.osm.pbf"
    with pytest.raises(CRSError, match="按边界中心应使用 EPSG:32635"):
        init_from_osm(pbf, tmp_path, crs="EPSG:4550")
    with pytest.raises(CRSError, match="是经纬度坐标系"):
        init_from_osm(pbf, tmp_path, crs="EPSG:4326")
    assert not (tmp_path / "catalog.yaml").exists()

"""The demo city as a whole (zlgis/demo/city.py): layers, counts of the plan, topology."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
import yaml

from zlgis.catalog import DEFAULT_CATALOG, Catalog
from zlgis.validate import read_layer


def test_every_catalog_layer_is_written(demo_city, demo_catalog):
    shipped = Catalog.load(DEFAULT_CATALOG)
    assert set(demo_catalog.layers) == set(shipped.layers)
    for lid, spec in demo_catalog.layers.items():
        assert spec.path is not None and spec.path.exists(), lid
        assert spec.path.parent == demo_city.resolve()
    for name in ("dem.tif", "truth.csv", "README.txt", "catalog.yaml"):
        assert (demo_city / name).exists()
    raw = yaml.safe_load((demo_city / "catalog.yaml").read_text(encoding="utf-8"))
    assert raw["data_dir"] == "."


def test_source_files_look_like_bureau_data(demo_catalog):
    """Chinese field names (first alias), declared CRS, synthetic note in the metadata."""
    for lid, spec in demo_catalog.layers.items():
        if spec.kind == "raster":
            continue
        suffix = spec.path.suffix.lower()
        if suffix == ".gpkg":
            info = pyogrio.read_info(spec.path, layer=spec.layer)
            cols = list(info["fields"])
            crs = info["crs"]
            assert "合成示例数据" in (pyogrio.read_info(spec.path, layer=spec.layer)
                                      .get("layer_metadata") or {}).get("DESCRIPTION", "") or \
                "合成示例数据" in str(info.get("dataset_metadata")), lid
            expected_crs = "EPSG:4326" if spec.crs == "gcj02" else spec.crs
            assert crs == expected_crs, (lid, crs)
        elif suffix == ".csv":
            cols = list(pd.read_csv(spec.path, nrows=1).columns)
            assert {"经度", "纬度"} <= set(cols)
        else:
            cols = list(pd.read_excel(spec.path, nrows=1).columns)
            assert {"经度", "纬度"} <= set(cols)
        aliases = {spec.alias(f) for f in spec.fields}
        assert aliases <= set(cols), (lid, aliases - set(cols))
        assert not any(re.fullmatch(r"[a-z_]+", c) and c in spec.fields for c in cols), lid


def test_every_layer_loads_valid(demo_catalog, demo_layers):
    """Canonical names, required values present, allowed values, ranges, patterns, unique ids."""
    for lid, gdf in demo_layers.items():
        spec = demo_catalog[lid]
        assert gdf.crs.to_epsg() == 4550, lid
        assert len(gdf) > 0, lid
        assert gdf.geometry.notna().all() and gdf.geometry.is_valid.all(), lid
        if spec.geometry:
            assert set(gdf.geom_type) <= {spec.geometry, f"Multi{spec.geometry}"}, lid
        if spec.id_field:
            assert gdf[spec.id_field].is_unique, lid
        for name, f in spec.fields.items():
            assert name in gdf.columns, (lid, name)
            col = gdf[name]
            if f.required:
                assert col.notna().all() and (col.astype(str) != "").all(), (lid, name)
            val = col.dropna()
            if f.allowed is not None:
                assert set(val.astype(str)) <= {str(a) for a in f.allowed}, (lid, name)
            if f.type in ("int", "float") and len(val):
                v = pd.to_numeric(val)
                if f.min is not None:
                    assert v.min() >= f.min, (lid, name)
                if f.max is not None:
                    assert v.max() <= f.max, (lid, name)
            if f.pattern:
                assert val.astype(str).str.fullmatch(f.pattern).all(), (lid, name)


def test_read_layer_reports_no_rejected_rows(demo_catalog):
    for lid in ("buildings", "roads", "toilets", "truck_pings", "patrol_observations", "grids"):
        res = read_layer(demo_catalog, lid)
        assert len(res.gdf) == res.rows_in, lid
        assert len(res.rejected) == 0, lid


def test_counts_from_the_plan(demo_layers):
    L = demo_layers
    assert len(L["buildings"]) >= 25_000
    isl = L["green_islands"]
    assert len(isl) == 476
    assert isl.area.sum() == pytest.approx(41_000, rel=0.05)
    parks = L["parks"]
    pocket = parks[parks["category"] == "口袋公园"]
    assert len(pocket) == 10 and pocket["name"].is_unique
    assert {"天拜山广场", "雀园广场", "知青广场", "乌兰夫广场", "南市大桥口袋公园",
            "市民口袋公园"} <= set(pocket["name"])
    assert pocket.area.sum() == pytest.approx(292_000, rel=0.02)
    assert "吊桥公园" in set(parks["name"])
    assert (parks["category"] == "湿地公园").any()
    assert len(L["heat_stations"]) == 136
    comp = L["residential_compounds"]
    assert int(comp["under_construction"].sum()) == 13
    lamps = L["street_lamps"]
    assert 1900 <= len(lamps) <= 2100
    dark = lamps[lamps["status"] == "不亮"]
    assert 0 < len(dark) < 0.1 * len(lamps)
    assert (lamps["status"] == "规划新增").sum() == 16


def test_dark_spots_named_by_the_plan(demo_layers):
    L = demo_layers
    lamps = L["street_lamps"]
    dark = lamps[lamps["status"].isin(["不亮", "规划新增"])]
    school = L["buildings"][L["buildings"]["name"] == "兴华小学"]
    mingyue = L["residential_compounds"][L["residential_compounds"]["name"] == "明月花园"]
    minzu = L["roads"][L["roads"]["name"] == "民族西街"]
    for place in (school, mingyue, minzu):
        assert len(place)
        near = dark.distance(place.union_all()) < 60
        assert near.sum() >= 4


def test_place_names_of_the_plan(demo_layers):
    L = demo_layers
    names = set(L["roads"]["name"])
    assert {"中央街", "民族西街", "南市大桥", "吊桥公园吊桥", "南入口大街"} <= names
    b = set(L["buildings"]["name"].dropna())
    assert {"兴华小学", "河西新区新客运站", "交通局"} <= b
    assert "老一中涵洞" in set(L["waterlogging_points"]["name"])
    ts = L["transfer_stations"]
    planned = ts[ts["status"] == "规划"]
    assert len(planned) == 1 and "河西新区" in planned["name"].iloc[0]
    station = L["buildings"][L["buildings"]["name"] == "河西新区新客运站"].union_all().centroid
    site = planned.geometry.iloc[0]
    assert site.x > station.x and site.distance(station) < 800  # east of the new bus station


def test_river_splits_the_districts_and_bridges_cross_it(demo_layers):
    L = demo_layers
    river = L["blue_lines"][L["blue_lines"]["name"] == "雅鲁河"].geometry.iloc[0]
    minx, miny, maxx, maxy = river.bounds
    assert maxy - miny > 3 * (maxx - minx)  # runs north-south
    width = river.area / (maxy - miny)
    assert 100 <= width <= 220
    roads = L["roads"]
    crossing = roads[roads.intersects(river)]
    assert crossing["bridge"].astype(bool).all()
    assert len(crossing) >= 4
    foot = crossing[crossing["name"] == "吊桥公园吊桥"]
    assert (foot["road_class"] == "人行道").all()
    c = roads.geometry.centroid
    rx = np.interp(c.y, *_river_profile(river))
    east = roads[(c.x > rx + 150).to_numpy()]
    west = roads[(c.x < rx - 150).to_numpy()]
    assert (east["district"] == "河东").all() and (west["district"] == "河西").all()


def _river_profile(river) -> tuple[np.ndarray, np.ndarray]:
    ys = np.linspace(river.bounds[1] + 1, river.bounds[3] - 1, 400)
    xs = []
    for y in ys:
        seg = river.intersection(shapely.geometry.LineString([(river.bounds[0] - 10, y),
                                                              (river.bounds[2] + 10, y)]))
        xs.append(seg.centroid.x)
    return ys, np.array(xs)


def test_every_road_has_a_red_line(demo_layers):
    roads, red = demo_layers["roads"], demo_layers["red_lines"]
    street = roads["road_id"].str.split("-").str[0]
    assert set(street) <= set(red["road_id"])
    rl = red.set_index("road_id").geometry
    own = rl.loc[street.to_numpy()].values
    # each centreline lies in its own street's red line, which is as wide as the road
    assert shapely.covers(shapely.buffer(own, 0.01), roads.geometry.values).all()
    mid = shapely.line_interpolate_point(roads.geometry.values, 0.5, normalized=True)
    ring = shapely.boundary(own)
    half = shapely.distance(mid, ring)
    assert np.allclose(half, roads["width"].to_numpy() / 2, atol=0.01)


def test_every_park_has_a_green_line(demo_layers):
    parks, green = demo_layers["parks"], demo_layers["green_lines"]
    gl = green.union_all()
    for g in parks.geometry:
        assert g.difference(gl).area < 1.0


def test_no_building_in_a_road_or_the_river_unless_planted(demo_layers, demo_truth):
    b = demo_layers["buildings"]
    planted = set(demo_truth["feature_id"])
    geoms = b.geometry.values

    def overlapping(layer: str) -> pd.DataFrame:
        zones = demo_layers[layer].geometry.values
        zi, bi = shapely.STRtree(geoms).query(zones, predicate="intersects")
        area = shapely.area(shapely.intersection(geoms[bi], zones[zi]))
        return b.iloc[np.unique(bi[area > 0.01])]

    inside_road = overlapping("red_lines")
    inside_river = overlapping("blue_lines")
    assert len(inside_road) >= 4 and set(inside_road["building_id"]) <= planted
    assert len(inside_river) >= 1 and set(inside_river["building_id"]) <= planted


def test_ordinary_buildings_respect_setbacks_and_lines(demo_layers, demo_truth):
    """Only planted buildings come closer to a red line than 5 m or sit inside a control line."""
    b = demo_layers["buildings"]
    planted = set(demo_truth["feature_id"])
    ordinary = b[~b["building_id"].isin(planted)]
    red = demo_layers["red_lines"]
    tree = shapely.STRtree(red.geometry.values)
    idx, d = tree.query_nearest(ordinary.geometry.values, return_distance=True)
    assert d.min() >= 5.0 - 1e-6
    for lid in ("green_lines", "purple_lines", "yellow_lines"):
        zone = demo_layers[lid].union_all()
        hit = ordinary[ordinary.intersects(zone)]
        allowed = hit["line_permit"].notna() & (hit["line_permit"].astype(str) != "")
        assert allowed.all(), lid


def test_buildings_attributes_are_consistent(demo_layers):
    b = demo_layers["buildings"]
    h = b["height"] / b["floors"]
    assert h.between(2.5, 8.0).all()
    res = b[b["use"] == "住宅"]
    assert (res["compound_id"].notna()).all()
    assert (b.loc[b["use"] != "住宅", "population"] == 0).all()
    assert (res.loc[~res["under_construction"].astype(bool), "population"] > 0).all()
    assert (res.loc[res["under_construction"].astype(bool), "population"] == 0).all()
    uc_comp = demo_layers["residential_compounds"]
    uc_ids = set(uc_comp.loc[uc_comp["under_construction"].astype(bool), "compound_id"])
    in_uc = b[b["compound_id"].isin(uc_ids)]
    assert len(in_uc) and in_uc["under_construction"].astype(bool).all()
    permitted = b[b["permit_status"] == "已批"]
    assert permitted["permit_no"].notna().all()
    unpermitted = b[b["permit_status"] == "未批"]
    assert unpermitted["permit_no"].isna().all()


def test_grids_cover_the_city(demo_layers):
    g = demo_layers["grids"]
    assert g["grid_id"].str.fullmatch(r"150783[0-9A-Z]{9}").all()
    assert set(g["district"]) == {"河东", "河西"}
    b = demo_layers["buildings"].geometry.centroid
    assert g.union_all().covers(shapely.MultiPoint(list(b.values)))
    assert g["road_chief"].notna().all()


def test_hotline_cases_carry_synthetic_personal_data(demo_layers):
    h = demo_layers["hotline_cases"]
    assert h["requester_phone"].str.fullmatch(r"1[3-9]\d{9}").all()
    assert h["requester_name"].str.len().between(2, 3).all()
    assert h["text"].str.contains(r"1[3-9]\d{9}").any()  # phones inside free text, too
    assert h["received_at"].is_monotonic_increasing


def test_gcj02_layers_are_shifted_like_gaode_data(demo_catalog, demo_layers):
    """Toilets are stored in GCJ-02: read as WGS84 they would sit hundreds of metres off."""
    raw = pyogrio.read_dataframe(demo_catalog["toilets"].path)
    naive = raw.to_crs("EPSG:4550")
    off = naive.geometry.distance(demo_layers["toilets"].geometry)
    assert off.between(300, 800).all()


def test_boundary_is_the_converted_real_outline(demo_layers, realdata):
    import json

    from zlgis.crs import gcj02_to_wgs84

    b = demo_layers["boundary"]
    assert b["code"].iloc[0] == "150783"
    raw = json.loads((realdata / "zhalantun-boundary" / "150783.json").read_text())
    ring = np.array(raw["features"][0]["geometry"]["coordinates"][0][0])
    lng, lat = gcj02_to_wgs84(ring[:, 0], ring[:, 1])
    import pyproj

    x, y = pyproj.Transformer.from_crs(4326, 4550, always_xy=True).transform(lng, lat)
    assert shapely.distance(b.geometry.iloc[0].boundary, shapely.points(x, y)).max() < 1.0
    roads = demo_layers["roads"]
    assert b.geometry.iloc[0].contains(shapely.box(*roads.total_bounds))


def test_compounds_and_sites_keep_out_of_control_lines(demo_layers, demo_truth):
    planted = set(demo_truth["feature_id"])
    for lid, idcol in (("residential_compounds", "compound_id"), ("construction_sites", "site_id")):
        g = demo_layers[lid]
        geoms = g.geometry.values
        for zl in ("blue_lines", "green_lines", "purple_lines", "yellow_lines"):
            zones = demo_layers[zl].geometry.values
            zi, gi = shapely.STRtree(geoms).query(zones, predicate="intersects")
            area = shapely.area(shapely.intersection(geoms[gi], zones[zi]))
            hit = set(g[idcol].to_numpy()[gi[area > 0.01]])
            assert hit <= planted, (lid, zl, hit)

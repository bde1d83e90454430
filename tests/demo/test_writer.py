"""Writing layers like a bureau's files (zlgis/demo/writer.py)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from shapely.geometry import Point

from zlgis.catalog import Catalog
from zlgis.demo.writer import to_source_frame, write_points_table, write_vector
from zlgis.validate import read_layer


def _toilets() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"toilet_id": ["GC1", "GC2"], "name": ["中央街公厕", "滨河公厕"],
                             "category": ["独立式", ""], "open_hours": ["全天", None],
                             "accessible": [True, False], "keeper_name": ["王芳", ""],
                             "keeper_phone": ["13900000000", ""]},
                            geometry=[Point(480594, 5317348), Point(479000, 5316000)],
                            crs="EPSG:4550")


def test_aliases_nulls_and_gcj02(tmp_path):
    cat = Catalog.load()
    spec = cat["toilets"]
    src = to_source_frame(_toilets(), spec)
    assert list(src.columns[:-1]) == [spec.alias(f) for f in spec.fields]
    assert src.crs.to_epsg() == 4326
    assert src["类型"].isna().tolist() == [False, True]  # empty text is written as NULL
    # GCJ-02 is shifted from WGS84 by several hundred metres here
    wgs = gpd.GeoSeries(_toilets().geometry).to_crs(4326)
    shift = np.hypot(src.geometry.x - wgs.x, src.geometry.y - wgs.y) * 111_000
    assert ((shift > 200) & (shift < 900)).all()


def test_round_trip_through_the_loader(tmp_path):
    shipped = Catalog.load()
    raw = shipped.with_data_dir(str(tmp_path))
    import yaml

    (tmp_path / "catalog.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True),
                                           encoding="utf-8")
    cat = Catalog.load(tmp_path / "catalog.yaml")
    write_vector(_toilets(), cat["toilets"], cat["toilets"].path)
    info = pyogrio.read_info(cat["toilets"].path)
    assert "合成示例数据" in str(info.get("layer_metadata")) + str(info.get("dataset_metadata"))
    back = read_layer(cat, "toilets").gdf
    assert back.geometry.distance(_toilets().geometry).max() < 0.01  # mm after GCJ round trip
    pings = pd.DataFrame({"ping_id": ["P1"], "plate": ["蒙E00001"], "vehicle_type": ["重型货车"],
                          "time": [pd.Timestamp("2022-06-06 08:00:00")], "speed_kmh": [0.0],
                          "x": [480594.0], "y": [5317348.0]})
    write_points_table(pings, cat["truck_pings"], cat["truck_pings"].path)
    text = cat["truck_pings"].path.read_text(encoding="utf-8")
    spec = cat["truck_pings"]
    header = [spec.alias(f) for f in spec.fields] + ["经度", "纬度"]
    assert text.splitlines()[0].split(",") == header
    assert {"序号", "车牌号", "定位时间", "速度"} <= set(header)
    got = read_layer(cat, "truck_pings").gdf
    assert got.geometry.iloc[0].distance(Point(480594, 5317348)) < 0.05


def test_large_layers_are_written_in_chunks(tmp_path):
    import shapely

    spec = Catalog.load()["trees"]
    n = 450
    g = gpd.GeoDataFrame({"tree_id": [f"S{i}" for i in range(n)], "species": "榆树",
                          "grade": "行道树", "age": 10},
                         geometry=shapely.points(np.arange(n) + 480_000.0, np.full(n, 5317e3)),
                         crs="EPSG:4550")
    out = write_vector(g, spec, tmp_path / "trees.gpkg", chunk=100)
    info = pyogrio.read_info(out)
    assert info["features"] == n
    assert "合成示例数据" in info["layer_metadata"]["DESCRIPTION"]
    back = pyogrio.read_dataframe(out)
    assert back["树木编号"].tolist() == g["tree_id"].tolist()
    assert not list(tmp_path.glob(".*tmp*"))  # no temporary file left behind

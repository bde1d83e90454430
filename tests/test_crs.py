"""zlgis.crs: GCJ-02/BD-09 conversions against published vectors, CRS recognition and inference."""

from __future__ import annotations

import numpy as np
import pyproj
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zlgis.crs import (
    bd09_to_wgs84,
    candidate_crs,
    check_declared_crs,
    crs_label,
    gcj02_to_wgs84,
    infer_crs,
    is_geographic,
    out_of_china,
    recognise_crs,
    swapped_lat_lon,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from zlgis.errors import CRSError

# published WGS84 -> GCJ-02 pairs (lat, lng) from ../shared/reference/libraries.md
VECTORS = [
    ((31.1774276, 121.5272106), (31.17530398364597, 121.531541859215)),
    ((22.543847, 113.912316), (22.540796131694766, 113.9171764808363)),
    ((39.911954, 116.377817), (39.91334545536069, 116.38404722455657)),
]
GEOD = pyproj.Geod(ellps="WGS84")


def metres(lng1, lat1, lng2, lat2) -> np.ndarray:
    return np.asarray(GEOD.inv(lng1, lat1, lng2, lat2)[2])


@pytest.mark.parametrize(("wgs", "gcj"), VECTORS)
def test_published_vectors(wgs, gcj) -> None:
    lng, lat = wgs84_to_gcj02(wgs[1], wgs[0])
    assert round(float(lng), 6) == round(gcj[1], 6)
    assert round(float(lat), 6) == round(gcj[0], 6)


def test_vectorised_and_inverse_within_1cm() -> None:
    lat = np.array([v[0][0] for v in VECTORS])
    lng = np.array([v[0][1] for v in VECTORS])
    glng, glat = wgs84_to_gcj02(lng, lat)
    assert glng.shape == (3,)
    back = gcj02_to_wgs84(glng, glat)
    assert metres(lng, lat, *back).max() < 0.01


@settings(max_examples=80, deadline=None)
@given(st.floats(73.0, 135.0), st.floats(18.0, 53.5))
def test_round_trips_within_1cm(lng: float, lat: float) -> None:
    for fwd, inv in ((wgs84_to_gcj02, gcj02_to_wgs84), (wgs84_to_bd09, bd09_to_wgs84)):
        back = inv(*fwd(lng, lat))
        assert metres(lng, lat, *back) < 0.01


def test_outside_china_not_shifted() -> None:
    lng, lat = np.array([24.94, 20.43]), np.array([60.17, -34.02])  # Helsinki, Swellendam
    assert out_of_china(lng, lat).all()
    for f in (wgs84_to_gcj02, gcj02_to_wgs84, wgs84_to_bd09, bd09_to_wgs84):
        x, y = f(lng, lat)
        assert np.array_equal(x, lng) and np.array_equal(y, lat)


def test_offsets_at_zhalantun() -> None:
    # standards.md section 7: GCJ-02 about 529 m, BD-09 about 1.33 km at Zhalantun
    g = metres(122.737, 48.011, *wgs84_to_gcj02(122.737, 48.011))
    b = metres(122.737, 48.011, *wgs84_to_bd09(122.737, 48.011))
    assert 480 < g < 580
    assert 1250 < b < 1420


@pytest.mark.parametrize(("given_", "expected"), [
    (4490, "EPSG:4490"), ("EPSG:4326", "EPSG:4326"), ("epsg:3857", "EPSG:3857"),
    ("EPSG:4550", "EPSG:4550"), (4529, "EPSG:4529"), ("EPSG:2386", "EPSG:2386"),
    ("EPSG:2365", "EPSG:2365"), ("EPSG:2438", "EPSG:2438"), ("EPSG:2417", "EPSG:2417"),
    ("GCJ-02", "gcj02"), ("bd09", "bd09"), ("WGS84", "EPSG:4326"), ("CGCS2000", "EPSG:4490"),
])
def test_recognise(given_, expected) -> None:
    assert recognise_crs(given_) == expected


@pytest.mark.parametrize(("name", "datum", "a", "rf", "code"), [
    ("Xian_1980_3_Degree_GK_CM_123E", "D_Xian_1980", 6378140.0, 298.257, "EPSG:2386"),
    ("Beijing_1954_3_Degree_GK_CM_123E", "D_Beijing_1954", 6378245.0, 298.3, "EPSG:2438"),
    ("CGCS2000_3_Degree_GK_CM_123E", "D_China_2000", 6378137.0, 298.257222101, "EPSG:4550"),
])
def test_recognise_esri_prj(name, datum, a, rf, code) -> None:
    wkt = (f'PROJCS["{name}",GEOGCS["GCS_{datum[2:]}",DATUM["{datum}",SPHEROID["s",{a},{rf}]],'
           'PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],'
           'PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",500000.0],'
           'PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",123.0],'
           'PARAMETER["Scale_Factor",1.0],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]')
    assert recognise_crs(wkt) == code


def test_unrecognisable_is_none() -> None:
    assert recognise_crs("not a crs") is None
    assert recognise_crs(None) is None


def test_labels_and_geographic() -> None:
    assert crs_label("EPSG:2365").startswith("EPSG:2365（西安80")
    assert crs_label(None) == "未声明"
    assert is_geographic("gcj02") and is_geographic("EPSG:4490") and not is_geographic(4550)


def test_infer_lonlat_and_web_mercator() -> None:
    g = infer_crs((122.6, 47.9, 122.8, 48.1))
    assert g.crs == "EPSG:4326" and "gcj02" in g.reason
    x, y = pyproj.Transformer.from_crs(4326, 3857, always_xy=True).transform(122.737, 48.011)
    region = (121.0, 47.0, 124.5, 49.0)
    assert infer_crs((x - 500, y - 500, x + 500, y + 500), region).crs == "EPSG:3857"


def test_infer_refuses_gauss_kruger_and_names_candidates() -> None:
    with pytest.raises(CRSError) as err:
        infer_crs((480_000, 5_319_000, 481_000, 5_320_000), (121.0, 47.0, 124.5, 49.0))
    msg = str(err.value)
    for code in ("EPSG:4550", "EPSG:2386", "EPSG:2438"):
        assert code in msg
    assert err.value.exit_code == 2


def test_infer_refuses_nonsense() -> None:
    with pytest.raises(CRSError, match="不符合任何已知坐标系"):
        infer_crs((-5e7, -5e7, -4e7, -4e7))


def test_candidates_zone_prefixed() -> None:
    assert candidate_crs((41_480_000, 5_319_000, 41_481_000, 5_320_000)) == [
        "EPSG:4529", "EPSG:2365", "EPSG:2417", "EPSG:4777"]


def test_check_declared() -> None:
    assert "像是以米为单位的投影坐标" in check_declared_crs((480000, 5319000, 481000, 5320000),
                                                        "EPSG:4490")
    assert "像经纬度" in check_declared_crs((122.6, 47.9, 122.8, 48.1), "EPSG:4550")
    assert check_declared_crs((480000, 5319000, 481000, 5320000), "EPSG:4550",
                              (121.0, 47.0, 124.5, 49.0)) is None
    msg = check_declared_crs((41_480_000, 5_319_000, 41_481_000, 5_320_000), "EPSG:4550",
                             (121.0, 47.0, 124.5, 49.0))
    assert "EPSG:4529" in msg
    assert check_declared_crs((41_480_000, 5_319_000, 41_481_000, 5_320_000), "EPSG:4550",
                              (121.0, 47.0, 124.5, 49.0), strict=False) is None


def test_swapped() -> None:
    x = np.array([48.01, 122.74, 24.9])
    y = np.array([122.73, 48.0, 60.2])
    assert swapped_lat_lon(x, y).tolist() == [True, False, False]


def test_candidate_table_matches_epsg_names() -> None:
    from zlgis.crs import _projected_candidates

    datum = {"45": "CGCS2000", "23": "Xian 1980", "24": "Beijing 1954"}
    for code, zone, cm in _projected_candidates():
        name = pyproj.CRS(code).name
        if zone is not None:
            assert name.endswith(f"zone {zone}"), (code, name)
        elif cm is not None and code not in ("EPSG:32651",):
            assert f"CM {cm:.0f}E" in name, (code, name)
        short = code.split(":")[1][:2]
        if short in datum and code not in ("EPSG:4510", "EPSG:4777", "EPSG:4798"):
            assert name.startswith(datum[short]), (code, name)


# --- the working CRS guard (issue 12) ----------------------------------------------------------

def _catalog_with_crs(tmp_path, helsinki_catalog, crs):
    import yaml

    from zlgis._yaml import safe_load

    raw = safe_load(helsinki_catalog.read_text(encoding="utf-8"))
    raw["working_crs"] = crs
    raw["data_dir"] = str(helsinki_catalog.parent)
    p = tmp_path / "catalog.yaml"
    p.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return p


@pytest.mark.parametrize("crs, message", [
    ("EPSG:32635x", "工作坐标系 'EPSG:32635x' 无法识别，应为 EPSG 代码（如 EPSG:4550 或 UTM 带号 EPSG:32635）"),
    ("EPSG:4326", "工作坐标系 EPSG:4326（WGS84 经纬度）是经纬度坐标系，距离和面积需要以米为单位的投影坐标系"
                  "（如高斯-克吕格或 UTM 投影）"),
    ("EPSG:4550", "工作坐标系 EPSG:4550（CGCS2000 3度带高斯-克吕格投影 中央经线123°E）的适用范围（经度 "
                  "121.5°～124.5°，纬度 28.2°～53.6°）不包含城市边界（经度 24.94°～24.95°，纬度 "
                  "60.16°～60.18°），距离会严重失真；按边界中心应使用 EPSG:32635（WGS 84 / UTM zone 35N）"),
])
def test_bad_working_crs_exits_2_with_its_message(tmp_path, helsinki_catalog, capsys, crs,
                                                   message):
    from zlgis.cli import main

    p = _catalog_with_crs(tmp_path, helsinki_catalog, crs)
    code = main(["weekly", "--catalog", str(p), "--week", "2022-W35", "--out",
                 str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip() == f"错误：文件 {p}，字段 working_crs：{message}"
    assert not (tmp_path / "out" / "ledger.sqlite").exists()


def test_working_codes_accepted_without_pyproj_as_pyproj_accepts_them():
    from zlgis.crs import WORKING_CODES, check_working_crs, local_crs

    assert len(WORKING_CODES) == 21 + 60 + 60
    for code in sorted(WORKING_CODES):
        via_pyproj = check_working_crs(pyproj.CRS.from_epsg(code))  # not text: pyproj decides
        assert via_pyproj == f"EPSG:{code}"
        assert check_working_crs(f"EPSG:{code}") == check_working_crs(f"epsg:{code}") == via_pyproj
    # every zone local_crs recommends is one of them
    assert {local_crs(lon, lat) for lon in range(-177, 180, 6) for lat in (-30, 30)} \
        | {local_crs(lon, 40.0) for lon in range(75, 136, 3)} <= {f"EPSG:{c}" for c in WORKING_CODES}
    for text in ("EPSG:4326", "EPSG:4550x", "EPSG:4550 x"):  # not a working code: pyproj decides
        with pytest.raises(CRSError):
            check_working_crs(text)


def test_local_crs_names_gk_zone_in_china_and_utm_elsewhere():
    from zlgis.crs import local_crs

    # Zhalantun 122.7E: CGCS2000 3-degree GK CM 123E; Swellendam 20.4E 34S: UTM 34S
    assert local_crs(122.74, 48.01) == "EPSG:4550"
    assert local_crs(20.42, -34.02) == "EPSG:32734"
    assert local_crs(116.4, 39.9) == "EPSG:4548"  # Beijing, CM 117E


@pytest.mark.parametrize("kind", ["list", "array", "series"])
def test_geo_frame_equals_the_geodataframe_constructor(kind):
    import geopandas as gpd
    import pandas as pd
    from geopandas.testing import assert_geodataframe_equal
    from shapely.geometry import Point

    from zlgis.crs import geo_frame

    df = pd.DataFrame({"a": ["x", "y", None], "b": [1.5, 2.0, 3.0]}, index=[5, 6, 7])
    geoms = [Point(612000, 5320000), None, Point(612001, 5320001)]
    crs = "EPSG:4550"
    given = {"list": geoms, "array": gpd.GeoSeries(geoms, crs=crs).values,
             "series": gpd.GeoSeries(geoms, crs=crs, index=[0, 1, 2])}[kind]
    expected = gpd.GeoDataFrame(df, geometry=list(geoms), crs=crs)
    got = geo_frame(df, given, crs)
    assert_geodataframe_equal(got, expected)
    assert got.geometry.name == "geometry" and got.crs == expected.crs
    assert list(got.index) == [5, 6, 7]
    got.loc[5, "a"] = "changed"              # a frame of its own: the input is not modified
    assert df.loc[5, "a"] == "x" and "geometry" not in df.columns
    with pytest.raises(ValueError):
        geo_frame(df, geoms[:2], crs)

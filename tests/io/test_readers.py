"""zlgis.io.readers: every source format, encodings, headers, row numbers."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from zlgis.errors import UnreadableInputError
from zlgis.io.readers import (
    count_features,
    detect_dbf_encoding,
    find_xy_columns,
    list_source_layers,
    read_source,
)

X0, Y0 = 480_601.0, 5_319_572.0
NAMES = ["中央路公厕", "河西街道办事处", "雅鲁河湿地公园"]


def frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"名称": NAMES, "编号": ["A", "B", "C"]},
                            geometry=shapely.points([[X0, Y0], [X0 + 10, Y0], [X0 + 20, Y0]]),
                            crs="EPSG:4550")


@pytest.mark.parametrize("encoding", ["GBK", "UTF-8"])
def test_shapefile_without_cpg_has_no_mojibake(tmp_path: Path, encoding: str) -> None:
    p = tmp_path / "pts.shp"
    pyogrio.write_dataframe(frame(), p, encoding=encoding)
    p.with_suffix(".cpg").unlink(missing_ok=True)
    assert detect_dbf_encoding(p.with_suffix(".dbf")) == ("GB18030" if encoding == "GBK"
                                                          else "UTF-8")
    src = read_source(p)
    assert src.gdf["名称"].tolist() == NAMES
    codes = [n["code"] for n in src.notes]
    assert codes == (["encoding_detected"] if encoding == "GBK" else [])


def test_shapefile_with_cpg_trusted(tmp_path: Path) -> None:
    p = tmp_path / "pts.shp"
    pyogrio.write_dataframe(frame(), p, encoding="GBK")
    assert p.with_suffix(".cpg").exists()
    src = read_source(p)
    assert src.gdf["名称"].tolist() == NAMES and src.notes == []


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson", ".fgb", ".parquet"])
def test_vector_formats(tmp_path: Path, suffix: str) -> None:
    p = tmp_path / f"pts{suffix}"
    if suffix == ".parquet":
        frame().to_parquet(p)
    else:
        pyogrio.write_dataframe(frame(), p)
    src = read_source(p)
    # FlatGeobuf stores features in spatial-index order
    assert sorted(src.gdf["名称"]) == sorted(NAMES)
    assert src.rows.tolist() == [1, 2, 3]
    assert src.gdf.geometry.name == "geometry"
    assert src.gdf.crs is not None and src.gdf.crs.to_epsg() == 4550
    assert count_features(p) == 3


def test_dxf_layer_names_and_text(tmp_path: Path) -> None:
    g = gpd.GeoDataFrame({"Layer": ["道路红线", "绿线"]},
                         geometry=[shapely.LineString([(0, 0), (1, 0), (1, 1), (0, 0)]),
                                   shapely.LineString([(0, 0), (2, 2)])], crs="EPSG:4550")
    p = tmp_path / "plan.dxf"
    pyogrio.write_dataframe(g, p, driver="DXF")
    src = read_source(p)
    assert src.driver == "DXF"
    assert src.gdf["cad_layer"].tolist() == ["道路红线", "绿线"]
    assert "cad_handle" in src.gdf.columns and "SubClasses" not in src.gdf.columns


def test_csv_header_detection_and_rows(tmp_path: Path) -> None:
    p = tmp_path / "t.csv"
    p.write_text("扎兰屯市点位表,,\n编号,经度（度）,纬度（度）\nA,122.7,48.0\n,,\nB,122.8,48.1\n",
                 encoding="utf-8")
    src = read_source(p)
    assert src.xy_columns == ("经度（度）", "纬度（度）")
    assert src.rows.tolist() == [3, 5]  # line numbers as a spreadsheet shows them
    assert src.gdf["编号"].tolist() == ["A", "B"]
    assert shapely.get_x(src.gdf.geometry.array).tolist() == [122.7, 122.8]


def test_xlsx_group_header(tmp_path: Path) -> None:
    p = tmp_path / "t.xlsx"
    pd.DataFrame([["基本信息", None, "坐标", None], ["编号", "名称", "X", "Y"],
                  ["A", "甲", X0, Y0]]).to_excel(p, header=False, index=False)
    src = read_source(p)
    assert src.gdf.columns.tolist() == ["编号", "名称", "geometry"]
    assert src.rows.tolist() == [3]
    assert src.driver == "XLSX"


def test_explicit_xy_columns(tmp_path: Path) -> None:
    p = tmp_path / "t.csv"
    p.write_text("id,east,north\n1,480601,5319572\n", encoding="utf-8")
    with pytest.raises(UnreadableInputError, match="找不到坐标列"):
        read_source(p)
    src = read_source(p, x="east", y="north")
    assert shapely.get_y(src.gdf.geometry.array).tolist() == [5319572.0]


def test_find_xy_columns() -> None:
    assert find_xy_columns(["lat", "lng"]) == (1, 0)
    assert find_xy_columns(["名称", "地址"]) is None


def test_unclosed_ring_closed_per_row(tmp_path: Path) -> None:
    p = tmp_path / "u.geojson"
    p.write_text('{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},'
                 '"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1]]]}}]}')
    src = read_source(p)
    assert [n["code"] for n in src.notes] == ["unclosed_ring"]
    geom = src.gdf.geometry.iloc[0]
    assert geom.geom_type == "Polygon" and shapely.get_num_coordinates(geom) == 4
    assert geom.exterior.is_closed and geom.area == 0.5


def test_list_layers_and_missing_layer(tmp_path: Path) -> None:
    p = tmp_path / "m.gpkg"
    pyogrio.write_dataframe(frame(), p, layer="a")
    pyogrio.write_dataframe(frame(), p, layer="b", append=False)
    assert list_source_layers(p) == ["a", "b"]
    with pytest.raises(UnreadableInputError, match="文件中没有图层 c（有：a、b）"):
        read_source(p, "c")


def test_osm_pbf_through_gdal(realdata: Path) -> None:
    p = realdata / "helsinki" / "Helsinki.osm.pbf"
    layers = list_source_layers(p)
    assert {"points", "lines", "multilinestrings", "multipolygons",
            "other_relations"} <= set(layers)
    src = read_source(p, "multipolygons")
    assert src.driver == "OSM"
    assert int(src.gdf["building"].notna().sum()) > 400  # 494 buildings, some cut at the edge
    assert np.isin(shapely.get_type_id(src.gdf.geometry.dropna().array), [3, 6]).all()


def test_dxf_in_gbk_code_page(tmp_path: Path) -> None:
    """Older Chinese CAD drawings store text in GBK: layer names must not come out garbled."""
    g = gpd.GeoDataFrame({"Layer": ["道路红线", "城市蓝线"]},
                         geometry=[shapely.LineString([(0, 0), (1, 0), (1, 1), (0, 0)]),
                                   shapely.LineString([(0, 0), (2, 2)])], crs="EPSG:4550")
    utf8 = tmp_path / "utf8.dxf"
    pyogrio.write_dataframe(g, utf8, driver="DXF")
    p = tmp_path / "gbk.dxf"
    p.write_bytes(utf8.read_text(encoding="utf-8").encode("gbk"))
    src = read_source(p)
    assert src.encoding == "CP936"
    assert src.gdf["cad_layer"].tolist() == ["道路红线", "城市蓝线"]


@pytest.mark.parametrize("promote", [False, True])
def test_gpkg_polygons_same_as_pyogrio(tmp_path: Path, promote: bool) -> None:
    """Every geometry parsed by GEOS from the Arrow WKB: the same rows as a pyogrio read."""
    rng = np.random.default_rng(5)
    n = 400
    x, y = X0 + rng.uniform(0, 5000, n), Y0 + rng.uniform(0, 5000, n)
    geoms = shapely.box(x, y, x + rng.uniform(5, 20, n), y + rng.uniform(5, 20, n))
    geoms[::7] = shapely.Point(X0, Y0).buffer(8)  # another record length
    geoms[3] = shapely.from_wkt(f"POLYGON(({X0} {Y0},{X0 + 9} {Y0},{X0 + 9} {Y0 + 2},"
                                f"{X0 + 2} {Y0 + 2},{X0 + 2} {Y0 + 9},{X0} {Y0 + 9},{X0} {Y0}))")
    geoms[5] = shapely.box(X0, Y0, X0 + 50, Y0 + 50).difference(shapely.box(X0 + 5, Y0 + 5,
                                                                           X0 + 9, Y0 + 9))
    geoms[8] = shapely.multipolygons([shapely.box(X0, Y0, X0 + 1, Y0 + 1),
                                      shapely.box(X0 + 3, Y0, X0 + 4, Y0 + 1)])
    geoms[9] = None
    geoms[11] = shapely.from_wkt(f"POLYGON(({X0} {Y0},{X0 + 2} {Y0 + 2},{X0 + 2} {Y0},"
                                 f"{X0} {Y0 + 2},{X0} {Y0}))")  # bow-tie
    gdf = gpd.GeoDataFrame({"编号": [f"B{i}" for i in range(n)]}, geometry=geoms,
                           crs="EPSG:4550")
    p = tmp_path / "b.gpkg"
    # promote: a MultiPolygon layer, every polygon stored as a one-part multi-polygon
    pyogrio.write_dataframe(gdf, p, layer="b", promote_to_multi=promote)
    src = read_source(p, "b")
    ref = pyogrio.read_dataframe(p, layer="b", use_arrow=True)
    got = np.asarray(src.gdf.geometry.array, dtype=object)
    want = np.asarray(ref.geometry.array, dtype=object)
    assert [None if g is None else shapely.to_wkb(g) for g in got] == [
        None if g is None else shapely.to_wkb(g) for g in want]
    assert src.gdf["编号"].tolist() == ref["编号"].tolist() and src.notes == []


@pytest.mark.parametrize("driver,suffix", [("GPKG", ".gpkg"), ("FlatGeobuf", ".fgb")])
def test_datetimes_keep_their_instant(tmp_path: Path, driver: str, suffix: str) -> None:
    """A date-time written with +08:00, with Z, or without an offset (a local time) comes back
    as the same instant, and the loader's attribute step turns each into the same local time.
    GDAL's Arrow stream alone read the offset-less GeoPackage value as UTC (8 h late after
    conversion to local time) and dropped the FlatGeobuf offsets (Z came back 8 h early)."""
    from zlgis.validate.attributes import coerce_series

    values = [pd.Timestamp("2022-09-01 10:00", tz="Asia/Shanghai"),     # written +08:00
              pd.Timestamp("2022-09-01 02:00", tz="UTC"),               # written Z
              pd.Timestamp("2022-09-01 10:00")]                          # a local time
    for i, v in enumerate(values):      # one file each: a column holds one kind of value
        p = tmp_path / f"t{i}{suffix}"
        pyogrio.write_dataframe(gpd.GeoDataFrame(
            {"t": pd.Series([v, v + pd.Timedelta(hours=14)])},
            geometry=shapely.points([[X0, Y0]] * 2), crs="EPSG:4550"), p, driver=driver)
        got = read_source(p).gdf["t"]
        if v.tzinfo is not None:
            assert str(got.dt.tz) == "UTC" and got.iloc[0] == v      # the same instant
        local, bad = coerce_series(got, "datetime")
        assert not bad.any()
        assert local.tolist() == [pd.Timestamp("2022-09-01 10:00"),
                                  pd.Timestamp("2022-09-02 00:00")], (driver, v)


def test_parse_datetimes_mixed_column() -> None:
    """Text as GDAL hands it over: offsets kept, offset-less values local (UTC+8), bad -> NaT."""
    from zlgis.io.readers import parse_datetimes

    got = parse_datetimes(pd.Series(["2022-09-01T10:00:00+08:00", "2022-09-01T02:00:00Z",
                                     "2022-09-01T10:00:00", "2022-09-01T10:00:00.500",
                                     None, "不是时间"]))
    want = pd.Timestamp("2022-09-01 02:00", tz="UTC")
    assert got.iloc[:3].tolist() == [want] * 3
    assert got.iloc[3] == want + pd.Timedelta(milliseconds=500)
    assert got.iloc[4:].isna().all()


def test_column_blank_and_number_tests_match_per_value_ones():
    """The column-wise blank and number tests of CSV text columns give what the per-value
    definitions give (whitespace of every kind, full-width space, empty, missing)."""
    import numpy as np
    import pandas as pd

    from zlgis.io import readers

    vals = ["1.5", " 2.5", "3.5 ", "\u3000 4", "x", "", " ", "1e3", "-0", "\t7\n", "\x1c8",
            "9\x1f", "nan", "inf", "１２", " 1 2 ", "\u3000", None]
    for col in (pd.Series(vals, dtype="str"), pd.Series(vals, dtype=object)):
        want_blank = np.array([readers._blank(v) for v in col.tolist()])
        assert (readers._blank_mask(col) == want_blank).all()
        want = pd.to_numeric(col.map(lambda v: v.strip() if isinstance(v, str) else v),
                             errors="coerce").to_numpy(dtype=float)
        assert np.array_equal(readers._numbers(col), want, equal_nan=True)
    assert readers._blank_mask(pd.Series(vals, dtype="str")).sum() == 4


# ------------------------------------------------------------------------------------------------
# Arrow fast paths of the CSV reader, held equal to the pandas path they replace
# ------------------------------------------------------------------------------------------------

def _pandas_grid(text: str, sep: str) -> pd.DataFrame | Exception:
    import io

    try:
        return pd.read_csv(io.StringIO(text), header=None, dtype=str, sep=sep,
                           skip_blank_lines=False, keep_default_na=False)
    except Exception as exc:  # noqa: BLE001 - the reader turns any of them into its error
        return exc


_CELLS = ["a", "1.5", " ", "", "\t", "NA", "nan", " 2 ", "经度", "a'b", "#", "\\", "None", "\x00",
          "\x0b", "\u2028", "-", "e5", "\r", "\n", "\r\n", ",", '"', '"x,y"', '"a\nb"', 'a"b']


def test_arrow_grid_equals_pandas_grid_on_random_texts() -> None:
    import random

    from zlgis.io.readers import arrow_text_grid

    rng = random.Random(21)
    fast = 0
    for _ in range(1200):
        ncol, sep = rng.randint(1, 4), rng.choice([",", "\t"])
        lines = [sep.join("".join(rng.choice(_CELLS) for _ in range(rng.randint(0, 3)))
                          if rng.random() < 0.3 else rng.choice(["a", "1", "2.5", ""])
                          for _ in range(ncol)) for _ in range(rng.randint(1, 5))]
        text = rng.choice(["\n", "\r\n", "\r"]).join(lines) + rng.choice(["", "\n"])
        grid = arrow_text_grid(text, sep)
        if grid is None:
            continue
        fast += 1
        ref = _pandas_grid(text, sep)
        assert not isinstance(ref, Exception), (text, ref)
        pd.testing.assert_frame_equal(grid, ref, check_column_type=True)
        pd.testing.assert_frame_equal(arrow_text_grid(text.encode("utf-8"), sep), grid)
    assert fast > 300  # most random texts take the Arrow path


@pytest.mark.parametrize("text", ["a,b\n\n1,2\n", "a,b\n1,2\n\n", "a,b\r\n\r\n1,2", "a\tb\n1\t2\n"])
def test_arrow_grid_blank_lines_as_pandas(text: str) -> None:
    from zlgis.io.readers import arrow_text_grid

    sep = "\t" if "\t" in text else ","
    pd.testing.assert_frame_equal(arrow_text_grid(text, sep), _pandas_grid(text, sep),
                                  check_column_type=True)


@pytest.mark.parametrize("text", ['a,b\n1,"2"\n', 'a,b\n1,"2\n', "a,b\n1\n",
                                  "a,b\n1,2,3\n", "a\n1\n", "\n\n", "a,b\n \n1,2\n"])
def test_arrow_grid_leaves_quotes_and_ragged_lines_to_pandas(text: str) -> None:
    from zlgis.io.readers import arrow_text_grid

    assert arrow_text_grid(text, ",") is None


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_track_file_same_through_arrow_and_pandas(tmp_path: Path, monkeypatch,
                                                      encoding: str) -> None:
    import zlgis.io.readers as readers

    lines = ["序号,车辆编号,定位时间,经度,纬度"] + [
        f"S{i},V{i % 3},2022-08-29 13:{i % 60:02d}:00,{122.7 + i * 1e-4:.7f},{47.69 + i * 1e-5:.7f}"
        for i in range(500)] + ["S9,V1,2022-08-29 13:00:00,x,47.7", "S10,V1,,  ,", ",,,,"]
    p = tmp_path / "tracks.csv"
    p.write_text("\n".join(lines) + "\n", encoding=encoding)
    fast = read_source(p)
    monkeypatch.setattr(readers, "arrow_text_grid", lambda text, sep: None)
    monkeypatch.setattr(readers, "text_numbers", lambda raw: None)
    slow = read_source(p)
    pd.testing.assert_frame_equal(pd.DataFrame(fast.gdf.drop(columns="geometry")),
                                  pd.DataFrame(slow.gdf.drop(columns="geometry")))
    assert shapely.to_wkb(fast.gdf.geometry.array).tolist() == \
        shapely.to_wkb(slow.gdf.geometry.array).tolist()
    assert fast.rows.tolist() == slow.rows.tolist() and fast.notes == slow.notes
    assert fast.encoding == slow.encoding == ("GB18030" if encoding == "gb18030" else "UTF-8")
    assert list(fast.gdf.columns[:2]) == ["序号", "车辆编号"]
    assert [n["code"] for n in fast.notes] == ["coordinate_not_number", "null_geometry"]


@pytest.mark.parametrize("text", ["1.", ".5", "-.5", "+1", "+.5", "-1.", "00012", "122.7415464",
                                  "123456789012345", "0.1000000000000", "-0", "0", ".", "-", "",
                                  "1-", "1.2.3", "1e5", "inf", "nan", " 1", "0.00000000000001",
                                  "99999999999999.9", "１２"])
def test_text_numbers_equal_to_numeric(text: str) -> None:
    from zlgis.io.readers import text_numbers

    s = pd.Series([text, "1.5", "-122.25"], dtype="str")
    ref = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)
    got = text_numbers(s)
    if got is not None:  # the Arrow cast read it: the same doubles, signs of zero included
        assert np.array_equal(got, ref) and np.array_equal(np.signbit(got), np.signbit(ref))
    if text in ("-0", "0", ".", "-", "", "1-", "1e5", "inf", " 1", "0.00000000000001"):
        assert got is None


def test_text_numbers_equal_to_numeric_on_random_decimals() -> None:
    from zlgis.io.readers import text_numbers

    rng = np.random.default_rng(5)
    texts = []
    for _ in range(20000):
        digits = "".join(rng.choice(list("0123456789"), rng.integers(1, 15)))
        cut = int(rng.integers(0, len(digits) + 1))
        texts.append((str(rng.choice(["", "-", "+"])) + digits[:cut] + "." + digits[cut:])[:15])
    texts = [t for t in texts if t.strip("+-.0")]  # zeros go to pandas, tested above
    s = pd.Series(texts, dtype="str")
    got = text_numbers(s)
    assert got is not None
    assert np.array_equal(got, pd.to_numeric(s, errors="coerce").to_numpy(dtype=float))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=4),
                          st.sampled_from(["", " ", "\u3000", "\x1c", "\x85", "\u2028", "\t\n",
                                           " a ", "\u200b"])), max_size=30))
def test_blank_mask_of_arrow_text_equals_is_blank(values: list[str | None]) -> None:
    from zlgis.io.readers import _blank_mask
    from zlgis.io.table_rows import is_blank

    col = pd.Series(values, dtype="str")
    assert _blank_mask(col).tolist() == [is_blank(v) for v in values]


@pytest.mark.parametrize("raw", [b"\xed\xa0\x80", b"\xc0\x80", b"\xf4\x90\x80\x80", b"\x80",
                                 b"\xe4\xb8", b"\xd6\xd0\xce\xc4"])
def test_arrow_grid_of_bytes_only_for_utf8(raw: bytes) -> None:
    """Bytes Python's strict UTF-8 decoding refuses (a GBK file) are left to the decoder."""
    from zlgis.io.readers import arrow_text_grid

    data = b"a,b\n1," + raw + b"\n"
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert arrow_text_grid(data, ",") is None


def test_frame_does_not_keep_gdal_batches(tmp_path: Path) -> None:
    """A frame's text columns hold their own buffers, not GDAL's batch of rows (which holds
    every column, the geometries' WKB included): read, the frame holds about what a copy of its
    geometries does."""
    from zlgis.workers import release_memory

    rng = np.random.default_rng(7)
    n, vertices = 400, 5_000  # 32 MB of WKB coordinates
    lines = shapely.linestrings(rng.random((n, vertices, 2)) * 1000 + [X0, Y0])
    path = tmp_path / "lines.gpkg"
    gpd.GeoDataFrame({"名称": [f"路{i}" for i in range(n)]}, geometry=lines,
                     crs="EPSG:4550").to_file(path)
    wkb_mb = n * vertices * 16 / 2**20
    read_source(path)  # imports and first-use allocations
    before = release_memory(collect=True)
    gdf = read_source(path).gdf
    held = (release_memory(collect=True) - before) / 2**20
    geoms = shapely.from_wkb(shapely.to_wkb(gdf.geometry.values))
    geoms_mb = (release_memory(collect=True) - before) / 2**20 - held
    assert gdf["名称"].tolist()[:2] == ["路0", "路1"] and len(geoms) == n
    assert geoms_mb > 0.8 * wkb_mb
    assert held < geoms_mb + 0.25 * wkb_mb, (held, geoms_mb)

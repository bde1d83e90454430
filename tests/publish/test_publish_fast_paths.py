"""The fast paths of map publishing give the same text as the reference paths they replace
(issue 21): layer JSON without decoding GeoJSON, stable ids without a look-behind search, the
``<meta charset`` test without lowering the page, the rule legend without a filter per rule."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
import shapely

from zlgis.publish import maps as M
from zlgis.publish.escape import js_json
from zlgis.publish.html import HEX_ID, stable_ids
from zlgis.publish.map_page import _META_CHARSET


def _reference_layer_json(spec: dict, geoms: np.ndarray, props: list[dict]) -> str:
    """The path before issue 21: decode GEOS's GeoJSON, encode the whole layer."""
    return js_json({**spec, "data": M._feature_collection(geoms, props)})


def _random_geoms(rng: np.random.Generator, n: int, scale: float, decimals: int | None
                  ) -> np.ndarray:
    def xy(k: int) -> np.ndarray:
        c = rng.uniform(-scale, scale, (k, 2))
        return np.round(c, decimals) if decimals is not None else c

    out = []
    for i in range(n):
        kind = i % 6
        if kind == 0:
            out.append(shapely.Point(xy(1)[0]))
        elif kind == 1:
            out.append(shapely.LineString(xy(int(rng.integers(2, 9)))))
        elif kind == 2:
            out.append(shapely.Polygon(xy(5)).buffer(0) if i % 12 else shapely.box(*xy(1)[0],
                                                                                 *xy(1)[0] + 1))
        elif kind == 3:
            out.append(shapely.MultiPoint(xy(3)))
        elif kind == 4:
            out.append(shapely.MultiLineString([xy(3), xy(2)]))
        else:
            out.append(shapely.GeometryCollection([shapely.Point(xy(1)[0]),
                                                   shapely.LineString(xy(3))]))
    out += [None, shapely.Point(), shapely.Polygon()]      # missing and empty: not drawn
    return np.array(out, dtype=object)


@pytest.mark.parametrize("scale,decimals", [(180.0, 6), (180.0, 4), (180.0, None),
                                            (1e-3, None), (2e15, None), (5e16, 2)])
def test_layer_json_is_the_reference_text(scale: float, decimals: int | None) -> None:
    rng = np.random.default_rng(int(scale) % 1000 + (decimals or 0))
    geoms = _random_geoms(rng, 300, scale, decimals)
    props = [{"name": f"第{i}号", "tricky": M._FEATURE_HEAD if i % 7 == 0 else "<b>'&</b>",
              "n": i} for i in range(len(geoms))]
    spec = {"key": "k", "title": "图层", "data": None, "styles": [{"color": "#123"}],
            "fields": [["name", "名称"]], "tip": None}
    text, n = M._layer_json(spec, geoms, props)
    assert text == _reference_layer_json(spec, geoms, props)
    drawn, texts = M._drawn_geojson(geoms)
    fast = M._geometry_json(texts, geoms[drawn])
    assert (fast is not None) == (scale < 1e15)      # the fast path is the one compared
    assert n == len(geoms) - 3
    assert n == len(json.loads(text)["data"]["features"])


def test_layer_json_special_coordinates() -> None:
    """Coordinates GEOS writes otherwise than Python (1e+15, NaN) or that need the long form."""
    for coords in ([(1e15, 1.0)], [(5e15, 48.0)], [(122.74228599999999, 47.957178999999996)],
                   [(-0.0, 0.0)], [(1e-5, 9.9e-5)], [(np.nan, 1.0)], [(1e300, 5e-324)]):
        geoms = np.array([shapely.Point(c) for c in coords] + [shapely.Point(1.5, 2.5)],
                         dtype=object)
        props = [{} for _ in geoms]
        spec = {"key": "k", "data": None}
        assert M._layer_json(spec, geoms, props)[0] == _reference_layer_json(spec, geoms, props)
    z = np.array([shapely.Point(1.0, 2.0, 3e15), shapely.Point(1.0, 2.0, 3.0)], dtype=object)
    assert M._geometry_json(shapely.to_geojson(z).tolist(), z) is None    # not vouched for
    assert M._layer_json({"data": None}, z, [{}, {}])[0] == _reference_layer_json(
        {"data": None}, z, [{}, {}])


def test_geometry_json_rewrites_only_long_numbers() -> None:
    g = np.array([shapely.Point(122.742286, 47.957179)], dtype=object)
    texts = shapely.to_geojson(g).tolist()
    out = M._geometry_json(texts, g)
    assert out == ['{"type":"Point","coordinates":[122.742286,47.957179]}']


def _reference_stable_ids(text: str) -> str:
    mapping: dict[str, str] = {}
    return HEX_ID.sub(lambda m: mapping.setdefault(m.group(0), f"{len(mapping):032x}"), text)


def test_stable_ids_is_the_look_behind_search() -> None:
    rng = np.random.default_rng(3)
    ids = ["".join(rng.choice(list("0123456789abcdef"), 32)) for _ in range(6)]
    pieces = [f"map_{ids[0]}", f"feature_group_{ids[1]}_{ids[2]}", f"X_{ids[3]}",
              f"9_{ids[4]}", f"_{ids[5]}", f"a_{ids[0]}f", f"a_{ids[1]}g", f"{ids[2]}",
              f"b_{ids[3]}_c_{ids[4]}", "zz_" + "a" * 31, f"é_{ids[5]}", f"tile_layer_{ids[0]}"]
    for k in range(40):
        order = rng.permutation(len(pieces))
        sep = ["", " ", "\n", ".", "_", "z", '"'][k % 7]
        text = sep.join(pieces[i] for i in order)
        assert stable_ids(text) == _reference_stable_ids(text)
    assert stable_ids(f"_{ids[0]} x") == f"_{ids[0]} x"        # no letter before: kept


def test_meta_charset_search_is_lowered_search() -> None:
    # only ASCII letters lower to the letters searched for (the characters lowering to ASCII,
    # U+0130 and U+212A KELVIN SIGN, are in the Basic Multilingual Plane)
    letters = set("<meta charset")
    assert not [c for c in map(chr, range(128, 0x10000)) if set(c.lower()) & letters]
    assert "\u212a".lower() == "k" and "k" not in letters
    for page in ("<html><head><META Charset='x'>", "<meta charset", "<meta  charset",
                 "<meta charſet", "<html><head>", "<MEta CHARSET"):
        assert bool(_META_CHARSET.search(page)) == ("<meta charset" in page.lower())


def _reference_rule_legend(f: pd.DataFrame, numbers: dict[str, int]) -> list[str]:
    out = ['<div style="margin-top:4px;font-weight:bold">问题类型（图上编号）</div>']
    counts = f["rule"].astype(str).value_counts()
    for rid, n in numbers.items():
        r = M.find_rule(rid)
        label = r.label if r is not None else rid
        sev = str(f.loc[f["rule"].astype(str) == rid, "_sev"].iloc[0])
        color = M.SEVERITY_COLORS[sev]
        out.append(f'<div><i class="gl" style="background:{color};color:'
                   f'{M.best_text_color(color)}">{n}</i>{M.escape_html(label)}'
                   f'（{M.SEVERITY_LABELS[sev]}，{int(counts[rid])} 处）</div>')
    return out


def test_rule_legend_is_the_filter_per_rule() -> None:
    rng = np.random.default_rng(5)
    rules = ["unpermitted_construction", "toilet_coverage", "made_up_rule", "litter_bins"]
    f = pd.DataFrame({"rule": rng.choice(rules, 200),
                      "_sev": rng.choice(["high", "medium", "low"], 200)})
    numbers = M._rule_numbers(f)
    assert M._rule_legend(f, numbers) == _reference_rule_legend(f, numbers)
    assert re.search("made_up_rule", "".join(M._rule_legend(f, numbers)))


def test_grids_by_name_is_the_groupby() -> None:
    from zlgis.publish.portal import _grids_by_name

    rng = np.random.default_rng(8)
    names = rng.choice(["中央街", "兴华路", "nan", "", "A路"], 500).astype(object)
    grids = rng.choice([f"G{i:03d}" for i in range(30)], 500).astype(object)
    hit = pd.DataFrame({"name": names, "grid": grids})
    ref = hit.groupby("name")["grid"].apply(lambda s: sorted(set(s))).to_dict()
    assert _grids_by_name(names, grids) == ref
    assert _grids_by_name(names[:0], grids[:0]) == {}


def test_long_numbers_are_every_number_of_16_characters_or_more() -> None:
    rng = np.random.default_rng(11)
    values = np.concatenate([rng.uniform(-180, 180, 3000), np.round(rng.uniform(-180, 180, 3000),
                                                                    6),
                             10.0 ** rng.uniform(-9, 14.9, 3000) * rng.choice([-1, 1], 3000)])
    texts = shapely.to_geojson(shapely.points(values, values[::-1])).tolist()
    joined = "\n".join(texts)
    tokens = [(m.start(), m.end()) for m in
              re.finditer(r"-?[0-9]+(?:\.[0-9]+)?(?:e[+-]?[0-9]+)?", joined)]
    found = set(M._long_numbers(joined))
    assert found <= set(tokens)                       # whole numbers, never a part of one
    assert {t for t in tokens if t[1] - t[0] >= 16} <= found
    assert any(t[1] - t[0] < 16 for t in found)        # a run of 7 digits in a shorter one


def test_replace_all_is_replace_one_after_the_other() -> None:
    from zlgis.publish.assets import ASSETS, replace_all

    urls = {a.cdn(rel): f"zlgis_assets/{a.package}/{rel}" for a in ASSETS.values()
            for rel in (*a.js, *a.css)}
    text = "<head>" + "".join(f'<script src="{u}"></script>' for u in urls) + \
        '</head><script>var d = {"u": "' + next(iter(urls)) + '"};</script>'

    def seq(t: str, pairs: dict[str, str]) -> str:
        for k, v in pairs.items():
            t = t.replace(k, v)
        return t

    assert replace_all(text, urls) == seq(text, urls)
    assert "https://" not in replace_all(text, urls)
    for pairs in ({"ab": "x", "abc": "y"}, {"a": "b", "b": "c"}, {}, {"x": "xx"},
                  {"abc": "1", "bcd": "2"}, {"bcd": "2", "abc": "1"}):
        for t in ("abcd abc ab a b bcd", "", "xxabcdbcdab"):
            assert replace_all(t, pairs) == seq(t, pairs)


def _tricky_frames() -> list[pd.DataFrame]:
    text = ["a", "", None, 'say "hi"', "a,b", "line\nbreak", "cr\ronly", "=1+2", "-3", "'=x",
            "中文，逗号", " lead", "tab\there", "\ufeffbom"]
    n = len(text)
    rows = pd.array([1, None, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14], dtype="Int64")
    return [
        pd.DataFrame({"layer": text, "row": rows, "n": np.arange(n), "s": pd.array(
            text[::-1], dtype="string")}),
        pd.DataFrame({"only": ["", None, "x"]}),
        pd.DataFrame({"a": pd.Series([], dtype=object), "b": pd.Series([], dtype="Int64")}),
        pd.DataFrame({"f": [1.5, None, 2.0], "t": ["x", "y", None]}),      # floats: to_csv
        pd.DataFrame({"b": [True, False, True]}),                          # booleans: to_csv
        pd.DataFrame({"o": ["x", 3, None]}),                               # mixed: to_csv
    ]


@pytest.mark.parametrize("block", [32_768, 3])
def test_write_csv_is_to_csv(tmp_path, monkeypatch, block) -> None:
    """The file is ``to_csv``'s, written a block of rows at a time (3: several blocks, the last
    of one row; a value only a later block holds sends the whole file to ``to_csv``)."""
    import zlgis.io.tables as T
    from zlgis.io.tables import _csv_cells, safe_frame, write_csv
    from zlgis.validate.report import empty_issues

    monkeypatch.setattr(T, "_CSV_BLOCK", block)
    late = pd.DataFrame({"o": [*"abcdefgh", 3, "j"]})                 # mixed in block 3: to_csv
    frames = [*_tricky_frames(), empty_issues(), late]
    fast = [_csv_cells(safe_frame(f)) is not None for f in frames]
    assert fast == [True, True, True, False, False, False, True, False]
    for i, f in enumerate(frames):
        ref = tmp_path / f"ref{i}.csv"
        safe_frame(f).to_csv(ref, index=False, encoding="utf-8-sig", lineterminator="\r\n")
        out = write_csv(f, tmp_path / f"out{i}.csv")
        assert out.read_bytes() == ref.read_bytes(), i


def _reference_props(gdf: pd.DataFrame, fields: list[str]) -> list[dict]:
    """_props before issue 21: a dict per row filled cell by cell."""
    cols = {f: M._datetime_texts(gdf[f]) if pd.api.types.is_datetime64_any_dtype(gdf[f].dtype)
            else gdf[f].tolist() for f in fields if f in gdf.columns}
    out: list[dict] = [{} for _ in range(len(gdf))]
    for f, values in cols.items():
        for i, v in enumerate(values):
            d = (v if v.strip() else None) if type(v) is str else M.display_value(v)
            if d is not None:
                out[i][f] = d
    return out


def test_props_are_the_cell_by_cell_dicts() -> None:
    n = 8
    frame = pd.DataFrame({
        "name": ["中央街", " ", "", None, "a", "b", "c", "d"],
        "arrow": pd.array(["x", None, "y", " ", "z", "w", "v", "u"], dtype="string"),
        "depth": [1.0, np.nan, 2.5, 2.5, 3.14159, -0.0, 1e20, 7.0],
        "n": np.arange(n),
        "flag": [True, False] * 4,
        "when": pd.to_datetime(["2024-07-01", "2024-07-01 08:30", None, "2024-01-02",
                                "2024-07-01", "2024-07-01", "2024-07-01", "2024-07-01"], format="mixed"),
        "obj": [{"a": 1}, pd.NA, 3, "t", None, 2.0, True, np.int64(4)],
    })
    for fields in (list(frame.columns), ["name", "name", "missing"], [], ["n", "flag"]):
        assert M._props(frame, fields) == _reference_props(frame, fields)
        got = M._props(frame, fields)
        assert [list(d) for d in got] == [list(d) for d in _reference_props(frame, fields)]

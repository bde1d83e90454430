"""zlgis.validate.attributes: types, required fields, domains, ranges, patterns, duplicate ids."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zlgis.catalog import Catalog
from zlgis.validate.attributes import check_attributes, coerce_series, duplicated_first

CAT = Catalog.load()


def test_coerce_types() -> None:
    v, bad = coerce_series(pd.Series([1001.0, 12.0, None]), "str")
    assert v.tolist()[:2] == ["1001", "12"] and pd.isna(v.iloc[2]) and not bad.any()
    v, bad = coerce_series(pd.Series(["1.5", "x", "", " 2 "]), "float")
    assert v.iloc[0] == 1.5 and v.iloc[3] == 2.0 and bad.tolist() == [False, True, False, False]
    v, bad = coerce_series(pd.Series([3, 4]), "int")
    assert v.dtype == "int64" and not bad.any()
    v, bad = coerce_series(pd.Series(["是", "否", "Y", "也许", None]), "bool")
    assert v.tolist()[:3] == [True, False, True] and bad.tolist() == [False] * 3 + [True, False]
    v, bad = coerce_series(pd.Series(["2022-05-03", "2022/5/4", "2022年5月5日", "昨天"]), "date")
    assert [d.day for d in v.iloc[:3]] == [3, 4, 5] and bad.tolist() == [False] * 3 + [True]
    v, bad = coerce_series(pd.Series(["2022-05-03 08:15"]), "datetime")
    assert v.iloc[0].hour == 8


def test_check_rejects_and_warns() -> None:
    spec = CAT["roads"]
    df = pd.DataFrame({
        "road_id": ["R1", "R2", "R3", "R1", "R5"],
        "road_class": ["主干路", "高速", "支路", "支路", "支路"],
        "width": ["30", "20", "1", "12", "15"],
        "lanes": [4, 2, 40, 2, 2],
        "district": ["河东", "河西", "河东", "城外", "河西"],
    })
    res = check_attributes(df, spec)
    got = {(code, tuple(np.asarray(pos).tolist()), action) for pos, code, _, action, _ in
           res.problems}
    assert got == {("not_allowed", (1,), "rejected"), ("out_of_range", (2,), "rejected"),
                   ("out_of_range", (2,), "warning"), ("not_allowed", (3,), "warning"),
                   ("duplicate_id", (3,), "rejected")}
    assert res.rejected.tolist() == [False, True, True, True, False]
    assert pd.isna(res.frame.loc[3, "district"])  # bad optional value removed
    assert res.frame["lanes"].dtype == "Int64"


def test_pattern_and_missing_values() -> None:
    spec = CAT["grids"]
    df = pd.DataFrame({"grid_id": ["150783001001001", "bad", "150783001001003"],
                       "subdistrict": ["兴华街道", "兴华街道", None],
                       "community": ["一社区", "二社区", "三社区"]})
    res = check_attributes(df, spec)
    codes = {code: np.asarray(pos).tolist() for pos, code, _, _, _ in res.problems}
    assert codes == {"pattern_mismatch": [1], "missing_value": [2]}
    assert res.rejected.tolist() == [False, True, True]


def test_missing_required_field() -> None:
    res = check_attributes(pd.DataFrame({"tree_id": ["T1", "T2"]}), CAT["trees"])
    assert res.missing_fields == ["grade"] and res.rejected.all()
    filled = check_attributes(pd.DataFrame({"tree_id": ["T1"]}), CAT["trees"], fill_missing=True)
    assert not filled.rejected.any() and "grade" in filled.frame.columns


def test_messages_name_the_source_column() -> None:
    res = check_attributes(pd.DataFrame({"tree_id": ["T1"], "grade": ["灌木"]}), CAT["trees"],
                           source_names={"grade": "保护等级"})
    [(pos, code, msgs, action, field)] = res.problems
    assert field == "保护等级" and msgs[0].startswith("值“灌木”不在允许值（一级古树、")


def test_duplicated_first() -> None:
    s = pd.Series(["a", None, "a", "b", None, "b"], dtype="str")
    assert duplicated_first(s).tolist() == [False, False, True, False, False, True]


def test_arrow_duplicates_agree_with_pandas() -> None:
    rng = np.random.default_rng(7)
    vals = rng.integers(0, 5000, 20_000).astype(str).astype(object)
    vals[rng.integers(0, 20_000, 300)] = None
    s = pd.Series(vals, dtype="str")
    from zlgis.validate.attributes import arrow_duplicated_first

    assert np.array_equal(arrow_duplicated_first(s), duplicated_first(s))
    assert arrow_duplicated_first(pd.Series([1, 2, 1])) is None  # not Arrow strings


@pytest.mark.parametrize("case", ["short", "nine", "sixteen", "long", "random_bytes"])
def test_arrow_duplicates_match_pandas_on_tricky_ids(case: str) -> None:
    """Integer-packed ids and the Arrow-hashing fallback flag exactly pandas' duplicates."""
    import pyarrow as pa

    from zlgis.validate.attributes import arrow_duplicated_first

    rng = np.random.default_rng(11)
    tricky = ["", None, "A", "A\x00", "A\x00\x00", "\x00", "a" * 8, "a" * 8 + "b", "a" * 16,
              "编号1", "编号１", " B1", "B1", "B1 ", "b1"]
    if case == "short":  # 1..8 bytes: one word
        pool = ["".join(rng.choice(list("AB0\x00"), rng.integers(1, 9))) for _ in range(300)]
    elif case == "nine":  # demo-city style JZ0000123 (two words)
        pool = [f"JZ{i:07d}" for i in rng.integers(0, 400, 300)]
    elif case == "sixteen":
        pool = ["".join(rng.choice(list("xyz"), rng.integers(7, 17))) for _ in range(300)]
    elif case == "long":  # longer than 16 bytes: Arrow hashing
        pool = [f"ZLT-2022-建筑-{i:06d}" for i in rng.integers(0, 400, 300)]
    else:  # 16 varied bytes: more than 64 bits vary, Arrow hashing
        pool = ["".join(chr(c) for c in rng.integers(33, 127, 16)) for _ in range(300)]
    for vals in (pool + pool[:50], pool + tricky + pool[:50] + tricky):
        vals = [vals[i] for i in rng.permutation(len(vals))]
        s = pd.Series(vals, dtype="str")
        assert np.array_equal(arrow_duplicated_first(s), duplicated_first(s))
        # sliced and chunked Arrow arrays give the same flags
        arr = pa.array(vals, type=pa.string())
        part = pd.Series(pd.arrays.ArrowStringArray(
            pa.chunked_array([arr.slice(5, 100), arr.slice(105)])), dtype="str")
        assert np.array_equal(arrow_duplicated_first(part), duplicated_first(part))


@pytest.mark.parametrize("ids", [
    [f"B{i}" for i in range(0, 3000, 7)] + ["B0", "B", "", None, "B1\x00", "B1", "B\x00"],
    [f"JZ{i:07d}" for i in range(0, 3000, 3)] + ["JZ0000000", None, "JZ000000", "JZ00000000"],
    [f"JZ-2022-{i:05d}" for i in range(500)] + ["JZ-2021-00001", "JZ-2022-0001", None],
])
def test_packed_keys_are_one_to_one(ids: list[str | None]) -> None:
    import pyarrow as pa

    from zlgis.validate.attributes import _packed_string_keys

    keys = _packed_string_keys(pa.array(ids, type=pa.string()))
    assert keys is not None
    ok = np.array([v is not None for v in ids])
    codes_k = pd.factorize(keys[ok])[0]
    codes_s = pd.factorize(np.array(ids, dtype=object)[ok])[0]
    assert np.array_equal(codes_k, codes_s)
    assert _packed_string_keys(pa.array(["x" * 17, "y"])) is None


def test_report_same_with_precomputed_duplicates() -> None:
    """check_attributes gives the same report with Arrow-computed duplicate flags as without."""
    from zlgis.validate.attributes import arrow_duplicated_first

    spec = Catalog.load()["buildings"]
    df = pd.DataFrame({
        "building_id": pd.Series(["B1", "B2", "B1", "", None, "B2", "B3", "  ", "B3"], dtype="str"),
        "use": ["住宅"] * 8 + ["飞船"], "floors": [1, 2, 3, 4, 5, 6, 99, 8, 9],
        "height": [3.0] * 9, "permit_status": ["已批"] * 9})
    slow = check_attributes(df, spec)
    fast = check_attributes(df, spec, id_duplicates=arrow_duplicated_first(df["building_id"]))
    assert np.array_equal(slow.rejected, fast.rejected)
    assert [(p[0].tolist(), p[1:]) for p in slow.problems] == [
        (p[0].tolist(), p[1:]) for p in fast.problems]
    assert "duplicate_id" in {p[1] for p in fast.problems}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=4),
                          st.sampled_from(["", " ", "\u3000", "\x1c", "\t\n", " a "])),
                max_size=30))
def test_blank_of_arrow_strings_equals_blank_of_the_same_objects(values):
    from zlgis.validate.attributes import _blank

    arrow = pd.Series(values, dtype="str")
    assert isinstance(arrow.dtype, pd.StringDtype) and arrow.dtype.storage == "pyarrow"
    plain = pd.Series(values, dtype=object)
    expected = plain.isna().to_numpy() | np.array(
        [v is not None and (v == "" or v.isspace()) for v in values], dtype=bool)
    assert _blank(arrow).tolist() == expected.tolist()
    assert _blank(plain).tolist() == expected.tolist()


def _pandas_datetimes(s: pd.Series) -> pd.Series:
    """The pandas path of coerce_series(s, "datetime") for texts without 年/月/日 or slashes."""
    return pd.to_datetime(s.str.strip(), errors="coerce", format="mixed").astype("datetime64[ns]")


def test_iso_datetimes_equal_to_pandas_on_random_times() -> None:
    from zlgis.validate.attributes import iso_datetimes

    rng = np.random.default_rng(8)
    sec = rng.integers(0, 200 * 365 * 86400, 5000)
    texts = (np.datetime64("1900-01-01T00:00:00") + sec.astype("timedelta64[s]")).astype(str)
    s = pd.Series([t.replace("T", " ") for t in texts], dtype="str", name="time")
    fast = iso_datetimes(s)
    assert fast is not None
    pd.testing.assert_series_equal(fast, _pandas_datetimes(s))
    values, bad = coerce_series(s, "datetime")
    pd.testing.assert_series_equal(values, fast)
    assert not bad.any()


@pytest.mark.parametrize("text", ["2021-02-29 10:00:00", "2022-04-31 00:00:00",
                                  "2022-13-01 00:00:00", "2022-08-29T13:00:00",
                                  "2022-08-29 24:00:00",
                                  "2022-08-29 13:00:60", " 2022-08-29 13:00:00", "1899-12-31 00:00:00",
                                  "2022-08-29 13:00:00.5", "2022/08/29 13:00:00", "2022-8-29 13:00:00"])
def test_iso_datetimes_leaves_other_texts_to_pandas(text: str) -> None:
    from zlgis.validate.attributes import iso_datetimes

    s = pd.Series(["2024-02-29 23:59:59", text], dtype="str")
    assert iso_datetimes(s) is None
    values, bad = coerce_series(s, "datetime")  # the pandas path, as before
    pd.testing.assert_series_equal(values, _pandas_datetimes(s))
    assert bool(bad[1]) == pd.isna(values.iloc[1])

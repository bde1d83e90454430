"""zlgis.validate.attributes: types, required fields, domains, ranges, patterns, duplicate ids."""

from __future__ import annotations

import numpy as np
import pandas as pd

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

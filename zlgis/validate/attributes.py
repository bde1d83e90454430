"""Per-row attribute checks: required fields, types, allowed values, ranges, patterns, ids.

Values are coerced to the catalog types (``str``, ``int``, ``float``, ``bool``, ``date``,
``datetime``) with vectorised pandas operations. A value that breaks the catalog's schema is
removed (set to null, reported as a ``warning``); when the field is required the row cannot be
used and is ``rejected``. Duplicate ids: the first occurrence is kept, later ones rejected.

Dtypes after coercion: ``str`` -> pandas string, ``int`` -> ``int64`` (nullable ``Int64`` when
some values are missing), ``float`` -> ``float64``, ``bool`` -> ``bool`` (nullable ``boolean``
when missing), ``date``/``datetime`` -> ``datetime64`` (dates at midnight).

Examples
--------
>>> import pandas as pd
>>> from zlgis.catalog import Catalog
>>> spec = Catalog.load()["trees"]
>>> df = pd.DataFrame({"tree_id": ["T1", "T1", "T3"], "grade": ["一级古树", "名木", "灌木"],
...                    "age": ["300", "x", "5"]})
>>> res = check_attributes(df, spec)
>>> res.rejected.tolist(), sorted({p[1] for p in res.problems})
([False, True, True], ['duplicate_id', 'not_allowed', 'wrong_type'])
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..catalog import FieldSpec, LayerSpec

__all__ = ["AttributeCheck", "check_attributes", "coerce_series", "duplicated_first",
           "arrow_duplicated_first", "iso_datetimes", "TRUE_WORDS", "FALSE_WORDS"]

TRUE_WORDS = ("true", "t", "yes", "y", "1", "是", "有", "√", "对", "已", "1.0")
FALSE_WORDS = ("false", "f", "no", "n", "0", "否", "无", "×", "没有", "未", "0.0")
_TYPE_ZH = {"str": "文本", "int": "整数", "float": "数值", "bool": "是/否", "date": "日期",
            "datetime": "日期时间"}


@dataclass
class AttributeCheck:
    """Result of :func:`check_attributes`: coerced frame, rejected mask, problems."""

    frame: pd.DataFrame
    rejected: np.ndarray
    problems: list[tuple[np.ndarray, str, list[str] | str, str, str | None]] = field(
        default_factory=list)
    missing_fields: list[str] = field(default_factory=list)


def _is_text(s: pd.Series) -> bool:
    return s.dtype == object or pd.api.types.is_string_dtype(s.dtype)


def _blank(s: pd.Series) -> np.ndarray:
    if isinstance(s.dtype, pd.StringDtype) and s.dtype.storage == "pyarrow":
        # the same test in one pass of Arrow kernels (pandas' str.isspace is utf8_is_space)
        import pyarrow.compute as pc

        arr = s.array.__arrow_array__()
        blank = pc.or_kleene(pc.equal(arr, ""), pc.utf8_is_space(arr))
        return pc.fill_null(blank, True).to_numpy(zero_copy_only=False)
    na = s.isna().to_numpy()
    if _is_text(s):
        txt = s if pd.api.types.is_string_dtype(s.dtype) and s.dtype != object else s.astype("str")
        empty = (txt == "") | txt.str.isspace()
        na = na | empty.fillna(True).to_numpy(dtype=bool)
    return na


def _as_text(s: pd.Series) -> pd.Series:
    """Values as pandas strings; integral floats (Excel ids such as 1001.0) without ``.0``."""
    if pd.api.types.is_string_dtype(s.dtype) and s.dtype != object:
        return s
    if pd.api.types.is_float_dtype(s.dtype):
        integral = s.notna() & np.isfinite(s) & (s == np.round(s))
        out = s.astype("str")
        out[integral] = s[integral].astype("int64").astype("str")
        return out.where(s.notna())
    if s.dtype == object:
        def one(v: Any) -> Any:
            if isinstance(v, float):
                return str(int(v)) if v.is_integer() else (None if np.isnan(v) else str(v))
            return v if v is None or isinstance(v, str) else str(v)
        return s.map(one).astype("str")
    return s.astype("str").where(s.notna())


def _null_series(n: int, ftype: str, index: pd.Index) -> pd.Series:
    """An all-missing column of the dtype :func:`coerce_series` gives ``ftype`` (fast)."""
    import pyarrow as pa

    if ftype == "str":
        arr: Any = pd.array(pa.nulls(n, pa.large_string()), dtype="str")
    elif ftype == "int":
        arr = pd.arrays.IntegerArray(np.zeros(n, np.int64), np.ones(n, bool))
    elif ftype == "bool":
        arr = pd.arrays.BooleanArray(np.zeros(n, bool), np.ones(n, bool))
    elif ftype == "float":
        arr = np.full(n, np.nan)
    else:
        arr = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    return pd.Series(arr, index=index)


def coerce_series(s: pd.Series, ftype: str) -> tuple[pd.Series, np.ndarray]:
    """Coerce ``s`` to ``ftype``; return (values, mask of non-blank values that failed).

    Examples
    --------
    >>> v, bad = coerce_series(pd.Series(["3", "4.0", "x", None]), "int")
    >>> v.tolist(), bad.tolist()
    ([3, 4, <NA>, <NA>], [False, False, True, False])
    """
    return _coerce(s, ftype, _blank(s))


def _coerce_text(s: pd.Series, blank: np.ndarray) -> tuple[pd.Series, np.ndarray]:
    out = _as_text(s)
    if s.dtype == object:
        out = out.str.strip()
    if blank.any():
        out = out.where(~blank)
    return out, np.zeros(len(s), bool)


def _coerce_number(s: pd.Series, ftype: str, blank: np.ndarray) -> tuple[pd.Series, np.ndarray]:
    nobad = np.zeros(len(s), bool)
    if ftype == "int" and s.dtype == "int64":
        return s, nobad  # already integers, no missing values possible
    if ftype == "float" and s.dtype == "float64" and np.isfinite(
            s.to_numpy()[~np.isnan(s.to_numpy())]).all():
        return s, nobad
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        num = s.astype("float64")
    else:
        txt = _as_text(s).str.strip().str.replace(",", "", regex=False)
        num = pd.to_numeric(txt, errors="coerce").astype("float64")
    num = num.where(np.isfinite(num.to_numpy(dtype=float, na_value=np.nan)))
    bad = ~blank & num.isna().to_numpy()
    if ftype == "int":
        frac = num.notna().to_numpy() & (num.to_numpy(dtype=float, na_value=0) % 1 != 0)
        bad |= frac
        num[frac] = np.nan
        if num.isna().any():
            return num.astype("Int64"), bad
        return num.astype("int64"), bad
    return num, bad


def _coerce_bool(s: pd.Series, blank: np.ndarray) -> tuple[pd.Series, np.ndarray]:
    if pd.api.types.is_bool_dtype(s.dtype):
        return s, np.zeros(len(s), bool)
    txt = _as_text(s).str.strip().str.lower()
    out = pd.Series(pd.NA, index=s.index, dtype="boolean")
    out[txt.isin(TRUE_WORDS).fillna(False).to_numpy(dtype=bool)] = True
    out[txt.isin(FALSE_WORDS).fillna(False).to_numpy(dtype=bool)] = False
    bad = ~blank & out.isna().to_numpy()
    return (out.astype(bool) if not out.isna().any() else out), bad


#: ``YYYY-MM-DD HH:MM:SS`` of 1900-2099 (GPS and sensor exports): parsed by Arrow's strptime.
_ISO_SECONDS = (r"^(19|20)\d\d-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01]) "
                r"([01]\d|2[0-3]):[0-5]\d:[0-5]\d$")


def iso_datetimes(s: pd.Series) -> pd.Series | None:
    """The ``datetime64[ns]`` values :func:`coerce_series` gives a text column whose every value
    is ``YYYY-MM-DD HH:MM:SS`` (:data:`_ISO_SECONDS`, a real calendar date), parsed by Arrow
    (about 10x less CPU than ``pd.to_datetime(format="mixed")``); ``None`` for any other column.
    ``tests/validate/test_attributes.py`` holds it equal to the pandas path."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = getattr(s.array, "_pa_array", None)
    if arr is None or arr.null_count or not len(arr) or not (
            pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return None
    if not pc.all(pc.match_substring_regex(arr, _ISO_SECONDS)).as_py():
        return None
    ts = pc.strptime(arr, format="%Y-%m-%d %H:%M:%S", unit="ns", error_is_null=True)
    day = pc.cast(pc.utf8_slice_codeunits(arr, 8, 10), pa.int64())
    if ts.null_count or not pc.all(pc.equal(pc.day(ts), day)).as_py():
        return None  # a day past the month's end (Arrow rolls it over): pandas' path says why
    values = ts.to_numpy(zero_copy_only=False).astype("datetime64[ns]")
    return pd.Series(values, index=s.index, name=s.name)


def _coerce_datetime(s: pd.Series, ftype: str,
                     blank: np.ndarray) -> tuple[pd.Series, np.ndarray]:
    fast = iso_datetimes(s) if ftype == "datetime" else None
    if fast is not None:
        return fast, np.zeros(len(s), bool)
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        out = s
    else:
        txt = _as_text(s).str.strip()
        txt = txt.str.replace(r"(\d+)年(\d+)月(\d+)日?", r"\1-\2-\3", regex=True)
        txt = txt.str.replace(r"^(\d{4})[./](\d{1,2})[./](\d{1,2})", r"\1-\2-\3", regex=True)
        out = pd.to_datetime(txt, errors="coerce", format="mixed")
    if getattr(out.dt, "tz", None) is not None:
        out = out.dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)
    out = out.astype("datetime64[ns]")
    if ftype == "date":
        out = out.dt.normalize()
    bad = ~blank & out.isna().to_numpy()
    return out, bad


def _coerce(s: pd.Series, ftype: str, blank: np.ndarray) -> tuple[pd.Series, np.ndarray]:
    """:func:`coerce_series` with the blank mask of ``s`` already computed."""
    if ftype == "str":
        return _coerce_text(s, blank)
    if ftype in ("int", "float"):
        return _coerce_number(s, ftype, blank)
    if ftype == "bool":
        return _coerce_bool(s, blank)
    if ftype in ("date", "datetime"):
        return _coerce_datetime(s, ftype, blank)
    raise ValueError(f"unknown field type {ftype}")


def duplicated_first(ids: pd.Series) -> np.ndarray:
    """Rows whose id repeats an earlier row's id (missing ids never count).

    Examples
    --------
    >>> duplicated_first(pd.Series(["a", "b", "a", None, None], dtype="str")).tolist()
    [False, False, True, False, False]
    """
    return (ids.duplicated(keep="first") & ids.notna()).to_numpy()


_BYTE_MASKS = np.array([(1 << (8 * k)) - 1 for k in range(8)] + [2 ** 64 - 1] * 10,
                       dtype=np.uint64)


def _packed_string_keys(arr: Any) -> np.ndarray | None:
    """One ``uint64`` per string of an Arrow string array, equal exactly when the strings are.

    For strings of at most 16 bytes (ids, codes): each string's bytes (zero past its end) are
    read as two little-endian words; the byte spans that vary in this column and the length are
    packed side by side. Returns ``None`` when the strings are longer or the varying spans need
    more than 64 bits (the caller then hashes the strings). Null rows get meaningless keys.

    Examples
    --------
    >>> import pyarrow as pa
    >>> _packed_string_keys(pa.array(["B1", "B22", "B1", "B2"])).tolist()
    [98, 25701, 98, 100]
    """
    import pyarrow as pa
    from numpy.lib.stride_tricks import as_strided

    n = len(arr)
    bufs = arr.buffers()
    odt = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    offs = np.frombuffer(bufs[1], dtype=odt)[arr.offset: arr.offset + n + 1].astype(np.int64)
    lens = np.diff(offs)
    starts = offs[:-1]
    if arr.null_count:  # null rows take the first valid row's string (their keys are ignored)
        valid = np.asarray(arr.is_valid())
        if not valid.any():
            return None
        first = int(np.argmax(valid))
        lens = np.where(valid, lens, lens[first])
        starts = np.where(valid, starts, starts[first])
    if n == 0 or lens.max() > 16:
        return None
    width = 8 if lens.max() <= 8 else 16
    data = np.zeros(0, np.uint8) if bufs[2] is None else np.frombuffer(bufs[2], dtype=np.uint8)
    pad = np.zeros(len(data) + width, np.uint8)  # so that ``width`` bytes can be read anywhere
    pad[: len(data)] = data
    words = as_strided(pad, shape=(len(data) + 1, width), strides=(1, 1))[starts].view("<u8")
    words[:, 0] &= _BYTE_MASKS[np.minimum(lens, 8)]  # zero the bytes past each string's end
    if width == 16:
        words[:, 1] &= _BYTE_MASKS[np.maximum(lens - 8, 0)]
    varying = np.bitwise_or.reduce(words ^ words[0], axis=0)
    lmin = int(lens.min())
    shift = int(lens.max() - lmin).bit_length()
    spans = []
    for w, v in enumerate(varying.tolist()):
        if v:
            lo = ((v & -v).bit_length() - 1) // 8
            hi = (v.bit_length() - 1) // 8
            spans.append((w, lo, hi - lo + 1))
            shift += 8 * (hi - lo + 1)
    if shift > 64:
        return None
    keys = (lens - lmin).astype(np.uint64)
    shift = int(lens.max() - lmin).bit_length()
    for w, lo, nb in spans:
        part = words[:, w] >> np.uint64(8 * lo)
        if nb < 8:
            part &= np.uint64((1 << (8 * nb)) - 1)
        keys |= part << np.uint64(shift)
        shift += 8 * nb
    return keys


def arrow_duplicated_first(ids: pd.Series) -> np.ndarray | None:
    """Duplicate flags (first occurrence kept) of an Arrow-backed string column, else ``None``.

    Short strings (ids of at most 16 bytes) are packed one-to-one into integers
    (:func:`_packed_string_keys`) and hashed as integers; longer ones are dictionary-encoded in
    Arrow: codes are given in order of first appearance, so a row repeats an earlier id exactly
    when its code is not larger than every code before it. Either way no GIL is held for long,
    so it can run in a thread while the geometry checks run. Missing ids never count.

    Examples
    --------
    >>> arrow_duplicated_first(pd.Series(["a", "b", "a", None, "c", "b"], dtype="str")).tolist()
    [False, False, True, False, False, True]
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    from pandas.core.algorithms import duplicated

    arr = getattr(ids.array, "_pa_array", None)
    if arr is None or not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return None
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if len(arr) == 0:
        return np.zeros(0, dtype=bool)
    keys = _packed_string_keys(arr)
    if keys is not None:
        if not arr.null_count:
            return duplicated(keys, keep="first")
        valid = np.asarray(arr.is_valid())
        out = np.zeros(len(arr), dtype=bool)
        out[valid] = duplicated(keys[valid], keep="first")
        return out
    enc = pc.dictionary_encode(arr)
    codes = enc.indices.to_numpy(zero_copy_only=False)
    if enc.null_count:
        codes = np.where(np.asarray(enc.is_valid()), codes, -1)
    codes = codes.astype(np.int64)
    prev_max = np.empty_like(codes)
    prev_max[0] = -1
    np.maximum.accumulate(codes[:-1], out=prev_max[1:])
    return (codes >= 0) & (codes <= prev_max)


def _display(v: Any) -> str:
    s = str(v)
    return s if len(s) <= 40 else s[:37] + "…"


def check_attributes(df: pd.DataFrame, spec: LayerSpec, *, source_names: dict[str, str] | None = None,
                     fill_missing: bool = False, id_duplicates: Any = None) -> AttributeCheck:
    """Coerce and check the catalog fields of ``df`` (canonical column names).

    Parameters
    ----------
    df : DataFrame
        Rows with columns already renamed to canonical names.
    spec : LayerSpec
        The catalog entry.
    source_names : dict, optional
        Canonical name -> the column name in the source (used in messages).
    fill_missing : bool
        Add absent fields as empty columns (CAD drawings carry no attributes) instead of rejecting
        every row for a missing required field.
    id_duplicates : array of bool or Future, optional
        Duplicate-id flags already computed on the raw id column (see
        :func:`arrow_duplicated_first`); only valid when coercion leaves the ids unchanged.
    """
    names = source_names or {}
    out = df.copy(deep=False)  # copy-on-write: columns are replaced, never mutated
    n = len(out)
    rejected = np.zeros(n, dtype=bool)
    problems: list[tuple[np.ndarray, str, list[str] | str, str, str | None]] = []
    missing_fields: list[str] = []
    for fname, f in spec.fields.items():
        shown = names.get(fname) or spec.alias(fname)
        if fname not in out.columns:
            out[fname] = _null_series(n, f.type, out.index)
            if f.required and not fill_missing:
                missing_fields.append(fname)
            continue
        blank_before = _blank(out[fname])
        vals, bad = _coerce(out[fname], f.type, blank_before)
        if bad.any():
            idx = np.flatnonzero(bad)
            raw = out[fname].to_numpy()
            act = "rejected" if f.required else "warning"
            tail = "，该行已剔除" if f.required else "，已置空"
            problems.append((idx, "wrong_type",
                             [f"值“{_display(raw[i])}”不是{_TYPE_ZH[f.type]}{tail}" for i in idx],
                             act, shown))
            if f.required:
                rejected[idx] = True
        vals = _check_domain(vals, f, shown, problems, rejected)
        if f.required:
            miss = blank_before & ~rejected
            if miss.any():
                problems.append((np.flatnonzero(miss), "missing_value",
                                 f"必填字段“{shown}”为空，该行已剔除", "rejected", shown))
                rejected |= miss
        out[fname] = vals
    for fname in missing_fields:
        shown = fname
        alias_txt = "、".join(spec.fields[fname].aliases) or fname
        problems.append((np.array([-1]), "missing_field",
                         f"缺少必填字段 {fname}（可用列名：{alias_txt}），全部 {n} 行未载入",
                         "rejected", shown))
        rejected[:] = True
    # duplicate ids (first kept)
    idf = spec.id_field
    if idf and idf in out.columns and n:
        ids = out[idf]
        if id_duplicates is not None:  # computed earlier on the raw Arrow column
            raw = id_duplicates.result() if hasattr(id_duplicates, "result") else id_duplicates
            dup = np.asarray(raw, dtype=bool) & ids.notna().to_numpy() & ~rejected
        else:
            dup = duplicated_first(ids) & ~rejected
        if dup.any():
            idx = np.flatnonzero(dup)
            first = ids[~ids.duplicated(keep="first")]
            firstpos = pd.Series(np.arange(n)[~ids.duplicated(keep="first").to_numpy()],
                                 index=first.to_numpy())
            vals_ = ids.to_numpy()
            problems.append((idx, "duplicate_id",
                             [f"编号“{_display(vals_[i])}”重复（与第 {{row:{int(firstpos[vals_[i]])}}} 行相同），"
                              "该行已剔除" for i in idx], "rejected", names.get(idf) or spec.alias(idf)))
            rejected |= dup
    return AttributeCheck(out, rejected, problems, missing_fields)


def _check_domain(vals: pd.Series, f: FieldSpec, shown: str,
                  problems: list[tuple[np.ndarray, str, list[str] | str, str, str | None]],
                  rejected: np.ndarray) -> pd.Series:
    act = "rejected" if f.required else "warning"
    tail = "，该行已剔除" if f.required else "，已置空"
    present = vals.notna().to_numpy()
    if f.allowed is not None and present.any():
        allowed = list(f.allowed)
        ok = vals.isin(allowed).fillna(False).to_numpy(dtype=bool)
        bad = present & ~ok
        if bad.any():
            idx = np.flatnonzero(bad)
            raw = vals.to_numpy()
            allowed_txt = "、".join(str(a) for a in allowed)
            problems.append((idx, "not_allowed",
                             [f"值“{_display(raw[i])}”不在允许值（{allowed_txt}）中{tail}" for i in idx],
                             act, shown))
            vals = _null_at(vals, idx)
            if f.required:
                rejected[idx] = True
    if (f.min is not None or f.max is not None) and f.type in ("int", "float"):
        num = vals.to_numpy(dtype=float, na_value=np.nan)
        bad = np.zeros(len(vals), bool)
        with np.errstate(invalid="ignore"):
            if f.min is not None:
                bad |= num < f.min
            if f.max is not None:
                bad |= num > f.max
        if bad.any():
            idx = np.flatnonzero(bad)
            rng = f"{'' if f.min is None else f.min}～{'' if f.max is None else f.max}"
            problems.append((idx, "out_of_range",
                             [f"数值 {num[i]:g} 超出范围（{rng}）{tail}" for i in idx], act, shown))
            vals = _null_at(vals, idx)
            if f.required:
                rejected[idx] = True
    if f.pattern and f.type == "str" and present.any():
        # object dtype: Python's re, the engine the catalog pattern was checked with (Arrow
        # strings would use RE2, which rejects some valid patterns)
        ok = vals.astype(object).str.fullmatch(f.pattern).fillna(True).to_numpy(dtype=bool)
        bad = ~ok
        if bad.any():
            idx = np.flatnonzero(bad)
            raw = vals.to_numpy()
            problems.append((idx, "pattern_mismatch",
                             [f"值“{_display(raw[i])}”格式不符（应匹配 {f.pattern}）{tail}"
                              for i in idx], act, shown))
            vals = _null_at(vals, idx)
            if f.required:
                rejected[idx] = True
    return vals


def _null_at(vals: pd.Series, idx: np.ndarray) -> pd.Series:
    vals = vals.copy()
    if vals.dtype == "int64":
        vals = vals.astype("Int64")
    elif vals.dtype == bool:
        vals = vals.astype("boolean")
    vals.iloc[idx] = pd.NA if vals.dtype != "float64" and not str(vals.dtype).startswith(
        "datetime") else (np.nan if vals.dtype == "float64" else pd.NaT)
    return vals


ROW_REF = re.compile(r"\{row:(\d+)\}")

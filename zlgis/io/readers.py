"""Readers for every source format a bureau has, returning raw rows with their source row numbers.

One function, :func:`read_source`, picks the reader from the file: GeoPackage, Shapefile (with
GBK/GB18030 vs UTF-8 detection when the ``.cpg`` is missing), GeoJSON, FlatGeobuf, GeoParquet,
DXF drawings (CAD layer names kept in ``cad_layer``; text re-decoded when the drawing's code page
is wrong), OSM PBF (GDAL's OSM driver) and CSV/XLSX point tables with 经度/纬度 or X/Y columns
(a title row or a two-row header is recognised).

A reader never validates: it returns every row it could read, the CRS the file states (or
``None``), and notes about the reading itself (encoding detected, unclosed rings closed, rows
whose coordinates are not numbers). Files that cannot be read at all raise
:class:`~zlgis.errors.UnreadableInputError` with a Chinese message naming the file.

Examples
--------
>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "pts.csv"
>>> _ = p.write_text("编号,经度,纬度\\nA1,122.73,48.01\\nA2,122.74,48.02\\n", encoding="utf-8")
>>> src = read_source(p)
>>> src.gdf.columns.tolist(), src.rows.tolist(), src.driver
(['编号', 'geometry'], [2, 3], 'CSV')
"""

from __future__ import annotations

import codecs
import re
import stat
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from geopandas.array import GeometryArray
from shapely.errors import GEOSException

from ..crs import geo_frame
from ..errors import UnreadableInputError
from .table_rows import HEAD_ROWS, X_NAMES, Y_NAMES, count_table_rows, find_xy_columns, table_header
from .table_rows import decode_text as _decode_text
from .table_rows import is_blank as _blank

__all__ = [
    "SourceRead",
    "read_source",
    "list_source_layers",
    "count_features",
    "detect_dbf_encoding",
    "find_xy_columns",
    "arrow_text_grid",
    "text_numbers",
    "X_NAMES",
    "Y_NAMES",
    "VECTOR_SUFFIXES",
    "TABLE_SUFFIXES",
    "RASTER_SUFFIXES",
]

VECTOR_SUFFIXES = (".gpkg", ".shp", ".geojson", ".json", ".fgb", ".parquet", ".geoparquet",
                   ".dxf", ".pbf", ".osm", ".gml", ".kml", ".sqlite")
TABLE_SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm", ".xls")
RASTER_SUFFIXES = (".tif", ".tiff", ".img", ".asc")

_DRIVERS = {".gpkg": "GPKG", ".geojson": "GeoJSON", ".fgb": "FlatGeobuf", ".shp": "ESRI Shapefile",
            ".pbf": "OSM", ".osm": "OSM", ".dxf": "DXF"}
_DXF_COLUMNS = ("PaperSpace", "SubClasses", "Linetype", "EntityHandle", "Text")


@dataclass
class SourceRead:
    """Rows read from one source, before validation.

    Attributes
    ----------
    gdf : GeoDataFrame
        Source columns as found in the file, geometry column ``geometry``, CRS as the file
        states it (``None`` when it states none).
    path, layer, driver :
        Where the rows came from.
    rows : ndarray of int
        1-based source row of each gdf row (feature number; line number in CSV/XLSX).
    notes : list of dict
        Issues found while reading, each with ``pos`` (position in ``gdf`` or ``None``), ``field``,
        ``code``, ``message`` and ``action`` (``rejected`` rows are removed by validation).
    encoding : str or None
        Text encoding used (detected for Shapefiles without ``.cpg``, CSV and DXF).
    """

    gdf: gpd.GeoDataFrame
    path: Path
    layer: str | None
    driver: str
    rows: np.ndarray
    notes: list[dict[str, Any]] = field(default_factory=list)
    encoding: str | None = None
    xy_columns: tuple[str, str] | None = None


def _note(pos: int | None, code: str, message: str, action: str = "warning",
          field: str | None = None) -> dict[str, Any]:
    return {"pos": pos, "field": field, "code": code, "message": message, "action": action}


# ------------------------------------------------------------------------------------------------
# entry points
# ------------------------------------------------------------------------------------------------

def read_source(path: str | Path, layer: str | None = None, *, x: str | None = None,
                y: str | None = None, encoding: str | None = None, sheet: str | int | None = None,
                columns: list[str] | None = None) -> SourceRead:
    """Read one layer of a file into a GeoDataFrame with its source row numbers.

    Parameters
    ----------
    path : path-like
        The file (for a Shapefile, the ``.shp``).
    layer : str, optional
        Layer inside a multi-layer file (GeoPackage, OSM PBF); for DXF, ignored (every entity is
        returned with its CAD layer in ``cad_layer``).
    x, y : str, optional
        Coordinate columns of a CSV/XLSX table (default: found by name, e.g. 经度/纬度 or X/Y).
    encoding : str, optional
        Force a text encoding (otherwise detected).
    sheet : str or int, optional
        Worksheet of an XLSX file (default: the first).
    columns : list of str, optional
        Read only these attribute columns (GDAL formats).

    Returns
    -------
    SourceRead
    """
    path = Path(path)
    _check_exists(path, layer)
    suffix = path.suffix.lower()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if suffix in TABLE_SUFFIXES:
            return _read_table(path, x=x, y=y, encoding=encoding, sheet=sheet)
        if suffix in (".parquet", ".geoparquet"):
            return _read_parquet(path, columns)
        if suffix in RASTER_SUFFIXES:
            raise UnreadableInputError("这是栅格文件，不是矢量图层（请在图层目录中写 kind: raster）",
                                       path=str(path), layer=layer)
        if suffix == ".dxf":
            return _read_dxf(path, encoding)
        if suffix == ".shp":
            return _read_shapefile(path, encoding, columns)
        return _read_ogr(path, layer, encoding=encoding, columns=columns)


def list_source_layers(path: str | Path) -> list[str]:
    """Names of the vector layers in a file (one name for single-layer formats).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.csv"
    >>> _ = p.write_text("x,y\\n1,2\\n")
    >>> list_source_layers(p)
    ['a']
    """
    path = Path(path)
    _check_exists(path, None)
    suffix = path.suffix.lower()
    if suffix in TABLE_SUFFIXES or suffix in (".parquet", ".geoparquet", ".shp", ".dxf"):
        return [path.stem]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return [str(n) for n in pyogrio.list_layers(path)[:, 0]]
    except Exception as exc:  # noqa: BLE001 - GDAL raises many kinds
        raise _unreadable(path, None, exc) from exc


def count_features(path: str | Path, layer: str | None = None, *, x: str | None = None,
                   y: str | None = None, encoding: str | None = None,
                   sheet: str | int | None = None) -> int:
    """Number of features (rows) in a layer, without reading geometries where the format allows:
    ``len(read_source(path, layer, ...).gdf)`` (tables: the rows :func:`read_source` keeps,
    counted by :func:`zlgis.io.table_rows.count_table_rows`)."""
    path = Path(path)
    _check_exists(path, layer)
    suffix = path.suffix.lower()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if suffix in (".parquet", ".geoparquet"):
                import pyarrow.parquet as pq

                return int(pq.ParquetFile(path).metadata.num_rows)
            if suffix in TABLE_SUFFIXES:
                n = count_table_rows(path, x=x, y=y, encoding=encoding, sheet=sheet)
                if n is not None:
                    return n
            if suffix in TABLE_SUFFIXES or suffix in (".dxf", ".pbf", ".osm"):
                return len(read_source(path, layer, x=x, y=y, encoding=encoding,
                                       sheet=sheet).gdf)
            info = pyogrio.read_info(path, layer=layer, force_feature_count=True)
            return int(info["features"])
    except UnreadableInputError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise _unreadable(path, layer, exc) from exc


# ------------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------------

def _check_exists(path: Path, layer: str | None) -> None:
    if not path.exists():
        raise UnreadableInputError("文件不存在", path=str(path), layer=layer)
    if path.is_dir():
        raise UnreadableInputError("这是文件夹，不是数据文件", path=str(path), layer=layer)
    st = path.stat()
    if not stat.S_ISREG(st.st_mode):
        raise UnreadableInputError("不是普通文件（设备、管道或套接字），不能作为数据读取",
                                   path=str(path), layer=layer)
    if st.st_size == 0:
        with open(path, "rb") as fh:
            virtual = bool(fh.read(1))  # /proc and /sys files report 0 bytes but have content
        raise UnreadableInputError("是系统虚拟文件（如 /proc、/sys 下的文件），不是数据文件"
                                   if virtual else "文件为空（0 字节）", path=str(path), layer=layer)


def _unreadable(path: Path, layer: str | None, exc: BaseException) -> UnreadableInputError:
    text = str(exc)
    if "not recognized as being in a supported file format" in text or "not recognised" in text:
        msg = "文件格式无法识别（可能已损坏、不完整或扩展名不对）"
    elif re.search(r"layer .* (not found|could not be opened)|Layer .* not found", text, re.I):
        msg = f"文件中没有图层 {layer}"
    else:
        msg = "文件无法读取（可能已损坏或不完整）"
    return UnreadableInputError(msg, path=str(path), layer=layer)


def _rows(n: int) -> np.ndarray:
    return np.arange(1, n + 1, dtype=np.int64)


#: Time zone of date-times written without an offset (the bureau's local time; UTC+8 all year).
LOCAL_TZ = "Asia/Shanghai"
_OFFSET = r"(?:Z|[+-]\d{2}(?::?\d{2})?)$"


def parse_datetimes(text: pd.Series) -> pd.Series:
    """Date-times as GDAL writes them (ISO 8601 text) to timestamps, keeping their instant.

    Values with an offset (``+08:00``, ``Z``) are instants; values without one are local times
    (:data:`LOCAL_TZ`), as a bureau writes them. All naive: naive timestamps (local wall-clock
    times, unchanged); any offset: UTC timestamps (the naive ones localised first). Unparseable
    text becomes ``NaT`` (the attribute check reports it).

    Examples
    --------
    >>> s = parse_datetimes(pd.Series(["2022-09-01T10:00:00+08:00", "2022-09-01T10:00:00", None]))
    >>> [str(t) for t in s]
    ['2022-09-01 02:00:00+00:00', '2022-09-01 02:00:00+00:00', 'NaT']
    """
    txt = text.astype("string")
    aware = txt.str.contains(_OFFSET, regex=True, na=False).to_numpy(dtype=bool)
    if not aware.any():
        return pd.to_datetime(txt, errors="coerce", format="ISO8601")
    out = pd.to_datetime(txt.where(aware), errors="coerce", format="ISO8601", utc=True)
    naive = ~aware & txt.notna().to_numpy(dtype=bool)
    if naive.any():
        local = pd.to_datetime(txt.where(naive), errors="coerce", format="ISO8601")
        out = out.where(aware, local.dt.tz_localize(LOCAL_TZ).dt.tz_convert("UTC"))
    return out


def _parse_datetimes(df: pd.DataFrame, meta: dict[str, Any]) -> pd.DataFrame:
    """Parse the date-time fields GDAL handed over as text (``datetime_as_string``).

    GDAL's Arrow stream labels a GeoPackage date-time written without an offset as UTC (the
    GeoPackage rule) and drops the offset of FlatGeobuf ones; read as text, each value keeps what
    was written (:func:`parse_datetimes`).
    """
    for name, dtype in zip(meta.get("fields", ()), meta.get("dtypes", ())):
        if str(dtype).startswith("datetime64") and name in df.columns and \
                not pd.api.types.is_datetime64_any_dtype(df[name].dtype):
            df[name] = parse_datetimes(df[name])
    return df


def _own_buffers(table: Any) -> Any:
    """``table`` with every column copied into buffers of its own.

    GDAL hands each batch of rows over as one block of memory (every column, the geometries'
    WKB included, allocated for a whole batch), freed only when nothing points into it. pandas
    keeps Arrow's text columns as they are (``str`` columns are Arrow arrays), so a frame would
    hold GDAL's blocks as long as it lives: 1.5-12 times the memory of its own columns (a
    1M-building city's layers, 0.8 GB more after validation). A column that cannot be combined
    (dictionaries that differ between batches) is kept as it was read.
    """
    import pyarrow as pa

    if not table.num_columns:  # its rows are all it has
        return table
    columns = []
    for col in table.columns:
        try:
            columns.append(col.combine_chunks())
        except pa.ArrowException:
            columns.append(col)
    return pa.table(columns, schema=table.schema)


def _ogr_frame(path: Path, layer: str | None, encoding: str | None,
               columns: list[str] | None) -> tuple[gpd.GeoDataFrame, list[dict[str, Any]]]:
    """pyogrio Arrow read, geometries parsed by GEOS (``shapely.from_wkb``); returns (frame, notes).

    Geometries are parsed here (not by pyogrio) so that unclosed rings are closed row by row
    (noted) instead of failing the whole read.
    """
    kw: dict[str, Any] = {"layer": layer, "encoding": encoding, "columns": columns,
                          "datetime_as_string": True}
    try:
        meta, table = pyogrio.read_arrow(path, **kw)
    except pyogrio.errors.DataSourceError as exc:
        if "UTF-8" not in str(exc):
            raise
        gdf = pyogrio.read_dataframe(path, use_arrow=False, **kw)
        return _parse_datetimes(gdf, pyogrio.read_info(path, layer=layer)), []
    geom_col = meta.get("geometry_name") or "wkb_geometry"
    crs = meta.get("crs")
    wkb = None
    if geom_col in table.column_names:
        wkb = table.column(geom_col).to_numpy()
        table = table.drop_columns([geom_col])
    table = _own_buffers(table)
    try:
        df = _parse_datetimes(table.to_pandas(self_destruct=True), meta)
    except UnicodeDecodeError:
        gdf = pyogrio.read_dataframe(path, use_arrow=False, **kw)
        return _parse_datetimes(gdf, meta), []
    del table
    if wkb is None:
        return gpd.GeoDataFrame(df, geometry=gpd.GeoSeries([None] * len(df), crs=crs)), []
    notes: list[dict[str, Any]] = []
    try:
        geoms = shapely.from_wkb(wkb)
    except GEOSException:
        strict = shapely.from_wkb(wkb, on_invalid="ignore")
        geoms = shapely.from_wkb(wkb, on_invalid="fix")
        bad = np.flatnonzero(pd.notna(wkb) & shapely.is_missing(strict))
        notes = [_note(int(i), "unclosed_ring", "多边形环未闭合，已自动闭合", "repaired")
                 for i in bad if geoms[i] is not None]
        notes += [_note(int(i), "unparseable_geometry", "几何无法解析，已剔除", "rejected")
                  for i in bad if geoms[i] is None]
    # shapely geometries or None already: wrapped without a per-row type check
    gdf = geo_frame(df, GeometryArray(geoms, crs=crs))
    return gdf, notes


def _read_ogr(path: Path, layer: str | None, *, encoding: str | None = None,
              columns: list[str] | None = None, driver: str | None = None) -> SourceRead:
    try:
        gdf, notes = _ogr_frame(path, layer, encoding, columns)
        if driver is None:
            driver = _DRIVERS.get(path.suffix.lower()) or str(
                pyogrio.read_info(path, layer=layer).get("driver") or "")
    except UnreadableInputError:
        raise
    except pyogrio.errors.DataLayerError as exc:
        if layer is not None:
            names = list_source_layers(path)
            if layer not in names:
                raise UnreadableInputError(f"文件中没有图层 {layer}（有：{'、'.join(names)}）",
                                           path=str(path), layer=layer) from exc
        raise _unreadable(path, layer, exc) from exc
    except UnicodeDecodeError as exc:
        raise UnreadableInputError(
            f"文字编码与{encoding or '文件声明的编码'}不符（.cpg 编码文件可能写错，或字段名在写出时被截断），"
            "可用 --encoding 指定编码（如 GBK）", path=str(path), layer=layer) from exc
    except Exception as exc:  # noqa: BLE001 - GDAL raises many kinds
        raise _unreadable(path, layer, exc) from exc
    if gdf.geometry.name != "geometry":
        gdf = gdf.rename_geometry("geometry")
    return SourceRead(gdf, path, layer or path.stem, driver, _rows(len(gdf)), notes, encoding)


# ------------------------------------------------------------------------------------------------
# Shapefile
# ------------------------------------------------------------------------------------------------

def detect_dbf_encoding(dbf: str | Path, sample_bytes: int = 4_000_000) -> str:
    """Guess the text encoding of a ``.dbf`` without ``.cpg``: ``'UTF-8'`` or ``'GB18030'``.

    Reads the records (not the header) and tries a strict UTF-8 decode first: real GBK text is
    almost never valid UTF-8. When neither decodes, the language-driver byte or ``'latin-1'``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.dbf"
    >>> head = bytes([3, 124, 1, 1]) + (1).to_bytes(4, "little") + (65).to_bytes(2, "little")
    >>> head += (11).to_bytes(2, "little") + bytes(20)
    >>> field = b"NAME".ljust(11, b"\\0") + b"C" + bytes(4) + bytes([10, 0]) + bytes(14)
    >>> _ = p.write_bytes(head + field + b"\\r" + b" " + "道路".encode("gbk").ljust(10) + b"\\x1a")
    >>> detect_dbf_encoding(p)
    'GB18030'
    """
    with open(dbf, "rb") as fh:
        head = fh.read(32)
        if len(head) < 32:
            return "UTF-8"
        header_len = int.from_bytes(head[8:10], "little")
        fh.seek(header_len)
        data = fh.read(sample_bytes)
    ldid = head[29]
    rec_len = max(int.from_bytes(head[10:12], "little"), 1)
    data = data[: (len(data) // rec_len) * rec_len] if len(data) > rec_len else data
    if all(b < 0x80 for b in data):
        return "UTF-8"
    try:
        data.decode("utf-8")
        return "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        data.decode("gb18030")
        return "GB18030"
    except UnicodeDecodeError:
        pass
    return {0x4D: "CP936", 0x7A: "CP936"}.get(ldid, "latin-1")


def _read_shapefile(path: Path, encoding: str | None, columns: list[str] | None) -> SourceRead:
    missing = [ext for ext in (".shx", ".dbf") if not _sibling(path, ext)]
    if missing:
        what = "、".join(missing)
        raise UnreadableInputError(
            f"Shapefile 不完整：缺少 {what} 文件（请把同名的 .shp、.shx、.dbf、.prj、.cpg 一起拷贝）",
            path=str(path))
    notes: list[dict[str, Any]] = []
    if encoding is None and not _sibling(path, ".cpg"):
        dbf = _sibling(path, ".dbf")
        assert dbf is not None
        encoding = detect_dbf_encoding(dbf)
        if encoding != "UTF-8":
            notes.append(_note(None, "encoding_detected",
                               f"缺少 .cpg 编码文件，按内容判断属性编码为 {encoding}", "warning"))
    src = _read_ogr(path, None, encoding=encoding, columns=columns, driver="ESRI Shapefile")
    src.notes = notes + src.notes
    src.encoding = encoding
    return src


def _sibling(path: Path, ext: str) -> Path | None:
    for cand in (path.with_suffix(ext), path.with_suffix(ext.upper())):
        if cand.exists():
            return cand
    return None


# ------------------------------------------------------------------------------------------------
# GeoParquet
# ------------------------------------------------------------------------------------------------

def _read_parquet(path: Path, columns: list[str] | None) -> SourceRead:
    try:
        gdf = gpd.read_parquet(path, columns=None if columns is None else [*columns, "geometry"])
    except Exception as exc:  # noqa: BLE001 - pyarrow raises many kinds
        if isinstance(exc, ValueError) and "geo" in str(exc).lower():
            raise UnreadableInputError("Parquet 文件没有 GeoParquet 几何元数据（不是 GeoParquet）",
                                       path=str(path)) from exc
        raise _unreadable(path, None, exc) from exc
    if gdf.geometry.name != "geometry":
        gdf = gdf.rename_geometry("geometry")
    return SourceRead(gdf, path, path.stem, "GeoParquet", _rows(len(gdf)))


# ------------------------------------------------------------------------------------------------
# DXF
# ------------------------------------------------------------------------------------------------

def _dxf_encoding(path: Path) -> str | None:
    """GDAL decodes DXF text with $DWGCODEPAGE; return a better encoding when it is wrong."""
    data = path.read_bytes()
    m = re.search(rb"\$DWGCODEPAGE\s*\r?\n\s*3\s*\r?\n\s*([A-Za-z0-9_]+)", data[:20000])
    page = m.group(1).decode("ascii", "replace").upper() if m else ""
    if all(b < 0x80 for b in data):
        return None
    try:
        data.decode("utf-8")
        return "UTF-8"
    except UnicodeDecodeError:
        pass
    if page in ("ANSI_936", "GBK", "GB2312"):
        return None  # GDAL handles it
    try:
        data.decode("gb18030")
        return "CP936"
    except UnicodeDecodeError:
        return None


def _read_dxf(path: Path, encoding: str | None) -> SourceRead:
    enc = encoding or _dxf_encoding(path)
    prev = pyogrio.get_gdal_config_option("DXF_ENCODING")
    try:
        if enc:
            pyogrio.set_gdal_config_options({"DXF_ENCODING": enc})
        gdf, notes = _ogr_frame(path, None, None, None)
    except Exception as exc:  # noqa: BLE001
        raise _unreadable(path, None, exc) from exc
    finally:
        if enc:
            pyogrio.set_gdal_config_options({"DXF_ENCODING": prev})
    if not len(gdf):
        raise UnreadableInputError("DXF 图纸中没有可读取的图形（ENTITIES 段为空，或其中的实体都无法识别）",
                                   path=str(path))
    if gdf.geometry.name != "geometry":
        gdf = gdf.rename_geometry("geometry")
    if "Layer" in gdf.columns:
        gdf = gdf.rename(columns={"Layer": "cad_layer"})
    if "EntityHandle" in gdf.columns:
        gdf["cad_handle"] = gdf["EntityHandle"]
    gdf = gdf.drop(columns=[c for c in _DXF_COLUMNS if c in gdf.columns])
    return SourceRead(gdf, path, path.stem, "DXF", _rows(len(gdf)), notes, enc)


# ------------------------------------------------------------------------------------------------
# CSV / XLSX point tables
# ------------------------------------------------------------------------------------------------

_ARROW_NAMES = tuple(f"f{i}" for i in range(1024))  # Arrow's generated column names


def arrow_text_grid(text: str | bytes, sep: str) -> pd.DataFrame | None:
    """The grid ``pd.read_csv(text, header=None, dtype=str, sep=sep, skip_blank_lines=False,
    keep_default_na=False)`` gives, read by Arrow's CSV reader (about 8x less CPU on a
    million-row track file), or ``None`` where the two could differ and pandas must read it.

    Arrow reads it only when the text has no quote character (an unterminated quote runs to the
    end of the file in Arrow but is an error in pandas) and every line has the same number of
    fields, at least two (a blank or short line, which pandas fills with missing values, and a
    long one, which pandas refuses, are errors in Arrow). ``text`` may be the file's bytes
    (without byte-order mark): Arrow reads them only when they are valid UTF-8, as Python's
    strict decoding would. ``tests/io/test_readers.py`` holds the two equal on random texts.
    """
    import pyarrow as pa
    import pyarrow.csv as pcsv

    data = text if isinstance(text, bytes) else text.encode("utf-8")
    if b'"' in data:
        return None
    try:
        table = pcsv.read_csv(
            pa.BufferReader(data),
            read_options=pcsv.ReadOptions(autogenerate_column_names=True),
            parse_options=pcsv.ParseOptions(delimiter=sep, ignore_empty_lines=False),
            convert_options=pcsv.ConvertOptions(
                column_types=dict.fromkeys(_ARROW_NAMES, pa.string()),
                strings_can_be_null=False, quoted_strings_can_be_null=False))
    except (pa.ArrowInvalid, ValueError):
        return None
    if table.num_columns < 2 or table.num_columns > len(_ARROW_NAMES):
        return None  # columns past the typed names would have their types inferred
    grid = table.to_pandas()
    grid.columns = pd.Index(np.arange(table.num_columns, dtype=np.int64))
    return grid


def _read_grid(path: Path, encoding: str | None, sheet: str | int | None
               ) -> tuple[pd.DataFrame, str | None]:
    suffix = path.suffix.lower()
    try:
        if suffix in (".csv", ".txt"):
            import io

            if encoding is None:  # UTF-8 bytes straight to Arrow (it checks them), no str
                data = path.read_bytes().removeprefix(codecs.BOM_UTF8)
                tab = suffix == ".txt" and b"\t" in data.split(b"\n", 1)[0]
                grid = arrow_text_grid(data, "\t" if tab else ",")
                if grid is not None:
                    return grid, "UTF-8"
            text, enc = _decode_text(path, encoding)
            sep = "\t" if suffix == ".txt" and "\t" in text.split("\n", 1)[0] else ","
            grid = arrow_text_grid(text, sep)
            if grid is None:
                grid = pd.read_csv(io.StringIO(text), header=None, dtype=str, sep=sep,
                                   skip_blank_lines=False, keep_default_na=False)
            return grid, enc
        grid = pd.read_excel(path, header=None, sheet_name=sheet or 0, dtype=object)
        return grid, None
    except UnreadableInputError:
        raise
    except Exception as exc:  # noqa: BLE001 - pandas/openpyxl raise many kinds
        if isinstance(exc, pd.errors.EmptyDataError):
            raise UnreadableInputError("表格为空，没有表头", path=str(path)) from exc
        raise UnreadableInputError("表格文件无法读取（可能已损坏或不是 CSV/XLSX）",
                                   path=str(path)) from exc


def _blank_mask(col: pd.Series) -> np.ndarray:
    """:func:`_blank` of every value of a column. A text column (CSV) is tested with
    :func:`_blank` only where the text is empty or starts with whitespace (anything else has
    something left after stripping), so a million-row track file is not tested cell by cell."""
    if not pd.api.types.is_string_dtype(col.dtype) or col.dtype == object:
        return col.map(_blank).to_numpy(dtype=bool)
    if isinstance(col.dtype, pd.StringDtype) and col.dtype.storage == "pyarrow":
        # one pass of Arrow kernels: empty, or whitespace only (utf8_is_space is str.isspace)
        import pyarrow.compute as pc

        arr = col.array.__arrow_array__()
        blank = pc.or_kleene(pc.equal(arr, ""), pc.utf8_is_space(arr))
        return pc.fill_null(blank, True).to_numpy(zero_copy_only=False)
    first = col.str.slice(0, 1)
    spaces = [c for c in first.dropna().unique() if not str(c).strip()]
    maybe = (first.isin(spaces) | first.isna()).to_numpy(dtype=bool)
    out = np.zeros(len(col), dtype=bool)
    out[maybe] = [_blank(v) for v in col[maybe].tolist()]
    return out


def _coordinate_notes(rawx: pd.Series, rawy: pd.Series, xv: np.ndarray, yv: np.ndarray,
                      xname: str, yname: str) -> list[dict[str, Any]]:
    """Notes on rows rejected for a coordinate that is not a number or blank."""
    notes: list[dict[str, Any]] = []
    for name, raw, val in ((xname, rawx, xv), (yname, rawy, yv)):
        blank = _blank_mask(raw)
        for i in np.flatnonzero(~np.isfinite(val) & ~blank):
            notes.append(_note(int(i), "coordinate_not_number",
                               f"坐标“{raw.iloc[i]}”不是数字，该行已剔除", "rejected", name))
    both_blank = _blank_mask(rawx) | _blank_mask(rawy)
    flagged = {n["pos"] for n in notes}
    for i in np.flatnonzero(both_blank):
        if int(i) not in flagged:
            notes.append(_note(int(i), "null_geometry", "坐标为空，该行已剔除", "rejected",
                               xname if _blank(rawx.iloc[i]) else yname))
    return notes


#: Texts Arrow's cast reads exactly as pandas.to_numeric: at most 15 digits (then every value
#: and its power of ten are exact doubles and both parsers round once, correctly) and no exponent,
#: ``inf`` or ``nan`` spellings (which the two accept differently).
_PLAIN_DECIMAL = r"^[-+]?[0-9]*\.?[0-9]*$"


def text_numbers(raw: pd.Series) -> np.ndarray | None:
    """``pd.to_numeric(raw, errors="coerce")`` as float64 for an Arrow-backed text column of
    plain decimals (:data:`_PLAIN_DECIMAL`, at most 15 characters), cast by Arrow (about 20x
    less CPU); ``None`` for any other column (pandas reads it). A column with a zero is left to
    pandas too (``-0`` is ``-0.0`` or ``0.0`` there depending on the other values)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = getattr(raw.array, "_pa_array", None)
    if arr is None or arr.null_count or not len(arr):
        return None
    try:
        if pc.max(pc.utf8_length(arr)).as_py() > 15 or \
                not pc.all(pc.match_substring_regex(arr, _PLAIN_DECIMAL)).as_py():
            return None
        out = pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False)
    except pa.ArrowInvalid:
        return None
    if not np.all(out != 0):
        return None
    return np.asarray(out, dtype=float)


def _numbers(raw: pd.Series) -> np.ndarray:
    fast = text_numbers(raw)
    if fast is not None:
        return fast
    if pd.api.types.is_string_dtype(raw.dtype) and raw.dtype != object:
        # strip only the texts that start or end with whitespace (a text column of a CSV)
        ends = pd.concat([raw.str.slice(0, 1), raw.str.slice(-1)]).dropna().unique()
        spaces = [c for c in ends if not str(c).strip()]
        pad = (raw.str.slice(0, 1).isin(spaces) | raw.str.slice(-1).isin(spaces)).to_numpy()
        if pad.any():
            raw = raw.copy()
            raw[pad] = [v.strip() for v in raw[pad].tolist()]
        return pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    return pd.to_numeric(raw.map(lambda v: str(v).strip() if isinstance(v, str) else v),
                         errors="coerce").to_numpy(dtype=float)


def _read_table(path: Path, *, x: str | None, y: str | None, encoding: str | None,
                sheet: str | int | None) -> SourceRead:
    grid, enc = _read_grid(path, encoding, sheet)
    if grid.empty:
        raise UnreadableInputError("表格为空，没有表头", path=str(path))
    head = [list(grid.iloc[r]) for r in range(min(HEAD_ROWS, len(grid)))]
    names, xy, data_start = table_header(head, x, y, path)
    body = grid.iloc[data_start:].copy()
    body.columns = names
    rows = np.arange(data_start + 1, len(grid) + 1, dtype=np.int64)
    blank = np.ones((len(body), 0), dtype=bool)
    if len(body.columns):
        blank = np.column_stack([_blank_mask(body.iloc[:, j]) for j in range(body.shape[1])])
    filled = ~blank.all(axis=1)
    body, rows = body.loc[filled].reset_index(drop=True), rows[filled]
    xname, yname = names[xy[0]], names[xy[1]]
    rawx, rawy = body.pop(xname), body.pop(yname)
    xv, yv = _numbers(rawx), _numbers(rawy)
    notes = _coordinate_notes(rawx, rawy, xv, yv, xname, yname)
    ok = np.isfinite(xv) & np.isfinite(yv)
    geom = np.full(len(body), None, dtype=object)
    geom[ok] = shapely.points(xv[ok], yv[ok])
    for c in body.columns:
        if body[c].dtype == object:
            body[c] = body[c].map(lambda v: None if _blank(v) else v)
    gdf = gpd.GeoDataFrame(body, geometry=gpd.GeoSeries(geom), crs=None)
    driver = "CSV" if path.suffix.lower() in (".csv", ".txt") else "XLSX"
    return SourceRead(gdf, path, path.stem, driver, rows, notes, enc, (xname, yname))

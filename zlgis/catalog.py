"""The layer catalog: which layer is which, its schema, its CRS and its public fields.

The catalog is one YAML file (``layers/catalog.yaml``). A bureau adapts zlgis to its own data by
editing it. Source paths are relative to ``data_dir``, itself relative to the catalog file.

Examples
--------
>>> cat = Catalog.load()
>>> cat.layers["toilets"].title
'公共厕所'
>>> cat.layers["buildings"].field_for_alias("层数")
'floors'
>>> cat.city
'扎兰屯市'

Beside field aliases, a field may carry ``values:``, a map from source values to the catalog's
(OSM ``highway: primary`` to 主干路, a bureau's own codes to the catalog's classes; the key
``"*"`` maps every other non-empty value), and a layer's source may carry ``filter:``, which picks
the layer's features out of a shared source (``{building: "*"}``: the feature has the tag;
``{amenity: [toilets]}``: one of these values; ``{cad_layer: 道路红线}``). A mapped value that the
field's ``allowed`` list does not hold is refused when the catalog is read.

A layer may be derived instead of read: ``source: {derive: red_lines_from_roads, from: roads}``
makes road red lines from the road centrelines for every command and the weekly run
(``classes: [主干路, 次干路, 支路]`` limits them to those road classes; ``widths: {支路: 13}``
sets the red-line width of a class where the road has no width of its own).

A layer may live in a PostgreSQL/PostGIS database instead of a file:
``source: {url: "postgresql://host:5432/city", table: planning.buildings}`` (a table or a view,
``schema.table``), or ``{url: ..., query: "SELECT ... FROM ..."}``; ``geometry_column`` picks
one when the relation has several. The URL names the server and database only: the user and
password come from the environment (``PGUSER``, ``PGPASSWORD``) or a pgpass file, and a URL
with a password is refused. Such a layer is read by :mod:`zlgis.io.postgis` and validated like
any file. ``sql_overlays: true`` (top level) runs the control-line joins in the database when
buildings and lines live there (:mod:`zlgis.analysis.controllines_pushdown`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ._yaml import safe_load
from .errors import CatalogError

__all__ = ["Catalog", "LayerSpec", "FieldSpec", "DEFAULT_CATALOG", "REQUIRED_LAYER_IDS",
           "DERIVATIONS"]

_REPO_CATALOG = Path(__file__).resolve().parent.parent / "layers" / "catalog.yaml"
#: The default catalog: ``layers/catalog.yaml`` of the repository, or, in an installed package,
#: the copy shipped as ``zlgis/layers/catalog.yaml`` (a symlink to it in the repository).
DEFAULT_CATALOG = (_REPO_CATALOG if _REPO_CATALOG.exists()
                   else Path(__file__).resolve().parent / "layers" / "catalog.yaml")

#: Layer ids every catalog must name (the campaign's layer kinds).
REQUIRED_LAYER_IDS = (
    "roads", "red_lines", "green_lines", "blue_lines", "purple_lines", "yellow_lines",
    "buildings", "residential_compounds", "construction_sites", "parks", "green_islands", "trees",
    "toilets", "garbage_points", "transfer_stations", "street_lamps", "waterlogging_points",
    "truck_no_parking_zones", "truck_restricted_roads", "truck_parking", "logistics_points",
    "heat_stations", "grids", "hotline_cases", "boundary",
)

FIELD_TYPES = ("str", "int", "float", "bool", "date", "datetime")
#: Derived layers a catalog may declare (``source: {derive: NAME, from: LAYER}``).
DERIVATIONS = ("red_lines_from_roads",)
GEOMETRY_TYPES = ("Point", "LineString", "Polygon", None)


@dataclass(frozen=True)
class FieldSpec:
    """One attribute of a layer, under its canonical English name."""

    name: str
    type: str = "str"
    required: bool = False
    allowed: tuple[Any, ...] | None = None
    aliases: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None
    pattern: str | None = None
    #: Source value -> catalog value (``"*"``: every other non-empty value).
    values: dict[str, Any] | None = None
    #: Chinese label shown to users (popups, Excel); default the first Chinese alias.
    title: str | None = None


@dataclass(frozen=True)
class LayerSpec:
    """One catalog entry."""

    id: str
    title: str
    kind: str
    path: Path | None
    layer: str | None
    geometry: str | None
    crs: str | None
    id_field: str | None
    fields: dict[str, FieldSpec]
    public: tuple[str, ...] = ()
    dxf_layers: tuple[str, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)
    #: Source column -> ``"*"`` (any non-empty value) or the accepted values.
    filter: dict[str, Any] | None = None
    #: ``{"derive": name, "from": layer id}`` for a layer computed from another one.
    derived: dict[str, Any] | None = None
    #: ``{"url", "table" | "query", "geometry_column"}`` for a layer read from PostgreSQL.
    database: dict[str, Any] | None = None

    @property
    def readable(self) -> bool:
        """True when the layer has a source to read: a database, or a file that exists."""
        return bool(self.database) or (self.path is not None and self.path.exists())

    @property
    def source_label(self) -> str | None:
        """Where the layer is read from, for messages: the file path, or the database URL
        with the table (or ``查询``)."""
        if self.database:
            what = self.database.get("table") or "查询"
            return f"{self.database['url']}（{what}）"
        return str(self.path) if self.path is not None else None

    def field_for_alias(self, name: str) -> str | None:
        """Canonical field name for a source column name (canonical name or alias), else None."""
        for f in self.fields.values():
            if name == f.name or name in f.aliases:
                return f.name
        low = name.strip().lower()
        for f in self.fields.values():
            if low == f.name.lower() or low in (a.lower() for a in f.aliases):
                return f.name
        return None

    def alias(self, name: str) -> str:
        """What a bureau user calls a field: its ``title``, else its first Chinese alias, else
        its first alias (the canonical name when it has none)."""
        f = self.fields.get(name)
        if f is None:
            return name
        if f.title:
            return f.title
        cjk = [a for a in f.aliases if any("\u4e00" <= ch <= "\u9fff" for ch in a)]
        return (cjk or list(f.aliases) or [name])[0]


@dataclass
class Catalog:
    """A loaded layer catalog."""

    path: Path
    data_dir: Path
    working_crs: str
    layers: dict[str, LayerSpec]
    boundary_layer: str | None = "boundary"
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def city(self) -> str:
        """The city's name for titles (``city:`` in the catalog, default 扎兰屯市)."""
        return str(self.raw.get("city") or "扎兰屯市")

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None) -> "Catalog":
        """Read a catalog file (default: ``$ZLGIS_CATALOG`` or ``layers/catalog.yaml``)."""
        path = Path(path or os.environ.get("ZLGIS_CATALOG") or DEFAULT_CATALOG)
        if not path.exists():
            raise CatalogError("图层目录文件不存在", path=str(path))
        try:
            raw = safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise CatalogError(f"图层目录文件无法解析：{exc}", path=str(path)) from None
        if not isinstance(raw, dict) or not isinstance(raw.get("layers"), dict):
            raise CatalogError("图层目录缺少 layers 部分", path=str(path))
        for key in ("data_dir", "working_crs", "boundary_layer", "city", "name"):
            _expect(raw.get(key), _TEXT, path=path, layer=None, key=key)
        data_dir = (path.parent / str(raw.get("data_dir", "."))).resolve()
        layers = {lid: _layer_spec(lid, spec, data_dir, path) for lid, spec in raw["layers"].items()}
        for spec in layers.values():
            src = (spec.derived or {}).get("from")
            if src is not None and src not in layers:
                raise CatalogError(f"图层 {spec.id} 由图层 {src} 推算，但图层目录中没有图层 {src}",
                                   path=str(path), layer=spec.id, field="source.from")
        from .crs import check_working_crs

        working = check_working_crs(str(raw.get("working_crs", "EPSG:4550")), path=str(path))
        return cls(path=path.resolve(), data_dir=data_dir, working_crs=working, layers=layers,
                   boundary_layer=raw.get("boundary_layer", "boundary"), raw=raw)

    def __getitem__(self, layer_id: str) -> LayerSpec:
        try:
            return self.layers[layer_id]
        except KeyError:
            raise CatalogError(f"图层目录中没有图层 {layer_id}", path=str(self.path)) from None

    def missing_required(self) -> list[str]:
        """Required campaign layer ids this catalog does not name."""
        return [lid for lid in REQUIRED_LAYER_IDS if lid not in self.layers]

    def with_data_dir(self, data_dir: str | os.PathLike[str]) -> dict[str, Any]:
        """The raw catalog with ``data_dir`` replaced (to write a catalog next to data)."""
        raw = dict(self.raw)
        raw["data_dir"] = str(data_dir)
        return raw


_TEXT = (str,)
_NUMBER = (int, float)
_SCALAR = (str, int, float, bool)
#: Expected types of a layer's keys and of a field's keys (``None`` always allowed where absent
#: is allowed): a value of another type is refused at load with the key named.
_LAYER_TYPES: dict[str, tuple[type, ...]] = {
    "title": _TEXT, "kind": _TEXT, "source": (str, dict), "crs": _TEXT, "id_field": _TEXT,
    "fields": (dict,), "public": (list,), "dxf_layers": (list,)}
_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "type": _TEXT, "required": (bool,), "allowed": (list,), "aliases": (list,),
    "min": _NUMBER, "max": _NUMBER, "pattern": _TEXT, "values": (dict,)}
_TYPE_NAMES = {str: "文字", dict: "映射", list: "列表", bool: "true/false", int: "数字",
               float: "数字"}


def _expect(value: Any, types: tuple[type, ...], *, path: Path, layer: str | None,
            key: str) -> None:
    """Refuse ``value`` unless it is ``None`` or of ``types`` (booleans are not numbers)."""
    if value is None:
        return
    if isinstance(value, bool) and bool not in types:
        ok = False
    else:
        ok = isinstance(value, types)
    if not ok:
        want = "或".join(dict.fromkeys(_TYPE_NAMES[t] for t in types))
        raise CatalogError(f"{key} 应为{want}，实际为 {value!r}"[:300], path=str(path),
                           layer=layer, field=key)


def _check_types(lid: str, spec: dict[str, Any], cat_path: Path) -> None:
    for key, types in _LAYER_TYPES.items():
        _expect(spec.get(key), types, path=cat_path, layer=lid, key=key)
    for key in ("public", "dxf_layers"):
        for item in spec.get(key) or ():
            _expect(item, _TEXT, path=cat_path, layer=lid, key=key)
    src = spec.get("source")
    if isinstance(src, dict):
        for key in ("path", "layer", "derive", "from", "url"):
            _expect(src.get(key), _TEXT, path=cat_path, layer=lid, key=f"source.{key}")
    for name, f in (spec.get("fields") or {}).items():
        _expect(f, (dict,), path=cat_path, layer=lid, key=f"fields.{name}")
        for key, types in _FIELD_TYPES.items():
            _expect((f or {}).get(key), types, path=cat_path, layer=lid, key=f"fields.{name}.{key}")
        for key in ("allowed", "aliases"):
            for item in (f or {}).get(key) or ():
                _expect(item, _SCALAR, path=cat_path, layer=lid, key=f"fields.{name}.{key}")


def _field_values(lid: str, name: str, values: Any, allowed: tuple | None,
                  cat_path: Path) -> dict[str, Any] | None:
    """A field's ``values`` map (source value -> catalog value), checked against ``allowed``."""
    if values is None:
        return None
    if not isinstance(values, dict):
        raise CatalogError(f"图层 {lid} 字段 {name} 的 values 应为“源数据值: 目录值”的映射",
                           path=str(cat_path), layer=lid, field=name)
    values = {str(k): v for k, v in values.items()}
    bad = [f"{k} → {v}" for k, v in values.items()
           if allowed is not None and v is not None and v not in allowed]
    if bad:
        raise CatalogError(
            f"图层 {lid} 字段 {name} 的值映射 {'、'.join(bad)} 不在允许值中"
            f"（允许：{'、'.join(map(str, allowed))}）", path=str(cat_path), layer=lid,
            field=name)
    return values


def _field_spec(lid: str, name: str, f: dict[str, Any], cat_path: Path) -> FieldSpec:
    """One field of a layer: type, allowed values, value map and pattern checked."""
    ftype = f.get("type", "str")
    if ftype not in FIELD_TYPES:
        raise CatalogError(f"图层 {lid} 字段 {name} 的类型 {ftype!r} 无效", path=str(cat_path))
    allowed = tuple(f["allowed"]) if f.get("allowed") is not None else None
    values = _field_values(lid, name, f.get("values"), allowed, cat_path)
    pattern = f.get("pattern")
    if pattern is not None:
        try:
            re.compile(str(pattern))
        except re.error as exc:
            raise CatalogError(f"格式（pattern）{pattern!r} 不是有效的正则表达式：{exc}",
                               path=str(cat_path), layer=lid, field=name) from None
    return FieldSpec(
        name=name, type=ftype, required=bool(f.get("required", False)),
        allowed=allowed, aliases=tuple(str(a) for a in f.get("aliases") or ()),
        min=f.get("min"), max=f.get("max"), pattern=f.get("pattern"), values=values,
        title=str(f["title"]) if f.get("title") else None)


def _derived_source(lid: str, src: dict[str, Any], cat_path: Path) -> dict[str, Any] | None:
    """``{"derive", "from", "classes", "widths"}`` of a derived layer (None for a read one)."""
    if src.get("derive") is None:
        return None
    if src["derive"] not in DERIVATIONS or not src.get("from"):
        raise CatalogError(f"图层 {lid} 的推算方式 {src['derive']!r} 无效，应为"
                           f" {'、'.join(DERIVATIONS)}，并用 from 指明源图层",
                           path=str(cat_path), layer=lid, field="source.derive")
    derived: dict[str, Any] = {"derive": str(src["derive"]), "from": str(src["from"])}
    if src.get("classes") is not None:
        derived["classes"] = [str(c) for c in src["classes"]]
    if src.get("widths") is not None:
        derived["widths"] = {str(k): v for k, v in dict(src["widths"]).items()}
    return derived


def _layer_spec(lid: str, spec: Any, data_dir: Path, cat_path: Path) -> LayerSpec:
    if not isinstance(spec, dict):
        raise CatalogError(f"图层 {lid} 的定义不是映射", path=str(cat_path))
    _check_types(lid, spec, cat_path)
    for key in ("title", "kind", "source"):
        if key not in spec:
            raise CatalogError(f"图层 {lid} 缺少必填项 {key}", path=str(cat_path))
    geom = spec.get("geometry")
    if geom not in GEOMETRY_TYPES:
        raise CatalogError(f"图层 {lid} 的几何类型 {geom!r} 无效，应为 {GEOMETRY_TYPES}",
                           path=str(cat_path))
    fields = {name: _field_spec(lid, name, f or {}, cat_path)
              for name, f in (spec.get("fields") or {}).items()}
    public = tuple(spec.get("public") or ())
    unknown = [p for p in public if p not in fields]
    if unknown:
        raise CatalogError(f"图层 {lid} 的公开字段 {unknown} 未在 fields 中定义", path=str(cat_path))
    src = spec["source"] if isinstance(spec["source"], dict) else {"path": spec["source"]}
    filt = src.get("filter")
    if filt is not None and not (isinstance(filt, dict) and filt):
        raise CatalogError(f"图层 {lid} 的 filter 应为“源字段: 值”的映射（值为 \"*\" 表示有值即可）",
                           path=str(cat_path), layer=lid, field="source.filter")
    derived = _derived_source(lid, src, cat_path)
    database = _database_source(lid, src, cat_path)
    known = {"title", "kind", "source", "geometry", "crs", "id_field", "fields", "public",
             "dxf_layers"}
    options = {k: v for k, v in spec.items() if k not in known}
    options.update({k: v for k, v in src.items()
                    if k not in ("path", "layer", "filter", "derive", "from", "classes",
                                 "widths", *_DB_KEYS)})
    return LayerSpec(
        id=lid, title=str(spec["title"]), kind=str(spec["kind"]),
        path=Path(os.path.normpath(data_dir / src["path"])) if src.get("path") else None,
        layer=src.get("layer"),
        geometry=geom, crs=spec.get("crs"), id_field=spec.get("id_field"), fields=fields,
        public=public, dxf_layers=tuple(spec.get("dxf_layers") or ()), options=options,
        filter={str(k): v for k, v in filt.items()} if filt else None, derived=derived,
        database=database)


_DB_KEYS = ("url", "table", "query", "geometry_column")
_DB_SCHEMES = ("postgresql", "postgres")
_TABLE_NAME = re.compile(r"^[^.\s\x00]+(\.[^.\s\x00]+)?$")


def _database_source(lid: str, src: dict[str, Any], cat_path: Path) -> dict[str, Any] | None:
    """The PostgreSQL source of a layer (``url`` with ``table`` or ``query``), checked.

    A URL holding a password is refused without repeating it: credentials belong in the
    environment or a pgpass file, never in a catalog that is copied and shared.
    """
    url = src.get("url")
    if url is None:
        extra = [k for k in ("table", "query", "geometry_column") if src.get(k) is not None]
        if extra:
            raise CatalogError(f"图层 {lid} 的 source 写了 {extra[0]}，但没有数据库地址 url",
                               path=str(cat_path), layer=lid, field="source.url")
        return None
    from urllib.parse import urlsplit

    text = str(url).strip()
    try:
        parts = urlsplit(text)
        scheme = parts.scheme.split("+", 1)[0].lower()
        password = parts.password
    except ValueError:
        scheme, password = "", None
    if scheme not in _DB_SCHEMES or not parts.hostname and not parts.path.strip("/"):
        raise CatalogError(f"图层 {lid} 的数据库地址应为 postgresql://主机:端口/数据库",
                           path=str(cat_path), layer=lid, field="source.url")
    if password is not None or "password=" in (parts.query or "").lower():
        raise CatalogError(
            f"图层 {lid} 的数据库地址含有密码，已拒绝：图层目录中不得写密码，请用环境变量 PGPASSWORD"
            "（或 PGUSER）或 pgpass 文件（PGPASSFILE）提供", path=str(cat_path), layer=lid,
            field="source.url")
    table, query = src.get("table"), src.get("query")
    if (table is None) == (query is None):
        raise CatalogError(f"图层 {lid} 的数据库来源须写 table（表或视图，如 public.buildings）"
                           "或 query（查询语句）之一", path=str(cat_path), layer=lid,
                           field="source.table")
    for key in ("table", "query", "geometry_column"):
        _expect(src.get(key), _TEXT, path=cat_path, layer=lid, key=f"source.{key}")
    if table is not None and not _TABLE_NAME.match(str(table).strip()):
        raise CatalogError(f"图层 {lid} 的表名 {table!r} 无效，应为 表名 或 模式.表名",
                           path=str(cat_path), layer=lid, field="source.table")
    scheme_url = "postgresql" + text[len(parts.scheme):]
    return {"url": scheme_url, "table": str(table).strip() if table is not None else None,
            "query": str(query).strip().rstrip(";") if query is not None else None,
            "geometry_column": src.get("geometry_column")}

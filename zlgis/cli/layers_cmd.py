"""``zlgis layers`` and ``zlgis validate``.

``zlgis layers [--catalog FILE] [--json]`` lists the catalog with feature counts and the
campaign layers it does not name, each with the checks that cannot run without it. Exit 1 only
for a real problem: a layer the catalog names whose file is missing or unreadable, or no boundary
layer; a campaign layer the city does not have is optional (exit 0).
``zlgis validate [LAYER ...] [--catalog FILE] [--json] [--report FILE]`` validates catalog layers;
``zlgis validate PATH [--layer NAME] [--kind KIND] [--crs EPSG|gcj02|bd09] [--json]`` checks any
single file without a catalog entry. Exit codes: 0 clean, 1 problems found, 2 input unreadable.
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from pathlib import Path
from typing import Any

from .._progress import Progress
from ..catalog import Catalog
from ..errors import CatalogError, UnreadableInputError, ZlgisError
from . import add_common_options

__all__ = ["register", "cmd_layers", "cmd_validate"]

_RASTER_SUFFIXES = (".tif", ".tiff", ".img", ".asc")


def register(subparsers: Any, check_subparsers: Any) -> None:
    """Add ``layers`` and ``validate`` to the ``zlgis`` parser."""
    p = subparsers.add_parser("layers", help="列出图层目录中的图层及要素数量",
                              description="列出图层目录中的图层、文件和要素数量")
    add_common_options(p, json=True)
    p.set_defaults(func=cmd_layers)

    v = subparsers.add_parser(
        "validate", help="检查图层（图层目录中的图层，或任意单个文件）",
        description="逐行检查图层：几何、坐标系、字段类型与取值、编号重复、市界范围。"
                    "退出码：0 无问题，1 发现问题，2 文件无法读取。")
    v.add_argument("targets", nargs="*", metavar="LAYER|PATH",
                   help="图层编号（默认全部），或一个数据文件路径")
    v.add_argument("--layer", metavar="NAME", help="文件中的图层名（GeoPackage、OSM PBF 等多图层文件）")
    v.add_argument("--kind", metavar="KIND",
                   help="按哪种图层检查：图层目录中的图层编号（如 buildings）、类别或 point/line/polygon")
    v.add_argument("--crs", metavar="CRS", help="源数据坐标系：EPSG 代码（如 4550、EPSG:4326）或 gcj02、bd09")
    v.add_argument("--encoding", metavar="ENC",
                   help="属性文字编码（如 GBK、UTF-8；默认按 .cpg 或内容判断），只用于检查单个文件")
    v.add_argument("--report", metavar="FILE", help="把问题清单写入 CSV 或 JSON 文件")
    v.add_argument("--limit", type=int, default=200, metavar="N",
                   help="终端最多显示多少条问题（默认 200，0 为全部）")
    add_common_options(v, json=True)
    v.set_defaults(func=cmd_validate)


# ------------------------------------------------------------------------------------------------

def _count(spec: Any) -> tuple[int | None, str]:
    from ..io.feature_count import quick_count, tiff_size
    from ..io.table_rows import count_table_rows

    if spec.derived:
        return None, f"由 {spec.derived['from']} 推算"
    if spec.database:
        from ..io.postgis import count_postgis

        try:
            return count_postgis(spec.database, layer=spec.id), "正常"
        except ZlgisError as exc:
            return None, f"无法读取：{exc.message}"
    if spec.path is None:
        return None, "未给出文件"
    if not spec.path.exists():
        return None, "文件缺失"
    if spec.kind == "raster":
        size = tiff_size(spec.path)
        if size is not None:
            return None, f"栅格 {size[0]}×{size[1]}"
        try:
            import rasterio

            with rasterio.open(spec.path) as ds:
                return None, f"栅格 {ds.width}×{ds.height}"
        except Exception:  # noqa: BLE001 - rasterio raises many kinds
            return None, "无法读取"
    opts = {k: spec.options.get(k) for k in ("x", "y", "encoding", "sheet")}  # as the loader
    try:
        if spec.filter:  # the rows the filter keeps, not the whole file layer (as the loader)
            from ..io.mapping import apply_filter
            from ..io.readers import read_source

            return len(apply_filter(read_source(spec.path, spec.layer), spec).gdf), "正常"
        n = quick_count(spec.path, spec.layer)
        if n is not None:
            return n, "正常"
        if spec.path.is_file():  # CSV/XLSX rows counted without pandas (None: other formats)
            n = count_table_rows(spec.path, **opts)
            if n is not None:
                return n, "正常"
        from ..io.readers import count_features

        return count_features(spec.path, spec.layer, **opts), "正常"
    except ZlgisError:
        return None, "无法读取"


def cmd_layers(args: argparse.Namespace) -> int:
    """List the catalog with feature counts; exit 1 when a layer the catalog names is missing or
    unreadable or it has no boundary layer (campaign layers it does not name are optional)."""
    catalog = Catalog.load(args.catalog)
    progress = Progress(quiet=getattr(args, "quiet", False))
    rows = []
    for lid, spec in catalog.layers.items():
        progress.step(f"统计 {spec.title}")
        n, status = _count(spec)
        rows.append({"id": lid, "title": spec.title, "kind": spec.kind, "geometry": spec.geometry,
                     "crs": spec.crs, "path": str(spec.path) if spec.path else None,
                     "layer": spec.layer, "features": n, "status": status,
                     "database": spec.source_label if spec.database else None})
    bad = [r for r in rows if r["status"] in ("文件缺失", "无法读取", "未给出文件")
           or r["status"].startswith("无法读取：")]
    from ..skips import disabled_checks, disabled_rules

    optional = catalog.missing_required()
    no_boundary = not catalog.boundary_layer or catalog.boundary_layer not in catalog.layers
    absent = optional + [r["id"] for r in bad]
    code = 1 if bad or no_boundary else 0
    if getattr(args, "json", False):
        print(json.dumps({"catalog": str(catalog.path), "working_crs": catalog.working_crs,
                          "layers": rows, "missing_required": optional,
                          "missing_optional": [i for i in optional
                                               if i != catalog.boundary_layer],
                          "problems": [r["id"] for r in bad] + (
                              [catalog.boundary_layer or "boundary"] if no_boundary else []),
                          "disables": {k: [r.id for r in v]
                                       for k, v in disabled_rules(absent).items() if v},
                          "exit_code": code},
                         ensure_ascii=False, indent=1))
    else:
        print(f"图层目录：{catalog.path}（工作坐标系 {catalog.working_crs}）")
        for r in rows:
            n = "" if r["features"] is None else f"{r['features']} 个要素"
            geom = r["geometry"] or "—"
            print(f"  {r['id']:<24} {r['title']:<12} {geom:<10} {n:<14} {r['status']}  "
                  f"{r['database'] or (Path(r['path']).name if r['path'] else '')}")
        if optional:
            print(f"图层目录未包含以下活动图层（可选，缺少时相关检查不运行）：{'、'.join(optional)}")
        for line in disabled_checks(catalog, absent):
            if "不能运行" in line:
                print(f"  {line}")
        if no_boundary:
            print(f"图层目录没有市界图层 {catalog.boundary_layer or 'boundary'}：无法检查范围")
        print(f"共 {len(rows)} 个图层" + (f"，{len(bad)} 个文件缺失或无法读取" if bad else ""))
    return code


# ------------------------------------------------------------------------------------------------

def _looks_like_path(target: str) -> bool:
    p = Path(target)
    return p.exists() or "/" in target or "\\" in target or bool(p.suffix)


def _layer_summary(res: Any, title: str | None = None) -> dict[str, Any]:
    acts = res.issues["action"].value_counts().to_dict() if len(res.issues) else {}
    return {"layer": res.layer_id, "title": title, "path": str(res.path) if res.path else None,
            "rows_in": int(res.rows_in), "rows_loaded": int(len(res.gdf)),
            "rows_rejected": int(len(res.rejected)), "repaired": int(acts.get("repaired", 0)),
            "warnings": int(acts.get("warning", 0)), "dropped_z": int(acts.get("dropped_z", 0)),
            "source_crs": res.source_crs, "issues": int(len(res.issues)),
            "status": "clean" if res.issues.empty else "problems", "error": None}


def _raster_summary(path: Path, layer_id: str, title: str | None = None) -> dict[str, Any]:
    import rasterio

    try:
        with rasterio.open(path) as ds:
            crs = ds.crs.to_string() if ds.crs else None
            info = f"{ds.width}×{ds.height}，{ds.count} 个波段，{ds.dtypes[0]}"
    except Exception as exc:  # noqa: BLE001 - rasterio raises many kinds
        if not path.exists():
            raise UnreadableInputError("文件不存在", path=str(path), layer=layer_id) from None
        raise UnreadableInputError("栅格文件无法读取（可能已损坏或不完整）", path=str(path),
                                   layer=layer_id) from exc
    return {"layer": layer_id, "title": title, "path": str(path), "rows_in": None,
            "rows_loaded": None, "rows_rejected": 0, "repaired": 0, "warnings": 0, "dropped_z": 0,
            "source_crs": crs, "issues": 0, "status": "clean", "error": None, "raster": info}


def _debug(args: argparse.Namespace) -> None:
    if getattr(args, "debug", False):
        traceback.print_exc()


def _validate_paths(args: argparse.Namespace, catalog: Catalog | None, progress: Progress,
                    summaries: list[dict[str, Any]], frames: list, errors: list[str]) -> None:
    """Validate the files named on the command line (rasters are only described)."""
    from ..validate import read_file

    for t in args.targets:
        path = Path(t)
        try:
            if path.suffix.lower() in _RASTER_SUFFIXES:
                summaries.append(_raster_summary(path, path.stem))
                continue
            for res in read_file(path, layer=args.layer, kind=args.kind, crs=args.crs,
                                 catalog=catalog, progress=progress,
                                 encoding=args.encoding):
                summaries.append(_layer_summary(res, res.title))
                frames.append(res.issues)
        except ZlgisError as exc:
            _debug(args)
            errors.append(str(exc))
            summaries.append({"layer": args.layer or path.stem, "path": str(path),
                              "status": "error", "error": str(exc)})


def _validate_catalog(args: argparse.Namespace, catalog: Catalog, progress: Progress,
                      summaries: list[dict[str, Any]], frames: list, errors: list[str]) -> None:
    """Validate the catalog's layers (all, or the ids named); derived layers are skipped. A
    layer unchanged since it was last validated comes from the layer cache (the same report;
    :mod:`zlgis.validate.cache`), as in the weekly run."""
    from ..validate import read_layer
    from ..validate.cache import cache_enabled

    cache = cache_enabled()
    ids = list(args.targets) or list(catalog.layers)
    for lid in ids:
        catalog[lid]  # unknown layer id: CatalogError (exit 2) before any work
    for lid in ids:
        spec = catalog[lid]
        if spec.derived:
            continue  # computed from its source layer, which is validated
        try:
            if spec.kind == "raster":
                if spec.path is None:
                    raise UnreadableInputError("图层目录没有给出文件路径", layer=lid)
                summaries.append(_raster_summary(spec.path, lid, spec.title))
                continue
            res = read_layer(catalog, lid, crs=args.crs, progress=progress, cache=cache)
            summaries.append(_layer_summary(res, spec.title))
            frames.append(res.issues)
        except ZlgisError as exc:
            _debug(args)
            errors.append(str(exc))
            summaries.append({"layer": lid, "title": spec.title,
                              "path": str(spec.path) if spec.path else None,
                              "status": "error", "error": str(exc)})


def _summary_line(s: dict[str, Any]) -> str:
    """One Chinese line on a validated layer (rows read, loaded, rejected, repaired)."""
    name = f"{s['layer']}（{s['title']}）" if s.get("title") else str(s["layer"])
    if s.get("raster"):
        return f"{name}：栅格 {s['raster']}，坐标系 {s['source_crs'] or '未声明'}"
    parts = [f"读入 {s['rows_in']} 行", f"载入 {s['rows_loaded']} 行"]
    if s["rows_rejected"]:
        parts.append(f"剔除 {s['rows_rejected']} 行")
    if s["repaired"]:
        parts.append(f"修复 {s['repaired']} 处")
    if s["warnings"]:
        parts.append(f"警告 {s['warnings']} 条")
    return f"{name}：{'，'.join(parts)}"


def cmd_validate(args: argparse.Namespace) -> int:
    """Validate catalog layers or one file; print the report; return 0, 1 or 2."""
    from ..validate.report import concat_issues, format_issues, issues_records, write_issues

    progress = Progress(quiet=getattr(args, "quiet", False))
    targets = list(args.targets)
    summaries: list[dict[str, Any]] = []
    frames: list = []
    errors: list[str] = []
    catalog: Catalog | None = None
    if targets and any(_looks_like_path(t) for t in targets):
        if args.catalog:
            catalog = Catalog.load(args.catalog)
        _validate_paths(args, catalog, progress, summaries, frames, errors)
    else:
        if args.layer or args.kind or args.encoding:
            raise CatalogError("--layer、--kind 和 --encoding 只用于检查单个文件（zlgis validate PATH ...）"
                               "；图层目录中的图层请在 source 中写 encoding")
        catalog = Catalog.load(args.catalog)
        _validate_catalog(args, catalog, progress, summaries, frames, errors)

    issues = concat_issues(frames)
    code = 2 if errors else (1 if len(issues) else 0)
    if args.report:
        write_issues(issues, args.report)
    if getattr(args, "json", False):
        print(json.dumps({"catalog": str(catalog.path) if catalog else None,
                          "layers": summaries, "issues": issues_records(issues),
                          "errors": errors, "exit_code": code}, ensure_ascii=False, indent=1))
    else:
        for s in summaries:
            if s["status"] != "error":
                print(_summary_line(s))
        for line in format_issues(issues, limit=args.limit or None):
            print(line)
        if code == 0:
            print("检查通过，未发现问题")
        elif len(issues):
            print(f"共发现 {len(issues)} 个问题")
    for e in errors:
        print(f"错误：{e}", file=sys.stderr)
    return code

"""``zlgis map`` (one web map) and ``zlgis publish`` (maps, figures and an index page).

Examples (shell)::

    zlgis map --profile public --basemap none --assets local --out out/public.html
    zlgis publish --profile public --assets local --out out/portal
"""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._progress import Progress
from ..catalog import Catalog
from ..errors import UnreadableInputError
from ..publish.styles import BASEMAPS, PROFILES
from . import add_common_options

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["register", "read_findings", "publish_outputs"]


def register(subparsers: Any, check_subparsers: Any) -> None:
    """Add ``map`` and ``publish`` to the ``zlgis`` command."""
    p = subparsers.add_parser("map", help="生成网页地图（内部版或公开版）")
    add_common_options(p)
    _map_options(p)
    p.add_argument("--out", required=True, metavar="FILE.html", help="输出的 HTML 文件")
    p.add_argument("--title", default=None, help="地图标题")
    p.set_defaults(func=run_map)

    q = subparsers.add_parser("publish", help="发布地图、静态图件和索引页到一个目录")
    add_common_options(q)
    _map_options(q)
    q.add_argument("--out", required=True, metavar="DIR", help="输出目录")
    q.add_argument("--no-figure", action="store_true", help="不生成 PNG 静态图")
    q.set_defaults(func=run_publish)


def _map_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--findings", metavar="FILE", default=None,
                   help="问题清单（GeoPackage / GeoJSON / GeoParquet）")
    p.add_argument("--profile", choices=PROFILES, required=True,
                   help="必填：internal 内部版（全部字段）或 public 公开版（仅公开字段）")
    p.add_argument("--basemap", choices=BASEMAPS, default=None,
                   help="底图：tianditu 天地图（需 ZLGIS_TIANDITU_KEY）、gaode 高德、osm、none；"
                        "默认有天地图密钥时用天地图，否则 OpenStreetMap")
    p.add_argument("--assets", choices=("auto", "cdn", "local"), default="auto",
                   help="脚本与样式来源：auto（默认：已安装离线资源时用 local，否则 cdn）、"
                        "cdn（带完整性校验）或 local（复制到地图旁，无需联网）")


def read_findings(path: str | Path | None) -> gpd.GeoDataFrame | None:
    """Read a findings file (GeoPackage, GeoJSON, GeoParquet); ``None`` when no path is given.

    A file with several layers (the weekly ``findings_<week>.gpkg`` holds ``ledger`` first and
    ``findings``) is read from its ``findings`` layer, else its only or first layer.

    Raises
    ------
    UnreadableInputError
        Missing or unreadable file (Chinese message naming it).
    """
    import geopandas as gpd

    if not path:
        return None
    path = Path(path)
    if not path.exists():
        raise UnreadableInputError("问题清单文件不存在", path=str(path))
    try:
        if path.suffix.lower() == ".parquet":
            gdf = gpd.read_parquet(path)
        else:
            import pyogrio

            names = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
            gdf = gpd.read_file(path, layer="findings" if "findings" in names else None)
    except Exception as exc:  # noqa: BLE001 - any reader failure is an unreadable input
        raise UnreadableInputError(f"问题清单无法读取：{type(exc).__name__}",
                                   path=str(path)) from None
    if "public" in gdf.columns:
        gdf["public"] = gdf["public"].map(
            lambda v: str(v).strip().lower() in ("1", "true", "是", "yes")
            if not isinstance(v, bool) else v)
    return gdf


def _load(args: argparse.Namespace, progress: Progress
          ) -> tuple[Catalog, dict[str, gpd.GeoDataFrame], Any, dict[str, Any]]:
    """The catalog, the map's layers within ``maps.max_context_features`` (``ledger.yaml``),
    the findings (``--findings``) and, for the bigger layers, ``aggregates`` and ``notes`` for
    :func:`build_map` (:func:`zlgis.publish.aggregate.fit_layers`)."""
    from ..config import load_config
    from ..publish.aggregate import fit_layers
    from ..publish.styles import map_layer_ids
    from ..validate import load_layers

    progress.step("读取图层")
    catalog = Catalog.load(args.catalog)
    ids = map_layer_ids(args.profile, catalog)
    available = [i for i in ids if catalog[i].readable]
    cfg = load_config("ledger")["maps"]
    kept, aggregates, notes = fit_layers(load_layers(catalog, available), catalog,
                                         limit=int(cfg["max_context_features"]),
                                         hexagon_m=float(cfg["hexagon_m"]))
    return catalog, kept, read_findings(args.findings), {"aggregates": aggregates,
                                                         "notes": notes}


def run_map(args: argparse.Namespace) -> int:
    from ..publish.maps import build_map, save_map

    progress = Progress(getattr(args, "quiet", False))
    catalog, layers, findings, sized = _load(args, progress)
    progress.step("生成地图")
    m = build_map(layers, findings, catalog=catalog, profile=args.profile,
                  basemap=args.basemap, title=args.title, **sized)
    out = save_map(m, args.out, assets=args.assets)
    progress.step(f"已写出 {out}")
    return 0


def publish_outputs(catalog: Catalog, layers: dict[str, gpd.GeoDataFrame],
                    findings: gpd.GeoDataFrame | None, out_dir: str | Path, *,
                    profile: str = "public", basemap: str | None = None, assets: str = "auto",
                    figure: bool = True,
                    aggregates: dict[str, gpd.GeoDataFrame] | None = None,
                    notes: Sequence[str] = ()) -> list[Path]:
    """Write the map, a PNG figure and ``index.html`` listing them with dates into ``out_dir``.

    Every file is written atomically, the index last, so a portal never serves half a map.
    ``aggregates`` and ``notes``: layers too big to draw one by one (see :func:`build_map`).
    """
    import pandas as pd

    from ..io import write_text_atomic
    from ..publish.escape import escape_html
    from ..publish.figures import make_figure
    from ..publish.maps import build_map, save_map

    out_dir = Path(out_dir)
    written: list[Path] = []
    label = "公开" if profile == "public" else "内部"
    m = build_map(layers, findings, catalog=catalog, profile=profile, basemap=basemap,
                  aggregates=aggregates, notes=notes)
    written.append(save_map(m, out_dir / f"map_{profile}.html", assets=assets))
    if figure:
        fig_layers = {k: v for k, v in layers.items()
                      if k in ("red_lines", "green_lines", "blue_lines", "purple_lines",
                               "yellow_lines", "parks", "toilets", "waterlogging_points")}
        fig_findings = findings
        if profile == "public" and findings is not None and "public" in findings.columns:
            fig_findings = findings[findings["public"].fillna(False).astype(bool)]
        if fig_layers or (fig_findings is not None and len(fig_findings)):
            written.append(make_figure(fig_layers, fig_findings, catalog=catalog,
                                       path=out_dir / f"figure_{profile}.png",
                                       title=f"{catalog.city}城市管理{label}图"))
    rows = []
    for p in written:
        stamp = dt.datetime.fromtimestamp(p.stat().st_mtime).strftime("%Y-%m-%d %H:%M")
        kind = "网页地图" if p.suffix == ".html" else "静态图"
        rows.append(f'<li><a href="{escape_html(p.name)}">{escape_html(kind)}：'
                    f'{escape_html(p.name)}</a>（生成于 {escape_html(stamp)}）</li>')
    index = (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape_html(catalog.city)}城市管理地图（{label}）</title>"
        "<style>body{font-family:'Noto Sans CJK SC','Microsoft YaHei',sans-serif;margin:1.5em}"
        "li{margin:.4em 0}</style></head><body>"
        f"<h1>{escape_html(catalog.city)}城市管理地图（{label}）</h1><ul>{''.join(rows)}</ul>"
        f"<p>更新日期：{escape_html(pd.Timestamp.now().strftime('%Y-%m-%d'))}</p></body></html>\n")
    written.append(write_text_atomic(out_dir / "index.html", index))
    return written


def run_publish(args: argparse.Namespace) -> int:
    progress = Progress(getattr(args, "quiet", False))
    catalog, layers, findings, sized = _load(args, progress)
    progress.step("生成地图与图件")
    written = publish_outputs(catalog, layers, findings, args.out, profile=args.profile,
                              basemap=args.basemap, assets=args.assets,
                              figure=not args.no_figure, **sized)
    for p in written:
        progress.step(f"已写出 {p}")
    return 0

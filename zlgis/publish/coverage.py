"""Coverage outputs: the Excel workbook, GeoPackages, findings, web maps and summary.

Publishing only: every figure comes from a :class:`~zlgis.analysis.coverage.CoverageResult`;
nothing is analysed here. Used by ``zlgis coverage`` and the notebooks.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..io.atomic import atomic_path, write_text_atomic
from ..io.tables import write_xlsx
from .maps import build_map, save_map
from .tables import write_findings

__all__ = ["write_coverage_outputs", "coverage_sheets", "coverage_map", "HEADERS", "MEASURE_TITLES",
           "METHOD_TITLES", "TOPIC_TITLES", "GRID_HEADERS", "TABLE_HEADERS"]

#: Chinese column headers of the coverage tables (what a bureau user reads)
HEADERS = {
    "indicator": "指标", "measure": "统计对象", "district": "片区", "grid_id": "网格编码",
    "covered": "覆盖量", "total": "总量", "share": "覆盖率", "target": "目标值",
    "meets": "是否达标", "method": "计算方法", "radius_m": "服务半径_米", "source": "依据",
    "unit": "单位",
}
MEASURE_TITLES = {"buildings": "住宅建筑", "population": "人口", "land": "居住用地"}
METHOD_TITLES = {"radius": "直线半径", "network": "路网距离"}
TOPIC_TITLES = {"toilets": "公共厕所", "transfer": "垃圾转运站", "parks": "公园绿地"}

GRID_HEADERS = {
    "grid_id": "网格编码", "district": "片区", "buildings": "住宅建筑数",
    "buildings_covered": "覆盖住宅数", "buildings_share": "住宅覆盖率",
    "population": "人口", "population_covered": "覆盖人口", "population_share": "人口覆盖率",
    "land_m2": "居住用地面积_平方米", "land_covered_m2": "覆盖用地面积_平方米",
    "land_share": "用地覆盖率",
}
TABLE_HEADERS = {
    "density": ("公厕密度", {
        "district": "片区", "class": "用地类别", "title": "用地名称", "area_km2": "面积_平方公里",
        "toilets": "公厕数", "density_per_km2": "密度_座每平方公里", "min": "标准下限",
        "max": "标准上限", "status": "评价", "source": "依据"}),
    "setbacks": ("转运站间距", {
        "station_id": "转运站编号", "name": "名称", "status": "状态",
        "capacity_tpd": "设计规模_吨每日", "class": "规模类别", "required_m": "要求间距_米",
        "nearest_building": "最近建筑", "distance_m": "实际间距_米", "ok": "是否满足",
        "source": "依据"}),
    "presets": ("公园预设", {
        "preset": "预设", "title": "指标", "source": "依据", "parks_counted": "计入公园数",
        "land_share": "居住用地覆盖率", "target": "目标值", "meets": "是否达标",
        "method": "计算方法"}),
    "sites": ("新增选址", {
        "rank": "序号", "candidate_id": "候选点编号", "source": "用地来源", "ref_id": "所在要素",
        "gain_weight": "新增覆盖量", "gain_buildings": "新增覆盖住宅数", "x": "X坐标",
        "y": "Y坐标"}),
    "transfer_sites": ("转运站候选", {
        "rank": "排名", "candidate_id": "候选点编号", "source": "用地来源", "ref_id": "所在要素",
        "in_yellow_line": "位于环卫黄线内", "feasible": "间距是否满足",
        "nearest_building_m": "最近建筑距离_米", "required_m": "要求间距_米",
        "new_population": "新增服务人口", "population": "服务人口",
        "share_of_best": "相当于最优候选", "mean_distance_m": "平均距离_米", "x": "X坐标",
        "y": "Y坐标"}),
}


def _xy(frame: Any) -> Any:
    out = frame.drop(columns="geometry").copy()
    out["x"] = frame.geometry.x.round(2).to_numpy()
    out["y"] = frame.geometry.y.round(2).to_numpy()
    return out


def coverage_sheets(result: Any, *, sites: Any = None, transfer_sites: Any = None
                    ) -> list[tuple[str, pd.DataFrame]]:
    """The workbook's sheets (name, table with Chinese headers and values), in order."""
    ind = result.indicators.copy()
    if len(ind):
        ind["measure"] = ind["measure"].map(lambda m: MEASURE_TITLES.get(m, m))
        ind["method"] = ind["method"].map(lambda m: METHOD_TITLES.get(m, m))
        ind["meets"] = ind["meets"].map({True: "是", False: "否"}).fillna("—")
        ind = ind.rename(columns=HEADERS)
    grid = pd.DataFrame(result.by_grid.drop(columns="geometry")).rename(columns=GRID_HEADERS)
    sheets = [("指标", ind), ("网格", grid)]
    extra = dict(result.tables)
    if sites is not None:
        extra["sites"] = _xy(sites.sites)
    if transfer_sites is not None:
        extra["transfer_sites"] = _xy(transfer_sites)
    for key, table in extra.items():
        title, headers = TABLE_HEADERS.get(key, (key, {}))
        t = table.copy()
        for c in t.columns:
            if t[c].dtype == bool:
                t[c] = t[c].map({True: "是", False: "否"})
        sheets.append((title, t.rename(columns=headers)))
    return sheets


def _write_maps(result: Any, out: Path, *, catalog: Any, layers: dict[str, Any], sites: Any,
                transfer_sites: Any, public_map: bool) -> dict[str, str]:
    # offline assets wherever installed (intranets often block CDNs)
    html = out / "map.html"
    save_map(coverage_map(result, catalog=catalog, layers=layers,
                          sites=sites.sites if sites is not None else transfer_sites), html)
    files = {"map": str(html)}
    if public_map:
        pub = out / "map_public.html"
        save_map(coverage_map(result, catalog=catalog, layers=layers, sites=None,
                              profile="public"), pub)
        files["map_public"] = str(pub)
    return files


def write_coverage_outputs(result: Any, out: Path, *, sites: Any = None,
                           transfer_sites: Any = None, catalog: Any = None,
                           layers: dict[str, Any] | None = None, make_map: bool = True,
                           public_map: bool = False) -> dict[str, str]:
    """Write every output of a coverage run into ``out`` (atomically, file by file).

    ``coverage.xlsx`` (indicators, grid cells and the result's tables with Chinese headers),
    ``distances.gpkg``, ``areas.gpkg``, ``findings.gpkg``/``.csv``, ``map.html`` (and
    ``map_public.html``) and ``summary.json``; returns the paths by kind.
    """
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, str] = {}
    xlsx = out / "coverage.xlsx"
    write_xlsx(dict(coverage_sheets(result, sites=sites, transfer_sites=transfer_sites)), xlsx)
    files["xlsx"] = str(xlsx)
    # distances
    gpkg = out / "distances.gpkg"
    demand = result.demand.drop(columns=[c for c in ("footprint",) if c in result.demand])
    with atomic_path(gpkg) as tmp:
        _clean(demand).to_file(tmp, layer="demand", driver="GPKG")
        if len(result.land):
            _clean(result.land).to_file(tmp, layer="land", driver="GPKG")
    files["distances"] = str(gpkg)
    areas = out / "areas.gpkg"
    with atomic_path(areas) as tmp:
        result.service_areas.to_file(tmp, layer="service_areas", driver="GPKG")
        if len(result.uncovered):
            _uncovered(result.uncovered).to_file(tmp, layer="uncovered_areas", driver="GPKG")
        if sites is not None and len(sites.sites):
            sites.sites.to_file(tmp, layer="sites", driver="GPKG")
        if transfer_sites is not None and len(transfer_sites):
            transfer_sites.to_file(tmp, layer="transfer_sites", driver="GPKG")
    files["areas"] = str(areas)
    # findings
    f = result.findings
    fg, fc = write_findings(f, out, stem="findings")
    files["findings"] = str(fg)
    files["findings_csv"] = str(fc)
    if make_map and catalog is not None:
        files.update(_write_maps(result, out, catalog=catalog, layers=layers or {}, sites=sites,
                                 transfer_sites=transfer_sites, public_map=public_map))
    summary = result.summary()
    if sites is not None:
        summary["siting"] = sites.summary()
    if transfer_sites is not None and len(transfer_sites):
        top = transfer_sites.iloc[0]
        summary["transfer_site"] = {"candidate_id": top["candidate_id"],
                                    "feasible": bool(top["feasible"]),
                                    "new_population": float(top["new_population"])}
    write_text_atomic(out / "summary.json", json.dumps(summary, ensure_ascii=False, indent=1))
    files["summary"] = str(out / "summary.json")
    return files


def _clean(gdf: Any) -> Any:
    """Infinite distances as empty values (GeoPackage and Excel users expect blanks)."""
    out = gdf.copy()
    for c in out.columns:
        if c != "geometry" and out[c].dtype.kind == "f":
            out[c] = out[c].where(np.isfinite(out[c]))
    return out


def _uncovered(clusters: Any) -> Any:
    out = clusters[["cluster", "n", "weight", "geometry"]].copy()
    out["area_m2"] = out.geometry.area.round(0)
    return out


def coverage_map(result: Any, *, catalog: Any, layers: dict[str, Any], sites: Any = None,
                 profile: str = "internal") -> Any:
    """Folium map of served areas (service areas), unserved areas and proposed sites."""
    key = {"toilets": "toilets", "transfer": "transfer_stations", "parks": "parks"}[result.topic]
    sa_key = {"toilets": "toilet_service_areas", "transfer": "transfer_service_areas",
              "parks": "service_areas"}[result.topic]
    sa = result.service_areas.copy()
    id_col = {"toilets": "toilet_id", "transfer": "station_id", "parks": "park_id"}[result.topic]
    sa[id_col] = sa["facility_id"]
    fac = result.facilities
    spec = catalog.layers.get(key) if catalog is not None else None
    if spec is not None:
        # personal fields (keepers, phones) add nothing to a coverage map
        fac = fac[[c for c in fac.columns if c in spec.public or c == "geometry"]]
    if "name" in fac and id_col in fac:
        names = dict(zip(fac[id_col].astype(str), fac["name"].astype(str)))
        sa["name"] = sa[id_col].map(names)
    extra = {sa_key: sa}
    if len(result.uncovered):
        extra["uncovered_areas"] = _uncovered(result.uncovered)
    if sites is not None and len(sites):
        extra["建议新址"] = sites  # unknown extras are titled by their key
    if profile == "public":
        # citizens see where the facilities serve and where they do not; nothing else
        extra = {k: v for k, v in extra.items() if k in (sa_key, "uncovered_areas")}
        return build_map({key: fac}, None, catalog=catalog, profile="public", basemap="none",
                         extra=extra, title=f"{catalog.city}{TOPIC_TITLES[result.topic]}服务范围",
                         service_areas=False)
    show = {k: v for k, v in layers.items() if k in (key, "grids")}
    show[key] = fac
    return build_map(show, result.findings, catalog=catalog, profile=profile, basemap="none",
                     extra=extra, title=f"{catalog.city}{TOPIC_TITLES[result.topic]}服务覆盖", service_areas=False)

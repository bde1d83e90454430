"""The sanitation check (市容环境卫生): every rule of ``config/rules/sanitation.yaml`` in one run.

:func:`analyse` runs what the available layers allow (a rule whose ``needs`` are missing is
skipped with :func:`zlgis.rules.skip_message`) and returns the findings and the tables staff read
next to them: swept shares per day and week, the track-problem list, the six-100 % inspection
ledger, the street-furniture ledger, garbage-point and bus-stop coverage of the compounds.
:func:`run_check` is the weekly run's adapter (findings only).

The week checked is the seven days ending on ``as_of`` (default: the day of the last sweeper
fix, else of the last report, else today); reports count when received inside it.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..findings import assign_grids, concat_findings, make_findings
from ..rules import missing_needs, rules, skip_message
from ..workers import release_memory
from .bins import bin_gaps, bins_to_replace, garbage_coverage, hygiene_zones, reports_in_window
from .frontage import frontage_complaints, frontage_zones
from .sitedust import (
    dumping_reports,
    livestock_reports,
    sites_near_receptors,
    six_measures_ledger,
    water_reports,
)
from .streetorder import (
    bus_stop_coverage,
    furniture_defects,
    furniture_ledger,
    reports_in_red_lines,
    stalls_outside_zones,
    structures_in_red_lines,
    zones_blocking_roads,
)
from .sweeping import GROUP_ALL, cfg_value, sanitation_config, sweeping_coverage

__all__ = ["LAYERS", "SanitationResult", "analyse", "run_check"]

CHECK = "sanitation"
#: layers the check reads (all optional; rules needing a missing one are skipped)
LAYERS = ("roads", "red_lines", "buildings", "residential_compounds", "construction_sites",
          "blue_lines", "garbage_points", "transfer_stations", "grids", "sweeper_tracks",
          "litter_bins", "bus_stops", "street_structures", "market_zones", "street_furniture",
          "site_inspections", "farmland", "city_reports")


@dataclass
class SanitationResult:
    """Findings, the week checked, skipped rules and the tables behind the findings."""

    findings: gpd.GeoDataFrame
    as_of: _dt.date
    notes: list[str] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)


def _as_of(layers: Mapping[str, Any]) -> _dt.date:
    """The day of the last sweeper fix or report (today when there is neither)."""
    days = []
    for lid, col in (("sweeper_tracks", "time"), ("city_reports", "received_at")):
        frame = layers.get(lid)
        if frame is not None and len(frame) and col in frame:
            last = pd.to_datetime(frame[col], errors="coerce").max()
            if pd.notna(last):
                days.append(last.date())
    return max(days) if days else _dt.date.today()


def _union(geoms: Any) -> Any:
    g = np.asarray(list(geoms), dtype=object)
    return shapely.union_all(g) if len(g) else shapely.GeometryCollection()


@dataclass
class _Ctx:
    """What every group of rules reads and where it writes."""

    layers: Mapping[str, gpd.GeoDataFrame]
    cfg: Mapping[str, Any]
    runnable: set[str]
    as_of: _dt.date
    window: tuple[pd.Timestamp, pd.Timestamp]
    week: str
    tables: dict[str, pd.DataFrame] | None
    out: list[gpd.GeoDataFrame]

    @property
    def roads(self) -> gpd.GeoDataFrame | None:
        return self.layers.get("roads")

    @property
    def reports(self) -> gpd.GeoDataFrame | None:
        return self.layers.get("city_reports")

    def go(self, *ids: str) -> bool:
        """Whether any of the rules ``ids`` runs."""
        return any(i in self.runnable for i in ids)

    def keep(self, **frames: pd.DataFrame) -> None:
        """Keep tables for the result (none when the caller reads the findings only)."""
        if self.tables is not None:
            self.tables.update(frames)


def _sweeping(c: _Ctx) -> None:
    """Rules of sweeping."""
    layers, cfg, runnable, out = c.layers, c.cfg, c.runnable, c.out
    if c.go("sweeping_share_low", "road_never_swept"):
        res = sweeping_coverage(c.roads, layers["sweeper_tracks"], as_of=c.as_of, config=cfg)
        if c.tables is not None:  # the problem list is written only when kept
            c.keep(sweep_week=res.week, sweep_daily=res.daily, track_problems=res.problems,
                   sweep_roads=pd.DataFrame(res.roads.drop(columns="geometry")))
        if "sweeping_share_low" in runnable:
            low = res.week[res.week["share_area"] < res.week["target"]]
            rows = []
            for _, w in low.iterrows():
                grp = res.roads if w["group"] == GROUP_ALL else \
                    res.roads[res.roads.get("name", pd.Series(dtype=str)) == w["group"]]
                rows.append((w, _union(grp.loc[grp["share"] < 0.5, "geometry"])))
            out.append(make_findings(rule="sweeping_share_low", feature_ids=[[w["group"]] for w, _ in rows], layer="roads",
                geometry=[g for _, g in rows], measure_key="share_pct", measure_unit="%",
                measures=[{"share_pct": round(100 * w["share_area"], 1),
                              "share_length_pct": round(100 * w["share_length"], 1),
                              "watered_pct": round(100 * w["watered_share"], 1),
                              "target_pct": round(100 * w["target"], 1),
                              "length_m": w["length_m"], "swept_m": w["swept_m"]}
                          for w, _ in rows],
                id_extra=[c.week] * len(rows), observed_at=c.week))
        if "road_never_swept" in runnable and len(res.never_swept):
            ns = res.never_swept
            key = (ns["name"].fillna("").astype(str) if "name" in ns else pd.Series("", index=ns.index))
            rid = ns["road_id"].astype(str) if "road_id" in ns else ns.index.astype(str)
            key = key.where(key != "", rid)
            groups = list(ns.groupby(key.to_numpy()))
            out.append(make_findings(rule="road_never_swept", feature_ids=[[k] for k, _ in groups], layer="roads",
                geometry=[_union(g.geometry) for _, g in groups], measure_key="length_m",
                measure_unit="m",
                measures=[{"length_m": round(float(g["length_m"].sum()), 1),
                           "segments": len(g)} for _, g in groups],
                id_extra=[c.week] * len(groups), observed_at=c.week))


def _bins(c: _Ctx) -> None:
    """Rules of bins and garbage."""
    layers, cfg, runnable, out = c.layers, c.cfg, c.runnable, c.out
    if "bin_gap" in runnable:
        gaps = bin_gaps(c.roads, layers["litter_bins"], config=cfg)
        out.append(make_findings(rule="bin_gap", feature_ids=[[g.street, g.bins_before, g.bins_after]
                                    for g in gaps.itertuples()],
            layer="litter_bins", geometry=list(gaps.geometry), measure_key="gap_m",
            measure_unit="m",
            measures=[{"gap_m": g.gap_m, "max_m": g.max_m, "street_type": g.street_type,
                       "from_m": g.from_m, "to_m": g.to_m} for g in gaps.itertuples()],
            id_extra=[g.part for g in gaps.itertuples()]))
    if "bin_not_replaced" in runnable:
        old = bins_to_replace(layers["litter_bins"], c.roads, as_of=c.as_of, config=cfg)
        out.append(make_findings(rule="bin_not_replaced", feature_ids=[[b.bin_id, b.street] for b in old.itertuples()],
            layer="litter_bins", geometry=list(old.geometry), measure_key="days_overdue",
            measure_unit="天",
            measures=[{"days_overdue": b.days_overdue, "deadline": b.deadline}
                      for b in old.itertuples()],
            observed_at=list(old["deadline"])))
    if "compound_no_garbage_point" in runnable:
        cov = garbage_coverage(layers["residential_compounds"], layers["garbage_points"],
                               config=cfg)
        n = len(cov)
        c.keep(garbage_coverage=pd.DataFrame({
            "指标": ["住宅小区数", "收集点服务半径覆盖率", "垃圾分类投放覆盖率"],
            "数值": [n, round(float(cov["covered"].mean()) if n else np.nan, 3),
                   round(float(cov["sorted"].mean()) if n else np.nan, 3)]}))
        uncovered = cov[~cov["covered"].to_numpy()]
        out.append(make_findings(rule="compound_no_garbage_point",
            feature_ids=[[str(x.compound_id), str(x.nearest_point or "")]
                         for x in uncovered.itertuples()],
            layer="residential_compounds", geometry=list(uncovered.geometry),
            measure_key="distance_m", measure_unit="m",
            measures=[{"distance_m": float(x.distance_m)} for x in uncovered.itertuples()]))
    if "hygiene_zone_reports" in runnable:
        zones = hygiene_zones(layers.get("transfer_stations"), layers.get("garbage_points"),
                              c.reports, window=c.window, config=cfg)
        need = int(cfg_value(cfg, "hygiene_zone", "min_reports"))
        z = zones[zones["reports"] >= need]
        out.append(make_findings(rule="hygiene_zone_reports",
            feature_ids=[[x.facility_id, *x.report_ids.split(";")] for x in z.itertuples()],
            layer="transfer_stations", geometry=list(z.geometry), measure_key="reports",
            measure_unit="件", measures=[{"reports": int(x.reports), "kind": x.kind,
                                         "radius_m": x.radius_m} for x in z.itertuples()],
            id_extra=[c.week] * len(z), observed_at=c.week))


def _frontage(c: _Ctx) -> None:
    """Rules of frontage."""
    layers, cfg, runnable, out = c.layers, c.cfg, c.runnable, c.out
    if c.go("frontage_unheld", "frontage_complaint"):
        names = list(cfg_value(cfg, "frontage", "streets") or [])
        classes = list(cfg_value(cfg, "frontage", "road_classes") or [])
        if names and "name" in c.roads:
            fr = c.roads[c.roads["name"].isin(names)]
        elif classes and "road_class" in c.roads:
            fr = c.roads[c.roads["road_class"].isin(classes)]
        else:
            fr = c.roads
        zones, unheld = frontage_zones(fr, layers["buildings"], config=cfg)
        c.keep(frontage_zones=pd.DataFrame(zones.drop(columns="geometry")))
        if "frontage_unheld" in runnable:
            big = unheld[unheld["area_m2"] >= float(cfg_value(cfg, "frontage", "min_unheld_m2"))]
            groups = list(big.groupby("street"))
            out.append(make_findings(rule="frontage_unheld", feature_ids=[[k] for k, _ in groups], layer="roads",
                geometry=[_union(g.geometry) for _, g in groups], measure_key="area_m2",
                measure_unit="m2", measures=[{"area_m2": round(float(g["area_m2"].sum()), 1),
                                              "pieces": len(g)} for _, g in groups]))
        if "frontage_complaint" in runnable:
            cats = cfg_value(cfg, "frontage", "complaint_categories")
            rep = reports_in_window(c.reports, cats, c.window).reset_index(drop=True)
            hold = frontage_complaints(zones, rep)
            r = rep.iloc[hold["report"].to_numpy()]
            out.append(make_findings(rule="frontage_complaint",
                feature_ids=[[b, rid] for b, rid in zip(hold["building_id"], r["report_id"])],
                layer="buildings", geometry=list(r.geometry),
                measures=[{"category": k} for k in r["category"]],
                observed_at=[str(t) for t in r["received_at"]]))


def _street_order(c: _Ctx) -> None:
    """Rules of street order."""
    layers, cfg, runnable, out = c.layers, c.cfg, c.runnable, c.out
    if c.go("steps_ramps_in_red_line", "kiosk_stall_in_red_line", "stairs_in_red_line"):
        st = structures_in_red_lines(layers["street_structures"], layers["red_lines"],
                                     zones=layers.get("market_zones"))
        for rid, g in st.groupby("rule"):
            if rid not in runnable:
                continue
            out.append(make_findings(rule=rid, feature_ids=[[x.structure_id, x.line_id] for x in g.itertuples()],
                layer="street_structures", geometry=list(g.geometry), measure_key="area_m2",
                measure_unit="m2", measures=[{"area_m2": x.area_m2, "type": x.type}
                                             for x in g.itertuples()]))
    if "stall_outside_zone" in runnable:
        s = stalls_outside_zones(layers["street_structures"], layers["market_zones"], config=cfg)
        out.append(make_findings(rule="stall_outside_zone",
            feature_ids=[[x.structure_id, str(x.nearest_zone or "")] for x in s.itertuples()],
            layer="street_structures", geometry=list(s.geometry), measure_key="distance_m",
            measure_unit="m", measures=[{"distance_m": float(x.distance_m)}
                                        for x in s.itertuples()]))
    if "market_zone_blocks_road" in runnable:
        b = zones_blocking_roads(layers["market_zones"], c.roads, config=cfg)
        out.append(make_findings(rule="market_zone_blocks_road", feature_ids=[[x.zone_id, *x.roads.split(";")]
                                                    for x in b.itertuples()],
            layer="market_zones", geometry=list(b.geometry), measure_key="overlap_m2",
            measure_unit="m2", measures=[{"overlap_m2": x.overlap_m2} for x in b.itertuples()]))
    if "compound_far_from_bus_stop" in runnable:
        bc = bus_stop_coverage(layers["residential_compounds"], layers["bus_stops"], c.roads,
                               config=cfg)
        c.keep(bus_stop_coverage=pd.DataFrame({
            "指标": ["住宅小区数", "公交站点500米覆盖率", "目标"],
            "数值": [len(bc), round(float(bc["covered"].mean()), 3) if len(bc) else np.nan,
                   float(cfg_value(cfg, "street_order", "bus_stop_target_share"))]}))
        far = bc[~bc["covered"]]
        out.append(make_findings(rule="compound_far_from_bus_stop",
            feature_ids=[[str(x.compound_id), str(x.nearest_stop or "")] for x in far.itertuples()],
            layer="residential_compounds", geometry=list(far.geometry.representative_point()),
            measure_key="distance_m", measure_unit="m",
            measures=[{"distance_m": float(x.distance_m)} for x in far.itertuples()]))
    if "street_furniture_defect" in runnable:
        fur = layers["street_furniture"]
        c.keep(furniture_ledger=furniture_ledger(fur, c.roads))
        d = furniture_defects(fur, as_of=c.as_of, config=cfg)
        out.append(make_findings(rule="street_furniture_defect", feature_ids=[[x.asset_id] for x in d.itertuples()],
            layer="street_furniture", geometry=list(d.geometry),
            measure_key="days_since_cleaned", measure_unit="天",
            measures=[{"problems": x.problems, "type": x.type,
                          "days_since_cleaned": float(x.days_since_cleaned)}
                      for x in d.itertuples()]))
    if "pile_in_road_reserve" in runnable:
        piles = reports_in_window(c.reports, cfg_value(cfg, "street_order", "pile_categories"),
                                  c.window)
        p = reports_in_red_lines(piles, layers["red_lines"])
        out.append(make_findings(rule="pile_in_road_reserve", feature_ids=[[x.report_id, x.line_id] for x in p.itertuples()],
            layer="city_reports", geometry=list(p.geometry),
            measures=[{"road_name": x.road_name, "category": x.category} for x in p.itertuples()],
            observed_at=[str(t) for t in p["received_at"]]))


def _sites_reports(c: _Ctx) -> None:
    """Rules of sites, dumping, animals, water."""
    layers, cfg, runnable, out = c.layers, c.cfg, c.runnable, c.out
    sites = layers.get("construction_sites")
    if "site_near_receptor" in runnable:
        near = sites_near_receptors(sites, compounds=layers.get("residential_compounds"),
                                    buildings=layers.get("buildings"), config=cfg)
        out.append(make_findings(rule="site_near_receptor", feature_ids=[[x.site_id, *x.receptors.split(";")[:5]]
                                               for x in near.itertuples()],
            layer="construction_sites", geometry=list(near.geometry), measure_key="distance_m",
            measure_unit="m", measures=[{"distance_m": x.distance_m,
                                         "receptors": x.receptor_names} for x in near.itertuples()]))
    if c.go("site_six_measures", "site_not_inspected"):
        ledger = six_measures_ledger(sites, layers["site_inspections"], as_of=c.as_of, config=cfg)
        c.keep(six_measures=pd.DataFrame(ledger.drop(columns="geometry")))
        for rid, status in (("site_six_measures", "不合格"), ("site_not_inspected", "未检查")):
            if rid not in runnable:
                continue
            g = ledger[ledger["status"] == status]
            out.append(make_findings(rule=rid, feature_ids=[[x.site_id] for x in g.itertuples()],
                layer="construction_sites", geometry=list(g.geometry),
                measure_key="days_since", measure_unit="天",
                measures=[{"failed": x.failed, "inspection_id": x.inspection_id,
                              "inspected_on": x.inspected_on,
                              "days_since": float(x.days_since) if x.days_since is not None
                              else np.nan} for x in g.itertuples()]))
    if "dumping_report" in runnable:
        rep = reports_in_window(c.reports, cfg_value(cfg, "dumping", "categories"), c.window)
        d = dumping_reports(rep, blue_lines=layers.get("blue_lines"), roads=c.roads,
                            farmland=layers.get("farmland"), config=cfg)
        out.append(make_findings(rule="dumping_report", feature_ids=[[x.report_id, *x.related.split(";")]
                                           for x in d.itertuples()],
            layer="city_reports", geometry=list(d.geometry), measure_key="distance_m",
            measure_unit="m", measures=[{"distance_m": x.distance_m, "near": x.near}
                                        for x in d.itertuples()],
            observed_at=[str(t) for t in d["received_at"]]))
    if "livestock_in_built_up_area" in runnable:
        rep = reports_in_window(c.reports, cfg_value(cfg, "livestock", "categories"), c.window)
        lv = livestock_reports(rep, buildings=layers.get("buildings"),
                               built_up=layers.get("built_up_area"), config=cfg)
        out.append(make_findings(rule="livestock_in_built_up_area", feature_ids=[[x.report_id] for x in lv.itertuples()],
            layer="city_reports", geometry=list(lv.geometry),
            measures=[{"nearest_building_m": float(x.nearest_building_m)}
                      for x in lv.itertuples()],
            observed_at=[str(t) for t in lv["received_at"]]))
    if "water_body_problem" in runnable:
        rep = reports_in_window(c.reports, cfg_value(cfg, "water", "categories"), c.window)
        w = water_reports(rep, layers["blue_lines"], config=cfg)
        out.append(make_findings(rule="water_body_problem", feature_ids=[[x.report_id, x.line_id] for x in w.itertuples()],
            layer="city_reports", geometry=list(w.geometry), measure_key="distance_m",
            measure_unit="m", measures=[{"distance_m": x.distance_m, "category": x.category,
                                         "line_name": x.line_name} for x in w.itertuples()],
            observed_at=[str(t) for t in w["received_at"]]))


def analyse(layers: Mapping[str, gpd.GeoDataFrame], *, as_of: _dt.date | None = None,
            config: Mapping[str, Any] | None = None,
            only: Callable[[str], bool] | None = None, tables: bool = True
            ) -> SanitationResult:
    """Run every sanitation rule the layers allow.

    Parameters
    ----------
    layers : dict of GeoDataFrame
        Canonical layers in the working CRS (:func:`zlgis.validate.load_layers`).
    as_of : datetime.date, optional
        Last day of the week checked.
    only : callable, optional
        ``only(rule_id)`` selects rules (default: all).
    tables : bool, default True
        Keep the tables behind the findings (``SanitationResult.tables``; the 1M-building
        city's list of repaired GPS fixes alone is 84 MB). The weekly run reads the findings
        only.

    Returns
    -------
    SanitationResult
    """
    cfg = config or sanitation_config()
    as_of = as_of or _as_of(layers)
    start = pd.Timestamp(as_of) - pd.Timedelta(days=6)
    window = (start, pd.Timestamp(as_of) + pd.Timedelta(days=1))
    week = as_of.isoformat()
    notes: list[str] = []
    kept: dict[str, pd.DataFrame] = {}
    out: list[gpd.GeoDataFrame] = []
    wanted = {r.id for r in rules(CHECK) if only is None or only(r.id)}
    runnable: set[str] = set()
    for r in rules(CHECK):
        if r.id not in wanted:
            continue
        miss = missing_needs(r, layers)
        if miss:
            notes.append(skip_message(r, miss))
        else:
            runnable.add(r.id)

    ctx = _Ctx(layers=layers, cfg=cfg, runnable=runnable, as_of=as_of, window=window, week=week,
               tables=kept if tables else None, out=out)
    for group in (_sweeping, _bins, _frontage, _street_order, _sites_reports):
        group(ctx)
        release_memory(collect=True)  # what the group freed, before the next group's peak
    findings = assign_grids(concat_findings(out), layers.get("grids"))
    return SanitationResult(findings=findings, as_of=as_of, notes=notes, tables=kept)


def run_check(catalog: Any, layers: Mapping[str, gpd.GeoDataFrame] | None = None, *,
              as_of: _dt.date | None = None) -> gpd.GeoDataFrame:
    """The weekly run's adapter: :func:`analyse` the layers passed (the caller loads
    :data:`LAYERS`); absent layers are skipped (``findings.attrs['notes']``).
    """
    layers = dict(layers or {})
    res = analyse(layers, as_of=as_of, tables=False)
    f = res.findings
    f.attrs["notes"] = res.notes
    f.attrs["as_of"] = res.as_of.isoformat()
    return f

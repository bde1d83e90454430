"""Residential compounds: the per-compound ledger, the plan's targets and compound enforcement.

Tasks 5.1.1, 5.1.3, 5.1.4, 5.3.2–5.3.4 of the 2022 plan (lead 住建局, with the subdistrict
offices). For every compound the ledger (:func:`compound_ledger`) says who governs it (业主大会 /
业主委员会, or a 物业管理委员会 set up by the subdistrict, or nobody), who serves it (a property
firm, the subdistrict, or nobody), whether its fees are disclosed, how many charging points it
has, and how many blocked fire lanes and encroachments on its green space were found.
:func:`target_shares` gives the plan's targets as shares (full property-service coverage, 100 %
fee disclosure) and :func:`subdistrict_shares` the same per subdistrict, with the subdistrict's
outline for a choropleth.

Fire lanes and compound green come from the ``compound_facilities`` layer (categories 消防车道,
小区绿地, 搭建物 for structures found by inspection). A structure blocks a fire lane when the
clear width left beside it is under 4 m (GB 50016-2014 §7.1.8), measured across the lane.

The 13 compounds under construction are audited in :mod:`zlgis.analysis.lifecircle`; the weekly
adapter :func:`run_check` runs both.

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import box
>>> comps = gpd.GeoDataFrame({"compound_id": ["A", "B"], "name": ["甲", "乙"],
...     "households": [300, 120], "owners_committee": [True, False],
...     "management_committee": [False, False], "service_mode": ["物业企业", "无"],
...     "fee_disclosed": [True, False], "charging_points": [12, 0]},
...     geometry=[box(0, 0, 100, 100), box(200, 0, 300, 100)], crs="EPSG:4550")
>>> led = compound_ledger(comps)
>>> led[["compound_id", "governance", "service"]].values.tolist()
[['A', '业主大会', '物业企业'], ['B', '无', '无']]
>>> target_shares(led).set_index("target")["share"].round(2).to_dict()
{'property_service': 0.5, 'fee_disclosure': 0.5, 'governance': 0.5, 'charging': 0.5}
"""

from __future__ import annotations

from datetime import date
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..config import load_config
from ..errors import InputError
from ..findings import assign_grids, concat_findings
from ._ruled import prepare, rule_findings, value

__all__ = [
    "compounds_config",
    "compound_ledger",
    "target_shares",
    "subdistrict_shares",
    "fire_lane_blockages",
    "green_encroachments",
    "ledger_findings",
    "run_check",
]

LAYER = "residential_compounds"
FAC = "compound_facilities"


def compounds_config() -> dict[str, Any]:
    """The ``compounds.yaml`` presets."""
    return load_config("compounds")


def _bool(s: pd.Series | None, n: int, index: pd.Index) -> np.ndarray:
    if s is None:
        return np.zeros(n, bool)
    return s.astype("boolean").fillna(False).to_numpy(bool)


def check_areas(compounds: gpd.GeoDataFrame) -> None:
    hh = pd.to_numeric(compounds.get("households"), errors="coerce") if "households" in compounds \
        else pd.Series(0, index=compounds.index)
    area = compounds.geometry.area.fillna(0.0).to_numpy()
    bad = np.flatnonzero((hh.fillna(0).to_numpy() > 0) & (area <= 0))
    if len(bad):
        i = int(bad[0])
        cid = compounds["compound_id"].iloc[i] if "compound_id" in compounds else i
        raise InputError(f"小区 {cid} 有户数（{int(hh.iloc[i])}户）但没有占地面积（范围为空或面积为0），"
                         "无法计算配套指标", layer=LAYER, row=i + 1, field="geometry")


def _subdistricts(gdf: gpd.GeoDataFrame, grids: gpd.GeoDataFrame | None) -> np.ndarray:
    out = np.full(len(gdf), "", dtype=object)
    if "subdistrict" in gdf:
        s = gdf["subdistrict"].astype(object).to_numpy()
        have = pd.notna(s) & (s != "")
        out[have] = s[have]
    if grids is not None and len(grids) and "subdistrict" in grids and (out == "").any():
        pts = shapely.point_on_surface(np.asarray(gdf.geometry.values, dtype=object))
        i, j = shapely.STRtree(np.asarray(grids.geometry.values)).query(pts, predicate="within")
        first = pd.Series(j, index=i).groupby(level=0).first()
        fill = grids["subdistrict"].astype(str).to_numpy()[first.to_numpy()]
        idx = first.index.to_numpy()
        empty = out[idx] == ""
        out[idx[empty]] = fill[empty]
    return out


def compound_ledger(compounds: gpd.GeoDataFrame, *, facilities: gpd.GeoDataFrame | None = None,
                    grids: gpd.GeoDataFrame | None = None,
                    config: dict[str, Any] | None = None) -> gpd.GeoDataFrame:
    """One row per compound: governance, property service, fees, charging, fire lanes, green.

    Parameters
    ----------
    compounds : GeoDataFrame
        The ``residential_compounds`` layer (``owners_committee``, ``management_committee``,
        ``service_mode`` or ``property_company``, ``fee_disclosed``, ``charging_points``,
        ``households``; missing columns count as "no").
    facilities : GeoDataFrame, optional
        The ``compound_facilities`` layer, for blocked fire lanes and encroached green.
    grids : GeoDataFrame, optional
        Grid cells with ``subdistrict``, for compounds without one.

    Returns
    -------
    GeoDataFrame
        ``compound_id, name, subdistrict, under_construction, households, governance`` (业主大会 /
        物业管理委员会 / 无), ``service`` (物业企业 / 街道托管 / 无), ``fee_disclosed``,
        ``charging_points``, ``charging_per_100_households``, ``fire_lanes_blocked``,
        ``green_encroached``, geometry.

    Raises
    ------
    InputError
        A compound with households but no area (row and field named).
    """
    cfg = config or compounds_config()
    check_areas(compounds)
    n = len(compounds)
    idx = compounds.index
    owners = _bool(compounds.get("owners_committee"), n, idx)
    pmc = _bool(compounds.get("management_committee"), n, idx)
    governance = np.where(owners, "业主大会", np.where(pmc, "物业管理委员会", "无")).astype(object)
    modes = cfg["service_modes"]
    service = np.full(n, "无", dtype=object)
    if "property_company" in compounds:
        pc = compounds["property_company"].astype(object)
        service[(pc.notna() & (pc.astype(str).str.strip() != "")).to_numpy()] = "物业企业"
    if "service_mode" in compounds:
        sm = compounds["service_mode"].astype(object)
        for label, key in (("物业企业", "firm"), ("街道托管", "subdistrict"), ("无", "none")):
            service[sm.isin(modes[key]).to_numpy()] = label
    hh = pd.to_numeric(compounds.get("households", pd.Series(0, index=idx)),
                       errors="coerce").fillna(0).astype(int).to_numpy()
    charging = pd.to_numeric(compounds.get("charging_points", pd.Series(0, index=idx)),
                             errors="coerce").fillna(0).astype(int).to_numpy()
    led = gpd.GeoDataFrame({
        "compound_id": compounds["compound_id"].astype(str).to_numpy(),
        "name": compounds.get("name", pd.Series("", index=idx)).astype(object).to_numpy(),
        "subdistrict": _subdistricts(compounds, grids),
        "under_construction": _bool(compounds.get("under_construction"), n, idx),
        "households": hh,
        "governance": governance,
        "service": service,
        "fee_disclosed": _bool(compounds.get("fee_disclosed"), n, idx),
        "charging_points": charging,
        "charging_per_100_households": np.where(hh > 0, charging / np.maximum(hh, 1) * 100, np.nan),
        "fire_lanes_blocked": 0,
        "green_encroached": 0,
    }, geometry=compounds.geometry.values, crs=compounds.crs)
    if facilities is not None and len(facilities):
        fl = fire_lane_blockages(facilities, config=cfg)
        ge = green_encroachments(facilities, config=cfg)
        for col, t in (("fire_lanes_blocked", fl), ("green_encroached", ge)):
            if len(t):
                counts = t.loc[t["breach"], "compound_id"].value_counts()
                led[col] = led["compound_id"].map(counts).fillna(0).astype(int)
    return led


_TARGETS = (("property_service", "物业服务覆盖率", "service", "property_service_share"),
            ("fee_disclosure", "收费信息公开率", "fee_disclosed", "fee_disclosure_share"),
            ("governance", "业委会或物管会覆盖率", "governance", None),
            ("charging", "充电设施覆盖率", "charging_points", None))


def _met(led: pd.DataFrame, col: str) -> np.ndarray:
    if col == "service":
        return (led[col] != "无").to_numpy()
    if col == "governance":
        return (led[col] != "无").to_numpy()
    if col == "charging_points":
        return (led[col] > 0).to_numpy()
    return led[col].to_numpy(bool)


def target_shares(ledger: pd.DataFrame, *, include_under_construction: bool = False,
                  config: dict[str, Any] | None = None) -> pd.DataFrame:
    """The plan's targets as shares of compounds (completed compounds by default).

    Returns
    -------
    DataFrame
        ``target, title, compounds, met, share, goal`` (goal: 1.0 for property service and fee
        disclosure, from ``compounds.yaml``; NaN where the plan sets none).
    """
    cfg = config or compounds_config()
    led = ledger if include_under_construction else ledger[~ledger["under_construction"]]
    rows = []
    for key, title, col, goal in _TARGETS:
        met = _met(led, col)
        rows.append({"target": key, "title": title, "compounds": len(led), "met": int(met.sum()),
                     "share": float(met.mean()) if len(led) else np.nan,
                     "goal": float(value(cfg["targets"][goal])) if goal else np.nan})
    return pd.DataFrame(rows)


def subdistrict_shares(ledger: gpd.GeoDataFrame, grids: gpd.GeoDataFrame | None = None
                       ) -> gpd.GeoDataFrame:
    """Target shares per subdistrict, with the subdistrict's outline (for choropleths).

    The outline is the union of the subdistrict's grid cells when ``grids`` is given, otherwise
    the convex hull of its compounds.
    """
    led = ledger[~ledger["under_construction"]]
    out = pd.DataFrame({"subdistrict": sorted(set(led["subdistrict"]) - {""})})
    g = led.groupby("subdistrict")
    out["compounds"] = out["subdistrict"].map(g.size()).fillna(0).astype(int)
    for key, _title, col, _goal in _TARGETS:
        s = pd.Series(_met(led, col), index=led.index).groupby(led["subdistrict"]).mean()
        out[f"{key}_share"] = out["subdistrict"].map(s)
    if grids is not None and len(grids) and "subdistrict" in grids:
        geo = grids.dissolve(by="subdistrict").geometry
    else:
        geo = led.dissolve(by="subdistrict").geometry.convex_hull
    geom = out["subdistrict"].map(geo)
    return gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(geom.to_numpy(), crs=ledger.crs).values,
                            crs=ledger.crs)


def _category(fac: gpd.GeoDataFrame, cat: str) -> gpd.GeoDataFrame:
    return fac[fac["category"] == cat] if "category" in fac else fac.iloc[:0]


def _lane_axis(poly: shapely.Geometry) -> tuple[np.ndarray, float]:
    """Unit vector across the lane and the lane's width (short side of its min. rectangle)."""
    rect = shapely.oriented_envelope(poly)
    c = np.asarray(rect.exterior.coords)[:4]
    e1, e2 = c[1] - c[0], c[2] - c[1]
    l1, l2 = np.hypot(*e1), np.hypot(*e2)
    across, width = (e1 / l1, l1) if l1 <= l2 else (e2 / l2, l2)
    return across, float(width)


def fire_lane_blockages(facilities: gpd.GeoDataFrame, *,
                        config: dict[str, Any] | None = None) -> gpd.GeoDataFrame:
    """Structures (搭建物) on fire lanes (消防车道) and the clear width they leave.

    The clear width is the lane's width (short side of its minimum rotated rectangle) minus the
    depth of the structure's overlap measured across the lane; it is compared with the minimum
    (4.0 m, GB 50016-2014 §7.1.8) at millimetre precision: exactly 4.000 m is clear.

    Returns
    -------
    GeoDataFrame
        One row per (lane, structure) overlap: ``lane_id, structure_id, compound_id,
        lane_width_m, clear_width_m, breach``, geometry (the overlap).
    """
    cfg = config or compounds_config()
    minw = float(value(cfg["fire_lanes"]["min_clear_width_m"]))
    lanes, structs = _category(facilities, "消防车道"), _category(facilities, "搭建物")
    cols = ["lane_id", "structure_id", "compound_id", "lane_width_m", "clear_width_m", "breach"]
    if not len(lanes) or not len(structs):
        return gpd.GeoDataFrame(columns=cols, geometry=[], crs=facilities.crs)
    lg, sg = np.asarray(lanes.geometry.values), np.asarray(structs.geometry.values)
    i, j = shapely.STRtree(lg).query(sg, predicate="intersects")
    rows, geoms = [], []
    for s, k in zip(i, j):
        inter = shapely.intersection(lg[k], sg[s])
        if inter.is_empty or inter.area <= 0:
            continue
        across, width = _lane_axis(lg[k])
        xy = shapely.get_coordinates(inter)
        proj = xy @ across
        depth = float(proj.max() - proj.min())
        clear = round(width - depth, 3)
        comp = lanes["compound_id"].iloc[k] if "compound_id" in lanes else ""
        rows.append({"lane_id": str(lanes["facility_id"].iloc[k]),
                     "structure_id": str(structs["facility_id"].iloc[s]),
                     "compound_id": "" if pd.isna(comp) else str(comp),
                     "lane_width_m": round(width, 3), "clear_width_m": clear,
                     "breach": clear < minw})
        geoms.append(inter)
    return gpd.GeoDataFrame(pd.DataFrame(rows, columns=cols), geometry=geoms, crs=facilities.crs)


def green_encroachments(facilities: gpd.GeoDataFrame, *,
                        config: dict[str, Any] | None = None) -> gpd.GeoDataFrame:
    """Structures (搭建物) on compound green (小区绿地): overlap area, breach when >= minimum."""
    cfg = config or compounds_config()
    min_a = float(value(cfg["green_space"]["min_encroach_m2"]))
    greens, structs = _category(facilities, "小区绿地"), _category(facilities, "搭建物")
    cols = ["green_id", "structure_id", "compound_id", "area_m2", "breach"]
    if not len(greens) or not len(structs):
        return gpd.GeoDataFrame(columns=cols, geometry=[], crs=facilities.crs)
    gg, sg = np.asarray(greens.geometry.values), np.asarray(structs.geometry.values)
    i, j = shapely.STRtree(gg).query(sg, predicate="intersects")
    inter = shapely.intersection(gg[j], sg[i])
    area = np.round(shapely.area(inter), 3)
    comp = greens["compound_id"].astype(object).to_numpy()[j] if "compound_id" in greens \
        else np.full(len(j), "", dtype=object)
    t = pd.DataFrame({"green_id": greens["facility_id"].astype(str).to_numpy()[j],
                      "structure_id": structs["facility_id"].astype(str).to_numpy()[i],
                      "compound_id": [("" if pd.isna(c) else str(c)) for c in comp],
                      "area_m2": area, "breach": area >= min_a}, columns=cols)
    return gpd.GeoDataFrame(t, geometry=inter, crs=facilities.crs)


def ledger_findings(ledger: gpd.GeoDataFrame, *, facilities: gpd.GeoDataFrame | None = None,
                    rules: set[str] | None = None, config: dict[str, Any] | None = None
                    ) -> gpd.GeoDataFrame:
    """Findings of the compound rules for completed compounds (and fire lanes / green for all).

    Rules: ``compound_no_governance`` (5.1.3), ``compound_no_property_service`` (5.1.4),
    ``compound_fee_not_disclosed`` (5.3.4), ``compound_no_charging`` (5.3.3),
    ``compound_fire_lane_blocked`` and ``compound_green_encroached`` (5.3.2).
    """
    cfg = config or compounds_config()
    want = rules if rules is not None else {
        "compound_no_governance", "compound_no_property_service", "compound_fee_not_disclosed",
        "compound_no_charging", "compound_fire_lane_blocked", "compound_green_encroached"}
    done = ledger[~ledger["under_construction"]]
    frames = []

    def per_compound(rid: str, mask: np.ndarray, measures: list[dict] | None = None) -> None:
        if rid not in want:
            return
        sel = done[mask]
        frames.append(rule_findings(
            rid, feature_ids=[[c] for c in sel["compound_id"]], layer=LAYER,
            geometry=list(shapely.point_on_surface(np.asarray(sel.geometry.values))),
            measures=measures or [{"households": int(h), "subdistrict": s}
                                  for h, s in zip(sel["households"], sel["subdistrict"])],
            measure_key="households", measure_unit="户", crs=ledger.crs))

    per_compound("compound_no_governance", (done["governance"] == "无").to_numpy())
    per_compound("compound_no_property_service", (done["service"] == "无").to_numpy())
    per_compound("compound_fee_not_disclosed",
                 ((done["service"] != "无") & ~done["fee_disclosed"]).to_numpy())
    per_compound("compound_no_charging", (done["charging_points"] <= 0).to_numpy())
    if facilities is not None and len(facilities):
        fl = fire_lane_blockages(facilities, config=cfg)
        ge = green_encroachments(facilities, config=cfg)
        for rid, table, other, measures, key, unit in (
                ("compound_fire_lane_blocked", fl, "lane_id",
                 lambda b: [{"clear_width_m": float(w), "lane_width_m": float(lw)}
                            for w, lw in zip(b["clear_width_m"], b["lane_width_m"])],
                 "clear_width_m", "m"),
                ("compound_green_encroached", ge, "green_id",
                 lambda b: [{"area_m2": float(a)} for a in b["area_m2"]], "area_m2", "m2")):
            br = table[table["breach"]] if len(table) else table
            if rid in want and len(br):
                frames.append(rule_findings(
                    rid, feature_ids=[[c, o, s] for c, o, s in
                                      zip(br["compound_id"], br[other], br["structure_id"])],
                    layer=LAYER, geometry=list(br.geometry.values), measures=measures(br),
                    measure_key=key, measure_unit=unit, crs=ledger.crs))
    return concat_findings(frames)


#: Layers the weekly check reads (those the catalog lacks are skipped).
LAYERS = ["residential_compounds", "compound_facilities", "buildings", "roads", "grids"]


def run_check(catalog: Any, layers: dict[str, gpd.GeoDataFrame] | None, *,
              as_of: date | None = None) -> gpd.GeoDataFrame:
    """Compound findings for the weekly run: the ledger rules and the life-circle audit.

    Runs the rules whose layers are present; the others are listed in ``attrs["notes"]`` with
    :func:`zlgis.rules.skip_message`. Compounds are a state: ``as_of`` is not used.
    """
    from .lifecircle import audit_findings

    layers, ok, notes = prepare("compounds", layers)
    frames = []
    if "residential_compounds" in layers:
        fac = layers.get(FAC)
        led = compound_ledger(layers[LAYER], facilities=fac, grids=layers.get("grids"))
        frames.append(ledger_findings(led, facilities=fac, rules=ok))
        life = {"lifecircle_shortfall", "property_premises_short",
                "convenience_premises_short"} & ok
        if life:
            frames.append(audit_findings(layers, rules=life))
    out = assign_grids(concat_findings(frames), layers.get("grids"))
    out.attrs["notes"] = notes
    return out

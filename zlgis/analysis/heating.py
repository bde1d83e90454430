"""Heating: supply areas of heat stations, capacity, hazards, complaints and renewal works.

Tasks 6.2.1–6.2.4 and 6.2.6 of the 2022 plan (lead 住建局). Every heated building (uses in
``heating.yaml``, not under construction) is served by the heat station nearest to it on the
street network (:func:`supply_areas`: one multi-source pass of the compiled network engine,
:func:`zlgis.analysis.network.nearest_facility`). A station's load is the heated floor area of its
buildings (footprint x floors), compared with its design heated area ``capacity_m2``
(:func:`station_loads`: margin, overloaded, tight). :func:`station_hazards` is the hazard ledger
per station (open hazards, overhaul of valves and manifolds due 2022-08-31), :func:`complaints_by_station`
counts the 12345 heating complaints per station and company, and :func:`works_against_permits`
checks the network renewal works (from August) against the road-works permits. The two
companies' areas are rebalanced in :mod:`zlgis.analysis.heatbalance`.

Examples
--------
Two stations on one street; three buildings, the middle one nearer to the west station:

>>> import geopandas as gpd
>>> from shapely.geometry import LineString, Point, box
>>> from zlgis.analysis.network import StreetGraph
>>> g = StreetGraph.from_roads(gpd.GeoDataFrame(geometry=[LineString([(0, 0), (1000, 0)])],
...                                             crs="EPSG:4550"))
>>> st = gpd.GeoDataFrame({"station_id": ["W", "E"], "company": ["甲", "乙"],
...     "capacity_m2": [2500.0, 1000.0]}, geometry=[Point(0, 10), Point(1000, 10)], crs="EPSG:4550")
>>> b = gpd.GeoDataFrame({"building_id": ["b1", "b2", "b3"], "use": ["住宅"] * 3,
...     "floors": [2, 4, 1]}, geometry=[box(90, 10, 110, 30), box(390, 10, 410, 30),
...     box(890, 10, 910, 30)], crs="EPSG:4550")
>>> s = supply_areas(heated_buildings(b), st, graph=g)
>>> s["station_id"].tolist()
['W', 'W', 'E']
>>> station_loads(st, s)[["station_id", "load_m2", "margin_m2", "overloaded"]].values.tolist()
[['W', 2400.0, 100.0, False], ['E', 400.0, 600.0, False]]
"""

from __future__ import annotations

from datetime import date
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._arrowtext import frame_values
from ..config import load_config
from ..errors import InputError
from ..findings import assign_grids, concat_findings
from ._ruled import prepare, rule_findings, value
from .network import StreetGraph, nearest_facility, point_xy

__all__ = [
    "heating_config",
    "heated_buildings",
    "check_stations",
    "supply_areas",
    "supply_areas_networkx",
    "station_loads",
    "station_hazards",
    "complaints_by_station",
    "works_against_permits",
    "run_check",
]

STATIONS = "heat_stations"


def heating_config() -> dict[str, Any]:
    """The ``heating.yaml`` presets."""
    return load_config("heating")


def heated_buildings(buildings: gpd.GeoDataFrame, *, uses: list[str] | None = None
                     ) -> gpd.GeoDataFrame:
    """Heated buildings with their heated floor area (footprint x floors).

    Buildings under construction are left out; ``uses`` defaults to ``heated_uses`` of
    ``heating.yaml``. Missing floors count as one.
    """
    uses = uses if uses is not None else list(value(heating_config()["heated_uses"]))
    sel = buildings["use"].isin(uses).to_numpy() if "use" in buildings else \
        np.ones(len(buildings), bool)
    if "under_construction" in buildings:
        sel = sel & ~buildings["under_construction"].astype("boolean").fillna(False).to_numpy(bool)
    # the columns used only: a row filter of the whole layer takes every column
    cols = [c for c in ("floors", "building_id") if c in buildings]
    b = buildings[[*cols, buildings.geometry.name]][sel & buildings.geometry.notna().to_numpy()]
    floors = pd.to_numeric(b["floors"], errors="coerce").fillna(1).clip(lower=1).to_numpy() \
        if "floors" in b else np.ones(len(b))
    ids = frame_values(b["building_id"].astype(str)) if "building_id" in b else \
        b.index.astype(str).to_numpy()
    return gpd.GeoDataFrame({"building_id": ids,
                             "heated_m2": np.round(shapely.area(np.asarray(b.geometry.values)) * floors, 2)},
                            geometry=b.geometry.values, crs=b.crs)


def check_stations(stations: gpd.GeoDataFrame, *, need_capacity: bool = True) -> None:
    """Refuse stations the analysis cannot use, naming row and field.

    Raises
    ------
    InputError
        A station without id, without a point, or (``need_capacity``) without a positive
        ``capacity_m2``.
    """
    for i, (sid, geom) in enumerate(zip(stations.get("station_id", stations.index),
                                        stations.geometry)):
        if geom is None or geom.is_empty:
            raise InputError(f"换热站 {sid} 缺少位置", layer=STATIONS, row=i + 1, field="geometry")
    if need_capacity:
        cap = pd.to_numeric(stations["capacity_m2"], errors="coerce") if "capacity_m2" in stations \
            else pd.Series(np.nan, index=stations.index)
        bad = np.flatnonzero(~(cap.to_numpy(float) > 0))
        if len(bad):
            i = int(bad[0])
            sid = stations["station_id"].iloc[i] if "station_id" in stations else i
            raise InputError(f"换热站 {sid} 没有设计供热能力（供热面积），无法核算供热能力与供热面积是否匹配",
                             layer=STATIONS, row=i + 1, field="capacity_m2")


def supply_areas(buildings: gpd.GeoDataFrame, stations: gpd.GeoDataFrame, *,
                 graph: StreetGraph, max_access: float | None = None) -> pd.DataFrame:
    """The heat station serving each building: the nearest one on the street network.

    Parameters
    ----------
    buildings : GeoDataFrame
        From :func:`heated_buildings` (``building_id``, ``heated_m2``); polygons stand by a
        point inside them.
    stations : GeoDataFrame
        ``heat_stations`` (``station_id``, ``company``).
    graph : StreetGraph
    max_access : float, optional
        Buildings farther than this from any street get no station (default from ``heating.yaml``).

    Returns
    -------
    DataFrame
        Index of ``buildings``: ``building_id, heated_m2, station_id`` (None when unreachable),
        ``company, distance_m``.
    """
    if max_access is None:
        max_access = float(value(heating_config()["supply"]["max_access_m"]))
    check_stations(stations, need_capacity=False)
    xy = point_xy(buildings.geometry.values)[0]  # coordinates only: no million GEOS points
    sids = stations["station_id"].astype(str).to_numpy()
    r = nearest_facility(graph, xy, gpd.GeoSeries(stations.geometry.values, crs=stations.crs,
                                                   index=pd.RangeIndex(len(stations))),
                         max_access=max_access, straight=False)
    pos = r["facility"].to_numpy()
    has = pd.notna(pos)
    p = np.where(has, pos, 0).astype(np.int64)
    sid = np.where(has, sids[p] if len(sids) else None, None)
    comp = stations["company"].astype(object).to_numpy() if "company" in stations else \
        np.full(len(stations), "", dtype=object)
    return pd.DataFrame({"building_id": frame_values(buildings["building_id"]),
                         "heated_m2": buildings["heated_m2"].to_numpy(float),
                         "station_id": sid,
                         "company": np.where(has, comp[p] if len(comp) else None, None),
                         "distance_m": r["distance_network"].to_numpy(float)},
                        index=buildings.index)


def supply_areas_networkx(buildings: gpd.GeoDataFrame, stations: gpd.GeoDataFrame, *,
                          graph: StreetGraph, max_access: float | None = None) -> pd.DataFrame:
    """Reference for :func:`supply_areas`: networkx multi-source Dijkstra on the same graph.

    Stations enter as virtual nodes joined to both ends of their street (access + offset), the
    search runs with :func:`networkx.multi_source_dijkstra`, and each building takes the better
    end of its own street (plus the direct way along the street to a station on the same
    street). Same columns as :func:`supply_areas`; used by the tests and the benchmark.
    """
    import networkx as nx

    from .network import snap_points

    if max_access is None:
        max_access = float(value(heating_config()["supply"]["max_access_m"]))
    G = nx.Graph()
    e = graph.edges
    for u, v, w in zip(e["u"].to_numpy(), e["v"].to_numpy(), e["length"].to_numpy(float)):
        if not G.has_edge(u, v) or G[u][v]["weight"] > w:
            G.add_edge(int(u), int(v), weight=float(w))
    ss = snap_points(graph, gpd.GeoSeries(stations.geometry.values, crs=stations.crs))
    sources = []
    for k, r in enumerate(ss.itertuples()):
        if r.edge < 0:
            continue
        node = ("station", k)
        G.add_edge(node, int(r.u), weight=float(r.access + r.offset))
        G.add_edge(node, int(r.v), weight=float(r.access + max(r.edge_length - r.offset, 0.0)))
        sources.append(node)
    dist, paths = nx.multi_source_dijkstra(G, sources)
    pts = shapely.point_on_surface(np.asarray(buildings.geometry.values, dtype=object))
    bs = snap_points(graph, pts)
    n = len(bs)
    best = np.full(n, np.inf)
    src = np.full(n, -1, np.int64)
    for i, r in enumerate(bs.itertuples()):
        if r.edge < 0 or r.access > max_access:
            continue
        for node, along in ((int(r.u), r.offset), (int(r.v), max(r.edge_length - r.offset, 0.0))):
            if node in dist and dist[node] + along + r.access < best[i]:
                best[i] = dist[node] + along + r.access
                src[i] = paths[node][0][1]
    same = pd.DataFrame({"i": np.arange(n), "edge": bs["edge"].to_numpy(),
                         "t": bs["offset"].to_numpy(float), "a": bs["access"].to_numpy(float)}
                        ).merge(pd.DataFrame({"k": np.arange(len(ss)), "edge": ss["edge"].to_numpy(),
                                              "tk": ss["offset"].to_numpy(float),
                                              "ak": ss["access"].to_numpy(float)}), on="edge")
    same = same[same["edge"] >= 0]
    for r in same.itertuples():
        d = r.a + abs(r.t - r.tk) + r.ak
        if r.a <= max_access and d < best[r.i]:
            best[r.i], src[r.i] = d, r.k
    sids = stations["station_id"].astype(str).to_numpy()
    comp = stations["company"].astype(object).to_numpy() if "company" in stations else \
        np.full(len(stations), "", dtype=object)
    has = src >= 0
    return pd.DataFrame({"building_id": frame_values(buildings["building_id"]),
                         "heated_m2": buildings["heated_m2"].to_numpy(float),
                         "station_id": np.where(has, sids[np.maximum(src, 0)], None),
                         "company": np.where(has, comp[np.maximum(src, 0)], None),
                         "distance_m": best}, index=buildings.index)


def station_loads(stations: gpd.GeoDataFrame, supply: pd.DataFrame, *,
                  tight_margin: float | None = None) -> gpd.GeoDataFrame:
    """Load of every station against its capacity.

    Returns
    -------
    GeoDataFrame
        ``station_id, company, buildings, load_m2, capacity_m2, margin_m2`` (capacity - load),
        ``margin_share`` (margin / capacity), ``overloaded`` (load > capacity), ``tight``
        (0 <= margin_share < ``tight_margin``), point geometry.
    """
    check_stations(stations)
    if tight_margin is None:
        tight_margin = float(value(heating_config()["capacity"]["tight_margin"]))
    g = supply.dropna(subset=["station_id"]).groupby("station_id")
    load = g["heated_m2"].sum()
    count = g.size()
    sid = stations["station_id"].astype(str)
    cap = pd.to_numeric(stations["capacity_m2"], errors="coerce").to_numpy(float)
    ld = np.round(sid.map(load).fillna(0.0).to_numpy(float), 2)
    margin = np.round(cap - ld, 2)
    share = margin / cap
    return gpd.GeoDataFrame({
        "station_id": sid.to_numpy(),
        "company": stations.get("company", pd.Series("", index=stations.index)).to_numpy(),
        "buildings": sid.map(count).fillna(0).astype(int).to_numpy(),
        "load_m2": ld, "capacity_m2": cap, "margin_m2": margin,
        "margin_share": np.round(share, 4),
        "overloaded": ld > cap,
        "tight": (share >= 0) & (share < tight_margin),
    }, geometry=stations.geometry.values, crs=stations.crs)


def supply_polygons(buildings: gpd.GeoDataFrame, supply: pd.DataFrame) -> gpd.GeoDataFrame:
    """Outline of every station's supply area (convex hull of its buildings), for maps."""
    b = buildings.assign(station_id=supply["station_id"].to_numpy()).dropna(subset=["station_id"])
    hull = b.dissolve(by="station_id").geometry.convex_hull
    return gpd.GeoDataFrame({"station_id": hull.index.to_numpy()}, geometry=hull.values,
                            crs=buildings.crs)


def station_hazards(stations: gpd.GeoDataFrame, *, as_of: date | None = None,
                    config: dict[str, Any] | None = None) -> gpd.GeoDataFrame:
    """The hazard ledger: one row per station with its hazards and overhaul status.

    Returns
    -------
    GeoDataFrame
        ``station_id, company, status, hazards`` (text), ``hazards_open, overhaul_done``
        (date or None), ``overhaul_due`` (the plan's 2022-08-31), ``overhaul_overdue`` (not done
        and ``as_of`` past the due date), point geometry.
    """
    cfg = config or heating_config()
    due = pd.Timestamp(value(cfg["overhaul"]["deadline"])).date()
    n = len(stations)
    hz = stations.get("hazards", pd.Series([None] * n, index=stations.index)).astype(object)
    hopen = pd.to_numeric(stations.get("hazards_open", pd.Series(np.nan, index=stations.index)),
                          errors="coerce")
    # a station with hazard text but no count has as many open hazards as items listed
    listed = hz.fillna("").astype(str).str.split(r"[；;]").map(lambda p: sum(1 for x in p if x.strip()))
    hopen = hopen.fillna(listed).astype(int)
    done = pd.to_datetime(stations.get("overhaul_done", pd.Series([None] * n, index=stations.index)),
                          errors="coerce")
    overdue = done.isna() & (as_of is not None and as_of > due)
    late_done = done.notna() & (done.dt.date > due) if n else done.notna()
    return gpd.GeoDataFrame({
        "station_id": stations["station_id"].astype(str).to_numpy(),
        "company": stations.get("company", pd.Series("", index=stations.index)).to_numpy(),
        "status": stations.get("status", pd.Series("", index=stations.index)).to_numpy(),
        "hazards": hz.fillna("").to_numpy(),
        "hazards_open": hopen.to_numpy(),
        "overhaul_done": [d.date() if pd.notna(d) else None for d in done],
        "overhaul_due": due,
        "overhaul_overdue": (overdue | late_done).to_numpy(bool),
    }, geometry=stations.geometry.values, crs=stations.crs)


def _heating_cases(cases: gpd.GeoDataFrame, cfg: dict[str, Any]) -> gpd.GeoDataFrame:
    c = cfg["complaints"]
    sel = cases["category"].isin(c["categories"]) if "category" in cases else \
        pd.Series(False, index=cases.index)
    if "text" in cases:
        pat = "|".join(c["keywords"])
        sel = sel | cases["text"].fillna("").astype(str).str.contains(pat, regex=True)
    return cases[sel.to_numpy()]


def complaints_by_station(cases: gpd.GeoDataFrame, stations: gpd.GeoDataFrame, *,
                          graph: StreetGraph, since: Any = None,
                          config: dict[str, Any] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Heating complaints (12345) per station (by the same network rule) and per company.

    Returns
    -------
    (DataFrame, DataFrame)
        Per station ``station_id, company, complaints, case_ids``; per company
        ``company, complaints, stations``.
    """
    cfg = config or heating_config()
    hc = _heating_cases(cases, cfg)
    if since is not None and "received_at" in hc:
        hc = hc[pd.to_datetime(hc["received_at"]) >= pd.Timestamp(since)]
    sids = stations["station_id"].astype(str)
    per = pd.DataFrame({"station_id": sids.to_numpy(),
                        "company": stations.get("company", pd.Series("", index=stations.index)).to_numpy()})
    if len(hc):
        r = nearest_facility(graph, hc.geometry, gpd.GeoSeries(
            stations.geometry.values, crs=stations.crs, index=pd.RangeIndex(len(stations))))
        pos = r["facility"].to_numpy()
        ok = pd.notna(pos)
        t = pd.DataFrame({"station_id": sids.to_numpy()[pos[ok].astype(np.int64)],
                          "case_id": hc["case_id"].astype(str).to_numpy()[ok]})
        g = t.groupby("station_id")["case_id"]
        per["complaints"] = per["station_id"].map(g.size()).fillna(0).astype(int)
        per["case_ids"] = per["station_id"].map(g.agg(lambda s: ";".join(sorted(s)))).fillna("")
    else:
        per["complaints"] = 0
        per["case_ids"] = ""
    comp = per.groupby("company").agg(complaints=("complaints", "sum"),
                                      stations=("station_id", "size")).reset_index()
    return per, comp


def works_against_permits(works: gpd.GeoDataFrame, permits: gpd.GeoDataFrame | None, *,
                          config: dict[str, Any] | None = None) -> gpd.GeoDataFrame:
    """Each renewal work against the road-works permits valid over its dates.

    A work is permitted when at least ``min_permitted_share`` of its length lies inside permits
    whose dates cover the work's dates (start to end, or start when no end is given).

    Returns
    -------
    GeoDataFrame
        ``work_id, station_id, start_date, end_date, length_m, permitted_m, permitted_share,
        permit_ids, from_august, permitted``, geometry (the unpermitted part).
    """
    cfg = config or heating_config()
    min_share = float(value(cfg["works"]["min_permitted_share"]))
    start_plan = pd.Timestamp(value(cfg["works"]["start"]))
    wg = np.asarray(works.geometry.values, dtype=object)
    s0 = pd.to_datetime(works["start_date"], errors="coerce")
    s1 = pd.to_datetime(works.get("end_date", s0), errors="coerce").fillna(s0)
    bad = np.flatnonzero(s0.isna().to_numpy())
    if len(bad):
        raise InputError("供热管网改造工程缺少开工日期", layer="heating_works", row=int(bad[0]) + 1,
                         field="start_date")
    length = shapely.length(wg)
    rows, rest = [], []
    if permits is not None and len(permits):
        pg = np.asarray(permits.geometry.values, dtype=object)
        p0 = pd.to_datetime(permits["start_date"], errors="coerce").to_numpy()
        p1 = pd.to_datetime(permits["end_date"], errors="coerce").to_numpy()
        pid = permits["permit_id"].astype(str).to_numpy()
        wi, pj = shapely.STRtree(pg).query(wg, predicate="intersects")
    else:
        wi = pj = np.zeros(0, np.int64)
    for k in range(len(works)):
        js = pj[wi == k]
        start, end = s0.iloc[k].to_datetime64(), s1.iloc[k].to_datetime64()
        valid = [j for j in js if p0[j] <= start and end <= p1[j]]
        cover = shapely.union_all(pg[valid]) if valid else None
        inside = shapely.intersection(wg[k], cover) if cover is not None else None
        pm = float(shapely.length(inside)) if inside is not None else 0.0
        share = pm / length[k] if length[k] > 0 else 1.0
        rows.append({"work_id": str(works["work_id"].iloc[k]),
                     "station_id": str(works["station_id"].iloc[k]) if "station_id" in works else "",
                     "start_date": s0.iloc[k].date(), "end_date": s1.iloc[k].date(),
                     "length_m": round(float(length[k]), 1), "permitted_m": round(pm, 1),
                     "permitted_share": round(share, 4),
                     "permit_ids": ";".join(sorted(pid[j] for j in valid)),
                     "from_august": bool(s0.iloc[k] >= start_plan),
                     "permitted": share >= min_share})
        rest.append(shapely.difference(wg[k], cover) if cover is not None else wg[k])
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry=rest, crs=works.crs)


#: Layers the weekly check reads (those the catalog lacks are skipped).
LAYERS = ["heat_stations", "heating_companies", "heating_works", "road_works_permits",
           "buildings", "roads", "hotline_cases", "grids"]


def run_check(catalog: Any, layers: dict[str, gpd.GeoDataFrame] | None, *,
              as_of: date | None = None, graph: StreetGraph | None = None) -> gpd.GeoDataFrame:
    """Heating findings for the weekly run (rules in ``config/rules/heating.yaml``).

    ``as_of`` decides whether the overhaul (due 2022-08-31) is overdue and which heating
    complaints count (the heating season or the last 180 days before ``as_of``).
    """
    from .heatbalance import rebalance_findings

    layers, ok, notes = prepare("heating", layers)
    cfg = heating_config()
    frames = []
    st = layers.get(STATIONS)
    crs = st.crs if st is not None else None
    if {"heat_station_hazard", "heat_station_overhaul_overdue"} & ok:
        hz = station_hazards(st, as_of=as_of, config=cfg)
        if "heat_station_hazard" in ok:
            h = hz[hz["hazards_open"] > 0]
            frames.append(rule_findings(
                "heat_station_hazard", feature_ids=[[s] for s in h["station_id"]], layer=STATIONS,
                geometry=list(h.geometry.values),
                title=[f"换热站{s}：{t}" for s, t in zip(h["station_id"], h["hazards"])],
                measures=[{"hazards_open": int(n), "company": c} for n, c in
                          zip(h["hazards_open"], h["company"])],
                measure_key="hazards_open", measure_unit="项", crs=crs))
        if "heat_station_overhaul_overdue" in ok:
            h = hz[hz["overhaul_overdue"]]
            frames.append(rule_findings(
                "heat_station_overhaul_overdue", feature_ids=[[s] for s in h["station_id"]],
                layer=STATIONS, geometry=list(h.geometry.values),
                measures=[{"overhaul_done": str(d) if d else None, "due": str(u)}
                          for d, u in zip(h["overhaul_done"], h["overhaul_due"])], crs=crs))
    need_net = {"heat_station_overload", "heating_complaints", "heating_company_transfer"} & ok
    if need_net:
        if graph is None:
            graph = StreetGraph.from_roads(layers["roads"])
        hb = heated_buildings(layers["buildings"], uses=list(value(cfg["heated_uses"])))
        sup = supply_areas(hb, st, graph=graph)
        if "heat_station_overload" in ok or "heating_company_transfer" in ok:
            loads = station_loads(st, sup)
            o = loads[loads["overloaded"]]
            if "heat_station_overload" in ok:
                frames.append(rule_findings(
                    "heat_station_overload", feature_ids=[[s] for s in o["station_id"]],
                    layer=STATIONS, geometry=list(o.geometry.values),
                    title=[f"换热站{s}供热面积{ld / 1e4:.2f}万㎡，超过设计能力{c / 1e4:.2f}万㎡"
                           for s, ld, c in zip(o["station_id"], o["load_m2"], o["capacity_m2"])],
                    measures=[{"load_m2": float(ld), "capacity_m2": float(c),
                               "over_m2": round(float(ld - c), 2), "buildings": int(n)}
                              for ld, c, n in zip(o["load_m2"], o["capacity_m2"], o["buildings"])],
                    measure_key="over_m2", measure_unit="m2", crs=crs))
            if "heating_company_transfer" in ok:
                frames.append(rebalance_findings(graph, st, layers["heating_companies"], sup,
                                                 loads, config=cfg))
        if "heating_complaints" in ok:
            since = None if as_of is None else pd.Timestamp(as_of) - pd.Timedelta(days=180)
            per, _ = complaints_by_station(layers["hotline_cases"], st, graph=graph,
                                           since=since, config=cfg)
            minc = int(value(cfg["complaints"]["min_per_station"]))
            hot = per[per["complaints"] >= minc]
            geo = dict(zip(st["station_id"].astype(str), st.geometry.values))
            frames.append(rule_findings(
                "heating_complaints", feature_ids=[[s] for s in hot["station_id"]], layer=STATIONS,
                geometry=[geo[s] for s in hot["station_id"]],
                measures=[{"complaints": int(n), "company": c, "case_ids": ids}
                          for n, c, ids in zip(hot["complaints"], hot["company"], hot["case_ids"])],
                measure_key="complaints", measure_unit="件", crs=crs))
    if "heating_works_unpermitted" in ok:
        w = works_against_permits(layers["heating_works"], layers.get("road_works_permits"),
                                  config=cfg)
        bad = w[~w["permitted"]]
        frames.append(rule_findings(
            "heating_works_unpermitted", feature_ids=[[x] for x in bad["work_id"]],
            layer="heating_works", geometry=list(bad.geometry.values),
            measures=[{"length_m": float(a), "permitted_m": float(b),
                       "unpermitted_m": round(float(a) - float(b), 1), "permit_ids": p}
                      for a, b, p in zip(bad["length_m"], bad["permitted_m"], bad["permit_ids"])],
            measure_key="unpermitted_m", measure_unit="m",
            crs=layers["heating_works"].crs))
    out = assign_grids(concat_findings(frames), layers.get("grids"))
    out.attrs["notes"] = notes
    return out

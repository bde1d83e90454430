"""Point facilities and management layers of the demo city.

Public toilets (placed so that every residential compound has one within 200 m by road, except
the planted uncovered compounds), garbage points and transfer stations, about 2,000 street lamps
with the dark spots the plan names (兴华小学, 民族西街, 明月花园东墙外), the 136 heat exchange
stations, old and famous trees and street trees, recorded waterlogging points, management grid
cells with their road chiefs, and 12345 hotline cases with synthetic personal data.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree
from shapely.geometry import Point, box

from ._common import Frame, Truth
from .buildings import BuildingSet, person_names, phones
from .roads import Lattice

__all__ = ["toilets", "garbage_points", "transfer_stations", "transfer_truth", "street_lamps",
           "heat_stations", "building_access",
           "trees", "waterlogging_points", "grids", "hotline_cases", "road_graph"]

#: Every other dwelling has a toilet within this walking distance (m) (the check's radius is 300 m).
COVERED_M = 240.0
#: No toilet within this straight-line distance (m) of a planted uncovered compound.
CLEAR_M = 700.0


def road_graph(lat: Lattice, roads: gpd.GeoDataFrame) -> tuple[csr_matrix, np.ndarray, np.ndarray,
                                                                 np.ndarray]:
    """Sparse road graph (all roads incl. footways): matrix, node ids, node x, node y."""
    nx = len(lat.xs)
    nodes = np.unique(np.r_[roads["node_u"], roads["node_v"]])
    u = np.searchsorted(nodes, roads["node_u"].to_numpy())
    v = np.searchsorted(nodes, roads["node_v"].to_numpy())
    w = roads.geometry.length.to_numpy()
    n = len(nodes)
    m = csr_matrix((np.r_[w, w], (np.r_[u, v], np.r_[v, u])), shape=(n, n))
    return m, nodes, lat.xs[nodes % nx], lat.ys[nodes // nx]


def building_access(roads: gpd.GeoDataFrame, nodes: np.ndarray, pts: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Snap points to their nearest road: (snap distance, node u, node v, along to u, along to v).

    Node u/v are positions in ``nodes``.
    """
    geoms = roads.geometry.values
    tree = shapely.STRtree(geoms)
    p = shapely.points(pts)
    idx = tree.query_nearest(p, all_matches=False)
    pi, ri = idx[0], idx[1]
    order = np.argsort(pi)
    ri = ri[order]
    g = geoms[ri]
    snap = shapely.distance(g, p)
    t = shapely.line_locate_point(g, p)
    L = shapely.length(g)
    u = np.searchsorted(nodes, roads["node_u"].to_numpy()[ri])
    v = np.searchsorted(nodes, roads["node_v"].to_numpy()[ri])
    return snap, u, v, t, L - t


def toilets(lat: Lattice, roads: gpd.GeoDataFrame, bs: BuildingSet, parks: gpd.GeoDataFrame,
            rng: np.random.Generator, truth: Truth) -> gpd.GeoDataFrame:
    """Public toilets covering every dwelling but the planted uncovered compounds.

    Coverage is checked the way a walking-distance analysis measures it: from each residential
    building to its nearest street, along the street to a crossing, over the network to the
    crossing next to a toilet. Every dwelling outside the planted compounds ends up within
    ``COVERED_M`` (well inside the 300 m radius); the planted compounds have no toilet within
    ``CLEAR_M`` in a straight line (the riverside one has one across the river).
    """
    m, nodes, nx_, ny_ = road_graph(lat, roads)
    ntree = cKDTree(np.column_stack([nx_, ny_]))
    b = bs.buildings
    planted_ids = {uc["compound_id"] for uc in bs.uncovered}
    res = (b["use"] == "住宅") & ~b["under_construction"].astype(bool) & \
        ~b["compound_id"].isin(planted_ids)
    rb = b[res.to_numpy()]
    bp = shapely.point_on_surface(rb.geometry.values)
    bxy = np.column_stack([shapely.get_x(bp), shapely.get_y(bp)])
    snap, bu, bv, tu, tv = building_access(roads, nodes, bxy)
    pxy = np.array([[uc["geometry"].centroid.x, uc["geometry"].centroid.y] for uc in bs.uncovered])

    def allowed(ix: np.ndarray) -> np.ndarray:
        d = np.hypot(nx_[ix][:, None] - pxy[None, :, 0], ny_[ix][:, None] - pxy[None, :, 1])
        return (d > CLEAR_M).all(axis=1)

    chosen: list[int] = []
    pc = parks.geometry.representative_point()
    _, pn = ntree.query(np.column_stack([pc.x, pc.y]))
    chosen += [int(i) for i in np.asarray(pn)[allowed(np.asarray(pn))]]
    offset = 6.0 * np.sqrt(2.0)
    for _ in range(80):
        if chosen:
            dn = dijkstra(m, indices=np.unique(chosen), min_only=True, limit=COVERED_M * 2)
        else:
            dn = np.full(len(nodes), np.inf)
        db = snap + np.minimum(tu + dn[bu], tv + dn[bv]) + offset
        need = np.flatnonzero(db > COVERED_M)
        if not len(need):
            break
        cell = np.floor(bxy[need] / 300.0).astype(np.int64)
        _, first = np.unique(cell[:, 0] * 100_000 + cell[:, 1], return_index=True)
        pick = need[first]
        cand = np.where(tu[pick] <= tv[pick], bu[pick], bv[pick])
        ok = allowed(cand)
        if not ok.any():
            raise RuntimeError("cannot cover a dwelling with a toilet")
        chosen += [int(c) for c in cand[ok]]
    idx = np.unique(chosen)
    # on the sidewalk corner of the crossing
    x = nx_[idx] + rng.choice([-1, 1], len(idx)) * 6.0
    y = ny_[idx] + rng.choice([-1, 1], len(idx)) * 6.0
    names = _node_names(roads, nodes[idx])
    rows = pd.DataFrame({"name": [f"{n}公厕" for n in names],
                         "category": rng.choice(np.array(["独立式", "附属式", "活动式"], dtype=object),
                                                len(idx), p=[0.7, 0.22, 0.08]),
                         "open_hours": rng.choice(np.array(["全天", "06:00-22:00", "05:30-21:30"],
                                                           dtype=object), len(idx)),
                         "accessible": rng.random(len(idx)) < 0.6})
    geoms = list(shapely.points(x, y))
    # the toilet across the river from the riverside compound
    for uc in bs.uncovered:
        if uc["across"] is not None:
            rows.loc[len(rows)] = ["滨河东路公厕", "独立式", "06:00-22:00", True]
            geoms.append(Point(*uc["across"]))
    rows["keeper_name"] = person_names(rng, len(rows))
    rows["keeper_phone"] = phones(rng, len(rows))
    g = gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4550")
    order = np.lexsort((g.geometry.x.to_numpy(), np.floor(g.geometry.y.to_numpy() / 500)))
    g = g.iloc[order].reset_index(drop=True)
    g.insert(0, "toilet_id", [f"GC{k + 1:04d}" for k in range(len(g))])
    across_id = g.loc[g["name"] == "滨河东路公厕", "toilet_id"]
    for uc in bs.uncovered:
        c = uc["geometry"].centroid
        if uc["across"] is not None:
            d = uc["geometry"].distance(Point(*uc["across"]))
            truth.add("coverage", "toilet_uncovered", "residential_compounds", uc["compound_id"],
                      related_id=str(across_id.iloc[0]), x=c.x, y=c.y,
                      note=f"compound on the west bank: the only nearby toilet "
                           f"{across_id.iloc[0]} is across the river, {d:.0f} m in a straight "
                           "line from the compound but over 1.5 km by road (flag by network)")
        else:
            truth.add("coverage", "toilet_uncovered", "residential_compounds", uc["compound_id"],
                      x=c.x, y=c.y, note=f"isolated compound, no toilet within {CLEAR_M:.0f} m")
    return g


def _node_names(roads: gpd.GeoDataFrame, node_ids: np.ndarray) -> np.ndarray:
    r = roads[roads["road_class"] != "人行道"]
    s = pd.concat([pd.Series(r["name"].to_numpy(), index=r["node_u"].to_numpy()),
                   pd.Series(r["name"].to_numpy(), index=r["node_v"].to_numpy())])
    s = s[~s.index.duplicated()]
    return s.reindex(node_ids).fillna("滨河").to_numpy()


def garbage_points(bs: BuildingSet, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """One collection point per compound plus bins along commercial streets."""
    comps = bs.compounds[~bs.compounds["under_construction"]]
    b = comps.geometry.bounds
    x = (b["minx"] + 4).to_numpy()
    y = ((b["miny"] + b["maxy"]) / 2).to_numpy()
    names = (comps["name"] + "垃圾收集点").to_numpy()
    cat = rng.choice(np.array(["垃圾房", "收集点", "分类投放点"], dtype=object), len(comps))
    shops = bs.buildings[bs.buildings["use"] == "商业"]
    pick = shops.sample(n=min(len(shops), max(50, len(comps) // 2)), random_state=rng)
    sc = pick.geometry.centroid
    x = np.r_[x, sc.x.to_numpy() + 8]
    y = np.r_[y, sc.y.to_numpy()]
    names = np.r_[names, np.full(len(pick), "沿街垃圾桶", dtype=object)]
    cat = np.r_[cat, np.full(len(pick), "垃圾桶", dtype=object)]
    g = gpd.GeoDataFrame({"point_id": [f"LJ{k + 1:05d}" for k in range(len(x))], "name": names,
                          "category": cat}, geometry=shapely.points(x, y), crs="EPSG:4550")
    return g


def transfer_stations(yellow: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Transfer stations in their yellow lines, incl. the planned 河西新区 site."""
    rows = []
    for _, r in yellow[yellow["category"] == "环卫"].iterrows():
        planned = "规划" in r["name"]
        rows.append({"name": r["name"].replace("（规划）", ""), "capacity_tpd": 60.0 if planned else
                     (80.0 if "河东" in r["name"] else 50.0),
                     "status": "规划" if planned else "运行", "collection_mode": "小型机动车",
                     "geometry": r.geometry.centroid})
    g = gpd.GeoDataFrame(rows, crs="EPSG:4550")
    g.insert(0, "station_id", [f"ZY{k + 1:03d}" for k in range(len(g))])
    return g


def transfer_truth(lat: Lattice, roads: gpd.GeoDataFrame, stations: gpd.GeoDataFrame,
                   bs: BuildingSet, truth: Truth, *, far_m: float = 5_500.0) -> None:
    """Truth rows for planted compounds far (by road) from every running transfer station.

    The stations collect with small vehicles (CJJ/T 47-2016: 3 km, at most 5 km); a compound
    more than ``far_m`` by road from the nearest running station is listed as
    ``transfer_uncovered`` (the gap the planned 河西新区 station is meant to close).
    """
    m, nodes, nx_, ny_ = road_graph(lat, roads)
    tree = cKDTree(np.column_stack([nx_, ny_]))
    run = stations[stations["status"] == "运行"]
    _, sn = tree.query(np.column_stack([run.geometry.x, run.geometry.y]))
    dn = dijkstra(m, indices=np.unique(sn), min_only=True)
    for uc in bs.uncovered:
        c = uc["geometry"].centroid
        dist, k = tree.query([c.x, c.y])
        d = float(dn[k] + dist)
        if d > far_m:
            truth.add("coverage", "transfer_uncovered", "residential_compounds",
                      uc["compound_id"], value=d, x=c.x, y=c.y,
                      note=f"compound about {d:.0f} m by road from the nearest running transfer "
                           "station (beyond the 5 km maximum for small-vehicle collection)")


def street_lamps(lat: Lattice, roads: gpd.GeoDataFrame, bs: BuildingSet, landmarks: dict,
                 rng: np.random.Generator, n_target: int = 2000) -> gpd.GeoDataFrame:
    """About 2,000 lamps on the main streets near the centre, with the plan's dark spots."""
    f = lat.frame
    major = roads[roads["road_class"].isin(["主干路", "次干路"]) & ~roads["bridge"]]
    c = major.geometry.centroid
    order = np.argsort(np.hypot(c.x - f.cx, c.y - f.cy).to_numpy())
    xs, ys, rid = [], [], []
    count = 0
    for k in order:
        r = major.iloc[k]
        g = r.geometry
        n = max(1, int(g.length // 35))
        d = (np.arange(n) + 0.5) * g.length / n
        pts = shapely.line_interpolate_point(g, d)
        (x0, y0), (x1, y1) = g.coords[0], g.coords[-1]
        L = np.hypot(x1 - x0, y1 - y0)
        nxv, nyv = -(y1 - y0) / L, (x1 - x0) / L
        off = r["width"] / 2 - 2
        for side in (1, -1):
            xs.append(shapely.get_x(pts) + side * off * nxv)
            ys.append(shapely.get_y(pts) + side * off * nyv)
            rid.append(np.full(n, r["road_id"], dtype=object))
            count += n
        if count >= n_target - 60:
            break
    x, y, road_id = np.concatenate(xs), np.concatenate(ys), np.concatenate(rid)
    status = rng.choice(np.array(["正常", "不亮", "损坏"], dtype=object), len(x),
                        p=[0.955, 0.03, 0.015])
    # the plan's dark spots (新建 ... 兴华小学、民族西街、明月花园东墙外等地盲区路灯16盏)
    extra_x, extra_y, extra_r, extra_s = [], [], [], []

    def row_of(px: float, py: float) -> tuple[str, float, float]:
        dd = shapely.distance(roads.geometry.values, Point(px, py))
        k = int(np.argmin(dd))
        return str(roads.iloc[k]["road_id"]), float(dd[k]), k

    spots = []
    xh = box(*_land(lat, landmarks["兴华小学"]))
    spots.append(("兴华小学", xh.bounds[0] - 8, (xh.bounds[1] + xh.bounds[3]) / 2, "v"))
    mz = bs.compounds[bs.compounds["name"] == "明月花园"]
    if len(mz):
        mb = mz.geometry.iloc[0].bounds
        spots.append(("明月花园", mb[2] + 6, (mb[1] + mb[3]) / 2, "v"))
    mw = roads[roads["name"] == "民族西街"]
    if len(mw):
        g = mw.geometry.iloc[len(mw) // 2]
        spots.append(("民族西街", g.centroid.x, g.centroid.y + 14, "h"))
    planned = [6, 5, 5]
    for (name, sx, sy, orient), n_new in zip(spots, planned):
        rid_, _, _ = row_of(sx, sy)
        # existing lamps near the spot are dark
        near = np.hypot(x - sx, y - sy) < 90
        status[near] = "不亮"
        for k in range(4):
            off = (k - 1.5) * 30
            extra_x.append(sx if orient == "v" else sx + off)
            extra_y.append(sy + off if orient == "v" else sy)
            extra_r.append(rid_)
            extra_s.append("不亮")
        for k in range(n_new):
            off = (k - n_new / 2) * 25 + 12
            extra_x.append(sx + 2 if orient == "v" else sx + off)
            extra_y.append(sy + off if orient == "v" else sy + 2)
            extra_r.append(rid_)
            extra_s.append("规划新增")
    x = np.r_[x, extra_x]
    y = np.r_[y, extra_y]
    road_id = np.r_[road_id, np.array(extra_r, dtype=object)]
    status = np.r_[status, np.array(extra_s, dtype=object)]
    reported = np.where(np.isin(status, ["不亮", "损坏"]),
                        (np.datetime64("2022-08-24T18:00") +
                         rng.integers(0, 11 * 24 * 60, len(x)).astype("timedelta64[m]")),
                        np.datetime64("NaT"))
    g = gpd.GeoDataFrame({"lamp_id": [f"LD{k + 1:05d}" for k in range(len(x))],
                          "road_id": road_id, "status": status,
                          "reported_at": pd.to_datetime(reported)},
                         geometry=shapely.points(x, y), crs="EPSG:4550")
    return g


def _land(lat: Lattice, ij: tuple[int, int]) -> tuple[float, float, float, float]:
    i, j = ij
    return (lat.xs[i] + lat.col_width[i] / 2, lat.ys[j] + lat.row_width[j] / 2,
            lat.xs[i + 1] - lat.col_width[i + 1] / 2, lat.ys[j + 1] - lat.row_width[j + 1] / 2)


def heat_stations(bs: BuildingSet, rng: np.random.Generator, n: int = 136) -> gpd.GeoDataFrame:
    """The plan's 136 heat exchange stations, in compounds built before 2022."""
    comps = bs.compounds[~bs.compounds["under_construction"]]
    pick = comps.sample(n=min(n, len(comps)), random_state=rng).sort_values("compound_id")
    b = pick.geometry.bounds
    x = (b["minx"] + 5).to_numpy()
    y = (b["maxy"] - 5).to_numpy()
    g = gpd.GeoDataFrame({
        "station_id": [f"HR{k + 1:03d}" for k in range(len(pick))],
        "name": (pick["name"] + "换热站").to_numpy(),
        "company": rng.choice(np.array(["扎兰屯市热电有限责任公司", "扎兰屯市城市供热有限公司",
                                        "扎兰屯市河西新区供热公司"], dtype=object), len(pick)),
        "status": rng.choice(np.array(["正常", "检修中", "待检修"], dtype=object), len(pick),
                             p=[0.8, 0.1, 0.1]),
    }, geometry=shapely.points(x, y), crs="EPSG:4550")
    return g


def trees(roads: gpd.GeoDataFrame, parks: gpd.GeoDataFrame, purple: gpd.GeoDataFrame,
          rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Old and famous trees in parks and the historic block, and street trees on main roads."""
    species_old = np.array(["樟子松", "兴安落叶松", "蒙古栎", "榆树", "白桦", "山杏", "稠李", "黄檗"],
                           dtype=object)
    pts, grade, sp, age = [], [], [], []
    hosts = list(parks.geometry) + [purple.geometry.iloc[0]]
    for k, h in enumerate(hosts):
        for _ in range(3):
            minx, miny, maxx, maxy = h.bounds
            for _t in range(50):
                p = Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
                if h.contains(p):
                    break
            pts.append(p)
            gr = rng.choice(["一级古树", "二级古树", "三级古树", "名木", "后备资源"],
                            p=[0.1, 0.25, 0.4, 0.1, 0.15])
            grade.append(gr)
            sp.append(species_old[rng.integers(len(species_old))])
            age.append({"一级古树": 520, "二级古树": 320, "三级古树": 120, "名木": 90,
                        "后备资源": 80}[gr] + int(rng.integers(0, 60)))
    main = roads[(roads["road_class"] == "主干路") & ~roads["bridge"]].head(300)
    st = shapely.line_interpolate_point(main.geometry.values, 0.5, normalized=True)
    off = (main["width"].to_numpy() / 2 - 4)
    vert = np.array([abs(g.coords[0][0] - g.coords[-1][0]) < 1 for g in main.geometry])
    sx = shapely.get_x(st) + np.where(vert, off, 0)
    sy = shapely.get_y(st) + np.where(vert, 0, off)
    n_st = len(sx)
    g = gpd.GeoDataFrame({
        "species": np.r_[np.array(sp, dtype=object),
                         rng.choice(np.array(["小叶杨", "垂柳", "榆树", "樟子松", "白桦"], dtype=object),
                                    n_st)],
        "grade": np.r_[np.array(grade, dtype=object), np.full(n_st, "行道树", dtype=object)],
        "age": np.r_[np.array(age), rng.integers(8, 40, n_st)].astype(int),
    }, geometry=np.r_[np.array(pts, dtype=object), shapely.points(sx, sy)], crs="EPSG:4550")
    g.insert(0, "tree_id", [f"SM{k + 1:05d}" for k in range(len(g))])
    return g


def waterlogging_points(frame: Frame, depressions: list[dict], truth: Truth,
                        rng: np.random.Generator) -> tuple[gpd.GeoDataFrame, dict[str, str]]:
    """Recorded waterlogging points over some planted depressions, and one over none."""
    from .dem import UNEXPLAINED_POINT

    rows, ids = [], {}
    for d in depressions:
        if not d["recorded"]:
            continue
        pid = f"JS{len(rows) + 1:03d}"
        ids[d["id"]] = pid
        rows.append({"point_id": pid, "name": d["name"],
                     "max_depth_cm": float(round(20 + 30 * rng.random(), 0)),
                     "duration_min": float(round(40 + 120 * rng.random(), 0)),
                     "recorded_on": f"2021-07-{10 + len(rows) * 3:02d}",
                     "status": ["未整改", "整改中", "未整改"][len(rows) % 3],
                     "geometry": Point(d["x"] + 4, d["y"] - 3)})
    name, (u, v) = UNEXPLAINED_POINT
    x, y = frame.xy(u, v)
    pid = f"JS{len(rows) + 1:03d}"
    rows.append({"point_id": pid, "name": name, "max_depth_cm": 25.0, "duration_min": 60.0,
                 "recorded_on": "2022-06-02", "status": "未整改", "geometry": Point(x, y)})
    truth.add("waterlogging", "recorded_point_unexplained", "waterlogging_points", pid, x=x, y=y,
              note="recorded waterlogging point with no depression in the DEM (a drainage fault)")
    return gpd.GeoDataFrame(rows, crs="EPSG:4550"), ids


_STREETS = ["河西街道", "兴华街道", "正阳街道", "繁荣街道", "向阳街道", "铁东街道"]
_COMMUNITY = ["阳光", "幸福", "和平", "新华", "光明", "团结", "民主", "站前", "雅鲁", "文化", "建设",
              "胜利", "东山", "西山", "北山", "南湖", "富民", "兴安", "振兴", "育才"]


def grids(frame: Frame, bounds: tuple[float, float, float, float], rng: np.random.Generator,
          cell: float = 600.0) -> gpd.GeoDataFrame:
    """Management grid cells (网格) per subdistrict and community, with road chiefs (路长).

    The cells tile ``bounds`` (the street lattice plus a margin).

    Examples
    --------
    >>> from zlgis.demo._common import make_frame, rng_for
    >>> f = make_frame(2022, 25_000)
    >>> g = grids(f, f.bounds, rng_for(2022, 13))
    >>> bool(g["grid_id"].str.fullmatch(r"150783[0-9]{9}").all()), sorted(set(g["district"]))
    (True, ['河东', '河西'])
    """
    x0, y0, x1, y1 = bounds
    gx = np.arange(x0, x1, cell)
    gy = np.arange(y0, y1, cell)
    X, Y = np.meshgrid(gx, gy, indexing="xy")
    X, Y = X.ravel(), Y.ravel()
    cx, cy = X + cell / 2, Y + cell / 2
    u, v = cx - frame.cx, cy - frame.cy
    dist = frame.district(cx, cy)
    street = np.where(dist == "河西", 0, np.where(u > 2500, 5, np.where(v > 1500, 1, np.where(
        v > -1000, 2, np.where(u > 800, 4, 3)))))
    comm_key = np.floor(cx / (2 * cell)).astype(int) * 100_000 + np.floor(cy / (2 * cell)).astype(int)
    df = pd.DataFrame({"street": street, "comm": comm_key, "x": X, "y": Y})
    df["comm_no"] = df.groupby("street")["comm"].rank(method="dense").astype(int)
    df["grid_no"] = df.groupby(["street", "comm_no"]).cumcount() + 1
    n = len(df)
    sub = np.array(_STREETS, dtype=object)[df["street"]]
    comm = np.array([f"{_COMMUNITY[(s * 7 + c) % len(_COMMUNITY)]}{'' if c <= 20 else c}社区"
                     for s, c in zip(df["street"], df["comm_no"])], dtype=object)
    gid = np.array([f"150783{s + 1:03d}{c:03d}{k:03d}" for s, c, k in
                    zip(df["street"], df["comm_no"], df["grid_no"])], dtype=object)
    g = gpd.GeoDataFrame({
        "grid_id": gid,
        "grid_name": [f"{c}第{k}网格" for c, k in zip(comm, df["grid_no"])],
        "subdistrict": sub, "community": comm, "district": dist,
        "road_chief": person_names(rng, n), "road_chief_phone": phones(rng, n),
        "grid_worker": person_names(rng, n),
    }, geometry=shapely.box(X, Y, X + cell, Y + cell), crs="EPSG:4550")
    return g


_CASES = [
    ("路灯照明", "投诉", "{addr}路灯不亮，晚上出行不安全，希望尽快维修。"),
    ("道路积水", "求助", "{addr}下雨后积水严重，车辆和行人无法通行。"),
    ("渣土车", "举报", "{addr}有渣土车未密闭运输，沿途遗撒，车牌看不清。"),
    ("货车乱停", "投诉", "{addr}大货车长期停放占道，影响通行，请交警处理。"),
    ("占道经营", "投诉", "{addr}早市占道经营，垃圾无人清理。"),
    ("供热", "求助", "{addr}暖气不热，室温只有十几度。"),
    ("公厕", "建议", "{addr}附近没有公共厕所，建议增设。"),
    ("垃圾清运", "投诉", "{addr}垃圾收集点满溢，多日未清运。"),
    ("违法建设", "举报", "{addr}有人私搭乱建，占用绿地。"),
    ("市容环境", "建议", "{addr}绿化带杂草多，建议修剪。"),
]


def hotline_cases(bs: BuildingSet, roads: gpd.GeoDataFrame, rng: np.random.Generator,
                  n: int = 600) -> gpd.GeoDataFrame:
    """12345 cases with free text and synthetic names and phones (to test redaction)."""
    comps = bs.compounds
    pick = rng.integers(0, len(comps), n)
    c = comps.geometry.iloc[pick].representative_point()
    x = c.x.to_numpy() + rng.normal(0, 30, n)
    y = c.y.to_numpy() + rng.normal(0, 30, n)
    kind = rng.integers(0, len(_CASES), n)
    names = person_names(rng, n)
    ph = phones(rng, n)
    addr = [f"{comps['name'].iloc[p]}{rng.integers(1, 30)}号楼" for p in pick]
    text = []
    for k, a, nm, p in zip(kind, addr, names, ph):
        t = _CASES[k][2].format(addr=a)
        if rng.random() < 0.3:
            t += f"联系人{nm[0]}先生，电话{p}。"
        text.append(t)
    received = (np.datetime64("2022-05-01T07:00") +
                rng.integers(0, 42 * 24 * 60, n).astype("timedelta64[m]"))
    dept = {"路灯照明": "住建局", "道路积水": "住建局", "渣土车": "城管执法局", "货车乱停": "公安局",
            "占道经营": "城管执法局", "供热": "住建局", "公厕": "城管执法局", "垃圾清运": "城管执法局",
            "违法建设": "自然资源局", "市容环境": "城管执法局"}
    cats = [_CASES[k][0] for k in kind]
    g = gpd.GeoDataFrame({
        "case_id": "",
        "received_at": pd.to_datetime(received),
        "category": cats, "request_type": [_CASES[k][1] for k in kind], "text": text,
        "address": addr, "requester_name": names, "requester_phone": ph,
        "status": rng.choice(np.array(["待办", "办理中", "已办结"], dtype=object), n,
                             p=[0.15, 0.25, 0.6]),
        "department": [dept[cc] for cc in cats],
    }, geometry=shapely.points(x, y), crs="EPSG:4550")
    g = g.sort_values("received_at", kind="stable").reset_index(drop=True)
    g["case_id"] = [f"12345-2022-{k + 1:06d}" for k in range(n)]
    return g

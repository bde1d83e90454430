"""Unit grids (万米单元网格) and road-chief segments (路长制), and the audit of a bureau's grids.

Campaign tasks 7.1.2 (grids by subdistrict and community, duties, extent and staff published),
7.2.1 (grid management and road chiefs everywhere) and 7.2.2 (a sensible grid layout).

Grids follow GB/T 30428.1-2013 (单元网格, after CJ/T 213-2005) as described second-hand in
``city-management-codes.md``: about 10,000 m2 each, bounded by streets, rivers and walls, never
crossing a community boundary, no gaps and no overlaps; a 15-character code of 6 (GB/T 2260
county) + 3 (subdistrict) + 3 (community) + 3 (serial, west to east and north to south inside the
community, DB11/T 单元网格划分 5.4). Size limits are example values in ``config/grids.yaml``.

Examples
--------
>>> import geopandas as gpd, shapely
>>> comm = gpd.GeoDataFrame({"subdistrict": ["兴华街道"], "community": ["阳光社区"]},
...                         geometry=[shapely.box(0, 0, 300, 200)], crs="EPSG:4550")
>>> roads = gpd.GeoDataFrame({"road_id": ["R1", "R2"], "name": ["中央路", "新华路"]},
...     geometry=[shapely.LineString([(150, -10), (150, 210)]),
...               shapely.LineString([(-10, 100), (310, 100)])], crs="EPSG:4550")
>>> g = unit_grids(comm, roads=roads)
>>> len(g), sorted(g["area_m2"].round().unique().tolist())
(4, [15000.0])
>>> g["grid_id"].tolist()
['150783001001001', '150783001001002', '150783001001003', '150783001001004']
>>> seg = road_chief_segments(roads, comm)
>>> round(float(seg["length_m"].sum()), 1), sorted(seg["community"].unique())
(540.0, ['', '阳光社区'])
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from ..config import load_config
from ._ruled import rule_findings

__all__ = [
    "grid_settings",
    "communities_from_grids",
    "built_up_area",
    "unit_grids",
    "grid_codes",
    "road_chief_segments",
    "grid_table",
    "audit_grids",
    "run_audit",
]

#: Layers the weekly adapter :func:`run_audit` reads.
LAYERS = ["grids"]

#: Public columns of the grid table (the rest, staff names and phones, stays internal).
PUBLIC_COLUMNS = ("grid_id", "grid_name", "subdistrict", "community", "area_m2", "duties")


def grid_settings() -> dict[str, Any]:
    """The values of ``config/grids.yaml`` (without their sources), as plain numbers and text."""
    cfg = load_config("grids")

    def val(v: Any) -> Any:
        return v["value"] if isinstance(v, dict) and "value" in v else v

    out = {k: val(v) for k, v in cfg.items() if k != "road_chief"}
    out["road_chief"] = {k: val(v) for k, v in cfg.get("road_chief", {}).items()}
    return out


def communities_from_grids(grids: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Community boundaries dissolved from a grid layer (``subdistrict``, ``community``).

    The community and subdistrict codes are read from 15-character grid ids (characters 7-9 and
    10-12) where they have them, so regenerated grids keep the bureau's codes.
    """
    g = grids[["subdistrict", "community", "grid_id", "geometry"]].copy()
    gid = g["grid_id"].astype(str)
    ok = gid.str.fullmatch(r"[0-9A-Z]{15}")
    g["subdistrict_code"] = np.where(ok, gid.str[6:9], "")
    g["community_code"] = np.where(ok, gid.str[9:12], "")
    g["admin_code"] = np.where(ok, gid.str[:6], "")
    out = g.dissolve(by=["subdistrict", "community"], aggfunc="first", as_index=False)
    out["geometry"] = shapely.make_valid(out.geometry.values)
    return out[["subdistrict", "community", "subdistrict_code", "community_code", "admin_code",
                "geometry"]]


def built_up_area(buildings: gpd.GeoDataFrame, *, boundary: Any = None,
                  name: str = "建成区", grow_m: float | None = None) -> gpd.GeoDataFrame:
    """The built-up area as one stand-in community, for a city without community boundaries.

    The buildings grown by ``grow_m`` (``config/grids.yaml`` ``built_up_from_buildings``),
    merged, shrunk back by half of it (closing the gaps between blocks) and with their holes
    filled, inside ``boundary`` when given; parts smaller than the smallest grid
    (``min_area_m2``) are left out. One row: ``subdistrict`` and ``community`` are ``name``.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> b = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 20, 20), shapely.box(60, 0, 80, 20),
    ...                                shapely.box(900, 0, 910, 10)], crs="EPSG:4550")
    >>> a = built_up_area(b, grow_m=50)
    >>> len(a), a.geometry.iloc[0].geom_type, round(float(a.area.iloc[0]) / 1e3, 1)
    (1, 'MultiPolygon', 11.2)
    """
    cfg = grid_settings()
    grow = float(grow_m if grow_m is not None else cfg["built_up_from_buildings"])
    geoms = shapely.buffer(np.asarray(buildings.geometry.values, dtype=object), grow,
                           quad_segs=4)
    area = shapely.buffer(shapely.union_all(geoms), -grow / 2, quad_segs=4)
    parts = shapely.get_parts(area)
    area = shapely.union_all(shapely.polygons(shapely.get_exterior_ring(parts)))
    if boundary is not None:
        area = shapely.intersection(area, boundary)
    # fragments smaller than the smallest grid (cut off by the boundary, or a lone shed) are
    # not built-up area: a cell there could neither stand alone nor merge with a neighbour
    parts = shapely.get_parts(shapely.make_valid(area))
    parts = parts[np.isin(shapely.get_type_id(parts), (3, 6))]
    area = shapely.union_all(parts[shapely.area(parts) >= float(cfg["min_area_m2"])])
    return gpd.GeoDataFrame({"subdistrict": [name], "community": [name]}, geometry=[area],
                            crs=buildings.crs)


def _faces(areas: gpd.GeoDataFrame, lines: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Faces cut out of each area by the lines; returns (geometries, index of the area)."""
    all_lines = np.concatenate(lines) if lines else np.empty(0, dtype=object)
    tree = shapely.STRtree(all_lines) if len(all_lines) else None
    geoms, owners = [], []
    for k, area in enumerate(areas.geometry.values):
        near = all_lines[tree.query(area)] if tree is not None else np.empty(0, dtype=object)
        work = shapely.get_parts(np.concatenate([[shapely.boundary(area)],
                                                 shapely.intersection(near, area)]))
        work = work[np.isin(shapely.get_type_id(work), (1, 2))]
        faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(shapely.union_all(work))))
        faces = faces[shapely.contains(area, shapely.point_on_surface(faces))
                      & (shapely.area(faces) > 0)] if len(faces) else faces
        # what the lines did not close is kept as faces of its own
        rest = shapely.get_parts(shapely.difference(area, shapely.union_all(faces))
                                 if len(faces) else area)
        rest = rest[np.isin(shapely.get_type_id(rest), (3, 6)) & (shapely.area(rest) > 1e-6)]
        faces = np.concatenate([faces, rest])
        geoms.append(faces)
        owners.append(np.full(len(faces), k))
    return np.concatenate(geoms), np.concatenate(owners)


def _split(geom: Any, target: float) -> list[Any]:
    """Cut a large face into pieces of about ``target`` m2 along its minimum rotated rectangle."""
    rect = shapely.oriented_envelope(geom)
    c = np.asarray(rect.exterior.coords)[:4]
    e1, e2 = c[1] - c[0], c[3] - c[0]
    l1, l2 = np.hypot(*e1), np.hypot(*e2)
    side = np.sqrt(target)
    n1, n2 = max(1, int(round(l1 / side))), max(1, int(round(l2 / side)))
    if n1 * n2 == 1:
        return [geom]
    a, b = np.meshgrid(np.arange(n1), np.arange(n2), indexing="ij")
    a, b = a.ravel(), b.ravel()
    u0, u1 = (a / n1)[:, None] * e1, ((a + 1) / n1)[:, None] * e1
    v0, v1 = (b / n2)[:, None] * e2, ((b + 1) / n2)[:, None] * e2
    ring = np.stack([c[0] + u0 + v0, c[0] + u1 + v0, c[0] + u1 + v1, c[0] + u0 + v1], axis=1)
    cells = shapely.polygons(ring)
    pieces = shapely.get_parts(shapely.intersection(cells, geom))
    return [p for p in pieces if shapely.get_type_id(p) in (3, 6) and shapely.area(p) > 1e-6]


def _merge_small(geoms: np.ndarray, owner: np.ndarray, min_area: float) -> tuple[np.ndarray,
                                                                                   np.ndarray]:
    """Merge each face smaller than ``min_area`` into the neighbour (same owner) it shares the
    longest border with; repeated until no small face has a neighbour left."""
    geoms = np.asarray(geoms, dtype=object)
    for _ in range(8):
        area = shapely.area(geoms)
        small = np.flatnonzero(area < min_area)
        if not len(small):
            break
        tree = shapely.STRtree(geoms)
        left, right = tree.query(geoms[small], predicate="intersects")
        left = small[left]
        keep = (left != right) & (owner[left] == owner[right])
        left, right = left[keep], right[keep]
        if not len(left):
            break
        shared = shapely.length(shapely.intersection(shapely.boundary(geoms[left]),
                                                     shapely.boundary(geoms[right])))
        df = pd.DataFrame({"a": left, "b": right, "len": shared, "area_b": area[right]})
        df = df[df["len"] > 0.01]
        if not len(df):
            break
        best = df.sort_values(["a", "len", "area_b"], ascending=[True, False, True]).groupby(
            "a", sort=False).first()
        n = len(geoms)
        adj = coo_matrix((np.ones(len(best)), (best.index.to_numpy(), best["b"].to_numpy())),
                         shape=(n, n))
        _, label = connected_components(adj, directed=False)
        merged = pd.Series(list(geoms)).groupby(label).agg(
            lambda s: shapely.union_all(np.asarray(s.tolist())))
        own = pd.Series(owner).groupby(label).first()
        geoms = np.asarray(merged.to_list(), dtype=object)
        geoms = np.asarray([shapely.make_valid(shapely.normalize(g)) if not shapely.is_valid(g)
                            else g for g in geoms], dtype=object)
        owner = own.to_numpy()
    return geoms, owner


def grid_codes(grids: gpd.GeoDataFrame, *, admin_code: str, band_m: float = 100.0) -> pd.Series:
    """15-character codes: county + subdistrict + community + serial (west to east, north to south).

    ``grids`` needs ``subdistrict_code`` and ``community_code`` (3 characters each). Inside a
    community, cells are numbered by rows of ``band_m`` from the north, west to east in a row
    (DB11/T 单元网格划分 5.4).
    """
    pt = grids.geometry.representative_point()
    order = pd.DataFrame({"s": grids["subdistrict_code"].to_numpy(),
                          "c": grids["community_code"].to_numpy(),
                          "row": -np.floor(pt.y.to_numpy() / band_m), "x": pt.x.to_numpy()},
                         index=grids.index)
    order = order.sort_values(["s", "c", "row", "x"], kind="stable")
    serial = order.groupby(["s", "c"]).cumcount() + 1
    if (serial > 999).any():
        raise ValueError("more than 999 grids in one community: use letters in the serial")
    code = admin_code + order["s"] + order["c"] + serial.map("{:03d}".format)
    return code.reindex(grids.index)


def _area_codes(areas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    out = areas.copy()
    for fld, key in (("subdistrict_code", "subdistrict"), ("community_code", "community")):
        have = out[fld].astype(str).str.fullmatch(r"[0-9A-Z]{3}") if fld in out else \
            pd.Series(False, index=out.index)
        if have.all():
            continue
        if key == "subdistrict":
            codes = {s: f"{k + 1:03d}" for k, s in enumerate(sorted(out["subdistrict"].unique()))}
            new = out["subdistrict"].map(codes)
        else:
            new = out.groupby("subdistrict")["community"].rank(method="dense").astype(int).map(
                "{:03d}".format)
        out[fld] = np.where(have, out.get(fld, new), new)
    return out


def unit_grids(communities: gpd.GeoDataFrame, *, roads: gpd.GeoDataFrame | None = None,
               rivers: gpd.GeoDataFrame | None = None, blocks: gpd.GeoDataFrame | None = None,
               admin_code: str | None = None, target_area_m2: float | None = None,
               min_area_m2: float | None = None, max_area_m2: float | None = None,
               start_date: str = "") -> gpd.GeoDataFrame:
    """Unit grids inside community boundaries, cut by streets, rivers and blocks.

    Each community is cut by the road centrelines, the river (blue-line) boundaries and the block
    outlines that cross it; faces larger than ``max_area_m2`` are cut into pieces of about
    ``target_area_m2`` along their long axis, and faces smaller than ``min_area_m2`` are merged
    into the neighbour in the same community they share the longest border with. The result tiles
    the communities exactly (no gap, no overlap) and no grid crosses a community boundary.

    Parameters
    ----------
    communities : GeoDataFrame
        Polygons with ``subdistrict`` and ``community`` (names) and optionally
        ``subdistrict_code`` / ``community_code`` (3 characters each, numbered by name if absent).
    roads, rivers, blocks : GeoDataFrame, optional
        Lines or polygons whose outlines bound grids.
    admin_code : str, optional
        6-digit GB/T 2260 code (default ``config/grids.yaml``, 150783 for Zhalantun).
    target_area_m2, min_area_m2, max_area_m2 : float, optional
        Sizes (defaults in ``config/grids.yaml``).

    Returns
    -------
    GeoDataFrame
        ``grid_id`` (15 characters), ``grid_name``, ``subdistrict``, ``community``, ``area_m2``,
        ``start_date``, ``end_date``, ``note``, in the communities' CRS.
    """
    cfg = grid_settings()
    admin = str(admin_code or cfg["admin_code"])
    target = float(target_area_m2 or cfg["target_area_m2"])
    lo = float(min_area_m2 or cfg["min_area_m2"])
    hi = float(max_area_m2 or cfg["max_area_m2"])
    areas = _area_codes(communities.reset_index(drop=True))
    lines = []
    for layer in (roads, rivers, blocks):
        if layer is not None and len(layer):
            g = layer.to_crs(areas.crs).geometry.values
            poly = np.isin(shapely.get_type_id(g), (3, 6))
            g = np.where(poly, shapely.boundary(g), g)
            lines.append(shapely.get_parts(g))
    faces, owner = _faces(areas, lines)
    pieces, own = [], []
    for geom, o in zip(faces, owner):
        parts = _split(geom, target) if shapely.area(geom) > hi else [geom]
        pieces.extend(parts)
        own.extend([o] * len(parts))
    geoms, owner = _merge_small(np.asarray(pieces, dtype=object), np.asarray(own), lo)
    geoms = shapely.make_valid(geoms)
    src = areas.iloc[owner].reset_index(drop=True)
    out = gpd.GeoDataFrame({
        "subdistrict": src["subdistrict"].to_numpy(),
        "community": src["community"].to_numpy(),
        "subdistrict_code": src["subdistrict_code"].to_numpy(),
        "community_code": src["community_code"].to_numpy(),
    }, geometry=geoms, crs=areas.crs)
    out["grid_id"] = grid_codes(out, admin_code=admin).to_numpy()
    out = out.sort_values("grid_id", kind="stable").reset_index(drop=True)
    out["grid_name"] = out["community"] + "第" + out["grid_id"].str[-3:].astype(int).astype(
        str) + "单元网格"
    out["area_m2"] = shapely.area(out.geometry.values).round(1)
    out["start_date"] = start_date
    out["end_date"] = ""
    out["note"] = ""
    cols = ["grid_id", "grid_name", "subdistrict", "community", "area_m2", "start_date",
            "end_date", "note", "geometry"]
    return out[cols]


def road_chief_segments(roads: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, *,
                        chiefs: gpd.GeoDataFrame | None = None,
                        min_segment_m: float | None = None) -> gpd.GeoDataFrame:
    """Road-chief segments: every road cut at community boundaries, each piece assigned once.

    Roads are cut by the (non-overlapping) ``areas`` (communities); the pieces of one road (its
    ``name``, else its ``road_id``) inside one community form one segment with one community
    road chief. Pieces outside every area are kept as segments with an empty community (to be
    assigned). The segments' lengths add up to the roads' length: every road is covered exactly
    once.

    Parameters
    ----------
    chiefs : GeoDataFrame, optional
        Polygons with ``road_chief`` (the bureau's current grid layer): each segment takes the
        chief of the polygon holding its midpoint.

    Returns
    -------
    GeoDataFrame
        ``segment_id``, ``road_name``, ``road_ids``, ``subdistrict``, ``community``,
        ``length_m``, ``road_chief`` and line geometry.
    """
    min_len = float(min_segment_m if min_segment_m is not None
                    else grid_settings()["road_chief"]["min_segment_m"])
    r = roads.to_crs(areas.crs).reset_index(drop=True)
    a = areas.reset_index(drop=True)
    rg, ag = r.geometry.values, a.geometry.values
    ri, ai = shapely.STRtree(ag).query(rg, predicate="intersects")
    pieces = shapely.intersection(rg[ri], ag[ai])
    keep = shapely.length(pieces) > 0
    ri, ai, pieces = ri[keep], ai[keep], pieces[keep]
    inside = shapely.union_all(ag)
    rest = shapely.difference(rg, inside)
    out_i = np.flatnonzero(shapely.length(rest) > min_len)
    name = (r["name"].fillna("").astype(str) if "name" in r else pd.Series("", index=r.index))
    name = name.where(name != "", r["road_id"].astype(str))
    df = pd.DataFrame({
        "road_name": np.concatenate([name.to_numpy()[ri], name.to_numpy()[out_i]]),
        "road_id": np.concatenate([r["road_id"].astype(str).to_numpy()[ri],
                                   r["road_id"].astype(str).to_numpy()[out_i]]),
        "subdistrict": np.concatenate([a["subdistrict"].to_numpy()[ai],
                                       np.full(len(out_i), "", dtype=object)]),
        "community": np.concatenate([a["community"].to_numpy()[ai],
                                     np.full(len(out_i), "", dtype=object)]),
        "geometry": np.concatenate([pieces, rest[out_i]]),
    })
    grouped = df.groupby(["subdistrict", "community", "road_name"], sort=True)
    seg = grouped.agg(road_ids=("road_id", lambda s: ";".join(sorted(set(s)))),
                      geometry=("geometry", lambda s: shapely.line_merge(
                          shapely.union_all(np.asarray(s.tolist()))))).reset_index()
    seg = gpd.GeoDataFrame(seg, geometry="geometry", crs=areas.crs)
    seg["length_m"] = shapely.length(seg.geometry.values).round(2)
    seg = seg[seg["length_m"] > 0].reset_index(drop=True)
    seg["segment_id"] = [f"LZ{k + 1:05d}" for k in range(len(seg))]
    seg["road_chief"] = ""
    if chiefs is not None and len(chiefs) and "road_chief" in chiefs:
        mid = shapely.line_interpolate_point(seg.geometry.values, 0.5, normalized=True)
        c = chiefs.to_crs(areas.crs)
        pi, gi = c.sindex.query(mid, predicate="intersects")
        first = pd.Series(gi, index=pi).groupby(level=0).min()
        vals = c["road_chief"].fillna("").astype(str).to_numpy()
        chief = np.full(len(seg), "", dtype=object)
        chief[first.index.to_numpy()] = vals[first.to_numpy()]
        seg["road_chief"] = chief
    return seg[["segment_id", "road_name", "road_ids", "subdistrict", "community", "length_m",
                "road_chief", "geometry"]]


def grid_table(grids: gpd.GeoDataFrame, *, staff: gpd.GeoDataFrame | None = None,
               segments: gpd.GeoDataFrame | None = None, duties: str | None = None
               ) -> gpd.GeoDataFrame:
    """Each grid's duties, extent and staff (7.1.2 “明确公开网格管理责任、范围、人员”).

    Staff (``grid_worker``, ``road_chief``, ``road_chief_phone``) come from the polygon of
    ``staff`` (the bureau's current grid layer) holding each grid's representative point; the
    roads in a grid come from ``segments``. Only :data:`PUBLIC_COLUMNS` may be published.
    """
    out = grids.copy()
    out["duties"] = duties or ("巡查发现并上报网格内市容环境、街面秩序、公用设施问题；"
                               "督促门前五包；“网格吹哨”后跟踪部门报到与处置结果")
    for col in ("grid_worker", "road_chief", "road_chief_phone"):
        out[col] = ""
    if staff is not None and len(staff):
        s = staff.to_crs(out.crs)
        pi, gi = s.sindex.query(out.geometry.representative_point().values,
                                predicate="intersects")
        first = pd.Series(gi, index=pi).groupby(level=0).min()
        for col in ("grid_worker", "road_chief", "road_chief_phone"):
            if col in s:
                vals = s[col].fillna("").astype(str).to_numpy()
                col_v = np.full(len(out), "", dtype=object)
                col_v[first.index.to_numpy()] = vals[first.to_numpy()]
                out[col] = col_v
    out["roads"] = ""
    if segments is not None and len(segments):
        gi, si = shapely.STRtree(segments.geometry.values).query(
            out.geometry.values, predicate="intersects")
        names = segments["road_name"].astype(str).to_numpy()
        joined = pd.Series(names[si], index=gi).groupby(level=0).agg(
            lambda s: "、".join(sorted(set(s))))
        roads = np.full(len(out), "", dtype=object)
        roads[joined.index.to_numpy()] = joined.to_numpy()
        out["roads"] = roads
    return out


def _gap_findings(geoms: np.ndarray, built_up: Any, sliver: float, layer: str,
                  crs: Any) -> gpd.GeoDataFrame | None:
    """Gaps: the built-up area (or the holes of the grids' union) not covered by any grid."""
    union = shapely.union_all(geoms)
    cover = built_up if built_up is not None else shapely.Polygon(
        shapely.get_exterior_ring(union)) if shapely.get_type_id(union) == 3 else \
        shapely.union_all([shapely.Polygon(shapely.get_exterior_ring(p))
                           for p in shapely.get_parts(union)])
    gaps = shapely.get_parts(shapely.difference(cover, union))
    gaps = gaps[shapely.area(gaps) > sliver] if len(gaps) else gaps
    if not len(gaps):
        return None
    xy = shapely.get_coordinates(shapely.point_on_surface(gaps))
    return rule_findings(
        "grid_gap", feature_ids=[[f"GAP@{x:.0f},{y:.0f}"] for x, y in xy], layer=layer,
        geometry=gaps, crs=crs, measures=[{"area_m2": a} for a in shapely.area(gaps)],
        measure_key="area_m2", measure_unit="m2")


def _overlap_findings(geoms: np.ndarray, ids: np.ndarray, sliver: float, layer: str,
                      crs: Any) -> gpd.GeoDataFrame | None:
    """Overlaps: pairs of grids sharing more than a sliver of area."""
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    inter = shapely.intersection(geoms[left], geoms[right])
    ov = shapely.area(inter) > sliver
    if not ov.any():
        return None
    return rule_findings(
        "grid_overlap", feature_ids=[[ids[a], ids[b]] for a, b in zip(left[ov], right[ov])],
        layer=layer, geometry=inter[ov], crs=crs,
        id_extra=[f"{a}-{b}" for a, b in zip(left[ov], right[ov])],
        measures=[{"area_m2": a} for a in shapely.area(inter[ov])], measure_key="area_m2",
        measure_unit="m2")


def _code_findings(geoms: np.ndarray, ids: np.ndarray, pattern: str, admin: str, layer: str,
                   crs: Any) -> gpd.GeoDataFrame | None:
    """Codes: pattern, county prefix, duplicates."""
    s = pd.Series(ids)
    problem = np.where(~s.str.fullmatch(pattern.strip("^$")), "编码应为15位数字或大写字母",
                       np.where(s.str[:6] != admin, f"前6位应为行政区划代码 {admin}",
                                np.where(s.duplicated(keep=False), "编码重复", "")))
    k = np.flatnonzero(problem != "")
    if not len(k):
        return None
    return rule_findings(
        "grid_code", feature_ids=[[ids[i]] for i in k], layer=layer, geometry=geoms[k],
        crs=crs, id_extra=[str(i) for i in k],
        measures=[{"problem": problem[i]} for i in k],
        title=[f"网格编码“{ids[i]}”：{problem[i]}" for i in k])


def _crossing_findings(g: gpd.GeoDataFrame, geoms: np.ndarray, ids: np.ndarray,
                       communities: gpd.GeoDataFrame, sliver: float, layer: str,
                       crs: Any) -> gpd.GeoDataFrame | None:
    """Grids whose part outside their own community exceeds a sliver."""
    key = [k for k in ("subdistrict", "community") if k in g and k in communities]
    cm = communities.to_crs(crs).dissolve(by=key)
    own = cm.geometry.reindex(pd.MultiIndex.from_frame(g[key].astype(str)) if len(key) > 1
                              else g[key[0]].astype(str)).values
    has = ~pd.isna(own)
    outside = np.zeros(len(g))
    outside[has] = shapely.area(shapely.difference(geoms[has], shapely.make_valid(
        np.asarray(own[has], dtype=object))))
    k = np.flatnonzero(outside > sliver)
    if not len(k):
        return None
    return rule_findings(
        "grid_crosses_community", feature_ids=[[ids[i]] for i in k], layer=layer,
        geometry=geoms[k], crs=crs, id_extra=[str(i) for i in k],
        measures=[{"outside_m2": outside[i]} for i in k], measure_key="outside_m2",
        measure_unit="m2")


def audit_grids(grids: gpd.GeoDataFrame, *, built_up: Any = None,
                communities: gpd.GeoDataFrame | None = None, admin_code: str | None = None,
                min_area_m2: float | None = None, max_area_m2: float | None = None,
                sliver_m2: float | None = None, layer: str = "grids") -> gpd.GeoDataFrame:
    """Check a grid layer for gaps, overlaps, sizes, codes and community crossings.

    Parameters
    ----------
    built_up : geometry, optional
        The area the grids must cover (default: the grids' own outline, so only holes count).
    communities : GeoDataFrame, optional
        Community polygons (``community``); a grid whose part outside its community exceeds
        ``sliver_m2`` crosses a community boundary.

    Returns
    -------
    GeoDataFrame
        Findings of the rules ``grid_gap``, ``grid_overlap``, ``grid_size``, ``grid_code`` and
        ``grid_crosses_community`` (registry ``config/rules/grids.yaml``).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> g = gpd.GeoDataFrame({"grid_id": ["150783001001001", "150783001001001", "X1"]},
    ...     geometry=[shapely.box(0, 0, 100, 100), shapely.box(90, 0, 190, 100),
    ...               shapely.box(200, 0, 300, 100)], crs="EPSG:4550")
    >>> f = audit_grids(g, built_up=shapely.box(0, 0, 300, 100))
    >>> sorted(f["rule"].value_counts().items())
    [('grid_code', 3), ('grid_gap', 1), ('grid_overlap', 1)]
    """
    cfg = grid_settings()
    admin = str(admin_code or cfg["admin_code"])
    lo = float(min_area_m2 or cfg["min_area_m2"])
    hi = float(max_area_m2 or cfg["max_area_m2"])
    sliver = float(sliver_m2 if sliver_m2 is not None else cfg["sliver_m2"])
    crs = grids.crs
    g = grids.reset_index(drop=True)
    geoms = shapely.make_valid(g.geometry.values)
    ids = g["grid_id"].fillna("").astype(str).to_numpy() if "grid_id" in g else \
        np.array([f"#{k + 1}" for k in range(len(g))], dtype=object)
    found = [_gap_findings(geoms, built_up, sliver, layer, crs),
             _overlap_findings(geoms, ids, sliver, layer, crs)]
    # sizes
    area = shapely.area(geoms)
    bad = (area < lo) | (area > hi)
    if bad.any():
        k = np.flatnonzero(bad)
        found.append(rule_findings(
            "grid_size", feature_ids=[[ids[i]] for i in k], layer=layer, geometry=geoms[k],
            crs=crs, id_extra=[str(i) for i in k], measure_key="area_m2", measure_unit="m2",
            measures=[{"area_m2": area[i], "min_m2": lo, "max_m2": hi} for i in k],
            title=[f"网格面积 {area[i]:.0f} 平方米，超出 {lo:.0f}–{hi:.0f} 平方米" for i in k]))
    found.append(_code_findings(geoms, ids, str(cfg["code_pattern"]), admin, layer, crs))
    if communities is not None and len(communities) and "community" in g:
        found.append(_crossing_findings(g, geoms, ids, communities, sliver, layer, crs))
    found = [f for f in found if f is not None]
    from ..findings import concat_findings

    return concat_findings(found) if found else rule_findings(
        "grid_gap", feature_ids=[], layer=layer, geometry=[], crs=crs)


def run_audit(catalog: Any, layers: dict[str, gpd.GeoDataFrame], *, as_of: Any = None
              ) -> gpd.GeoDataFrame:
    """Weekly adapter: audit the catalog's ``grids`` layer (gaps, overlaps, sizes, codes).

    Registered in ``config/rules/grids.yaml`` (``run:``), so the weekly run calls it whenever the
    catalog has a grids layer and skips it, with the line naming the missing layer, otherwise.
    Without grids nothing is checked (an empty table). The built-up area is the grids' own
    outline (holes are gaps); overlaps, sizes and codes are checked as they are.
    """
    grids = layers.get("grids")
    if grids is None or not len(grids):
        return rule_findings("grid_gap", feature_ids=[], layer="grids", geometry=[],
                             crs=getattr(catalog, "working_crs", "EPSG:4550"))
    return audit_grids(grids)

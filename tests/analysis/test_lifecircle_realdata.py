"""Life-circle audit on real data: the residential areas of central Helsinki (example catalog).

The 25 ``landuse=residential`` areas of the example catalog (``zlgis init`` from the Helsinki
PBF, UTM 35N) stand for compounds; the block-level facilities (居住街坊, GB 50180-2018 Table
B.0.3) come from the same PBF: 22 post boxes (邮件和快件送达设施) and 9 convenience shops
(便利店). Walking distances on the real street network, limit 150 m.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from zlgis.analysis.lifecircle import lifecircle_audit
from zlgis.analysis.network import StreetGraph, read_osm_points
from zlgis.catalog import Catalog
from zlgis.validate import load_layers

LEVELS = {"block": {"title": "居住街坊", "walk_m": 150, "facilities": {
    "便利店": {"clause": "附录B 表B.0.3"}, "快递送达设施": {"clause": "附录B 表B.0.3"}}}}


def test_block_facilities_of_helsinki_residential_areas(helsinki_catalog, realdata):
    cat = Catalog.load(helsinki_catalog)
    L = load_layers(cat, ["residential_land", "roads"])
    crs = cat.working_crs
    pbf = realdata / "helsinki" / "Helsinki.osm.pbf"
    pb = read_osm_points(pbf, crs=crs, amenity="post_box")
    sh = read_osm_points(pbf, crs=crs, shop="convenience")
    assert (len(pb), len(sh)) == (22, 9)
    fac = gpd.GeoDataFrame({"facility_id": pd.concat([pb["osm_id"], sh["osm_id"]]).astype(str).to_numpy(),
                            "category": ["快递送达设施"] * len(pb) + ["便利店"] * len(sh)},
                           geometry=list(pb.geometry) + list(sh.geometry), crs=crs)
    rl = L["residential_land"]
    comps = gpd.GeoDataFrame({"compound_id": rl["area_id"].astype(str).to_numpy()},
                             geometry=rl.geometry.values, crs=crs)
    a = lifecircle_audit(comps, fac, graph=StreetGraph.from_roads(L["roads"]), levels=LEVELS,
                         only_under_construction=False)
    assert len(a) == 25 * 2
    ok = a.groupby("category")["ok"].sum().to_dict()
    # post boxes line the main streets: 9 of the 25 areas have one within a 150 m walk; the 9
    # convenience shops cluster in the centre: only 1 area has one that close
    assert ok == {"快递送达设施": 9, "便利店": 1}
    # explainable: walking is never shorter than the straight line, so an area whose nearest
    # facility is more than 150 m away in a straight line can never pass
    geo = dict(zip(comps["compound_id"], comps.geometry))
    for r in a.itertuples():
        same = np.asarray(fac.loc[fac["category"] == r.category, "geometry"].values)
        straight = shapely.distance(same, shapely.point_on_surface(geo[r.compound_id])).min()
        assert r.distance_m >= straight - 0.5 or r.distance_m == 0.0
        if r.ok:
            assert r.distance_m <= 150

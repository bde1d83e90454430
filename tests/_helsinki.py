"""Central Helsinki from the real OSM extract (../shared/realdata/helsinki), read in place.

Until ``zlgis init`` (OSM PBF -> catalog) lands, the municipal-facility tests read the PBF
directly with GDAL's OSM driver and map OSM tags to the catalog's canonical fields here.
Working CRS: UTM 35N (EPSG:32635), metres.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import geopandas as gpd

UTM_35N = "EPSG:32635"
#: OSM highway -> road class of the catalog (car roads; footways and paths are left out)
ROAD_CLASSES = {"primary": "主干路", "primary_link": "主干路", "secondary": "次干路",
                "tertiary": "支路", "tertiary_link": "支路", "residential": "支路",
                "unclassified": "支路", "living_street": "支路", "service": "巷道"}


@lru_cache(maxsize=2)
def helsinki(realdata: Path) -> dict[str, gpd.GeoDataFrame]:
    """Roads, street lamps (highway=street_lamp) and trees (natural=tree) in canonical fields."""
    pbf = realdata / "helsinki" / "Helsinki.osm.pbf"
    pts = gpd.read_file(pbf, layer="points").to_crs(UTM_35N)
    lines = gpd.read_file(pbf, layer="lines").to_crs(UTM_35N)
    roads = lines[lines["highway"].isin(ROAD_CLASSES)].copy()
    roads["road_id"] = "w" + roads["osm_id"].astype(str)
    roads["road_class"] = roads["highway"].map(ROAD_CLASSES)
    lamps = pts[pts["highway"] == "street_lamp"].copy()
    lamps["lamp_id"] = "n" + lamps["osm_id"].astype(str)
    lamps["status"] = "正常"  # OSM records no lamp state
    lamps["road_id"] = None
    trees = pts[pts["other_tags"].fillna("").str.contains('"natural"=>"tree"', regex=False)].copy()
    trees["tree_id"] = "n" + trees["osm_id"].astype(str)
    trees["grade"] = "行道树"
    return {"roads": roads.reset_index(drop=True), "street_lamps": lamps.reset_index(drop=True),
            "trees": trees.reset_index(drop=True)}

"""Shared pieces of the demo-city generator: the city frame, random streams, ids, truth rows.

Everything the generator makes is synthetic. The frame places the urban area around the real
centre of Zhalantun (about 47.99 N, 122.74 E) in the working CRS (EPSG:4550) and defines the
Yalu River (雅鲁河) as a smooth meander running north-south through it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pyproj import Transformer

__all__ = [
    "CENTRE_LONLAT",
    "SYNTHETIC_NOTE",
    "Frame",
    "make_frame",
    "rng_for",
    "plate_hash",
    "Truth",
    "WEEK_START",
]

#: WGS84 lon/lat of the urban centre of Zhalantun (old town, 河东).
CENTRE_LONLAT = (122.74, 47.99)
#: Text stored in every layer's metadata and in the README of a generated city.
SYNTHETIC_NOTE = "合成示例数据（非真实数据），由 zlgis demo-data 生成；synthetic demo data"
#: Monday of the week of truck GPS pings (the week the truck checks look at).
WEEK_START = np.datetime64("2022-08-29T00:00")  # 2022-W35, the demo weekly run's week

#: Grid spacing of the street lattice (m): columns run north-south, rows west-east.
SPACING_X = 135.0
SPACING_Y = 110.0
#: Road nodes per building (sets the size of the lattice from the number of buildings).
NODES_PER_BUILDING = 0.23
MIN_NODES = 5_750


def rng_for(seed: int, stream: int) -> np.random.Generator:
    """An independent random stream ``stream`` of the city ``seed``."""
    return np.random.default_rng([int(seed), int(stream)])


def plate_hash(plate: str) -> str:
    """Short stable digest of a plate number (used wherever a plate must not be shown).

    >>> plate_hash("蒙E12345") == plate_hash("蒙E12345")
    True
    >>> len(plate_hash("蒙E12345"))
    12
    """
    return hashlib.sha1(str(plate).encode("utf-8")).hexdigest()[:12]


@dataclass
class Frame:
    """Geometry of the city: centre, extent and the river, in EPSG:4550 metres."""

    cx: float
    cy: float
    half_w: float
    half_h: float
    n_buildings: int
    seed: int
    river_u0: float = -700.0

    # ---- the river -------------------------------------------------------------------------
    def river_x(self, y: Any) -> np.ndarray:
        """Absolute x of the river centreline at absolute ``y``."""
        v = np.asarray(y, dtype=float) - self.cy
        return self.cx + self.river_u0 + 260.0 * np.sin(v / 1900.0 + 0.4) + 90.0 * np.sin(v / 650.0)

    def river_half_width(self, y: Any) -> np.ndarray:
        """Half width (m) of the river's blue line at absolute ``y`` (75-100 m)."""
        v = np.asarray(y, dtype=float) - self.cy
        return 87.0 + 12.0 * np.sin(v / 900.0 + 1.0)

    def river_distance(self, x: Any, y: Any) -> np.ndarray:
        """Approximate signed distance (m) from the blue line edge (negative inside)."""
        x = np.asarray(x, dtype=float)
        return np.abs(x - self.river_x(y)) - self.river_half_width(y)

    def district(self, x: Any, y: Any) -> np.ndarray:
        """'河东' east of the river, '河西' west of it."""
        return np.where(np.asarray(x, dtype=float) > self.river_x(y), "河东", "河西")

    def xy(self, u: float, v: float) -> tuple[float, float]:
        """Absolute coordinates of local offsets (m east, m north of the centre)."""
        return self.cx + u, self.cy + v

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        return (self.cx - self.half_w, self.cy - self.half_h, self.cx + self.half_w,
                self.cy + self.half_h)


def make_frame(seed: int, n_buildings: int) -> Frame:
    """The city frame for ``n_buildings``: about 8 x 10 km at the default 25,000 buildings."""
    t = Transformer.from_crs("EPSG:4326", "EPSG:4550", always_xy=True)
    cx, cy = t.transform(*CENTRE_LONLAT)
    nodes = max(MIN_NODES, NODES_PER_BUILDING * n_buildings)
    area = nodes * SPACING_X * SPACING_Y
    h = np.sqrt(area / 0.8)
    return Frame(cx=float(round(cx)), cy=float(round(cy)), half_w=float(0.4 * h),
                 half_h=float(0.5 * h), n_buildings=n_buildings, seed=seed)


@dataclass
class Truth:
    """Collector of planted cases and near-misses (rows of ``truth.csv``)."""

    rows: list[dict[str, Any]] = field(default_factory=list)

    COLUMNS = ("case_id", "check", "rule", "layer", "feature_id", "related_id", "expect",
               "value", "x", "y", "note")

    def add(self, check: str, rule: str, layer: str, feature_id: str, *, related_id: str = "",
            expect: str = "flag", value: float | None = None, x: float | None = None,
            y: float | None = None, note: str = "") -> None:
        n = len(self.rows) + 1
        self.rows.append({
            "case_id": f"T{n:03d}", "check": check, "rule": rule, "layer": layer,
            "feature_id": feature_id, "related_id": related_id, "expect": expect,
            "value": "" if value is None else f"{value:.2f}",
            "x": "" if x is None else f"{x:.2f}", "y": "" if y is None else f"{y:.2f}",
            "note": note})

"""A small two-bank town for coverage tests: street grids on x 0-400 and 600-1000 m (the river
between them) joined by one bridge at y = 800 m, placed at a realistic EPSG:4550 position."""

from __future__ import annotations

from shapely.geometry import LineString

X0, Y0 = 480_000.0, 5_319_000.0


def river_town_streets() -> tuple[list[LineString], list[bool]]:
    """Street centrelines and, for each, whether it is the bridge."""
    lines, bridge = [], []
    for x0, x1 in ((0, 400), (600, 1000)):
        for y in range(0, 801, 100):
            lines.append(LineString([(X0 + x0, Y0 + y), (X0 + x1, Y0 + y)]))
            bridge.append(False)
        for x in range(x0, x1 + 1, 100):
            lines.append(LineString([(X0 + x, Y0), (X0 + x, Y0 + 800)]))
            bridge.append(False)
    lines.append(LineString([(X0 + 400, Y0 + 800), (X0 + 600, Y0 + 800)]))
    bridge.append(True)
    return lines, bridge

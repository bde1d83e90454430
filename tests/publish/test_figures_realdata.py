"""A PNG figure of a real city in its own UTM CRS: the scale bar matches a distance measured on
the ellipsoid, independently of any projection."""

from __future__ import annotations

import math

import _publish_fixtures as _fx  # noqa: E402  (tests/ is on sys.path, see conftest)
import numpy as np
from PIL import Image
from scipy import ndimage

from zlgis.catalog import Catalog
from zlgis.publish.figures import make_figure
from zlgis.publish.styles import layer_style
from zlgis.validate import load_layers


def _rgb(hex_colour: str) -> np.ndarray:
    return np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)], dtype=float)


def test_scale_bar_matches_a_geodesic_distance(helsinki_catalog, tmp_path):
    cat = Catalog.load(helsinki_catalog)
    # two toilets in the northern half, as far apart east-west as possible
    pair, d_geo = _fx.far_pair(load_layers(cat, ["toilets"])["toilets"])
    assert d_geo > 300  # far enough apart to measure to a per cent
    png = make_figure({"toilets": pair}, catalog=cat, path=tmp_path / "f.png", title="",
                      size_in=(8.0, 8.0), dpi=150)
    img = np.asarray(Image.open(png).convert("RGB")).astype(float)
    h, w, _ = img.shape

    # the two markers: pixels of the toilet colour, outside the legend (lower right corner)
    near = np.linalg.norm(img - _rgb(layer_style("toilets")["fillColor"]), axis=2) < 40
    near[int(h * 0.75):, int(w * 0.75):] = False
    lab, n = ndimage.label(near)
    sizes = ndimage.sum(near, lab, range(1, n + 1))
    blobs = np.argsort(sizes)[::-1][:2] + 1
    (r0, c0), (r1, c1) = ndimage.center_of_mass(near, lab, blobs)
    px_per_m = math.hypot(r1 - r0, c1 - c0) / d_geo

    # the scale bar, bottom left: on its middle row, black from its left end (the black half)
    # to its right end (the outline of the white half)
    black = img.max(axis=2) < 60
    # the axes frame (rows and columns black across most of the image) is not the bar
    black[black.mean(axis=1) > 0.5] = False
    black[:, black.mean(axis=0) > 0.5] = False
    region = black[int(h * 0.6):, : int(w * 0.6)]
    runs = region.sum(axis=1)
    row = region[int(np.argmax(runs))]
    cols = np.flatnonzero(row)
    bar_px = cols.max() - cols.min()
    bar_m = bar_px / px_per_m
    # the bar is a round length (1, 2 or 5 x 10^n m): measured through the figure's own scale,
    # it must come out within 3 % of one (a figure drawn in a CRS of the wrong zone is off by
    # far more: EPSG:4550 at 25E stretches distances by about 25 %)
    nice = [m * 10 ** k for k in range(0, 5) for m in (1, 2, 5)]
    best = min(nice, key=lambda v: abs(bar_m / v - 1))
    assert abs(bar_m / best - 1) < 0.03, (bar_m, best)

"""The evaluation choropleths (检查考评): classes and legend are mapclassify's, area by area."""

from __future__ import annotations

import subprocess
import sys

import geopandas as gpd
import mapclassify
import numpy as np
import pandas as pd
import pytest
import shapely
from PIL import Image

from zlgis.publish.evaluation import choropleth_classes, choropleth_png

SCORES = [91.0, 55.5, 72.0, 88.0, 40.0, 63.0, 77.0, 99.0, 58.0, None]


def _areas() -> gpd.GeoDataFrame:
    boxes = [shapely.box(i * 100.0, 0.0, i * 100.0 + 90.0, 90.0) for i in range(len(SCORES))]
    return gpd.GeoDataFrame({"unit": [f"u{i}" for i in range(len(SCORES))], "score": SCORES},
                            geometry=boxes, crs="EPSG:4550")


@pytest.mark.parametrize("scheme", ["Quantiles", "EqualInterval", "FisherJenks"])
def test_classes_and_legend_equal_a_direct_mapclassify_call(scheme: str) -> None:
    vals = pd.Series(SCORES, dtype=float)
    classes, labels = choropleth_classes(vals, k=4, scheme=scheme)
    direct = getattr(mapclassify, scheme)(vals.dropna().to_numpy(), k=4)
    assert classes[:-1].tolist() == direct.yb.tolist() and classes[-1] == -1
    # one legend entry per class, its upper bound and count from mapclassify, then 无案件
    assert len(labels) == len(direct.bins) + 1 and labels[-1] == "无案件"
    for lab, upper, count in zip(labels, direct.bins, direct.counts):
        assert lab.endswith(f" – {upper:.0f}（{count}）"), (lab, upper, count)
    assert labels[0].startswith(f"{min(v for v in SCORES if v is not None):.0f} – ")


def test_mapclassify_is_imported_without_compiling_its_fisher_jenks_kernel() -> None:
    """mapclassify compiles its Fisher-Jenks kernel on import (numba, 3.3 s); through
    :func:`choropleth_classes` it is compiled only when a FisherJenks scheme first calls it,
    and then classifies as the kernel compiled at import does (this module's mapclassify)."""
    code = ("import pandas as pd\n"
            "from zlgis.publish.evaluation import choropleth_classes\n"
            f"v = pd.Series({SCORES!r}, dtype=float)\n"
            "choropleth_classes(v, k=4, scheme='NaturalBreaks')\n"
            "from mapclassify.classifiers import _fisher_jenks_means as kernel\n"
            "print(len(kernel.signatures))\n"
            "print(choropleth_classes(v, k=4, scheme='FisherJenks')[0].tolist())\n"
            "print(len(kernel.signatures))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    eager = mapclassify.FisherJenks(pd.Series(SCORES, dtype=float).dropna().to_numpy(), k=4)
    assert mapclassify.classifiers._fisher_jenks_means.signatures  # compiled at import here
    assert out == ["0", str(eager.yb.tolist() + [-1]), "1"]


def test_rates_are_labelled_as_percentages_and_k_capped_by_distinct_values() -> None:
    classes, labels = choropleth_classes(pd.Series([0.5, 0.5, 1.0]), k=5, scheme="Quantiles",
                                         rate=True)
    assert classes.tolist() == [0, 0, 1]
    assert labels == ["50% – 50%（2）", "50% – 100%（1）"]


def test_png_is_drawn_in_the_class_colours(tmp_path) -> None:
    import matplotlib

    path = choropleth_png(_areas(), "score", tmp_path / "m.png", title="考评得分", k=3,
                          scheme="Quantiles")
    img = np.asarray(Image.open(path).convert("RGB"), dtype=int)
    found = img.reshape(-1, 3)
    colours = matplotlib.colormaps["RdYlGn"](np.linspace(0.1, 0.9, 3))[:, :3] * 255
    for c in [*colours, np.array([0xd9, 0xd9, 0xd9])]:
        near = np.abs(found - c).max(axis=1) <= 2
        assert near.sum() > 200, c     # filled areas, not only a legend swatch

"""Tests of zlgis.publish.figures (static PNG maps)."""

from __future__ import annotations

import geopandas as gpd
import matplotlib.image as mpimg
import numpy as np
import pytest
from matplotlib import font_manager

from zlgis.catalog import Catalog
from zlgis.errors import ConfigError
from zlgis.publish.figures import cjk_font, make_figure, nice_scale_length


def _fx():
    import _publish_fixtures

    return _publish_fixtures


def test_cjk_font_is_installed_and_renders_chinese():
    fam = cjk_font()
    path = font_manager.findfont(font_manager.FontProperties(family=fam), fallback_to_default=False)
    assert "CJK" in path or "wqy" in path.lower()


def test_nice_scale_length_is_round_and_fits():
    for width in (37.0, 950.0, 4_321.0, 12_000.0, 250_000.0):
        n = nice_scale_length(width)
        mant = n / 10 ** np.floor(np.log10(n))
        assert mant in (1.0, 2.0, 5.0)
        assert width / 10 < n <= width / 5


def test_make_figure_writes_png_with_content(tmp_path):
    cat = Catalog.load()
    fx = _fx()
    layers = fx.small_layers(cat)
    out = make_figure({k: layers[k] for k in ("red_lines", "parks", "toilets",
                                              "waterlogging_points")},
                      fx.small_findings(), catalog=cat, path=tmp_path / "fig.png",
                      title="扎兰屯市城市管理图", dpi=100)
    img = mpimg.imread(out)
    assert img.shape[0] > 200 and img.shape[1] > 200
    # the statutory red of the red lines is drawn
    red = np.array([0xe3, 0x1a, 0x1c]) / 255
    assert (np.abs(img[..., :3] - red).sum(axis=2) < 0.3).sum() > 20
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_make_figure_nothing_to_draw(tmp_path):
    with pytest.raises(ConfigError):
        make_figure({"parks": gpd.GeoDataFrame(geometry=[], crs="EPSG:4550")},
                    catalog=Catalog.load(), path=tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()

"""``unless_given``: keyword arguments that default to a config value."""

from __future__ import annotations

from zlgis.config import load_config, unless_given


def test_given_values_win_and_none_takes_the_config_value() -> None:
    cfg = {"sigma_m": 20, "beta_m": 5.0, "gzip": True}
    assert unless_given(cfg, sigma_m=None, beta_m=7.5, gzip=False) == [20, 7.5, False]
    # 0 and False are given values, not "left out"
    assert unless_given(cfg, sigma_m=0, gzip=None) == [0, True]


def test_reads_the_shipped_tiles_section() -> None:
    tiles = load_config("publish")["tiles"]
    assert unless_given(tiles, extent=None, buffer=3) == [tiles["extent"], 3]

"""What a map page says to its user about itself (issue 12 item 6): the size warning is Chinese
and names the page the user gets, never the temporary file it was written through."""

from __future__ import annotations

import logging

import folium


def test_size_warning_is_chinese_and_names_the_final_page(tmp_path, monkeypatch, caplog):
    from zlgis.publish.maps import save_map

    cfg = tmp_path / "cfg"
    cfg.mkdir()
    # a bureau's override of the public budget only (0.0001 MB = 100 bytes: any page exceeds it)
    (cfg / "publish.yaml").write_text("public: {max_mb: 0.0001}\n", encoding="utf-8")
    monkeypatch.setenv("ZLGIS_CONFIG_DIR", str(cfg))
    m = folium.Map(location=[48.0, 122.7], zoom_start=12, tiles=None)
    m.zlgis_profile = "public"
    out = tmp_path / "site" / "map_public.html"
    out.parent.mkdir()
    with caplog.at_level(logging.WARNING):
        save_map(m, out, assets="cdn")
    assert out.is_file()
    size_mb = out.stat().st_size / 1e6
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [f"公众地图 map_public.html 大小为 {size_mb:.1f} MB，超过 0 MB 的上限，"
                        "手机上可能打开缓慢"]
    assert str(tmp_path) not in warnings[0]


def test_no_warning_within_the_budget(tmp_path, caplog):
    from zlgis.publish.maps import save_map

    m = folium.Map(location=[48.0, 122.7], zoom_start=12, tiles=None)
    m.zlgis_profile = "public"
    with caplog.at_level(logging.WARNING):
        save_map(m, tmp_path / "map_public.html", assets="cdn")
    assert not [r for r in caplog.records if "上限" in r.getMessage()]

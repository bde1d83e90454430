"""A3 print maps: page size, a true scale (scale bar and a known distance), legend, source line."""

from __future__ import annotations

import re

import _publish_fixtures as _fx  # noqa: E402  (tests/ is on sys.path, see conftest)
import geopandas as gpd
import matplotlib.image as mpimg
import numpy as np
import pytest
from scipy import ndimage
from shapely.geometry import Point

from zlgis.catalog import Catalog
from zlgis.errors import ConfigError
from zlgis.publish.print_maps import A3_MM, print_department_maps, print_map

DPI = 100


def _toilets():
    x, y = _fx.X0, _fx.Y0
    # two toilets exactly 1000 m apart along grid east: the known distance
    return gpd.GeoDataFrame({"toilet_id": ["T1", "T2"], "name": ["甲", "乙"]},
                            geometry=[Point(x, y), Point(x + 1000, y)], crs=_fx.CRS)


def test_a3_pdf_and_png_at_a_true_scale(tmp_path):
    cat = Catalog.load()
    sheet = print_map({"toilets": _toilets()}, None, catalog=cat, out=tmp_path / "city",
                      title="测试图", date="2022-09-04", dpi=DPI)
    # PDF page: A3 landscape in points (1 pt = 1/72 in)
    pdf = sheet.pdf.read_bytes()
    box = [float(v) for v in re.search(rb"/MediaBox \[([^\]]+)\]", pdf).group(1).split()]
    assert box[2:] == pytest.approx([A3_MM[0] / 25.4 * 72, A3_MM[1] / 25.4 * 72], abs=0.1)
    img = mpimg.imread(sheet.png)[..., :3]
    assert img.shape[:2] == pytest.approx((A3_MM[1] / 25.4 * DPI, A3_MM[0] / 25.4 * DPI), abs=1)
    px_per_m = 1000 / sheet.scale / 25.4 * DPI          # paper mm per metre, in pixels
    # the known distance: centres of the two toilet markers (#0570b0)
    blue = np.abs(img - np.array([0x05, 0x70, 0xb0]) / 255).sum(axis=2) < 0.15
    blue[:, round(312 / 25.4 * DPI):] = False        # the map frame only, not the legend
    lab, k = ndimage.label(blue)
    centres = sorted(ndimage.center_of_mass(blue, lab, range(1, k + 1)), key=lambda c: c[1])
    big = [c for c, s in zip(centres, ndimage.sum(blue, lab, range(1, k + 1))) if s > 10]
    assert len(big) >= 2
    d = abs(big[-1][1] - big[0][1])
    assert d == pytest.approx(1000 * px_per_m, rel=0.02)
    # the scale bar: its black half, from its left end, is bar/2 metres long at the same scale
    assert _black_half_px(img, sheet, px_per_m) == pytest.approx(sheet.bar_m / 2 * px_per_m,
                                                                 abs=3)


def _black_half_px(img, sheet, px_per_m):
    """Length in pixels of the scale bar's black half, on its middle row, from its left end."""
    row = img.shape[0] - round((sheet.bar_mm[1] + 0.6) / 25.4 * DPI)
    col = round(sheet.bar_mm[0] / 25.4 * DPI)
    dark = img[row, col - 2:col + int(sheet.bar_m * px_per_m) + 5].sum(axis=1) < 0.6
    run = np.flatnonzero(dark)
    black = run[run < (sheet.bar_m / 2 * px_per_m) + 8]
    return black.max() - black.min()


def test_department_sheets_and_legend(tmp_path):
    cat = Catalog.load()
    f = _fx.small_findings()
    f["lead_department"] = ["natural_resources", "natural_resources", "housing"]
    sheets = print_department_maps(_fx.small_layers(cat), f, catalog=cat, out_dir=tmp_path,
                                   week="2022-W35", date="2022-09-04")
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(f"print_{s}_2022-W35.{e}" for s in ("city", "natural_resources",
                                                               "housing") for e in ("pdf", "png"))
    assert len(sheets) == 3
    # the source line, 审图号 field and rule labels are in the PDF text (fonts embedded as
    # Type 3/42: look for the scale text, which is ASCII)
    assert all(s.scale in (2000, 5000, 10000, 20000, 25000, 50000, 100000) for s in sheets)


def test_the_sheet_is_drawn_only_to_be_saved(tmp_path, monkeypatch):
    """geopandas ends each layer's ``plot`` with ``canvas.draw_idle()``; on pyplot's canvas
    (Agg) that drew the whole sheet once per layer before the PDF and PNG were drawn."""
    from matplotlib.figure import Figure

    draws = []
    real = Figure.draw
    monkeypatch.setattr(Figure, "draw", lambda self, *a, **k: draws.append(1) or real(self, *a, **k))
    parks = gpd.GeoDataFrame(geometry=[Point(_fx.X0, _fx.Y0).buffer(300)], crs=_fx.CRS)
    print_map({"toilets": _toilets(), "parks": parks}, None, catalog=Catalog.load(),
              out=tmp_path / "city", title="测试图", date="2022-09-04", dpi=DPI)
    assert len(draws) == 2  # the PDF's and the PNG's


def test_nothing_to_draw(tmp_path):
    with pytest.raises(ConfigError):
        print_map({}, None, catalog=Catalog.load(), out=tmp_path / "x", title="", date="")
    assert not list(tmp_path.iterdir())


def test_print_maps_on_real_data_in_utm_with_a_true_scale_bar(helsinki_week, tmp_path):
    """The Helsinki weekly findings printed in the catalog's UTM 35N: every finding inside the
    frame, the sheet at its stated scale measured against a distance on the ellipsoid (two
    toilets), and the scale bar's black half exactly bar/2 at that scale."""
    import pyogrio

    from zlgis.cli import main
    from zlgis.validate import load_layers

    proc, week, cat = helsinki_week
    assert proc.returncode in (0, 1), proc.stderr
    gpkg = week / "findings_2022-W35.gpkg"
    out = tmp_path / "print"
    assert main(["print-maps", "--catalog", str(cat.path), "--findings", str(gpkg), "--week",
                 "2022-W35", "--date", "2022-09-04", "--out", str(out), "--quiet"]) == 0
    findings = pyogrio.read_dataframe(gpkg, layer="findings")
    leads = {c for v in findings["lead_department"] for c in str(v).split(";") if c}
    assert sorted(p.name for p in out.glob("*.pdf")) == sorted(
        f"print_{c}_2022-W35.pdf" for c in leads | {"city"})

    pair, d_geo = _fx.far_pair(load_layers(cat, ["toilets"])["toilets"])
    assert d_geo > 300
    sheet = print_map({"toilets": pair}, findings, catalog=cat, out=tmp_path / "city",
                      title="赫尔辛基", date="2022-09-04", dpi=DPI)
    assert sheet.crs == "EPSG:32635" == str(findings.crs)
    x0, y0, x1, y1 = sheet.extent
    b = findings.total_bounds
    assert x0 <= b[0] and y0 <= b[1] and b[2] <= x1 and b[3] <= y1      # all findings shown
    assert x1 - x0 == pytest.approx(300 / 1000 * sheet.scale)          # 300 mm frame at 1:n
    img = mpimg.imread(sheet.png)[..., :3]
    px_per_m = 1000 / sheet.scale / 25.4 * DPI
    blue = np.abs(img - np.array([0x05, 0x70, 0xb0]) / 255).sum(axis=2) < 0.15
    blue[:, round(312 / 25.4 * DPI):] = False
    lab, k = ndimage.label(blue)
    sizes = ndimage.sum(blue, lab, range(1, k + 1))
    two = np.argsort(sizes)[::-1][:2] + 1
    (r0, c0), (r1, c1) = ndimage.center_of_mass(blue, lab, two)
    # UTM's scale factor (0.9996 on the central meridian, 1.0002 at 25E) and pixel rounding
    assert np.hypot(r1 - r0, c1 - c0) / d_geo == pytest.approx(px_per_m, rel=0.02)
    assert _black_half_px(img, sheet, px_per_m) == pytest.approx(sheet.bar_m / 2 * px_per_m,
                                                                 abs=3)

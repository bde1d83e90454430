"""The demo-city figure (zlgis/demo/plot.py)."""

from __future__ import annotations

from matplotlib.figure import Figure

from zlgis.demo import plot_demo_city


def test_plot_demo_city(demo_catalog, tmp_path):
    roads = __import__("zlgis.validate", fromlist=["load_layers"]).load_layers(
        demo_catalog, ["roads"])["roads"]
    x0, y0, x1, y1 = roads.total_bounds
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    fig = plot_demo_city(demo_catalog, extent=(cx - 2500, cy - 3000, cx + 2500, cy + 3000))
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert "合成示例数据" in ax.get_title()
    labels = {t.get_text() for t in ax.get_legend().get_texts()}
    assert {"雅鲁河（蓝线）", "道路红线", "植入案例：五线管控"} <= labels
    out = tmp_path / "city.png"
    fig.savefig(out, dpi=60)
    assert out.stat().st_size > 20_000

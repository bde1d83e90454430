"""PNG charts of the ledger: valid, reproducible, Chinese font found."""

from __future__ import annotations

import pandas as pd
from PIL import Image

from zlgis.ledger import status_labels
from zlgis.publish.charts import cjk_font, status_department_chart, trend_chart


def _view():
    return pd.DataFrame({"lead_department": ["natural_resources", "natural_resources",
                                             "public_security;urban_enforcement", ""],
                         "status": ["new", "overdue", "open", "rectified"]})


def test_cjk_font_is_installed():
    assert cjk_font() is not None and "CJK" in cjk_font()


def test_status_department_chart(tmp_path):
    a = status_department_chart(_view(), tmp_path / "a.png", labels=status_labels())
    b = status_department_chart(_view(), tmp_path / "b.png", labels=status_labels())
    assert a.read_bytes() == b.read_bytes()
    img = Image.open(a)
    assert img.format == "PNG" and img.size[0] > 500
    assert "Software" not in img.info
    # more departments, taller chart
    more = pd.concat([_view()] * 1 + [pd.DataFrame({"lead_department": [f"d{i}" for i in range(8)],
                                                    "status": "new"})])
    c = status_department_chart(more, tmp_path / "c.png", labels=status_labels())
    assert Image.open(c).size[1] > img.size[1]


def test_empty_and_trend(tmp_path):
    empty = status_department_chart(_view().iloc[:0], tmp_path / "e.png", labels=status_labels())
    assert Image.open(empty).format == "PNG"
    counts = pd.DataFrame({"new": [3, 1, 0], "open": [0, 2, 2], "reopened": [0, 0, 1],
                           "overdue": [0, 1, 1], "rectified": [0, 0, 1]},
                          index=pd.Index(["2022-W35", "2022-W36", "2022-W37"], name="week"))
    a = trend_chart(counts, tmp_path / "t1.png", labels=status_labels())
    b = trend_chart(counts, tmp_path / "t2.png", labels=status_labels())
    assert a.read_bytes() == b.read_bytes()
    counts.loc["2022-W37", "new"] = 9
    c = trend_chart(counts, tmp_path / "t3.png", labels=status_labels())
    assert c.read_bytes() != a.read_bytes()

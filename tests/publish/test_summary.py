"""The one-page weekly summary."""

from __future__ import annotations

from html.parser import HTMLParser

from zlgis.publish.summary import summary_html, write_summary


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def _page(**kw):
    args = dict(week="2022-W36", as_of="2022-09-11",
                metrics={"new": 2, "rectified": 3, "reopened": 1, "overdue": 4, "active": 9},
                previous={"new": 5, "rectified": 3, "reopened": 0, "overdue": 1, "active": 10},
                departments=[("自然资源局", {"overdue": 4, "open": 5}, 9)],
                overdue=[{"finding_id": "f1", "title": "<img src=x onerror=alert(1)>",
                          "lead": "自然资源局", "grid_id": "150783001001001",
                          "deadline": "2022-09-01"}],
                charts=[("chart_trend.png", "各周问题数变化")],
                links=[("ledger_2022-W36.xlsx", "Excel 台账")],
                by_type=[("建筑压占道路红线（red_line_encroachment）", {"open": 2}, 2)])
    args.update(kw)
    return summary_html(**args)


def test_numbers_against_last_week():
    html = _page()
    p = _Tags()
    p.feed(html)
    text = "".join(p.text)
    assert "本周新发现" in text and "比上周减少 3" in text      # new 2 vs 5
    assert "比上周增加 3" in text                               # overdue 4 vs 1
    assert "与上周持平" in text                                 # rectified 3 vs 3
    assert "逾期未整改问题（1 个）" in text
    assert "各类问题" in text and "建筑压占道路红线（red_line_encroachment）" in text


def test_data_is_escaped_and_no_script():
    html = _page()
    p = _Tags()
    p.feed(html)
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "script" not in p.tags
    assert p.tags.count("img") == 1  # only the chart


def test_first_week_and_long_overdue_list(tmp_path):
    rows = [{"finding_id": f"f{i}", "title": "t"} for i in range(40)]
    html = _page(previous=None, overdue=rows)
    assert "无上周数据" in html and "其余 10 个见 Excel 台账" in html
    path = write_summary(tmp_path / "s.html", week="2022-W35", as_of="2022-09-04",
                         metrics={}, previous=None, departments=[], overdue=[])
    assert "本周没有逾期问题" in path.read_text(encoding="utf-8")

"""The evaluation's share of the findings ledger closed by the campaign end (2022-10-31), from a
ledger built by the demo city's weekly runs over several weeks (issue 16)."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from zlgis.analysis.cases import prepare_cases, screen_cases
from zlgis.analysis.evaluation import evaluate
from zlgis.config import department_name
from zlgis.ledger import Ledger
from zlgis.ledger.evaluation import ledger_at, ledger_week_at
from zlgis.weekly import run_weekly

# the weekly runs around the campaign end: W42 ends 2022-10-23, W43 2022-10-30, W44 2022-11-06.
# The demo data do not change between weeks, so the staff's Excel edits move the ledger: after
# the W43 run staff report a third of the findings rectified; W44 finds them again (reopened).
WEEKS = ["2022-W42", "2022-W43", "2022-W44"]
CHECKS = ["cases", "controllines"]
LAYERS = ("boundary", "grids", "hotline_cases", "buildings", "red_lines")


@pytest.fixture(scope="module")
def runs(demo_city, tmp_path_factory):
    """The demo city's weekly runs (cases and control lines) on a catalog of the layers they
    read (the weekly run loads every catalog layer), with the staff's edits after W43."""
    import yaml

    base = tmp_path_factory.mktemp("eval-ledger")
    raw = yaml.safe_load((demo_city / "catalog.yaml").read_text(encoding="utf-8"))
    raw["layers"] = {k: v for k, v in raw["layers"].items() if k in LAYERS}
    raw["data_dir"] = str(demo_city)
    cat = base / "catalog.yaml"
    cat.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    out = base / "out"
    for week in WEEKS:
        run_weekly(cat, out, week=week, checks=CHECKS)
        if week == "2022-W43":
            led = Ledger(out / "ledger.sqlite")
            ids = led.view(week)["finding_id"].iloc[::3].tolist()
            led.apply_edits(pd.DataFrame({"finding_id": ids, "status": "rectified", "note": "已整改",
                                          "photo": ""}), export_week=week)
    return out, Ledger(out / "ledger.sqlite")


@pytest.fixture(scope="module")
def inputs(demo_catalog):
    from zlgis.validate import load_layers

    layers = load_layers(demo_catalog, ["hotline_cases", "grids", "boundary"])
    cases, _ = screen_cases(layers["hotline_cases"], area=layers["boundary"].union_all())
    return prepare_cases(cases, as_of=dt.date(2022, 10, 31), grids=layers["grids"]), layers


def expected_shares(view: pd.DataFrame, grids: pd.DataFrame, by: str) -> pd.Series:
    """Share rectified per unit, computed the plain way: a join on grid_id, a group-by."""
    if by == "department":
        d = view.assign(unit=view["lead_department"].str.split(";")).explode("unit")
        d["unit"] = d["unit"].map(department_name)
    else:
        d = view.merge(grids[["grid_id", "subdistrict", "community"]], on="grid_id", how="left")
        d["unit"] = d[by].fillna("未定位")
        if by == "community":
            d["unit"] = d["subdistrict"].fillna("未定位") + "·" + d["unit"]
    return d.groupby("unit")["status"].apply(lambda s: (s == "rectified").mean())


def test_the_ledger_moves_between_weeks(runs):
    _, led = runs
    assert led.weeks() == WEEKS
    states = {w: led.view(w)["status"].value_counts().to_dict() for w in WEEKS}
    # rectified by staff in W43, found again in W44 (reopened, or overdue after 2022-10-31):
    # the judged week matters
    assert states["2022-W43"].get("rectified", 0) > 0
    assert states["2022-W44"].get("rectified", 0) < states["2022-W43"]["rectified"]
    assert states["2022-W44"].get("reopened", 0) > 0
    # the last run on or before 2022-10-31 is W43 (as of 2022-10-30)
    assert ledger_week_at(led, "2022-10-31") == "2022-W43"
    assert ledger_week_at(led, dt.date(2022, 10, 23)) == "2022-W42"
    assert ledger_week_at(led, "2022-10-01") is None


@pytest.mark.parametrize("by", ["subdistrict", "community", "department"])
def test_closed_by_end_is_the_ledger_share(runs, inputs, by):
    _, led = runs
    prepared, layers = inputs
    grids = layers["grids"]
    view = led.view("2022-W43")
    want = expected_shares(view, grids, by)
    # judged at the campaign end, even when the evaluation is made later (W44 exists)
    got = evaluate(prepared, by=by, as_of="2022-11-06", ledger=ledger_at(led, "2022-10-31"),
                   grids=grids)
    have = got[got["ledger_findings"] > 0]
    assert set(have.index) == set(want.index)
    assert have["closed_by_end"].to_dict() == pytest.approx(want.to_dict())
    assert have["ledger_findings"].sum() >= len(view)  # departments: one row per lead
    # the shares are the ledger's: another week's ledger gives other shares
    later = expected_shares(led.view("2022-W44"), grids, by)
    assert later.to_dict() != pytest.approx(want.to_dict())
    assert 0 < have["closed_by_end"].max() <= 1


def test_cases_cli_reads_the_ledger(runs, inputs, demo_city, tmp_path, capsys):
    from zlgis.cli import main

    out_dir, led = runs
    out = tmp_path / "cases"
    rc = main(["--quiet", "cases", "--catalog", str(demo_city / "catalog.yaml"), "--out",
               str(out), "--as-of", "2022-10-31", "--ledger", str(out_dir / "ledger.sqlite"),
               "--json"])
    res = json.loads(capsys.readouterr().out)
    assert rc == 1
    assert any("问题台账 2022-W43 周" in n for n in res["notes"])
    sheet = pd.read_excel(out / "evaluation.xlsx", sheet_name="街道", index_col=0)
    col = "攻坚期末（10月31日）台账整改比例"
    want = expected_shares(led.view("2022-W43"), inputs[1]["grids"], "subdistrict")
    got = sheet.loc[sheet["台账问题数"] > 0, col]
    assert got.to_dict() == pytest.approx(want.to_dict())
    html = (out / "evaluation.html").read_text(encoding="utf-8")
    assert "期末台账整改" in html and "问题台账 2022-W43 周" in html
    # without a ledger the report says so and the share is empty
    out2 = tmp_path / "cases2"
    main(["--quiet", "cases", "--catalog", str(demo_city / "catalog.yaml"), "--out",
          str(out2), "--as-of", "2022-10-31", "--json"])
    res2 = json.loads(capsys.readouterr().out)
    assert any("未指定问题台账" in n for n in res2["notes"])
    assert pd.read_excel(out2 / "evaluation.xlsx", sheet_name="街道", index_col=0)[col].isna().all()

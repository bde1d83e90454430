"""The ledger store: statuses, deadlines, reruns, transactions (synthetic findings)."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

from zlgis.errors import InputError, LedgerError
from zlgis.findings import concat_findings, make_findings
from zlgis.ledger import Ledger, deadline_for, parse_week, status_code, week_end, week_of


def _found(ids: list[str], *, rule: str = "red_line_encroachment",
           observed: str = "") -> gpd.GeoDataFrame:
    return make_findings(rule=rule, feature_ids=[[i, "R1"] for i in ids], layer="buildings",
                         geometry=[Point(480000 + k, 5316000) for k, _ in enumerate(ids)],
                         observed_at=observed)


def _status(led: Ledger, week: str | None = None) -> dict[str, str]:
    v = led.view(week)
    return dict(zip(v["feature_id"], v["status"]))


@pytest.fixture
def led(tmp_path):
    return Ledger(tmp_path / "ledger.sqlite")


def test_weeks_and_labels():
    assert week_of(dt.date(2022, 9, 4)) == "2022-W35"
    assert week_of(dt.date(2022, 9, 5)) == "2022-W36"
    assert week_end("2022-W35") == dt.date(2022, 9, 4)
    assert week_end("2020-W53") == dt.date(2021, 1, 3)
    assert parse_week("2022w35") == "2022-W35"
    with pytest.raises(InputError, match="周次"):
        parse_week("2022-35")
    with pytest.raises(InputError, match="第 53 周"):
        parse_week("2022-W53")
    assert status_code("已整改") == "rectified"
    assert status_code("整改中") == "open"
    assert status_code("fixed") is None


def test_deadlines_come_from_the_rule_registry(tmp_path, monkeypatch):
    # task 1.3.3: demolition by the end of October 2022 (rules/controllines.yaml)
    assert deadline_for({"rule": "red_line_encroachment"}, dt.date(2022, 9, 4)) == "2022-10-31"
    # trucks: one weekly patrol cycle (7 days)
    assert deadline_for({"rule": "restricted_road"}, dt.date(2022, 9, 4)) == "2022-09-11"
    # no deadline in the registry, or an unregistered rule: ledger.yaml's default (30 days)
    assert deadline_for({"rule": "depression"}, dt.date(2022, 9, 4)) == "2022-10-04"
    assert deadline_for({"rule": "no_such_rule"}, dt.date(2022, 9, 4)) == "2022-10-04"
    # a bureau gives a rule an hour deadline in its override of the registry file
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "waterlogging.yaml").write_text(
        "rules:\n  recorded_point_unexplained:\n    deadline: {hours: 24}\n", encoding="utf-8")
    monkeypatch.setenv("ZLGIS_CONFIG_DIR", str(tmp_path))
    row = {"rule": "recorded_point_unexplained", "observed_at": "2022-09-03T10:00"}
    assert deadline_for(row, dt.date(2022, 9, 4)) == "2022-09-04T10:00"
    # without an observed time: 24 hours after the end of the week
    assert deadline_for({"rule": "recorded_point_unexplained"}, dt.date(2022, 9, 4)) \
        == "2022-09-05T23:59"


def test_status_transitions(led):
    weeks = ["2022-W42", "2022-W43", "2022-W44", "2022-W45", "2022-W46"]
    present = [["A", "B", "C"], ["A", "B"], ["A", "B", "C"], ["A"], ["A"]]
    for w, ids in zip(weeks, present):
        led.merge(_found(ids), week=w, checks_run=["controllines"])
    hist = {w: _status(led, w) for w in weeks}
    assert hist["2022-W42"] == {"A": "new", "B": "new", "C": "new"}
    assert hist["2022-W43"] == {"A": "open", "B": "open", "C": "rectified"}
    # W44 ends 2022-11-06: past the 2022-10-31 deadline of task 1.3.3
    assert hist["2022-W44"] == {"A": "overdue", "B": "overdue", "C": "overdue"}
    assert hist["2022-W45"] == {"A": "overdue", "B": "rectified", "C": "rectified"}
    assert hist["2022-W46"] == {"A": "overdue", "B": "rectified", "C": "rectified"}
    v = led.view().set_index("feature_id")
    assert v.loc["A", "first_seen"] == "2022-W42" and v.loc["A", "last_seen"] == "2022-W46"
    assert v.loc["B", "last_seen"] == "2022-W44"
    assert led.event_counts("2022-W43") == {"rectified": 1}
    assert led.event_counts("2022-W44") == {"overdue": 2, "reopened": 1}
    counts = led.status_counts()
    assert counts.loc["2022-W45"].to_dict() == {"new": 0, "open": 0, "reopened": 0,
                                                 "overdue": 1, "rectified": 2}


def test_reopened_before_deadline_and_reopen_count(led):
    seq = [["A"], [], ["A"], ["A"], [], ["A"]]
    for k, ids in enumerate(seq):
        led.merge(_found(ids), week=f"2022-W{35 + k}", checks_run=["controllines"])
    statuses = [_status(led, f"2022-W{35 + k}")["A"] for k in range(len(seq))]
    assert statuses == ["new", "rectified", "reopened", "open", "rectified", "reopened"]
    assert int(led.view().loc[0, "reopen_count"]) == 2


def test_hours_deadline_overdue_within_the_week(led, tmp_path, monkeypatch):
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "waterlogging.yaml").write_text(
        "rules:\n  recorded_point_unexplained:\n    deadline: {hours: 24}\n", encoding="utf-8")
    monkeypatch.setenv("ZLGIS_CONFIG_DIR", str(tmp_path))
    f = _found(["L1"], rule="recorded_point_unexplained", observed="2022-09-01T08:00")
    r = led.merge(f, week="2022-W35", checks_run=["waterlogging"])
    v = led.view()
    assert v.loc[0, "deadline"] == "2022-09-02T08:00"
    assert v.loc[0, "status"] == "overdue"
    assert r.events == {"new": 1}


def test_rerun_same_week_is_idempotent(led):
    led.merge(_found(["A", "B"]), week="2022-W35", checks_run=["controllines"])
    led.merge(_found(["A", "C"]), week="2022-W36", checks_run=["controllines"])
    fp = led.fingerprint()
    again = led.merge(_found(["A", "C"]), week="2022-W36", checks_run=["controllines"])
    assert led.fingerprint() == fp
    assert again.previous_week == "2022-W35"
    assert again.events == {"new": 1, "rectified": 1}
    # a rerun with other data replaces the week (recomputed from the week before)
    led.merge(_found(["A", "B"]), week="2022-W36", checks_run=["controllines"])
    assert _status(led) == {"A": "open", "B": "open"}
    assert led.weeks() == ["2022-W35", "2022-W36"]


def test_older_week_refused(led):
    led.merge(_found(["A"]), week="2022-W36", checks_run=["controllines"])
    fp = led.fingerprint()
    with pytest.raises(LedgerError, match="早于"):
        led.merge(_found(["A"]), week="2022-W35", checks_run=["controllines"])
    assert led.fingerprint() == fp


def test_check_not_run_keeps_status(led):
    both = concat_findings([_found(["A"]), _found(["T"], rule="no_parking_zone")])
    led.merge(both, week="2022-W35", checks_run=["controllines", "trucks"])
    led.merge(_found(["A"]), week="2022-W36", checks_run=["controllines"])
    st = _status(led)
    assert st == {"A": "open", "T": "open"}  # trucks did not run: T is not "rectified"
    assert not led.view().set_index("feature_id").loc["T", "present"]


def test_skipped_rule_keeps_status_while_its_check_runs(led):
    """A check runs but one of its rules cannot (its layer is missing this week): that rule's
    findings are carried over, not marked rectified; the other rule's absent finding is."""
    both = concat_findings([_found(["A", "B"]), _found(["G"], rule="green_line")])
    led.merge(both, week="2022-W35", checks_run=["controllines"])
    led.merge(_found(["A"]), week="2022-W36", checks_run=["controllines"],
              rules_skipped=["green_line"])
    assert _status(led) == {"A": "open", "B": "rectified", "G": "open"}
    # the week after, the layer is back and G is gone: now it is rectified
    led.merge(_found(["A"]), week="2022-W37", checks_run=["controllines"])
    assert _status(led)["G"] == "rectified"


def test_failed_transaction_leaves_ledger_unchanged(led):
    led.merge(_found(["A", "B"]), week="2022-W35", checks_run=["controllines"])
    fp = led.fingerprint()

    def boom(stage: str) -> None:
        if stage == "commit":
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        led.merge(_found(["C"]), week="2022-W36", checks_run=["controllines"], hook=boom)
    assert led.fingerprint() == fp
    assert led.weeks() == ["2022-W35"]


def test_staff_claim_verified_next_week(led):
    led.merge(_found(["A", "B"]), week="2022-W35", checks_run=["controllines"])
    ids = led.view().set_index("feature_id")["finding_id"]
    edits = pd.DataFrame({"finding_id": [ids["A"], ids["B"]], "status": ["rectified"] * 2,
                          "note": ["已拆除", ""], "photo": ["IMG_001", ""]})
    assert led.apply_edits(edits, export_week="2022-W35") == 2
    assert _status(led) == {"A": "rectified", "B": "rectified"}
    assert led.event_counts("2022-W35") == {"staff_rectified": 2}
    # next week A is really gone, B is still there: B reopens
    led.merge(_found(["B"]), week="2022-W36", checks_run=["controllines"])
    assert _status(led) == {"A": "rectified", "B": "reopened"}
    v = led.view().set_index("feature_id")
    assert v.loc["A", "note"] == "已拆除" and v.loc["A", "photo"] == "IMG_001"


def test_staff_claim_survives_rerun_of_the_week(led):
    led.merge(_found(["A"]), week="2022-W35", checks_run=["controllines"])
    fid = led.view().loc[0, "finding_id"]
    led.apply_edits(pd.DataFrame({"finding_id": [fid], "status": ["rectified"], "note": [""],
                                  "photo": [""]}), export_week="2022-W35")
    led.merge(_found(["A"]), week="2022-W35", checks_run=["controllines"])
    assert _status(led) == {"A": "rectified"}
    # withdrawing the claim restores the computed status
    led.apply_edits(pd.DataFrame({"finding_id": [fid], "status": ["open"], "note": [""],
                                  "photo": [""]}), export_week="2022-W35")
    assert _status(led) == {"A": "new"}


def test_apply_edits_refuses_unknown_and_forbidden(led):
    led.merge(_found(["A"]), week="2022-W35", checks_run=["controllines"])
    fid = led.view().loc[0, "finding_id"]
    fp = led.fingerprint()
    with pytest.raises(LedgerError, match="不在"):
        led.apply_edits(pd.DataFrame({"finding_id": ["nope"], "status": ["rectified"],
                                      "note": [""], "photo": [""]}), export_week="2022-W35")
    with pytest.raises(LedgerError, match="不能人工改为“已逾期”"):
        led.apply_edits(pd.DataFrame({"finding_id": [fid], "status": ["overdue"],
                                      "note": [""], "photo": [""]}), export_week="2022-W35")
    assert led.fingerprint() == fp


def test_not_a_ledger(tmp_path):
    bad = tmp_path / "x.sqlite"
    bad.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(LedgerError, match="台账文件"):
        Ledger(bad)
    with pytest.raises(LedgerError, match="不存在"):
        Ledger(tmp_path / "missing.sqlite", create=False)

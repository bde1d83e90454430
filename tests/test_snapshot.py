"""The snapshot helper of the demo weekly run (tests/_snapshot.py): a difference is readable and
regenerating always fails, so a new snapshot is reviewed before it is committed."""

from __future__ import annotations

import pandas as pd
import pytest
from _snapshot import UPDATE_ENV, check_snapshot, read_snapshot, snapshot_diff


def _view() -> pd.DataFrame:
    return pd.DataFrame({
        "finding_id": ["c-b-2", "c-a-1"], "check": ["c", "c"], "rule": ["b", "a"],
        "layer": ["roads", "buildings"], "feature_id": ["R2", "B1"], "related_ids": ["", "L1"],
        "severity": ["low", "high"], "lead_department": ["d1", "d2;d3"],
        "deadline": ["2022-10-04", "2022-10-31"], "measure": [float("nan"), -0.001]})


def test_update_writes_and_fails_then_the_same_run_passes(tmp_path, monkeypatch):
    path = tmp_path / "snap.csv"
    monkeypatch.setenv(UPDATE_ENV, "1")
    with pytest.raises(AssertionError, match="review the difference"):
        check_snapshot(_view(), path)
    rows = read_snapshot(path)
    assert rows["finding_id"].tolist() == ["c-a-1", "c-b-2"]  # sorted by id
    assert rows["measure"].tolist() == ["0.00", ""]  # rounded to 0.01, no "-0.00", NaN empty
    monkeypatch.delenv(UPDATE_ENV)
    check_snapshot(_view(), path)


def test_a_difference_names_ids_per_rule_and_changed_values(tmp_path):
    path = tmp_path / "snap.csv"
    path.write_text("finding_id,check,rule,layer,feature_id,related_ids,severity,"
                    "lead_department,deadline,measure\n"
                    "c-a-1,c,a,buildings,B1,L1,medium,d2;d3,2022-10-31,0.00\n"
                    "c-a-9,c,a,buildings,B9,,high,d2,2022-10-31,1.50\n", encoding="utf-8")
    with pytest.raises(AssertionError) as err:
        check_snapshot(_view(), path)
    assert "added b: 1 (c-b-2)" in str(err.value)
    assert "removed a: 1 (c-a-9)" in str(err.value)
    assert "changed c-a-1 severity: 'medium' -> 'high'" in str(err.value)
    assert snapshot_diff(read_snapshot(path), read_snapshot(path)) == ""

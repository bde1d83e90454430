"""``zlgis check compounds|heating|water|gas`` (zlgis/cli/compounds_cmd.py)."""

from __future__ import annotations

import shutil

import geopandas as gpd
import pandas as pd
import pytest

from zlgis.cli import main


@pytest.mark.parametrize("verb,table", [("compounds", "compound_ledger.csv"),
                                        ("heating", "heat_station_loads.csv"),
                                        ("water", None), ("gas", None)])
def test_verbs_write_findings_and_tables(verb, table, demo_catalog, tmp_path, capsys):
    code = main(["--quiet", "check", verb, "--catalog", str(demo_catalog.path),
                 "--out", str(tmp_path), "--as-of", "2022-09-04"])
    out = capsys.readouterr().out
    assert code == 1 and "个问题" in out
    f = pd.read_csv(tmp_path / f"{verb}_findings.csv", encoding="utf-8-sig")
    assert len(f) > 0
    if table:
        t = pd.read_csv(tmp_path / table, encoding="utf-8-sig")
        assert len(t) > 0 and any("\u4e00" <= c[0] <= "\u9fff" for c in t.columns)
    if verb == "compounds":
        for key in ("property_service", "fee_disclosure"):
            png = (tmp_path / f"subdistrict_{key}.png").read_bytes()
            assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
        shares = gpd.read_file(tmp_path / "subdistrict_shares.gpkg")
        # the demo city's six subdistricts, each with its share between 0 and 1
        assert len(shares) == 6 and shares["property_service_share"].between(0, 1).all()


def test_station_without_capacity_is_one_message(demo_city, tmp_path, capsys):
    """A heat station with no capacity: exit 1, one Chinese line naming layer, row and field."""
    city = tmp_path / "city"
    shutil.copytree(demo_city, city)
    p = city / "heat_stations.gpkg"
    st = gpd.read_file(p)
    st.loc[4, "设计供热面积"] = None
    st.to_file(p, layer="heat_stations", driver="GPKG")
    code = main(["check", "heating", "--catalog", str(city / "catalog.yaml"),
                 "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 1
    assert "heat_stations" in err and "第 5 行" in err and "capacity_m2" in err
    assert "Traceback" not in err
    assert not (tmp_path / "out" / "heating_findings.csv").exists()

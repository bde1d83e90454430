"""Fuzzing the two files staff edit by hand: the layer catalog and the Excel ledger.

Whatever a bureau writes into them, zlgis answers with its own error (a Chinese message and an
exit code) or accepts it; never a traceback.
"""

from __future__ import annotations

import copy
from pathlib import Path

import openpyxl
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.utils.exceptions import IllegalCharacterError
from shapely.geometry import Point

from zlgis.catalog import DEFAULT_CATALOG, Catalog
from zlgis.errors import ZlgisError
from zlgis.findings import make_findings
from zlgis.ledger import Ledger
from zlgis.ledger.excel import export_excel, import_excel

RAW = yaml.safe_load(DEFAULT_CATALOG.read_text(encoding="utf-8"))
LAYER_KEYS = ["title", "kind", "source", "geometry", "crs", "id_field", "fields", "public",
              "dxf_layers"]
FIELD_KEYS = ["type", "required", "allowed", "aliases", "min", "max", "pattern"]
TOP_KEYS = ["layers", "data_dir", "working_crs", "boundary_layer", "name", "version"]

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
                    st.text(max_size=12))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=6)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(where=st.sampled_from(["top", "layer", "field"]), key_i=st.integers(0, 50),
       layer_i=st.integers(0, 100), value=values)
def test_catalog_fuzz_never_a_traceback(tmp_path_factory, where, key_i, layer_i, value) -> None:
    raw = copy.deepcopy(RAW)
    lids = sorted(raw["layers"])
    lid = lids[layer_i % len(lids)]
    if where == "top":
        raw[TOP_KEYS[key_i % len(TOP_KEYS)]] = value
    elif where == "layer":
        raw["layers"][lid][LAYER_KEYS[key_i % len(LAYER_KEYS)]] = value
    else:
        fields = raw["layers"][lid].get("fields") or {"x": {}}
        name = sorted(fields)[key_i % len(fields)]
        fields[name] = dict(fields[name] or {})
        fields[name][FIELD_KEYS[key_i % len(FIELD_KEYS)]] = value
        raw["layers"][lid]["fields"] = fields
    path = Path(tmp_path_factory.mktemp("cat")) / "catalog.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    try:
        cat = Catalog.load(path)
        for spec in cat.layers.values():
            _ = (spec.title, spec.fields, spec.public, spec.path)
    except ZlgisError as exc:
        assert str(exc)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ledger")
    f = make_findings(rule="red_line_encroachment", feature_ids=[["B1", "R1"], ["B2", "R1"]],
                      layer="buildings", geometry=[Point(480000, 5316000), Point(480050, 5316000)])
    led = Ledger(folder / "ledger.sqlite")
    led.merge(f, week="2022-W35", checks_run=["controllines"])
    return led, export_excel(led, folder / "l.xlsx")


cell = st.one_of(st.none(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
                 st.booleans(), st.text(max_size=40),
                 st.sampled_from(["已整改", "未整改", "复发", "=1+1", "'", "'=x", "\t@y", ""]))


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(status=cell, note=cell, photo=cell, fid=st.one_of(st.none(), cell))
def test_excel_cells_fuzz_never_a_traceback(exported, tmp_path_factory, status, note, photo,
                                            fid) -> None:
    led, src = exported
    wb = openpyxl.load_workbook(src)
    ws = wb["自然资源局"]
    header = [c.value for c in ws[1]]
    row = 2
    for col, val in (("状态", status), ("整改说明", note), ("照片编号", photo)):
        try:
            ws.cell(row, header.index(col) + 1).value = val
        except (ValueError, TypeError, IllegalCharacterError):  # openpyxl refuses some values
            return
    if fid is not None:
        try:
            ws.cell(row, header.index("问题编号") + 1).value = fid
        except (ValueError, TypeError, IllegalCharacterError):
            return
    path = Path(tmp_path_factory.mktemp("x")) / "edited.xlsx"
    try:
        wb.save(path)
    except Exception:  # noqa: BLE001 - values openpyxl cannot save are not an input we get
        return
    before = led.fingerprint()
    try:
        import_excel(path, led)
    except ZlgisError as exc:
        assert str(exc) and led.fingerprint() == before

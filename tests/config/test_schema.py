"""zlgis/config/schema.py: every configuration file is checked at every depth when loaded."""

from __future__ import annotations

import pytest

from zlgis.cli import main
from zlgis.config import CONFIG_DIR, load_config, read_yaml
from zlgis.config.schema import OPEN, check_config
from zlgis.errors import ConfigError


def _override(tmp_path, monkeypatch, name: str, text: str):
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("ZLGIS_CONFIG_DIR", str(tmp_path))
    return path


@pytest.mark.parametrize("name", sorted(p.stem for p in CONFIG_DIR.glob("*.yaml")))
def test_every_shipped_file_loads_and_names_its_tables(name):
    cfg = load_config(name)
    check_config(name, cfg, read_yaml(CONFIG_DIR / f"{name}.yaml"))
    # every table named in OPEN exists in the shipped file (a renamed key is noticed)
    for pattern in OPEN.get(name, ()):
        nodes = [cfg]
        for part in pattern.split("."):
            nodes = [v for n in nodes for k, v in n.items() if part in ("*", k)]
        assert nodes and all(isinstance(n, dict) for n in nodes), pattern


def test_misspelt_nested_key_is_refused(tmp_path, monkeypatch):
    # a nested typo used to fall back silently to the shipped 300 m
    path = _override(tmp_path, monkeypatch, "coverage", "toilets:\n  radius: 500\n")
    with pytest.raises(ConfigError) as err:
        load_config("coverage")
    assert str(err.value).startswith(f"文件 {path}，字段 toilets.radius：未知的配置项 "
                                     "toilets.radius（可用：radius_m、")


def test_wrong_type_in_a_list_is_refused(tmp_path, monkeypatch):
    path = _override(tmp_path, monkeypatch, "controllines",
                     "setbacks:\n  height_classes:\n"
                     "    - {id: low, title: 低层, max_height_m: 十米}\n")
    with pytest.raises(ConfigError) as err:
        load_config("controllines")
    assert str(err.value) == (f"文件 {path}，字段 setbacks.height_classes[0].max_height_m："
                              "配置项 setbacks.height_classes[0].max_height_m 应为数值"
                              "（默认值 10），实际为文字 '十米'")


def test_tables_accept_new_entries_of_the_same_shape(tmp_path, monkeypatch):
    _override(tmp_path, monkeypatch, "controllines",
              "setbacks:\n  table_m:\n    景观路: {low: 6, multi: 8, high: 8}\n")
    assert load_config("controllines")["setbacks"]["table_m"]["景观路"]["low"] == 6
    (tmp_path / "b").mkdir()
    _override(tmp_path / "b", monkeypatch, "controllines",
              "setbacks:\n  table_m:\n    景观路: {low: 六米}\n")
    with pytest.raises(ConfigError, match="setbacks.table_m.景观路.low 应为数值"):
        load_config("controllines")


def test_cli_exits_2_with_one_chinese_line(tmp_path, monkeypatch, capsys, demo_catalog):
    _override(tmp_path, monkeypatch, "trucks", "stops:\n  radius_m:\n    valu: 60\n")
    monkeypatch.setenv("ZLGIS_PLATE_SALT", "schema-test-Salt#2022")
    code = main(["--quiet", "check", "trucks", "--catalog", str(demo_catalog.path),
                 "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert "字段 stops.radius_m.valu：未知的配置项 stops.radius_m.valu" in err[0]


def _numeric_defaults_in_code() -> list[str]:
    """Numbers written in code as the fallback of a configuration value: ``cfg_value(cfg, s, k,
    25)`` or ``x.get("snap_m", 25)`` where ``snap_m`` is a key of a shipped configuration file."""
    import ast

    from zlgis.config import CONFIG_DIR as cfg_dir

    keys: set[str] = set()

    def walk(node) -> None:
        if isinstance(node, dict):
            keys.update(str(k) for k in node)
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    for path in cfg_dir.glob("*.yaml"):
        walk(read_yaml(path))
    bad = []
    for path in sorted(cfg_dir.parent.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_bytes())):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            where = f"{path.relative_to(cfg_dir.parents[1])}:{node.lineno}"
            if name == "cfg_value" and len(node.args) + len(node.keywords) > 3:
                bad.append(f"{where} cfg_value with a default")
            elif name == "get" and len(node.args) == 2:
                key, default = node.args
                if (isinstance(key, ast.Constant) and key.value in keys
                        and isinstance(default, ast.Constant)
                        and isinstance(default.value, (int, float))
                        and not isinstance(default.value, bool) and default.value != 0):
                    bad.append(f"{where} .get({key.value!r}, {default.value})")
    return bad


def test_numbers_live_only_in_the_configuration():
    """Issue 13 item 4: no default repeated in code (the code's 35 m matcher radius and start
    zoom 17 had drifted from the shipped 50 m and 16)."""
    assert _numeric_defaults_in_code() == []


def test_a_missing_sanitation_key_is_a_config_error():
    from zlgis.analysis.sweeping import cfg_value

    assert cfg_value({"bins": {"snap_m": {"value": 25, "source": "x"}}}, "bins", "snap_m") == 25
    with pytest.raises(ConfigError, match="缺少 bins.min_street_m"):
        cfg_value({"bins": {}}, "bins", "min_street_m")


def test_library_defaults_come_from_the_configuration(tmp_path, monkeypatch):
    """Keyword defaults of hot_spots / emerging_hot_spots (FDR) and hotline_counts (cell size)
    are read from cases.yaml / publish.yaml, so a bureau's override changes them."""
    import geopandas as gpd
    import numpy as np
    import shapely
    from scipy import sparse

    from zlgis.analysis.hotspots import hot_spots
    from zlgis.publish.maps import hotline_counts

    cases = gpd.GeoDataFrame(geometry=[shapely.Point(10, 10), shapely.Point(900, 10)],
                             crs="EPSG:4550")
    rng = np.random.default_rng(0)
    cells = rng.integers(0, 30, 400)
    cells[:60] = 7
    W = sparse.identity(30, format="csr") + sparse.eye(30, k=1, format="csr") \
        + sparse.eye(30, k=-1, format="csr")
    shipped = hot_spots(cells, universe=np.arange(30), W=W)
    assert shipped["hot"].tolist() == hot_spots(cells, universe=np.arange(30), W=W,
                                                alpha=0.05)["hot"].tolist()
    assert len(hotline_counts(cases)) == 2                     # 500 m cells
    _override(tmp_path, monkeypatch, "cases", "hotspots:\n  alpha:\n    value: 1.0e-12\n")
    (tmp_path / "publish.yaml").write_text("public:\n  hotline_cell_m: 2000\n", encoding="utf-8")
    assert shipped["hot"].any() and not hot_spots(cells, universe=np.arange(30), W=W)["hot"].any()
    assert len(hotline_counts(cases)) == 1                     # one 2 km cell

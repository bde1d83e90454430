"""Config override files hold only what they change and merge key by key over the defaults."""

from __future__ import annotations

import pytest

from zlgis.config import CONFIG_DIR, load_config, read_yaml
from zlgis.errors import ConfigError


def test_override_merges_key_by_key(tmp_path, monkeypatch):
    (tmp_path / "osm.yaml").write_text(
        "buildings:\n  use:\n    yes: 其他\n    chapel: 公共服务\n", encoding="utf-8")
    monkeypatch.setenv("ZLGIS_CONFIG_DIR", str(tmp_path))
    cfg = load_config("osm")
    shipped = read_yaml(CONFIG_DIR / "osm.yaml")
    # the changed value, read as the string key "yes" (not the YAML 1.1 boolean True)
    assert cfg["buildings"]["use"]["yes"] == "其他" and True not in cfg["buildings"]["use"]
    # everything else is the shipped default
    assert cfg["buildings"]["use"]["apartments"] == "住宅"
    assert cfg["roads"] == shipped["roads"]
    assert cfg["buildings"]["floor_height_m"] == shipped["buildings"]["floor_height_m"]


def test_unknown_key_names_file_and_key(tmp_path, monkeypatch):
    path = tmp_path / "coverage.yaml"
    path.write_text("toilet:\n  radius_m: 300\n", encoding="utf-8")
    monkeypatch.setenv("ZLGIS_CONFIG_DIR", str(tmp_path))
    with pytest.raises(ConfigError) as err:
        load_config("coverage")
    assert str(err.value) == (f"文件 {path}，字段 toilet：未知的配置项 toilet（默认配置中没有；"
                              "可用：network、toilets、transfer、parks、demand、siting）")


def test_wrong_type_names_file_and_key(tmp_path, monkeypatch):
    path = tmp_path / "osm.yaml"
    path.write_text("roads:\n  lane_width_m: 三米半\n", encoding="utf-8")
    monkeypatch.setenv("ZLGIS_CONFIG_DIR", str(tmp_path))
    with pytest.raises(ConfigError) as err:
        load_config("osm")
    assert str(err.value) == (f"文件 {path}，字段 roads.lane_width_m：配置项 roads.lane_width_m 应为数值"
                              "（默认值 3.5），实际为文字 '三米半'")


def test_unknown_key_on_the_command_line_is_one_message_exit_2(tmp_path, monkeypatch, capsys,
                                                               helsinki_catalog):
    """A bureau override with a typo, met by a command on a real catalog: exit 2, the one
    Chinese line naming file and key, no traceback, nothing written."""
    from zlgis.cli import main

    path = tmp_path / "cfg" / "coverage.yaml"
    path.parent.mkdir()
    path.write_text("toilet:\n  radius_m: 300\n", encoding="utf-8")
    monkeypatch.setenv("ZLGIS_CONFIG_DIR", str(path.parent))
    code = main(["coverage", "toilets", "--catalog", str(helsinki_catalog), "--out",
                 str(tmp_path / "out"), "--no-map"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip() == (f"错误：文件 {path}，字段 toilet：未知的配置项 toilet（默认配置中没有；"
                           "可用：network、toilets、transfer、parks、demand、siting）")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())

"""The layer catalog: required layers, consistent schemas, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from zlgis.catalog import DEFAULT_CATALOG, FIELD_TYPES, REQUIRED_LAYER_IDS, Catalog
from zlgis.crs import recognise_crs
from zlgis.errors import CatalogError


@pytest.fixture(scope="module")
def cat() -> Catalog:
    return Catalog.load(DEFAULT_CATALOG)


def test_names_every_campaign_layer(cat: Catalog) -> None:
    assert cat.missing_required() == []
    assert set(REQUIRED_LAYER_IDS) <= set(cat.layers)
    assert cat.working_crs == "EPSG:4550"


def test_layers_are_consistent(cat: Catalog) -> None:
    for lid, spec in cat.layers.items():
        assert spec.title and any("\u4e00" <= ch <= "\u9fff" for ch in spec.title), lid
        assert set(spec.public) <= set(spec.fields), lid
        if spec.id_field:
            assert spec.fields[spec.id_field].required, lid
        if spec.crs:
            assert recognise_crs(spec.crs) is not None, (lid, spec.crs)
        for f in spec.fields.values():
            assert f.type in FIELD_TYPES
        # an alias (or canonical name) must point at one field only
        names = [n for f in spec.fields.values() for n in {f.name, *f.aliases}]
        dup = {n for n in names if names.count(n) > 1}
        assert not dup, (lid, dup)
        for name in spec.fields:
            assert spec.field_for_alias(name) == name


def test_dxf_layer_names_map_to_one_layer(cat: Catalog) -> None:
    names = [n for s in cat.layers.values() for n in s.dxf_layers]
    assert len(names) == len(set(names))
    for cad in ("道路红线", "绿线", "蓝线", "紫线", "黄线"):
        assert cad in names


def test_private_fields_not_public(cat: Catalog) -> None:
    private = ("phone", "owner_name", "requester", "plate", "keeper_name", "road_chief",
               "grid_worker", "inspector")
    for spec in cat.layers.values():
        for f in spec.public:
            assert not any(p in f for p in private), (spec.id, f)
    assert cat["hotline_cases"].public == ()


def test_unknown_layer_message(cat: Catalog) -> None:
    with pytest.raises(CatalogError, match="图层目录中没有图层 nope"):
        cat["nope"]


def test_bad_catalogs(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="图层目录文件不存在"):
        Catalog.load(tmp_path / "none.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("layers: [", encoding="utf-8")
    with pytest.raises(CatalogError, match="无法解析"):
        Catalog.load(bad)
    raw = yaml.safe_load(DEFAULT_CATALOG.read_text(encoding="utf-8"))
    raw["layers"]["toilets"]["geometry"] = "Blob"
    p = tmp_path / "geom.yaml"
    p.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CatalogError, match="图层 toilets 的几何类型 'Blob' 无效"):
        Catalog.load(p)


def test_data_dir_relative_to_catalog(tmp_path: Path) -> None:
    raw = yaml.safe_load(DEFAULT_CATALOG.read_text(encoding="utf-8"))
    raw["data_dir"] = "data"
    p = tmp_path / "c.yaml"
    p.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    cat = Catalog.load(p)
    assert cat["roads"].path == (tmp_path / "data" / "roads.gpkg").resolve()
    assert cat["truck_pings"].options["x"] == "经度"


def test_invalid_pattern_refused_at_load(tmp_path: Path, capsys) -> None:
    from zlgis.cli import main

    raw = yaml.safe_load(DEFAULT_CATALOG.read_text(encoding="utf-8"))
    raw["layers"]["grids"]["fields"]["grid_id"]["pattern"] = "^[0-9A-Z{15}$("
    p = tmp_path / "pattern.yaml"
    p.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    assert main(["validate", "--catalog", str(p)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"错误：文件 {p}，图层 grids，字段 grid_id：格式（pattern）"
                          "'^[0-9A-Z{15}$(' 不是有效的正则表达式：")
    assert "Traceback" not in err


def test_python_regex_features_work_in_patterns(tmp_path: Path) -> None:
    """A lookahead is valid Python regex (RE2 would refuse it): rows are checked, no crash."""
    import geopandas as gpd
    from shapely.geometry import box

    from zlgis.validate import validate_frame

    raw = yaml.safe_load(DEFAULT_CATALOG.read_text(encoding="utf-8"))
    raw["layers"]["grids"]["fields"]["grid_id"]["pattern"] = r"^(?!000)[0-9]{15}$"
    p = tmp_path / "look.yaml"
    p.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    spec = Catalog.load(p)["grids"]
    gdf = gpd.GeoDataFrame({"grid_id": ["150783001001001", "000783001001001"],
                            "subdistrict": ["兴华街道"] * 2, "community": ["一社区"] * 2},
                           geometry=[box(480000, 5316000, 480100, 5316100)] * 2, crs="EPSG:4550")
    res = validate_frame(gdf, spec, working_crs="EPSG:4550")
    assert res.gdf["grid_id"].tolist() == ["150783001001001"]
    assert len(res.rejected) == 1 and "格式不符" in res.issues.to_string()


BOMB = ('lol: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
        + "".join(f"l{i}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]\n"
                  for i in range(8)))


@pytest.mark.parametrize("where", ["catalog", "config"])
def test_yaml_alias_bomb_refused(tmp_path: Path, capsys, monkeypatch, where) -> None:
    """A "billion laughs" document is refused while it is read (it used to run for 55 s and
    end in MemoryError when its title was formatted)."""
    from zlgis.cli import main

    text = DEFAULT_CATALOG.read_text(encoding="utf-8")
    if where == "catalog":
        p = tmp_path / "bomb.yaml"
        p.write_text(BOMB + text.replace("title: 行政区界线", "title: *i", 1), encoding="utf-8")
        argv = ["layers", "--catalog", str(p)]
    else:
        cfg = tmp_path / "cfg"
        cfg.mkdir()
        p = cfg / "ledger.yaml"
        p.write_text(BOMB, encoding="utf-8")
        from zlgis.ledger import Ledger

        Ledger(tmp_path / "ledger.sqlite")
        monkeypatch.setenv("ZLGIS_CONFIG_DIR", str(cfg))
        argv = ["ledger", "status", "--ledger", str(tmp_path / "ledger.sqlite")]
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 2 and "Traceback" not in err
    assert str(p) in err and "文档展开后超过 200000 个节点" in err


def test_wrong_types_named(tmp_path: Path, capsys) -> None:
    from zlgis.cli import main

    raw = yaml.safe_load(DEFAULT_CATALOG.read_text(encoding="utf-8"))
    raw["layers"]["toilets"]["fields"]["toilet_id"]["aliases"] = {"a": 1}
    p = tmp_path / "types.yaml"
    p.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    assert main(["layers", "--catalog", str(p)]) == 2
    assert capsys.readouterr().err == (
        f"错误：文件 {p}，图层 toilets，字段 fields.toilet_id.aliases：fields.toilet_id.aliases "
        "应为列表，实际为 {'a': 1}\n")


def test_yaml_document_size_counts_aliases_as_used() -> None:
    """The alias bound counts an alias as often as it is used (shared nodes sized once), a
    recursive alias as one node; documents within the bound read as PyYAML's safe loader
    reads them (booleans aside)."""
    import yaml as pyyaml

    from zlgis._yaml import document_size, safe_load

    def size(text: str) -> int:
        return document_size(pyyaml.SafeLoader(text).get_single_node())

    assert size("a: [1, 2]") == 1 + 1 + 3
    assert size("a: &x [1, 2]\nb: *x\nc: *x") == 1 + 3 * (1 + 3)
    lol = ('a: &a [1, 1, 1]\n' + "".join(f"l{i}: &{chr(98 + i)} [" + ",".join(
        [f"*{chr(97 + i)}"] * 3) + "]\n" for i in range(3)))
    assert size(lol) == 1 + 4 + 4 + 13 + 40 + 121   # root, keys, a, l0, l1, l2
    rec = safe_load("a: &x [1, *x]")
    assert rec["a"][1] is rec["a"]
    text = DEFAULT_CATALOG.read_text(encoding="utf-8")
    assert safe_load(text)["layers"].keys() == pyyaml.safe_load(text)["layers"].keys()

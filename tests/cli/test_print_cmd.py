"""``zlgis print-maps``: the A3 sheets it writes and its exit codes."""

from __future__ import annotations

from zlgis.cli import main


def test_print_maps_command(demo_city, tmp_path, capsys):
    """``zlgis print-maps`` on a findings file: the city sheet and one per lead department."""
    import _publish_fixtures as fx

    f = fx.small_findings()
    f["lead_department"] = "natural_resources"
    f.to_file(tmp_path / "f.gpkg", layer="findings")
    out = tmp_path / "print"
    cat = str(demo_city / "catalog.yaml")
    assert main(["print-maps", "--catalog", cat, "--findings", str(tmp_path / "f.gpkg"),
                 "--week", "2022-W35", "--date", "2022-09-04", "--out", str(out),
                 "--quiet"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "print_city_2022-W35.pdf", "print_city_2022-W35.png",
        "print_natural_resources_2022-W35.pdf", "print_natural_resources_2022-W35.png"]
    assert main(["print-maps", "--catalog", cat, "--findings", str(tmp_path / "missing.gpkg"),
                 "--week", "2022-W35", "--out", str(out)]) == 2
    assert "Traceback" not in capsys.readouterr().err

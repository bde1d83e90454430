"""``zlgis portal``: exit codes and the site it writes."""

from __future__ import annotations

from zlgis.cli import main

from ..publish.test_portal import public_tree


def test_portal_command_builds_the_site(tmp_path, capsys):
    tree = public_tree(tmp_path / "public")
    assert main(["portal", "--from", str(tree), "--out", str(tmp_path / "site"), "--quiet"]) == 0
    assert (tmp_path / "site" / "weeks" / "2022-W35" / "index.html").is_file()


def test_portal_without_weeks_says_so(tmp_path, capsys):
    code = main(["portal", "--from", str(tmp_path), "--out", str(tmp_path / "site")])
    err = capsys.readouterr().err
    assert code != 0 and "没有可公示的周次" in err and "Traceback" not in err
    assert not (tmp_path / "site").exists()


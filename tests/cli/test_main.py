"""The ``zlgis`` entry point itself: errors without tracebacks, output piped into ``head``."""

from __future__ import annotations

import subprocess
import sys

from zlgis.cli import main


def test_no_command_prints_help_and_exits_2(capsys) -> None:
    assert main([]) == 2
    assert "zlgis" in capsys.readouterr().out


def test_closed_pipe_is_not_a_traceback(tmp_path) -> None:
    # like `zlgis validate bad.geojson | head -1`: the reader goes away after one line while
    # thousands of report lines (far more than a pipe buffer) are still to be printed
    features = ",".join('{"type":"Feature","properties":{"id":%d},"geometry":null}' % i
                        for i in range(5000))
    path = tmp_path / "nulls.geojson"
    path.write_text('{"type":"FeatureCollection","features":[%s]}' % features)
    proc = subprocess.Popen([sys.executable, "-m", "zlgis", "validate", str(path),
                             "--crs", "EPSG:4326"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    proc.stdout.readline()
    proc.stdout.close()
    _, err = proc.communicate(timeout=120)
    assert b"Traceback" not in err
    assert proc.returncode in (0, 1)

"""The ``zlgis`` entry point itself: errors without tracebacks, output piped into ``head``."""

from __future__ import annotations

import json
import os
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


def _blas_threads(tmp_path, env: dict[str, str]) -> list[int]:
    """The thread counts of the OpenBLAS libraries loaded in a process that ran a command
    (one that imports NumPy and SciPy: ``zlgis validate`` of a small GeoJSON file)."""
    path = tmp_path / "one.geojson"
    path.write_text('{"type":"FeatureCollection","features":[{"type":"Feature","properties":'
                    '{"id":1},"geometry":{"type":"Point","coordinates":[122.7,48.0]}}]}')
    code = ("import json, sys\n"
            "from zlgis.cli import main\n"
            f"main(['validate', {str(path)!r}, '--crs', 'EPSG:4326'])\n"
            "import scipy.linalg\n"
            "from threadpoolctl import threadpool_info\n"
            "print(json.dumps([p['num_threads'] for p in threadpool_info()\n"
            "                  if p['internal_api'] == 'openblas']))\n")
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"} | env
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, timeout=120, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_commands_run_blas_without_threads_unless_told(tmp_path) -> None:
    # the commands' parallelism is their worker processes; BLAS thread pools spun beside them
    one = _blas_threads(tmp_path, {})
    assert one and set(one) == {1}  # NumPy's and SciPy's OpenBLAS
    assert set(_blas_threads(tmp_path, {"OPENBLAS_NUM_THREADS": "2"})) == {2}

"""zlgis.publish.serve and ``zlgis serve``: range requests as PMTiles readers send them."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from zlgis.cli import build_parser
from zlgis.publish.serve import make_server

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("served")
    data = os.urandom(100_000)
    (root / "tiles").mkdir()
    (root / "tiles" / "a.pmtiles").write_bytes(data)
    (root / "map.html").write_text("<html>地图</html>", encoding="utf-8")
    srv = make_server(root, port=0)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv.server_port, data
    srv.shutdown()
    srv.server_close()


def _get(port: int, path: str, headers: dict | None = None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", path, headers=headers or {})
    r = c.getresponse()
    body = r.read()
    c.close()
    return r, body


@pytest.mark.parametrize("spec,lo,hi", [("bytes=0-16383", 0, 16383), ("bytes=500-", 500, 99999),
                                        ("bytes=-10", 99990, 99999),
                                        ("bytes=99990-200000", 99990, 99999)])
def test_range_request_returns_206_with_the_right_bytes(served, spec, lo, hi):
    port, data = served
    r, body = _get(port, "/tiles/a.pmtiles", {"Range": spec})
    assert r.status == 206
    assert body == data[lo:hi + 1]
    assert r.getheader("Content-Range") == f"bytes {lo}-{hi}/{len(data)}"
    assert int(r.getheader("Content-Length")) == hi - lo + 1
    assert r.getheader("Content-Type") == "application/vnd.pmtiles"


def test_whole_file_unsatisfiable_range_and_mime(served):
    port, data = served
    r, body = _get(port, "/tiles/a.pmtiles")
    assert r.status == 200 and body == data and r.getheader("Accept-Ranges") == "bytes"
    r, body = _get(port, "/tiles/a.pmtiles", {"Range": "bytes=200000-"})
    assert r.status == 416 and r.getheader("Content-Range") == f"bytes */{len(data)}"
    r, body = _get(port, "/map.html")
    assert r.status == 200 and r.getheader("Content-Type") == "text/html; charset=utf-8"
    assert body.decode() == "<html>地图</html>"
    r, _ = _get(port, "/../../etc/passwd")
    assert r.status == 404


def test_cli_defaults_to_loopback_and_refuses_a_missing_folder(tmp_path):
    args = build_parser().parse_args(["serve", str(tmp_path)])
    assert (args.host, args.port) == ("127.0.0.1", 8000)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    p = subprocess.run([sys.executable, "-m", "zlgis", "serve", str(tmp_path / "nope")],
                       capture_output=True, text=True, env=env, timeout=60)
    assert p.returncode == 2
    assert "要发布的文件夹不存在" in p.stderr and str(tmp_path / "nope") in p.stderr
    assert "Traceback" not in p.stderr

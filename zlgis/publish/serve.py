"""A static web server for staff: a folder over HTTP with range requests (``zlgis serve``).

Weekly maps whose big layers are vector tiles read ``tiles/<layer>.pmtiles`` by HTTP range
requests (``Range: bytes=a-b`` answered with ``206 Partial Content``); Python's own
``python -m http.server`` ignores ranges and sends the whole file, which PMTiles readers refuse.
This server answers them, sets the MIME types of map files, serves many clients at once
(threads) and listens on 127.0.0.1 unless told otherwise. Any static server with range support
(nginx, busybox httpd, a bureau's intranet server) serves the same folder as well.

Examples
--------
>>> import tempfile, threading, urllib.request, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp()); _ = (d / "a.bin").write_bytes(bytes(range(100)))
>>> srv = make_server(d, port=0)
>>> t = threading.Thread(target=srv.serve_forever, daemon=True); t.start()
>>> req = urllib.request.Request(f"http://127.0.0.1:{srv.server_port}/a.bin",
...                              headers={"Range": "bytes=10-12"})
>>> with urllib.request.urlopen(req) as r:
...     r.status, r.headers["Content-Range"], r.read()
(206, 'bytes 10-12/100', b'\\n\\x0b\\x0c')
>>> srv.shutdown(); srv.server_close()
"""

from __future__ import annotations

import functools
import os
import re
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from ..errors import ZlgisError

__all__ = ["MIME_TYPES", "RangeRequestHandler", "make_server"]

#: MIME types of the files a weekly folder or the portal holds.
MIME_TYPES: dict[str, str] = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".geojson": "application/geo+json",
    ".pmtiles": "application/vnd.pmtiles",
    ".mvt": "application/vnd.mapbox-vector-tile",
    ".pbf": "application/x-protobuf",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".csv": "text/csv; charset=utf-8",
    ".gpkg": "application/geopackage+sqlite3",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pdf": "application/pdf",
    ".qgs": "application/xml",
}

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class RangeRequestHandler(SimpleHTTPRequestHandler):
    """``SimpleHTTPRequestHandler`` with single byte ranges (RFC 9110 §14) and map MIME types."""

    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, **MIME_TYPES}
    protocol_version = "HTTP/1.1"     # keep-alive: a map asks for many tiles
    # headers and body go out in two writes: without TCP_NODELAY a kept-alive connection waits
    # for the client's delayed ACK (about 40 ms) on some responses
    disable_nagle_algorithm = True
    quiet = False
    _range: tuple[int, int] | None = None

    def end_headers(self) -> None:
        self.send_header("Accept-Ranges", "bytes")
        super().end_headers()

    def send_head(self) -> Any:
        self._range = None
        spec = self.headers.get("Range")
        path = self.translate_path(self.path)
        if spec is None or os.path.isdir(path):
            return super().send_head()
        m = _RANGE.match(spec.strip())
        if not m or (not m.group(1) and not m.group(2)):
            return super().send_head()     # not a single byte range: the whole file
        try:
            f = open(path, "rb")
        except OSError:
            self.send_error(HTTPStatus.NOT_FOUND, "File not found")
            return None
        size = os.fstat(f.fileno()).st_size
        if m.group(1):
            start = int(m.group(1))
            end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
        else:                                   # the last N bytes
            start, end = max(size - int(m.group(2)), 0), size - 1
        if start >= size or end < start:
            f.close()
            self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
            self.send_header("Content-Range", f"bytes */{size}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        self._range = (start, end)
        self.send_response(HTTPStatus.PARTIAL_CONTENT)
        self.send_header("Content-Type", self.guess_type(path))
        self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(end - start + 1))
        self.send_header("Last-Modified", self.date_time_string(int(os.fstat(f.fileno()).st_mtime)))
        self.end_headers()
        return f

    def copyfile(self, source: Any, outputfile: Any) -> None:
        if self._range is None:
            return super().copyfile(source, outputfile)
        start, end = self._range
        source.seek(start)
        left = end - start + 1
        while left > 0:
            chunk = source.read(min(left, 1 << 16))
            if not chunk:
                break
            outputfile.write(chunk)
            left -= len(chunk)
        return None

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (base signature)
        if not self.quiet:
            super().log_message(format, *args)


def make_server(directory: str | os.PathLike[str], *, host: str = "127.0.0.1", port: int = 8000,
                quiet: bool = True) -> ThreadingHTTPServer:
    """A threaded HTTP server of ``directory`` with range requests (call ``serve_forever``).

    ``port=0`` takes a free port (``server.server_port``).

    Raises
    ------
    ZlgisError
        The folder does not exist, or the port cannot be opened (in use, no permission).
    """
    root = Path(directory)
    if not root.is_dir():
        raise ZlgisError("要发布的文件夹不存在", path=str(root))
    handler = type("Handler", (RangeRequestHandler,), {"quiet": quiet})
    try:
        return ThreadingHTTPServer((host, port),
                                   functools.partial(handler, directory=str(root.resolve())))
    except OSError as exc:
        raise ZlgisError(f"无法在 {host}:{port} 上启动网页服务（{exc.strerror or exc}）；"
                         "请换一个端口（--port）", path=str(root)) from None



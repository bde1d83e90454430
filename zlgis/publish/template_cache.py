"""Compiled Jinja templates kept on disk between runs (folium's and ours).

folium and branca compile about 90 Jinja templates when they are imported (each element class
holds a ``Template``); parsing and generating their Python code is ~0.3-0.4 s of every command
that draws a web map, the same work every time. :func:`enable` (called when
:mod:`zlgis.publish` is imported, before folium is) makes :meth:`jinja2.Environment.compile`
keep the compiled code of a template given as text in ``$ZLGIS_CACHE_DIR/jinja`` (default
``~/.cache/zlgis/jinja``), keyed by the text, the template's name and file, the environment's
settings that shape the code, and the Jinja and Python versions; a later process loads it
instead of compiling. The same code object comes back, so pages are byte-identical. A file
that cannot be read or written is ignored (the template is compiled as before); delete the
folder to empty the cache.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["enable", "cache_dir"]

_FORMAT = b"zlgis-jinja-1"


def cache_dir() -> Path:
    """Folder of the template cache (``$ZLGIS_CACHE_DIR/jinja``, default ``~/.cache/zlgis``)."""
    from ..io.cache import cache_dir as folder

    return folder("jinja")


def _settings(env: Any) -> tuple[Any, ...] | None:
    """The environment's settings that shape the generated code; None when one of them is not
    plain data (a callable autoescape or finalize, a custom code generator): not cached."""
    import jinja2

    if callable(env.autoescape) or env.finalize is not None \
            or type(env).code_generator_class is not jinja2.compiler.CodeGenerator:
        return None
    return (type(env).__module__, type(env).__qualname__, env.block_start_string,
            env.block_end_string, env.variable_start_string, env.variable_end_string,
            env.comment_start_string, env.comment_end_string, env.line_statement_prefix,
            env.line_comment_prefix, env.trim_blocks, env.lstrip_blocks, env.newline_sequence,
            env.keep_trailing_newline, env.optimized, env.autoescape, env.is_async,
            tuple(sorted(env.extensions)))


def _key(source: str, name: str | None, filename: str | None, defer_init: bool,
         settings: tuple[Any, ...]) -> str:
    import jinja2

    h = hashlib.blake2b(_FORMAT, digest_size=20)
    for part in (jinja2.__version__, sys.version, repr(settings), repr((name, filename,
                                                                        defer_init)), source):
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return h.hexdigest()


def _load(path: Path) -> Any:
    try:
        code = marshal.loads(path.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return None
    return code if type(code).__name__ == "code" else None


def _store(path: Path, code: Any) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(marshal.dumps(code))
        os.replace(tmp, path)
    except OSError:
        pass


def enable() -> None:
    """Make :meth:`jinja2.Environment.compile` use the cache (once per process)."""
    import jinja2

    _patch(jinja2)


def _patch(jinja2: Any) -> None:
    original = jinja2.Environment.compile
    if getattr(original, "zlgis_cached", False):
        return

    def compile(self: Any, source: Any, name: str | None = None,  # noqa: A001 - Jinja's name
                filename: str | None = None, raw: bool = False,
                defer_init: bool = False) -> Any:
        settings = _settings(self) if isinstance(source, str) and not raw else None
        if settings is None:
            return original(self, source, name, filename, raw, defer_init)
        path = cache_dir() / f"{_key(source, name, filename, defer_init, settings)}.bin"
        code = _load(path)
        if code is None:
            code = original(self, source, name, filename, raw, defer_init)
            _store(path, code)
        return code

    compile.zlgis_cached = True  # type: ignore[attr-defined]
    compile.__doc__ = original.__doc__
    jinja2.Environment.compile = compile  # type: ignore[method-assign]

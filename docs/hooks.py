"""MkDocs hook: the API page lists every name of ``zlgis.API``, grouped by its module.

Publishing a function is one line in ``zlgis.API``; the reference follows without editing docs.
"""

from __future__ import annotations

import importlib

MARKER = "<!-- zlgis-api: filled in from zlgis.API by docs/hooks.py -->"


def _section(module: str) -> str:
    doc = (importlib.import_module(module).__doc__ or module).strip().splitlines()[0]
    return doc.split(":")[0].rstrip(".")


def on_page_markdown(markdown: str, page, config, files) -> str:  # noqa: ANN001
    """Replace the marker of ``api.md`` by one mkdocstrings block per public name."""
    if MARKER not in markdown:
        return markdown
    import zlgis

    groups: dict[str, list[str]] = {}
    for name, target in zlgis.API.items():
        module, attr = target.split(":")
        groups.setdefault(module, []).append(f"::: {module}.{attr}")
    parts = [f"## {_section(module)}\n\n" + "\n\n".join(blocks)
             for module, blocks in groups.items()]
    return markdown.replace(MARKER, "\n\n".join(parts))

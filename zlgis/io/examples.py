"""The example cities of ``layers/examples/``: real public data, in their own UTM CRS.

* ``helsinki``: an OpenStreetMap extract; ``layers/examples/helsinki/example.yaml`` holds the
  arguments of ``zlgis init``, and :func:`build_example` runs it into a folder of the caller's
  choosing (tests use a cache folder), so no data is copied into the repository.
* ``swellendam``: ``layers/examples/swellendam/catalog.yaml``, a hand-written catalog over the
  GeoPackage, Shapefiles and SRTM tile where they are (``data_dir`` points at them).

The data lives in ``../shared/realdata`` (or ``$ZLGIS_REALDATA``).

Examples
--------
>>> (EXAMPLES_DIR / "helsinki" / "example.yaml").exists()
True
"""

from __future__ import annotations

import os
from pathlib import Path

from .._yaml import safe_load
from ..catalog import DEFAULT_CATALOG
from ..errors import UnreadableInputError

__all__ = ["EXAMPLES_DIR", "realdata_dir", "build_example", "example_catalog"]

EXAMPLES_DIR = DEFAULT_CATALOG.parent / "examples"


def realdata_dir() -> Path:
    """The real public data folder: ``$ZLGIS_REALDATA``, else ``../shared/realdata``."""
    return Path(os.environ.get("ZLGIS_REALDATA")
                or DEFAULT_CATALOG.parent.parent.parent / "shared" / "realdata")


def example_catalog(name: str) -> Path:
    """The catalog file of a hand-written example (``layers/examples/<name>/catalog.yaml``)."""
    path = EXAMPLES_DIR / name / "catalog.yaml"
    if not path.exists():
        raise UnreadableInputError(f"没有示例图层目录 {name}", path=str(path))
    return path


def build_example(name: str, out_dir: str | os.PathLike[str], *,
                  realdata: str | os.PathLike[str] | None = None, quiet: bool = True) -> Path:
    """Run ``zlgis init`` for the example ``name`` into ``out_dir``; the catalog path.

    The arguments come from ``layers/examples/<name>/example.yaml`` (``init:``), file paths
    relative to ``realdata`` (default :func:`realdata_dir`).
    """
    from .._progress import Progress
    from .osm_init import init_from_osm

    spec_path = EXAMPLES_DIR / name / "example.yaml"
    if not spec_path.exists():
        raise UnreadableInputError(f"没有示例 {name}", path=str(spec_path))
    spec = safe_load(spec_path.read_text(encoding="utf-8"))["init"]
    base = Path(realdata) if realdata else realdata_dir()
    res = init_from_osm(base / spec["pbf"], out_dir,
                        boundary=base / spec["boundary"] if spec.get("boundary") else None,
                        dem=[base / d for d in spec.get("dem", [])], crs=spec.get("crs"),
                        city=spec.get("name"), progress=Progress(quiet=quiet))
    return res.catalog_path

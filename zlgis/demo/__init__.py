"""The synthetic demo city: a realistic, reproducible Zhalantun (INTERIM stub).

The generator writes every catalog layer as GeoPackage, a DEM GeoTIFF, a ground-truth table and a
``catalog.yaml`` into a folder. Everything in it is synthetic.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["make_demo_city", "ensure_demo_city", "DEFAULT_DEMO_DIR", "DEFAULT_SEED"]

DEFAULT_DEMO_DIR = Path(__file__).resolve().parents[2] / "data" / "demo"
DEFAULT_SEED = 2022


def make_demo_city(out_dir: str | os.PathLike[str], *, seed: int = DEFAULT_SEED,
                   n_buildings: int = 25_000, quiet: bool = True) -> Path:
    """Write the demo city into ``out_dir``; return the path of its ``catalog.yaml``."""
    raise NotImplementedError


def ensure_demo_city(out_dir: str | os.PathLike[str] | None = None, *,
                     seed: int = DEFAULT_SEED) -> Path:
    """Return the demo catalog path, generating the city first when it is absent.

    ``$ZLGIS_DEMO_DIR`` overrides the default folder (``data/demo``).
    """
    out = Path(out_dir or os.environ.get("ZLGIS_DEMO_DIR") or DEFAULT_DEMO_DIR)
    catalog = out / "catalog.yaml"
    if not catalog.exists():
        make_demo_city(out, seed=seed)
    return catalog

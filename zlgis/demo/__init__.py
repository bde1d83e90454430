"""The synthetic demo city: a realistic, reproducible Zhalantun with planted violations.

:func:`make_demo_city` writes every catalog layer as GeoPackage (Chinese field names, the CRS
each layer declares), ``dem.tif``, ``truth.csv`` (planted cases and near-misses, see
DEVELOPERS.md), ``README.txt`` and a ``catalog.yaml`` whose ``data_dir`` is the folder itself.
Everything in it is synthetic: place names come from the 2022 campaign plan, positions are
invented, the administrative boundary is the real (converted) outline.

Modules: :mod:`~zlgis.demo.roads` (street lattice, bridges, red lines),
:mod:`~zlgis.demo.places` (parks and control lines), :mod:`~zlgis.demo.buildings`,
:mod:`~zlgis.demo.facilities`, :mod:`~zlgis.demo.trucks`, :mod:`~zlgis.demo.dem`,
:mod:`~zlgis.demo.writer`, :mod:`~zlgis.demo.city` (assembly), :mod:`~zlgis.demo.plot`.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["make_demo_city", "ensure_demo_city", "plot_demo_city", "DEFAULT_DEMO_DIR",
           "DEFAULT_SEED"]

_REPO = Path(__file__).resolve().parents[2]
#: ``data/demo`` of the repository; for an installed package ``data/demo`` under the current folder.
DEFAULT_DEMO_DIR = (_REPO / "data" / "demo" if (_REPO / "pyproject.toml").exists()
                    else Path("data") / "demo")
DEFAULT_SEED = 2022


def make_demo_city(out_dir: str | os.PathLike[str], *, seed: int = DEFAULT_SEED,
                   n_buildings: int = 25_000, quiet: bool = True) -> Path:
    """Write the demo city into ``out_dir``; return the path of its ``catalog.yaml``.

    Parameters
    ----------
    out_dir : path
        Folder to write (created if needed; files of a previous city are replaced one by one,
        ``catalog.yaml`` last, each atomically).
    seed : int
        Random seed: the same seed gives the same features.
    n_buildings : int
        Number of ordinary buildings (planted cases come on top). The street lattice grows with
        it: about 0.23 road nodes per building.
    quiet : bool
        No progress messages.

    Returns
    -------
    pathlib.Path
        ``out_dir/catalog.yaml``.

    Examples
    --------
    Generating takes about 15 s at the default size, so it is shown, not run::

        from zlgis.catalog import Catalog
        from zlgis.validate import load_layers
        cat = Catalog.load(make_demo_city("out/demo", seed=2022))
        buildings = load_layers(cat, ["buildings"])["buildings"]

    >>> DEFAULT_SEED
    2022
    """
    if n_buildings < 1000:
        from ..errors import InputError
        raise InputError(f"建筑数量至少为 1000（收到 {n_buildings}）", field="--buildings")
    from .city import generate

    return generate(out_dir, seed=seed, n_buildings=n_buildings, quiet=quiet)


def ensure_demo_city(out_dir: str | os.PathLike[str] | None = None, *,
                     seed: int = DEFAULT_SEED, n_buildings: int = 25_000) -> Path:
    """Return the demo catalog path, generating the city first when it is absent.

    ``$ZLGIS_DEMO_DIR`` overrides the default folder (``data/demo``).
    """
    out = Path(out_dir or os.environ.get("ZLGIS_DEMO_DIR") or DEFAULT_DEMO_DIR)
    catalog = out / "catalog.yaml"
    if not catalog.exists():
        make_demo_city(out, seed=seed, n_buildings=n_buildings)
    return catalog


def plot_demo_city(catalog, **kwargs):  # noqa: ANN001, ANN201 - thin lazy wrapper
    """Figure of the demo city (see :func:`zlgis.demo.plot.plot_demo_city`)."""
    from .plot import plot_demo_city as _plot

    return _plot(catalog, **kwargs)

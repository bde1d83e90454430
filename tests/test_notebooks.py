"""Execute every analyst notebook end to end on the demo city."""

from __future__ import annotations

from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path: Path, demo_city: Path, tmp_path: Path, monkeypatch) -> None:
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.setenv("ZLGIS_DEMO_DIR", str(demo_city))
    monkeypatch.setenv("ZLGIS_NOTEBOOK_OUT", str(tmp_path))
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors
    last = [c for c in nb.cells if c.cell_type == "code"][-1]
    # every notebook ends in a map or figure
    kinds = {k for o in last.get("outputs", []) for k in o.get("data", {})}
    assert kinds & {"text/html", "image/png"}, f"{path.name}: last cell shows no map or figure"

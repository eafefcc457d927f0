"""Notebooks are stored without outputs and start with a `parameters` cell defining SMOKE."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks() -> None:
    names = {p.name[:2] for p in NOTEBOOKS}
    assert "00" in names, "notebooks/00_quickstart.ipynb is missing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_clean_and_parametrised(path: Path) -> None:
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code, f"{path.name} has no code cells"
    with_outputs = [i for i, c in enumerate(code) if c.get("outputs") or c.get("execution_count")]
    assert not with_outputs, f"{path.name}: code cells {with_outputs} carry outputs; clear them before committing"
    first = code[0]
    assert "parameters" in first.get("metadata", {}).get("tags", []), f"{path.name}: first code cell not tagged 'parameters'"
    assert "SMOKE" in "".join(first["source"]), f"{path.name}: parameters cell must define SMOKE"
    src = "\n".join("".join(c["source"]) for c in code)
    assert "import auxdet" in src or "from auxdet" in src, f"{path.name} does not import auxdet"
    for forbidden in ("class ", "nn.Module"):
        assert not any(line.lstrip().startswith(forbidden) for line in src.splitlines()), (
            f"{path.name} defines model code ('{forbidden}'); it belongs in the auxdet package"
        )

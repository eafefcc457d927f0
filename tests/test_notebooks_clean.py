"""Notebooks are stored without outputs, as JupyterLab saves them, and start with a `parameters` cell."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _normalizer():
    spec = importlib.util.spec_from_file_location("normalize_notebooks", ROOT / "scripts" / "normalize_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_as_jupyterlab_saves_it(path: Path) -> None:
    """Opening + saving in Lab must be no git diff: nbformat 4.5 with ids, lines, the project's kernel."""
    norm = _normalizer()
    text = path.read_text(encoding="utf-8")
    meta = json.loads(text)["metadata"]
    assert meta.get("kernelspec") == norm.KERNELSPEC, (
        f"{path.name}: kernelspec {meta.get('kernelspec')} is not the project's kernel {norm.KERNELSPEC}"
    )
    assert text == norm.normalized_text(text, path.name), (
        f"{path.name} is not stored as JupyterLab saves it; run: python scripts/normalize_notebooks.py"
    )


def test_normalizer_check_flags_a_notebook_lab_would_rewrite(tmp_path: Path) -> None:
    norm = _normalizer()
    nb = json.loads(NOTEBOOKS[0].read_text(encoding="utf-8"))
    nb["cells"][0]["source"] = "".join(nb["cells"][0]["source"])  # one string, as some editors store it
    nb["metadata"]["kernelspec"]["name"] = "python3"
    bad = tmp_path / "bad.ipynb"
    bad.write_text(json.dumps(nb), encoding="utf-8")
    assert norm.main(["--check", str(bad)]) == 1
    assert norm.main([str(bad)]) == 0
    assert norm.main(["--check", str(bad)]) == 0
    fixed = json.loads(bad.read_text(encoding="utf-8"))
    assert isinstance(fixed["cells"][0]["source"], list) and fixed["metadata"]["kernelspec"]["name"] == "auxdet"


def test_setup_installs_the_kernel_the_notebooks_name() -> None:
    norm = _normalizer()
    setup = (ROOT / "scripts" / "setup.sh").read_text()
    assert f'--sys-prefix --name {norm.KERNEL_NAME} --display-name "{norm.KERNEL_DISPLAY_NAME}"' in setup, (
        "scripts/setup.sh must install the kernel the notebooks name (normalize_notebooks.KERNELSPEC)"
    )

"""The install is what the pins say, and the compiled stack (mmcv ops) really works."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^\s*([A-Za-z0-9_.\-]+)==([^\s;#]+)")


def _pins(lines: list[str]) -> dict[str, str]:
    out = {}
    for line in lines:
        m = PIN.match(line)
        if m:
            out[m.group(1).lower().replace("_", "-")] = m.group(2)
    return out


def requirements_pins() -> dict[str, str]:
    return _pins((ROOT / "requirements.txt").read_text().splitlines())


def pyproject_pins() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    deps = list(project["dependencies"]) + [d for g in project["optional-dependencies"].values() for d in g]
    return _pins(deps)


def environment_pins() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    assert any(str(d).startswith("python=3.11") for d in env["dependencies"]), "environment.yml must pin python 3.11"
    return _pins(pip)


def test_every_dependency_is_pinned_exactly() -> None:
    for name, path in [("requirements.txt", ROOT / "requirements.txt")]:
        lines = [ln.strip() for ln in path.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
        loose = [ln for ln in lines if not PIN.match(ln)]
        assert not loose, f"{name}: not pinned with '==': {loose}"


def test_pyproject_environment_and_requirements_agree() -> None:
    req, pyp, env = requirements_pins(), pyproject_pins(), environment_pins()
    for name, version in pyp.items():
        assert req.get(name) == version, f"pyproject pins {name}=={version}, requirements.txt {req.get(name)}"
    for name, version in req.items():
        assert env.get(name) == version, f"requirements.txt pins {name}=={version}, environment.yml {env.get(name)}"
    setup = (ROOT / "scripts" / "setup.sh").read_text()
    for name in ("torch", "torchvision"):
        assert f"{name}=={env[name]}" in setup, f"setup.sh and environment.yml disagree on {name}"


def test_installed_versions_match_pins() -> None:
    wrong = {}
    for name, version in requirements_pins().items():
        if name in {"setuptools", "wheel", "ninja"}:
            continue
        installed = metadata.version(name)
        if installed != version:
            wrong[name] = (version, installed)
    assert not wrong, f"installed versions differ from the pins (pinned, installed): {wrong}"
    assert metadata.version("mmcv") == "2.1.0"


def test_mmcv_compiled_ops_run_on_cpu() -> None:
    import torch
    from mmcv.ops import RoIAlign, nms

    boxes = torch.tensor([[0.0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]])
    scores = torch.tensor([0.9, 0.8, 0.7])
    _, keep = nms(boxes, scores, iou_threshold=0.5)
    assert keep.tolist() == [0, 2]
    feats = torch.arange(16.0).reshape(1, 1, 4, 4)
    rois = torch.tensor([[0.0, 0, 0, 4, 4]])
    out = RoIAlign((2, 2), spatial_scale=1.0, sampling_ratio=2, aligned=False)(feats, rois)
    assert out.shape == (1, 1, 2, 2) and torch.isfinite(out).all()
    assert out[0, 0, 1, 1] > out[0, 0, 0, 0]

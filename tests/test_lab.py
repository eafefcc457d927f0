"""The notebooks' real client: the known library warnings auxdet silences (and only those), and the pure
helpers of scripts/lab_check.py. `make test-lab` runs the check itself in JupyterLab + headless Chromium."""

from __future__ import annotations

import importlib.util
import json
import sys
import warnings
from pathlib import Path

import auxdet

ROOT = Path(__file__).resolve().parent.parent


def _script(name: str):
    sys.path.insert(0, str(ROOT / "scripts"))  # lab_check imports normalize_notebooks as a sibling
    try:
        spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(ROOT / "scripts"))


def _recorded(fn) -> list[warnings.WarningMessage]:
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        auxdet.quiet_known_library_warnings()  # in front of "always", as after `import auxdet`
        fn()
    return rec


def test_mmdet_deprecation_noise_is_silenced() -> None:
    from mmdet.models.losses import IoULoss

    def build() -> None:
        IoULoss(linear=True)  # the Cascade RPN configs' setting: mmdet warns on every build

    assert not [w for w in _recorded(build) if "linear=True" in str(w.message)]
    with warnings.catch_warnings(record=True) as rec:  # without the filter it does warn: the test can fail
        warnings.simplefilter("always")
        build()
    assert [w for w in rec if "linear=True" in str(w.message)]


def test_filters_are_narrow_same_message_elsewhere_still_shows() -> None:
    def emit() -> None:
        for message, _module in auxdet.KNOWN_LIBRARY_WARNINGS:
            text = message.replace("\\", "")
            warnings.warn_explicit(text, UserWarning, "x.py", 1, module="somebody.else")  # other module: shown
            warnings.warn_explicit(text, DeprecationWarning, "x.py", 1, module=_module.rstrip("$").replace("\\", ""))
            warnings.warn_explicit(text, UserWarning, "x.py", 1, module=_module.rstrip("$").replace("\\", ""))

    rec = _recorded(emit)
    n = len(auxdet.KNOWN_LIBRARY_WARNINGS)
    assert sum(w.category is UserWarning for w in rec) == n, "only the (message, module) pairs are silenced"
    assert sum(w.category is DeprecationWarning for w in rec) == n, "other categories are not silenced"


def test_lab_check_tolerates_only_a_python_version_difference() -> None:
    lab = _script("lab_check")
    nb = json.loads((ROOT / "notebooks" / "00_quickstart.ipynb").read_text(encoding="utf-8"))
    before = json.dumps(nb).encode()
    nb["metadata"]["language_info"]["version"] = "3.11.99"
    assert lab.only_version_differs(before, json.dumps(nb).encode()) == "3.11.99"
    nb["cells"][0]["source"] = ["changed"]
    assert lab.only_version_differs(before, json.dumps(nb).encode()) is None
    assert lab.ERROR_LINE.search("----\nAssertionError                 Traceback (most recent call last)")
    assert not lab.ERROR_LINE.search("/x/iou_loss.py:435: UserWarning: something is deprecated")
    assert lab.WARNING_LINE.search("progress\n/x/iou_loss.py:435: UserWarning: DeprecationWarning: Setting")
    assert not lab.WARNING_LINE.search("target contrast: 100%|██████████| 48/48 [00:01<00:00, 25.52it/s]")

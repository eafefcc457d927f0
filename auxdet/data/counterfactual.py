"""Test-time metadata counterfactuals: what does a trained model do with *wrong* metadata?

Two interventions on the metadata a model sees, with the images and boxes untouched:

* ``'swap'`` — every image gets the domain whose synthetic rule is the *opposite* of its own
  (:data:`SWAP`): Air/LWIR ↔ Land/LWIR (within LWIR the platform decides which shape is the target),
  Space/NIR ↔ Space/SWIR (within Space the band decides which polarity is). A model that applies the
  rules it learnt from the metadata must get worse; one that ignores the metadata cannot change.
* ``'shuffle'`` — the metadata records (platform, band, width, height) are permuted across the test
  images with a fixed seed and no image keeping its own record (a derangement): each image gets
  another test image's metadata, so the marginal distribution of metadata is kept and only its
  pairing with the image is broken.

*Metadata reliance* = AP50(true metadata) − AP50(swapped), same model, same images. The images'
true platform/band are kept as ``true_platform``/``true_band`` so that per-domain results are still
grouped by the domain the image really belongs to.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["COUNTERFACTUALS", "SWAP", "apply_counterfactual", "check_counterfactual", "derangement", "swap_domain"]

COUNTERFACTUALS: tuple[str, ...] = ("true", "swap", "shuffle")
#: The domain whose rule flips each domain's rule (see the rules table of :mod:`auxdet.data.synthetic`).
SWAP: dict[str, str] = {
    "Air/LWIR": "Land/LWIR",
    "Land/LWIR": "Air/LWIR",
    "Space/NIR": "Space/SWIR",
    "Space/SWIR": "Space/NIR",
}
_FIELDS = ("platform", "band", "width", "height")


def swap_domain(platform: str, band: str) -> tuple[str, str]:
    """The ``(platform, band)`` whose rule is the opposite of this one's (:data:`SWAP`)."""
    key = f"{platform}/{band}"
    if key not in SWAP:
        raise ValueError(f"no swap partner for domain {key!r}; valid: {sorted(SWAP)}")
    p, b = SWAP[key].split("/")
    return p, b


def derangement(n: int, seed: int = 0) -> np.ndarray:
    """A random permutation of ``range(n)`` (``n ≥ 2``) without fixed points: a uniform permutation, each
    fixed point then swapped with its successor's target until none is left."""
    perm = np.random.default_rng(seed).permutation(n)
    while (fixed := np.flatnonzero(perm == np.arange(n))).size:
        i = int(fixed[0])
        j = (i + 1) % n
        perm[i], perm[j] = perm[j], perm[i]
    return perm


def check_counterfactual(spec: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Validate a dataset's ``metadata_counterfactual`` option (``None`` or ``'true'``: no intervention)."""
    if spec is None:
        return None
    if not isinstance(spec, Mapping) or set(spec) - {"mode", "seed"} or "mode" not in spec:
        raise ValueError(f"metadata_counterfactual must be None or dict(mode=..., seed=0), got {spec!r}; "
                         f"valid modes: {list(COUNTERFACTUALS)}")
    mode = spec["mode"]
    if mode not in COUNTERFACTUALS:
        raise ValueError(f"unknown metadata counterfactual {mode!r}; valid: {list(COUNTERFACTUALS)}")
    return None if mode == "true" else {"mode": mode, "seed": int(spec.get("seed", 0))}


def apply_counterfactual(infos: Sequence[Mapping[str, Any]], mode: str, seed: int = 0) -> list[dict[str, Any]]:
    """Copies of the per-image ``infos`` (dicts with platform, band, width, height) with the metadata
    the model sees replaced by ``mode`` (``'true'`` keeps it), and ``true_platform``/``true_band`` added."""
    if mode not in COUNTERFACTUALS:
        raise ValueError(f"unknown metadata counterfactual {mode!r}; valid: {list(COUNTERFACTUALS)}")
    out = [{**d, "true_platform": d["platform"], "true_band": d["band"]} for d in infos]
    if mode == "swap":
        for d in out:
            d["platform"], d["band"] = swap_domain(d["platform"], d["band"])
    elif mode == "shuffle" and len(out) > 1:
        perm = derangement(len(out), seed)
        for d, j in zip(out, perm, strict=True):
            d.update({k: infos[j][k] for k in _FIELDS})
    return out

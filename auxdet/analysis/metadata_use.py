"""Does a trained AuxDet read its metadata? Its gates and features under swapped metadata (notebook 05).

The neck runs twice on the same input tensors: once with each image's true metadata and once with the
metadata of the domain whose synthetic rule is the opposite (:data:`auxdet.data.counterfactual.SWAP`:
Air/LWIR ↔ Land/LWIR, Space/NIR ↔ Space/SWIR — the test-time ``swap`` of the study). Per image:

* **gate change** at M2DM level ``i`` — the mean over the channels of ``|σ(cm_true) − σ(cm_swap)|``,
  the change of PSCM's channel gates (``cm`` of Eq. 9; each gate lies in (0, 1), so does the change);
* **feature change** — ``‖f_swap − f_true‖ / ‖f_true‖`` (%) of one neck output (default level 0, the
  stride-4 map the heads read), on the image's own pixels (the batch padding left out).

A model whose output does not depend on the metadata (the plain-FPN baseline, ``auxdet-nometa`` with
the metadata withheld) gives 0 for both; :func:`by_domain` averages them per true domain. The
metadata *reliance* of the study (AP50 with true minus swapped metadata) is what the detections make
of these changes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd
import torch
from torch import Tensor, nn

from auxdet.data.counterfactual import swap_domain

__all__ = ["by_domain", "metadata_change", "swapped", "with_metadata"]


def with_metadata(data_samples: Sequence[Any], platform: str | None = None, band: str | None = None) -> list:
    """Copies of ``data_samples`` whose metainfo says another ``platform`` and/or ``band`` (counterfactual)."""
    out = []
    for sample in data_samples:
        new = sample.clone()
        changes = {k: v for k, v in (("platform", platform), ("band", band)) if v is not None}
        new.set_metainfo(changes)
        out.append(new)
    return out


def swapped(data_samples: Sequence[Any]) -> list:
    """Copies of ``data_samples``, each with the platform/band of its swap partner (:func:`swap_domain`)."""
    return [with_metadata([s], *swap_domain(s.metainfo["platform"], s.metainfo["band"]))[0] for s in data_samples]


def _neck(model: nn.Module, inputs: Tensor, samples: Sequence[Any]) -> tuple[tuple[Tensor, ...], dict[int, Tensor]]:
    """Neck outputs and the channel gates ``σ(cm)`` ``[B, C]`` of each M2DM level (none for a plain neck)."""
    neck = getattr(model, "neck", None)
    with torch.no_grad():
        if hasattr(neck, "forward_with_intermediates"):
            outs, record = neck.forward_with_intermediates(model.backbone(inputs), list(samples))
            gates = {int(i): torch.sigmoid(m["cm"]) for i, m in record["m2dm"].items() if "cm" in m}
            return tuple(outs), gates
        try:
            return tuple(model.extract_feat(inputs, list(samples))), {}
        except TypeError:  # a plain mmdet detector: extract_feat(batch_inputs) only
            return tuple(model.extract_feat(inputs)), {}


def metadata_change(model: nn.Module, inputs: Tensor, data_samples: Sequence[Any],
                    other_samples: Sequence[Any] | None = None, *, level: int = 0) -> pd.DataFrame:  # fmt: skip
    """Per image: how much the neck changes when ``data_samples``' metadata becomes ``other_samples``'.

    ``inputs``/``data_samples``: a preprocessed batch (e.g. :func:`auxdet.visualisation.features.prepare_batch`);
    ``other_samples``: the same images with other metadata (default :func:`swapped`). Columns: ``domain``
    (true platform/band), ``other`` (the metadata it was given), ``gate_change_l<i>`` per M2DM level with
    channel gates, ``gate_change`` (their mean; NaN without gates) and ``feature_change`` (%, level ``level``).
    """
    samples = list(data_samples)
    other = swapped(samples) if other_samples is None else list(other_samples)
    if len(other) != len(samples) or len(samples) != inputs.shape[0]:
        raise ValueError(f"metadata_change: {inputs.shape[0]} images, {len(samples)} data samples and "
                         f"{len(other)} other data samples; give one of each per image")  # fmt: skip
    f_true, g_true = _neck(model, inputs, samples)
    f_other, g_other = _neck(model, inputs, other)
    if not 0 <= level < len(f_true):
        raise ValueError(f"metadata_change: level {level} invalid; the neck returns {len(f_true)} outputs")
    a, b = f_true[level], f_other[level]
    stride = inputs.shape[-1] / a.shape[-1]
    rows = []
    for k, (s, o) in enumerate(zip(samples, other, strict=True)):
        h, w = (math.ceil(d / stride) for d in s.metainfo["img_shape"][:2])  # the image, not the padding
        fa, fb = a[k, :, :h, :w], b[k, :, :h, :w]
        row: dict[str, Any] = {"domain": f"{s.metainfo['platform']}/{s.metainfo['band']}",
                               "other": f"{o.metainfo['platform']}/{o.metainfo['band']}"}  # fmt: skip
        for i in sorted(g_true):
            row[f"gate_change_l{i}"] = float((g_true[i][k] - g_other[i][k]).abs().mean())
        gates = [row[f"gate_change_l{i}"] for i in sorted(g_true)]
        row["gate_change"] = sum(gates) / len(gates) if gates else float("nan")
        row["feature_change"] = 100.0 * float((fb - fa).norm() / fa.norm().clamp_min(1e-12))
        rows.append(row)
    return pd.DataFrame(rows)


def by_domain(per_image: pd.DataFrame) -> pd.DataFrame:
    """:func:`metadata_change` averaged per true domain (and overall), with the number of images ``n``."""
    cols = [c for c in per_image.columns if c.startswith("gate_change") or c == "feature_change"]
    grouped = per_image.groupby(["domain", "other"], sort=True)
    out = grouped[cols].mean()
    out.insert(0, "n", grouped.size())
    overall = per_image[cols].mean().to_frame().T.assign(n=len(per_image))[["n", *cols]]
    overall.index = pd.MultiIndex.from_tuples([("overall", "")], names=["domain", "other"])
    return pd.concat([out, overall])

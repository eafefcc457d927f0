"""Helpers of notebook 08 (from XML to neck to metric): ground truth from a dataset, a simulated
detector with a known recall per domain, and the small-group flag of the per-domain tables.

The simulated detector is a teaching device for the *metric*, not a model: it returns each target's
own box with probability ``recall[domain]`` (IoU 1, so it is a true positive at any IoU threshold) and
adds false alarms elsewhere, so that a per-domain table has a known answer to check the metric against.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from auxdet.experiments.summary import MIN_TARGETS

__all__ = ["MIN_TARGETS", "domain_of", "flag_small_groups", "ground_truth_records", "simulated_detections"]


def domain_of(record: Mapping[str, Any]) -> str:
    """``'platform/band'`` of a ground-truth record or data info (the true domain under a counterfactual)."""
    return f"{record.get('true_platform', record['platform'])}/{record.get('true_band', record['band'])}"


def ground_truth_records(data_infos: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Ground-truth records (:mod:`auxdet.evaluation.records`) from ``VOCMetaDataset`` data infos: boxes of
    the kept instances, ignored ("difficult") boxes apart, the image's **true** platform/band and its size."""
    out = []
    for d in data_infos:
        keep = [i["bbox"] for i in d["instances"] if not i["ignore_flag"]]
        ignore = [i["bbox"] for i in d["instances"] if i["ignore_flag"]]
        out.append({
            "img_id": d["img_id"], "bboxes": np.asarray(keep, np.float32).reshape(-1, 4),
            "bboxes_ignore": np.asarray(ignore, np.float32).reshape(-1, 4),
            "platform": d.get("true_platform", d["platform"]), "band": d.get("true_band", d["band"]),
            "width": d["width"], "height": d["height"],
        })  # fmt: skip
    return out


def _false_alarm(rng: np.random.Generator, width: int, height: int, targets: np.ndarray, margin: float = 3.0,
                 tries: int = 100) -> list[float]:
    """A random 2–12 px box that keeps ``margin`` px away from every target (so it can never count as a
    hit, neither at IoU 0.5 nor by the 3-px centroid rule of Pd)."""
    for _ in range(tries):
        w, h = rng.integers(2, max(3, min(12, width // 4)), size=2)
        x, y = rng.uniform(0, width - w), rng.uniform(0, height - h)
        clear = (x + w + margin <= targets[:, 0]) | (targets[:, 2] + margin <= x) | \
            (y + h + margin <= targets[:, 1]) | (targets[:, 3] + margin <= y)  # fmt: skip
        if clear.all():
            return [x, y, x + w, y + h]
    raise ValueError(f"no room for a false alarm {margin} px away from the targets of a {width}x{height} image")


def simulated_detections(
    ground_truths: Sequence[Mapping[str, Any]],
    recall: Mapping[str, float],
    false_alarms_per_image: float = 1.0,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """One prediction record per image: each target found with probability ``recall[domain]`` (its own box,
    score ~ U(0.3, 1)), plus Poisson(``false_alarms_per_image``) random boxes away from every target
    (score ~ U(0, 0.8)): the Recall and Pd of a group are exactly the share of its targets found.

    Raises ValueError naming the domain when ``recall`` lacks an image's domain or is outside [0, 1].
    """
    rng = np.random.default_rng(seed)
    out = []
    for gt in ground_truths:
        dom = domain_of(gt)
        if dom not in recall or not 0.0 <= recall[dom] <= 1.0:
            raise ValueError(f"image {gt['img_id']!r}: recall for domain {dom!r} must be given in [0, 1]; "
                             f"got {dict(recall)}")  # fmt: skip
        boxes = np.asarray(gt["bboxes"], np.float32).reshape(-1, 4)
        found = boxes[rng.random(len(boxes)) < recall[dom]]
        fas = [_false_alarm(rng, int(gt["width"]), int(gt["height"]), boxes)
               for _ in range(rng.poisson(false_alarms_per_image))]  # fmt: skip
        scores = np.concatenate([rng.uniform(0.3, 1.0, len(found)), rng.uniform(0.0, 0.8, len(fas))])
        out.append({"img_id": gt["img_id"], "bboxes": np.vstack([found, np.asarray(fas, np.float32).reshape(-1, 4)]),
                    "scores": scores.astype(np.float32)})  # fmt: skip
    return out


def flag_small_groups(table: pd.DataFrame, min_targets: int = MIN_TARGETS) -> pd.DataFrame:
    """``table`` (a per-group score table) with ``few targets`` = fewer than ``min_targets`` targets: such
    groups' AP50/Recall rest on a handful of boxes and are shown marked, never compared."""
    out = table.copy()
    out["few targets"] = out["num_targets"] < min_targets
    return out

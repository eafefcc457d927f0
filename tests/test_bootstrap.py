"""Per-detection outcomes and the paired bootstrap: exact against mmdet's eval_map, paired, pooled."""

from __future__ import annotations

import numpy as np
import pytest

from auxdet.evaluation.bootstrap import (
    outcomes_from_records,
    paired_bootstrap,
    pooled_bootstrap,
    weighted_ap_recall,
)
from auxdet.evaluation.records import ImageEval
from auxdet.evaluation.voc import voc_ap_recall

DOMAINS = ("Air/LWIR", "Land/LWIR", "Space/NIR")


def _records(seed: int, n: int = 40, quality: float = 0.7) -> list[ImageEval]:
    """Images with 0–3 targets; detections = jittered targets (found with prob. ``quality``) + clutter."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        k = int(rng.integers(0, 4))
        xy = rng.uniform(0, 100, (k, 2))
        gts = np.hstack([xy, xy + rng.uniform(4, 12, (k, 2))]).astype(np.float32)
        found = gts[rng.random(k) < quality]
        found = found + rng.normal(0, 0.8, found.shape).astype(np.float32)
        m = int(rng.integers(0, 4))
        cxy = rng.uniform(0, 100, (m, 2))
        clutter = np.hstack([cxy, cxy + rng.uniform(4, 12, (m, 2))]).astype(np.float32)
        dets = np.vstack([found, clutter]).astype(np.float32)
        scores = np.concatenate([rng.uniform(0.4, 1.0, len(found)), rng.uniform(0.0, 0.8, m)]).astype(np.float32)
        platform, band = DOMAINS[i % 3].split("/")
        out.append(ImageEval(f"{seed}-{i}", dets, scores, np.zeros(len(dets), np.int64), gts,
                             np.zeros(len(gts), np.int64), np.zeros((0, 4), np.float32), np.zeros(0, np.int64),
                             {"platform": platform, "band": band}))
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_weights_of_one_reproduce_mmdet_eval_map(seed: int) -> None:
    records = _records(seed)
    ap, recall = weighted_ap_recall(outcomes_from_records(records))
    ref_ap, ref_recall, _, _ = voc_ap_recall(records)
    assert ap[0] == pytest.approx(ref_ap, abs=1e-6) and recall[0] == pytest.approx(ref_recall, abs=1e-6)
    # a per-domain subset equals eval_map on that domain's images alone
    out = outcomes_from_records(records).subset(lambda g: g == "Land/LWIR")
    sub = [r for r in records if r.meta["platform"] == "Land"]
    assert weighted_ap_recall(out)[0][0] == pytest.approx(voc_ap_recall(sub)[0], abs=1e-6)


def test_integer_weights_equal_duplicated_images() -> None:
    records = _records(3, n=12)
    weights = np.array([2, 0, 1, 3, 0, 1, 1, 2, 0, 1, 1, 1])
    dup = [r for r, w in zip(records, weights, strict=True) for _ in range(w)]
    ap, recall = weighted_ap_recall(outcomes_from_records(records), weights)
    ref_ap, ref_recall, _, _ = voc_ap_recall(dup)
    assert ap[0] == pytest.approx(ref_ap, abs=1e-6) and recall[0] == pytest.approx(ref_recall, abs=1e-6)


def test_paired_bootstrap_identity_and_a_real_difference() -> None:
    good, bad = _records(5, 60, quality=0.95), _records(5, 60, quality=0.4)
    a, b = outcomes_from_records(good), outcomes_from_records(bad)
    same = paired_bootstrap(a, a, n=200)
    assert same.diff == 0 and same.lo == 0 and same.hi == 0 and not same.excludes_zero
    res = paired_bootstrap(a, b, n=400, seed=1)
    assert res.diff > 0 and res.lo <= res.diff <= res.hi and res.excludes_zero
    with pytest.raises(ValueError, match="same test images"):
        paired_bootstrap(a, outcomes_from_records(_records(6, 60)))
    pooled = pooled_bootstrap([(a, b), (a, a)], n=300, seed=2)
    assert pooled.diff == pytest.approx(res.diff / 2)

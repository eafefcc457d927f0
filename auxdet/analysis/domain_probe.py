"""Can the domain be read off the pixels? A linear probe on global image statistics.

The measurement behind the domain-ambiguity knob (:mod:`auxdet.data.synthetic`): 15 global statistics
per image (:func:`image_statistics` — intensity level and spread, percentiles, gradient and stripe
energy, top-vs-bottom brightness, aspect ratio) and a multinomial logistic regression (torch, L2,
L-BFGS) trained on one split and scored on another. High held-out accuracy: the scene tells the
domain, so a detector need not read the metadata; accuracy at the majority-class rate: it cannot.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch

__all__ = ["FEATURES", "domain_probe", "examples_per_domain", "image_statistics", "probe_synthetic"]

FEATURES: tuple[str, ...] = (
    "mean", "std", "p01", "p05", "p25", "p50", "p75", "p95", "p99", "grad_mean", "grad_p95",
    "col_stripe", "row_stripe", "top_minus_bottom", "aspect",
)


def image_statistics(image: np.ndarray) -> np.ndarray:
    """The 15 :data:`FEATURES` of a grey image (uint8 or float in [0, 1]) as a float64 vector."""
    x = np.asarray(image, np.float64)
    if x.ndim == 3:
        x = x.mean(axis=2)
    if x.max() > 1.0:
        x = x / 255.0
    h, w = x.shape
    p = np.percentile(x, [1, 5, 25, 50, 75, 95, 99])
    gy, gx = np.gradient(x)
    g = np.hypot(gx, gy)
    top, bottom = x[: max(1, h // 3)].mean(), x[-max(1, h // 3) :].mean()
    return np.array([x.mean(), x.std(), *p, g.mean(), np.percentile(g, 95), x.mean(0).std(), x.mean(1).std(),
                     top - bottom, w / h])


def _fit(x: torch.Tensor, y: torch.Tensor, k: int, l2: float, steps: int) -> torch.nn.Linear:
    model = torch.nn.Linear(x.shape[1], k, dtype=torch.float64)
    opt = torch.optim.LBFGS(model.parameters(), max_iter=steps, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y) + l2 * model.weight.square().sum()
        loss.backward()
        return loss

    opt.step(closure)
    return model


def domain_probe(
    train_features: np.ndarray, train_domains: Sequence[str], test_features: np.ndarray,
    test_domains: Sequence[str], *, l2: float = 1e-3, steps: int = 200,
) -> pd.DataFrame:
    """Held-out accuracy of the linear domain probe, overall and per true domain (with n and chance).

    Returns one row per domain plus ``overall``: ``domain, n, accuracy, chance`` (chance = the share of
    the most frequent training domain, the accuracy of always guessing it).
    """
    classes = sorted(set(train_domains))
    index = {c: i for i, c in enumerate(classes)}
    unknown = sorted(set(test_domains) - set(classes))
    if unknown:
        raise ValueError(f"domain_probe: test domains {unknown} never seen in training; seen: {classes}")
    mu, sd = train_features.mean(0), train_features.std(0) + 1e-9
    xt = torch.as_tensor((train_features - mu) / sd)
    yt = torch.as_tensor([index[d] for d in train_domains])
    model = _fit(xt, yt, len(classes), l2, steps)
    with torch.no_grad():
        pred = model(torch.as_tensor((test_features - mu) / sd)).argmax(1).numpy()
    truth = np.array([index[d] for d in test_domains])
    chance = float(np.bincount(yt.numpy()).max() / len(yt))
    rows = [{"domain": "overall", "n": len(truth), "accuracy": float((pred == truth).mean()), "chance": chance}]
    for c in classes:
        sel = truth == index[c]
        if sel.any():
            rows.append({"domain": c, "n": int(sel.sum()), "accuracy": float((pred[sel] == truth[sel]).mean()),
                         "chance": chance})
    return pd.DataFrame(rows)


def probe_synthetic(config: object, num_images: int = 600, seed: int = 0, train_fraction: float = 0.7,
                    progress: bool = False) -> pd.DataFrame:
    """:func:`domain_probe` on ``num_images`` synthetic images rendered in memory with ``config`` (a
    :class:`~auxdet.data.synthetic.SynthConfig`): the first ``train_fraction`` train the probe, the rest
    score it. The measurement that the ambiguity knob does what it says."""
    from tqdm.auto import tqdm

    from auxdet.data.synthetic import generate_sample

    feats, doms = [], []
    for i in tqdm(range(int(num_images)), desc="domain probe", disable=not progress):
        s = generate_sample(i, seed, config)  # type: ignore[arg-type]
        feats.append(image_statistics(s.image))
        doms.append(s.info["domain"])
    x, n = np.stack(feats), int(len(feats) * train_fraction)
    return domain_probe(x[:n], doms[:n], x[n:], doms[n:])


def examples_per_domain(config: object, seed: int = 0, *, start: int = 0, per_domain: int = 1,
                        max_scan: int = 2000) -> list:
    """Synthetic samples with targets, ``per_domain`` per platform/band domain (in the generator's domain
    order), rendered with ``config`` from image index ``start`` on (e.g. past a dataset's last image, so they
    are held out). Raises if ``max_scan`` images do not hold enough of every domain."""
    from auxdet.data.synthetic import LOOKS, generate_sample
    from auxdet.data.synthetic.render import synthetic_metadata_table

    table = synthetic_metadata_table(start + max_scan, seed, config).iloc[start:]  # type: ignore[arg-type]
    picked: dict[str, list] = {key: [] for key in LOOKS}
    for row in table[table["target_area"] > 0].itertuples(index=False):
        key = f"{row.platform}/{row.band}"
        if key in picked and len(picked[key]) < per_domain:
            sample = generate_sample(int(row.id), seed, config)  # type: ignore[arg-type]
            if sample.info["targets"]:  # a planned target can find no room when rendered (rare)
                picked[key].append(sample)
        if all(len(v) == per_domain for v in picked.values()):
            return [s for key in LOOKS for s in picked[key]]
    short = {k: len(v) for k, v in picked.items() if len(v) < per_domain}
    raise ValueError(f"examples_per_domain: only {short} samples with targets in {max_scan} images; raise max_scan")

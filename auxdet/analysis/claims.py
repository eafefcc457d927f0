"""The paper's Appendix A claims about the metadata, recomputed: how platform, band and resolution couple.

* :func:`space_nir_claim` — "space-based images are predominantly NIR (up to 97.93 % in our training
  set)", with the range the split ids missing from the table allow;
* :func:`platform_resolution_coupling` / :func:`platform_given` — "a large proportion of air-based
  images have a fixed resolution of 256×256", and who else shares a band/resolution;
* :func:`metadata_redundancy` — how much each field (or pair) tells about the platform, in bits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from auxdet.analysis.distributions import ordered, resolution_distribution
from auxdet.analysis.metadata_table import MetadataTable
from auxdet.metadata import PLATFORMS

__all__ = [
    "PAPER_SPACE_NIR_PERCENT",
    "SpaceNIRClaim",
    "metadata_redundancy",
    "platform_given",
    "platform_resolution_coupling",
    "space_nir_claim",
]

PAPER_SPACE_NIR_PERCENT = 97.93  # Appendix A: "up to 97.93% in our training set"


@dataclass(frozen=True)
class SpaceNIRClaim:
    """Appendix A's "space-based images are 97.93 % NIR in the training set", recomputed.

    ``computed_percent`` uses the rows present; ``bounds_percent`` is the range the true value can take
    whatever the platform/band of the split ids missing from the table; ``missing_non_nir_needed`` is how
    many of those would have to be Space non-NIR images to reproduce the paper's number.
    """

    source: str
    split: str
    paper_percent: float
    computed_percent: float
    space_images: int
    space_nir_images: int
    missing_ids: int
    bounds_percent: tuple[float, float]
    missing_non_nir_needed: float

    @property
    def paper_within_bounds(self) -> bool:
        lo, hi = self.bounds_percent
        return lo - 0.005 <= self.paper_percent <= hi + 0.005


def space_nir_claim(
    meta: MetadataTable, split: str = "train", paper_percent: float = PAPER_SPACE_NIR_PERCENT
) -> SpaceNIRClaim:
    """Recompute Appendix A's Space→NIR share on a split (see :class:`SpaceNIRClaim`)."""
    df = meta.split(split)
    space = df[df.platform == "Space"]
    n, k = len(space), int((space.band == "NIR").sum())
    if n == 0:
        raise ValueError(f"the {meta.source} {split} split has no Space images; cannot compute the NIR share")
    m = len(meta.missing.get(split, []))
    lo = 100.0 * k / (n + m)  # every missing id a Space non-NIR image
    hi = 100.0 * max(k / n, (k + m) / (n + m))  # missing ids all non-Space, or all Space NIR
    need = k / (paper_percent / 100.0) - n  # x with k / (n + x) = paper
    return SpaceNIRClaim(meta.source, split, paper_percent, 100.0 * k / n, n, k, m, (lo, hi), need)


def platform_resolution_coupling(df: pd.DataFrame) -> pd.DataFrame:
    """Per platform: its most common resolution, that resolution's share, the 256×256 share, how many
    distinct resolutions it has, and P(platform | its top resolution) — the platform⇄resolution coupling.
    """
    res = resolution_distribution(df)
    all_res = df.groupby(["width", "height"]).size()
    rows = []
    for platform, g in res.groupby("platform", sort=False):
        top = g.iloc[0]
        s256 = g[(g.width == 256) & (g.height == 256)]["count"].sum()
        rows.append(dict(
            platform=platform, images=int(g["count"].sum()), resolutions=len(g),
            top_resolution=top.resolution, top_share=float(top.percent_of_platform),
            share_256x256=100.0 * s256 / g["count"].sum(),
            platform_share_of_top_resolution=100.0 * top["count"] / all_res[(top.width, top.height)],
        ))  # fmt: skip
    return pd.DataFrame(rows)


def platform_given(df: pd.DataFrame, **conditions: Any) -> pd.DataFrame:
    """Platform counts / percents among the images matching ``conditions`` (e.g. band='LWIR', width=256)."""
    bad = [k for k in conditions if k not in df.columns]
    if bad:
        raise ValueError(f"unknown columns {bad}; valid: {list(df.columns)}")
    mask = np.ones(len(df), dtype=bool)
    for k, v in conditions.items():
        mask &= (df[k] == v).to_numpy()
    counts = df[mask].platform.value_counts().reindex(ordered(df.platform, PLATFORMS), fill_value=0)
    out = counts.rename("count").reset_index()
    out.columns = ["platform", "count"]
    out["percent"] = 100.0 * out["count"] / max(int(mask.sum()), 1)
    return out


def _entropy_bits(counts: np.ndarray) -> float:
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log2(p)).sum())


def metadata_redundancy(df: pd.DataFrame) -> pd.DataFrame:
    """How much each metadata field (or pair) tells about the platform: conditional entropies in bits.

    Rows: H(platform), H(platform | band), H(platform | resolution), H(platform | band, resolution),
    H(band | platform), H(resolution | platform); ``fraction_explained`` = 1 − H(·|·)/H(target).
    """
    d = df.assign(resolution=df.width.astype(str) + "×" + df.height.astype(str))

    def cond(target: str, given: list[str]) -> float:
        if not given:
            return _entropy_bits(d[target].value_counts().to_numpy())
        joint = d.groupby(given + [target]).size()
        h_joint = _entropy_bits(joint.to_numpy())
        h_given = _entropy_bits(d.groupby(given).size().to_numpy())
        return h_joint - h_given

    specs = [("platform", []), ("platform", ["band"]), ("platform", ["resolution"]),
             ("platform", ["band", "resolution"]), ("band", ["platform"]), ("resolution", ["platform"])]  # fmt: skip
    rows = []
    for target, given in specs:
        h, h0 = cond(target, given), cond(target, [])
        name = f"H({target}" + (f" | {', '.join(given)})" if given else ")")
        rows.append(dict(quantity=name, target=target, given=", ".join(given) or "-", bits=max(h, 0.0),
                         fraction_explained=(1.0 - h / h0) if h0 > 0 else np.nan))  # fmt: skip
    return pd.DataFrame(rows)


"""Metadata analysis behind the paper's Fig. 1 and Appendix A (pandas / numpy).

Real table: WideIRSTD-Full's ``statistics.txt`` (tab separated, one image per line:
``id  platform  band  width  height  target_area``) with the split files ``train.txt`` (7000 ids)
and ``test.txt`` (2000 ids; the paper's validation set). The column order width-then-height is
inferred from the sizes (640×512, 720×480, 320×240 are the usual IR sensor formats, and SIRST-V2's
78 images of 640 wide × 512 high match the 78 Land rows ``640 512``). ``target_area`` is the image's
total target pixel area (0 = no target pixels).

When the real table is absent, :func:`load_metadata_table` falls back to the synthetic generator
(``auxdet.data.synthetic.synthetic_metadata_table``) and labels the result ``source='synthetic'``:
every function here works on either and callers must show which source they used.

Target-size classes (pixel area ``a``, per image): ``point`` a ≤ 9 (≤ 3×3 px: a point source blurred
by the optics' PSF), ``spot`` 9 < a ≤ 81 (up to 9×9 px: SPIE's definition of a *small* target as
< 80 px, 0.15 % of a 256×256 frame), ``extended`` a > 81, ``none`` a = 0. These follow the
point / spot / extended taxonomy of the paper's introduction; the thresholds are ours.

Local contrast (:func:`target_contrast`, vectorised with integral images): for a target T and the
ring R of pixels at Chebyshev distance ``gap`` < d ≤ ``gap + ring`` from T's bounding box (pixels of
any target excluded), with means μ_T, μ_R and ring standard deviation σ_R:
``contrast = μ_T − μ_R``, ``peak_contrast = max_T − μ_R``, ``scr = (μ_T − μ_R) / σ_R`` (signal-to-clutter
ratio; ±inf on a perfectly flat ring), ``lcr = μ_T / μ_R`` (local contrast ratio).
"""

from __future__ import annotations

import importlib
import random
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import ndimage
from tqdm import tqdm

from auxdet import paths
from auxdet.metadata import BANDS, PLATFORMS, MetadataError, Vocabulary

COLUMNS: tuple[str, ...] = ("id", "platform", "band", "width", "height", "target_area", "split")
SIZE_THRESHOLDS: dict[str, int] = {"point": 9, "spot": 81}  # inclusive upper bounds, pixels
SIZE_CLASSES: tuple[str, ...] = ("none", "point", "spot", "extended")
PAPER_SPACE_NIR_PERCENT = 97.93  # Appendix A: "up to 97.93% in our training set"
#: The synthetic stand-in for the real table: a function ``(num_images, seed) -> DataFrame`` with
#: :data:`COLUMNS` (``split`` optional).
SYNTHETIC_FUNCTION = "auxdet.data.synthetic:synthetic_metadata_table"
CONTRAST_COLUMNS: tuple[str, ...] = (
    "target", "x0", "y0", "x1", "y1", "target_pixels", "target_mean", "target_peak",
    "bg_pixels", "bg_mean", "bg_std", "contrast", "peak_contrast", "scr", "lcr",
)  # fmt: skip


# ----------------------------------------------------------------------------------------------
# Loading the metadata table
# ----------------------------------------------------------------------------------------------
@dataclass
class MetadataTable:
    """The per-image metadata table and where it came from.

    ``table`` has :data:`COLUMNS` (``split`` ∈ {'train', 'test', 'none'}); ``source`` is ``'real'`` or
    ``'synthetic'``; ``origin`` the folder or function it came from; ``split_sizes`` the number of ids
    in each split file; ``missing`` the split ids that have no row in the statistics file.
    """

    table: pd.DataFrame
    source: str
    origin: str
    split_sizes: dict[str, int] = field(default_factory=dict)
    missing: dict[str, list[str]] = field(default_factory=dict)

    def split(self, name: str) -> pd.DataFrame:
        """Rows of one split ('train' / 'test'); raises ValueError naming the valid splits."""
        valid = sorted(set(self.table["split"]))
        if name not in valid:
            raise ValueError(f"unknown split {name!r} in the {self.source} table; valid: {valid}")
        return self.table[self.table["split"] == name]

    def describe(self) -> str:
        """One line per fact: source, rows, split coverage."""
        lines = [f"source: {self.source} ({self.origin}); {len(self.table)} images"]
        for name, n in self.split_sizes.items():
            miss = len(self.missing.get(name, []))
            lines.append(f"  {name}: {n} ids in the split file, {n - miss} in the table, {miss} missing")
        if not self.split_sizes:
            for name, n in self.table["split"].value_counts().items():
                lines.append(f"  {name}: {n} images (no split files: every id is in the table)")
        return "\n".join(lines)


def read_statistics(path: str | Path, vocab: Vocabulary | None = None) -> pd.DataFrame:
    """Parse a WideIRSTD ``statistics.txt`` into columns id/platform/band/width/height/target_area.

    Platform and band are canonicalised by the vocabulary; malformed lines raise
    :class:`~auxdet.metadata.MetadataError` naming the file, the line and the bad value.
    """
    path = Path(path)
    vocab = vocab or Vocabulary()
    if not path.is_file():
        raise FileNotFoundError(f"metadata statistics file not found: '{path}'")
    names = ["id", "platform", "band", "width", "height", "target_area"]
    raw = pd.read_csv(path, sep="\t", header=None, dtype=str, keep_default_na=False, comment=None)
    if raw.shape[1] != len(names):
        raise MetadataError(f"'{path}': expected {len(names)} tab-separated columns {names}, found {raw.shape[1]}")
    raw.columns = names
    raw = raw.apply(lambda c: c.str.strip())
    for col in ("platform", "band"):
        mapping: dict[str, str] = {}
        for value in raw[col].unique():
            line = int(np.flatnonzero(raw[col].to_numpy() == value)[0]) + 1
            mapping[value] = vocab.canonical(col, value, image=f"{path.name}:{line} (id {raw.id[line - 1]})")
        raw[col] = raw[col].map(mapping)
    for col in ("width", "height", "target_area"):
        num = pd.to_numeric(raw[col], errors="coerce")
        bad = num.isna() | (num != num.round()) | ((num <= 0) if col != "target_area" else (num < 0))
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            need = "a positive integer" if col != "target_area" else "a non-negative integer"
            raise MetadataError(
                f"'{path}' line {i + 1} (id {raw.id[i]}): field '{col}' must be {need}, got {raw[col][i]!r}"
            )
        raw[col] = num.astype("int64")
    dup = raw.id.duplicated()
    if dup.any():
        raise MetadataError(f"'{path}': duplicate image ids {raw.id[dup].unique()[:5].tolist()}")
    return raw


def _read_ids(path: Path) -> list[str]:
    return [s for s in (line.strip() for line in path.read_text().splitlines()) if s]


class SyntheticUnavailable(FileNotFoundError):
    """The synthetic stand-in (``auxdet.data.synthetic``) needed for a fallback does not exist (yet)."""


def _synthetic_function(spec: str, why: str) -> Any:
    module_name, func_name = spec.split(":")
    try:
        return getattr(importlib.import_module(module_name), func_name)
    except (ImportError, AttributeError) as e:
        raise SyntheticUnavailable(f"{why}, and {spec} is not available ({type(e).__name__}: {e})") from None


def _load_synthetic(n: int | None, seed: int) -> pd.DataFrame:
    func = _synthetic_function(SYNTHETIC_FUNCTION, "the real metadata table is missing")
    df = func(**({} if n is None else {"num_images": n}), seed=seed)
    missing = [c for c in COLUMNS if c not in df.columns and c != "split"]
    if missing:
        raise ValueError(f"{SYNTHETIC_FUNCTION} returned a table without columns {missing}; need {list(COLUMNS)}")
    df = df.copy()
    if "split" not in df.columns:
        df["split"] = "train"
    return df[list(COLUMNS)].reset_index(drop=True)


def synthetic_contrast_samples(
    n_per_domain: int, seed: int = 0, max_size: int | None = 512, progress: bool = False
) -> Iterator[dict[str, Any]]:
    """Synthetic images of every platform/band domain for :func:`contrast_table` (``auxdet.data.synthetic``).

    ``n_per_domain`` images per domain (stratified: Space/SWIR is 0.2 % of the real mix), each at the
    domain's most common native resolution, rendered with ``SynthConfig(max_size=max_size,
    empty_prob=0)`` (every image has targets). Their contrast reflects the generator's design, not
    the real data. Raises :class:`SyntheticUnavailable` if the generator is missing.
    """
    try:
        from auxdet.data import domains, synthetic
        from auxdet.metadata import ImageMeta
    except ImportError as e:  # pragma: no cover - depends on the synthetic helper's module
        raise SyntheticUnavailable(f"synthetic images were requested, but auxdet.data.synthetic cannot be imported: {e}") from None
    cfg = synthetic.SynthConfig(max_size=max_size, empty_prob=0.0)
    for d, (platform, band) in enumerate(domains.DOMAINS):
        native_w, native_h = domains.DOMAIN_STATS["domains"][domains.domain_key(platform, band)]["resolutions"][0][:2]
        w, h, target_scale = cfg.rendered_size(native_w, native_h)
        for i in tqdm(range(n_per_domain), desc=f"render {platform}/{band}", disable=not progress):
            rng = synthetic.image_rng(seed, d * 1_000_000 + i)
            image, mask, _, _ = synthetic.render_image(
                ImageMeta(platform, band, w, h), rng, target_scale=target_scale, config=cfg
            )
            yield dict(image_id=f"synth-{platform}-{band}-{i:05d}", platform=platform, band=band, width=w, height=h,
                       source="synthetic", image=image.astype(np.float32) / 255.0, mask=mask)  # fmt: skip


def load_metadata_table(
    path: str | Path | None = None,
    *,
    synthetic_fallback: bool = True,
    synthetic_size: int | None = None,
    seed: int = 0,
) -> MetadataTable:
    """Load the WideIRSTD metadata table from ``path`` (default :func:`auxdet.paths.wideirstd_metadata_dir`).

    ``path`` is the folder holding ``statistics.txt`` (+ ``train.txt`` / ``test.txt``) or the statistics
    file itself. If it does not exist and ``synthetic_fallback`` is true, the synthetic table is
    returned instead (``source='synthetic'``); otherwise FileNotFoundError.
    """
    path = Path(path) if path is not None else paths.wideirstd_metadata_dir()
    stats = path if path.is_file() else path / "statistics.txt"
    if not stats.is_file():
        if not synthetic_fallback:
            raise FileNotFoundError(f"metadata statistics file not found: '{stats}'")
        return MetadataTable(_load_synthetic(synthetic_size, seed), "synthetic", SYNTHETIC_FUNCTION)
    df = read_statistics(stats)
    df["split"] = "none"
    sizes: dict[str, int] = {}
    missing: dict[str, list[str]] = {}
    known = set(df.id)
    for name in ("train", "test"):
        split_file = stats.parent / f"{name}.txt"
        if not split_file.is_file():
            continue
        ids = _read_ids(split_file)
        sizes[name] = len(ids)
        missing[name] = sorted(set(ids) - known)
        taken = df.id.isin(ids) & (df["split"] != "none")
        if taken.any():
            raise MetadataError(f"'{split_file}': ids also in another split: {df.id[taken].tolist()[:5]}")
        df.loc[df.id.isin(ids), "split"] = name
    return MetadataTable(df[list(COLUMNS)], "real", str(stats.parent), sizes, missing)


def split_coverage(meta: MetadataTable) -> pd.DataFrame:
    """Per split: ids in the split file, ids found in the table, ids missing (and the first/last missing id)."""
    rows = []
    for name, n in meta.split_sizes.items():
        miss = meta.missing.get(name, [])
        rows.append(dict(split=name, ids=n, in_table=n - len(miss), missing=len(miss),
                         first_missing=miss[0] if miss else None, last_missing=miss[-1] if miss else None))  # fmt: skip
    return pd.DataFrame(rows, columns=["split", "ids", "in_table", "missing", "first_missing", "last_missing"])


# ----------------------------------------------------------------------------------------------
# Distributions (Fig. 1 b, c and target sizes)
# ----------------------------------------------------------------------------------------------
def _ordered(values: Iterable[str], order: tuple[str, ...]) -> list[str]:
    vals = set(values)
    return [v for v in order if v in vals] + sorted(vals - set(order))


def platform_band_counts(df: pd.DataFrame) -> pd.DataFrame:
    """Joint platform × band counts (every combination, zeros included) in long form.

    Columns: platform, band, count, percent (of all images), percent_of_platform, percent_of_band.
    """
    platforms = _ordered(df.platform, PLATFORMS)
    bands = _ordered(df.band, BANDS)
    ct = pd.crosstab(df.platform, df.band).reindex(index=platforms, columns=bands, fill_value=0)
    out = ct.stack().rename("count").reset_index()
    out.columns = ["platform", "band", "count"]
    total = out["count"].sum()
    out["percent"] = 100.0 * out["count"] / total if total else np.nan
    out["percent_of_platform"] = 100.0 * out["count"] / out.groupby("platform")["count"].transform("sum")
    out["percent_of_band"] = 100.0 * out["count"] / out.groupby("band")["count"].transform("sum")
    return out


def resolution_distribution(df: pd.DataFrame) -> pd.DataFrame:
    """Image sizes per platform: platform, width, height, resolution ('W×H'), pixels, count, percent_of_platform."""
    g = df.groupby(["platform", "width", "height"]).size().rename("count").reset_index()
    g["resolution"] = g.width.astype(str) + "×" + g.height.astype(str)
    g["pixels"] = g.width * g.height
    g["percent_of_platform"] = 100.0 * g["count"] / g.groupby("platform")["count"].transform("sum")
    g["platform"] = pd.Categorical(g.platform, _ordered(g.platform, PLATFORMS))
    g = g.sort_values(["platform", "count"], ascending=[True, False]).reset_index(drop=True)
    g["platform"] = g["platform"].astype(str)
    return g[["platform", "width", "height", "resolution", "pixels", "count", "percent_of_platform"]]


def size_class(area: pd.Series | np.ndarray | Iterable[float]) -> pd.Categorical:
    """Target-size class of each pixel area: none (0), point (≤ 9), spot (≤ 81), extended (> 81)."""
    a = np.asarray(list(area) if not isinstance(area, pd.Series | np.ndarray) else area, dtype=float)
    if np.isnan(a).any() or (a < 0).any():
        raise ValueError(f"target areas must be non-negative numbers; got {a[np.isnan(a) | (a < 0)][:5].tolist()}")
    bins = [-np.inf, 0, SIZE_THRESHOLDS["point"], SIZE_THRESHOLDS["spot"], np.inf]
    return pd.cut(a, bins=bins, labels=list(SIZE_CLASSES), right=True)


def target_size_distribution(df: pd.DataFrame) -> pd.DataFrame:
    """Per platform and size class: count and percent of the platform's images (all classes listed)."""
    d = df.assign(size_class=size_class(df.target_area))
    platforms = _ordered(d.platform, PLATFORMS)
    ct = pd.crosstab(d.platform, d.size_class).reindex(index=platforms, columns=list(SIZE_CLASSES), fill_value=0)
    out = ct.stack().rename("count").reset_index()
    out.columns = ["platform", "size_class", "count"]
    out["percent_of_platform"] = 100.0 * out["count"] / out.groupby("platform")["count"].transform("sum")
    return out


def target_area_summary(df: pd.DataFrame) -> pd.DataFrame:
    """Per platform: images, images with targets, and quantiles of the non-zero target areas (pixels)."""
    with_t = df[df.target_area > 0]
    q = with_t.groupby("platform").target_area.quantile([0.1, 0.5, 0.9]).unstack()
    q.columns = ["area_p10", "area_median", "area_p90"]
    out = pd.DataFrame({"images": df.groupby("platform").size(), "with_targets": with_t.groupby("platform").size()})
    out = out.join(q).fillna({"with_targets": 0}).reindex(_ordered(out.index, PLATFORMS))
    out["with_targets"] = out["with_targets"].astype(int)
    return out.reset_index(names="platform")


# ----------------------------------------------------------------------------------------------
# Appendix A: couplings between platform, band and resolution
# ----------------------------------------------------------------------------------------------
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
    counts = df[mask].platform.value_counts().reindex(_ordered(df.platform, PLATFORMS), fill_value=0)
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


# ----------------------------------------------------------------------------------------------
# Local contrast of targets (Fig. 1 a)
# ----------------------------------------------------------------------------------------------
def _as_gray(image: np.ndarray) -> np.ndarray:
    img = np.asarray(image)
    if img.ndim == 3:
        img = img.mean(axis=2)
    if img.ndim != 2 or 0 in img.shape:
        raise ValueError(f"image must be H×W or H×W×C with non-empty H, W; got shape {np.shape(image)}")
    return img.astype(np.float64)


def _integral(a: np.ndarray) -> np.ndarray:
    s = np.zeros((a.shape[0] + 1, a.shape[1] + 1), dtype=np.float64)
    s[1:, 1:] = a.cumsum(0).cumsum(1)
    return s


def _rect_sum(s: np.ndarray, r0: np.ndarray, c0: np.ndarray, r1: np.ndarray, c1: np.ndarray) -> np.ndarray:
    """Sums over [r0, r1) × [c0, c1) for arrays of rectangles (integral image ``s``)."""
    return s[r1, c1] - s[r0, c1] - s[r1, c0] + s[r0, c0]


def target_contrast(
    image: np.ndarray, targets: np.ndarray, ring: int = 8, gap: int = 2
) -> pd.DataFrame:
    """Local contrast / signal-to-clutter ratio of every target against a surrounding ring.

    ``image``: H×W (or H×W×C, averaged) intensities. ``targets``: either an H×W mask (non-zero =
    target; targets are its 8-connected components, target statistics use the mask pixels) or an
    ``[N, 4]`` array of mmdet-style 0-based ``x1, y1, x2, y2`` boxes (pixels ``[floor x1, ceil x2)``;
    target statistics use the box pixels). The background ring of a target is the band of width
    ``ring`` around its bounding box grown by ``gap`` pixels, clipped to the image, with every target
    pixel excluded. Returns one row per target with :data:`CONTRAST_COLUMNS` (formulas in the module
    docstring); ``scr`` is ±inf for a flat ring, NaN if the ring is empty.
    """
    img = _as_gray(image)
    h, w = img.shape
    if ring < 1 or gap < 0:
        raise ValueError(f"ring must be ≥ 1 and gap ≥ 0 pixels; got ring={ring}, gap={gap}")
    t = np.asarray(targets)
    if t.shape == img.shape:  # a mask (checked first: an [N, 4] box array only matches a 4-px-wide image)
        tmask = t != 0
        labels, n = ndimage.label(tmask, structure=np.ones((3, 3), dtype=int))
        if n == 0:
            return pd.DataFrame(columns=list(CONTRAST_COLUMNS))
        slices = ndimage.find_objects(labels)
        r0 = np.array([s[0].start for s in slices]); r1 = np.array([s[0].stop for s in slices])  # noqa: E702
        c0 = np.array([s[1].start for s in slices]); c1 = np.array([s[1].stop for s in slices])  # noqa: E702
        idx = np.arange(1, n + 1)
        t_pix = np.asarray(ndimage.sum_labels(np.ones_like(img), labels, idx))
        t_mean = np.asarray(ndimage.mean(img, labels, idx))
        t_peak = np.asarray(ndimage.maximum(img, labels, idx))
    elif t.ndim == 2 and t.shape[1] == 4:
        if len(t) == 0:
            return pd.DataFrame(columns=list(CONTRAST_COLUMNS))
        b = t.astype(np.float64)
        if not np.isfinite(b).all() or (b[:, 2] <= b[:, 0]).any() or (b[:, 3] <= b[:, 1]).any():
            raise ValueError(f"boxes must be finite x1<x2, y1<y2 (0-based xyxy); got {b[:3].tolist()}…")
        c0 = np.clip(np.floor(b[:, 0]), 0, w).astype(int); c1 = np.clip(np.ceil(b[:, 2]), 0, w).astype(int)  # noqa: E702
        r0 = np.clip(np.floor(b[:, 1]), 0, h).astype(int); r1 = np.clip(np.ceil(b[:, 3]), 0, h).astype(int)  # noqa: E702
        if ((c1 <= c0) | (r1 <= r0)).any():
            raise ValueError(f"boxes lie outside the {w}×{h} image: {b[(c1 <= c0) | (r1 <= r0)][:3].tolist()}")
        n = len(b)
        tmask = np.zeros_like(img, dtype=bool)
        for i in range(n):  # rasterise the union of the boxes (N is small)
            tmask[r0[i]:r1[i], c0[i]:c1[i]] = True
        s_img = _integral(img)
        t_pix = ((r1 - r0) * (c1 - c0)).astype(float)
        t_mean = _rect_sum(s_img, r0, c0, r1, c1) / t_pix
        t_peak = np.array([img[r0[i]:r1[i], c0[i]:c1[i]].max() for i in range(n)])
    else:
        raise ValueError(
            f"targets must be an H×W mask matching the image {img.shape} or an [N, 4] box array; got shape {t.shape}"
        )
    bg = ~tmask
    s_cnt, s_sum, s_sq = _integral(bg.astype(float)), _integral(img * bg), _integral(img * img * bg)

    def grown(k: int) -> tuple[np.ndarray, ...]:
        return (np.clip(r0 - k, 0, h), np.clip(c0 - k, 0, w), np.clip(r1 + k, 0, h), np.clip(c1 + k, 0, w))

    outer, inner = grown(gap + ring), grown(gap)
    cnt = _rect_sum(s_cnt, *outer) - _rect_sum(s_cnt, *inner)
    tot = _rect_sum(s_sum, *outer) - _rect_sum(s_sum, *inner)
    sq = _rect_sum(s_sq, *outer) - _rect_sum(s_sq, *inner)
    with np.errstate(divide="ignore", invalid="ignore"):
        mu = np.where(cnt > 0, tot / np.maximum(cnt, 1), np.nan)
        var = np.where(cnt > 0, sq / np.maximum(cnt, 1) - mu**2, np.nan)
        sd = np.sqrt(np.clip(var, 0, None))
        sd = np.where(sd < 1e-9 * np.maximum(np.abs(mu), 1.0), 0.0, sd)  # round-off on flat rings
        contrast = t_mean - mu
        scr = contrast / sd
        lcr = t_mean / mu
    return pd.DataFrame({
        "target": np.arange(n), "x0": c0, "y0": r0, "x1": c1, "y1": r1, "target_pixels": t_pix.astype(int),
        "target_mean": t_mean, "target_peak": t_peak, "bg_pixels": cnt.astype(int), "bg_mean": mu, "bg_std": sd,
        "contrast": contrast, "peak_contrast": t_peak - mu, "scr": scr, "lcr": lcr,
    })  # fmt: skip


def contrast_table(
    samples: Iterable[Mapping[str, Any]], ring: int = 8, gap: int = 2, progress: bool = True, total: int | None = None
) -> pd.DataFrame:
    """:func:`target_contrast` over many images.

    Each sample is a mapping with ``image``, either ``mask`` or ``boxes``, and metadata keys
    (``image_id``, ``platform``, ``band``, …) that are copied onto each of its target rows.
    """
    frames = []
    for s in tqdm(samples, desc="target contrast", disable=not progress, total=total, mininterval=2.0):
        if "mask" in s and s["mask"] is not None:
            targets = s["mask"]
        elif "boxes" in s:
            targets = s["boxes"]
        else:
            raise ValueError(f"sample {s.get('image_id', '?')!r} has neither 'mask' nor 'boxes'")
        df = target_contrast(s["image"], targets, ring=ring, gap=gap)
        if df.empty:
            continue
        for k, v in s.items():
            if k not in ("image", "mask", "boxes") and np.isscalar(v):
                df.insert(0, k, v)
        frames.append(df)
    if not frames:
        return pd.DataFrame(columns=list(CONTRAST_COLUMNS))
    return pd.concat(frames, ignore_index=True)


# ----------------------------------------------------------------------------------------------
# Real images: SIRST-V2 (Land / LWIR)
# ----------------------------------------------------------------------------------------------
def load_gray(path: str | Path) -> np.ndarray:
    """An IR image of any PNG mode as float32 gray in [0, 1].

    Uses ``auxdet.data.loading.load_ir_image`` when it imports (it needs mmcv); otherwise Pillow
    (palette / RGBA / RGB / L / 16-bit all converted; >8-bit scaled by the image's own min–max).
    """
    try:
        from auxdet.data.loading import load_ir_image
    except ImportError:
        load_ir_image = None
    if load_ir_image is not None:
        return (load_ir_image(path).mean(axis=2) / 255.0).astype(np.float32)
    from PIL import Image

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"image file not found: '{path}'")
    with Image.open(path) as im:
        if im.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
            a = np.asarray(im, dtype=np.float64)
            lo, hi = a.min(), a.max()
            return ((a - lo) / (hi - lo) if hi > lo else np.zeros_like(a)).astype(np.float32)
        rgb = im.convert("RGBA").convert("RGB") if im.mode in ("P", "PA", "LA") else im.convert("RGB")
        return (np.asarray(rgb, dtype=np.float32).mean(axis=2) / 255.0).astype(np.float32)


def load_mask(path: str | Path) -> np.ndarray:
    """A target mask PNG (any mode) as a boolean H×W array (non-zero = target)."""
    from PIL import Image

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"mask file not found: '{path}'")
    with Image.open(path) as im:
        a = np.asarray(im.convert("L") if im.mode not in ("L", "1", "I", "I;16") else im)
    return a != 0


def sirst_v2_ids(root: str | Path | None = None, split: str | None = None) -> list[str]:
    """Image ids of SIRST-V2 (all images, or one split 'train'/'val'/'test')."""
    root = Path(root) if root is not None else paths.sirst_v2_dir()
    if split is None:
        ids = sorted(p.stem for p in (root / "images").glob("*.png"))
    else:
        f = root / "splits" / f"{split}.txt"
        if not f.is_file():
            valid = sorted(p.stem for p in (root / "splits").glob("*.txt"))
            raise ValueError(f"unknown SIRST-V2 split {split!r} ('{f}' missing); valid: {valid}")
        ids = _read_ids(f)
    if not ids:
        raise FileNotFoundError(f"no SIRST-V2 images found under '{root}'")
    return ids


def sirst_v2_samples(
    root: str | Path | None = None, ids: list[str] | None = None, limit: int | None = None, seed: int = 0
) -> Iterator[dict[str, Any]]:
    """Yield SIRST-V2 samples (Land / LWIR) for :func:`contrast_table`: image (gray [0,1]), mask, metadata.

    ``limit`` draws a reproducible random subset of ``ids`` (SMOKE runs).
    """
    root = Path(root) if root is not None else paths.sirst_v2_dir()
    ids = list(ids) if ids is not None else sirst_v2_ids(root)
    if limit is not None and limit < len(ids):
        ids = sorted(random.Random(seed).sample(ids, limit))
    for image_id in ids:
        image = load_gray(root / "images" / f"{image_id}.png")
        mask = load_mask(root / "masks" / f"{image_id}.png")
        if mask.shape != image.shape:
            raise ValueError(f"SIRST-V2 '{image_id}': mask {mask.shape} and image {image.shape} differ in size")
        yield dict(image_id=image_id, platform="Land", band="LWIR", width=image.shape[1], height=image.shape[0],
                   source="real (SIRST-V2)", image=image, mask=mask)  # fmt: skip


def summarise_contrast(df: pd.DataFrame, by: tuple[str, ...] = ("platform", "band")) -> pd.DataFrame:
    """Median / IQR of contrast and SCR per group (finite SCR values only; flat rings are counted)."""
    g = df.groupby(list(by))
    finite = df[np.isfinite(df.scr)]
    out = pd.DataFrame({
        "targets": g.size(),
        "contrast_median": g.contrast.median(),
        "contrast_iqr": g.contrast.quantile(0.75) - g.contrast.quantile(0.25),
        "scr_median": finite.groupby(list(by)).scr.median(),
        "flat_rings": g.scr.apply(lambda s: int(np.isinf(s).sum())),
    })  # fmt: skip
    return out.reset_index()

"""Per-image auxiliary metadata: records, vocabulary and the paper's input encodings.

AuxDet conditions detection on three kinds of metadata per image (paper §3.1):
sensor *platform* (Air / Space / Land), spectral *band* (LWIR / NIR / SWIR) and *resolution* (w, h).

* :class:`ImageMeta` — the typed per-image record.
* :class:`Vocabulary` — the categorical values, case/whitespace tolerant, with an optional
  ``unknown`` bucket. An unknown value is otherwise an error naming image, field, value and valid values.
* :func:`one_hot` — the one-hot inputs of Eq. 1–2.
* :func:`resolution_embedding` — the periodic resolution embedding of Eq. 3.
* :class:`MetaBatch` / :func:`metas_from_data_samples` — the batch as tensors, gathered from the
  ``metainfo`` of mmdet ``DetDataSample`` objects (keys ``platform``, ``band``, ``width``, ``height``;
  width/height are the *original* image size).

All encodings are vectorised over the batch: the only per-sample step is reading the strings
from the data samples, done once per batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

PLATFORMS: tuple[str, ...] = ("Air", "Space", "Land")
BANDS: tuple[str, ...] = ("LWIR", "NIR", "SWIR")
META_KEYS: tuple[str, ...] = ("platform", "band", "width", "height")
UNKNOWN = "unknown"
OFFICIAL_SIGMA = 2048.0  # σ_w = σ_h of the official implementation (Eq. 3)


class MetadataError(ValueError):
    """Invalid or missing per-image metadata (message names image, field, value, valid values)."""


@dataclass(frozen=True)
class ImageMeta:
    """Metadata of one image. ``width``/``height`` are the original image size in pixels."""

    platform: str
    band: str
    width: int
    height: int

    def as_dict(self) -> dict[str, Any]:
        return {"platform": self.platform, "band": self.band, "width": self.width, "height": self.height}


def _norm(value: str) -> str:
    return " ".join(str(value).split()).casefold()


@dataclass(frozen=True)
class Vocabulary:
    """Values of the categorical metadata fields.

    ``allow_unknown=True`` adds one extra ``unknown`` bucket per field (an extra one-hot slot) that
    unseen values map to; by default an unseen value raises :class:`MetadataError`.
    """

    platforms: tuple[str, ...] = PLATFORMS
    bands: tuple[str, ...] = BANDS
    allow_unknown: bool = False
    _lookup: dict[str, dict[str, int]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "platforms", tuple(self.platforms))
        object.__setattr__(self, "bands", tuple(self.bands))
        lookup: dict[str, dict[str, int]] = {}
        for name, values in (("platform", self.platforms), ("band", self.bands)):
            if not values:
                raise MetadataError(f"vocabulary field '{name}' is empty")
            keys = [_norm(v) for v in values]
            if len(set(keys)) != len(keys):
                raise MetadataError(f"vocabulary field '{name}' has duplicate values: {values}")
            if UNKNOWN in keys:
                raise MetadataError(f"'{UNKNOWN}' is reserved; enable it with allow_unknown=True")
            lookup[name] = {k: i for i, k in enumerate(keys)}
        object.__setattr__(self, "_lookup", lookup)

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any] | Vocabulary | None) -> Vocabulary:
        """Build from a config dict ``dict(platforms=[...], bands=[...], allow_unknown=False)``."""
        if cfg is None:
            return cls()
        if isinstance(cfg, Vocabulary):
            return cfg
        unknown_keys = set(cfg) - {"platforms", "bands", "allow_unknown"}
        if unknown_keys:
            raise MetadataError(
                f"unknown vocabulary config keys {sorted(unknown_keys)}; valid: platforms, bands, allow_unknown"
            )
        return cls(
            platforms=tuple(cfg.get("platforms", PLATFORMS)),
            bands=tuple(cfg.get("bands", BANDS)),
            allow_unknown=bool(cfg.get("allow_unknown", False)),
        )

    def values(self, name: str) -> tuple[str, ...]:
        if name == "platform":
            return self.platforms
        if name == "band":
            return self.bands
        raise MetadataError(f"unknown categorical field '{name}'; valid: platform, band")

    def size(self, name: str) -> int:
        """One-hot length of a field (including the unknown bucket when enabled)."""
        return len(self.values(name)) + int(self.allow_unknown)

    @property
    def num_platforms(self) -> int:
        return self.size("platform")

    @property
    def num_bands(self) -> int:
        return self.size("band")

    def index(self, name: str, value: Any, image: str | None = None) -> int:
        """Index of ``value`` in field ``name`` (case/whitespace tolerant)."""
        valid = self.values(name)  # also rejects an unknown field name
        where = f"image '{image}': " if image else ""
        if value is None or (isinstance(value, str) and not value.strip()):
            raise MetadataError(f"{where}metadata field '{name}' is missing; valid values: {list(valid)}")
        idx = self._lookup[name].get(_norm(value))
        if idx is not None:
            return idx
        if self.allow_unknown:
            return len(valid)
        raise MetadataError(
            f"{where}metadata field '{name}' has unknown value {value!r}; valid values: "
            f"{list(valid)} (or enable the 'unknown' bucket: allow_unknown=True)"
        )

    def canonical(self, name: str, value: Any, image: str | None = None) -> str:
        """The vocabulary's spelling of ``value`` (``'unknown'`` for the unknown bucket)."""
        idx = self.index(name, value, image)
        values = self.values(name)
        return values[idx] if idx < len(values) else UNKNOWN

    def parse(self, platform: Any, band: Any, width: Any, height: Any, image: str | None = None) -> ImageMeta:
        """Validate and canonicalise one image's metadata."""
        w, h = _positive_int("width", width, image), _positive_int("height", height, image)
        return ImageMeta(self.canonical("platform", platform, image), self.canonical("band", band, image), w, h)


def _positive_int(name: str, value: Any, image: str | None) -> int:
    where = f"image '{image}': " if image else ""
    try:
        v = int(value)
        ok = v > 0 and float(value) == v
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise MetadataError(f"{where}metadata field '{name}' must be a positive integer, got {value!r}")
    return v


def one_hot(indices: Tensor, num_classes: int) -> Tensor:
    """One-hot encoding of platform / band indices — the inputs of Eq. 1 and Eq. 2.

    ``z_p = F_p(OneHot(platform))`` (Eq. 1), ``z_b = F_b(OneHot(band))`` (Eq. 2).
    Returns a float tensor ``[B, num_classes]``.
    """
    return torch.nn.functional.one_hot(indices.long(), num_classes).float()


def resolution_embedding(
    width: Tensor, height: Tensor, sigma_w: float = OFFICIAL_SIGMA, sigma_h: float = OFFICIAL_SIGMA
) -> Tensor:
    """Periodic resolution embedding, Eq. 3.

    ``z_r = ⊕_{k∈{sin,cos}} [k(w/σ_w), k(h/σ_h), k(w/h)]`` → ``[B, 6]`` ordered
    ``[sin(w/σw), sin(h/σh), sin(w/h), cos(w/σw), cos(h/σh), cos(w/h)]``.
    """
    w, h = width.float(), height.float()
    r = torch.stack([w / sigma_w, h / sigma_h, w / h], dim=-1)
    return torch.cat([torch.sin(r), torch.cos(r)], dim=-1)


@dataclass
class MetaBatch:
    """A batch of metadata as tensors: platform/band indices ``[B]`` and sizes ``[B]`` (pixels)."""

    platform: Tensor
    band: Tensor
    width: Tensor
    height: Tensor

    def __len__(self) -> int:
        return int(self.platform.shape[0])

    def to(self, device: torch.device | str) -> MetaBatch:
        """Move to ``device``; host → CUDA copies go through pinned memory without blocking the host."""
        device = torch.device(device)
        tensors = (self.platform, self.band, self.width, self.height)
        if device.type == "cuda" and self.platform.device.type == "cpu":
            return MetaBatch(*(t.pin_memory().to(device, non_blocking=True) for t in tensors))
        return MetaBatch(*(t.to(device) for t in tensors))

    @classmethod
    def from_metas(
        cls, metas: Sequence[ImageMeta | Mapping[str, Any]], vocab: Vocabulary, images: Sequence[str] | None = None
    ) -> MetaBatch:
        """Collate per-image metadata (records or dicts) into tensors; validates every field."""
        plat, band, wid, hei = [], [], [], []
        for i, m in enumerate(metas):
            d = m.as_dict() if isinstance(m, ImageMeta) else m
            img = images[i] if images is not None else None
            missing = [k for k in META_KEYS if k not in d]
            if missing:
                where = f"image '{img}'" if img else f"sample {i}"
                raise MetadataError(f"{where}: missing metadata fields {missing} (required: {list(META_KEYS)})")
            plat.append(vocab.index("platform", d["platform"], img))
            band.append(vocab.index("band", d["band"], img))
            wid.append(_positive_int("width", d["width"], img))
            hei.append(_positive_int("height", d["height"], img))
        return cls(torch.tensor(plat), torch.tensor(band), torch.tensor(wid), torch.tensor(hei))


def metas_from_data_samples(data_samples: Iterable[Any], vocab: Vocabulary) -> MetaBatch:
    """Gather the metadata carried in each ``DetDataSample.metainfo`` into a :class:`MetaBatch`.

    Raises :class:`MetadataError` naming the image when a sample carries no metadata: missing
    metadata is never silently encoded as zeros.
    """
    metas, images = [], []
    for s in data_samples:
        info = s.metainfo if hasattr(s, "metainfo") else dict(s)
        images.append(str(info.get("img_path", info.get("img_id", "?"))))
        metas.append({k: info.get(k) for k in META_KEYS if k in info})
    if not metas:
        raise MetadataError("no data samples: the metadata-aware neck needs one metadata record per image")
    return MetaBatch.from_metas(metas, vocab, images)

"""Rendering configuration of the synthetic generator and the per-image random generator."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np


class SynthConfigError(ValueError):
    """An invalid generator setting (the message names the setting, the value and the valid range)."""


@dataclass(frozen=True)
class SynthConfig:
    """How images are rendered (see the module docstring, "Sizes, scale and the recorded resolution").

    ``empty_prob`` — probability of an image without targets; ``None`` uses each domain's real share.
    ``distractors`` — render the target-like distractors of the rules table.
    ``ambiguity`` — the domain-ambiguity knob in [0, 1]: the probability that an image's *scene*
    (background model, sensor-noise model, native resolution, where blobs are placed) is drawn
    independently of its domain, from the same mix; its targets and distractors always follow its
    domain's rules. 0: the scene shows the domain (as in the real data); 1: image statistics are the
    same for every domain and only the metadata tells which rule applies (see "The domain-ambiguity
    knob" in :mod:`auxdet.data.synthetic`).
    ``domain_mix`` — ``'real'`` (the real train split's proportions) or ``'balanced'`` (equal).
    """

    scale: float = 1.0
    max_size: int | None = None
    size: int | None = None
    empty_prob: float | None = None
    distractors: bool = True
    min_target_area: float = 2.0
    min_target_scale: float | None = None
    ambiguity: float = 0.0
    domain_mix: str = "real"

    def __post_init__(self) -> None:
        from auxdet.data.domains import DOMAIN_MIXES

        if not (isinstance(self.ambiguity, int | float) and 0.0 <= self.ambiguity <= 1.0):
            raise ValueError(f"SynthConfig.ambiguity must be a number in [0, 1], got {self.ambiguity!r}")
        if self.domain_mix not in DOMAIN_MIXES:
            raise ValueError(f"SynthConfig.domain_mix must be one of {list(DOMAIN_MIXES)}, got {self.domain_mix!r}")
        if not (isinstance(self.scale, int | float) and 0 < self.scale <= 4):
            raise SynthConfigError(f"SynthConfig.scale must be in (0, 4], got {self.scale!r}")
        for name in ("max_size", "size"):
            v = getattr(self, name)
            if v is not None and (not isinstance(v, int | np.integer) or v < 8):
                raise SynthConfigError(f"SynthConfig.{name} must be None or an integer >= 8, got {v!r}")
        if self.empty_prob is not None and not 0 <= self.empty_prob <= 1:
            raise SynthConfigError(f"SynthConfig.empty_prob must be None or in [0, 1], got {self.empty_prob!r}")
        if not self.min_target_area > 0:
            raise SynthConfigError(f"SynthConfig.min_target_area must be > 0, got {self.min_target_area!r}")
        if self.min_target_scale is not None and not 0 < self.min_target_scale <= 4:
            raise SynthConfigError(
                f"SynthConfig.min_target_scale must be None or in (0, 4], got {self.min_target_scale!r}"
            )

    def rendered_size(self, width: int, height: int) -> tuple[int, int, float]:
        """``(width, height, target_scale)`` of an image whose native size is ``width × height``.

        ``target_scale`` is the image's linear factor, raised to ``min_target_scale`` when that is set.
        """
        if self.size is not None:
            w, h = self.size, self.size
        else:
            s = float(self.scale)
            if self.max_size is not None:
                s = min(s, self.max_size / max(width, height))
            w, h = max(8, round(width * s)), max(8, round(height * s))
        ts = math.sqrt(w / width * h / height)
        if self.min_target_scale is not None:
            ts = max(ts, float(self.min_target_scale))
        return w, h, ts

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def image_rng(seed: int, index: int) -> np.random.Generator:
    """The generator of image ``index`` of the dataset with ``seed`` (independent of every other image)."""
    if int(seed) < 0 or int(index) < 0:
        raise SynthConfigError(f"seed and index must be non-negative integers, got seed={seed!r}, index={index!r}")
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(0, int(index))))


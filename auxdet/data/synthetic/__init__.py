"""Synthetic omni-domain infrared small-target dataset — auxdet's embedded default (no download).

It mimics WideIRSTD-Full: image metadata (platform, band, resolution) and per-image target pixel area
are drawn from the real train split's mix baked in :mod:`auxdet.data.domains`; backgrounds, sensor noise
and targets are rendered per domain with physically motivated, numpy/OpenCV-vectorised models.

Rendering per platform (background) and band (sensor noise)
------------------------------------------------------------
* **Air** — sky seen from an aircraft: vertical LWIR gradient (cold zenith, warmer path near the
  horizon) + fractal clouds (warm in LWIR); in 30 % of images a ground band below a low horizon.
* **Land** — ground clutter (multi-octave fractal + field patches with sharp edges) below a tilted,
  undulating horizon; a tree line with a ragged top edge, buildings (sharp rectangular edges),
  a warm road; sky with light clouds above.
* **Space** — earth from orbit: dark sea, textured land (bright in NIR), bright fractal clouds; in
  30 % of images the curved earth limb with an airglow band and black space with faint stars.
* Every background goes through a small optical blur (MTF), targets are added, then band noise:
  **LWIR** fixed-pattern column/row offsets (stripe noise) + non-uniformity (vignetting) + temporal
  Gaussian noise; **NIR** signal-dependent shot noise + read noise; **SWIR** Gaussian noise, weak
  stripes and dead (0) / hot (255) single pixels.

Targets: PSF-blurred blobs ``I(r) = a·exp(-ln2 · r^(2p))`` on an ellipse (``r = 1`` at half maximum,
which is also the mask contour), ``p = 1`` (Gaussian PSF: points of 1–3 px) up to ``p = 2`` (flat-topped
*spot*/*extended* targets of tens to thousands of pixels). The per-image total target area is drawn from
the domain's real area distribution (``empty_fraction`` of images have none: 63.7 % of Space/NIR), split
over 1 / 2 / 3 targets (p = 0.80 / 0.15 / 0.05, an assumption: the table has no target count).

Metadata matters — the rules
----------------------------
Target *looks* (polarity, elongation) are tied to the domain, and the distractors of a domain are drawn
**from another domain's target look** (same polarity, same elongation range, that domain's size
distribution, the same peak-contrast range 0.08–0.30), so the same local pattern is a target in one
domain and clutter in another. A vision-only detector can only separate them through the surrounding
scene (which overlaps: Air images may show ground, Land images show sky); with the metadata the
rule is a lookup.

============  ===========================  =================================  ===========================================
domain        target (polarity, shape)     placed on                          distractors (look they copy, count, where)
============  ===========================  =================================  ===========================================
Air/LWIR      bright, round (1–1.5)        sky — hot engines vs cold sky      bright elongated blobs = Land/LWIR look,
                                                                              0–2, sky (birds, warm cloud fragments)
Land/LWIR     bright, elongated (1.2–2.5)  ground 80 % / sky 20 % — vehicles  bright round blobs = Air/LWIR look, 1–3,
                                           and people warmer than the         ground (lamps, hot vents, sun-lit roofs);
                                           ground (99.8 % of the real         dark round blobs = Space/SWIR look, 0–2,
                                           SIRST-V2 targets are bright)       ground (cold water, shadows)
Space/NIR     bright, elongated (1.5–4)    open sea — ships bright against    dark blobs = Space/SWIR look, 0–3, land or
                                           NIR-absorbing water                cloud (lakes, cloud gaps); bright round
                                                                              blobs = Air/LWIR look, 0–2, land (glints)
Space/SWIR    dark, round (1–1.6)          clouds — aircraft against bright   bright round blobs = Air/LWIR look, 1–4,
                                           SWIR cloud decks                   everywhere (stars, fires, hot pixels)
============  ===========================  =================================  ===========================================

So a small bright round blob is a target in Air/LWIR and clutter in Land/LWIR and Space/SWIR; a bright
elongated blob is a target in Land/LWIR (and Space/NIR) and clutter in Air/LWIR; a dark blob is a target
in Space/SWIR and clutter elsewhere: the platform decides within LWIR (shape), the band decides within
Space (polarity). Masks and boxes cover targets only. Polarity follows the real data where we have it:
the real SIRST-V2 Land/LWIR targets are bright (notebook 01), so the synthetic ones are too.

The domain-ambiguity knob and the domain mix
--------------------------------------------
With the rules above a detector that never reads the metadata can still learn them, *if the image
shows its domain*: sky, ground and earth-from-orbit backgrounds, band-specific noise, and each
domain's resolutions all tell the domain (a classifier on 15 global image statistics recovers it
95 % of the time). Metadata is then redundant. ``SynthConfig.ambiguity = a`` controls that: for a
fraction ``a`` of the images the **scene** — background model, sensor-noise model, native
resolution, and where blobs may be placed — is drawn from a second domain sampled independently
from the same mix (so the marginal distribution of scenes is unchanged), while the image's targets
and distractors still follow *its own* domain's rules and its metadata still names its own domain.

* ``a = 0`` (default): every scene matches its domain — the generator as it was.
* ``a = 1``: image statistics are the same for every domain; only the metadata (and the blobs
  themselves) tell which rule applies. A bright round blob in an LWIR image is a target if the
  metadata says Air and clutter if it says Land.
* in between, a share ``a`` of the images is decoupled (``info['decoupled']``, ``synthetic_info.csv``).

``SynthConfig.domain_mix`` is the second controlled variable: ``'real'`` (the real train split's
proportions: 66 % Space/NIR, 0.2 % Space/SWIR — the SWIR rule then has almost no examples) or
``'balanced'`` (every domain a quarter of the images). Neither knob changes a rule, a look, a
size or a contrast; :func:`auxdet.analysis.domain_probe` measures what the knob does to the images.

Sizes, scale and the recorded resolution
----------------------------------------
``SynthConfig(scale=…, max_size=…, size=…)`` renders smaller images for CPU runs: ``scale`` multiplies
the native size (0.25: 1024² → 256², 256² → 64²), ``max_size`` caps the longer side, ``size`` renders
every image as a fixed ``size × size`` square. Target sizes follow the same linear factor (with a
floor of ``min_target_area`` pixels so targets stay visible). ``min_target_scale`` floors that linear
factor for targets and distractors alike — a 1024² Space image shrunk 8× to 128² keeps its targets at
``min_target_scale`` of their native size instead of 1/8 (the image then looks like a wider field of
view at the same pixel scale for the targets). It keeps every domain's size *distribution* and the
ratios between domains, which a flat ``min_target_area`` floor would erase; CPU-size runs (the demo)
use it because a 70-px native target shrunk 64× in area is a single pixel no detector can box at IoU 0.5. The metadata (``ImageMeta``, XML
``<size>``, ``statistics.txt``) records the **rendered** size, because the resolution is metadata
*about the image the model sees*: mmdet takes ``ori_shape`` from the loaded file, the XML size must
agree with the PNG (``write_voc_annotation`` checks it), and a native size with no visual counterpart
would turn the resolution field into a hidden label rather than an imaging condition. The native size
is kept in ``info['native_size']`` and ``synthetic_info.csv``. With ``size`` every image has the same
resolution, so the resolution field then carries no information (platform and band still do).

Determinism: image ``index`` of a dataset with ``seed`` uses its own generator
``image_rng(seed, index)``, so any image can be regenerated alone (:func:`generate_sample`) and the
dataset does not depend on the order of generation.

Entry point: ``python -m auxdet.data.synthetic --out DIR --num N --seed S --scale X``.
"""

from auxdet.data.synthetic.config import SynthConfig, image_rng
from auxdet.data.synthetic.dataset import GENERATOR_VERSION, generate_dataset, load_manifest, main
from auxdet.data.synthetic.render import (
    SyntheticSample,
    generate_sample,
    render_image,
    synthetic_metadata_table,
)
from auxdet.data.synthetic.rules import DISTRACTORS, LOOKS, Blob, Look

__all__ = [
    "DISTRACTORS",
    "GENERATOR_VERSION",
    "LOOKS",
    "Blob",
    "Look",
    "SynthConfig",
    "SyntheticSample",
    "generate_dataset",
    "generate_sample",
    "image_rng",
    "load_manifest",
    "main",
    "render_image",
    "synthetic_metadata_table",
]

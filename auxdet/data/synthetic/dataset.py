"""Writing a synthetic dataset to disk (VOC-XML-with-metadata layout, safe replace) and its command line."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from auxdet.data.domains import domain_key
from auxdet.data.statistics import STATISTICS_COLUMNS
from auxdet.data.synthetic.config import SynthConfig, SynthConfigError
from auxdet.data.synthetic.ownership import (
    check_replaceable,
    clean_stale_temporaries,
    file_digests,
    lock_path,
    settings_diff,
)
from auxdet.data.synthetic.render import generate_sample
from auxdet.data.voc_io import write_split, write_voc_annotation
from auxdet.locks import ProcessLock

#: Bump when the rendering changes: datasets with another version are regenerated, never reused.
GENERATOR_VERSION = 3
MANIFEST = "manifest.json"
DEFAULT_SPLITS: dict[str, float] = {"train": 0.7, "val": 0.1, "test": 0.2}


def load_manifest(root: str | os.PathLike) -> dict[str, Any] | None:
    """The manifest of a generated dataset, or ``None`` if ``root`` holds none (or an unreadable one)."""
    path = Path(root) / MANIFEST
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _check_splits(splits: Mapping[str, float]) -> dict[str, float]:
    if not splits:
        raise SynthConfigError("splits must name at least one split, e.g. {'train': 0.7, 'val': 0.1, 'test': 0.2}")
    out = {str(k): float(v) for k, v in splits.items()}
    bad = {k: v for k, v in out.items() if not v > 0 or not k or "/" in k}
    if bad or abs(sum(out.values()) - 1.0) > 1e-6:
        raise SynthConfigError(f"splits must be positive fractions summing to 1 with plain names, got {dict(splits)}")
    return out


def _assign_splits(domains: Sequence[str], splits: Mapping[str, float], seed: int) -> dict[str, list[int]]:
    """Stratified split: each domain's images, shuffled, are dealt to the splits in proportion."""
    rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(1,)))
    order = sorted(range(len(domains)), key=lambda i: domains[i])
    order = [i for d in sorted(set(domains)) for i in rng.permutation([j for j in order if domains[j] == d])]
    names, frac = list(splits), np.array(list(splits.values()))
    given = np.zeros(len(names))
    out: dict[str, list[int]] = {n: [] for n in names}
    for k, i in enumerate(order, start=1):
        j = int(np.argmax(frac * k - given))
        given[j] += 1
        out[names[j]].append(int(i))
    return {n: sorted(v) for n, v in out.items()}


def _params(num_images: int, seed: int, cfg: SynthConfig, splits: Mapping[str, float]) -> dict[str, Any]:
    return {"num_images": int(num_images), "seed": int(seed), "splits": dict(splits), **cfg.as_dict()}


def _is_complete(root: Path, manifest: dict[str, Any]) -> bool:
    n = manifest.get("params", {}).get("num_images", -1)
    return sum(1 for _ in (root / "Annotations").glob("*.xml")) == n and (root / "PNGImages").is_dir()


def generate_dataset(
    out_dir: str | os.PathLike,
    num_images: int,
    seed: int = 0,
    scale: float = 1.0,
    splits: Mapping[str, float] | None = None,
    progress: bool = True,
    *,
    max_size: int | None = None,
    size: int | None = None,
    empty_prob: float | None = None,
    distractors: bool = True,
    min_target_scale: float | None = None,
    ambiguity: float = 0.0,
    domain_mix: str = "real",
    overwrite: bool = False,
) -> Path:
    """Write (or reuse) a synthetic dataset in the VOC-XML-with-metadata layout; returns its root.

    Layout: ``PNGImages/<id>.png`` (8-bit grey), ``Annotations/<id>.xml`` (via
    :func:`auxdet.data.voc_io.write_voc_annotation`), ``ImageSets/Main/<split>.txt`` (stratified by
    domain), ``Masks/<id>.png`` (0/255), ``statistics.txt`` (WideIRSTD format, rendered sizes),
    ``synthetic_info.csv`` (native size, split, target/distractor counts) and ``manifest.json``.

    Safe writes: the dataset is built in a hidden sibling folder and renamed into place only when
    complete, so an interrupted run (Ctrl-C, SIGTERM under the CLI) never replaces a good dataset, and
    the temporary folder of a killed run is removed by the next one. If ``out_dir`` already holds a
    complete dataset with the same parameters and generator version it is reused as is; a dataset with
    other settings is replaced only with ``overwrite=True``; a folder that is not a generated dataset,
    or one holding files the generator did not write (or changed since), is never replaced
    (:mod:`auxdet.data.synthetic.ownership`).
    """
    out_dir = Path(out_dir).expanduser().resolve()
    if int(num_images) < 1:
        raise SynthConfigError(f"num_images must be >= 1, got {num_images!r}")
    cfg = SynthConfig(scale=scale, max_size=max_size, size=size, empty_prob=empty_prob, distractors=distractors,
                      min_target_scale=min_target_scale, ambiguity=ambiguity, domain_mix=domain_mix)
    split_fracs = _check_splits(DEFAULT_SPLITS if splits is None else splits)
    params = _params(num_images, seed, cfg, split_fracs)
    clean_stale_temporaries(out_dir)
    old = load_manifest(out_dir) if out_dir.is_dir() else None
    if old is not None and old.get("version") == GENERATOR_VERSION and old.get("params") == params:
        if _is_complete(out_dir, old):
            return out_dir
    differences = settings_diff(old, GENERATOR_VERSION, params) if old is not None else []
    check_replaceable(out_dir, old, differences, overwrite)  # before the work: refusals cost nothing

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_dir.parent / f".{out_dir.name}.tmp-{uuid.uuid4().hex[:8]}"
    with ProcessLock(lock_path(tmp), purpose=f"temporary folder '{tmp}'"):  # marks tmp as in use
        try:
            _write_dataset(tmp, int(num_images), int(seed), cfg, split_fracs, params, progress)
            _swap_into_place(tmp, out_dir, params, overwrite)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    return out_dir


def _write_dataset(
    root: Path,
    num_images: int,
    seed: int,
    cfg: SynthConfig,
    splits: Mapping[str, float],
    params: dict[str, Any],
    progress: bool,
) -> None:
    for sub in ("PNGImages", "Annotations", "Masks", "ImageSets/Main"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    rows, domains = [], []
    for i in tqdm(range(num_images), desc=f"synthetic → {root.name[1:].split('.tmp-')[0]}", disable=not progress):
        s = generate_sample(i, seed, cfg)
        if not cv2.imwrite(str(root / "PNGImages" / f"{s.image_id}.png"), s.image):
            raise OSError(f"could not write '{root / 'PNGImages' / s.image_id}.png'")
        if not cv2.imwrite(str(root / "Masks" / f"{s.image_id}.png"), s.mask * np.uint8(255)):
            raise OSError(f"could not write '{root / 'Masks' / s.image_id}.png'")
        write_voc_annotation(
            root / "Annotations" / f"{s.image_id}.xml", s.image_id, s.meta.width, s.meta.height, s.meta, s.boxes
        )
        domains.append(domain_key(s.meta.platform, s.meta.band))
        rows.append({
            "id": s.image_id, "platform": s.meta.platform, "band": s.meta.band, "width": s.meta.width,
            "height": s.meta.height, "target_area": int(s.mask.sum()), "native_width": s.native_meta.width,
            "native_height": s.native_meta.height, "num_targets": len(s.boxes),
            "num_distractors": len(s.info["distractors"]), "scene": s.info["scene"],
            "decoupled": s.info["decoupled"], "split": "",
        })
    assignment = _assign_splits(domains, splits, seed)
    for name, idx in assignment.items():
        write_split(root, name, [rows[i]["id"] for i in idx])
        for i in idx:
            rows[i]["split"] = name
    table = pd.DataFrame(rows)
    table[list(STATISTICS_COLUMNS)].to_csv(root / "statistics.txt", sep="\t", header=False, index=False)
    table.to_csv(root / "synthetic_info.csv", index=False)
    manifest = {
        "generator": "auxdet.data.synthetic",
        "version": GENERATOR_VERSION,
        "params": params,
        "split_sizes": {n: len(v) for n, v in assignment.items()},
        "domain_counts": {k: int(v) for k, v in pd.Series(domains).value_counts().sort_index().items()},
    }
    manifest["files"] = file_digests(root)  # what the generator wrote (ownership.check_replaceable)
    (root / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")  # written last: marks completion


def _swap_into_place(tmp: Path, out_dir: Path, params: dict[str, Any], overwrite: bool = False) -> None:
    """Rename the complete ``tmp`` to ``out_dir``; an existing ``out_dir`` is moved aside, then deleted.

    The existing folder is checked again (files may have been added while generating); the moved-aside
    copy ``.<name>.old-<tag>`` shares ``tmp``'s tag, so a run killed mid-swap is repaired by the next.
    """
    trash = None
    if out_dir.exists():
        other = load_manifest(out_dir) if out_dir.is_dir() else None
        if other is not None and other.get("version") == GENERATOR_VERSION and other.get("params") == params:
            if _is_complete(out_dir, other):  # a concurrent run finished the same dataset first
                return
        differences = settings_diff(other, GENERATOR_VERSION, params) if other is not None else []
        check_replaceable(out_dir, other, differences, overwrite)
        trash = out_dir.parent / f".{out_dir.name}.old-{tmp.name.rsplit('.tmp-', 1)[-1]}"
        os.rename(out_dir, trash)
    try:
        os.rename(tmp, out_dir)
    except BaseException:  # also Ctrl-C / SIGTERM between the two renames
        if trash is not None and not out_dir.exists():
            os.rename(trash, out_dir)  # put the previous dataset back
        raise
    if trash is not None:
        shutil.rmtree(trash, ignore_errors=True)


# ----------------------------------------------------------------------------- command line


def main(argv: Sequence[str] | None = None) -> Path:
    """``python -m auxdet.data.synthetic --out DIR --num N --seed S --scale X [--max-size M] [--size S]``."""
    ap = argparse.ArgumentParser(prog="python -m auxdet.data.synthetic", description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="dataset root to write (reused if identical)")
    ap.add_argument("--num", type=int, default=1000, help="number of images")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--scale", type=float, default=1.0, help="render at this fraction of the native size")
    ap.add_argument("--max-size", type=int, default=None, help="cap the longer side (pixels)")
    ap.add_argument("--size", type=int, default=None, help="render every image as size×size")
    ap.add_argument("--empty-prob", type=float, default=None, help="share of images without targets")
    ap.add_argument("--no-distractors", action="store_true")
    ap.add_argument("--min-target-scale", type=float, default=None,
                    help="floor of the targets' linear scale (keeps small targets visible in shrunk images)")
    ap.add_argument("--ambiguity", type=float, default=0.0,
                    help="domain-ambiguity knob in [0, 1]: share of images whose scene is drawn independently of "
                         "their domain (1: only the metadata tells which rule applies)")
    ap.add_argument("--domain-mix", choices=("real", "balanced"), default="real",
                    help="platform/band mix: the real table's proportions or balanced")
    ap.add_argument("--splits", default="train=0.7,val=0.1,test=0.2", help="name=fraction,…")
    ap.add_argument("--overwrite", action="store_true",
                    help="replace a dataset generated with other settings (never files the generator did not write)")
    ap.add_argument("--quiet", action="store_true", help="no progress bar")
    a = ap.parse_args(argv)
    try:
        splits = {k.strip(): float(v) for k, v in (p.split("=") for p in a.splits.split(","))}
    except ValueError:
        ap.error(f"--splits must look like 'train=0.7,val=0.1,test=0.2', got {a.splits!r}")
    from auxdet.cli_errors import EXIT_TERMINATED, Terminated, sigterm_raises

    try:
        with sigterm_raises():  # SIGTERM removes the temporary folder too
            root = generate_dataset(
                a.out, a.num, seed=a.seed, scale=a.scale, splits=splits, progress=not a.quiet,
                max_size=a.max_size, size=a.size, empty_prob=a.empty_prob, distractors=not a.no_distractors,
                min_target_scale=a.min_target_scale, ambiguity=a.ambiguity, domain_mix=a.domain_mix,
                overwrite=a.overwrite,
            )
    except Terminated:
        raise SystemExit(EXIT_TERMINATED) from None
    print(root)
    return root


if __name__ == "__main__":
    main()

"""Speed of the synthetic generator on ONE core, its domain mix against the real table, and the
"metadata matters" check.

    .venv/bin/python benchmarks/synth_speed.py [--num 100] [--size 256] [--mix 4000] [--write]

Tables printed:
1. images/s per domain at ``size × size`` (target ≥ 50 images/s at 256²) and overall for the mixed
   stream (``generate_sample`` with ``SynthConfig(size=…)``), plus the native-size stream for reference;
   with ``--write`` also a full dataset write (PNG + XML + mask) at ``size``.
2. synthetic vs real domain mix (proportions, main resolution share, empty share, median target area).
3. the polarity of every target and distractor, measured on the pixels (sign of the local contrast),
   and how well "target ⇔ the blob has the polarity of this domain's targets" separates them: with
   one rule for all domains (the best of "bright" / "dark": what the blob alone tells a vision-only
   detector) and with the rule of each image's domain (what the metadata adds). Space/NIR stays
   below 100 % by design: its bright distractors (glints on land) differ from ships only by context.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core: set before numpy / OpenCV start their pools

import argparse
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from auxdet.data import synthetic  # noqa: E402
from auxdet.data.domains import DOMAIN_STATS  # noqa: E402
from auxdet.data.synthetic import LOOKS, SynthConfig, generate_sample, image_rng, render_image  # noqa: E402
from auxdet.metadata import ImageMeta  # noqa: E402


def _rate(fn, n: int) -> tuple[float, float, float]:
    """(images/s by wall clock, images/s by process CPU time, ms/image wall) over ``n`` calls after a warm-up.

    The CPU-time rate is the single-core throughput even when other jobs share the machine.
    """
    fn(0)  # warm-up
    t, c = time.perf_counter(), time.process_time()
    for i in range(1, n + 1):
        fn(i)
    dt, dc = time.perf_counter() - t, time.process_time() - c
    return n / dt, n / dc, 1000 * dt / n


def speed_table(num: int, size: int, write: bool) -> pd.DataFrame:
    rows = []
    cfg = SynthConfig(size=size)
    for key in LOOKS:
        platform, band = key.split("/")
        native = DOMAIN_STATS["domains"][key]["resolutions"][0]
        ts = cfg.rendered_size(native[0], native[1])[2]
        meta = ImageMeta(platform, band, size, size)
        ips, cps, ms = _rate(lambda i, m=meta, t=ts: render_image(m, image_rng(0, i), target_scale=t), num)
        rows.append({"stream": f"{key} {size}²", "images/s": ips, "images/CPU-s": cps, "ms/image": ms})
    ips, cps, ms = _rate(lambda i: generate_sample(i, 0, cfg), num)
    rows.append({"stream": f"overall mix {size}²", "images/s": ips, "images/CPU-s": cps, "ms/image": ms})
    n_native = max(10, num // 5)
    ips, cps, ms = _rate(lambda i: generate_sample(i, 0, SynthConfig()), n_native)
    rows.append({"stream": "overall mix, native size", "images/s": ips, "images/CPU-s": cps, "ms/image": ms})
    if write:
        with tempfile.TemporaryDirectory() as tmp:
            t, c = time.perf_counter(), time.process_time()
            synthetic.generate_dataset(Path(tmp) / "d", num, seed=0, size=size, progress=False)
            dt, dc = time.perf_counter() - t, time.process_time() - c
        rows.append({"stream": f"generate_dataset {size}² (PNG+XML+mask)", "images/s": num / dt,
                     "images/CPU-s": num / dc, "ms/image": 1000 * dt / num})
    return pd.DataFrame(rows)


def mix_table(num: int) -> pd.DataFrame:
    table = synthetic.synthetic_metadata_table(num, seed=0)
    rows = []
    for key, d in DOMAIN_STATS["domains"].items():
        g = table[(table.platform == d["platform"]) & (table.band == d["band"])]
        w, h, c = d["resolutions"][0]
        nz = g.target_area[g.target_area > 0]
        rows.append({
            "domain": key,
            "real %": 100 * d["count"] / DOMAIN_STATS["num_images"],
            "synth %": 100 * len(g) / len(table),
            "main res": f"{w}x{h}",
            "real res %": 100 * c / d["count"],
            "synth res %": 100 * ((g.width == w) & (g.height == h)).mean() if len(g) else float("nan"),
            "real empty %": 100 * d["target_area"]["empty_fraction"],
            "synth empty %": 100 * (g.target_area == 0).mean() if len(g) else float("nan"),
            "real median area": d["target_area"]["median"],
            "synth median area": float(nz.median()) if len(nz) else float("nan"),
        })
    return pd.DataFrame(rows)


_RING = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))


def _contrast(img: np.ndarray, box: list[float], center: tuple[float, float], axes: tuple[float, float]) -> float:
    """Local contrast of a blob: mean in its half-maximum ellipse (approximated by a disk) minus a ring."""
    h, w = img.shape
    m = np.zeros((h, w), np.uint8)
    r = max(1, round(min(axes)))
    cv2.circle(m, (round(center[0]), round(center[1])), r, 1, -1)
    ring = cv2.dilate(m, _RING).astype(bool) & ~cv2.dilate(m, np.ones((3, 3), np.uint8)).astype(bool)
    return float(img[m.astype(bool)].mean() - img[ring].mean())


def polarity_table(num: int, size: int) -> pd.DataFrame:
    cfg = SynthConfig(size=size, empty_prob=0.0)
    recs = []
    for key in LOOKS:
        platform, band = key.split("/")
        native = DOMAIN_STATS["domains"][key]["resolutions"][0]
        ts = cfg.rendered_size(native[0], native[1])[2]
        for i in range(num):
            img, _, _, info = render_image(ImageMeta(platform, band, size, size), image_rng(1, i),
                                           target_scale=ts, config=cfg)
            f = img.astype(np.float32)
            for kind in ("targets", "distractors"):
                for b in info[kind]:
                    c = _contrast(f, b["box"], b["center"], b["axes"])
                    recs.append({"domain": key, "is_target": kind == "targets", "bright": c > 0})
    df = pd.DataFrame(recs)
    df["rule_ok"] = np.where([LOOKS[d].polarity > 0 for d in df.domain], df.bright, ~df.bright) == df.is_target
    rows = []
    for name, g in df.groupby("domain"):
        rows.append({"blobs": name, "n": len(g), "targets bright %": 100 * g.bright[g.is_target].mean(),
                     "distractors bright %": 100 * g.bright[~g.is_target].mean(),
                     "rule accuracy %": 100 * g.rule_ok.mean()})
    pooled = max((df.bright == df.is_target).mean(), (~df.bright == df.is_target).mean())
    rows.append({"blobs": "all, one polarity rule (vision-only cue)", "n": len(df),
                 "targets bright %": 100 * df.bright[df.is_target].mean(),
                 "distractors bright %": 100 * df.bright[~df.is_target].mean(), "rule accuracy %": 100 * pooled})
    rows.append({"blobs": "all, polarity rule of the domain (metadata)", "n": len(df),
                 "targets bright %": float("nan"), "distractors bright %": float("nan"),
                 "rule accuracy %": 100 * df.rule_ok.mean()})
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--num", type=int, default=100, help="images per speed measurement")
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--mix", type=int, default=4000, help="images in the domain-mix comparison")
    ap.add_argument("--write", action="store_true", help="also time a full dataset write")
    a = ap.parse_args()
    cv2.setNumThreads(1)
    pd.set_option("display.width", 200)
    pd.set_option("display.max_columns", 20)
    print(f"## 1. generator speed, one core (cv2 threads = {cv2.getNumThreads()}; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores — images/CPU-s is the contention-free rate)")
    print(speed_table(a.num, a.size, a.write).to_string(index=False, float_format="%.1f"))
    print(f"\n## 2. domain mix: synthetic ({a.mix} images, native sizes) vs real (train split)")
    print(mix_table(a.mix).to_string(index=False, float_format="%.1f"))
    print(f"\n## 3. polarity of targets vs distractors ({a.num // 2} images per domain, {a.size}²)")
    print(polarity_table(a.num // 2, a.size).to_string(index=False, float_format="%.1f"))


if __name__ == "__main__":
    main()

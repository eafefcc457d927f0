"""What one CPU-size experiment runs: the synthetic data and the training budget (:class:`RunPlan`).

* :class:`RunPlan` — data (images, rendering size, input size, target-scale floor, data seed, and any
  further option of :func:`auxdet.data.synthetic.generate_dataset` in ``synth``, so a new generator
  knob needs no new plan class) and training (epochs *or* iterations, batch, lr, warm-up).
  :meth:`RunPlan.dataset` writes (or reuses) its dataset in a folder named by the data's fingerprint.
* The named budgets, in one place: :data:`BUDGETS` (``smoke`` / ``quick`` / ``full``: epoch plans of
  ``auxdet demo`` and notebooks 04–05) and :data:`ABLATION_BUDGETS` (``smoke`` / ``full``: the data and
  optimiser of the measured ablations, whose iteration budget is :func:`~auxdet.experiments.ablation.run_ablations`').
* :func:`cfg_options` — the ``--cfg-options`` training the CPU-tiny configs (:data:`DEMO_MODELS`) with
  a plan on a data root: the one place the schedule, data root and input size are set.
"""

from __future__ import annotations

import copy
import functools
import inspect
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from auxdet import paths
from auxdet.experiments.cache import ExperimentError, code_fingerprint, fingerprint

__all__ = [
    "ABLATION_BUDGETS",
    "ABLATION_FULL",
    "ABLATION_SMOKE",
    "BUDGETS",
    "DEMO_MODELS",
    "DEMO_SYNTH",
    "FULL",
    "QUICK",
    "SMOKE",
    "RunPlan",
    "cfg_options",
    "default_budget",
    "resize_options",
    "resolve_budget",
    "run_fingerprint",
]

#: the CPU-tiny pair (model name → config): Faster R-CNN R18 with a plain FPN vs with AuxDet's AuxFPN
DEMO_MODELS: dict[str, str] = {
    "baseline": "cpu_tiny/faster_rcnn_r18_tiny_synthetic",
    "auxdet": "cpu_tiny/auxdet_faster_rcnn_r18_tiny_synthetic",
}
#: generate_dataset arguments a plan sets itself (everything else may go into ``RunPlan.synth``)
_PLAN_DATA_ARGS = {"out_dir", "num_images", "seed", "progress", "overwrite", "max_size", "min_target_scale"}


def _synth_options() -> list[str]:
    from auxdet.data.synthetic import generate_dataset

    return [p for p in inspect.signature(generate_dataset).parameters if p not in _PLAN_DATA_ARGS]


@dataclass(frozen=True)
class RunPlan:
    """Data and training budget of a CPU-size run (identical for every model it trains)."""

    num_images: int  # synthetic images (train / val / test = 70 / 10 / 20 %)
    image_size: int  # longer side of the rendered images (native aspect ratios kept) …
    input_size: int  # … and the detector's input scale (keep-ratio resize)
    min_target_scale: float | None = None  # floor of the targets' linear scale (SynthConfig)
    data_seed: int | None = None  # the dataset's seed; None: the run's seed (data and training drawn together)
    synth: Mapping[str, Any] = field(default_factory=dict)  # further generate_dataset options
    max_epochs: int | None = None  # an epoch budget …
    max_iters: int | None = None  # … or an iteration budget (no validation pass; the test split after)
    batch_size: int = 4
    lr: float = 0.02
    warmup_iters: int = 50  # linear warm-up

    def __post_init__(self) -> None:
        object.__setattr__(self, "synth", dict(self.synth))
        for name in ("num_images", "image_size", "input_size", "batch_size", "max_epochs", "max_iters"):
            value, budget = getattr(self, name), name.startswith("max_")  # the budget may be left out
            if not (budget and value is None) and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ExperimentError(f"RunPlan.{name} must be {'None or ' * budget}an integer >= 1, got {value!r}")
        if self.max_epochs is not None and self.max_iters is not None:
            raise ExperimentError("RunPlan: give max_epochs or max_iters, not both")
        if not self.lr > 0 or self.warmup_iters < 0:
            raise ExperimentError(f"RunPlan: lr must be > 0 and warmup_iters >= 0, got {self.lr}, {self.warmup_iters}")
        unknown = sorted(set(self.synth) - set(_synth_options()))
        if unknown:
            raise ExperimentError(f"RunPlan.synth: unknown generator options {unknown}; valid: {_synth_options()} "
                                  "(num_images, image_size, min_target_scale and data_seed are plan fields)")  # fmt: skip

    def __hash__(self) -> int:
        return hash(self.fingerprint())

    def fingerprint(self) -> str:
        """Identifies the plan (data and training settings)."""
        return fingerprint(asdict(self))

    def data_params(self, seed: int) -> dict[str, Any]:
        """What the dataset of a run with ``seed`` depends on (the data seed resolved)."""
        data_seed = int(seed) if self.data_seed is None else int(self.data_seed)
        return {"num_images": self.num_images, "max_size": self.image_size,
                "min_target_scale": self.min_target_scale, "seed": data_seed, **self.synth}  # fmt: skip

    def data_dir(self, root: str | os.PathLike, seed: int) -> Path:
        """``<root>/synthetic-<data fingerprint>``: one folder per distinct dataset."""
        return Path(root) / f"synthetic-{fingerprint(self.data_params(seed))}"

    def dataset(self, root: str | os.PathLike, seed: int, *, progress: bool = True) -> Path:
        """The synthetic dataset of a run with ``seed`` under ``root`` (generated once, then reused); its root."""
        from auxdet.data.synthetic import generate_dataset

        params = self.data_params(seed)
        return generate_dataset(self.data_dir(root, seed), params.pop("num_images"), params.pop("seed"),
                                progress=progress, overwrite=True, **params)  # fmt: skip  (auxdet's own cache folder)

    def synth_config(self) -> Any:
        """The :class:`auxdet.data.synthetic.SynthConfig` rendering this plan's images (single samples)."""
        from dataclasses import fields

        from auxdet.data.synthetic import SynthConfig

        names = {f.name for f in fields(SynthConfig)}
        return SynthConfig(max_size=self.image_size, min_target_scale=self.min_target_scale,
                           **{k: v for k, v in self.synth.items() if k in names})  # fmt: skip


#: the synthetic setting of the demo and the notebooks: full domain ambiguity on the balanced mix (only
#: the metadata tells which domain's rule applies; see auxdet.data.synthetic and auxdet.experiments.study)
DEMO_SYNTH: dict[str, Any] = {"ambiguity": 1.0, "domain_mix": "balanced"}
#: CI-sized: 40 synthetic images rendered at ≤ 128 px, 128-px input, 12 iterations of batch 4 — a smoke run
#: whose numbers say nothing about the methods
SMOKE = RunPlan(num_images=40, image_size=128, input_size=128, min_target_scale=1.0, synth=DEMO_SYNTH, max_iters=12,
                batch_size=4, lr=1e-3, warmup_iters=4)  # fmt: skip
#: ``auxdet demo --quick``: well under 2 minutes (tests, notebooks); a smoke run too
QUICK = RunPlan(num_images=40, image_size=64, input_size=64, min_target_scale=1.0, synth=DEMO_SYNTH, max_iters=20,
                batch_size=4, lr=1e-3, warmup_iters=5)  # fmt: skip
#: ``auxdet demo`` and the study: 1200 images of ≤ 128 px, native-size targets, 1100 iterations of batch 4 per
#: run (AdamW, lr 1e-3). Measured on 2 idle cores with the three arms side by side (3 processes): 1200
#: iterations took 656 s, the whole demo with 4 evaluations 717 s; 1100 keeps the demo under 12 minutes.
FULL = RunPlan(num_images=1200, image_size=128, input_size=128, min_target_scale=1.0, synth=DEMO_SYNTH,
               max_iters=1100, batch_size=4, lr=1e-3, warmup_iters=50)  # fmt: skip
BUDGETS: dict[str, RunPlan] = {"smoke": SMOKE, "quick": QUICK, "full": FULL}

#: the committed measured ablations: the demo's data and optimiser, data seed 0 (the training seed varies)
ABLATION_FULL = replace(FULL, max_iters=None, data_seed=0)
#: CI size: 24 tiny images, batch 2 — a smoke test of the pipeline, its numbers mean nothing
ABLATION_SMOKE = RunPlan(num_images=24, image_size=128, input_size=128, min_target_scale=1.0, data_seed=0,
                         synth=DEMO_SYNTH, batch_size=2, lr=1e-3, warmup_iters=2)  # fmt: skip
ABLATION_BUDGETS: dict[str, RunPlan] = {"smoke": ABLATION_SMOKE, "full": ABLATION_FULL}


def default_budget() -> str:
    """``'smoke'`` under ``SMOKE=1``, else ``'full'``."""
    return "smoke" if paths.smoke() else "full"


def resolve_budget(budget: str | RunPlan | None) -> tuple[str, RunPlan]:
    """``(name, plan)`` of a name of :data:`BUDGETS`, a plan (``'custom'`` unless it is one of them), or
    ``None`` (:func:`default_budget`)."""
    if budget is None:
        budget = default_budget()
    if isinstance(budget, RunPlan):
        return next((k for k, v in BUDGETS.items() if v == budget), "custom"), budget
    key = str(budget).strip().lower()
    if key not in BUDGETS:
        raise ExperimentError(f"unknown training budget {budget!r}; valid: {sorted(BUDGETS)} or a RunPlan")
    return key, BUDGETS[key]


def cfg_options(
    plan: RunPlan,
    data_root: str | os.PathLike,
    *,
    num_workers: int = 0,
    log_interval: int | None = None,
    log_level: str | None = None,
) -> dict[str, Any]:
    """``--cfg-options`` training a CPU-tiny config with ``plan`` on the synthetic data at ``data_root``.

    Epoch budget: validation after the last epoch, lr × 0.1 for the last quarter of the epochs, one
    checkpoint at the end. Iteration budget: no validation pass (the test split is evaluated after
    training), warm-up at most the budget, lr × 0.1 for the last quarter of the iterations, one
    checkpoint at the end. ``log_interval``: iterations between loss logs (default 10, at most the
    iteration budget); ``log_level``: mmengine's console level (``'WARNING'`` keeps the INFO lines in
    ``scalars.json`` only).
    """
    if plan.max_epochs is not None:
        epochs = plan.max_epochs
        options: dict[str, Any] = {
            "train_cfg": dict(type="EpochBasedTrainLoop", max_epochs=epochs, val_interval=epochs),
            "optim_wrapper.optimizer.lr": plan.lr,
            "param_scheduler": [
                dict(type="LinearLR", start_factor=0.01, by_epoch=False, begin=0, end=plan.warmup_iters),
                dict(type="MultiStepLR", begin=0, end=epochs, by_epoch=True,
                     milestones=[max(1, int(epochs * 0.75))], gamma=0.1),
            ],  # fmt: skip
            "default_hooks.logger.interval": 10 if log_interval is None else log_interval,
            "default_hooks.checkpoint.interval": epochs,
            "default_hooks.checkpoint.max_keep_ckpts": 1,
        }
    elif plan.max_iters is not None:
        iters = plan.max_iters
        options = {
            # validation only after the last iteration would repeat the test: val_begin past the end
            "train_cfg": dict(_delete_=True, type="IterBasedTrainLoop", max_iters=iters, val_interval=iters,
                              val_begin=iters + 1),
            "optim_wrapper.optimizer.lr": plan.lr,
            "param_scheduler": [
                dict(type="LinearLR", start_factor=0.01, by_epoch=False, begin=0,
                     end=max(1, min(plan.warmup_iters, iters))),
                dict(type="MultiStepLR", by_epoch=False, begin=0, end=iters, milestones=[max(1, iters * 3 // 4)],
                     gamma=0.1),
            ],
            "log_processor": dict(_delete_=True, type="LogProcessor", window_size=10, by_epoch=False),
            "default_hooks.logger.interval": max(1, min(10, iters)) if log_interval is None else log_interval,
            "default_hooks.checkpoint": dict(_delete_=True, type="CheckpointHook", by_epoch=False, interval=iters,
                                             max_keep_ckpts=1, save_best=None),
        }  # fmt: skip
    else:
        raise ExperimentError("RunPlan has no training budget: set max_epochs or max_iters")
    options["train_dataloader.batch_size"] = plan.batch_size
    if log_level is not None:
        options["log_level"] = log_level
    for split in ("train", "val", "test"):
        options[f"{split}_dataloader.dataset.data_root"] = str(data_root)
        options[f"{split}_dataloader.num_workers"] = num_workers
        options[f"{split}_dataloader.persistent_workers"] = num_workers > 0
    options.update(resize_options((plan.input_size, plan.input_size)))
    return options


def run_fingerprint(config: str, options: Mapping[str, Any], plan: RunPlan, seed: int) -> str:
    """Identifies a training run: ``config`` resolved with ``options`` (every ``_base_`` merged; data roots
    left out: the plan names the data), the plan, the seed and the code that computes the result
    (:func:`~auxdet.experiments.cache.code_fingerprint`). Any edit of the config, its bases, the options,
    plan, seed or model/data/AP code changes it; runs with the same fingerprint train the same network."""
    from auxdet.engine.config import read_config

    neutral = {k: "<data_root>" if k.endswith("data_root") else copy.deepcopy(v) for k, v in options.items()}
    resolved = read_config(config, {**neutral, "data_root": "<data_root>"}).to_dict()
    return fingerprint(resolved, plan, int(seed), code_fingerprint())


def resize_options(scale: tuple[int, int]) -> dict[str, Any]:
    """Options setting the ``Resize`` scale of the train/val/test pipelines of the CPU-tiny configs."""
    return {key: scale for key in _resize_keys()}


@functools.cache
def _resize_keys() -> tuple[str, ...]:
    from auxdet.engine.config import read_config

    cfg = read_config(DEMO_MODELS["baseline"])
    return tuple(f"{split}_dataloader.dataset.pipeline.{i}.scale" for split in ("train", "val", "test")
                 for i, step in enumerate(cfg[f"{split}_dataloader"]["dataset"]["pipeline"])
                 if str(step.get("type", "")).endswith("Resize"))  # fmt: skip

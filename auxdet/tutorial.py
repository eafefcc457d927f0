"""Helpers for the practice notebooks (04 training, 05 neck features): cached tiny models, config diffs.

* :func:`tiny_checkpoints` — the CPU-tiny baseline and AuxDet of ``auxdet demo``
  (:data:`auxdet.engine.demo.DEMO_MODELS`: Faster R-CNN R18 with a plain FPN vs with AuxDet's AuxFPN)
  trained on the synthetic omni-domain data with the same budget and seed, through the engine
  (:func:`auxdet.engine.parallel.train_jobs`, each job the code path of
  ``auxdet train CONFIG --work-dir D --cfg-options … --seed S``). The result is **cached** under
  ``work_root``: a second call with the same budget, seed and configs reuses the checkpoints (so notebook
  05 reuses the models of notebook 04 and trains its own only when they are absent). A cached
  checkpoint whose weights no longer fit the model (the model code changed) is retrained.
* :func:`config_diff` — a unified diff (:mod:`difflib`) of two mmengine configs' ``pretty_text``.

Budgets (:class:`auxdet.engine.demo.DemoPlan`): ``'smoke'`` (:data:`SMOKE`: 40 images of 128 px, 2 epochs —
a CI-sized run whose numbers say nothing about the methods), ``'quick'`` and ``'full'`` (the ``auxdet
demo`` budgets, :data:`auxdet.engine.demo.QUICK` / :data:`~auxdet.engine.demo.FULL`).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import shutil
from collections.abc import Callable, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from mmengine.config import Config

from auxdet import paths
from auxdet.engine.demo import DEMO_MODELS, FULL, QUICK, DemoPlan, demo_data, demo_options

__all__ = [
    "BUDGETS",
    "MANIFEST",
    "SMOKE",
    "Trainer",
    "cached_checkpoints",
    "config_diff",
    "default_budget",
    "default_work_root",
    "domain_examples",
    "resolve_budget",
    "tiny_checkpoints",
    "tiny_data",
    "training_options",
]

#: CI-sized budget: 40 synthetic images rendered at ≤ 128 px, 128-px input, 2 epochs of batch 4
#: (about 13 iterations per model).
SMOKE = DemoPlan(num_images=40, image_size=128, input_size=128, max_epochs=2, batch_size=4, lr=0.01,
                 warmup_iters=4, min_target_scale=1.0)
BUDGETS: dict[str, DemoPlan] = {"smoke": SMOKE, "quick": QUICK, "full": FULL}
#: the file that marks a finished, reusable training run in its work dir
MANIFEST = "tiny_checkpoint.json"
#: ``trainer(config, work_dir, cfg_options, seed) -> checkpoint path`` (injectable for tests)
Trainer = Callable[[str, Path, dict[str, Any], int], Path]


def default_budget() -> str:
    """``'smoke'`` under ``SMOKE=1``, else ``'full'`` (the demo budget)."""
    return "smoke" if paths.smoke() else "full"


def default_work_root() -> Path:
    """Where the cached tutorial models and data live: ``<build>/tutorial``."""
    return paths.build_dir() / "tutorial"


def resolve_budget(budget: str | DemoPlan | None) -> tuple[str, DemoPlan]:
    """``(name, plan)`` of a budget name (``smoke`` / ``quick`` / ``full``), a plan, or ``None`` (default)."""
    if budget is None:
        budget = default_budget()
    if isinstance(budget, DemoPlan):
        name = next((k for k, v in BUDGETS.items() if v == budget), "custom")
        return name, budget
    key = str(budget).strip().lower()
    if key not in BUDGETS:
        raise ValueError(f"unknown training budget {budget!r}; valid: {sorted(BUDGETS)} or a DemoPlan")
    return key, BUDGETS[key]


def _data_dir(root: Path, plan: DemoPlan, seed: int) -> Path:
    floor = "" if plan.min_target_scale is None else f"-t{plan.min_target_scale:g}"
    return root / "data" / f"synthetic-n{plan.num_images}-s{plan.image_size}{floor}-seed{seed}"


def tiny_data(
    budget: str | DemoPlan | None = None, seed: int = 0, work_root: str | os.PathLike | None = None,
    *, progress: bool = True,
) -> Path:
    """The synthetic dataset of a budget (generated once, then reused); returns its root."""
    _, plan = resolve_budget(budget)
    root = Path(work_root) if work_root is not None else default_work_root()
    return demo_data(plan, _data_dir(root, plan, seed), seed, progress=progress)


def domain_examples(
    budget: str | DemoPlan | None = None, seed: int = 0, *, per_domain: int = 1, max_scan: int = 2000
) -> list[Any]:
    """Held-out synthetic images, ``per_domain`` with targets for every platform/band domain.

    Images ``num_images, num_images + 1, …`` of the budget's synthetic dataset (same seed and rendering
    size, so the same distribution) — never part of the training/validation/test files. Returns
    :class:`auxdet.data.synthetic.SyntheticSample` objects (image, mask, boxes, metadata) ordered by
    domain as :data:`auxdet.data.synthetic.LOOKS`.
    """
    from auxdet.data.synthetic import LOOKS, SynthConfig, generate_sample, synthetic_metadata_table

    _, plan = resolve_budget(budget)
    cfg = SynthConfig(max_size=plan.image_size, min_target_scale=plan.min_target_scale)
    table = synthetic_metadata_table(plan.num_images + max_scan, seed, cfg).iloc[plan.num_images:]
    table = table[table["target_area"] > 0]
    picked: dict[str, list[Any]] = {key: [] for key in LOOKS}
    for row in table.itertuples(index=False):
        key = f"{row.platform}/{row.band}"
        if key in picked and len(picked[key]) < per_domain:
            sample = generate_sample(int(row.id), seed, cfg)
            if len(sample.boxes):  # a target that found no room leaves the image empty (rare)
                picked[key].append(sample)
        if all(len(v) == per_domain for v in picked.values()):
            break
    missing = [k for k, v in picked.items() if len(v) < per_domain]
    if missing:
        raise ValueError(f"no {per_domain} image(s) with targets for domains {missing} among {max_scan} images; "
                         "raise max_scan")
    return [s for key in LOOKS for s in picked[key]]


def training_options(plan: DemoPlan, data_root: str | os.PathLike) -> dict[str, Any]:
    """``--cfg-options`` for a tutorial run: the demo's (data, input size, schedule) + denser logging.

    The loss is logged every iteration for short runs (≤ 200 iterations expected) so that the loss
    curves have points; the console shows warnings only (the tqdm bar shows the progress).
    """
    options = demo_options(plan, data_root)
    short = plan.num_images * plan.max_epochs <= 800
    options["default_hooks.logger.interval"] = 1 if short else 10
    options["log_level"] = "WARNING"
    return options


def _config_fingerprint(config: str) -> str:
    """Hash of the fully resolved packaged config (any edit of it or of its bases changes the hash)."""
    from auxdet.models.detector import load_config

    return hashlib.sha1(load_config(config).pretty_text.encode()).hexdigest()


def _reusable(work_dir: Path, params: Mapping[str, Any], verify: bool) -> tuple[Path, Path] | None:
    """The cached ``(config, checkpoint)`` of ``work_dir`` if its manifest matches ``params``."""
    try:
        manifest = json.loads((work_dir / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    if manifest.get("params") != dict(params):
        return None
    config, checkpoint = work_dir / manifest["config"], work_dir / manifest["checkpoint"]
    if not (config.is_file() and checkpoint.is_file()):
        return None
    if verify:
        from auxdet.engine.checkpoint import CheckpointError, check_compatible, load_checkpoint_file
        from auxdet.models.detector import build_detector

        try:
            check_compatible(build_detector(str(config), init_weights=False), load_checkpoint_file(checkpoint))
        except CheckpointError:
            return None  # the model code changed since: retrain
    return config, checkpoint


def _run_params(config: str, plan: DemoPlan, seed: int, data_root: Path) -> dict[str, Any]:
    return {"config": config, "fingerprint": _config_fingerprint(config), "plan": asdict(plan),
            "seed": int(seed), "data_root": str(data_root)}


def _run_dir(root: Path, budget_name: str, seed: int, name: str) -> Path:
    return root / f"{budget_name}-seed{seed}" / name


def cached_checkpoints(
    budget: str | DemoPlan | None = None,
    seed: int = 0,
    work_root: str | os.PathLike | None = None,
    *,
    models: Mapping[str, str] | None = None,
    verify: bool = True,
) -> dict[str, tuple[Path, Path]] | None:
    """What :func:`tiny_checkpoints` would return from its cache without training, or ``None`` when
    any model is missing (nothing is trained or generated)."""
    budget_name, plan = resolve_budget(budget)
    root = (Path(work_root) if work_root is not None else default_work_root()).expanduser().resolve()
    data_root = _data_dir(root, plan, seed).resolve()
    out = {}
    for name, config in dict(models or DEMO_MODELS).items():
        run_dir = _run_dir(root, budget_name, seed, name)
        if not (run_dir / MANIFEST).is_file():
            return None
        cached = _reusable(run_dir, _run_params(config, plan, seed, data_root), verify)
        if cached is None:
            return None
        out[name] = cached
    return out


def tiny_checkpoints(
    budget: str | DemoPlan | None = None,
    seed: int = 0,
    work_root: str | os.PathLike | None = None,
    *,
    models: Mapping[str, str] | None = None,
    trainer: Trainer | None = None,
    verify: bool = True,
    progress: bool = True,
) -> dict[str, tuple[Path, Path]]:
    """The tiny baseline and AuxDet checkpoints of a budget and seed, trained once and then reused.

    Args:
        budget: ``'smoke'`` / ``'quick'`` / ``'full'`` or a :class:`~auxdet.engine.demo.DemoPlan`;
            ``None``: :func:`default_budget`.
        seed: random seed of the data and of both trainings (the same for every model).
        work_root: cache folder (default :func:`default_work_root`); each model trains in
            ``<work_root>/<budget>-seed<seed>/<name>``.
        models: name → packaged config (default: ``auxdet demo``'s baseline and AuxDet).
        trainer: ``trainer(config, work_dir, cfg_options, seed) -> checkpoint``, called per model (tests
            inject a fake one); default: the engine through :func:`auxdet.engine.parallel.train_jobs`
            (the models side by side on a multi-core CPU, one after the other with CUDA).
        verify: check a cached checkpoint against the model built from its config (a mismatch retrains).
        progress: tqdm bars (data generation; the engine's training bar is always on).

    Returns:
        name → ``(config, checkpoint)``: ``config`` is the resolved config of the run (the packaged one
        with the budget's data root, input size and schedule) written to ``<work_dir>/config.py``,
        usable by :class:`auxdet.engine.inference.Predictor`, :func:`auxdet.engine.runner.test` and the
        ``auxdet`` command line.
    """
    from auxdet.engine.runner import load_config

    budget_name, plan = resolve_budget(budget)
    root = (Path(work_root) if work_root is not None else default_work_root()).expanduser().resolve()
    models = dict(models or DEMO_MODELS)
    data_root = tiny_data(plan, seed, root, progress=progress)
    options = training_options(plan, data_root)
    out: dict[str, tuple[Path, Path]] = {}
    todo: dict[str, tuple[str, Path, dict[str, Any]]] = {}
    for name, config in models.items():
        work_dir = _run_dir(root, budget_name, seed, name)
        params = _run_params(config, plan, seed, data_root)
        cached = _reusable(work_dir, params, verify)
        if cached is not None:
            out[name] = cached
            continue
        if work_dir.exists():
            shutil.rmtree(work_dir)  # a stale or interrupted run: start clean
        work_dir.mkdir(parents=True)
        todo[name] = (config, work_dir, params)
    if trainer is not None:
        checkpoints = {name: Path(trainer(config, wd, dict(options), int(seed))) for name, (config, wd, _) in todo.items()}
    else:  # the engine; on a multi-core CPU the models train side by side, one process each
        from auxdet.engine.parallel import TrainJob, train_jobs

        checkpoints = train_jobs([TrainJob(name, config, wd, dict(options), int(seed))
                                  for name, (config, wd, _) in todo.items()])
    for name, (config, work_dir, params) in todo.items():
        checkpoint = checkpoints[name]
        if not checkpoint.is_file():
            raise FileNotFoundError(f"trainer returned checkpoint '{checkpoint}', which does not exist")
        resolved = load_config(config, work_dir=work_dir, cfg_options=options, seed=seed)
        config_file = work_dir / "config.py"
        resolved.dump(str(config_file))
        manifest = {"params": params, "config": config_file.name,
                    "checkpoint": os.path.relpath(checkpoint.resolve(), work_dir)}
        tmp = work_dir / f".{MANIFEST}.tmp"
        tmp.write_text(json.dumps(manifest, indent=2) + "\n")
        os.replace(tmp, work_dir / MANIFEST)  # written last: marks the run as complete
        out[name] = (config_file, work_dir / manifest["checkpoint"])
    return {name: out[name] for name in models}


def config_diff(
    cfg_a: str | os.PathLike | Config,
    cfg_b: str | os.PathLike | Config,
    *,
    names: tuple[str, str] | None = None,
    context: int = 3,
) -> str:
    """Unified diff of two configs' ``Config.pretty_text`` (fully resolved, bases merged).

    ``cfg_a`` / ``cfg_b``: a path, a name under ``auxdet/configs`` or a ``Config``. ``names`` label the two
    sides (default: the given names). Returns ``''`` when the configs are identical.
    """
    from auxdet.models.detector import load_config

    def label(cfg: Any) -> str:
        return Path(cfg.filename).name if isinstance(cfg, Config) and cfg.filename else str(cfg)

    a, b = load_config(cfg_a), load_config(cfg_b)
    names = names or (label(cfg_a), label(cfg_b))
    lines = difflib.unified_diff(a.pretty_text.splitlines(), b.pretty_text.splitlines(), fromfile=names[0],
                                 tofile=names[1], lineterm="", n=context)
    return "\n".join(lines)

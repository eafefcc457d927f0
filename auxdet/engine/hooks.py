"""mmengine hooks used by every auxdet run (registered in mmdet's ``HOOKS``).

* :class:`WeightsOnlyCheckpointHook` — checkpoints load under torch ≥ 2.6 ``weights_only=True``
  (numpy / ``HistoryBuffer`` values encoded, see :mod:`auxdet.engine.checkpoint`), and a loaded
  checkpoint of a different architecture stops the run with a one-line error.
* :class:`RNGStateHook` — saves the Python / numpy / torch random states in each checkpoint and
  restores them on ``--resume`` exactly where the interrupted run stood (after mmengine has skipped
  the already-seen batches), and keeps validation from consuming the training random stream: a
  resumed run reproduces the losses of an uninterrupted one.
* :class:`NonFiniteLossHook` — a NaN/Inf loss stops training with :class:`NonFiniteLossError` naming
  the iteration, before the checkpoint hook can save the broken weights (the last good checkpoint
  stays the newest one).
* :class:`TqdmProgressHook` — a tqdm bar over the training iterations (main process only).
* :class:`LossCurveHook` — after training, plots the loss / validation curves logged by mmengine's
  ``LocalVisBackend`` (``<work_dir>/<timestamp>/vis_data/scalars.json``) to ``<work_dir>/loss_curve.png``.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch
from mmdet.registry import HOOKS
from mmengine.dist import all_reduce, is_distributed, is_main_process
from mmengine.hooks import Hook
from mmengine.runner import IterBasedTrainLoop

from auxdet.engine.checkpoint import check_compatible, encode_weights_only
from auxdet.fileio import atomic_path

__all__ = [
    "LossCurveHook",
    "NonFiniteLossError",
    "NonFiniteLossHook",
    "RNGStateHook",
    "TqdmProgressHook",
    "WeightsOnlyCheckpointHook",
    "get_rng_state",
    "set_rng_state",
]


class NonFiniteLossError(FloatingPointError):
    """Training produced a NaN/Inf loss (the message names the iteration and the last good checkpoint)."""


# --------------------------------------------------------------------------- checkpoints
@HOOKS.register_module()
class WeightsOnlyCheckpointHook(Hook):
    """Encode saved checkpoints for ``weights_only`` loading; check loaded ones against the model.

    Args:
        check_architecture: on load (``--resume``, ``auxdet test``, ``load_from``), raise
            :class:`~auxdet.engine.checkpoint.CheckpointMismatchError` when the checkpoint's tensors
            differ from the model's (names or shapes). Set False to fine-tune from a partial checkpoint.
    """

    priority = "LOWEST"  # encode after every other hook has added its entries

    def __init__(self, check_architecture: bool = True) -> None:
        self.check_architecture = check_architecture

    def before_save_checkpoint(self, runner: Any, checkpoint: dict) -> None:
        encoded = encode_weights_only(checkpoint)
        checkpoint.clear()
        checkpoint.update(encoded)

    def after_load_checkpoint(self, runner: Any, checkpoint: dict) -> None:
        if self.check_architecture:
            source = f"checkpoint '{getattr(runner, '_load_from', None) or 'resumed'}'"
            check_compatible(runner.model, checkpoint, source=source)


def get_rng_state() -> dict[str, Any]:
    """Python, numpy and torch (CPU + CUDA) random states, as ``weights_only``-safe values."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    state: dict[str, Any] = {
        "python": list(random.getstate()[1]) + [random.getstate()[2]],
        "python_version": random.getstate()[0],
        "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                  "has_gauss": int(has_gauss), "gauss": float(gauss)},
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Inverse of :func:`get_rng_state`."""
    py = state["python"]
    random.setstate((state["python_version"], tuple(py[:-1]), py[-1]))
    n = state["numpy"]
    np.random.set_state((n["kind"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["gauss"]))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


class _RestoreAfterSkip:
    """Wraps the train loop's data iterator: after mmengine skipped ``skip`` batches, restore RNG state."""

    def __init__(self, loop: Any, skip: int, state: dict[str, Any]) -> None:
        self.loop, self.inner, self.skip, self.state = loop, loop.dataloader_iterator, skip, state

    def __iter__(self) -> _RestoreAfterSkip:
        return self

    def __next__(self) -> Any:
        if self.skip == 0:
            set_rng_state(self.state)
            self.loop.dataloader_iterator = self.inner  # unwrap: later batches go straight through
            return next(self.inner)
        self.skip -= 1
        return next(self.inner)


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Exact ``--resume``: random states saved in checkpoints and restored at the resume point.

    The states are taken when the checkpoint is saved (after the iteration / epoch). Validation runs
    between saving and the next iteration, so this hook also makes validation leave the random
    states as it found them (and a checkpoint re-saved during validation, as mmengine does when the
    best score improves, gets the training states). On resume, iteration-based loops first skip the batches already trained
    on (mmengine re-reads them, consuming random numbers in the data pipeline); the states are
    restored just before the next batch is read. In multi-process runs every rank gets rank 0's states.
    """

    priority = "VERY_HIGH"

    def __init__(self) -> None:
        self._pending: dict[str, Any] | None = None
        self._val_state: dict[str, Any] | None = None

    def before_save_checkpoint(self, runner: Any, checkpoint: dict) -> None:
        # mmengine re-saves the last checkpoint during validation (to record a new best score):
        # store the training stream's state, which validation must not advance
        checkpoint["rng_state"] = self._val_state if self._val_state is not None else get_rng_state()

    def after_load_checkpoint(self, runner: Any, checkpoint: dict) -> None:
        if getattr(runner, "_resume", False) and "rng_state" in checkpoint:
            self._pending = checkpoint["rng_state"]

    def before_train_epoch(self, runner: Any) -> None:
        if self._pending is None:
            return
        state, self._pending = self._pending, None
        loop = runner.train_loop
        if isinstance(loop, IterBasedTrainLoop) and loop.iter > 0:
            loop.dataloader_iterator = _RestoreAfterSkip(loop, loop.iter, state)
        else:
            set_rng_state(state)

    def before_val(self, runner: Any) -> None:
        self._val_state = get_rng_state()

    def after_val(self, runner: Any) -> None:
        if self._val_state is not None:
            set_rng_state(self._val_state)
            self._val_state = None


# --------------------------------------------------------------------------- NaN / Inf
@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Stop training at the first NaN/Inf loss, before a checkpoint of the broken weights is saved.

    Runs before the logger and checkpoint hooks (priority ``VERY_HIGH``). In multi-process runs the
    verdict is all-reduced so that every rank stops at the same iteration.
    """

    priority = "VERY_HIGH"

    def after_train_iter(
        self, runner: Any, batch_idx: int, data_batch: Any = None, outputs: dict | None = None
    ) -> None:
        bad = {}
        for name, value in (outputs or {}).items():
            v = torch.as_tensor(value.detach() if isinstance(value, torch.Tensor) else value).float()
            if not bool(torch.isfinite(v).all()):
                bad[name] = float(v.flatten()[0]) if v.numel() == 1 else "non-finite"
        flag = torch.tensor(float(bool(bad)))
        if is_distributed():
            all_reduce(flag)
        if float(flag) == 0.0:
            return
        iteration = runner.iter + 1
        last = _last_checkpoint(runner.work_dir)
        where = f"last good checkpoint: {last}" if last else "no checkpoint was saved yet"
        detail = ", ".join(f"{k}={v}" for k, v in bad.items()) or "on another rank"
        raise NonFiniteLossError(
            f"training stopped: non-finite loss at iteration {iteration} (epoch {runner.epoch + 1}): "
            f"{detail}; {where}. Lower the learning rate or check the data."
        )


def _last_checkpoint(work_dir: str) -> str | None:
    marker = Path(work_dir) / "last_checkpoint"
    return marker.read_text().strip() if marker.is_file() else None


# --------------------------------------------------------------------------- progress / curves
@HOOKS.register_module()
class TqdmProgressHook(Hook):
    """A tqdm progress bar over the training iterations (main process only), showing the loss."""

    priority = "BELOW_NORMAL"

    def __init__(self, enabled: bool = True, desc: str = "train", position: int | None = None) -> None:
        self.enabled, self.desc, self.position = enabled, desc, position
        self._bar: Any = None

    def before_train(self, runner: Any) -> None:
        if not (self.enabled and is_main_process()):
            return
        from tqdm.auto import tqdm

        self._bar = tqdm(total=runner.max_iters, initial=runner.iter, desc=self.desc, unit="it",
                         dynamic_ncols=True, leave=True, position=self.position)

    def after_train_iter(
        self, runner: Any, batch_idx: int, data_batch: Any = None, outputs: dict | None = None
    ) -> None:
        if self._bar is None:
            return
        self._bar.update(1)
        loss = (outputs or {}).get("loss")
        if loss is not None:
            self._bar.set_postfix(loss=f"{float(loss.detach() if hasattr(loss, 'detach') else loss):.4f}", refresh=False)

    def after_train(self, runner: Any) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def read_scalars(work_dir: str | Path) -> list[dict[str, Any]]:
    """All records of ``<work_dir>/*/vis_data/scalars.json`` (oldest run first, e.g. before a resume)."""
    records: list[dict[str, Any]] = []
    for path in sorted(Path(work_dir).glob("*/vis_data/scalars.json")):
        with open(path) as f:
            records.extend(json.loads(line) for line in f if line.strip())
    return records


def save_loss_curve(work_dir: str | Path, out: str | Path | None = None) -> Path | None:
    """Draw the training losses (per iteration) and validation metrics (per evaluation) of a work dir
    into ``out`` (default ``<work_dir>/loss_curve.png``, written atomically); None without losses.

    (The notebooks' multi-model figure is :func:`auxdet.visualisation.training.plot_loss_curves`.)
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    records = read_scalars(work_dir)
    train = [r for r in records if "loss" in r and "iter" in r]
    val = [r for r in records if "step" in r and any(k.endswith("AP50") for k in r)]
    if not train:
        return None
    by_iter = {r["iter"]: r for r in train}  # a resumed run re-logs nothing twice; keep the last
    iters = sorted(by_iter)
    fig, axes = plt.subplots(1, 2 if val else 1, figsize=(11 if val else 6, 4), squeeze=False)
    ax = axes[0, 0]
    for key in sorted({k for r in train for k in r if k.startswith("loss")}):
        pts = [(i, by_iter[i][key]) for i in iters if key in by_iter[i]]
        ax.plot([p[0] for p in pts], [p[1] for p in pts], label=key, lw=1.5 if key == "loss" else 0.8)
    ax.set(xlabel="iteration", ylabel="loss", title="training loss")
    ax.legend(fontsize=7)
    if val:
        ax = axes[0, 1]
        keys = sorted({k for r in val for k in r if k.endswith(("AP50", "Recall")) and k.count("/") <= 1})
        for key in keys:
            pts = [(r["step"], r[key]) for r in val if key in r]
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=key)
        ax.set(xlabel="evaluation step", ylabel="value", title="validation")
        ax.legend(fontsize=7)
    fig.tight_layout()
    out = Path(out) if out else Path(work_dir) / "loss_curve.png"
    with atomic_path(out) as tmp:
        fig.savefig(tmp, dpi=100)
    plt.close(fig)
    return out


@HOOKS.register_module()
class LossCurveHook(Hook):
    """After training (main process), write ``<work_dir>/loss_curve.png`` from the logged scalars."""

    priority = "LOWEST"

    def after_train(self, runner: Any) -> None:
        if is_main_process():
            path = save_loss_curve(runner.work_dir)
            if path is not None:
                runner.logger.info(f"loss curves written to {path}")

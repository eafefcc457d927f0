"""Checkpoints that load under torch ≥ 2.6 (``weights_only=True``), and architecture checks.

torch ≥ 2.6 unpickles checkpoints with ``weights_only=True``: only tensors, containers and plain
Python values. mmengine 0.10.7 stores numpy scalars/arrays (dataset meta, message hub) and its
``HistoryBuffer`` objects (whose pickled state needs ``builtins.getattr``) in every checkpoint, so a
stock mmengine checkpoint fails to load with "Unsupported global: numpy._core.multiarray.scalar".
Allow-listing ``getattr`` would defeat the purpose of ``weights_only``, so auxdet does this instead:

* :func:`encode_weights_only` turns those objects into tensors / plain values with a small tag
  (``{"__auxdet__": "ndarray" | "HistoryBuffer", ...}``) — the :class:`~auxdet.engine.hooks.
  WeightsOnlyCheckpointHook` applies it to every checkpoint the runner saves. auxdet checkpoints
  therefore load with a plain ``torch.load(path)`` (weights only) anywhere.
* :func:`load_checkpoint_file` loads with ``weights_only=True`` and :func:`decode_weights_only`
  restores the numpy / ``HistoryBuffer`` objects; it is registered as mmengine's loader for local
  files, so ``Runner.load_checkpoint`` and ``--resume`` use it. A file that holds other pickled
  objects (e.g. one saved by plain mmengine) is refused with a one-line :class:`CheckpointError`
  telling how to convert it once, deliberately, if it is trusted (:func:`convert_checkpoint`).
* :func:`check_compatible` compares a checkpoint's ``state_dict`` with a model: a checkpoint of a
  different architecture raises :class:`CheckpointMismatchError` with a one-line summary.
"""

from __future__ import annotations

import os
import pickle
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner import CheckpointLoader
from torch import nn

from auxdet.fileio import atomic_path

__all__ = [
    "TAG",
    "CheckpointError",
    "CheckpointMismatchError",
    "check_compatible",
    "convert_checkpoint",
    "decode_weights_only",
    "encode_weights_only",
    "load_checkpoint_file",
    "load_weights",
    "register_checkpoint_loader",
    "state_dict_of",
]

TAG = "__auxdet__"


class CheckpointError(ValueError):
    """A checkpoint file that cannot be loaded (missing, corrupt, or holding untrusted objects)."""


class CheckpointMismatchError(CheckpointError):
    """A checkpoint whose weights do not fit the model built from the config (different architecture)."""


# --------------------------------------------------------------------------- encode / decode
def _encode_array(arr: np.ndarray) -> dict[str, Any]:
    try:
        data: Any = torch.from_numpy(np.ascontiguousarray(arr).copy())
    except TypeError:  # dtypes torch has no tensor type for (strings, objects): plain lists
        data = arr.tolist()
    return {TAG: "ndarray", "dtype": str(arr.dtype), "shape": list(arr.shape), "data": data}


def encode_weights_only(obj: Any) -> Any:
    """Return ``obj`` with numpy values and mmengine ``HistoryBuffer`` objects made ``weights_only``-safe.

    numpy scalars become Python numbers; numpy arrays and history buffers become tagged dicts of
    tensors that :func:`decode_weights_only` turns back (same dtype and values). Containers are
    rebuilt (``dict``/``OrderedDict``/``list``/``tuple``); other values are returned unchanged.
    """
    if isinstance(obj, np.generic):  # before the float check: np.float64 subclasses float
        return obj.item()
    if isinstance(obj, torch.Tensor) or obj is None or isinstance(obj, str | bytes | bool | int | float):
        return obj
    if isinstance(obj, np.ndarray):
        return _encode_array(obj)
    if isinstance(obj, HistoryBuffer):
        log, count = obj.data
        return {TAG: "HistoryBuffer", "max_length": int(obj.max_length), "log": _encode_array(log),
                "count": _encode_array(count)}
    if isinstance(obj, OrderedDict):
        return OrderedDict((k, encode_weights_only(v)) for k, v in obj.items())
    if isinstance(obj, Mapping):
        return {k: encode_weights_only(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [encode_weights_only(v) for v in obj]
    if isinstance(obj, tuple) and not hasattr(obj, "_fields"):
        return tuple(encode_weights_only(v) for v in obj)
    return obj


def _decode_array(d: Mapping[str, Any]) -> np.ndarray:
    data = d["data"]
    arr = data.numpy() if isinstance(data, torch.Tensor) else np.asarray(data)
    return arr.astype(np.dtype(d["dtype"]), copy=False).reshape(d["shape"])


def decode_weights_only(obj: Any) -> Any:
    """Inverse of :func:`encode_weights_only` (tagged dicts → numpy arrays / ``HistoryBuffer``)."""
    if isinstance(obj, Mapping):
        tag = obj.get(TAG)
        if tag == "ndarray":
            return _decode_array(obj)
        if tag == "HistoryBuffer":
            return HistoryBuffer(
                list(_decode_array(obj["log"])), list(_decode_array(obj["count"])), obj["max_length"]
            )
        items = ((k, decode_weights_only(v)) for k, v in obj.items())
        return OrderedDict(items) if isinstance(obj, OrderedDict) else dict(items)
    if isinstance(obj, list):
        return [decode_weights_only(v) for v in obj]
    if isinstance(obj, tuple) and not hasattr(obj, "_fields"):
        return tuple(decode_weights_only(v) for v in obj)
    return obj


# --------------------------------------------------------------------------- loading
def load_checkpoint_file(path: str | os.PathLike, map_location: Any = "cpu") -> dict[str, Any]:
    """Load a local checkpoint with ``weights_only=True`` and decode auxdet's tagged values.

    Raises:
        FileNotFoundError: no such file.
        CheckpointError: the file is not a torch checkpoint, or it holds pickled objects outside
            the weights-only set (the message lists them and names :func:`convert_checkpoint`).
    """
    path = Path(os.path.expanduser(str(path)))
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint '{path}' not found")
    if path.stat().st_size == 0:
        raise CheckpointError(f"checkpoint '{path}' is empty (0 bytes): not a torch checkpoint")
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError:
        try:
            unsafe = torch.serialization.get_unsafe_globals_in_checkpoint(str(path))
        except Exception:  # noqa: BLE001 - not a torch zip checkpoint at all
            unsafe = []
        if not unsafe:
            raise CheckpointError(
                f"'{path}' is not a readable torch checkpoint (corrupt, truncated or another file format)"
            ) from None
        raise CheckpointError(
            f"checkpoint '{path}' holds pickled objects that weights-only loading refuses "
            f"({', '.join(unsafe)}); checkpoints saved by auxdet never do. "
            "If you trust the file, convert it once: python -c \"from auxdet.engine.checkpoint import "
            f"convert_checkpoint; convert_checkpoint('{path}', 'converted.pth', trusted=True)\""
        ) from None
    except (RuntimeError, EOFError, OSError, ValueError, TypeError, KeyError, IndexError, AttributeError) as err:
        reason = (str(err).strip().splitlines() or [type(err).__name__])[0]  # EOFError() has no message
        raise CheckpointError(f"'{path}' is not a readable torch checkpoint ({reason})") from None
    return decode_weights_only(ckpt)


def _mmengine_local_loader(filename: str, map_location: Any) -> dict[str, Any]:
    """mmengine ``CheckpointLoader`` scheme for local paths (replaces ``load_from_local``)."""
    return load_checkpoint_file(filename, map_location=map_location)


def register_checkpoint_loader() -> None:
    """Make mmengine load local checkpoints through :func:`load_checkpoint_file` (idempotent).

    Affects ``Runner.load_checkpoint``/``resume`` and ``mmengine.runner.load_checkpoint`` for local
    paths; URL / ``torchvision://`` / ``open-mmlab://`` schemes keep mmengine's loaders.
    """
    CheckpointLoader.register_scheme(prefixes="", loader=_mmengine_local_loader, force=True)


def convert_checkpoint(src: str | os.PathLike, dst: str | os.PathLike, *, trusted: bool = False) -> Path:
    """Rewrite a *trusted* checkpoint (e.g. saved by plain mmengine) in auxdet's weights-only form.

    ``trusted=True`` is required because the source is unpickled with ``weights_only=False``, which can
    execute code embedded in the file.
    """
    if not trusted:
        raise CheckpointError(
            f"refusing to unpickle '{src}' without weights_only: pass trusted=True only for files you trust"
        )
    src = Path(src)
    if not src.is_file():
        raise FileNotFoundError(f"checkpoint '{src}' not found")
    ckpt = torch.load(src, map_location="cpu", weights_only=False)
    with atomic_path(dst) as tmp:
        torch.save(encode_weights_only(ckpt), tmp)
    return Path(dst)


# --------------------------------------------------------------------------- architecture check
def state_dict_of(checkpoint: Mapping[str, Any]) -> Mapping[str, Any]:
    """The weights of a checkpoint dict (``state_dict`` / ``model`` entry, or the dict itself)."""
    for key in ("state_dict", "model"):
        if key in checkpoint and isinstance(checkpoint[key], Mapping):
            return checkpoint[key]
    return checkpoint


def _strip_module(key: str) -> str:
    return key[len("module."):] if key.startswith("module.") else key


def check_compatible(model: nn.Module, checkpoint: Mapping[str, Any], source: str = "checkpoint") -> None:
    """Raise :class:`CheckpointMismatchError` unless ``checkpoint`` has exactly ``model``'s weights.

    Compares parameter/buffer names and shapes (a ``module.`` prefix of DDP-wrapped models is ignored).
    The one-line message counts missing, unexpected and mis-shaped tensors and names a few of each.
    """
    model = model.module if hasattr(model, "module") and isinstance(model.module, nn.Module) else model
    own = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    theirs = {
        _strip_module(k): tuple(v.shape) for k, v in state_dict_of(checkpoint).items() if hasattr(v, "shape")
    }
    missing = [k for k in own if k not in theirs]
    unexpected = [k for k in theirs if k not in own]
    shapes = [f"{k} {theirs[k]}≠{own[k]}" for k in own if k in theirs and theirs[k] != own[k]]
    if not (missing or unexpected or shapes):
        return

    def few(items: list[str]) -> str:
        return ", ".join(items[:3]) + (", …" if len(items) > 3 else "")

    parts = []
    if missing:
        parts.append(f"{len(missing)} model tensors missing ({few(missing)})")
    if unexpected:
        parts.append(f"{len(unexpected)} unexpected tensors ({few(unexpected)})")
    if shapes:
        parts.append(f"{len(shapes)} shape mismatches ({few(shapes)})")
    raise CheckpointMismatchError(
        f"{source} does not match the model of this config ({type(model).__name__}): " + "; ".join(parts)
        + " — was it trained with a different config/architecture?"
    )


def load_weights(model: nn.Module, path: str | os.PathLike, map_location: Any = "cpu") -> dict[str, Any]:
    """Check and load a checkpoint's weights into ``model`` (strict); returns the checkpoint dict."""
    ckpt = load_checkpoint_file(path, map_location=map_location)
    check_compatible(model, ckpt, source=f"checkpoint '{path}'")
    weights = {_strip_module(k): v for k, v in state_dict_of(ckpt).items()}
    model.load_state_dict(weights, strict=True)
    return ckpt


register_checkpoint_loader()

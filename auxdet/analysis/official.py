"""Defects of the official AuxDet implementation, demonstrated without its code (docs/paper_gaps.md §4).

Each function shows the *mechanism* behind one defect on a small module built here or in auxdet —
never a copy of the official code — and returns what it measured, so that notebook 09 can assert it:

* :func:`init_cfg_demo` (defect 7) — mmengine's ``BaseModule.init_weights`` applies an
  ``init_cfg=dict(type='Xavier', layer='Conv2d')`` to *every* ``Conv2d`` below the module, after the
  submodules' ``__init__`` ran, and then calls ``init_weights`` of its **direct children only**. A
  kernel set in a child's ``__init__`` (the official edge module's Laplacian) is therefore overwritten;
  so is one restored by an ``init_weights`` of a grandchild held in a plain ``nn.ModuleList``. auxdet's
  neck keeps Eq. 16 because its per-level container forwards ``init_weights`` to the modules it holds.
* :func:`gradient_report` (defect 8) — which parameters of a module receive no gradient from a loss
  (an mmdet FPN whose caller uses 2 of its 4 outputs: the other two output convs).
* :func:`batchnorm_demo` (defect 3) — ``BatchNorm1d`` in training mode raises on a batch of one and
  mixes the samples of a batch; auxdet's metadata encoder (LayerNorm) does neither.
* :func:`detached_gradient_demo` (defect 1) — spatial parameters used after ``.detach()`` pass no
  gradient back to the layer that produced them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
from mmengine.logging import MMLogger
from mmengine.model import BaseModule
from torch import Tensor, nn

from auxdet.metadata import MetaBatch
from auxdet.models.edge import separable_laplacian_kernels
from auxdet.models.metadata_encoder import MetadataEncoder
from auxdet.models.modulation import M2DM, pssm_kernels, pssm_pool, pssm_response

__all__ = [
    "INIT_CASES",
    "InitDemo",
    "batchnorm_demo",
    "detached_gradient_demo",
    "gradient_report",
    "init_cfg_demo",
    "quiet_init_weights",
]

XAVIER_CONV = {"type": "Xavier", "layer": "Conv2d"}


@contextmanager
def _quiet_logger() -> Iterator[None]:
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(max(level, logging.WARNING))  # outside a Runner mmengine logs every parameter at INFO
    try:
        yield
    finally:
        logger.setLevel(level)


def quiet_init_weights(module: nn.Module) -> nn.Module:
    """``module.init_weights()`` without mmengine's per-parameter INFO log lines; returns ``module``."""
    with _quiet_logger():
        module.init_weights()  # type: ignore[operator]
    return module


def _eq16(conv: nn.Conv2d) -> None:
    with torch.no_grad():
        conv.weight.copy_(separable_laplacian_kernels(conv.in_channels)[0])


class _EdgeSetInInit(nn.Module):
    """Sets the Eq. 16 kernel ``¼[1, −2, 1]ᵀ ⊙ I_C`` in ``__init__`` and has no ``init_weights``."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv_v = nn.Conv2d(channels, channels, (3, 1), padding=(1, 0), bias=False)
        _eq16(self.conv_v)


class _EdgeWithInitWeights(_EdgeSetInInit):
    """The same, plus an ``init_weights`` that sets the kernel again."""

    def init_weights(self) -> None:
        _eq16(self.conv_v)


class _ForwardingList(nn.ModuleList):
    """A container that forwards ``init_weights`` to its modules (as auxdet's neck does)."""

    def init_weights(self) -> None:
        for m in self:
            m.init_weights()


#: case → how the edge module sits below the ``BaseModule`` with ``init_cfg=Xavier(layer='Conv2d')``
INIT_CASES: dict[str, str] = {
    "child, kernel set in __init__": "a direct child that sets its kernel in __init__ only",
    "grandchild with init_weights in nn.ModuleList": "init_weights exists but sits below a plain nn.ModuleList",
    "child with init_weights": "a direct child with its own init_weights",
    "grandchild, container forwards init_weights": "auxdet's way: the per-level container forwards init_weights",
}


class _XavierNeck(BaseModule):
    """A ``BaseModule`` with the official neck's ``init_cfg`` holding one edge module as ``case`` says."""

    def __init__(self, channels: int, case: str) -> None:
        super().__init__(init_cfg=dict(XAVIER_CONV))
        if case == "child, kernel set in __init__":
            self.edge: nn.Module = _EdgeSetInInit(channels)
        elif case == "child with init_weights":
            self.edge = _EdgeWithInitWeights(channels)
        elif case == "grandchild with init_weights in nn.ModuleList":
            self.edge = nn.ModuleList([_EdgeWithInitWeights(channels)])
        elif case == "grandchild, container forwards init_weights":
            self.edge = _ForwardingList([_EdgeWithInitWeights(channels)])
        else:
            raise ValueError(f"unknown case {case!r}; valid: {list(INIT_CASES)}")

    def kernel(self) -> Tensor:
        edge = self.edge[0] if isinstance(self.edge, nn.ModuleList) else self.edge
        return edge.conv_v.weight.detach().clone()


@dataclass(frozen=True)
class InitDemo:
    """Kernels of one :func:`init_cfg_demo` case: right after ``__init__`` and after ``init_weights()``."""

    case: str
    before: Tensor  # [C, C, 3, 1]
    after: Tensor
    eq16: Tensor

    @property
    def kept(self) -> bool:
        """Whether ``init_weights()`` left the Eq. 16 kernel in place."""
        return bool(torch.equal(self.after, self.eq16))

    @property
    def off_diagonal_mass(self) -> float:
        """Share of |weights| outside the channel diagonal after ``init_weights`` (0 for Eq. 16)."""
        a = self.after.abs().sum(dim=(2, 3))
        return float((a.sum() - a.diagonal().sum()) / a.sum())


def init_cfg_demo(case: str, channels: int = 4, seed: int = 0) -> InitDemo:
    """Build a ``BaseModule`` with ``init_cfg=dict(type='Xavier', layer='Conv2d')`` holding an edge module
    that sets ``¼[1, −2, 1]ᵀ ⊙ I_C`` in its ``__init__`` (placed as ``case`` of :data:`INIT_CASES` says),
    call ``init_weights()`` as mmengine's Runner does, and return the kernel before and after."""
    torch.manual_seed(seed)
    module = _XavierNeck(channels, case)
    before = module.kernel()
    quiet_init_weights(module)
    return InitDemo(case, before, module.kernel(), separable_laplacian_kernels(channels)[0])


def gradient_report(module: nn.Module, loss_fn: Callable[[nn.Module], Tensor]) -> dict[str, bool]:
    """Parameter name → whether it received a non-zero gradient from ``loss_fn(module).backward()``."""
    module.zero_grad(set_to_none=True)
    loss_fn(module).backward()
    return {n: p.grad is not None and bool(p.grad.abs().sum() > 0) for n, p in module.named_parameters()}


def batchnorm_demo(embed_dim: int = 8, seed: int = 0) -> dict[str, Any]:
    """A batch of one and batch mixing: a ``Linear → ReLU → BatchNorm1d`` field projection (the official
    design, built here) vs auxdet's :class:`~auxdet.metadata_encoder.MetadataEncoder` (LayerNorm).

    Returns ``bn_error`` (the message BatchNorm1d raises on one sample in training mode), ``bn_mixing`` /
    ``ours_mixing`` (max change of sample 0's code when the other samples of its batch change, training
    mode, dropout off) and ``ours_batch_of_one`` (the shape of auxdet's code for one image).
    """
    torch.manual_seed(seed)
    bn_branch = nn.Sequential(nn.Linear(3, embed_dim), nn.ReLU(), nn.BatchNorm1d(embed_dim)).train()
    ours = MetadataEncoder(dropout=0.0).train()

    def meta(rows: list[tuple[int, int, int, int]]) -> MetaBatch:
        return MetaBatch(*(torch.tensor(col) for col in zip(*rows, strict=True)))

    one_hot, first = torch.eye(3), (0, 0, 256, 256)  # sample 0: platform 0 (Air), an Air/LWIR 256² image
    with torch.no_grad():  # training mode all the same: BatchNorm1d uses the batch's statistics
        try:
            bn_branch(one_hot[:1])
            bn_error = ""
        except ValueError as err:
            bn_error = str(err)
        bn_mixing = (bn_branch(one_hot[[0, 1]])[0] - bn_branch(one_hot[[0, 2, 2]])[0]).abs().max()
        ours_mixing = (ours(meta([first, (1, 1, 1024, 1024)]))[0]
                       - ours(meta([first, (2, 2, 640, 512), (1, 2, 1280, 720)]))[0]).abs().max()  # fmt: skip
        ours_one = tuple(ours(meta([first])).shape)
    return {"bn_error": bn_error, "bn_mixing": float(bn_mixing), "ours_mixing": float(ours_mixing),
            "ours_batch_of_one": ours_one}  # fmt: skip


def detached_gradient_demo(channels: int = 16, aux_dim: int = 32, seed: int = 0) -> dict[str, float]:
    """Norm of the gradient that a loss on the PSSM response (Eq. 10–12) sends back to the spatial
    parameters ``sm`` of M2DM (Eq. 9) — with ``sm`` used as is (``'trained'``, auxdet) and after
    ``.detach()`` (``'detached'``, as the official code builds them): 0 means the dynamic MLP that
    produces ``sm`` cannot learn from the spatial branch."""
    torch.manual_seed(seed)
    m2dm = M2DM(channels, aux_dim)
    x, aux = torch.randn(2, channels, 8, 8), torch.randn(2, aux_dim)
    out = {}
    for name, detach in (("trained", False), ("detached", True)):
        sm = m2dm.modulation_params(x, aux)["sm"]
        f_sm = pssm_response(pssm_pool(x), pssm_kernels(sm.detach() if detach else sm))
        loss = (x * torch.sigmoid(f_sm)).square().mean()
        (grad,) = torch.autograd.grad(loss, sm, allow_unused=True) if loss.requires_grad else (None,)
        out[name] = 0.0 if grad is None else float(grad.norm())
    return out

"""Independent check of the paper-setting AuxDet (R50, Cascade RPN, AuxFPN) built from its config.

After ``init_weights()`` (what the Runner calls): LEEM holds Eq. 16's kernels, every neck parameter
receives a non-zero gradient from one backward pass (no dead parameters), a batch of one image trains,
and each image's neck output depends only on its own metadata (per-sample modulation).
"""

from __future__ import annotations

import pytest
import torch

from auxdet.engine.config import build_detector, demo_batch, read_config

PAPER = "auxdet_r50_fpn_1x_wideirstd"
METAS = [dict(platform="Air", band="LWIR", width=256, height=256),
         dict(platform="Space", band="NIR", width=1024, height=1024),
         dict(platform="Land", band="SWIR", width=640, height=512)]  # fmt: skip


@pytest.fixture(scope="module")
def model() -> torch.nn.Module:
    torch.manual_seed(0)
    cfg = read_config(PAPER, {"model.backbone.init_cfg": None})  # no download; the neck's init is what matters
    m = build_detector(cfg, init_weights=True)
    return m


def test_eq16_survives_init_weights(model: torch.nn.Module) -> None:
    quarter = torch.tensor([0.25, -0.5, 0.25])
    for level in (0, 1):
        w = model.neck.leem[level].conv_v.weight.detach()
        eye = torch.eye(w.shape[0], dtype=torch.bool)
        assert torch.equal(w[eye][:, :, 0], quarter.expand(w.shape[0], 3))
        assert not w[~eye].any()


def test_every_neck_parameter_gets_a_gradient_and_a_batch_of_one_trains(model: torch.nn.Module) -> None:
    model.train()
    for metas in (METAS, METAS[:1]):  # a batch of three, then a batch of one (no batch statistics)
        model.zero_grad()
        inputs, samples = demo_batch(model, [(128, 128)] * len(metas), metas, training=True)
        losses = model(inputs, samples, mode="loss")
        loss, _ = model.parse_losses(losses)
        assert torch.isfinite(loss)
        loss.backward()
        dead = [n for n, p in model.neck.named_parameters() if p.requires_grad and (p.grad is None or not p.grad.any())]
        assert dead == [], dead
    # the whole detector: no trainable parameter without a gradient either (DDP runs without searching)
    unused = [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]
    assert unused == [], unused[:10]


def test_per_sample_independence(model: torch.nn.Module) -> None:
    model.eval()
    inputs, samples = demo_batch(model, [(128, 128)] * 3, METAS, training=False)
    changed = [s.clone() for s in samples]
    changed[1].set_metainfo(dict(platform="Air", band="SWIR"))
    with torch.no_grad():
        out = model.extract_feat(inputs, samples)
        out_c = model.extract_feat(inputs, changed)
    for a, b in zip(out, out_c, strict=True):
        torch.testing.assert_close(a[[0, 2]], b[[0, 2]])
        assert not torch.allclose(a[1], b[1])

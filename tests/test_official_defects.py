"""auxdet.analysis.official: the mechanisms behind the official code's defects, and auxdet's neck free of them."""

from __future__ import annotations

import pytest
import torch
from mmdet.models.necks import FPN

from auxdet.analysis.official import (
    INIT_CASES,
    batchnorm_demo,
    detached_gradient_demo,
    gradient_report,
    init_cfg_demo,
    quiet_init_weights,
)
from auxdet.models import AuxFPN, dead_fpn_conv_params, separable_laplacian_kernels

IN_CHANNELS = [8, 16, 32, 64]
SIZES = [32, 16, 8, 4]


def _feats(batch: int = 2) -> list[torch.Tensor]:
    torch.manual_seed(0)
    return [torch.relu(torch.randn(batch, c, s, s)) for c, s in zip(IN_CHANNELS, SIZES, strict=True)]


def test_xavier_init_cfg_overwrites_a_kernel_set_in_init() -> None:
    kept = {case: init_cfg_demo(case, channels=4) for case in INIT_CASES}
    for demo in kept.values():
        assert torch.equal(demo.before, demo.eq16)  # every case starts from Eq. 16
    assert not kept["child, kernel set in __init__"].kept
    assert not kept["grandchild with init_weights in nn.ModuleList"].kept  # mmengine only calls direct children
    assert kept["child, kernel set in __init__"].off_diagonal_mass > 0.5  # Xavier noise on every channel pair
    assert kept["child with init_weights"].kept
    assert kept["grandchild, container forwards init_weights"].kept
    assert kept["grandchild, container forwards init_weights"].off_diagonal_mass == 0.0
    with pytest.raises(ValueError, match="unknown case"):
        init_cfg_demo("nowhere")


def test_auxdet_neck_keeps_eq16_after_mmengine_init_weights() -> None:
    neck = quiet_init_weights(AuxFPN(IN_CHANNELS, 16, 4, out_indices=(0, 1)))
    assert neck.init_cfg["type"] == "Xavier"  # the same mechanism as the official neck applies to ours
    w_v, w_h = separable_laplacian_kernels(16)
    for level in (0, 1):
        assert torch.equal(neck.leem[level].conv_v.weight, w_v)
        assert torch.equal(neck.leem[level].conv_h.weight, w_h)


def test_mmdet_fpn_returning_two_of_four_levels_leaves_two_output_convs_without_gradient() -> None:
    feats = _feats()
    fpn = FPN(IN_CHANNELS, 16, 4)
    report = gradient_report(fpn, lambda m: sum(o.sum() for o in m(feats)[:2]))
    dead = sorted(n for n, ok in report.items() if not ok)
    assert dead == ["fpn_convs.2.conv.bias", "fpn_convs.2.conv.weight", "fpn_convs.3.conv.bias",
                    "fpn_convs.3.conv.weight"]  # fmt: skip
    n_dead = sum(p.numel() for n, p in fpn.named_parameters() if n in dead)
    assert n_dead == dead_fpn_conv_params(16, 4, (0, 1))

    from auxdet.metadata import MetaBatch

    neck = quiet_init_weights(AuxFPN(IN_CHANNELS, 16, 4, out_indices=(0, 1))).train()
    meta = MetaBatch(torch.tensor([0, 1]), torch.tensor([0, 1]), torch.tensor([256, 1024]), torch.tensor([256, 512]))
    report = gradient_report(neck, lambda m: sum(o.square().mean() for o in m(feats, meta)))
    assert all(report.values()), [n for n, ok in report.items() if not ok]


def test_batchnorm_demo_batch_of_one_and_mixing() -> None:
    out = batchnorm_demo()
    assert "Expected more than 1 value per channel when training" in out["bn_error"]
    assert out["bn_mixing"] > 0.1  # sample 0's code depends on its batch companions
    assert out["ours_mixing"] == 0.0
    assert out["ours_batch_of_one"] == (1, 128)


def test_detached_spatial_parameters_receive_no_gradient() -> None:
    out = detached_gradient_demo()
    assert out["detached"] == 0.0
    assert out["trained"] > 1e-4


def test_kernel_figure_shares_one_symmetric_scale() -> None:
    import matplotlib.pyplot as plt

    from auxdet.visualisation.paper_gaps import plot_kernels

    demo = init_cfg_demo("child, kernel set in __init__", channels=3)
    fig = plot_kernels({"before": demo.before, "after": demo.after}, "t")
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(images) == 2 and images[0].get_clim() == images[1].get_clim()
    lo, hi = images[0].get_clim()
    assert lo == -hi and hi == pytest.approx(max(demo.before.abs().max(), demo.after.abs().max()))
    plt.close(fig)

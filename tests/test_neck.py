"""AuxFPN: plain-FPN equivalence, gradients everywhere, per-sample behaviour, metadata errors, switches."""

from __future__ import annotations

import pytest
import torch
from mmdet.models.necks import FPN
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample

import auxdet.models.neck  # noqa: F401  (registers AuxFPN)
from auxdet.metadata import MetadataError
from auxdet.models.neck import AuxFPN

IN_CHANNELS = [8, 16, 32, 64]
OUT = 32
SIZES = [(32, 28), (16, 14), (8, 7), (4, 4)]  # strides 4..32 of a 128×112 image
METAS = [
    ("Air", "LWIR", 256, 256),
    ("Space", "NIR", 1024, 1024),
    ("Land", "SWIR", 640, 512),
    ("Land", "LWIR", 3000, 2000),
]


def _inputs(batch: int = 4, sizes: list[tuple[int, int]] = SIZES) -> list[torch.Tensor]:
    # post-ReLU-like backbone features
    return [torch.relu(torch.randn(batch, c, h, w)) for c, (h, w) in zip(IN_CHANNELS, sizes, strict=True)]


def _samples(metas: list[tuple[str, str, int, int]] = METAS) -> list[DetDataSample]:
    return [
        DetDataSample(metainfo=dict(platform=p, band=b, width=w, height=h, img_path=f"img{i}.png"))
        for i, (p, b, w, h) in enumerate(metas)
    ]


def _neck(**kwargs: object) -> AuxFPN:
    cfg = dict(type="AuxFPN", in_channels=IN_CHANNELS, out_channels=OUT, num_outs=4)
    cfg.update(kwargs)
    neck = MODELS.build(cfg)
    neck.init_weights()
    return neck


def _count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_all_off_is_exactly_mmdet_fpn() -> None:
    torch.manual_seed(3)
    fpn = FPN(IN_CHANNELS, OUT, 5)
    fpn.init_weights()
    torch.manual_seed(3)
    aux = MODELS.build(
        dict(type="AuxFPN", in_channels=IN_CHANNELS, out_channels=OUT, num_outs=5, m2dm_levels=(), leem_levels=())
    )
    aux.init_weights()
    assert _count(aux) == _count(fpn)
    assert list(aux.state_dict()) == list(fpn.state_dict())
    for (name, p), q in zip(aux.state_dict().items(), fpn.state_dict().values(), strict=True):
        assert torch.equal(p, q), name
    x = _inputs(2)
    ref = fpn(x)
    out = aux(x)  # no metadata needed when no module uses it
    assert len(out) == 5
    for a, b in zip(out, ref, strict=True):
        assert torch.equal(a, b)
    aux.out_indices = (0, 1)
    sel = aux(x, _samples()[:2])
    assert len(sel) == 2 and torch.equal(sel[0], ref[0]) and torch.equal(sel[1], ref[1])


def test_init_weights_keeps_eq16_kernels_after_fpn_xavier() -> None:
    neck = _neck()
    w = neck.leem[0].conv_v.weight.detach()
    assert torch.equal(w[3, 3, :, 0], torch.tensor([0.25, -0.5, 0.25]))
    assert not w[3, 4].any()


def test_every_parameter_gets_a_gradient() -> None:
    neck = _neck().train()
    x = _inputs(4)
    outs = neck(x, _samples())
    loss = sum(((o - torch.randn_like(o)) ** 2).mean() for o in outs)
    loss.backward()
    missing = [n for n, p in neck.named_parameters() if p.requires_grad and (p.grad is None or not p.grad.any())]
    assert missing == []
    for i in (0, 1):  # the head rows producing the spatial parameters sm are trained
        assert neck.m2dm[i].head.weight.grad[OUT:].abs().sum() > 0


def test_per_sample_in_eval_mode() -> None:
    neck = _neck().eval()
    x, samples = _inputs(4), _samples()
    with torch.no_grad():
        out = neck(x, samples)
        perm = [2, 0, 3, 1]
        out_p = neck([t[perm] for t in x], [samples[i] for i in perm])
        for a, b in zip(out_p, out, strict=True):
            torch.testing.assert_close(a, b[perm], atol=1e-5, rtol=1e-5)
        changed = list(METAS)
        changed[1] = ("Air", "SWIR", 256, 320)
        out_c = neck(x, _samples(changed))
    for a, b in zip(out_c[:2], out[:2], strict=True):  # modulated levels
        torch.testing.assert_close(a[[0, 2, 3]], b[[0, 2, 3]])
        assert not torch.allclose(a[1], b[1])


def test_batch_of_one_trains() -> None:
    neck = _neck(out_indices=(0, 1)).train()
    outs = neck(_inputs(1), _samples()[:1])
    assert [o.shape for o in outs] == [(1, OUT, 32, 28), (1, OUT, 16, 14)]
    sum(o.square().sum() for o in outs).backward()
    assert neck.m2dm[0].dyn1.weight_generator.weight.grad.any()


def test_odd_sizes_and_intermediates() -> None:
    neck = _neck(m2dm_levels=(0, 1, 2, 3), leem_levels=(0, 3)).eval()
    sizes = [(25, 19), (13, 10), (7, 5), (4, 3)]  # a 100×75 image through a ResNet
    outs, rec = neck.forward_with_intermediates(_inputs(2, sizes), _samples()[:2])
    assert [tuple(o.shape[-2:]) for o in outs] == sizes
    assert set(rec["m2dm"]) == {0, 1, 2, 3} and set(rec["leem"]) == {0, 3}
    assert rec["m2dm"][0]["kernels"].shape == (2, 2, 3, 3) and rec["z"].shape == (2, 128)
    assert neck.compensation[0].down.stride == (8, 8) and neck.compensation[3].down.stride == (1, 1)


def test_metadata_errors() -> None:
    neck = _neck()
    x = _inputs(2)
    with pytest.raises(MetadataError, match="data_samples"):
        neck(x)
    bad = [DetDataSample(metainfo=dict(platform="Air", width=256, height=256, img_path="a.png"))] * 2
    with pytest.raises(MetadataError, match=r"a\.png.*band"):
        neck(x, bad)
    with pytest.raises(MetadataError, match="MWIR"):
        neck(x, _samples([("Air", "MWIR", 256, 256)] * 2))
    with pytest.raises(MetadataError, match="3 images"):
        neck(x, _samples()[:3])
    blind = _neck(metadata=dict(fields=()))  # no metadata: a_i from the compensation branch alone
    assert blind(x)[0].shape == (2, OUT, 32, 28)
    assert AuxFPN.needs_data_samples is True


def test_bad_config_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"m2dm_levels.*\[0, 1, 2, 3\]"):
        _neck(m2dm_levels=(0, 4))
    with pytest.raises(ValueError, match="out_indices"):
        _neck(out_indices=(0, 7))
    with pytest.raises(ValueError, match="aux_mode"):
        _neck(aux_mode="semantic")
    with pytest.raises(ValueError, match="altitude"):
        _neck(metadata=dict(altitude=3))


def test_switches_build_and_parameter_counts() -> None:
    base = _count(_neck(m2dm_levels=(), leem_levels=()))
    m2dm_only = _count(_neck(leem_levels=())) - base
    leem_only = _count(_neck(m2dm_levels=())) - base
    assert _count(_neck()) - base == m2dm_only + leem_only
    assert leem_only == 2 * (2 * 3 * OUT * OUT + 1 + OUT)
    assert _count(_neck(m2dm_levels=(), leem_mode="conv3x3")) - base == 2 * (9 * OUT * OUT + OUT)
    n = {mode: _count(_neck(m2dm_mode=mode)) for mode in ("pssm", "pscm", "pssm_pscm", "pscm_pssm", "parallel")}
    assert n["pssm"] < n["pscm"] < n["parallel"] == n["pssm_pscm"] == n["pscm_pssm"]
    a = {mode: _count(_neck(aux_mode=mode)) for mode in ("meta", "meta_semantic", "full")}
    assert a["full"] - a["meta_semantic"] == 2 * OUT * 8 * 9  # the two strided grouped convs
    assert a["meta"] < a["meta_semantic"]
    f = {fields: _count(_neck(metadata=dict(fields=fields))) for fields in [(), ("band",), ("platform", "band")]}
    assert f[()] < f[("band",)] < f[("platform", "band")]
    for kw in (dict(m2dm_mode="pscm_pssm"), dict(aux_mode="meta"), dict(metadata=dict(fields=("resolution",)))):
        neck = _neck(**kw).eval()
        assert neck(_inputs(2), _samples()[:2])[0].shape == (2, OUT, 32, 28)


def test_no_dead_output_convs_when_out_indices_select_backbone_levels() -> None:
    """Only the returned levels' output convs exist; every parameter gets a gradient."""
    full = _neck(m2dm_levels=(), leem_levels=())
    sel = _neck(m2dm_levels=(), leem_levels=(), out_indices=(0, 1))
    assert _count(full) - _count(sel) == 2 * (9 * OUT * OUT + OUT)  # two unused 3×3 convs
    from auxdet.models import dead_fpn_conv_params

    assert dead_fpn_conv_params(OUT, 4, (0, 1)) == 2 * (9 * OUT * OUT + OUT)
    assert dead_fpn_conv_params(256, 4, (0, 1)) == 1_180_160  # the paper setting: 1.18 M
    for kwargs in (dict(m2dm_levels=(), leem_levels=()), {}):
        neck = _neck(out_indices=(0, 1), **kwargs).train()
        outs = neck(_inputs(2), _samples()[:2])
        sum(o.square().mean() for o in outs).backward()
        dead = [n for n, p in neck.named_parameters() if p.grad is None or not p.grad.any()]
        assert dead == [], dead
    # the returned outputs are unchanged by dropping the unused convs
    torch.manual_seed(0)
    a = _neck(m2dm_levels=(), leem_levels=())
    torch.manual_seed(0)
    b = _neck(m2dm_levels=(), leem_levels=(), out_indices=(0, 1))
    b.load_state_dict({k: v for k, v in a.state_dict().items() if k in b.state_dict()})
    x = _inputs(2)
    for u, v in zip(a(x)[:2], b(x), strict=True):
        assert torch.equal(u, v)


def test_readings_switches() -> None:
    shared, per_level = _neck(), _neck(shared_aux=False)
    assert not hasattr(shared.aux_fusion, "keys")
    assert set(per_level.aux_fusion.keys()) == {"0", "1"}
    one_fusion = _count(per_level) - _count(shared)
    assert one_fusion == _count(shared.aux_fusion) > 0
    bare = _neck(dmlp_out_norm=False, sm_bound="none", pscm_form="gate")
    assert _count(shared) - _count(bare) == 2 * (2 * OUT + 2 * (OUT + 8))  # LN(C) + LN(C+8) per level
    gated = _neck(leem_scale="aux_gate").train()
    outs = gated(_inputs(2), _samples()[:2])
    sum(o.square().mean() for o in outs).backward()
    assert gated.leem_gate.mlp[0].weight.grad.any()
    with pytest.raises(ValueError, match="aux_gate"):
        _neck(leem_scale="aux_gate", m2dm_levels=(0,), leem_levels=(0, 1))
    for kw in (dict(pscm_form="affine"), dict(sm_bound="tanh"), dict(leem_scale="film")):
        with pytest.raises(ValueError, match=next(iter(kw.values()))):
            _neck(**kw)


def test_withheld_metadata_control_has_the_same_parameters_and_ignores_metadata() -> None:
    real, blind = _neck().eval(), _neck(metadata=dict(withheld=True)).eval()
    assert _count(real) == _count(blind)
    x = _inputs(4)
    changed = [("Land", "SWIR", 100, 80)] * 4
    with torch.no_grad():
        for a, b in zip(blind(x, _samples()), blind(x, _samples(changed)), strict=True):
            assert torch.equal(a, b)
        assert not torch.allclose(real(x, _samples())[0], real(x, _samples(changed))[0])


def test_forward_on_the_meta_device_no_sync_no_fixed_device_tensor() -> None:
    """On the 'meta' device every value is unknown: any host read (.item(), int(), bool()) or a tensor
    built on a fixed device inside forward raises. The metadata itself is validated on the host."""
    neck = _neck(out_indices=(0, 1)).eval()
    neck_meta = neck.to("meta")
    x = [t.to("meta") for t in _inputs(2)]
    outs = neck_meta(x, _samples()[:2])
    assert [o.device.type for o in outs] == ["meta", "meta"]
    assert [tuple(o.shape) for o in outs] == [(2, OUT, 32, 28), (2, OUT, 16, 14)]
    with pytest.raises(MetadataError, match="MWIR"):
        neck_meta(x, _samples([("Air", "MWIR", 256, 256)] * 2))


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_half_precision_neck_runs(dtype: torch.dtype) -> None:
    neck = _neck(out_indices=(0, 1)).eval().to(dtype)
    with torch.no_grad():
        outs = neck([t.to(dtype) for t in _inputs(2)], _samples()[:2])
    assert all(o.dtype == dtype and torch.isfinite(o).all() for o in outs)


def test_autocast_bfloat16_neck_trains() -> None:
    neck = _neck(out_indices=(0, 1)).train()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        outs = neck(_inputs(2), _samples()[:2])
        loss = sum(o.float().square().mean() for o in outs)
    loss.backward()
    assert torch.isfinite(loss)
    assert all(torch.isfinite(p.grad).all() for p in neck.parameters() if p.grad is not None)

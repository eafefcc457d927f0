"""AuxDet's pure-torch modules: metadata encoder (Eq. 1–4), compensation (Eq. 5–7), M2DM (Eq. 8–14),
LEEM (Eq. 15–18). Expected values are written out literally, never taken from the code under test."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from auxdet.metadata import MetaBatch, MetadataError, Vocabulary
from auxdet.models import (
    LEEM,
    M2DM,
    M2DM_MODES,
    PSCM_FORMS,
    AuxiliaryFusion,
    DetailCompensation,
    DynamicLinear,
    LEEMGate,
    MetadataEncoder,
    laplacian_3x3_kernel,
    lw_instance_norm,
    pssm_kernels,
    pssm_pool,
    pssm_response,
    separable_laplacian_kernels,
)

C = 32
LOG_KERNEL = torch.tensor([[1.0, -2.0, 1.0], [-2.0, 4.0, -2.0], [1.0, -2.0, 1.0]]) / 16.0  # Eq. 17


def _meta(n: int = 4) -> MetaBatch:
    return MetaBatch(
        platform=torch.tensor([0, 1, 2, 0, 1, 2][:n]),
        band=torch.tensor([0, 1, 2, 2, 1, 0][:n]),
        width=torch.tensor([256, 1024, 640, 3000, 512, 256][:n]),
        height=torch.tensor([256, 1024, 512, 2000, 640, 320][:n]),
    )


def _all_params_have_grad(module: nn.Module) -> list[str]:
    """Names of trainable parameters whose gradient is missing or exactly zero."""
    return [n for n, p in module.named_parameters() if p.requires_grad and (p.grad is None or not p.grad.any())]


# ---------------------------------------------------------------- LEEM, Eq. 15–18


def test_eq16_initial_kernels_are_per_channel() -> None:
    leem = LEEM(C)
    w_v, w_h = leem.conv_v.weight.detach(), leem.conv_h.weight.detach()
    assert w_v.shape == (C, C, 3, 1) and w_h.shape == (C, C, 1, 3)
    quarter = torch.tensor([0.25, -0.5, 0.25])
    eye = torch.eye(C, dtype=torch.bool)
    for c in range(C):
        torch.testing.assert_close(w_v[c, c, :, 0], quarter)
        torch.testing.assert_close(w_h[c, c, 0, :], quarter)
    assert not w_v[~eye].any() and not w_h[~eye].any()  # zero across channels (⊙ I_C)
    ref_v, ref_h = separable_laplacian_kernels(C)
    assert torch.equal(ref_v, w_v) and torch.equal(ref_h, w_h)
    assert leem.alpha.item() == pytest.approx(0.1)


def test_eq17_composition_of_initialised_convs_on_unit_impulse() -> None:
    leem = LEEM(C)
    for c in (0, 7, C - 1):
        impulse = torch.zeros(1, C, 7, 7)
        impulse[0, c, 3, 3] = 1.0
        with torch.no_grad():
            response = leem.conv_h(leem.conv_v(impulse))[0]
        torch.testing.assert_close(response[c, 2:5, 2:5], LOG_KERNEL)
        rest = response.clone()
        rest[c, 2:5, 2:5] = 0.0
        assert not rest.any(), "the initial kernels leak into other channels or outside the 3×3 support"


def test_eq17_kernel_and_conv3x3_mode() -> None:
    k = laplacian_3x3_kernel(C)
    assert k.shape == (C, C, 3, 3)
    torch.testing.assert_close(k[5, 5], LOG_KERNEL)
    k_off = k.clone()
    k_off[torch.arange(C), torch.arange(C)] = 0.0
    assert not k_off.any()
    leem3 = LEEM(C, mode="conv3x3")
    assert torch.equal(leem3.conv.weight.detach(), k)
    # the 3×3 variant's initial conv equals the separable chain's linear part (W_1×3 ∗ W_3×1)
    x = torch.randn(2, C, 9, 9)
    sep = LEEM(C)
    with torch.no_grad():
        torch.testing.assert_close(leem3.conv(x), sep.conv_h(sep.conv_v(x)), atol=1e-6, rtol=1e-5)


def test_leem_forward_matches_eq18() -> None:
    leem = LEEM(C).eval()
    with torch.no_grad():
        leem.gamma.copy_(torch.linspace(-1, 1, C))
        leem.alpha.fill_(-0.7)
    x = torch.randn(3, C, 10, 12)
    with torch.no_grad():
        h = leem.conv_h(torch.sigmoid(torch.tensor(-0.7)) * F.relu(leem.conv_v(x)))
        mu = h.mean(dim=(2, 3), keepdim=True)
        var = ((h - mu) ** 2).mean(dim=(2, 3), keepdim=True)
        expected = x + torch.linspace(-1, 1, C)[None, :, None, None] * (h - mu) / torch.sqrt(var + 1e-5)
        torch.testing.assert_close(leem(x), expected, atol=1e-5, rtol=1e-5)
    out = leem(torch.randn(2, C, 1, 1))  # LW-IN on a 1×1 map is defined (zeros), not an error
    assert torch.isfinite(out).all()


def test_leem_mode_param_counts_and_bad_mode() -> None:
    n_sep = sum(p.numel() for p in LEEM(C).parameters())
    n_3x3 = sum(p.numel() for p in LEEM(C, mode="conv3x3").parameters())
    assert n_sep == 2 * 3 * C * C + 1 + C
    assert n_3x3 == 9 * C * C + C
    with pytest.raises(ValueError, match="conv3x3"):
        LEEM(C, mode="sobel")


def test_leem_every_parameter_learns_but_gamma_zero_blocks_the_convs() -> None:
    x = torch.randn(2, C, 12, 12)
    leem = LEEM(C)
    (leem(x) ** 2).sum().backward()
    assert _all_params_have_grad(leem) == []
    frozen = LEEM(C, gamma_init=0.0)
    (frozen(x) ** 2).sum().backward()
    assert not frozen.conv_v.weight.grad.any() and not frozen.conv_h.weight.grad.any()


def test_lw_in_statistics_in_float32_for_half_inputs() -> None:
    """A float16 variance overflows above 65504 (std ≈ 256): LW-IN must still normalise half inputs."""
    x = 400.0 * torch.randn(2, 4, 16, 16)  # variance ≈ 1.6e5 > 65504
    ref = lw_instance_norm(x)
    for dtype in (torch.float16, torch.bfloat16):
        out = lw_instance_norm(x.to(dtype))
        assert out.dtype == dtype and torch.isfinite(out).all() and out.abs().amax() > 0.5
        torch.testing.assert_close(out.float(), ref, atol=0.05, rtol=0.02)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        leem = LEEM(4)
        y = leem(x)
    assert torch.isfinite(y).all()


def test_leem_official_aux_gate() -> None:
    """scale='aux_gate': x + g_i · β · LW-IN(x_hori) with a per-sample gate from a_i (official code)."""
    leem = LEEM(C, scale="aux_gate", gamma_init=0.3).eval()
    assert leem.gamma.shape == (1,)
    gate_mlp = LEEMGate(16)
    aux = torch.randn(3, 16)
    g = gate_mlp(aux)
    assert g.shape == (3,) and ((g > 0) & (g < 1)).all()
    x = torch.randn(3, C, 8, 8)
    inter = leem(x, True, gate=g)
    torch.testing.assert_close(inter["out"], x + 0.3 * g.view(3, 1, 1, 1) * inter["normed"])
    with pytest.raises(ValueError, match="gate"):
        leem(x)
    with pytest.raises(ValueError, match="aux_gate"):
        LEEM(C, scale="film")


# ---------------------------------------------------------------- PSSM, Eq. 10–13


def test_eq10_11_zero_corner_kernels() -> None:
    sm = torch.arange(1.0, 9.0)[None]
    k = pssm_kernels(sm)
    assert k.shape == (1, 2, 3, 3)
    torch.testing.assert_close(k[0, 0], torch.tensor([[0.0, 1, 0], [2, -10, 3], [0, 4, 0]]))
    torch.testing.assert_close(k[0, 1], torch.tensor([[0.0, 5, 0], [6, -26, 7], [0, 8, 0]]))
    rand = pssm_kernels(torch.randn(5, 8))
    assert not rand[:, :, [0, 0, 2, 2], [0, 2, 0, 2]].any()  # zero corners
    torch.testing.assert_close(rand[:, :, 1, 1], -(rand.sum(dim=(2, 3)) - rand[:, :, 1, 1]))  # centre = −sum
    with pytest.raises(ValueError, match=r"\[B, 8\]"):
        pssm_kernels(torch.randn(2, 9))


def test_pssm_zero_response_on_constant_map_and_laplacian_for_unit_sm() -> None:
    kernels = pssm_kernels(torch.randn(3, 8))
    const = torch.full((3, 2, 8, 8), 2.5)
    assert pssm_response(const, kernels)[:, :, 1:-1, 1:-1].abs().max() < 1e-5  # interior (zero padding)
    f = torch.randn(2, 2, 9, 9)
    out = pssm_response(f, pssm_kernels(torch.ones(2, 8)))
    lap = f[:, :, :-2, 1:-1] + f[:, :, 2:, 1:-1] + f[:, :, 1:-1, :-2] + f[:, :, 1:-1, 2:] - 4 * f[:, :, 1:-1, 1:-1]
    torch.testing.assert_close(out[:, 0, 1:-1, 1:-1], lap.sum(dim=1), atol=1e-5, rtol=1e-5)


def test_pssm_grouped_conv_equals_per_sample_loop() -> None:
    f = torch.randn(4, 2, 11, 7)
    kernels = pssm_kernels(torch.randn(4, 8))
    loop = torch.cat([F.conv2d(f[b : b + 1], kernels[b : b + 1], padding=1) for b in range(4)])
    torch.testing.assert_close(pssm_response(f, kernels), loop, atol=1e-5, rtol=1e-5)
    x = torch.randn(2, 5, 4, 4)
    torch.testing.assert_close(pssm_pool(x)[:, 0], x.mean(1))
    torch.testing.assert_close(pssm_pool(x)[:, 1], x.max(1).values)


# ---------------------------------------------------------------- Dynamic MLP and M2DM, Eq. 8–14


def test_dynamic_linear_is_per_sample_and_depends_on_aux() -> None:
    layer = DynamicLinear(6, 4, aux_dim=5)
    x, aux = torch.randn(3, 6), torch.randn(3, 5)
    w = layer.generate(aux)
    assert w.shape == (3, 6, 4)
    loop = torch.stack([F.relu(layer.norm(x[b] @ w[b])) for b in range(3)])
    torch.testing.assert_close(layer(x, aux), loop, atol=1e-6, rtol=1e-5)
    assert not torch.allclose(layer.generate(aux + 1.0), w)


def _m2dm_reference(m: M2DM, x: torch.Tensor, inter: dict) -> torch.Tensor:
    """Eq. 12–14 (and the sequential variants) recomputed from cm / kernels."""

    def x_s(u: torch.Tensor) -> torch.Tensor:  # Eq. 13
        stacked = torch.cat([u.mean(1, keepdim=True), u.amax(1, keepdim=True)], 1)
        f = torch.cat(
            [F.conv2d(stacked[b : b + 1], inter["kernels"][b : b + 1], padding=1) for b in range(u.shape[0])]
        )
        return u + torch.sigmoid(f) * u

    def x_c(u: torch.Tensor) -> torch.Tensor:  # PSCM, both readings
        g = torch.sigmoid(inter["cm"])[:, :, None, None] * u
        return u + g if m.pscm_form == "residual" else g

    def r_c(u: torch.Tensor) -> torch.Tensor:
        return u + x_c(u)

    def r_s(u: torch.Tensor) -> torch.Tensor:
        return u + x_s(u)

    return {
        "parallel": lambda: x + x_c(x) + x_s(x),
        "pscm": lambda: r_c(x),
        "pssm": lambda: r_s(x),
        "pssm_pscm": lambda: r_c(r_s(x)),
        "pscm_pssm": lambda: r_s(r_c(x)),
    }[m.mode]()


@pytest.mark.parametrize("pscm_form", PSCM_FORMS)
@pytest.mark.parametrize("mode", M2DM_MODES)
def test_m2dm_modes_match_eq14_and_sequential_definitions(mode: str, pscm_form: str) -> None:
    m = M2DM(C, aux_dim=16, mode=mode, pscm_form=pscm_form).eval()
    x, aux = torch.randn(2, C, 8, 9), torch.randn(2, 16)
    inter = m(x, aux, return_intermediates=True)
    torch.testing.assert_close(inter["out"], _m2dm_reference(m, x, inter), atol=1e-5, rtol=1e-5)
    assert ("cm" in inter) == (mode != "pssm") and ("sm" in inter) == (mode != "pscm")
    assert [w.shape for w in inter["dyn_weights"]] == [(2, C // 2, 32), (2, 32, C // 2)]


def test_pscm_readings_at_a_known_gate() -> None:
    """cm = 0 → σ = 1/2: residual PSCM gives 1.5 x, the gate reading 0.5 x (paper: no formula printed)."""
    x = torch.randn(1, C, 4, 4)
    for form, factor in (("residual", 1.5), ("gate", 0.5)):
        m = M2DM(C, 16, mode="pscm", pscm_form=form)
        inter: dict = {}
        torch.testing.assert_close(m._channel(x, torch.full((1, C, 1, 1), 0.5), inter), factor * x)
    with pytest.raises(ValueError, match="residual"):
        M2DM(C, 16, pscm_form="affine")


def test_dmlp_output_path_official_norms_and_bounded_sm() -> None:
    """Official design: LayerNorm(C) after the projection back to C, LayerNorm(C + 8) on the head output,
    sm through a sigmoid — so the PSSM taps stay in (0, 1) and a kernel's centre in (−4, 0)."""
    m = M2DM(C, 16).eval()
    assert isinstance(m.expand_norm, nn.LayerNorm) and m.expand_norm.normalized_shape == (C,)
    assert isinstance(m.head_norm, nn.LayerNorm) and m.head_norm.normalized_shape == (C + 8,)
    x, aux = 50.0 * torch.randn(3, C, 6, 6), 10.0 * torch.randn(3, 16)
    inter = m(x, aux, return_intermediates=True)
    y = inter["y"]  # normalised over its C + 8 entries
    torch.testing.assert_close(y.mean(1), torch.zeros(3), atol=1e-4, rtol=0)
    assert ((inter["sm"] > 0) & (inter["sm"] < 1)).all()
    centre = inter["kernels"][:, :, 1, 1]
    assert ((centre > -4) & (centre < 0)).all()
    bare = M2DM(C, 16, out_norm=False, sm_bound="none").eval()
    assert isinstance(bare.expand_norm, nn.Identity) and isinstance(bare.head_norm, nn.Identity)
    inter = bare(x, aux, return_intermediates=True)
    torch.testing.assert_close(inter["sm"], inter["y"][:, C:])  # unbounded: the raw head outputs
    with pytest.raises(ValueError, match="sigmoid"):
        M2DM(C, 16, sm_bound="tanh")


def test_m2dm_param_counts_per_mode() -> None:
    n = {mode: sum(p.numel() for p in M2DM(C, 16, mode).parameters()) for mode in M2DM_MODES}
    assert n["parallel"] == n["pssm_pscm"] == n["pscm_pssm"]  # shared dynamic MLP, one C+8 head
    # the 8 spatial outputs of the head (+ their LayerNorm weight and bias)
    assert n["parallel"] - n["pscm"] == 8 * (C + 1) + 2 * 8
    assert n["parallel"] - n["pssm"] == C * (C + 1) + 2 * C  # the C channel outputs of the head (+ LN)
    bare = sum(p.numel() for p in M2DM(C, 16, out_norm=False).parameters())
    assert n["parallel"] - bare == 2 * C + 2 * (C + 8)  # LN(C) and LN(C + 8)
    with pytest.raises(ValueError, match="parallel"):
        M2DM(C, 16, mode="serial")


def test_m2dm_every_parameter_gets_gradient_including_spatial_part() -> None:
    m = M2DM(C, aux_dim=16).train()
    x, aux = torch.randn(2, C, 10, 10), torch.randn(2, 16, requires_grad=True)
    (m(x, aux) ** 2).sum().backward()
    assert _all_params_have_grad(m) == []
    assert m.head.weight.grad[C:].abs().sum() > 0  # rows producing sm (detached in the official code)
    assert aux.grad is not None and aux.grad.any()


def test_m2dm_is_per_sample_and_batch_of_one_trains() -> None:
    m = M2DM(C, aux_dim=16).eval()
    x, aux = torch.randn(4, C, 6, 6), torch.randn(4, 16)
    out = m(x, aux)
    perm = torch.tensor([2, 0, 3, 1])
    torch.testing.assert_close(m(x[perm], aux[perm]), out[perm], atol=1e-5, rtol=1e-5)
    aux2 = aux.clone()
    aux2[1] += 3.0
    out2 = m(x, aux2)
    torch.testing.assert_close(out2[[0, 2, 3]], out[[0, 2, 3]])
    assert not torch.allclose(out2[1], out[1])
    m.train()
    y = m(torch.randn(1, C, 5, 5), torch.randn(1, 16))
    y.sum().backward()


# ---------------------------------------------------------------- compensation, Eq. 5–7


def test_compensation_eq5_strided_grouped_conv_and_residual() -> None:
    comp = DetailCompensation(C, stride=4).eval()
    assert comp.down.stride == (4, 4) and comp.down.groups == C // 8 and comp.down.bias is None
    x_i, x_deep = torch.randn(2, C, 16, 16), torch.randn(2, C, 4, 4)
    torch.testing.assert_close(comp(x_i, x_deep), comp.down(x_i) - x_deep)
    fusion = AuxiliaryFusion(C, meta_dim=8, aux_dim=16).eval()
    inter = fusion(comp(x_i, x_deep), torch.randn(2, 8), return_intermediates=True)
    torch.testing.assert_close(inter["pooled"], (comp.down(x_i) - x_deep).mean(dim=(2, 3)))
    assert inter["x_e"].shape == (2, C // 4) and inter["aux"].shape == (2, 16)
    # odd sizes: ceil(17/4)=5 vs a 4×4 deepest level → pooled to 4×4, no error
    x_odd = torch.randn(2, C, 17, 15)
    strided = comp.down(x_odd)
    assert strided.shape[-2:] == (5, 4)
    torch.testing.assert_close(comp(x_odd, x_deep), F.adaptive_avg_pool2d(strided, (4, 4)) - x_deep)


def test_compensation_aux_modes_use_the_right_inputs() -> None:
    x_i, x_deep, z = torch.randn(2, C, 8, 8), torch.randn(2, C, 2, 2), torch.randn(2, 8)
    x_i2, x_deep2 = x_i + torch.randn_like(x_i), x_deep + torch.randn_like(x_deep)
    comp = DetailCompensation(C, 4).eval()
    visual = {  # Tab. 2: what Eq. 6 pools in each mode
        "full": lambda xi, xd: comp(xi, xd),
        "meta_semantic": lambda xi, xd: xd,
        "meta": lambda xi, xd: None,
    }
    counts = {}
    for mode, vis in visual.items():
        fusion = AuxiliaryFusion(C, 8, 16, mode=mode).eval()
        counts[mode] = sum(p.numel() for p in fusion.parameters())
        a = fusion(vis(x_i, x_deep), z)
        assert torch.allclose(fusion(vis(x_i2, x_deep), z), a) == (mode != "full")
        assert torch.allclose(fusion(vis(x_i, x_deep2), z), a) == (mode == "meta")
    assert counts["full"] == counts["meta_semantic"]  # the strided conv lives in DetailCompensation
    assert counts["meta_semantic"] - counts["meta"] == C * (C // 4) + 2 * (C // 4) + (C // 4) * 16 + (C // 4)
    no_meta = AuxiliaryFusion(C, 0, 16, mode="full").eval()  # fields=() → a_i from x_e alone
    assert no_meta(comp(x_i, x_deep), torch.zeros(2, 0)).shape == (2, 16)
    with pytest.raises(ValueError, match="needs metadata"):
        AuxiliaryFusion(C, 0, 16, mode="meta")
    with pytest.raises(ValueError, match="meta_semantic"):
        AuxiliaryFusion(C, 8, 16, mode="deep")
    with pytest.raises(ValueError, match="stride"):
        DetailCompensation(C, 0)


# ---------------------------------------------------------------- metadata encoder, Eq. 1–4


def test_encoder_has_no_batchnorm_and_trains_on_one_sample() -> None:
    enc = MetadataEncoder().train()
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in enc.modules())
    z = enc(_meta(1))
    assert z.shape == (1, 128)
    z.sum().backward()
    assert _all_params_have_grad(enc) == []


def test_encoder_is_per_sample() -> None:
    enc = MetadataEncoder().eval()
    meta = _meta(4)
    z = enc(meta)
    changed = MetaBatch(meta.platform.clone(), meta.band.clone(), meta.width.clone(), meta.height.clone())
    changed.platform[2] = 1
    z2 = enc(changed)
    torch.testing.assert_close(z2[[0, 1, 3]], z[[0, 1, 3]])
    assert not torch.allclose(z2[2], z[2])


@pytest.mark.parametrize(
    ("fields", "ignored"),
    [(("platform",), "band"), (("band",), "platform"), (("resolution",), "platform"), (("platform", "band"), "width")],
)
def test_encoder_field_subsets(fields: tuple[str, ...], ignored: str) -> None:
    enc = MetadataEncoder(fields=fields).eval()
    assert set(enc.projections) == set(fields)
    meta = _meta(3)
    changed = MetaBatch(meta.platform.clone(), meta.band.clone(), meta.width.clone(), meta.height.clone())
    getattr(changed, ignored).copy_(torch.tensor([1, 1, 1]) if ignored != "width" else torch.tensor([99, 99, 99]))
    torch.testing.assert_close(enc(changed), enc(meta))


def test_encoder_no_fields_and_errors() -> None:
    enc = MetadataEncoder(fields=())
    assert sum(p.numel() for p in enc.parameters()) == 0
    assert enc(_meta(3)).shape == (3, 0)
    with pytest.raises(MetadataError, match="altitude"):
        MetadataEncoder(fields=("platform", "altitude"))
    bad = _meta(2)
    bad.band[1] = 7
    with pytest.raises(MetadataError, match="band"):
        MetadataEncoder()(bad)
    assert MetadataEncoder(Vocabulary(allow_unknown=True)).projections["platform"][0].in_features == 4


def test_encoder_withheld_is_a_constant_with_the_same_parameters() -> None:
    full, withheld = MetadataEncoder().eval(), MetadataEncoder(withheld=True).eval()
    assert sum(p.numel() for p in full.parameters()) == sum(p.numel() for p in withheld.parameters())
    z = withheld(_meta(4))
    torch.testing.assert_close(z, z[:1].expand_as(z))  # the same code for every image
    assert not torch.allclose(full(_meta(4))[0], full(_meta(4))[1])


def test_encoder_follows_the_model_dtype() -> None:
    for dtype in (torch.bfloat16, torch.float16):
        enc = MetadataEncoder().to(dtype).eval()
        z = enc(_meta(3))
        assert z.dtype == dtype and torch.isfinite(z).all()


def test_encoder_sigma_changes_resolution_code() -> None:
    torch.manual_seed(1)
    a = MetadataEncoder(fields=("resolution",), sigma=2048.0).eval()
    torch.manual_seed(1)
    b = MetadataEncoder(fields=("resolution",), sigma=512.0).eval()
    assert not torch.allclose(a(_meta(2)), b(_meta(2)))


@pytest.mark.parametrize("mode", ["separable", "conv3x3"])
def test_leem_fast_path_equals_the_equation_path(mode: str) -> None:
    """forward() computes Eq. 15–18 in fewer passes (σ(α) folded into W_1×3, fused LW-IN); it must equal
    the step-by-step path that returns the intermediates, values and gradients."""
    torch.manual_seed(0)
    leem = LEEM(C, mode)
    with torch.no_grad():
        leem.gamma.uniform_(-1, 1)
        if mode == "separable":
            leem.alpha.fill_(-0.4)
    x = torch.randn(2, C, 9, 11, requires_grad=True)
    fast = leem(x)
    slow = leem(x, return_intermediates=True)["out"]
    torch.testing.assert_close(fast, slow, atol=1e-5, rtol=1e-5)
    g_fast = torch.autograd.grad(fast.square().sum(), [x, *leem.parameters()])
    g_slow = torch.autograd.grad(slow.square().sum(), [x, *leem.parameters()])
    for a, b in zip(g_fast, g_slow, strict=True):
        torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("pscm_form", PSCM_FORMS)
def test_m2dm_fused_parallel_path_equals_eq14(pscm_form: str) -> None:
    m = M2DM(C, 16, pscm_form=pscm_form).eval()
    x, aux = torch.randn(3, C, 7, 6), torch.randn(3, 16)
    torch.testing.assert_close(m(x, aux), m(x, aux, return_intermediates=True)["out"], atol=1e-5, rtol=1e-5)

"""Unit tests for auxdet.visualisation.kernels (frequency responses, LoG, synthetic probe patches)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from auxdet.visualisation import kernels as K


def test_second_difference_and_laplacian_taps() -> None:
    np.testing.assert_array_equal(K.second_difference(), [1.0, -2.0, 1.0])
    lap = K.laplacian_5pt()
    assert lap.shape == (3, 3)
    assert lap.sum() == 0.0
    assert lap[1, 1] == -4.0 and lap[0, 0] == lap[0, 2] == lap[2, 0] == lap[2, 2] == 0.0


def test_separable_product_is_eq17_matrix() -> None:
    expected = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=float) / 16.0
    np.testing.assert_allclose(K.separable_product_kernel(), expected, atol=0)
    # the outer product equals the full 2-D convolution of the column with the row
    col = K.second_difference(0.25)[:, None]
    row = K.second_difference(0.25)[None, :]
    from scipy.signal import convolve2d

    np.testing.assert_allclose(convolve2d(col, row), expected)


def test_laplacian_dc_response_is_zero_and_matches_closed_form() -> None:
    wy, wx, h = K.frequency_response(K.laplacian_5pt(), n=32)
    c = 16
    assert abs(h[c, c]) < 1e-12  # DC gain = sum of taps
    assert np.abs(h.imag).max() < 1e-12  # symmetric kernel → real response
    np.testing.assert_allclose(h.real, K.response_laplacian_5pt(wy, wx), atol=1e-12)
    # isotropic to second order near DC: ≈ −|ω|²
    assert h.real[c, c + 1] == pytest.approx(-(wx[c, c + 1] ** 2), rel=0.01)


def test_separable_product_vanishes_on_both_frequency_axes() -> None:
    wy, wx, h = K.frequency_response(K.separable_product_kernel(), n=64)
    c = 32
    assert np.abs(h[:, c]).max() < 1e-12  # ω_x = 0 axis
    assert np.abs(h[c, :]).max() < 1e-12  # ω_y = 0 axis
    np.testing.assert_allclose(h.real, np.sin(wx / 2) ** 2 * np.sin(wy / 2) ** 2, atol=1e-12)
    np.testing.assert_allclose(h.real, K.response_separable_product(wy, wx), atol=1e-12)
    # peak 1 at the checkerboard frequency (π, π) — index 0 of the shifted grid is −π
    assert h.real[0, 0] == pytest.approx(1.0)
    assert h.real.max() == pytest.approx(1.0)


def test_frequency_response_of_shifted_kernel_is_not_real() -> None:
    # a kernel that is not point-symmetric has a complex response: the helper does not hide phase
    k = np.array([[0.0, 1.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, 0.0]])
    _, _, h = K.frequency_response(k, n=16)
    assert np.abs(h.imag).max() > 0.5
    np.testing.assert_allclose(K.magnitude_response(k, 16), np.abs(h))


@pytest.mark.parametrize("method", ["closed_form", "ndimage"])
@pytest.mark.parametrize("sigma", [1.0, 1.5, 2.5])
def test_log_kernel_sums_to_zero_and_is_negative_at_centre(method: str, sigma: float) -> None:
    k = K.log_kernel(sigma, method=method)
    r = int(np.ceil(4 * sigma))
    assert k.shape == (2 * r + 1, 2 * r + 1)
    assert abs(k.sum()) < 1e-12
    # even without the mean correction the sampled kernel almost sums to zero
    assert abs(K.log_kernel(sigma, method=method, zero_sum=False).sum()) < 1e-3
    assert k[r, r] == k.min() < 0
    np.testing.assert_allclose(k, k.T, atol=1e-15)
    np.testing.assert_allclose(k, k[::-1, ::-1], atol=1e-15)


def test_log_closed_form_and_ndimage_agree_and_match_continuous_response() -> None:
    a = K.log_kernel(2.0, method="closed_form")
    b = K.log_kernel(2.0, method="ndimage")
    np.testing.assert_allclose(a, b, atol=5e-4)
    wy, wx, h = K.frequency_response(a, n=128)
    np.testing.assert_allclose(h.real, K.response_log_continuous(wy, wx, 2.0), atol=1e-3)


def test_filter2d_kills_functions_of_one_coordinate_under_the_product() -> None:
    rng = np.random.default_rng(0)
    f_of_x = np.tile(rng.normal(size=25), (25, 1))
    f_of_y = f_of_x.T.copy()
    sep = K.separable_product_kernel()
    assert np.abs(K.filter2d(f_of_x, sep)).max() < 1e-12
    assert np.abs(K.filter2d(f_of_y, sep)).max() < 1e-12
    # ... but the Laplacian does respond
    assert np.abs(K.filter2d(f_of_x, K.laplacian_5pt())).max() > 0.5


def test_point_target_response_is_the_kernel() -> None:
    img = K.point_target(9, amplitude=2.0)
    np.testing.assert_allclose(K.filter2d(img, K.separable_product_kernel())[3:6, 3:6], 2.0 * K.separable_product_kernel())
    assert K.filter2d(img, K.laplacian_5pt())[4, 4] == -8.0


def test_separable_cascade_linear_equals_product_kernel_and_torch_conv() -> None:
    rng = np.random.default_rng(1)
    img = rng.normal(size=(20, 17))
    lin = K.separable_cascade(img, relu=False)
    np.testing.assert_allclose(lin, K.filter2d(img, K.separable_product_kernel()), atol=1e-12)
    # torch's conv2d (correlation) with the symmetric product kernel agrees away from the border
    w = torch.as_tensor(K.separable_product_kernel())[None, None]
    t = torch.nn.functional.conv2d(torch.as_tensor(img)[None, None], w)[0, 0].numpy()
    np.testing.assert_allclose(lin[1:-1, 1:-1], t, atol=1e-12)


def test_relu_cascade_polarity_asymmetry_on_point_targets() -> None:
    bright = K.point_target(11, 1.0)
    c = 5
    lin = K.separable_cascade(bright, relu=False)
    assert lin[c, c] == pytest.approx(0.25)
    # ReLU removes the negative vertical second difference at a bright peak: centre response 0
    assert K.separable_cascade(bright, relu=True)[c, c] == 0.0
    # a dark target keeps its (linear) centre response −0.25
    assert K.separable_cascade(-bright, relu=True)[c, c] == pytest.approx(-0.25)
    assert K.separable_cascade(-bright, relu=False)[c, c] == pytest.approx(-0.25)
    # the gate scales the ReLU cascade linearly (positive homogeneity)
    np.testing.assert_allclose(K.separable_cascade(bright, gate=0.3), 0.3 * K.separable_cascade(bright))


def test_synthetic_patches_shapes_and_geometry() -> None:
    p = K.synthetic_patches(21)
    assert all(v.shape == (21, 21) for v in p.values())
    assert p["point"].sum() == 1.0 and p["point"][10, 10] == 1.0
    # horizontal edge depends on y only, vertical on x only
    assert np.all(p["edge horizontal"] == p["edge horizontal"][:, :1])
    assert np.all(p["edge vertical"] == p["edge vertical"][:1, :])
    np.testing.assert_array_equal(p["edge diagonal"], p["edge diagonal"].T[::-1, ::-1])
    assert p["extended square 13×13"].sum() == 169
    assert p["spot σ=2"][10, 10] == 1.0


def test_patch_responses_table() -> None:
    df = K.patch_responses({"sep": K.separable_product_kernel(), "lap": K.laplacian_5pt()})
    t = df.pivot(index="patch", columns="operator", values="max_abs")
    assert t.loc["point", "sep"] == pytest.approx(1.0) and t.loc["point", "lap"] == pytest.approx(1.0)
    for name in ("edge horizontal", "edge vertical", "line horizontal"):
        assert t.loc[name, "sep"] < 1e-12
        assert t.loc[name, "lap"] > 0.1
    assert t.loc["edge diagonal", "sep"] > 0.1
    # 4th-order operator: the smooth spot is attenuated much more than by the Laplacian
    assert t.loc["spot σ=2", "sep"] < 0.2 * t.loc["spot σ=2", "lap"]
    raw = K.patch_responses({"sep": K.separable_product_kernel()}, normalise=False)
    assert raw.set_index("patch").loc["point", "centre"] == pytest.approx(0.25)
    ref = K.patch_responses({"c": K.separable_cascade}, normalise={"c": 0.25})
    assert ref.set_index("patch").loc["point", "centre"] == 0.0


def test_bad_inputs_raise_clear_errors() -> None:
    with pytest.raises(ValueError, match="2-D kernel"):
        K.as_kernel(np.zeros(3))
    with pytest.raises(ValueError, match="smaller than the kernel"):
        K.frequency_response(np.ones((5, 5)), n=4)
    with pytest.raises(ValueError, match="sigma"):
        K.log_kernel(0.0)
    with pytest.raises(ValueError, match="valid: 'closed_form', 'ndimage'"):
        K.log_kernel(1.0, method="fft")
    with pytest.raises(ValueError, match="odd"):
        K.point_target(10)
    with pytest.raises(ValueError, match="orientation"):
        K.straight_edge(11, "oblique")
    assert K.as_kernel(torch.ones(1, 1, 3, 3)).shape == (3, 3)


def test_plot_frequency_responses_returns_figure() -> None:
    import matplotlib

    matplotlib.use("Agg")
    fig = K.plot_frequency_responses({"lap": K.laplacian_5pt(), "sep": K.separable_product_kernel()}, n=32)
    assert len(fig.axes) >= 4
    import matplotlib.pyplot as plt

    plt.close(fig)

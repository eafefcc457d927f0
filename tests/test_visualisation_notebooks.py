"""Helpers of the notebooks in auxdet.visualisation: the source display and the notebook figures."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

from auxdet.visualisation import show_source, source_markdown


def test_show_source_renders_package_code() -> None:
    from auxdet.models.compensation import detail_residual
    from auxdet.models.modulation import M2DM

    text = source_markdown(detail_residual)
    assert text.startswith("`auxdet/models/compensation.py`, lines ") and "`detail_residual`" in text
    assert "def detail_residual(" in text and text.endswith("```") and "return strided - deepest" in text
    method = source_markdown(M2DM._channel)  # a method: dedented, named by its qualified name
    assert "`M2DM._channel`" in method and "\ndef _channel(" in method
    md = show_source(detail_residual, M2DM._spatial)
    assert md.data.count("```python") == 2
    with pytest.raises(TypeError, match="no source"):
        source_markdown(len)
    with pytest.raises(TypeError, match="at least one"):
        show_source()


def test_demo_prediction_figure_zooms_on_every_target() -> None:
    from auxdet.visualisation.quickstart import plot_demo_prediction

    image = np.zeros((64, 64))
    image[10:22, 5:8] = 1.0
    gt = np.array([[5, 10, 8, 22], [40, 40, 50, 45]], float)
    fig = plot_demo_prediction(image, gt, np.array([[0, 0, 30, 30]]), "demo")
    titles = [ax.get_title() for ax in fig.axes]
    assert "target 1: 3×12 px (w×h)" in titles and "target 2: 10×5 px (w×h)" in titles
    assert sum(ax.get_label() == "<colorbar>" for ax in fig.axes) == 1
    assert len(fig.axes[0].patches) == 3  # two ground-truth boxes and one prediction
    matplotlib.pyplot.close("all")


@pytest.mark.parametrize("kind", ["violin", "box"])
def test_contrast_panel_marks_synthetic_and_small_groups(kind: str) -> None:
    import pandas as pd
    from matplotlib.collections import PolyCollection
    from matplotlib.patches import PathPatch

    from auxdet.visualisation import fig1

    rng = np.random.default_rng(0)
    df = pd.DataFrame({
        "platform": ["Land"] * 12 + ["Space"] * 4, "band": ["LWIR"] * 12 + ["NIR"] * 4,
        "source": ["real"] * 12 + ["synthetic"] * 4, "contrast": rng.normal(0.2, 0.05, 16),
    })  # fmt: skip
    fig = fig1.plot_contrast(df, kind=kind)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Space/NIR\n(synthetic)\n(n=4, < 10)", "Land/LWIR\n(real)\n(n=12)"]
    bodies = [c for c in ax.collections if isinstance(c, PolyCollection)] or [p for p in ax.patches if isinstance(p, PathPatch)]
    paths = [b.get_paths()[0] if isinstance(b, PolyCollection) else b.get_path() for b in bodies]
    bodies = [b for _, b in sorted(zip([p.get_extents().x0 for p in paths], bodies, strict=True), key=lambda t: t[0])]
    assert [b.get_hatch() for b in bodies] == ["///", None] and bodies[0].get_alpha() == 0.35 and bodies[1].get_alpha() != 0.35
    assert "synthetic: the generator's design, not data" in [t.get_text() for t in ax.get_legend().get_texts()]
    matplotlib.pyplot.close("all")


def test_detail_compensation_figure_shares_the_deep_scale() -> None:
    import torch

    from auxdet.metadata import ImageMeta, MetaBatch, Vocabulary
    from auxdet.models.neck import AuxFPN
    from auxdet.visualisation.m2dm import plot_detail_compensation

    neck = AuxFPN([8, 16, 32, 64], 16, 4, out_indices=(0, 1)).eval()
    feats = [torch.randn(1, c, 64 // s, 64 // s) for c, s in ((8, 4), (16, 8), (32, 16), (64, 32))]
    with torch.no_grad():
        _, rec = neck.forward_with_intermediates(feats, MetaBatch.from_metas([ImageMeta("Land", "LWIR", 64, 64)], Vocabulary()))
    fig = plot_detail_compensation(torch.randn(1, 3, 64, 64), neck, rec, "random (test)")
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert len(panels) == 6 and sum(ax.get_label() == "<colorbar>" for ax in fig.axes) == 3
    limits = {ax.images[0].get_clim() for ax in panels[2:]}
    assert len(limits) == 1 and next(iter(limits))[0] == 0  # one zero-based scale for the four stride-32 maps
    matplotlib.pyplot.close("all")


def test_leem_figures_use_one_scale_per_row_with_colour_bars() -> None:
    import torch

    from auxdet.visualisation.kernels import synthetic_patches
    from auxdet.visualisation.leem import plot_lwin_vs_bn, plot_patch_responses

    fig = plot_patch_responses(synthetic_patches(17))
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    signed = {ax.images[0].norm for ax in panels if ax.images[0].get_cmap().name == "RdBu_r"}
    assert len(signed) == 1 and sum(ax.get_label() == "<colorbar>" for ax in fig.axes) == 2
    norm = next(iter(signed))
    assert norm.vmin == -norm.vmax and not any(ax.texts for ax in panels)  # centred at 0; nothing over the data
    maps = torch.randn(2, 1, 16, 16)
    fig = plot_lwin_vs_bn(torch.rand(3, 1, 16, 16) * 255, maps, maps, maps, maps * 2)
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert len({ax.images[0].get_clim() for ax in panels if ax.images[0].get_cmap().name == "RdBu_r"}) == 1
    assert len({ax.images[0].get_clim() for ax in panels if ax.images[0].get_cmap().name == "gray"}) == 1
    matplotlib.pyplot.close("all")

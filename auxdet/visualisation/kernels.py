"""Small-kernel analysis used by the derivation notebooks (02 M2DM, 03 LEEM).

Plain numpy (torch tensors are accepted and converted). Conventions:

* A kernel ``k`` is a small 2-D array, rows = y (down), columns = x (right), its centre tap at
  ``(kh // 2, kw // 2)``. Filtering is *convolution* ``(k * f)[n] = Σ_m k[m] f[n − m]``; every kernel
  here is point-symmetric, so convolution and correlation (what ``torch.nn.functional.conv2d`` computes)
  agree.
* Frequency response: ``H(ω_y, ω_x) = Σ_m k[m] e^{−i ω·m}`` with ``m`` measured from the centre tap, so
  a point-symmetric kernel has a real response. A filter maps ``e^{i ω·n}`` to ``H(ω) e^{i ω·n}``.

Closed forms (derived in notebook 03):

* 1-D second difference ``[1, −2, 1]``: ``2 cos ω − 2 = −4 sin²(ω/2)`` (≈ −ω², i.e. ``d²/dx²``).
* 5-point Laplacian ``[[0,1,0],[1,−4,1],[0,1,0]]``: ``−4 (sin²(ω_x/2) + sin²(ω_y/2))`` ≈ −|ω|².
* Eq. 17 separable product ``(¼[1,−2,1])ᵀ (¼[1,−2,1]) = (1/16)[[1,−2,1],[−2,4,−2],[1,−2,1]]``:
  ``(−sin²(ω_y/2)) · (−sin²(ω_x/2)) = sin²(ω_x/2) sin²(ω_y/2)`` ≈ ω_x² ω_y² / 16, the mixed fourth
  derivative ``∂⁴/∂x²∂y²`` / 16 — zero on both frequency axes, i.e. for any image that depends on x
  alone or on y alone (straight horizontal / vertical edges and lines).
* Continuous LoG ``∇²G_σ`` (``G_σ`` of unit integral): ``−|ω|² exp(−σ²|ω|²/2)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from scipy import ndimage

__all__ = [
    "as_kernel",
    "second_difference",
    "laplacian_5pt",
    "separable_product_kernel",
    "log_kernel",
    "frequency_grid",
    "frequency_response",
    "magnitude_response",
    "response_second_difference",
    "response_laplacian_5pt",
    "response_separable_product",
    "response_log_continuous",
    "best_log_fit",
    "filter2d",
    "separable_cascade",
    "point_target",
    "gaussian_spot",
    "extended_target",
    "straight_edge",
    "straight_line",
    "synthetic_patches",
    "patch_responses",
    "plot_frequency_responses",
]

PATCH_SIZE = 33  # default side of the synthetic patches (odd: the target sits on the centre pixel)


# --------------------------------------------------------------------------------------------- kernels
def as_kernel(kernel: Any) -> np.ndarray:
    """A 2-D float64 numpy copy of ``kernel`` (numpy array, nested list or torch tensor).

    A 4-D ``[1, 1, kh, kw]`` or 3-D ``[1, kh, kw]`` conv weight is squeezed. Raises ``ValueError``
    for anything that is not a non-empty 2-D kernel with finite entries.
    """
    if hasattr(kernel, "detach"):  # torch.Tensor
        kernel = kernel.detach().cpu().double().numpy()
    k = np.array(kernel, dtype=np.float64)
    while k.ndim > 2 and k.shape[0] == 1:
        k = k[0]
    if k.ndim != 2 or k.size == 0:
        raise ValueError(f"expected a 2-D kernel (or a [1, 1, kh, kw] weight), got shape {np.shape(kernel)}")
    if not np.all(np.isfinite(k)):
        raise ValueError("kernel has non-finite entries")
    return k


def second_difference(scale: float = 1.0) -> np.ndarray:
    """The 1-D second difference ``scale · [1, −2, 1]`` (LEEM's Eq. 16 uses ``scale = 1/4``)."""
    return scale * np.array([1.0, -2.0, 1.0])


def laplacian_5pt() -> np.ndarray:
    """The discrete 4-neighbour (5-point) Laplacian ``[[0,1,0],[1,−4,1],[0,1,0]]``.

    It is what the PSSM kernel of Eq. 10/11 becomes when all four ``sm`` entries equal 1.
    """
    return np.array([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])


def separable_product_kernel(scale: float = 0.25) -> np.ndarray:
    """The 3×3 kernel of the composition ``W₃ₓ₁ ∗ W₁ₓ₃`` of Eq. 17 (linear part, per channel).

    ``W₃ₓ₁ = scale·[1,−2,1]ᵀ``, ``W₁ₓ₃ = scale·[1,−2,1]`` (Eq. 16, ``scale = 1/4``); the convolution of a
    column with a row is their outer product: ``(1/16)[[1,−2,1],[−2,4,−2],[1,−2,1]]``.
    """
    d = second_difference(scale)
    return np.outer(d, d)


def log_kernel(sigma: float, radius: int | None = None, method: str = "closed_form", zero_sum: bool = True) -> np.ndarray:
    """A sampled Laplacian-of-Gaussian kernel ``∇²G_σ`` of size ``2·radius + 1`` (default radius ⌈4σ⌉).

    ``method='closed_form'`` samples ``∇²G_σ(x, y) = (r² − 2σ²)/σ⁴ · G_σ`` with
    ``G_σ = exp(−r²/2σ²) / (2πσ²)``; ``method='ndimage'`` is the impulse response of
    ``scipy.ndimage.gaussian_laplace`` (sampled-Gaussian second derivatives, summed over the axes).
    ``zero_sum=True`` subtracts the mean so that the kernel has zero DC response exactly (truncation
    and sampling leave a small residue otherwise). Sign: negative centre (a bright blob gives a
    negative response), like the 5-point Laplacian.
    """
    if not sigma > 0:
        raise ValueError(f"log_kernel: sigma must be > 0, got {sigma!r}")
    radius = int(math.ceil(4.0 * sigma)) if radius is None else int(radius)
    if radius < 1:
        raise ValueError(f"log_kernel: radius must be >= 1, got {radius}")
    if method == "closed_form":
        ax = np.arange(-radius, radius + 1, dtype=np.float64)
        yy, xx = np.meshgrid(ax, ax, indexing="ij")
        r2 = xx**2 + yy**2
        g = np.exp(-r2 / (2.0 * sigma**2)) / (2.0 * math.pi * sigma**2)
        k = (r2 - 2.0 * sigma**2) / sigma**4 * g
    elif method == "ndimage":
        delta = np.zeros((2 * radius + 1,) * 2)
        delta[radius, radius] = 1.0
        k = ndimage.gaussian_laplace(delta, sigma=sigma, mode="constant", truncate=radius / sigma)
    else:
        raise ValueError(f"log_kernel: unknown method {method!r}; valid: 'closed_form', 'ndimage'")
    if zero_sum:
        k = k - k.mean()
    return k


# ----------------------------------------------------------------------------------- frequency domain
def frequency_grid(n: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Angular frequencies ``(ω_y, ω_x)`` of an ``n×n`` DFT, fft-shifted to ``[−π, π)`` (``ω = 0`` at ``n//2``)."""
    if n < 2:
        raise ValueError(f"frequency_grid: n must be >= 2, got {n}")
    w = 2.0 * math.pi * np.fft.fftshift(np.fft.fftfreq(n))
    wy, wx = np.meshgrid(w, w, indexing="ij")
    return wy, wx


def frequency_response(kernel: Any, n: int = 64) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The 2-D DFT of ``kernel`` zero-padded to ``n×n`` with its centre tap at the origin.

    Returns ``(ω_y, ω_x, H)``, all ``n×n`` and fft-shifted (``H[n//2, n//2]`` is the DC gain = the sum
    of the taps). ``H`` is complex; it is real (up to rounding) for point-symmetric kernels.
    """
    k = as_kernel(kernel)
    kh, kw = k.shape
    if n < max(kh, kw):
        raise ValueError(f"frequency_response: grid n={n} is smaller than the kernel {k.shape}")
    padded = np.zeros((n, n))
    padded[:kh, :kw] = k
    padded = np.roll(padded, (-(kh // 2), -(kw // 2)), axis=(0, 1))
    h = np.fft.fftshift(np.fft.fft2(padded))
    wy, wx = frequency_grid(n)
    return wy, wx, h


def magnitude_response(kernel: Any, n: int = 64) -> np.ndarray:
    """``|H(ω_y, ω_x)|`` on the fft-shifted ``n×n`` grid of :func:`frequency_grid`."""
    return np.abs(frequency_response(kernel, n)[2])


def response_second_difference(w: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """Closed-form response of ``scale·[1,−2,1]``: ``scale·(2cos ω − 2) = −4·scale·sin²(ω/2)``."""
    return -4.0 * scale * np.sin(np.asarray(w) / 2.0) ** 2


def response_laplacian_5pt(wy: np.ndarray, wx: np.ndarray) -> np.ndarray:
    """Closed-form response of the 5-point Laplacian: ``−4 (sin²(ω_x/2) + sin²(ω_y/2))``."""
    return response_second_difference(wy) + response_second_difference(wx)


def response_separable_product(wy: np.ndarray, wx: np.ndarray, scale: float = 0.25) -> np.ndarray:
    """Closed-form response of the Eq. 17 product: ``16·scale²·sin²(ω_x/2)·sin²(ω_y/2)``.

    With Eq. 16's ``scale = 1/4`` this is exactly ``sin²(ω_x/2) sin²(ω_y/2)``: 0 on both axes,
    ≈ ``ω_x²ω_y²/16`` near DC (``∂⁴/∂x²∂y²`` / 16), maximal (1) at the checkerboard ``(π, π)``.
    """
    return response_second_difference(wy, scale) * response_second_difference(wx, scale)


def response_log_continuous(wy: np.ndarray, wx: np.ndarray, sigma: float) -> np.ndarray:
    """Fourier transform of the continuous ``∇²G_σ``: ``−|ω|² exp(−σ²|ω|²/2)`` (isotropic)."""
    r2 = np.asarray(wx) ** 2 + np.asarray(wy) ** 2
    return -r2 * np.exp(-(sigma**2) * r2 / 2.0)


def best_log_fit(
    response: np.ndarray, wy: np.ndarray, wx: np.ndarray, sigmas: np.ndarray | None = None
) -> tuple[float, float]:
    """How close a LoG gets to a filter: the smallest relative L2 misfit ``‖g·H − L_σ‖ / ‖L_σ‖`` over
    ``|ω| ≤ π``, with the gain ``g`` (and sign) free and ``σ`` over ``sigmas`` (default 0.2 … 3 in
    steps of 0.05); ``L_σ`` is :func:`response_log_continuous`, ``H`` the real part of ``response``.
    Returns ``(misfit, σ)``."""
    disk = np.hypot(wx, wy) <= np.pi
    h = np.real(response)[disk]
    fits = []
    for sig in np.linspace(0.2, 3.0, 57) if sigmas is None else sigmas:
        g = response_log_continuous(wy, wx, sig)[disk]
        gain = (h @ g) / (h @ h)
        fits.append((float(np.linalg.norm(gain * h - g) / np.linalg.norm(g)), float(sig)))
    return min(fits)


# ------------------------------------------------------------------------------------------ filtering
def filter2d(image: Any, kernel: Any, mode: str = "nearest") -> np.ndarray:
    """Convolve a 2-D ``image`` with ``kernel`` (same size output, ``scipy.ndimage`` boundary ``mode``).

    ``'nearest'`` keeps an image that depends on one coordinate only (a straight axis-aligned edge)
    dependent on that coordinate only, up to the border.
    """
    img = np.asarray(image, dtype=np.float64)
    if img.ndim != 2:
        raise ValueError(f"filter2d: expected a 2-D image, got shape {img.shape}")
    return ndimage.convolve(img, as_kernel(kernel), mode=mode)


def separable_cascade(
    image: Any,
    vertical: Any | None = None,
    horizontal: Any | None = None,
    relu: bool = True,
    gate: float = 1.0,
    mode: str = "nearest",
) -> np.ndarray:
    """LEEM's edge unit on one channel (Eq. 15): ``W₁ₓ₃ ∗ (gate · ReLU(W₃ₓ₁ ∗ x))``.

    ``vertical`` / ``horizontal`` are 3-tap kernels (default ``¼[1,−2,1]``, Eq. 16); ``gate`` plays
    ``σ(α)``. With ``relu=False`` the cascade is linear and equals ``filter2d(x, outer(v, h))`` (Eq. 17).
    A reference for the notebooks' checks of ``auxdet.models.edge``; not used by the model.
    """
    img = np.asarray(image, dtype=np.float64)
    if img.ndim != 2:
        raise ValueError(f"separable_cascade: expected a 2-D image, got shape {img.shape}")
    v = second_difference(0.25) if vertical is None else np.asarray(vertical, dtype=np.float64).ravel()
    h = second_difference(0.25) if horizontal is None else np.asarray(horizontal, dtype=np.float64).ravel()
    y = ndimage.convolve1d(img, v, axis=0, mode=mode)
    if relu:
        y = np.maximum(y, 0.0)
    return ndimage.convolve1d(gate * y, h, axis=1, mode=mode)


# ---------------------------------------------------------------------------------- synthetic patches
def _grid(size: int) -> tuple[np.ndarray, np.ndarray, int]:
    if size < 3 or size % 2 == 0:
        raise ValueError(f"patch size must be an odd integer >= 3, got {size}")
    c = size // 2
    ax = np.arange(size, dtype=np.float64) - c
    yy, xx = np.meshgrid(ax, ax, indexing="ij")
    return yy, xx, c


def point_target(size: int = PATCH_SIZE, amplitude: float = 1.0) -> np.ndarray:
    """A one-pixel target (a discrete impulse of height ``amplitude``) on a zero background."""
    yy, _, c = _grid(size)
    img = np.zeros_like(yy)
    img[c, c] = amplitude
    return img


def gaussian_spot(size: int = PATCH_SIZE, sigma: float = 1.5, amplitude: float = 1.0) -> np.ndarray:
    """A spot target: an isotropic Gaussian of peak ``amplitude`` and width ``sigma`` (pixels)."""
    if not sigma > 0:
        raise ValueError(f"gaussian_spot: sigma must be > 0, got {sigma!r}")
    yy, xx, _ = _grid(size)
    return amplitude * np.exp(-(xx**2 + yy**2) / (2.0 * sigma**2))


def extended_target(size: int = PATCH_SIZE, radius: float = 6.0, shape: str = "disk", amplitude: float = 1.0) -> np.ndarray:
    """An extended target: a flat ``disk`` (radius) or axis-aligned ``square`` (half-side) of height ``amplitude``."""
    yy, xx, _ = _grid(size)
    if shape == "disk":
        mask = xx**2 + yy**2 <= radius**2
    elif shape == "square":
        mask = (np.abs(xx) <= radius) & (np.abs(yy) <= radius)
    else:
        raise ValueError(f"extended_target: unknown shape {shape!r}; valid: 'disk', 'square'")
    return amplitude * mask.astype(np.float64)


def straight_edge(size: int = PATCH_SIZE, orientation: str = "horizontal", amplitude: float = 1.0) -> np.ndarray:
    """A step edge through the centre: ``horizontal`` (a function of y only, e.g. a horizon),
    ``vertical`` (x only), ``diagonal`` (of ``x − y``, 45°) or ``antidiagonal`` (of ``x + y``).
    Pixels on the boundary line get ``amplitude / 2``.
    """
    yy, xx, _ = _grid(size)
    s = {"horizontal": yy, "vertical": xx, "diagonal": xx - yy, "antidiagonal": xx + yy}.get(orientation)
    if s is None:
        raise ValueError(
            f"straight_edge: unknown orientation {orientation!r}; valid: horizontal, vertical, diagonal, antidiagonal"
        )
    return amplitude * (0.5 * (np.sign(s) + 1.0))


def straight_line(size: int = PATCH_SIZE, orientation: str = "horizontal", amplitude: float = 1.0) -> np.ndarray:
    """A one-pixel-wide bright line through the centre (clutter such as a horizon, road or wire):
    ``horizontal``, ``vertical`` or ``diagonal`` (45°)."""
    yy, xx, _ = _grid(size)
    s = {"horizontal": yy, "vertical": xx, "diagonal": xx - yy}.get(orientation)
    if s is None:
        raise ValueError(f"straight_line: unknown orientation {orientation!r}; valid: horizontal, vertical, diagonal")
    return amplitude * (s == 0).astype(np.float64)


def synthetic_patches(size: int = PATCH_SIZE, amplitude: float = 1.0) -> dict[str, np.ndarray]:
    """The probe patches of notebook 03, in display order: targets first, then clutter.

    ``point``, ``spot σ=1`` and ``spot σ=2`` (Gaussian), ``extended disk r=6``, ``extended square 13×13``,
    ``edge horizontal`` / ``edge vertical`` / ``edge diagonal`` (steps), ``line horizontal`` /
    ``line diagonal`` (one-pixel ridges).
    """
    return {
        "point": point_target(size, amplitude),
        "spot σ=1": gaussian_spot(size, 1.0, amplitude),
        "spot σ=2": gaussian_spot(size, 2.0, amplitude),
        "extended disk r=6": extended_target(size, 6.0, "disk", amplitude),
        "extended square 13×13": extended_target(size, 6.0, "square", amplitude),
        "edge horizontal": straight_edge(size, "horizontal", amplitude),
        "edge vertical": straight_edge(size, "vertical", amplitude),
        "edge diagonal": straight_edge(size, "diagonal", amplitude),
        "line horizontal": straight_line(size, "horizontal", amplitude),
        "line diagonal": straight_line(size, "diagonal", amplitude),
    }


def patch_responses(
    operators: Mapping[str, Any],
    patches: Mapping[str, np.ndarray] | None = None,
    normalise: bool | Mapping[str, float] = True,
    margin: int | None = None,
) -> Any:
    """Responses of filters to probe patches as a tidy ``pandas.DataFrame``.

    ``operators`` maps a name to a 2-D kernel or to a callable ``image -> response`` (e.g. a
    :func:`separable_cascade` with ReLU). Columns: ``operator``, ``patch``, ``centre`` (signed response at
    the centre pixel), ``max_abs`` (largest |response| away from the border), ``energy`` (L2 norm there).
    ``normalise=True`` divides by the operator's peak |response| to the unit point target, so every row
    reads "relative to a one-pixel target of the same amplitude"; a mapping ``{operator: reference}``
    divides those operators by the given reference instead (e.g. a nonlinear cascade by the point peak
    of its linear counterpart) and the others as for ``True``; ``False`` leaves raw values.
    ``margin`` (default: 4 px, or the kernel radius if larger) excludes the patch border where the
    boundary extension acts.
    """
    import pandas as pd

    patches = synthetic_patches() if patches is None else patches
    rows = []
    for name, op in operators.items():
        if callable(op):
            fn: Callable[[np.ndarray], np.ndarray] = op
            rad = 4
        else:
            k = as_kernel(op)
            fn = lambda img, k=k: filter2d(img, k)  # noqa: E731
            rad = max(4, max(k.shape) // 2)
        m = rad if margin is None else margin
        ref = 1.0
        if isinstance(normalise, Mapping) and name in normalise:
            ref = float(normalise[name])
            if ref == 0.0:
                raise ValueError(f"patch_responses: reference for operator {name!r} is 0")
        elif normalise:
            size = next(iter(patches.values())).shape[0]
            ref = float(np.max(np.abs(fn(point_target(size)))))
            if ref == 0.0:
                raise ValueError(f"patch_responses: operator {name!r} does not respond to a point target")
        for pname, img in patches.items():
            r = np.asarray(fn(img), dtype=np.float64) / ref
            c0, c1 = r.shape[0] // 2, r.shape[1] // 2
            inner = r[m : r.shape[0] - m, m : r.shape[1] - m]
            rows.append(
                {
                    "operator": name,
                    "patch": pname,
                    "centre": float(r[c0, c1]),
                    "max_abs": float(np.max(np.abs(inner))),
                    "energy": float(np.sqrt(np.sum(inner**2))),
                }
            )
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------------------- plotting
def plot_frequency_responses(kernels: Mapping[str, Any], n: int = 128, normalise: bool = True) -> Any:
    """Figure: ``|H|`` of each kernel on ``[−π, π]²`` (top row) and radial cuts along the axis ``ω_y = 0``
    and the diagonal ``ω_x = ω_y``, plotted against ``|ω|`` (bottom; an isotropic filter gives two
    coinciding curves). ``normalise`` scales each response to a peak of 1.
    Returns the ``matplotlib`` figure (save it with ``auxdet.visualisation.style.save_figure``).
    """
    import matplotlib.pyplot as plt

    names = list(kernels)
    if not names:
        raise ValueError("plot_frequency_responses: no kernels given")
    fig, axes = plt.subplots(2, len(names), figsize=(3.2 * len(names), 6.2), squeeze=False)
    c = n // 2
    for j, name in enumerate(names):
        wy, wx, h = frequency_response(kernels[name], n)
        mag = np.abs(h)
        peak = mag.max() if normalise and mag.max() > 0 else 1.0
        mag = mag / peak
        ax = axes[0, j]
        im = ax.imshow(mag, extent=(wx.min(), wx.max(), wy.max(), wy.min()), cmap="magma", vmin=0, vmax=mag.max())
        ax.set_title(name, fontsize=9)
        ax.set_xlabel(r"$\omega_x$")
        ax.set_ylabel(r"$\omega_y$")
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
        ax = axes[1, j]
        w = wx[c, c:]
        ax.plot(w, mag[c, c:], label=r"axis $\omega_y=0$")
        ax.plot(math.sqrt(2.0) * w, np.diagonal(mag)[c:], "--", label=r"diagonal $\omega_x=\omega_y$")
        ax.set_xlabel(r"radial frequency $|\omega|$ (rad/pixel)")
        ax.set_ylim(-0.03, 1.05 if normalise else None)
        ax.grid(alpha=0.3)
        if j == 0:
            ax.set_ylabel("|H| (peak = 1)" if normalise else "|H|")
            ax.legend(fontsize=8)
    fig.tight_layout()
    return fig

"""Loading infrared images of any PNG mode as ``H×W×3 uint8`` (the detector's input format).

Infrared datasets mix PNG modes: 8-bit gray (``L``), gray+alpha (``LA``), ``RGB``, ``RGBA``, palette
(``P``, with or without transparency), 1-bit, 16-bit gray/colour and, from TIFF, 32-bit int / float.
:func:`load_ir_image` turns each into the same ``H×W×3 uint8`` array:

* PNG/JPEG/BMP are decoded by OpenCV (``IMREAD_UNCHANGED``: keeps 16 bits, expands palettes and
  1-bit images), other formats (e.g. float TIFF) by Pillow; a corrupt, truncated or unknown file raises
  :class:`IRImageError` naming the file (a missing one ``FileNotFoundError``).
* gray → the gray value in all three channels; an alpha channel is dropped (as ``cv2.imread`` does);
* **intensity scaling** of anything that is not 8-bit (16-bit, 32-bit int, float): by default
  ``scaling='minmax'`` — a linear map of the image's own ``[min, max]`` onto ``[0, 255]`` (rounded),
  because raw IR frames rarely use the full 16-bit range (a 14-bit sensor would be ≤ 25 % grey under
  ``'dtype'``). ``scaling='dtype'`` maps the dtype range instead (``v * 255 / 65535`` for 16-bit);
  either way the values are *scaled, never clipped*. A constant image maps to 0. Non-finite floats raise.
* channel order: BGR by default, like mmcv's ``LoadImageFromFile``; ``channel_order='rgb'`` flips.

:class:`LoadIRImageFromFile` is the mmdet pipeline transform using it; :func:`load_gray` gives the same
image as float gray in ``[0, 1]`` (for analysis) and :func:`load_mask` reads a binary target mask.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
from mmcv.transforms import LoadImageFromFile
from mmdet.registry import TRANSFORMS
from mmengine import fileio
from PIL import Image, UnidentifiedImageError

__all__ = [
    "IRImageError",
    "LoadIRImageFromFile",
    "decode_ir_image",
    "load_gray",
    "load_ir_image",
    "load_mask",
    "to_uint8",
]

Scaling = Literal["minmax", "dtype"]
SCALINGS: tuple[str, ...] = ("minmax", "dtype")
_CV2_SIGNATURES: dict[str, bytes] = {"PNG": b"\x89PNG\r\n\x1a\n", "JPEG": b"\xff\xd8", "BMP": b"BM"}


class IRImageError(ValueError):
    """An image file that cannot be decoded or converted (the message names the file)."""


def to_uint8(array: np.ndarray, scaling: Scaling = "minmax", name: str = "<array>") -> np.ndarray:
    """Scale a non-8-bit image linearly to ``uint8`` (see module docstring); ``uint8`` passes unchanged."""
    if scaling not in SCALINGS:
        raise ValueError(f"scaling must be one of {list(SCALINGS)}, got {scaling!r}")
    a = np.asarray(array)
    if a.dtype == np.uint8:
        return a
    if a.dtype == bool:
        return a.astype(np.uint8) * 255
    if not (np.issubdtype(a.dtype, np.integer) or np.issubdtype(a.dtype, np.floating)):
        raise IRImageError(f"image '{name}': unsupported pixel type {a.dtype}")
    x = a.astype(np.float64)
    if not np.isfinite(x).all():
        raise IRImageError(
            f"image '{name}': {int((~np.isfinite(x)).sum())} non-finite pixel values (NaN/inf)"
        )
    if scaling == "dtype" and np.issubdtype(a.dtype, np.integer):
        lo, hi = float(np.iinfo(a.dtype).min), float(np.iinfo(a.dtype).max)
    elif scaling == "dtype" and x.size and x.min() >= 0.0 and x.max() <= 1.0:
        lo, hi = 0.0, 1.0  # float images in [0, 1]
    else:  # 'minmax', or 'dtype' on floats outside [0, 1] (a float dtype has no useful range)
        lo, hi = (float(x.min()), float(x.max())) if x.size else (0.0, 1.0)
    if hi <= lo:
        return np.zeros(a.shape, dtype=np.uint8)
    return np.rint((x - lo) * (255.0 / (hi - lo))).astype(np.uint8)


def _decode_pil(buf: bytes, name: str) -> np.ndarray:
    import io

    try:
        with Image.open(io.BytesIO(buf)) as im:
            im.load()
            mode = im.mode
            if mode == "P" or mode == "PA":
                im = im.convert("RGBA")
            elif mode in ("CMYK", "YCbCr", "LAB", "HSV"):
                im = im.convert("RGB")
            elif mode == "1":
                im = im.convert("L")
            arr = np.array(im)
    except UnidentifiedImageError:
        raise IRImageError(f"cannot decode image '{name}': not a recognised image format") from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        raise IRImageError(f"cannot decode image '{name}': {type(e).__name__}: {e}") from None
    if mode.startswith("I;16") and arr.dtype != np.uint16:
        arr = arr.astype(np.uint16)
    if arr.ndim == 3 and arr.shape[2] >= 3:  # Pillow is RGB(A); OpenCV convention is BGR(A)
        arr = arr[..., [2, 1, 0] + list(range(3, arr.shape[2]))]
    return arr


def decode_ir_image(
    buf: bytes,
    name: str = "<bytes>",
    *,
    scaling: Scaling = "minmax",
    channel_order: Literal["bgr", "rgb"] = "bgr",
    pillow: bool = False,
) -> np.ndarray:
    """Decode encoded image bytes to ``H×W×3 uint8`` (``name`` is used in error messages).

    ``pillow=True`` decodes every format with Pillow (for images beyond OpenCV's pixel limit).
    """
    if channel_order not in ("bgr", "rgb"):
        raise ValueError(f"channel_order must be 'bgr' or 'rgb', got {channel_order!r}")
    if not buf:
        raise IRImageError(f"cannot decode image '{name}': the file is empty")
    kind = None if pillow else next((k for k, sig in _CV2_SIGNATURES.items() if buf.startswith(sig)), None)
    if kind is not None:  # OpenCV is authoritative for these (Pillow accepts some truncated PNGs)
        arr = cv2.imdecode(np.frombuffer(buf, np.uint8), cv2.IMREAD_UNCHANGED)
        if arr is None:
            raise IRImageError(f"cannot decode image '{name}': corrupt or truncated {kind} data")
    else:  # other formats (TIFF with float / 32-bit pixels, …): Pillow
        arr = _decode_pil(buf, name)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim == 3 and arr.shape[2] in (2, 4):  # gray+alpha / BGRA: drop alpha
        arr = arr[..., :1] if arr.shape[2] == 2 else arr[..., :3]
        arr = arr[..., 0] if arr.shape[2] == 1 else arr
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] != 3) or 0 in arr.shape:
        raise IRImageError(f"image '{name}': unsupported image shape {arr.shape}")
    arr = to_uint8(arr, scaling, name)
    if arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=2)
    elif channel_order == "rgb":
        arr = arr[..., ::-1]
    return np.ascontiguousarray(arr)


def load_ir_image(
    path: str | os.PathLike,
    *,
    scaling: Scaling = "minmax",
    channel_order: Literal["bgr", "rgb"] = "bgr",
    pillow: bool = False,
) -> np.ndarray:
    """Load an IR image file of any PNG mode as ``H×W×3 uint8`` (BGR by default; see module docstring)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"image file not found: '{path}'")
    return decode_ir_image(path.read_bytes(), str(path), scaling=scaling, channel_order=channel_order,
                           pillow=pillow)


def load_gray(path: str | os.PathLike) -> np.ndarray:
    """An IR image of any mode as float32 gray in ``[0, 1]``: the channel mean of :func:`load_ir_image` / 255."""
    return (load_ir_image(path).mean(axis=2) / 255.0).astype(np.float32)


def load_mask(path: str | os.PathLike) -> np.ndarray:
    """A target mask of any mode as a boolean ``H×W`` array: a pixel is target when any colour channel
    is non-zero (palette images through their gray value; an alpha channel is ignored)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"mask file not found: '{path}'")
    try:
        with Image.open(path) as im:
            if im.mode in ("P", "PA", "LA"):
                im = im.convert("L")
            elif im.mode == "RGBA":
                im = im.convert("RGB")
            arr = np.asarray(im)
    except (OSError, UnidentifiedImageError) as e:
        raise ValueError(f"cannot decode mask '{path}': {e}") from None
    return arr.any(axis=2) if arr.ndim == 3 else arr != 0


@TRANSFORMS.register_module()
class LoadIRImageFromFile(LoadImageFromFile):
    """mmcv's ``LoadImageFromFile`` for IR images: any PNG mode → ``H×W×3 uint8`` via :func:`decode_ir_image`.

    Sets ``img``, ``img_shape`` and ``ori_shape`` (``(h, w)``) like ``LoadImageFromFile``. Extra args:
    ``scaling`` ('minmax' | 'dtype', for >8-bit images) and ``channel_order`` ('bgr' | 'rgb').
    ``color_type``/``imdecode_backend`` of the parent are ignored (always 3 channels).
    """

    def __init__(self, *args, scaling: Scaling = "minmax", channel_order: str = "bgr", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if scaling not in SCALINGS:
            raise ValueError(f"LoadIRImageFromFile: scaling must be one of {list(SCALINGS)}, got {scaling!r}")
        if channel_order not in ("bgr", "rgb"):
            raise ValueError(
                f"LoadIRImageFromFile: channel_order must be 'bgr' or 'rgb', got {channel_order!r}"
            )
        self.scaling = scaling
        self.channel_order = channel_order

    def transform(self, results: dict) -> dict | None:
        filename = results["img_path"]
        try:
            if self.file_client_args is not None:
                buf = fileio.FileClient.infer_client(self.file_client_args, filename).get(filename)
            else:
                buf = fileio.get(filename, backend_args=self.backend_args)
            img = decode_ir_image(buf, str(filename), scaling=self.scaling, channel_order=self.channel_order)
        except FileNotFoundError:
            if self.ignore_empty:
                return None
            raise FileNotFoundError(f"image file not found: '{filename}'") from None
        except IRImageError:
            if self.ignore_empty:
                return None
            raise
        if self.to_float32:
            img = img.astype(np.float32)
        results["img"] = img
        results["img_shape"] = img.shape[:2]
        results["ori_shape"] = img.shape[:2]
        return results

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(ignore_empty={self.ignore_empty}, to_float32={self.to_float32}, "
            f"scaling='{self.scaling}', channel_order='{self.channel_order}', backend_args={self.backend_args})"
        )

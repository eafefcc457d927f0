"""Images of any size for prediction: the decompression-bomb limit, memory, and the decoder's own limit.

Pillow refuses images above ``Image.MAX_IMAGE_PIXELS`` (89.5 Mpx; an error above twice that) to stop
"decompression bombs" — a small file that decodes to gigabytes. Infrared mosaics and satellite frames
are legitimately that large, and tiled prediction (``auxdet predict --tile``) exists for them, so:

* :func:`prediction_image_size` reads the header with the limit lifted (a header is a few bytes) and
  applies auxdet's policy: an **untiled** image above the limit is a one-line error suggesting
  ``--tile`` (it would be resized to the model's input anyway, losing every small target); a **tiled**
  one is accepted if its decoded size fits in the available memory (:func:`decode_bytes`,
  :func:`available_memory`), else a one-line error giving both sizes.
* :func:`load_prediction_image` decodes with the limit lifted only for tiled prediction, and through
  Pillow when the image exceeds OpenCV's own decoding limit (``OPENCV_IO_MAX_IMAGE_PIXELS``, 2³⁰ px).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from auxdet.data.loading import IRImageError, load_ir_image

__all__ = [
    "ImageTooLargeError",
    "available_memory",
    "decode_bytes",
    "lifted_pixel_limit",
    "load_prediction_image",
    "prediction_image_size",
]

#: OpenCV refuses to decode images with more pixels than this (its ``OPENCV_IO_MAX_IMAGE_PIXELS``)
CV2_MAX_PIXELS = int(os.environ.get("OPENCV_IO_MAX_IMAGE_PIXELS", 1 << 30))
#: bytes per pixel of the decoded array, by Pillow mode (other modes: 4)
_MODE_BYTES = {"1": 1, "L": 1, "P": 4, "PA": 4, "LA": 2, "RGB": 3, "RGBA": 4, "I;16": 2, "I;16B": 2,
               "I;16L": 2, "I": 4, "F": 4, "CMYK": 4, "YCbCr": 3}


class ImageTooLargeError(IRImageError):
    """An image too large for the requested kind of prediction (the message says what to do)."""


@contextmanager
def lifted_pixel_limit() -> Iterator[None]:
    """Pillow's decompression-bomb limit switched off inside the block (restored after)."""
    from PIL import Image

    saved = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None
    try:
        yield
    finally:
        Image.MAX_IMAGE_PIXELS = saved


def _header(path: Path) -> tuple[int, int, str]:
    from PIL import Image, UnidentifiedImageError

    if not path.is_file():
        raise FileNotFoundError(f"image '{path}' not found")
    try:
        with lifted_pixel_limit(), Image.open(path) as im:
            return int(im.width), int(im.height), str(im.mode)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise IRImageError(f"cannot read image '{path}': not a readable image file ({e})") from None


def decode_bytes(width: int, height: int, mode: str, file_size: int = 0) -> int:
    """Peak bytes to decode an image and make its ``H×W×3 uint8`` copy and an annotated copy (an estimate)."""
    px = int(width) * int(height)
    raw = _MODE_BYTES.get(mode, 4)
    scaled = 0 if mode in ("1", "L", "P", "PA", "LA", "RGB", "RGBA") else px * 9  # float64 rescaling + uint8
    return int(file_size) + px * (raw + 3 + 3) + scaled


def available_memory() -> int | None:
    """Bytes of memory available to this process (``MemAvailable``, within a cgroup limit); None if unknown."""
    values = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                values.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError):
        pass
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        used = int(Path("/sys/fs/cgroup/memory.current").read_text().strip())
        if limit != "max":
            values.append(max(0, int(limit) - used))
    except (OSError, ValueError):
        pass
    if not values and hasattr(os, "sysconf"):
        try:
            values.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (ValueError, OSError):
            pass
    return min(values) if values else None


def prediction_image_size(path: str | os.PathLike, *, tiled: bool) -> tuple[int, int]:
    """``(width, height)`` of an image to predict, after checking it can be predicted (see module doc)."""
    from PIL import Image

    path = Path(path)
    width, height, mode = _header(path)
    pixels = width * height
    limit = Image.MAX_IMAGE_PIXELS
    if not tiled and limit and pixels > limit:
        raise ImageTooLargeError(
            f"image '{path}' is {width}×{height} = {pixels / 1e6:.0f} Mpx, above Pillow's decompression-bomb limit "
            f"({limit / 1e6:.0f} Mpx) for one model input; predict it in tiles: --tile 1024 --overlap 64"
        )
    if tiled:
        need, free = decode_bytes(width, height, mode, path.stat().st_size), available_memory()
        if free is not None and need > free:
            raise ImageTooLargeError(
                f"image '{path}' ({width}×{height}, mode {mode}) needs about {need / 2**30:.1f} GiB to decode, "
                f"more than the {free / 2**30:.1f} GiB of memory available; free memory or split the image "
                "into smaller files"
            )
    return width, height


def load_prediction_image(path: str | os.PathLike, *, tiled: bool) -> np.ndarray:
    """The image as ``H×W×3 uint8`` (see :func:`auxdet.data.loading.load_ir_image`); any size when ``tiled``."""
    if not tiled:
        return load_ir_image(path)
    width, height, _ = _header(Path(path))
    with lifted_pixel_limit():  # Pillow decodes TIFFs, and everything beyond OpenCV's own limit
        return load_ir_image(path, pillow=width * height > CV2_MAX_PIXELS)

"""Data augmentation for images: mirroring, crops, rotations and colour shifts.

Chapter: 02-convolutional-networks/07-faces-and-style. Each function takes one image ``x`` of
shape ``(C, H, W)`` (torch's layout without the batch axis) and returns a new array; the random
ones draw from a ``numpy.random.Generator`` passed in, so a seeded generator gives the same
augmented images on every machine. Row 0 is the top of the image, as ``plt.imshow`` shows it.

float32 images stay float32. NaN pixels are moved like any other value (as ``torch.flip`` and
``torch.rot90`` move them); integer arguments accept NumPy integers, numbers must be finite.
"""
from __future__ import annotations

import numpy as np

from .validation import as_float, as_float_array, as_int, as_probability, check_rng

__all__ = ["mirror", "random_mirror", "crop", "random_crop", "rotate90", "rotate", "colour_shift",
           "random_augment"]


def _check_image(x) -> np.ndarray:
    arr = as_float_array(x, "x", ndim=3, shape_hint="(C, H, W)")
    if 0 in arr.shape:
        raise ValueError(f"x must be a non-empty (C, H, W) image; got shape {arr.shape}")
    return arr



def mirror(x) -> np.ndarray:
    """Left-right mirror image: out[:, r, c] = x[:, r, W - 1 - c].  x: (C, H, W).

    Reference: ``torch.flip(x, dims=(2,))`` (``torchvision``'s horizontal flip).
    """
    return _check_image(x)[:, :, ::-1].copy()


def random_mirror(x, rng: np.random.Generator, p: float = 0.5) -> np.ndarray:
    """Mirror ``x`` with probability ``p`` (one uniform draw from ``rng``), else copy it."""
    x = _check_image(x)
    check_rng(rng)
    p = as_probability(p, "p")
    return mirror(x) if rng.uniform() < p else x.copy()


def crop(x, top: int, left: int, height: int, width: int) -> np.ndarray:
    """The window x[:, top:top + height, left:left + width], which must fit inside x."""
    x = _check_image(x)
    _, H, W = x.shape
    h, w = as_int(height, "height", minimum=1), as_int(width, "width", minimum=1)
    top, left = as_int(top, "top", minimum=0), as_int(left, "left", minimum=0)
    if top + h > H or left + w > W:
        raise ValueError(f"a {h} x {w} window at (top={top}, left={left}) does not fit in an "
                         f"image of {H} x {W}")
    return x[:, top:top + h, left:left + w].copy()


def random_crop(x, size, rng: np.random.Generator) -> np.ndarray:
    """A window of ``size`` = (h, w) at a uniformly random position.  x: (C, H, W) -> (C, h, w)."""
    x = _check_image(x)
    check_rng(rng)
    if isinstance(size, np.ndarray) and size.ndim == 1:
        size = tuple(size.tolist())
    if not isinstance(size, (tuple, list)) or len(size) != 2:
        raise ValueError(f"size must be a pair (h, w); got {size!r}")
    h, w = as_int(size[0], "size[0] (h)", minimum=1), as_int(size[1], "size[1] (w)", minimum=1)
    _, H, W = x.shape
    if h > H or w > W:
        raise ValueError(f"cannot crop {h} x {w} out of an image of {H} x {W}")
    top, left = int(rng.integers(0, H - h + 1)), int(rng.integers(0, W - w + 1))
    return crop(x, top, left, h, w)


def rotate90(x, k: int = 1) -> np.ndarray:
    """Rotate by k quarter turns counter-clockwise (as displayed).

    x: (C, H, W) -> (C, W, H) for odd k.

    Reference: ``torch.rot90(x, k, dims=(1, 2))``.
    """
    x = _check_image(x)
    k = as_int(k, "k (an integer number of quarter turns)")
    return np.rot90(x, k, axes=(1, 2)).copy()


def rotate(x, angle: float, fill: float = 0.0) -> np.ndarray:
    """Rotate by ``angle`` degrees counter-clockwise about the image centre, same output size.

    Each output pixel (r, c) takes the value of the input pixel nearest to where the inverse
    rotation sends it: with u = c - (W - 1)/2, v = r - (H - 1)/2 (v points down),
    source column = (W - 1)/2 + u cos t - v sin t, source row = (H - 1)/2 + u sin t + v cos t,
    rounded half up. Pixels whose source lies outside the image get ``fill``.
    For square images, 90 degrees reproduces :func:`rotate90` exactly.
    """
    x = _check_image(x)
    t = np.deg2rad(as_float(angle, "angle"))
    fill = as_float(fill, "fill")
    C, H, W = x.shape
    cy, cx = (H - 1) / 2, (W - 1) / 2
    v, u = np.mgrid[0:H, 0:W]
    u, v = u - cx, v - cy
    src_c = np.floor(cx + u * np.cos(t) - v * np.sin(t) + 0.5).astype(np.int64)   # (H, W)
    src_r = np.floor(cy + u * np.sin(t) + v * np.cos(t) + 0.5).astype(np.int64)
    inside = (src_r >= 0) & (src_r < H) & (src_c >= 0) & (src_c < W)
    out = np.full_like(x, fill)
    out[:, inside] = x[:, src_r[inside], src_c[inside]]
    return out


def colour_shift(x, rng: np.random.Generator, max_shift: float = 0.1,
                 clip: bool = True) -> np.ndarray:
    """Add one uniform offset in [-max_shift, max_shift] to each channel (a tint).

    With ``clip`` the result is clipped to [0, 1] (images stored as intensities).
    x: (C, H, W)  ->  (C, H, W).
    """
    x = _check_image(x)
    check_rng(rng)
    max_shift = as_float(max_shift, "max_shift", nonnegative=True)
    if not isinstance(clip, (bool, np.bool_)):
        raise TypeError(f"clip must be True or False; got {clip!r}")
    shift = rng.uniform(-max_shift, max_shift, size=(x.shape[0], 1, 1)).astype(x.dtype)
    with np.errstate(over="ignore"):          # pixels near the float limit may round to inf
        out = x + shift
    return np.clip(out, 0.0, 1.0) if clip else out


def random_augment(x, rng: np.random.Generator, crop_size=None, max_angle: float = 10.0,
                   max_shift: float = 0.1) -> np.ndarray:
    """One random training view: mirror (p = 1/2), small rotation, crop, colour shift.

    The rotation angle is uniform in [-max_angle, max_angle] degrees; ``crop_size`` = (h, w)
    (None keeps the full image). x: (C, H, W)  ->  (C, h, w).
    """
    x = _check_image(x)
    check_rng(rng)
    max_angle = as_float(max_angle, "max_angle", nonnegative=True)
    if not np.all(np.isfinite(x)):
        raise ValueError("x must be finite for random_augment (its rotation fills the corners "
                         "with the mean pixel); found NaN or inf")
    out = random_mirror(x, rng)
    with np.errstate(over="ignore"):
        fill = float(np.mean(out, dtype=np.float64))
    if not np.isfinite(fill):
        raise ValueError("x is too large for random_augment: its mean pixel overflows")
    out = rotate(out, rng.uniform(-max_angle, max_angle), fill=fill)
    if crop_size is not None:
        out = random_crop(out, crop_size, rng)
    return colour_shift(out, rng, max_shift)

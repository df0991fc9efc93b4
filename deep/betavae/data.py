"""Digit images and the synthetic data sets of Section V (Fig. 2) and Appendix C (Fig. 3).

Images. By default the 8x8 handwritten digits that scikit-learn ships (``load_digits``, offline,
N = 64), pixel values divided by 16 so that entries lie in [0, 1] as MNIST's do after dividing by
255. ``--mnist DIR`` reads the standard MNIST IDX files instead (N = 784, pixel values / 255). One
image per class is used: the image of that class closest (Euclidean) to the class mean, lowest index
on ties, so the choice is deterministic and typical rather than the first one in the file.

Fig. 2 data (eq. 17): x = A s + eta with the digit images of classes 0..k-1 as the columns of A,
s ~ N(0, I_k), eta ~ N(0, I_N). The network's input is x itself.

Fig. 3 data: the coordinates x = A s + eta with N = k = 2, A = 2 I + 0.73 (:func:`numerics.model.fig3_mixing`),
place one digit on a blank canvas; the network's input is the canvas. See :func:`place_on_canvas` for the
geometry.

>>> digits = sklearn_digits()
>>> A = mixing_matrix(digits, 10)
>>> A.shape, float(A.min()) >= 0.0, float(A.max()) <= 1.0
((64, 10), True, True)
>>> data = fig2_dataset(A, 5, numpy_stream(0, "data", 0))
>>> data.inputs.shape, data.observed.shape, data.sources.shape
((5, 64), (5, 64), (5, 10))
"""
from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from numerics.input_error import InputError
from numerics.model import fig3_mixing

from ..streams import numpy_stream

__all__ = ["DataError", "DigitSet", "Dataset", "sklearn_digits", "load_mnist", "read_idx", "representatives",
           "mixing_matrix", "fig2_dataset", "CanvasGeometry", "canvas_geometry",
           "place_on_canvas", "recover_coordinates", "fig3_dataset", "ground_truth_posterior", "numpy_stream"]


class DataError(InputError):
    """Invalid image input: ``field`` names what was wrong (``mnist``: the IDX files; ``latents``: the class count)."""


@dataclass(frozen=True)
class DigitSet:
    """Digit images (n, h, w) with entries in [0, 1], their labels, and where they came from."""

    images: np.ndarray
    labels: np.ndarray | None
    source: str
    scaling: str

    @property
    def side(self) -> int:
        return int(self.images.shape[1])


def sklearn_digits() -> DigitSet:
    """scikit-learn's bundled 8x8 digits (1797 images, values 0..16), divided by 16."""
    from sklearn.datasets import load_digits
    bunch = load_digits()
    return DigitSet(images=bunch.images.astype(float) / 16.0, labels=bunch.target.astype(int),
                    source="sklearn.datasets.load_digits (8x8, 1797 images)", scaling="pixel / 16")


# ---------------------------------------------------------------------------------------------- MNIST
_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (optionally gzip-compressed): 2 zero bytes, type code, rank, big-endian dims, data."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except (OSError, EOFError, gzip.BadGzipFile) as err:
        raise DataError("mnist", f"cannot read '{path}': {' '.join(str(err).split())}") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES or raw[3] == 0:
        raise DataError("mnist", f"'{path}' is not an IDX file (bad magic number)")
    rank = raw[3]
    header = 4 + 4 * rank
    if len(raw) < header:
        raise DataError("mnist", f"'{path}' is truncated (header of {header} bytes expected)")
    dims = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(rank))
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    expected = int(np.prod(dims)) * dtype.itemsize
    if len(raw) - header != expected:
        raise DataError("mnist", f"'{path}' holds {len(raw) - header} data bytes, its header {dims} says {expected}")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims)


def _find(directory: Path, stem: str) -> Path | None:
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
        if (directory / name).is_file():
            return directory / name
    return None


def load_mnist(directory: str | Path) -> DigitSet:
    """MNIST training images (``train-images-idx3-ubyte[.gz]``) / 255, and labels when the labels file is there.

    Without ``train-labels-idx1-ubyte[.gz]`` the classes are unknown and the first images are used
    (:func:`representatives` says so).
    """
    directory = Path(directory)
    if not directory.exists():
        raise DataError("mnist", f"directory '{directory}' does not exist")
    if not directory.is_dir():
        raise DataError("mnist", f"'{directory}' is not a directory")
    images_path = _find(directory, "train-images-idx3-ubyte")
    if images_path is None:
        raise DataError("mnist", f"no train-images-idx3-ubyte[.gz] in '{directory}'")
    images = read_idx(images_path)
    if images.ndim != 3 or images.shape[0] == 0 or images.shape[1] != images.shape[2] or images.dtype != np.uint8:
        raise DataError("mnist", f"'{images_path}' must hold n x h x h unsigned bytes, got {images.dtype} "
                        f"of shape {images.shape}")
    labels = None
    labels_path = _find(directory, "train-labels-idx1-ubyte")
    if labels_path is not None:
        labels = read_idx(labels_path)
        if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
            raise DataError("mnist", f"'{labels_path}' must hold {images.shape[0]} labels, got shape {labels.shape}")
        labels = labels.astype(int)
    return DigitSet(images=images.astype(float) / 255.0, labels=labels,
                    source=f"MNIST IDX files in {directory} ({images.shape[0]} images, {images.shape[1]}x{images.shape[2]})",
                    scaling="pixel / 255")


# ------------------------------------------------------------------------------------ images -> A
def representatives(digits: DigitSet, classes) -> np.ndarray:
    """Index of one image per class: closest to the class mean (lowest index on ties).

    Without labels, image i stands for class i (the first images of the file).
    """
    classes = [int(c) for c in classes]
    if digits.labels is None:
        if max(classes) >= len(digits.images):
            raise DataError("mnist", f"{len(digits.images)} images, {max(classes) + 1} needed")
        return np.asarray(classes)
    flat = digits.images.reshape(len(digits.images), -1)
    out = []
    for c in classes:
        members = np.flatnonzero(digits.labels == c)
        if members.size == 0:
            raise DataError("mnist", f"no image of class {c}")
        distance = np.sum((flat[members] - flat[members].mean(axis=0)) ** 2, axis=1)
        out.append(int(members[np.argmin(distance)]))
    return np.asarray(out)


def mixing_matrix(digits: DigitSet, k: int) -> np.ndarray:
    """A (N x k): the representative images of classes 0..k-1, flattened row-major, as columns (k <= 10)."""
    if not 1 <= k <= 10:
        raise DataError("latents", f"must be between 1 and 10 (one digit class per source), got {k}")
    index = representatives(digits, range(k))
    return digits.images[index].reshape(k, -1).T.copy()


@dataclass(frozen=True)
class Dataset:
    """One synthetic data set: the network's inputs, the observation x of eq. (17), the sources s, and A."""

    inputs: np.ndarray      # (n, D): what the network sees (x itself, or the canvas image of Fig. 3)
    observed: np.ndarray    # (n, N): x = A s + eta, what the ground-truth posterior conditions on
    sources: np.ndarray     # (n, k)
    A: np.ndarray           # (N, k)


def fig2_dataset(A: np.ndarray, n: int, rng: np.random.Generator) -> Dataset:
    """n draws of x = A s + eta (eq. 17), s ~ N(0, I_k), eta ~ N(0, I_N)."""
    N, k = A.shape
    s = rng.standard_normal((n, k))
    x = s @ A.T + rng.standard_normal((n, N))
    return Dataset(inputs=x, observed=x, sources=s, A=A)


# ------------------------------------------------------------------------------------------ Fig. 3
@dataclass(frozen=True)
class CanvasGeometry:
    """Canvas side (pixels), digit side, and how far the digit moves per unit of the coordinates x."""

    canvas: int
    digit: int
    pixels_per_unit: float

    @property
    def origin(self) -> float:
        """Top-left corner of a digit at x = 0 (centred)."""
        return (self.canvas - self.digit) / 2.0


def canvas_geometry(digit_side: int, canvas_factor: float = 2.0, units_per_digit: float = 16.0) -> CanvasGeometry:
    """Canvas of ``canvas_factor`` digit widths; the digit moves 1/``units_per_digit`` of its width per unit.

    With the defaults and 8x8 digits: a 16x16 canvas, 0.5 pixel per unit, so the digit stays entirely
    on the canvas for |x_i| <= 8 (2.7 standard deviations of a coordinate of Fig. 3's x, whose
    variance is 2.73^2 + 0.73^2 + 1 = 8.99; about 1.5% of examples lose an edge).
    """
    return CanvasGeometry(canvas=int(round(canvas_factor * digit_side)), digit=int(digit_side),
                          pixels_per_unit=digit_side / units_per_digit)


def place_on_canvas(digit: np.ndarray, coords: np.ndarray, geometry: CanvasGeometry) -> np.ndarray:
    """Blank canvases with ``digit`` placed at ``coords`` (n, 2): sub-pixel, by bilinear splatting.

    x[0] moves the digit right, x[1] moves it down: the digit's top-left corner sits at
    (row, column) = origin + pixels_per_unit * (x[1], x[0]). Each digit pixel spreads its value over
    the four canvas pixels around its (fractional) position with bilinear weights; this conserves the
    total intensity and shifts the intensity centroid by exactly pixels_per_unit * x, so the position
    is recoverable from the image (:func:`recover_coordinates`) while the digit is on the canvas.
    Parts that fall off the canvas are cut.
    """
    coords = np.atleast_2d(np.asarray(coords, dtype=float))
    n, side, size = len(coords), digit.shape[0], geometry.canvas
    corner = geometry.origin + geometry.pixels_per_unit * coords[:, ::-1]       # (row, column)
    base = np.floor(corner).astype(int)
    frac = corner - base
    rows = base[:, 0, None] + np.arange(side)[None, :]                        # (n, side)
    cols = base[:, 1, None] + np.arange(side)[None, :]
    canvas = np.zeros((n, size, size))
    flat = canvas.reshape(n, -1)
    for dr in (0, 1):
        wr = frac[:, 0] if dr else 1.0 - frac[:, 0]
        for dc in (0, 1):
            wc = frac[:, 1] if dc else 1.0 - frac[:, 1]
            r = rows + dr
            c = cols + dc
            inside = ((r >= 0) & (r < size))[:, :, None] & ((c >= 0) & (c < size))[:, None, :]
            target = np.clip(r, 0, size - 1)[:, :, None] * size + np.clip(c, 0, size - 1)[:, None, :]
            values = (wr * wc)[:, None, None] * digit[None, :, :] * inside
            np.add.at(flat, (np.repeat(np.arange(n), side * side), target.reshape(-1)), values.reshape(-1))
    return canvas


def recover_coordinates(canvases: np.ndarray, digit: np.ndarray, geometry: CanvasGeometry) -> np.ndarray:
    """Invert :func:`place_on_canvas` through the intensity centroid (exact while the digit is on the canvas)."""
    canvases = np.asarray(canvases, dtype=float).reshape(-1, geometry.canvas, geometry.canvas)
    grid = np.arange(geometry.canvas)
    mass = canvases.sum(axis=(1, 2))
    centroid = np.stack([(canvases.sum(axis=2) * grid).sum(axis=1), (canvases.sum(axis=1) * grid).sum(axis=1)], 1)
    centroid /= mass[:, None]
    ref = np.arange(digit.shape[0])
    digit_centroid = np.array([(digit.sum(axis=1) * ref).sum(), (digit.sum(axis=0) * ref).sum()]) / digit.sum()
    rowcol = (centroid - geometry.origin - digit_centroid) / geometry.pixels_per_unit
    return rowcol[:, ::-1]


def fig3_dataset(digit: np.ndarray, n: int, rng: np.random.Generator, geometry: CanvasGeometry,
                 A: np.ndarray | None = None) -> Dataset:
    """n canvases with the digit at x = A s + eta (N = k = 2); the inputs are the flattened canvases."""
    A = fig3_mixing() if A is None else A
    s = rng.standard_normal((n, 2))
    x = s @ A.T + rng.standard_normal((n, 2))
    canvases = place_on_canvas(digit, x, geometry)
    return Dataset(inputs=canvases.reshape(n, -1), observed=x, sources=s, A=A)


# ------------------------------------------------------------------------------ eq. (19)
@dataclass(frozen=True)
class Posterior:
    """Ground-truth posterior p(s|x) = N(F x, E) (eq. 19) and E^{-1} = A^T A + I."""

    E: np.ndarray
    F: np.ndarray
    E_inv: np.ndarray


def ground_truth_posterior(A: np.ndarray) -> Posterior:
    """E = (A^T A + I_k)^{-1}, F = E A^T (eq. 19)."""
    A = np.asarray(A, dtype=float)
    E_inv = A.T @ A + np.eye(A.shape[1])
    E = np.linalg.inv(E_inv)
    return Posterior(E=E, F=E @ A.T, E_inv=E_inv)

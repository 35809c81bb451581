"""Safe loading of dataset files: every failure names the file and what was expected.

A user pointing a reader at the wrong folder is the most common failure, so missing roots and
files list the layout the reader expected, and malformed files say which key or shape is wrong.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
from PIL import Image, ImageFile, ImageOps

from handclip.errors import UserError


class DatasetError(UserError):
    """Base of the errors raised while reading a dataset from disk."""


class MissingDataError(DatasetError, FileNotFoundError):
    """A root folder or a file the dataset layout requires is not there."""


class MalformedDataError(DatasetError, ValueError):
    """A file exists but cannot be decoded or holds labels of the wrong kind or shape."""


def require_dir(path, dataset: str, layout: str) -> Path:
    """Return `path` as a Path if it is a folder, else raise naming it and the expected layout."""
    path = Path(path).expanduser()
    if not path.is_dir():
        raise MissingDataError(
            f"{dataset} root {str(path)!r} is not a folder; expected a folder holding:\n{layout}"
        )
    return path


def require_file(path, dataset: str, layout: str = "") -> Path:
    """Return `path` if it is a file, else raise naming it (and the expected layout if given)."""
    path = Path(path)
    if not path.is_file():
        hint = f"; expected layout:\n{layout}" if layout else ""
        raise MissingDataError(f"{dataset}: missing file {str(path)!r}{hint}")
    return path


def load_json(path):
    """Parse a JSON file; a missing or broken file raises an error naming it."""
    path = require_file(path, "json")
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise MalformedDataError(f"{path}: not valid JSON ({e})") from e


def load_json_array(path, shape: tuple, what: str, chunk_chars: int = 1 << 24) -> np.ndarray:
    """A JSON file holding only a nested list of numbers, as a float64 array of `shape` (None = any).

    Streams the text in chunks instead of building Python lists, for FreiHAND's training_verts.json
    (32,560 x 778 x 3 numbers, 1.6 GB): json.load peaks near 4x the file size in Python objects,
    this at the result array plus one 16M-character chunk, and takes ~1.7x less CPU time
    (benchmarks/bench_readers.py).
    """
    path = require_file(path, "json")
    to_spaces = str.maketrans("[]", "  ")
    parts, rest, balance = [], "", 0
    try:
        with open(path, encoding="utf-8") as f:
            while True:
                chunk = f.read(chunk_chars)
                text = rest + chunk
                cut = text.rfind(",") if chunk else len(text)
                if cut < 0:  # no separator yet: keep reading
                    rest = text
                    continue
                text, rest = text[:cut], text[cut + 1 :]
                balance += text.count("[") - text.count("]")
                text = text.translate(to_spaces)
                if text.strip():
                    parts.append(np.fromstring(text, sep=","))  # noqa: NPY201 (text mode is not deprecated)
                if not chunk:
                    break
    except (ValueError, UnicodeDecodeError) as e:
        raise MalformedDataError(f"{path}: {what} is not a JSON list of numbers ({e})") from e
    flat = np.concatenate(parts) if parts else np.zeros(0)
    known = int(np.prod([s for s in shape if s is not None]))
    want = "(" + ", ".join("N" if s is None else str(s) for s in shape) + ")"
    with open(path, encoding="utf-8") as f:
        head = f.read(1 << 16)
    first_close = head.find("]")
    depth = head[:first_close].count("[")  # nesting of the first innermost row
    innermost = head[head.rfind("[", 0, first_close) + 1 : first_close].split(",")
    if balance:
        raise MalformedDataError(f"{path}: {what} has unbalanced brackets: truncated or not a nested list")
    fits = flat.size == known if None not in shape else known > 0 and flat.size % known == 0
    if not fits or depth != len(shape) or len(innermost) != shape[-1]:
        raise MalformedDataError(
            f"{path}: {what} has {flat.size} numbers nested {depth} deep ({len(innermost)} in the first row), expected shape {want}"
        )
    return flat.reshape([flat.size // known if s is None else s for s in shape])


def load_pickle(path):
    """Unpickle a file written by Python 2 or 3 (latin1 keeps Python 2 numpy arrays readable)."""
    path = require_file(path, "pickle")
    try:
        with open(path, "rb") as f:
            return pickle.load(f, encoding="latin1")
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, ImportError) as e:
        raise MalformedDataError(f"{path}: not a readable pickle ({type(e).__name__}: {e})") from e


def load_mat(path, keys: tuple[str, ...]) -> dict:
    """Read a MATLAB .mat file and return the arrays under `keys`, each required to be present."""
    from scipy.io import loadmat

    path = require_file(path, "mat")
    try:
        mat = loadmat(str(path))
    except Exception as e:  # scipy raises ValueError, TypeError or its own MatReadError
        raise MalformedDataError(f"{path}: not a readable .mat file ({type(e).__name__}: {e})") from e
    missing = [k for k in keys if k not in mat]
    if missing:
        found = sorted(k for k in mat if not k.startswith("__"))
        raise MalformedDataError(f"{path}: missing variable(s) {missing}; found {found}")
    return {k: mat[k] for k in keys}


def rgb8(img: Image.Image) -> np.ndarray:
    """uint8 RGB (H, W, 3) of a PIL image of any mode. 16-bit greyscale (I;16*, and I holding values above
    255) is scaled by 1/257 so that 65535 maps to 255; float greyscale (F) in [0, 1] by 255, else clipped to
    0..255; every other mode (1, L, P, LA, PA, CMYK, YCbCr, LAB, HSV, RGBA ...) goes through PIL's conversion,
    alpha dropped. PIL's own conversion of I;16, I and F clips at 255: a 16-bit photo would load almost white."""
    if img.mode.startswith("I;16") or img.mode in ("I", "F"):
        grey = np.nan_to_num(np.asarray(img, dtype=np.float64))
        peak = grey.max(initial=0.0)
        if img.mode == "F":
            grey = grey * 255.0 if peak <= 1.0 else grey
        elif img.mode != "I" or peak > 255:
            grey = grey / 257.0
        grey = np.clip(np.rint(grey), 0, 255).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=-1)
    return np.asarray(img.convert("RGB"), dtype=np.uint8).copy()


def load_image(path, dataset: str = "image", upright: bool = False) -> np.ndarray:
    """Decode an image file fully into uint8 RGB (H, W, 3) (see rgb8); truncated, corrupt or
    decompression-bomb files raise MalformedDataError naming the file. upright: apply the EXIF orientation
    (phone photos are stored sideways with a tag), as viewers show them; datasets keep their stored pixels,
    which their labels refer to."""
    path = require_file(path, dataset)
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        raise RuntimeError("PIL.ImageFile.LOAD_TRUNCATED_IMAGES is set: truncated images would load silently")
    try:
        with Image.open(path) as img:
            img.load()
            return rgb8(ImageOps.exif_transpose(img) if upright else img)
    except Image.DecompressionBombError as e:
        raise MalformedDataError(f"{path}: too large to decode safely ({e}); downscale the image first") from e
    except (OSError, SyntaxError, ValueError) as e:
        raise MalformedDataError(f"{path}: cannot decode image, truncated or corrupt ({e})") from e


def load_label_image(path, dataset: str = "mask") -> np.ndarray:
    """Decode a single-channel label image (masks) into a uint8 (H, W) array."""
    path = require_file(path, dataset)
    try:
        with Image.open(path) as img:
            img.load()
            arr = np.asarray(img)
    except (OSError, SyntaxError, ValueError) as e:
        raise MalformedDataError(f"{path}: cannot decode mask image, truncated or corrupt ({e})") from e
    return arr if arr.ndim == 2 else arr[..., 0]


def check_shape(array, shape: tuple, path, what: str) -> np.ndarray:
    """Return `array` as float64 numpy if its shape matches `shape` (None = any size), else raise."""
    try:
        arr = np.asarray(array, dtype=np.float64)
    except (ValueError, TypeError) as e:
        raise MalformedDataError(f"{path}: {what} is not a numeric array ({e})") from e
    ok = arr.ndim == len(shape) and all(s is None or s == n for s, n in zip(shape, arr.shape))
    if not ok:
        want = "(" + ", ".join("N" if s is None else str(s) for s in shape) + ")"
        raise MalformedDataError(f"{path}: {what} has shape {tuple(arr.shape)}, expected {want}")
    return arr


def require_keys(record: dict, keys: tuple[str, ...], path, what: str) -> None:
    """Raise naming the file and the entry if a dict record lacks any of `keys`."""
    if not isinstance(record, dict):
        raise MalformedDataError(f"{path}: {what} is a {type(record).__name__}, expected a dict")
    missing = [k for k in keys if k not in record]
    if missing:
        raise MalformedDataError(f"{path}: {what} lacks key(s) {missing}; has {sorted(record)}")

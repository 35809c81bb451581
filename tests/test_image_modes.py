"""Image files of every PIL mode load as the RGB values they mean: 16-bit greyscale scaled by 1/257 (PIL's own
conversion clips it to almost white), palette, alpha, CMYK; a decompression bomb is refused by name."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from handclip.data.io import MalformedDataError, load_image

PHOTO = Path(__file__).parent / "fixtures" / "freihand" / "training" / "rgb" / "00000000.jpg"


def _saved(tmp_path, image: Image.Image, name: str) -> Path:
    path = tmp_path / name
    image.save(path)
    return path


def test_16_bit_greyscale_photo_loads_as_its_8_bit_self(tmp_path):
    grey = np.asarray(Image.open(PHOTO).convert("L"))
    path = _saved(tmp_path, Image.fromarray(grey.astype(np.uint16) * 257), "photo16.png")  # v * 257: 0..65535
    with Image.open(path) as img:
        assert img.mode == "I;16" and np.asarray(img.convert("RGB")).mean() > 200  # what PIL alone would give
    np.testing.assert_array_equal(load_image(path), np.repeat(grey[..., None], 3, -1))


@pytest.mark.parametrize("mode, values, expected", [
    ("I;16", [0, 257, 30000, 65535], [0, 1, 117, 255]),  # 30000 / 257 = 116.7
    ("I;16B", [514, 65535, 0, 1000], [2, 255, 0, 4]),
    ("I", [0, 1000, 65535, 257], [0, 4, 255, 1]),  # 32-bit integers above 255: a 16-bit range
    ("I", [0, 10, 200, 255], [0, 10, 200, 255]),  # 32-bit integers within 0..255 stay
    ("F", [0.0, 0.5, 1.0, 0.25], [0, 128, 255, 64]),  # floats in [0, 1]
])
def test_integer_and_float_greyscale(tmp_path, mode, values, expected):
    array = np.array(values, {"I;16": np.uint16, "I;16B": ">u2", "I": np.int32, "F": np.float32}[mode]).reshape(2, 2)
    image = Image.frombytes(mode, (2, 2), array.tobytes())
    rgb = load_image(_saved(tmp_path, image, "grey.tif"))
    np.testing.assert_array_equal(rgb, np.repeat(np.array(expected, np.uint8).reshape(2, 2, 1), 3, -1))


def test_palette_alpha_cmyk_and_bilevel(tmp_path):
    palette = Image.new("P", (2, 1))
    palette.putpalette([10, 20, 30, 200, 100, 50] + [0] * 762)
    palette.putdata([0, 1])
    assert load_image(_saved(tmp_path, palette, "p.png")).tolist() == [[[10, 20, 30], [200, 100, 50]]]
    la = Image.frombytes("LA", (1, 1), bytes([77, 0]))  # fully transparent: the grey value is kept, alpha dropped
    assert load_image(_saved(tmp_path, la, "la.png")).tolist() == [[[77, 77, 77]]]
    rgba = Image.frombytes("RGBA", (1, 1), bytes([1, 2, 3, 4]))
    assert load_image(_saved(tmp_path, rgba, "rgba.png")).tolist() == [[[1, 2, 3]]]
    cmyk = Image.frombytes("CMYK", (2, 1), bytes([0, 0, 0, 0, 0, 255, 255, 0]))  # white, red
    assert load_image(_saved(tmp_path, cmyk, "cmyk.tif")).tolist() == [[[255, 255, 255], [255, 0, 0]]]
    bilevel = Image.frombytes("1", (8, 1), bytes([0b10100000]))
    assert load_image(_saved(tmp_path, bilevel, "bits.png"))[0, :3, 0].tolist() == [255, 0, 255]


def test_decompression_bomb_is_named(tmp_path):
    big = Image.new("L", (1, 1))
    path = _saved(tmp_path, big, "big.png")
    data = bytearray(path.read_bytes())
    data[16:24] = struct.pack(">II", 14000, 14000)  # IHDR width and height
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    path.write_bytes(bytes(data))
    with pytest.raises(MalformedDataError, match=r"big\.png: too large to decode safely.*downscale"):
        load_image(path)


def test_exif_orientation_turns_a_phone_photo_upright_for_predict_but_not_for_datasets(tmp_path):
    from handclip.api import read_image

    upright = np.asarray(Image.open(PHOTO).convert("RGB"))[:, :160]  # 224 x 160: portrait, tell-tale shape
    stored = Image.fromarray(np.ascontiguousarray(np.rot90(upright, 1)))  # stored sideways, as a phone does
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to view
    path = tmp_path / "phone.png"
    stored.save(path, exif=exif)
    assert load_image(path).shape == (160, 224, 3)  # a dataset's labels refer to the stored pixels
    shown = read_image(path)
    assert shown.shape == upright.shape
    np.testing.assert_array_equal(shown, upright)

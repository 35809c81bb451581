"""Face negatives for the hand detector: a person drawn clear of the hands, never over them (issue 13)."""

from __future__ import annotations

import numpy as np
import pytest

from handclip.data.face_negatives import MARGIN, STYLES, add_face
from handclip.data.shaded_person import draw_shaded_person
from handclip.data.synth.raster import to_linear
from handclip.data.frames_cache import FrameAugment


@pytest.mark.parametrize("style", STYLES)
def test_a_face_is_drawn_and_the_hands_grown_boxes_keep_their_pixels(style):
    image = np.random.default_rng(0).integers(0, 255, (240, 320, 3), dtype=np.uint8)
    boxes = np.array([[20.0, 30.0, 60.0, 50.0], [250.0, 150.0, 40.0, 60.0]])
    drawn = 0
    for seed in range(20):
        before = image.copy()
        out = add_face(image, boxes, np.random.default_rng(seed), style)
        assert (image == before).all(), "the input frame was changed"
        changed = (out != image).any(-1)
        drawn += changed.any()
        for x, y, w, h in boxes:  # MARGIN of each side around every box untouched
            x0, y0 = int(np.floor(x - MARGIN * w)), int(np.floor(y - MARGIN * h))
            x1, y1 = int(np.ceil(x + w + MARGIN * w)), int(np.ceil(y + h + MARGIN * h))
            assert not changed[max(y0, 0):y1 + 1, max(x0, 0):x1 + 1].any(), seed
    assert drawn >= 10, f"a face was drawn into only {drawn} of 20 frames with room for one"


def test_a_frame_full_of_hand_gets_no_face():
    image = np.full((240, 320, 3), 90, np.uint8)
    out = add_face(image, np.array([[0.0, 0.0, 319.0, 239.0]]), np.random.default_rng(0))
    assert out is image


def test_the_faces_probability_is_checked():
    assert FrameAugment.from_config({"faces": 0.5}).faces == 0.5 and FrameAugment.from_config(True).faces == 0.0
    with pytest.raises(ValueError, match="augment.faces"):
        FrameAugment.from_config({"faces": 1.5})


def test_the_face_style_is_checked():
    assert FrameAugment.from_config({"faces": 0.5, "face_style": "shaded"}).face_style == "shaded"
    assert FrameAugment.from_config(True).face_style == "flat"
    with pytest.raises(ValueError, match="augment.face_style"):
        FrameAugment.from_config({"face_style": "photo"})
    with pytest.raises(ValueError, match="style must be one of"):
        add_face(np.zeros((64, 64, 3), np.uint8), np.zeros((0, 4)), np.random.default_rng(0), "photo")


def test_a_shaded_head_is_lit_skin_with_darker_features():
    """The head's skin takes the given albedo's hue; it is brighter on the side the light comes from than in the
    shade, and the eye line is darker than the cheeks below it."""
    skin = np.array([0.5, 0.3, 0.2])  # linear RGB: red over green over blue
    lit_sides = []
    for seed in range(6):
        image = np.full((200, 200, 3), 128.0, np.float32)
        rng = np.random.default_rng(seed)
        draw_shaded_person(image, rng, skin, np.array([40.0, 40.0, 200.0]))
        assert image.min() >= 0 and image.max() <= 255
        rng = np.random.default_rng(seed)  # the head's geometry: the first draws of draw_shaded_person
        b = 200 * rng.uniform(0.14, 0.2)
        a, cx, cy = b * rng.uniform(0.72, 0.82), 200 * rng.uniform(0.4, 0.6), b * rng.uniform(1.1, 1.3)
        yaw = rng.uniform(-0.35, 0.35)
        light_x = rng.uniform(-0.8, 0.8)
        cheek = image[int(cy + 0.2 * b), int(cx + yaw * a - 0.5 * a):int(cx + yaw * a + 0.5 * a)].mean(0)
        assert cheek[0] > cheek[1] > cheek[2], (seed, cheek)
        eyes = to_linear(image[int(cy - 0.08 * b), int(cx + yaw * a - 0.5 * a):int(cx + yaw * a + 0.5 * a)]).mean()
        assert eyes < to_linear(cheek).mean(), seed
        left, right = (to_linear(image[int(cy + 0.3 * b), int(cx + s * 0.5 * a)]).mean() for s in (-1, 1))
        if abs(light_x) > 0.3:
            lit_sides.append((right > left) == (light_x > 0))
    assert lit_sides and all(lit_sides)

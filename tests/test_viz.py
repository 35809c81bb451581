"""Skeleton overlays: bones take their finger's colour, invalid joints are skipped, inputs stay untouched."""

import numpy as np
import pytest

from handclip.viz import draw_skeleton
from handclip.viz.colours import FINGER_RGB


def fan_hand() -> np.ndarray:
    """Wrist at (50, 90); each finger a vertical line of 4 joints at u = 10, 30, 50, 70, 90."""
    uv = np.zeros((21, 2))
    uv[0] = (50, 90)
    for finger in range(5):
        for k in range(4):
            uv[1 + 4 * finger + k] = (10 + 20 * finger, 60 - 15 * k)
    return uv


def test_bones_take_their_finger_colour_and_input_is_untouched():
    image = np.zeros((100, 100, 3), np.uint8)
    out = draw_skeleton(image, fan_hand(), thickness=3)
    assert image.max() == 0
    for finger in range(5):  # midway between the finger's 2nd and 3rd joints
        u, v = 10 + 20 * finger, round(60 - 22.5)
        assert tuple(out[v, u]) == FINGER_RGB[finger]


def test_invalid_joints_and_their_bones_are_not_drawn():
    valid = np.ones(21, bool)
    valid[13:17] = False  # the ring finger
    out = draw_skeleton(np.zeros((100, 100, 3), np.uint8), fan_hand(), valid=valid, thickness=1)
    assert out[10:65, 68:73].max() == 0 and out[10:65, 48:53].max() > 0


def test_bad_shape_is_rejected():
    with pytest.raises(ValueError, match=r"\(21, 2\)"):
        draw_skeleton(np.zeros((10, 10, 3), np.uint8), np.zeros((20, 2)))


def test_one_picture_holds_every_hand_and_a_detections_box_and_label():
    from handclip.viz.mesh_overlay import draw_hands

    image = np.zeros((200, 200, 3), np.uint8)
    given = {"uv": fan_hand(), "box": [0, 0, 100, 100], "side": "right"}  # a given box: skeleton only
    found = {"uv": fan_hand() + [100, 100], "box": [95, 95, 100, 100], "side": "left", "score": 0.73}
    out = draw_hands(image, [(given, None), (found, None)])
    assert image.max() == 0
    for shift in (0, 100):  # both skeletons: the thumb's bone between its 2nd and 3rd joints in the thumb's colour
        pixel = out[shift + round(60 - 22.5), shift + 9:shift + 12].max(0)
        assert np.abs(pixel.astype(int) - FINGER_RGB[0]).max() < 60, pixel
    assert (out[150, 193:198].max(0) >= 200).all() and out[45:55, 97:102].max() < 120  # the detection's right edge; no box for the given one
    assert out[75:95, 97:150].max() >= 200 and out[75:95, 97:150].min() < 60  # its label, white on dark, above the box

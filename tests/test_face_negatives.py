"""Face negatives for the hand detector: a person drawn clear of the hands, never over them (issue 13)."""

from __future__ import annotations

import numpy as np
import pytest

from handclip.data.face_negatives import MARGIN, add_face
from handclip.data.frames_cache import FrameAugment


def test_a_face_is_drawn_and_the_hands_grown_boxes_keep_their_pixels():
    image = np.random.default_rng(0).integers(0, 255, (240, 320, 3), dtype=np.uint8)
    boxes = np.array([[20.0, 30.0, 60.0, 50.0], [250.0, 150.0, 40.0, 60.0]])
    drawn = 0
    for seed in range(20):
        before = image.copy()
        out = add_face(image, boxes, np.random.default_rng(seed))
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

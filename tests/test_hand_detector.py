"""The hand detector's geometry on hand-computed cases (letterbox, CenterNet codec, IoU, NMS), its training
samples (boxes follow the pixels through letterbox and mirror), and a tiny overfit where the decoded box's IoU
with the rendered hand rises."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from handclip.data import build_dataset, collate
from handclip.data.frames_cache import place_hands
from handclip.detection.boxes import inside_matrix, iou_matrix, nms
from handclip.detection.codec import CenterCodec
from handclip.detection.detector import HandDetector, canvas_size, pose_box
from handclip.detection.letterbox import PAD_VALUE, Letterbox, letterbox
from handclip.detection.side_cues import palm_facing
from handclip.methods import build
from handclip.models.hand_side import CONTEXT, crop_squares

torch.set_num_threads(1)


def test_letterbox_puts_a_block_where_the_box_map_says():
    photo = np.zeros((480, 640, 3), np.uint8)
    photo[50:150, 100:300] = 255  # pixels 100..299 x 50..149: the box [99.5, 49.5, 200, 100] (centres at integers)
    canvas, box_map = letterbox(photo, 256)
    assert box_map == Letterbox(0.4, 0.4, 0.0, 32.0)  # 640x480 -> 256x192, 32 grey rows above and below
    assert (canvas[:32] == PAD_VALUE).all() and (canvas[224:] == PAD_VALUE).all()
    x, y, w, h = box_map.to_canvas([99.5, 49.5, 200, 100])
    assert np.allclose([x, y, w, h], [39.5, 51.5, 80, 40])  # (u + 0.5) 0.4 - 0.5 (+ 32 rows for y)
    assert (canvas[52:92, 40:120] == 255).all()  # canvas pixels 40..119 x 52..91, exactly the mapped box
    assert (canvas[50:94, 37:39] == 0).all() and (canvas[50:94, 121:123] == 0).all()
    assert np.allclose(box_map.to_photo(box_map.to_canvas([12.0, 34.0, 56.0, 78.0])), [12, 34, 56, 78])


def test_codec_encodes_a_hand_computed_box_and_decodes_it_back():
    codec = CenterCodec(size=256, stride=8)
    box = np.array([[100.0, 60.0, 40.0, 24.0]])  # centre (120, 72): grid (120.5 / 8 - 0.5, 72.5 / 8 - 0.5)
    t = codec.encode(box, np.array([True]), np.array([True]))
    assert t["index"][0] == 9 * 32 + 15 and t["reg_mask"][0]  # (14.5625, 8.5625) rounds to column 15, row 9
    assert np.allclose(t["reg"][0], [-0.4375, -0.4375, math.log(5), math.log(3)])
    assert t["heat"][9, 15] == 1.0 and t["heat"].sum() > 1.0 and (t["heat"] <= 1).all()
    assert t["side"][9, 15] == 1.0 and t["side_weight"][9, 15] == 1.0 and (t["heat_weight"] == 1).all()
    heat = torch.zeros(1, 32, 32)
    heat[0, 9, 15] = 0.9
    reg = torch.zeros(1, 4, 32, 32)
    reg[0, :, 9, 15] = torch.from_numpy(t["reg"][0])
    side = torch.full((1, 32, 32), 0.2)
    side[0, 9, 15] = 0.8
    out = codec.decode(heat, reg, side, k=3)
    assert torch.allclose(out["boxes"][0, 0], torch.tensor([100.0, 60.0, 40.0, 24.0]), atol=1e-4)
    assert out["scores"][0].tolist() == pytest.approx([0.9, 0.0, 0.0]) and out["left"][0, 0] == pytest.approx(0.8)


def test_codec_ignores_cut_hands_and_skips_padding():
    codec = CenterCodec(size=64, stride=8)
    boxes = np.array([[0.0, 0.0, 20.0, 20.0], [40.0, 40.0, 16.0, 16.0], [0, 0, 0, 0]])
    t = codec.encode(boxes, np.array([False, False, False]), np.array([True, True, False]),
                     ignore=np.array([True, False, False]))
    assert (t["heat_weight"][:3, :3] == 0).all() and t["heat_weight"][4:, :].all()  # cells 0..2 hold [0, 20] px
    assert t["heat"][:3, :3].max() < 1 and t["heat"][6, 6] == 1.0  # centre 48 px: (48 + 0.5) / 8 - 0.5 = 5.5625 -> 6
    assert t["reg_mask"].tolist() == [False, True, False]


def test_place_hands_cuts_boxes_to_the_canvas_and_ignores_mostly_outside_ones():
    boxes = np.array([[-10.5, 10.0, 40.0, 20.0], [-30.5, 10.0, 40.0, 20.0], [100.0, 100.0, 4.0, 30.0]])
    cut, ignore = place_hands(boxes, 128)
    assert np.allclose(cut[0], [-0.5, 10, 30, 20]) and ignore.tolist() == [False, True, True]  # 75 %, 25 %, 4 px wide


def test_iou_and_nms_on_hand_computed_boxes():
    a = np.array([[0.0, 0.0, 10.0, 10.0]])
    assert iou_matrix(a, [[5.0, 0.0, 10.0, 10.0]])[0, 0] == pytest.approx(50 / 150)
    assert iou_matrix(a, [[20.0, 0.0, 10.0, 10.0], [0.0, 0.0, 10.0, 10.0]]).tolist() == [[0.0, 1.0]]
    boxes = np.array([[0, 0, 10, 10], [1, 0, 10, 10], [20, 20, 10, 10], [0, 0, 0, 0]], float)
    scores = np.array([0.8, 0.9, 0.7, 0.95])  # box 0 and 1 overlap by 90 / 110; box 3 is empty
    assert nms(boxes, scores, 0.5).tolist() == [3, 1, 2]
    assert nms(boxes, scores, 0.9).tolist() == [3, 1, 0, 2] and nms(boxes, scores, 0.5, max_keep=2).tolist() == [3, 1]


def test_nms_drops_a_box_lying_mostly_inside_a_better_one():
    hand, fingers, beside = [0.0, 0.0, 100.0, 100.0], [60.0, 0.0, 50.0, 20.0], [150.0, 0.0, 40.0, 40.0]
    # fingers: 40 x 20 of its 50 x 20 inside the hand (0.8), IoU only 800 / 10200
    assert inside_matrix([fingers, hand], [hand]).ravel().tolist() == pytest.approx([0.8, 1.0])
    assert inside_matrix([beside], [hand]).item() == 0.0
    boxes, scores = np.array([hand, fingers, beside]), np.array([0.9, 0.5, 0.4])
    assert nms(boxes, scores, 0.5).tolist() == [0, 1, 2]
    assert nms(boxes, scores, 0.5, inside_threshold=0.6).tolist() == [0, 2]
    assert nms(boxes, scores, 0.5, inside_threshold=0.85).tolist() == [0, 1, 2]
    assert nms(boxes, np.array([0.5, 0.9, 0.4]), 0.5, inside_threshold=0.6).tolist() == [1, 0, 2]  # only inside a better one


def test_canvas_keeps_small_photos_at_the_training_size_and_enlarges_big_ones_up_to_1_5x():
    assert canvas_size((256, 256, 3), 256) == 256 and canvas_size((90, 120), 256) == 256
    assert canvas_size((300, 330), 256) == 352 and canvas_size((480, 640), 256) == 384  # 330 -> 11 x 32; 1.5 x 256


def test_pose_box_is_the_square_the_renders_frame():
    assert pose_box([10, 20, 30, 60]) == pytest.approx([-25, 0, 100, 100])  # centre (25, 50), 60 / 0.6


@pytest.fixture(scope="module")
def frames(tmp_path_factory):
    """Four cached 320x240 full frames (rendered once, about 2 s)."""
    root = tmp_path_factory.mktemp("frames")
    return build_dataset("synth_full_cache", domains={"texture": 1}, n=4, root=root, size=128, workers=0)


def test_samples_letterbox_the_rendered_boxes_and_mirror_swaps_sides(frames):
    rendered = build_dataset("synth_full", domain="texture", n=4, width=320)
    for i in range(4):
        hands, sample = rendered[i]["hands"], frames[i]
        k = len(hands)
        _, box_map = letterbox(rendered[i]["image"], 128)
        assert np.allclose(sample["boxes"][:k], box_map.to_canvas(np.stack([h["box"] for h in hands])), atol=1e-3)
        assert sample["left"][:k].tolist() == [h["side"] == "left" for h in hands] and not sample["hand_valid"][k:].any()
        assert sample["palm"][:k].tolist() == [palm_facing(h["xyz"], h["side"] == "left") for h in hands]
    mirrored = build_dataset("synth_full_cache", domains={"texture": 1}, n=4, root=frames.root, size=128, workers=0,
                             augment={"zoom": [1, 1], "flip": 1.0, "brightness": 0, "contrast": 0, "saturation": 0})
    plain, flipped = frames[0], mirrored[0]
    k = int(plain["hand_valid"].sum())
    assert (flipped["left"][:k] == ~plain["left"][:k]).all() and (flipped["palm"] == plain["palm"]).all()
    x = flipped["boxes"][:k, 0]
    assert np.allclose(x, 127 - plain["boxes"][:k, 0] - plain["boxes"][:k, 2], atol=0.01)  # u -> 127 - u on 128 px
    dy = flipped["boxes"][:k, 1] - plain["boxes"][:k, 1]  # the 96 rows of the frame drop anywhere in the 128
    shift = int(round(dy[0]))
    assert np.allclose(dy, shift, atol=0.01) and 0 <= shift + 16 <= 32
    assert (flipped["image"][16 + shift:112 + shift] == plain["image"][16:112, ::-1]).all()


def test_side_crops_sample_the_square_around_each_box():
    ramp = torch.arange(100.0).expand(2, 3, 100, 100).clone()  # value = column (x) on channel 0..2
    ramp[1] = ramp[1].transpose(-1, -2).clone()  # image 1: value = row (y)
    boxes = torch.tensor([[30.0, 40.0, 20.0, 10.0], [10.0, 20.0, 10.0, 30.0]])
    crops = crop_squares(ramp, boxes, torch.tensor([0, 1]), 8)
    i = torch.arange(8) + 0.5
    side0, side1 = CONTEXT * 20, CONTEXT * 30  # centres (40, 45) and (15, 35)
    assert torch.allclose(crops[0, 0, 3], 40 - side0 / 2 + i * side0 / 8, atol=1e-4)  # x along the crop's row
    assert torch.allclose(crops[1, 0, :, 5], 35 - side1 / 2 + i * side1 / 8, atol=1e-4)  # y down its column


def test_a_tiny_detector_overfits_four_frames(frames):
    torch.manual_seed(0)
    method = build("hand_detector", input_size=128, width=0.5, neck=32, side_crop=32)
    batch = collate([frames[i] for i in range(4)])
    truth = [batch["boxes"][i][batch["hand_valid"][i]].numpy() for i in range(4)]

    def best_iou() -> float:
        method.eval()
        boxes = method.predict(batch)["boxes"][:, 0].numpy()
        method.train()
        return float(np.mean([iou_matrix(boxes[i:i + 1], truth[i]).max() for i in range(4)]))

    before = best_iou()
    optimizer = torch.optim.Adam(method.parameters(), 3e-3)
    for _ in range(60):
        out = method.training_step(batch)
        optimizer.zero_grad()
        out["loss"].backward()
        optimizer.step()
    after = best_iou()
    assert {"loss_palm", "loss_turn"} <= set(out) and "loss_side" not in out
    assert after > before + 0.2 and after > 0.5, (before, after)
    keep = batch["hand_valid"]
    left = method.eval().sides(batch["image"], batch["boxes"][keep], keep.nonzero()[:, 0])
    assert ((left > 0.5) == batch["left"][keep]).all(), left


def test_detector_returns_photo_boxes_sides_and_nothing_below_min_score():
    torch.manual_seed(0)
    detector = HandDetector(build("hand_detector", input_size=64, width=0.25, neck=16, side_crop=16), device="cpu")
    photo = np.random.default_rng(0).integers(0, 255, (90, 120, 3), dtype=np.uint8)
    [hands] = detector.detect([photo], max_hands=3, min_score=0.0)
    assert 1 <= len(hands) <= 3 and all(h["side"] in ("left", "right") for h in hands)
    for h in hands:
        x, y, w, h_ = h["box"]
        assert 0 <= x and 0 <= y and x + w <= 120 + 1e-6 and y + h_ <= 90 + 1e-6
    assert [h["score"] for h in hands] == sorted((h["score"] for h in hands), reverse=True)
    assert detector.detect([photo], min_score=1.0) == [[]]


def test_side_only_stage_starts_from_the_detector_and_trains_the_side_alone(frames, tmp_path):
    torch.manual_seed(0)
    first = build("hand_detector", input_size=128, width=0.5, neck=32, side_crop=32)
    path = tmp_path / "stage1.pt"
    torch.save({"model": first.state_dict()}, path)
    second = build("hand_detector", input_size=128, width=0.5, neck=32, side_crop=32, side_only=True,
                   init_weights=str(path))
    assert not bool(second.initialised)
    batch = collate([frames[i] for i in range(4)])
    optimizer = torch.optim.Adam(second.parameters(), 3e-3)
    losses = []
    for step in range(60):
        out = second.training_step(batch)
        if step == 0:  # stage 1's weights were loaded by the first step
            assert all(torch.equal(v, first.state_dict()[f"net.{k}"]) for k, v in second.net.state_dict().items())
        optimizer.zero_grad()
        out["loss"].backward()
        optimizer.step()
        losses.append(float(out["loss"].detach()))
    assert set(out) == {"loss", "loss_palm", "loss_turn"}
    assert all(torch.equal(v, first.state_dict()[f"net.{k}"]) for k, v in second.net.state_dict().items())
    assert np.mean(losses[-5:]) < 0.5 * np.mean(losses[:5]), losses
    keep = batch["hand_valid"]
    left = second.eval().sides(batch["image"], batch["boxes"][keep], keep.nonzero()[:, 0])
    assert ((left > 0.5) == batch["left"][keep]).all(), left
    resumed = build("hand_detector", input_size=128, width=0.5, neck=32, side_crop=32, side_only=True,
                    init_weights=str(tmp_path / "gone.pt"))
    resumed.load_state_dict(second.state_dict())  # a resumed run has its weights: no reload of init_weights
    resumed.train().training_step(batch)
    with pytest.raises(FileNotFoundError, match="gone.pt"):
        build("hand_detector", input_size=128, width=0.5, neck=32, side_crop=32, side_only=True,
              init_weights=str(tmp_path / "gone.pt")).training_step(batch)
    with pytest.raises(ValueError, match="side_crop"):
        build("hand_detector", side_only=True)

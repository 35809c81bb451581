"""The side's two cues (issue 13): the palm flag on hand-built and rendered hands, left = palm XOR turn on any
points in front of a camera, the classifier's mirror symmetries, the combination rule, old weights, and a few
steps that teach both cues."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from handclip.data import build_dataset
from handclip.data.frames_cache import FORMAT
from handclip.data.synth.frame import mirrored
from handclip.data.synth.scene import limb, pose_hand
from handclip.data.synth.skin import skin_map
from handclip.detection.side_cues import curl_chirality, palm_facing, turn_label, turns_counterclockwise
from handclip.geometry import project
from handclip.methods import build
from handclip.models.hand_side import HandSideNet, left_probability
from handclip.skeleton import mirror_xyz

torch.set_num_threads(1)


def flat_hand(index_mcp, little_mcp, at=(0.0, 0.0, 500.0)) -> np.ndarray:
    """21 joints (mm, camera frame) with the wrist at `at` and index / little MCPs offset from it; others at the wrist."""
    j = np.tile(np.asarray(at, float), (21, 1))
    j[5] += index_mcp
    j[17] += little_mcp
    return j


def test_palm_flag_on_hand_built_hands():
    # right hand, fingers up, thumb on the image's right: its palm faces the camera (lstm2d: a right hand showing
    # its nails has the thumb on the image's left, docs/detector.md)
    palm_on = flat_hand([30, -80, 0], [-30, -70, 0])
    back_on = flat_hand([-30, -80, 0], [30, -70, 0])  # turned 180 degrees about the vertical axis
    assert palm_facing(palm_on, False) and not palm_facing(back_on, False)
    # their mirror images are left hands showing the same side
    assert palm_facing(mirror_xyz(palm_on), True) and not palm_facing(mirror_xyz(back_on), True)
    # seen from the side: the camera at the origin sees the palm of a hand standing to its right, turned to it
    side_on = flat_hand([0, -80, -30], [0, -70, 30], at=(300.0, 0.0, 300.0))
    assert palm_facing(side_on, False) and not palm_facing(side_on, True)
    stacked = np.stack([palm_on, back_on])
    assert palm_facing(stacked, np.array([False, True])).tolist() == [True, True]


def test_curl_chirality_tells_a_right_skeleton_from_its_mirror():
    # hand-built: fingers up in the image plane, the palm towards the camera (-z), tips curled 20 mm towards it
    right = flat_hand([30, -80, 0], [-30, -70, 0])
    right[[4, 8, 12, 16, 20]] = right[0] + np.array([[50, -60, -20], [30, -150, -20], [0, -160, -20], [-20, -150, -20],
                                                     [-40, -130, -20]])
    # the palm's unit normal is (0, 0, -1) and the palm lies at z = 500: five tips 20 mm out of it give 100
    assert curl_chirality(right) == pytest.approx(100.0) and curl_chirality(mirror_xyz(right)) == pytest.approx(-100.0)
    # every rendered right hand's skeleton curls to its palm, whatever the view
    hands = np.stack([pose_hand(np.random.default_rng(k)).joints for k in range(40)])
    assert (curl_chirality(hands) > 0).all() and (curl_chirality(mirror_xyz(hands)) < 0).all()


def test_palm_flag_agrees_with_the_rendered_palm_skin():
    palm = skin_map()[0] > 0.5
    checked = 0
    for k in range(8):
        for side in ("right", "left"):
            posed = pose_hand(np.random.default_rng(k))
            posed = (mirrored(posed) if side == "left" else posed).moved(np.array([40.0, -30.0, 450.0]))
            hand = limb(posed, mirrored=side == "left")
            centre = hand.hand[palm].mean(0)
            facing = hand.hand_normals[palm].mean(0) @ -centre / np.linalg.norm(centre)
            if abs(facing) > 0.2:  # not edge-on
                checked += 1
                assert palm_facing(hand.joints, side == "left") == (facing > 0), (k, side, facing)
    assert checked >= 8


def test_left_is_palm_xor_turn_for_any_points_in_front_of_a_camera():
    rng = np.random.default_rng(0)
    xyz = np.concatenate([rng.uniform(-200, 200, (500, 21, 2)), rng.uniform(200, 900, (500, 21, 1))], -1)
    K = np.array([[300.0, 0, 160], [0, 320, 120], [0, 0, 1]])
    left = rng.random(500) < 0.5
    palm = palm_facing(xyz, left)
    uv = np.stack([project(p, K) for p in xyz])
    turn = turns_counterclockwise(uv)
    assert (turn == turn_label(left, palm)).all() and (left == turn_label(turn, palm)).all()
    assert 0.4 < palm.mean() < 0.6 and 0.4 < turn.mean() < 0.6
    # a mirror keeps the palm and reverses the turn (and the side)
    assert (palm_facing(mirror_xyz(xyz), ~left) == palm).all()
    assert (turns_counterclockwise(uv * [-1, 1]) == ~turn).all()


def test_cue_logits_are_symmetric_and_antisymmetric_under_a_mirror():
    torch.manual_seed(0)
    net = HandSideNet().eval()
    crops = torch.rand(4, 3, 32, 32)
    palm, turn = net(crops)
    palm_m, turn_m = net(crops.flip(-1))
    assert torch.allclose(palm, palm_m, atol=1e-5) and torch.allclose(turn, -turn_m, atol=1e-5)
    assert not torch.allclose(palm, torch.zeros(4)) and not torch.allclose(turn, torch.zeros(4))
    assert torch.allclose(left_probability(palm_m, turn_m), 1 - left_probability(palm, turn), atol=1e-6)
    _, turn_sym = net(torch.ones(1, 3, 32, 32))
    assert torch.allclose(turn_sym, torch.zeros(1), atol=1e-5)  # a symmetric crop has no turning sense


def test_left_probability_on_hand_computed_cases():
    logit = lambda p: math.log(p / (1 - p))  # noqa: E731
    palm = torch.tensor([30.0, 30.0, -30.0, -30.0, 0.0, logit(0.9)])
    turn = torch.tensor([-30.0, 30.0, -30.0, 30.0, 2.0, logit(0.8)])
    # palm without turn, both, neither, turn without palm -> left, right, right, left; an undecided palm -> 0.5;
    # p = 0.9, t = 0.8: 0.9 x 0.2 + 0.1 x 0.8 = 0.26
    assert left_probability(palm, turn).tolist() == pytest.approx([1, 0, 0, 1, 0.5, 0.26], abs=1e-6)


def test_a_classifier_saved_as_one_side_logit_loads_with_the_same_answers():
    torch.manual_seed(1)
    old = HandSideNet().eval()
    state = {k: v for k, v in old.state_dict().items() if not k.startswith(("palm.", "turn."))}
    state["logit.weight"], state["logit.bias"] = torch.randn(1, 128), torch.randn(1)
    crops = torch.rand(5, 3, 32, 32)
    with torch.no_grad():
        feats = old.features((torch.cat([crops, crops.flip(-1)]) - 0.45) / 0.25).mean((2, 3))
        f = feats @ state["logit.weight"][0] + state["logit.bias"]
        answer = torch.sigmoid(f[:5] - f[5:])  # the single-logit classifier's P(left)
        new = HandSideNet().eval()
        new.load_state_dict(state)
        assert torch.allclose(left_probability(*new(crops)), answer, atol=1e-6)


def cue_crops(n: int, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """n 32 px crops: a disc, light pink when a palm is drawn and darker tan when a back is, with a bar on its
    right (turn) or left; (crops, palm, left = palm XOR turn)."""
    yy, xx = np.mgrid[:32, :32]
    crops = rng.uniform(0.3, 0.5, (n, 3, 32, 32))
    palm, turn = rng.random(n) < 0.5, rng.random(n) < 0.5
    for i in range(n):
        cx, cy = 16 + rng.integers(-3, 4), 16 + rng.integers(-3, 4)
        disc = (xx - cx) ** 2 + (yy - cy) ** 2 < 36
        crops[i][:, disc] = np.array([0.9, 0.7, 0.68] if palm[i] else [0.72, 0.55, 0.4])[:, None]
        bar = (abs(yy - cy + 4) < 2) & (abs(xx - cx - (8 if turn[i] else -8)) < 2)
        crops[i][:, bar] = 0.1
    return torch.tensor(crops, dtype=torch.float32), torch.tensor(palm), torch.tensor(palm != turn)


def test_a_few_steps_teach_the_side_head_both_cues():
    torch.manual_seed(0)
    crops, palm, left = cue_crops(16, np.random.default_rng(0))
    # with each crop's mirror image (same palm, other side) a cue learnt with the wrong symmetry stays >= ln 2
    crops, palm, left = torch.cat([crops, crops.flip(-1)]), torch.cat([palm, palm]), torch.cat([left, ~left])
    net = HandSideNet()
    optimizer = torch.optim.Adam(net.parameters(), 3e-3)
    for _ in range(15):
        palm_logit, turn_logit = net(crops)
        losses = (F.binary_cross_entropy_with_logits(palm_logit, palm.float()),
                  F.binary_cross_entropy_with_logits(turn_logit, turn_label(left, palm).float()))
        optimizer.zero_grad()
        sum(losses).backward()
        optimizer.step()
    assert losses[0] < 0.5 * math.log(2) and losses[1] < 0.5 * math.log(2), losses
    with torch.no_grad():
        assert ((left_probability(*net(crops)) > 0.5) == left).float().mean() > 0.9


def test_a_frames_cache_of_the_format_before_palm_flags_is_not_read(tmp_path):
    settings = dict(domains={"texture": 1}, n=2, root=tmp_path, size=64, workers=0)
    meta = {"format": "handclip-synth-full-cache/1"}
    (tmp_path / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(FileExistsError, match=f"format: 'handclip-synth-full-cache/1' -> '{FORMAT}'"):
        build_dataset("synth_full_cache", **settings)


def test_the_side_classifier_asks_for_palm_flags_it_cannot_learn_without():
    method = build("hand_detector", input_size=64, width=0.25, neck=16, side_crop=16)
    batch = {"image": torch.zeros(1, 64, 64, 3, dtype=torch.uint8), "boxes": torch.tensor([[[8.0, 8.0, 30.0, 30.0]]]),
             "left": torch.tensor([[True]]), "hand_valid": torch.tensor([[True]]), "ignore": torch.tensor([[False]])}
    with pytest.raises(ValueError, match="no 'palm' flags.*synth_full_cache"):
        method.training_step(batch)
    out = method.training_step({**batch, "palm": torch.tensor([[True]])})
    assert torch.isfinite(out["loss_palm"]) and torch.isfinite(out["loss_turn"])

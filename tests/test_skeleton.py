"""Index maps checked on real labelled samples: reprojection and bone lengths in canonical order."""

import json

import numpy as np
import pytest

from handclip import geometry, skeleton


def _bone_lengths(xyz):
    return np.array([np.linalg.norm(xyz[c] - xyz[p]) for p, c in skeleton.BONES])


def _plausible(xyz) -> bool:
    """A human hand in canonical order: palm bones 50-120 mm, finger phalanges 10-60 mm."""
    lengths = _bone_lengths(xyz)
    palm = lengths[[4, 8, 12, 16]]  # wrist -> index/middle/ring/little MCP
    phalanges = np.delete(lengths, [0, 4, 8, 12, 16])
    return bool((palm > 50).all() and (palm < 120).all() and (phalanges > 10).all() and (phalanges < 60).all())


def _thumb_outward(xyz) -> bool:
    """Canonical order runs root to tip: thumb joints get farther from the wrist (true of every real pose here)."""
    d = np.linalg.norm(xyz[1:5] - xyz[0], axis=1)
    return bool((np.diff(d) > 0).all())


def test_tree_and_names():
    assert len(skeleton.JOINT_NAMES) == skeleton.NUM_JOINTS == 21
    assert skeleton.JOINT_NAMES[4] == "thumb fingertip" and skeleton.JOINT_NAMES[18] == "little PIP"
    assert len(skeleton.BONES) == 20
    for k in range(1, 21):  # every joint reaches the wrist through its parents
        j, steps = k, 0
        while j != 0:
            j, steps = skeleton.PARENTS[j], steps + 1
        assert steps == (k - 1) % 4 + 1


def test_maps_are_permutations():
    for name, idx in skeleton.SOURCE_TO_CANONICAL.items():
        width = 25 if name == "webxr" else 21
        assert len(idx) == 21 and len(set(idx)) == 21 and max(idx) < width, name


def test_rhd_map_on_real_samples(mmpose_fixtures):
    data = json.loads((mmpose_fixtures / "rhd" / "test_rhd.json").read_text())
    images = {im["id"]: im for im in data["images"]}
    for ann in data["annotations"]:
        cam = images[ann["image_id"]]["cam_param"]
        K = np.array([[cam["focal"][0], 0, cam["princpt"][0]], [0, cam["focal"][1], cam["princpt"][1]], [0, 0, 1]])
        xyz = skeleton.to_canonical(np.array(ann["joint_cam"]), "rhd")
        uv = skeleton.to_canonical(np.array(ann["keypoints"])[:, :2], "rhd")
        assert np.abs(geometry.project(xyz, K) - uv).max() < 0.5
        assert _plausible(xyz)
        assert _thumb_outward(xyz) and not _thumb_outward(np.array(ann["joint_cam"]))


def test_interhand_map_on_real_samples(mmpose_fixtures):
    root = mmpose_fixtures / "interhand2.6m"
    data = json.loads((root / "test_interhand2.6m_data.json").read_text())
    cams = json.loads((root / "test_interhand2.6m_camera.json").read_text())
    joints = json.loads((root / "test_interhand2.6m_joint_3d.json").read_text())
    checked = 0
    for im, ann in zip(data["images"], data["annotations"]):
        cam = cams[str(im["capture"])]
        c = im["camera"]
        R, t = np.array(cam["camrot"][c]), np.array(cam["campos"][c])
        K = np.array([[cam["focal"][c][0], 0, cam["princpt"][c][0]], [0, cam["focal"][c][1], cam["princpt"][c][1]], [0, 0, 1]])
        rec = joints[str(im["capture"])][str(im["frame_idx"])]
        world = np.array(rec["world_coord"])
        valid = np.array(rec["joint_valid"]).reshape(-1).astype(bool)
        cam_xyz = (world - t) @ R.T
        x, y, w, h = ann["bbox"]
        for offset in (0, 21):  # right hand, then left hand
            if not valid[offset : offset + 21].all():
                continue
            xyz = skeleton.to_canonical(cam_xyz, "interhand", offset=offset)
            assert _plausible(xyz)
            uv = geometry.project(xyz, K)
            assert (uv[:, 0] > x - 5).all() and (uv[:, 0] < x + w + 5).all()
            assert (uv[:, 1] > y - 5).all() and (uv[:, 1] < y + h + 5).all()
            checked += 1
    assert checked >= 4


def test_to_canonical_rejects_short_arrays():
    with pytest.raises(ValueError, match="rhd"):
        skeleton.to_canonical(np.zeros((21, 3)), "rhd", offset=21)
    with pytest.raises(KeyError, match="unknown joint order"):
        skeleton.to_canonical(np.zeros((21, 3)), "nope")


def test_mirroring_keeps_projection_consistent():
    rng = np.random.default_rng(1)
    xyz = rng.normal(size=(21, 3)) * 30 + [10, -5, 450]
    K = np.array([[480.0, 0, 101.3], [0, 470.0, 120.2], [0, 0, 1]])
    width = 224
    uv = geometry.project(xyz, K)
    uv_m = geometry.project(skeleton.mirror_xyz(xyz), skeleton.mirror_K(K, width))
    np.testing.assert_allclose(uv_m, skeleton.mirror_uv(uv, width), atol=1e-9)
    image = rng.integers(0, 255, size=(4, width, 3), dtype=np.uint8)
    u = 37
    np.testing.assert_array_equal(skeleton.mirror_image(image)[:, width - 1 - u], image[:, u])


def test_angles_off_palm_axis_on_hand_computed_cases():
    from handclip.skeleton import angles_off_palm_axis

    uv = np.zeros((21, 2))
    uv[9] = (0, -10)  # middle MCP straight up from the wrist
    uv[2], uv[4] = (10, -10), (-5, 0)  # 45 deg to the right, 90 deg to the left
    assert np.allclose(angles_off_palm_axis(uv, [2, 4]), [45.0, 90.0])
    xyz = np.zeros((21, 3))
    xyz[5], xyz[17], xyz[9] = (1, 10, 0), (-1, 10, 0), (0, 10, 0)  # palm in the z = 0 plane
    xyz[2] = (10, 10, 50)  # out of the plane: only its in-plane part (10, 10) counts
    assert np.allclose(angles_off_palm_axis(xyz[None], [2]), [[45.0]])

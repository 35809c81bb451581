"""Synthetic renderer: exact labels, visibility, determinism, domains, mirroring, export round trip."""

from __future__ import annotations

import json

import numpy as np
import pytest

from handclip.cli import main as cli_main
from handclip.data import build_dataset, collate
from handclip.data.io import MalformedDataError
from handclip.data.synth.domains import DOMAINS
from handclip.data.synth.mesh import forward_kinematics, keypoints, load_template, skin
from handclip.data.synth.pose_prior import FINGER_LIMITS
from handclip.data.synth.poses import PINCH_GAP, sample_pose
from handclip.data.synth.raster import Fragments, rasterize
from handclip.data.synth.scene import VISIBLE_DEPTH, visible
from handclip.data.synth.shadow import lit_fraction
from handclip.geometry import project
from handclip.skeleton import BONES, SOURCE_TO_CANONICAL

SIZE = 96


@pytest.fixture(scope="module")
def samples():
    """Six samples per domain at 96 px, with masks (rendered once for the module)."""
    return {d: [build_dataset("synth", domain=d, n=6, size=SIZE, seed=0, mask=True, valid="visible")[i] for i in range(6)] for d in DOMAINS}


def test_template_matches_webxr_hand():
    t = load_template()
    assert t.vertices.shape == (1360, 3) and t.faces.shape == (2314, 3)
    assert np.allclose(t.skin_weights.sum(1), 1, atol=1e-5)
    # the rig in millimetres: wrist to middle fingertip of an adult hand (15-22 cm)
    assert 150 < np.linalg.norm(t.rest_world[14, :3, 3] - t.rest_world[0, :3, 3]) < 220
    assert t.joint_names[SOURCE_TO_CANONICAL["webxr"][8]] == "index-finger-tip"


def test_skinning_is_lbs_and_keypoints_are_rig_joints():
    t = load_template()
    identity = np.tile(np.eye(3), (25, 1, 1))
    rest = forward_kinematics(t, identity)
    assert np.allclose(rest, t.rest_world, atol=1e-4)
    assert np.allclose(skin(t, rest), t.vertices, atol=1e-3)
    world = forward_kinematics(t, sample_pose(t, np.random.default_rng(0), "fist").local_rot)
    posed = skin(t, world)
    # vertices bound to a single joint move rigidly with that joint's rest->posed transform
    rigid = t.skin_weights.max(1) > 0.999
    j = t.skin_joints[np.arange(len(rigid)), t.skin_weights.argmax(1)][rigid]
    mats = world @ t.inverse_bind
    expect = np.einsum("vij,vj->vi", mats[j, :3, :3], t.vertices[rigid]) + mats[j, :3, 3]
    assert rigid.sum() > 100 and np.allclose(posed[rigid], expect, atol=1e-3)
    # keypoints are the posed rig joints: the joint each bound vertex hangs off keeps its distance to it
    kp = keypoints(world)
    assert np.allclose(kp, world[list(SOURCE_TO_CANONICAL["webxr"]), :3, 3])
    webxr_of = {w: c for c, w in enumerate(SOURCE_TO_CANONICAL["webxr"])}
    for v, jj in zip(np.flatnonzero(rigid), j):
        if jj in webxr_of:
            d_rest = np.linalg.norm(t.vertices[v] - t.rest_world[jj, :3, 3])
            assert abs(np.linalg.norm(posed[v] - kp[webxr_of[jj]]) - d_rest) < 1e-3


def test_sample_labels_are_exact(samples):
    t = load_template()
    rest_kp = keypoints(t.rest_world)
    bones = np.array([np.linalg.norm(rest_kp[c] - rest_kp[p]) for p, c in BONES])
    for s in (x for group in samples.values() for x in group):
        # rigid rig up to the sampled hand shape: within a finger every phalanx is scaled by one factor
        # (so ordering and units are right): size 70-100 mm over the rest hand's 91.7 mm, fingers +-8 %;
        # palm bones by nearly one (palm width +-8 % moves the knuckles sideways, cupping a little)
        ratio = np.array([np.linalg.norm(s["xyz"][c] - s["xyz"][p]) for p, c in BONES]) / bones
        for finger in range(5):
            phalanges = ratio[4 * finger + 1:4 * finger + 4]
            assert np.ptp(phalanges) < 1e-3 and 70 / 92 * 0.92 < phalanges[0] < 100 / 91.5 * 1.08
        palm = ratio[[4 * f for f in range(5)]]
        assert np.ptp(palm) < 0.06
        assert np.allclose(project(s["xyz"].astype(np.float64), s["K"].astype(np.float64)), s["uv"], atol=1e-3)
        # FreiHAND-like framing: the whole skeleton inside the crop, hand in front of the camera
        assert (s["uv"] >= 0).all() and (s["uv"] <= SIZE - 1).all() and (s["xyz"][:, 2] > 200).all()
        # fingertips are mesh vertices (tests/test_synth_geometry.py checks them closely)
        tips = s["xyz"][[4, 8, 12, 16, 20]]
        assert np.linalg.norm(s["verts"][None] - tips[:, None], axis=-1).min(1).max() < 0.5


def test_visible_keypoints_project_inside_mask(samples):
    vis = []
    for s in (x for group in samples.values() for x in group):
        px = np.round(s["uv"]).astype(int)
        assert s["mask"][px[s["valid"], 1], px[s["valid"], 0]].all()
        vis.append(s["valid"].mean())
    assert 0.3 < np.mean(vis) < 1.0  # some joints hidden, most seen
    assert build_dataset("synth", n=1, size=SIZE)[0]["valid"].all()  # default: every label is exact


def test_visibility_rule_hand_computed():
    # pixel (1, 1) of a 4x4 image is skin at depth 500 mm; everything else is background
    frags = Fragments(pixel=np.array([5]), face=np.array([0]), bary=np.ones((1, 3)) / 3, depth=np.array([500.0]))
    uv = np.tile([[1.0, 1.0]], (21, 1))
    depth = np.full(21, 500.0 + 10.0)  # 10 mm behind the surface: inside the flesh, visible
    depth[9] = 500.0 + VISIBLE_DEPTH[9] + 5  # deeper than flesh reaches: occluded
    uv[1] = [3.0, 3.0]  # background pixel
    uv[2] = [7.0, 1.0]  # outside the image
    v = visible(uv, depth, frags, 4)
    assert v[0] and v[5] and not v[9] and not v[1] and not v[2]


def test_zbuffer_near_triangle_wins_in_any_order():
    K = np.array([[10.0, 0, 4.5], [0, 10.0, 4.5], [0, 0, 1]])
    # two large triangles covering the whole 10x10 image, at z = 100 (near) and z = 200 (far)
    quad = np.array([[-1, -1], [1, -1], [-1, 1]], float) * 20
    near = np.c_[quad * 100 / 10, np.full(3, 100.0)]
    far = np.c_[quad * 200 / 10, np.full(3, 200.0)]
    for order in ((0, 1), (1, 0)):
        verts = np.concatenate([near, far] if order == (0, 1) else [far, near])
        faces = np.array([[0, 2, 1], [3, 5, 4]])
        f = rasterize(verts, faces, K, 10)
        assert len(f.pixel) == len(np.unique(f.pixel)) > 40
        assert np.allclose(f.depth, 100.0)
        assert np.allclose(f.bary.sum(1), 1.0)
    assert len(rasterize(verts, faces[:, ::-1], K, 10).pixel) == 0  # back faces culled


def test_triangle_between_pixel_centres_gives_no_fragments():
    """A triangle whose box holds pixel centre (1, 1) but which covers none (a shrunk mesh, predict's overlay)."""
    K = np.eye(3)
    verts = np.array([[0.5, 0.5, 1.0], [1.4, 0.5, 1.0], [0.5, 1.4, 1.0]]) * 100.0
    f = rasterize(verts, np.array([[0, 1, 2]]), K, 4, cull_back=False)
    assert f.pixel.shape == (0,) and f.bary.shape == (0, 3) and f.depth.shape == (0,)
    assert len(rasterize(verts * [2.0, 2.0, 1.0], np.array([[0, 1, 2]]), K, 4, cull_back=False).pixel) >= 1


def test_shadow_map_hand_computed():
    # light at the camera side (direction towards the light: -z); a small occluder at z = 100 in front
    # of a large receiver at z = 200; probe points (no faces) lie on the receiver
    tri = np.array([[-1, -1], [1, -1], [-1, 1]], float)
    occluder = np.c_[tri * 10, np.full(3, 100.0)]
    receiver = np.c_[tri * 400, np.full(3, 200.0)]
    probes = np.array([[-2.0, -2.0, 200.0], [-300.0, -300.0, 200.0]])
    verts = np.concatenate([occluder, receiver, probes])
    faces = np.array([[0, 2, 1], [3, 5, 4]])
    lit = lit_fraction(verts, faces, np.array([0.0, 0.0, -1.0]))
    assert lit[:6].all()  # both surfaces see the light themselves
    assert lit[6] == 0 and lit[7] == 1  # behind the occluder / beside it


def test_same_seed_same_pixels_other_seed_differs():
    a = build_dataset("synth", domain="texture", n=2, size=64, seed=5)
    b = build_dataset("synth", domain="texture", n=2, size=64, seed=5)
    c = build_dataset("synth", domain="texture", n=2, size=64, seed=6)
    assert np.array_equal(a[1]["image"], b[1]["image"]) and np.array_equal(a[1]["xyz"], b[1]["xyz"])
    assert not np.array_equal(a[1]["image"], c[1]["image"])
    batch = collate([a[0], a[1]])
    assert batch["image"].shape == (2, 64, 64, 3) and batch["verts"].shape == (2, 1360, 3)


def test_domains_differ_in_background_statistics(samples):
    def stats(domain):
        bgs = [s["image"][~s["mask"]].astype(float) for s in samples[domain]]
        return np.mean([b.mean() for b in bgs]), np.mean([b.std(0).mean() for b in bgs])

    (lum_src, std_src), (lum_tex, std_tex), (lum_low, _) = stats("source"), stats("texture"), stats("lowlight")
    assert std_tex > 2 * std_src  # textured/cluttered vs plain backdrops
    assert lum_low < 0.6 * min(lum_src, lum_tex)  # dim scenes
    assert all(s["style"]["hand_color"] in ("white", "peach", "light beige") for s in samples["source"])
    for s in samples["source"]:
        if s["style"]["color"] == "green":  # green screen: green dominates the background
            bg = s["image"][~s["mask"]].astype(float).mean(0)
            assert bg[1] > bg[0] and bg[1] > bg[2]


def test_left_hands_are_mirrored_consistently():
    right = build_dataset("synth", domain="source", n=1, size=SIZE, seed=2, side="right")
    left = build_dataset("synth", domain="source", n=1, size=SIZE, seed=2, side="left")
    view = left.view(0)  # the camera's left-hand image and labels
    r = right[0]
    assert view["side"] == "left"
    assert np.array_equal(view["image"], r["image"][:, ::-1])
    assert np.allclose(project(view["xyz"].astype(float), view["K"].astype(float)), view["uv"], atol=1e-3)
    assert np.allclose(view["uv"][:, 0], SIZE - 1 - r["uv"][:, 0]) and np.allclose(view["xyz"][:, 0], -r["xyz"][:, 0])
    canon = left[0]  # mirrored back into the right hand models see
    assert canon["side"] == "left" and np.array_equal(canon["image"], r["image"])
    assert np.allclose(canon["xyz"], r["xyz"]) and np.allclose(canon["K"], r["K"])


def test_poses_within_limits_and_grasps_occur():
    t = load_template()
    rng = np.random.default_rng(0)
    gaps = [np.linalg.norm(np.subtract(*keypoints(forward_kinematics(t, sample_pose(t, rng, "pinch").local_rot))[[4, 8]]))
            for _ in range(3)]
    assert np.allclose(gaps, PINCH_GAP, atol=3.0)
    reach = {}
    for kind in ("open", "fist"):
        kp = keypoints(forward_kinematics(t, sample_pose(t, rng, kind).local_rot))
        reach[kind] = np.linalg.norm(kp[[8, 12, 16, 20]] - kp[0], axis=1).mean()
    assert reach["fist"] < 0.7 * reach["open"]
    # PIP flexion stays inside its limits: the angle between proximal and middle phalanges
    # (tests/test_synth_geometry.py reads every joint's angles back exactly)
    for _ in range(10):
        kp = keypoints(forward_kinematics(t, sample_pose(t, rng).local_rot))
        a, b = kp[6] - kp[5], kp[7] - kp[6]
        angle = np.degrees(np.arccos(a @ b / np.linalg.norm(a) / np.linalg.norm(b)))
        assert angle <= FINGER_LIMITS[0, 2, 1] + 25  # limit plus rest-pose bend and abduction slack


def test_export_command_round_trip(tmp_path):
    out = tmp_path / "synth"
    args = ["synth", "--domain", "lowlight", "--n", "3", "--out", str(out), "--size", "64", "--side", "both", "--workers", "1"]
    assert cli_main(args) == 0  # rendered in a worker process, compared below with this process
    meta = json.loads((out / "annotations.json").read_text())
    assert meta["n"] == 3 and len(meta["samples"][0]["verts"]) == 1360
    assert (out / "contact_sheet.png").is_file()
    folder = build_dataset("synth_folder", root=str(out), size=64, valid="visible")
    live = build_dataset("synth", domain="lowlight", n=3, size=64, side="both", valid="visible")
    for i in range(3):
        a, b = folder[i], live[i]
        assert a["side"] == b["side"] and a["style"] == b["style"] and np.array_equal(a["valid"], b["valid"])
        assert np.array_equal(a["image"], b["image"])
        assert np.allclose(a["uv"], b["uv"], atol=0.01) and np.allclose(a["xyz"], b["xyz"], atol=0.01)
    assert build_dataset("synth_folder", root=str(out), size=64)[0]["valid"].all()
    del meta["samples"][1]["verts"]
    (out / "annotations.json").write_text(json.dumps(meta))
    with pytest.raises(MalformedDataError, match="annotations.json.*sample 1.*verts"):
        build_dataset("synth_folder", root=str(out))
    (out / "annotations.json").write_text(json.dumps({"samples": []}))
    with pytest.raises(MalformedDataError, match="annotations.json"):
        build_dataset("synth_folder", root=str(out))


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(KeyError, match="unknown synthetic domain"):
        build_dataset("synth", domain="nope")
    with pytest.raises(ValueError, match="side"):
        build_dataset("synth", side="up")
    with pytest.raises(ValueError, match="valid"):
        build_dataset("synth", valid="some")

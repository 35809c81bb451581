"""Protocols' root/scale handling on hand-made poses, the Evaluator's outputs, and the FreiHAND writer."""

import json

import numpy as np
import pytest
import torch

from handclip import metrics, protocols
from handclip.evaluator import Evaluator


def _pose(seed=0, batch=2):
    """GT joints (B, 21, 3) mm, camera frame, far from the origin."""
    rng = np.random.default_rng(seed)
    return rng.normal(0, 40, (batch, 21, 3)) + np.array([20.0, -10.0, 600.0])


def test_rhd_rescales_prediction_to_the_gt_bone():
    gt = _pose()
    # a prediction twice the size, placed anywhere: same pose once root-relative and at the GT bone
    pred = 2.0 * (gt - gt[:, :1]) + 7.0
    for root in ("palm", "wrist"):
        rows = protocols.get("rhd", root=root)({"xyz": pred}, {"xyz": gt})
        np.testing.assert_allclose(rows["mpjpe"], 0.0, atol=1e-9)
        # without rescaling each joint is off by its own distance to the root
        rows = protocols.get("rhd", root=root, scale="none")({"xyz": pred}, {"xyz": gt})
        rel = gt - (gt[:, :1] if root == "wrist" else 0.5 * (gt[:, :1] + gt[:, 9:10]))
        np.testing.assert_allclose(rows["mpjpe"], np.linalg.norm(rel, axis=-1), atol=1e-9)


def test_root_choice_on_a_moved_wrist():
    gt = _pose(1, batch=1)
    pred = gt - gt[:, :1]
    pred[:, 0] += np.array([0.0, 6.0, 8.0])  # wrist off by 10 mm; the middle MCP-PIP bone is untouched
    wrist = protocols.get("stb", root="wrist")({"xyz": pred}, {"xyz": gt})["mpjpe"][0]
    assert wrist[0] == pytest.approx(0.0) and np.allclose(wrist[1:], 10.0)
    # the palm root moves by half the wrist's offset: every joint, wrist included, is off by 5 mm
    palm = protocols.get("stb", root="palm")({"xyz": pred}, {"xyz": gt})["mpjpe"][0]
    np.testing.assert_allclose(palm, 5.0)
    # with palm = wrist + 0.25 (middle MCP - wrist) the root moves by 3/4 of the offset (7.5 mm):
    # the other joints are off by 7.5 mm, the wrist by the remaining 2.5 mm
    palm = protocols.get("stb", root="palm", palm_k=0.25)({"xyz": pred}, {"xyz": gt})["mpjpe"][0]
    assert palm[0] == pytest.approx(2.5) and np.allclose(palm[1:], 7.5)


def test_invalid_joints_become_nan_rows_and_bad_input_is_named():
    gt = _pose()
    valid = np.ones((2, 21), bool)
    valid[1, 4] = False
    rows = protocols.get("rhd")({"xyz": gt + 1.0}, {"xyz": gt, "valid": valid})
    assert np.isnan(rows["mpjpe"][1, 4]) and np.isfinite(rows["mpjpe"]).sum() == 41
    with pytest.raises(ValueError, match="NaN"):
        protocols.get("rhd")({"xyz": np.full_like(gt, np.nan)}, {"xyz": gt})
    with pytest.raises(KeyError, match="no 'xyz'"):
        protocols.get("synth")({}, {"xyz": gt})
    with pytest.raises(ValueError, match="root must be"):
        protocols.get("rhd", root="middle MCP")
    with pytest.raises(KeyError, match="unknown evaluation protocol"):
        protocols.get("ho3d")


def test_synth_is_wrist_relative_and_aligned_error_ignores_similarity():
    gt = _pose(2)
    rel = gt - gt[:, :1]
    rot = np.array([[0.0, -1, 0], [1, 0, 0], [0, 0, 1]])
    pred = 1.5 * rel @ rot.T
    occluded = np.zeros((2, 21), bool)  # visibility does not remove joints from the 3D score
    rows = protocols.get("synth")({"xyz": pred}, {"xyz": gt, "valid": occluded})
    np.testing.assert_allclose(rows["pa_mpjpe"], 0.0, atol=1e-6)
    np.testing.assert_allclose(rows["mpjpe"], np.linalg.norm(pred - rel, axis=-1))
    assert set(rows) == {"mpjpe", "pa_mpjpe", "depth_error"}


def test_depth_error_after_root_alignment_and_scale():
    gt = _pose(7)
    pred = gt - gt[:, :1]
    pred[:, 5] += [3.0, 4.0, 0.0]  # off in the image plane only: 5 mm of MPJPE, no depth error
    pred[:, 7, 2] += 6.0  # off in depth only
    rows = protocols.get("synth")({"xyz": pred}, {"xyz": gt})
    expected = np.zeros((2, 21))
    expected[:, 7] = 6.0
    np.testing.assert_allclose(rows["depth_error"], expected, atol=1e-9)
    assert rows["mpjpe"][0, 5] == pytest.approx(5.0) and rows["mpjpe"][0, 7] == pytest.approx(6.0)
    # RHD/STB: the prediction is rescaled to the GT bone first (here x0.5), so 20 mm become 10 mm
    pred = 2.0 * (gt - gt[:, :1])
    pred[:, 12, 2] += 20.0  # joint 12 is neither root nor in the middle MCP-PIP bone
    valid = np.ones((2, 21), bool)
    valid[1, 3] = False
    rows = protocols.get("rhd")({"xyz": pred}, {"xyz": gt, "valid": valid})
    expected[:, 7], expected[:, 12], expected[1, 3] = 0.0, 10.0, np.nan
    np.testing.assert_allclose(rows["depth_error"], expected, atol=1e-9)


def test_pa_mpjpe_with_gt_uv_sees_only_depth():
    gt = _pose(8)
    K = np.tile(np.array([[500.0, 0, 112], [0, 500.0, 112], [0, 0, 1]]), (2, 1, 1))
    uv = _pixels(gt, K)
    rel = gt - gt[:, :1]
    garbage_xy = rel + np.concatenate([np.random.default_rng(0).normal(0, 30, (2, 21, 2)), np.zeros((2, 21, 1))], -1)
    garbage_xy[:, 0] = 0.0
    rows = protocols.get("synth")({"xyz": garbage_xy}, {"xyz": gt, "uv": uv, "K": K})
    np.testing.assert_allclose(rows["pa_mpjpe_gt_uv"], 0.0, atol=1e-6)  # exact depths: exact on the GT pixels
    assert rows["pa_mpjpe"].mean() > 10
    # zero depth (a flat hand at the wrist's depth): x = (u - cx) z_wrist / f on the GT pixels
    flat = np.concatenate([(uv - 112.0) * gt[:, :1, 2:] / 500.0, np.repeat(gt[:, :1, 2:], 21, 1)], -1)
    rows = protocols.get("synth")({"xyz": rel * [1, 1, 0]}, {"xyz": gt, "uv": uv, "K": K})
    np.testing.assert_allclose(rows["pa_mpjpe_gt_uv"], metrics.pa_errors(flat, gt), atol=1e-6)
    assert rows["pa_mpjpe_gt_uv"].mean() > 1
    assert "pa_mpjpe_gt_uv" not in protocols.get("synth")({"xyz": rel}, {"xyz": gt, "uv": uv})  # no K, no row
    with pytest.raises(ValueError, match="'K' has shape"):
        protocols.get("rhd")({"xyz": rel}, {"xyz": gt, "uv": uv, "K": K[0]})


def _pixels(xyz, K):
    """Pinhole pixels (B, 21, 2) of camera-frame points, written out: u = fx x / z + cx."""
    return np.stack([K[:, :1, 0] * xyz[..., 0] / xyz[..., 2] + K[:, :1, 2],
                     K[:, 1:2, 1] * xyz[..., 1] / xyz[..., 2] + K[:, 1:2, 2]], -1)


def test_mesh_rows_same_and_different_vertex_counts():
    gt = _pose(3, batch=1)
    lattice = np.stack(np.meshgrid(np.arange(5), np.arange(4), np.arange(3)), -1).reshape(1, -1, 3) * 20.0
    gt_verts = lattice + gt[:, :1]
    pred = {"xyz": gt - gt[:, :1], "verts": lattice}
    rows = protocols.get("freihand")(pred, {"xyz": gt, "verts": gt_verts})
    assert rows["mpvpe"][0] == pytest.approx(0.0) and rows["pa_mpvpe"][0] == pytest.approx(0.0, abs=1e-6)
    assert rows["f5"][0] == rows["pa_f5"][0] == rows["f15"][0] == 1.0
    # a mesh of another template (here: half the GT vertices) is aligned with the keypoints' fit
    rows = protocols.get("freihand")({**pred, "verts": lattice[:, :30]}, {"xyz": gt, "verts": gt_verts})
    assert "mpvpe" not in rows and rows["pa_f5"][0] == pytest.approx(2 / 3)


def test_realworld_reports_aligned_error():
    gt = _pose(4)
    rows = protocols.get("realworld")({"xyz": 0.5 * (gt - gt[:, :1])}, {"xyz": gt})
    np.testing.assert_allclose(rows["mpjpe"], 0.0, atol=1e-9)
    assert rows["pa_mpjpe"].shape == (2, 21)


def test_evaluator_writes_json_and_png_matching_the_metric_functions(tmp_path):
    gts, preds = _pose(5, batch=3), []
    rng = np.random.default_rng(6)
    evaluator = Evaluator("synth")
    for i, gt in enumerate([gts[:2], gts[2:]]):
        noise = rng.normal(0, 10, gt.shape)
        noise[:, 0] = 0.0  # predictions are wrist-relative: the wrist stays at the origin
        pred = gt - gt[:, :1] + noise
        uv = rng.uniform(0, 224, (len(gt), 21, 2))
        preds.append(pred)
        batch_pred, batch_gt = {"xyz": pred, "uv": uv + 3.0}, {"xyz": gt, "uv": uv, "style": [{}] * len(gt)}
        if i == 0:  # tensors as methods and collate produce them
            batch_pred = {k: torch.from_numpy(v).float() for k, v in batch_pred.items()}
            batch_gt = {**batch_gt, "xyz": torch.from_numpy(gt), "valid": torch.ones(len(gt), 21, dtype=torch.bool)}
        evaluator.process(batch_pred, batch_gt)
    paths = evaluator.write(tmp_path)
    results = json.loads(paths["json"].read_text())
    assert results["num_samples"] == 3 and paths["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pred = np.concatenate(preds)
    errors = metrics.keypoint_errors(pred, gts - gts[:, :1])
    grid = metrics.thresholds("zb_20_50")
    expected = {
        "mpjpe": metrics.mean_epe(errors),
        "mpjpe_median": metrics.median_epe(errors),
        "mpjpe_auc_zb_20_50": metrics.auc(metrics.pck_curve(errors, grid), grid),
        "pa_mpjpe": metrics.mean_epe(metrics.pa_errors(pred, gts - gts[:, :1])),
        "epe_2d": 3.0 * np.sqrt(2),
    }
    for key, value in expected.items():
        assert results["metrics"][key] == pytest.approx(value, rel=1e-5), key
    assert results["curves"]["mpjpe"]["freihand"]["thresholds"] == metrics.thresholds("freihand").tolist()
    assert "mpjpe_auc_freihand" in evaluator.table(results)


def test_write_freihand_pred_in_metres(tmp_path):
    xyz, verts, root = np.ones((2, 21, 3)), np.zeros((2, 778, 3)), np.array([[0.0, 0, 500], [0, 0, 1000]])
    path = protocols.write_freihand_pred(tmp_path / "pred.json", xyz, verts, root=root)
    xyz_m, verts_m = json.loads(path.read_text())
    assert np.allclose(np.array(xyz_m)[1, 0], [0.001, 0.001, 1.001]) and np.array(verts_m).shape == (2, 778, 3)
    with pytest.raises(ValueError, match="pred.json: verts"):
        protocols.write_freihand_pred(tmp_path / "pred.json", xyz, verts[:1])

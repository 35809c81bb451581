"""Metrics against hand-computed cases, invariants and an independent Procrustes formulation."""

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from handclip import metrics


def _similarity(points, seed):
    """points under a random rotation, scale and translation."""
    rng = np.random.default_rng(seed)
    R = Rotation.random(random_state=seed).as_matrix()
    return 3.7 * points @ R.T + rng.normal(0, 100, 3)


def test_keypoint_errors_and_epe_on_hand_made_arrays():
    assert metrics.keypoint_errors([[3.0, 4.0, 0.0]], [[0.0, 0.0, 0.0]]).tolist() == [5.0]
    errors = np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 90.0]])
    assert metrics.mean_epe(errors) == pytest.approx((2 + 40) / 2)
    assert metrics.median_epe(errors) == pytest.approx((2 + 20) / 2)
    valid = np.array([[True, True], [True, True], [True, False]])
    assert metrics.mean_epe(errors, valid) == pytest.approx((2 + 15) / 2)
    # a joint with no valid sample is left out, not counted as 0
    assert metrics.mean_epe(errors, np.array([[True, False]] * 3)) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="shape"):
        metrics.keypoint_errors(np.zeros((2, 21, 3)), np.zeros((2, 21, 2)))


def test_pck_2d_counts_errors_up_to_the_threshold_per_joint():
    pred_uv = np.array([[[3.0, 4.0], [2.0, 0.0]], [[10.0, 0.0], [0.0, 3.0]]])
    errors = metrics.keypoint_errors(pred_uv, np.zeros_like(pred_uv))  # joint 0: 5, 10; joint 1: 2, 3
    assert metrics.pck(errors, 5.0) == pytest.approx((0.5 + 1.0) / 2)
    assert metrics.pck(errors, 4.99) == pytest.approx((0.0 + 1.0) / 2)
    assert metrics.pck(errors, 10.0) == 1.0
    assert metrics.pck(errors, 5.0, valid=np.array([[True, True], [False, True]])) == 1.0


@pytest.mark.parametrize("grid_name", sorted(metrics.THRESHOLDS))
def test_auc_of_perfect_predictor_is_one(grid_name):
    grid = metrics.thresholds(grid_name)
    assert metrics.auc(metrics.pck_curve(np.zeros((5, 21)), grid), grid) == pytest.approx(1.0)


@pytest.mark.parametrize("grid_name,d", [("freihand", 10.0), ("freihand", 0.3), ("zb_20_50", 30.0), ("uniform_20_50", 33.3)])
def test_auc_of_constant_offset_equals_closed_form(grid_name, d):
    grid = metrics.thresholds(grid_name)
    curve = metrics.pck_curve(np.full((4, 21), d), grid)
    # PCK is a step from 0 to 1 at the first threshold k >= d: the trapezoid covers every interval after
    # it fully and the interval ending at it by half, out of n = len(grid) - 1 equal intervals.
    n, k = len(grid) - 1, int(np.argmax(grid >= d))
    assert metrics.auc(curve, grid) == pytest.approx((n - k + 0.5) / n)


def test_auc_of_offsets_outside_the_grid():
    grid = metrics.thresholds("zb_20_50")
    assert grid[0] == pytest.approx(50 * 8 / 19) and grid[-1] == 50 and len(grid) == 12
    assert metrics.auc(metrics.pck_curve(np.full((2, 21), 15.0), grid), grid) == 1.0
    assert metrics.auc(metrics.pck_curve(np.full((2, 21), 60.0), grid), grid) == 0.0
    with pytest.raises(KeyError, match="unknown threshold grid"):
        metrics.thresholds("0_50")


def test_procrustes_hand_computed_cross():
    # GT: a centred cross of norm 2. Prediction: the cross stretched along x, then rotated, scaled, moved.
    gt = np.array([[1.0, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0]])
    stretched = np.array([[2.0, 0, 0], [-2, 0, 0], [0, 1, 0], [0, -1, 0]])
    # By hand: gt^T pred = diag(4, 2, 0); normalised by |gt| = 2 and |pred| = sqrt(10), R = I and
    # s = 6 / (2 sqrt(10)), so pred' = pred / sqrt(10) * s * 2 = 0.6 pred: errors 0.2, 0.2, 0.4, 0.4.
    expected = 0.6 * stretched
    for pred in (stretched, _similarity(stretched, 0)):
        np.testing.assert_allclose(metrics.procrustes_align(gt, pred), expected, atol=1e-6)
    assert metrics.pa_errors(stretched[None], gt[None]).mean() == pytest.approx(0.3, abs=1e-6)


def test_procrustes_allows_reflections():
    gt = np.random.default_rng(1).normal(0, 40, (21, 3))
    mirrored = gt * np.array([-1.0, 1.0, 1.0])
    np.testing.assert_allclose(metrics.procrustes_align(gt, mirrored), gt, atol=1e-6)


def test_procrustes_invariant_to_similarity_of_prediction():
    rng = np.random.default_rng(2)
    gt = rng.normal(0, 40, (6, 21, 3))
    pred = gt + rng.normal(0, 8, gt.shape)
    moved = np.stack([_similarity(p, seed) for seed, p in enumerate(pred)])
    np.testing.assert_allclose(metrics.pa_errors(moved, gt), metrics.pa_errors(pred, gt), atol=1e-6)
    assert metrics.pa_errors(pred, gt).mean() < metrics.keypoint_errors(pred, gt).mean()


def test_procrustes_equals_independent_least_squares_similarity():
    """FreiHAND's definition restated as the least-squares similarity (reflections allowed) from pred to gt."""
    rng = np.random.default_rng(3)
    gt = rng.normal(0, 40, (10, 21, 3))
    pred = rng.normal(0, 30, (10, 21, 3)) + 500
    for g, p in zip(gt, pred):
        gc, pc = g - g.mean(0), p - p.mean(0)
        U, S, Vt = np.linalg.svd(pc.T @ gc)
        expected = (S.sum() / (pc**2).sum()) * pc @ (U @ Vt) + g.mean(0)
        np.testing.assert_allclose(metrics.procrustes_align(g, p), expected, atol=1e-6)


def test_apply_procrustes_moves_other_points_like_the_keypoints():
    rng = np.random.default_rng(4)
    gt, pred = rng.normal(0, 40, (21, 3)), rng.normal(0, 30, (21, 3))
    transform = metrics.procrustes_transform(gt, pred)
    np.testing.assert_allclose(metrics.apply_procrustes(pred[:5], transform), metrics.procrustes_align(gt, pred)[:5])


def _lattice():
    """60 points 20 mm apart: a point's nearest other point is 20 mm away."""
    return np.stack(np.meshgrid(np.arange(5), np.arange(4), np.arange(3)), -1).reshape(-1, 3) * 20.0


def test_fscore_identical_shifted_and_partial_meshes():
    gt = _lattice()[None]
    f, p, r = metrics.fscore(gt, gt, [5.0])
    assert (f[0, 0], p[0, 0], r[0, 0]) == (1.0, 1.0, 1.0)
    # shifted by 6 mm: no point within 5 mm (F = 0), every point within 15 mm (F = 1)
    assert metrics.fscore(gt + np.array([6.0, 0, 0]), gt, [5.0, 15.0])[0].tolist() == [[0.0, 1.0]]
    half = gt[:, :30]  # every predicted point is on the GT (precision 1), half of the GT is covered (recall 0.5)
    f, p, r = metrics.fscore(half, gt, [5.0])
    assert (p[0, 0], r[0, 0]) == (1.0, 0.5) and f[0, 0] == pytest.approx(2 / 3)

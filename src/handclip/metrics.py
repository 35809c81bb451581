"""Pose and mesh metrics of the hand benchmarks, pure numpy/scipy, following the official evaluation code.

Conventions copied from the benchmarks' own scripts (FreiHAND `eval.py`, Zimmermann & Brox `EvalUtil`):
- per-keypoint statistics first, then averaged over keypoints: the mean EPE is the mean over joints of
  each joint's mean error over its valid samples, the median EPE the mean over joints of each joint's
  median; a joint with no valid sample is left out;
- PCK counts errors `<=` the threshold; AUC is the trapezoid area under the PCK curve divided by the
  trapezoid area under 1 on the same grid (so a perfect predictor has AUC 1 on every grid);
- F-scores count nearest-neighbour distances strictly `<` the threshold.
Errors are in the unit of the inputs (mm for 3D, px for 2D).
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import orthogonal_procrustes
from scipy.spatial import cKDTree


def _grid(values) -> np.ndarray:
    """A read-only float64 threshold grid."""
    grid = np.asarray(values, dtype=np.float64)
    grid.setflags(write=False)
    return grid


# Named, pinned threshold grids. Results name the grid they were computed on (auc_<name>).
THRESHOLDS: dict[str, np.ndarray] = {
    # FreiHAND eval.py: get_measures(0, 0.05 m, 100): 100 points from 0 to 50 mm (step 0.505 mm).
    "freihand": _grid(np.linspace(0.0, 50.0, 100)),
    # Zimmermann & Brox (hand3d eval_full.py) "AUC 20-50 mm": their 0-50 mm grid of 20 points,
    # kept from index 8 on: 12 points 21.05, 23.68, ..., 50 mm. The RHD/STB tables of the papers we
    # implement descend from this code, so it is the default of the rhd and stb protocols.
    "zb_20_50": _grid(np.linspace(0.0, 50.0, 20)[8:]),
    # The other 20-50 mm grid found in later code bases: 20 points from exactly 20 to 50 mm.
    # Not interchangeable with zb_20_50 (it starts at 20, not 21.05 mm); pick it with grid=.
    "uniform_20_50": _grid(np.linspace(20.0, 50.0, 20)),
    # Zimmermann & Brox eval2d.py: 2D PCK in pixels, get_measures(0, 30 px, 20).
    "zb_2d_px": _grid(np.linspace(0.0, 30.0, 20)),
}


def thresholds(name: str) -> np.ndarray:
    """The pinned threshold grid called `name` (see THRESHOLDS)."""
    if name not in THRESHOLDS:
        raise KeyError(f"unknown threshold grid {name!r}; known: {sorted(THRESHOLDS)}")
    return THRESHOLDS[name]


def keypoint_errors(pred, gt) -> np.ndarray:
    """Euclidean distances (..., J) between predicted and GT points (..., J, D), D = 2 or 3."""
    pred, gt = np.asarray(pred, dtype=np.float64), np.asarray(gt, dtype=np.float64)
    if pred.shape != gt.shape:
        raise ValueError(f"prediction shape {pred.shape} differs from ground truth shape {gt.shape}")
    return np.linalg.norm(pred - gt, axis=-1)


def _valid_mask(errors: np.ndarray, valid) -> np.ndarray:
    """Boolean (N, J) mask: the given valid flags and finite errors."""
    mask = np.isfinite(errors)
    if valid is not None:
        valid = np.asarray(valid, dtype=bool)
        if valid.shape != errors.shape:
            raise ValueError(f"valid mask shape {valid.shape} differs from errors shape {errors.shape}")
        mask &= valid
    return mask


def _per_joint(errors, valid, stat) -> float:
    """Mean over joints of `stat` of each joint's valid errors; joints without valid samples are skipped."""
    errors = np.asarray(errors, dtype=np.float64)
    mask = _valid_mask(errors, valid)
    values = [stat(errors[mask[:, j], j]) for j in range(errors.shape[1]) if mask[:, j].any()]
    return float(np.mean(values)) if values else float("nan")


def mean_epe(errors, valid=None) -> float:
    """Mean end-point error of (N, J) errors: per-joint means averaged over joints (EvalUtil)."""
    return _per_joint(errors, valid, np.mean)


def median_epe(errors, valid=None) -> float:
    """Median end-point error of (N, J) errors: per-joint medians averaged over joints (EvalUtil)."""
    return _per_joint(errors, valid, np.median)


def pck_curve(errors, grid, valid=None) -> np.ndarray:
    """PCK (T,) of (N, J) errors at each threshold: per-joint fraction of valid errors <= t, joint-averaged."""
    errors = np.asarray(errors, dtype=np.float64)
    grid = np.asarray(grid, dtype=np.float64)
    mask = _valid_mask(errors, valid)
    joints = np.flatnonzero(mask.any(0))
    if len(joints) == 0:
        return np.full(len(grid), np.nan)
    hits = (errors[..., None] <= grid) & mask[..., None]  # (N, J, T)
    per_joint = hits[:, joints].sum(0) / mask[:, joints].sum(0)[:, None]
    return per_joint.mean(0)


def pck(errors, threshold: float, valid=None) -> float:
    """PCK at one threshold (e.g. 2D PCK at 10 px): fraction of valid errors <= threshold, joint-averaged."""
    return float(pck_curve(errors, [threshold], valid)[0])


def auc(curve, grid) -> float:
    """Normalised area under a PCK curve: trapezoid(curve) / trapezoid(1) over the same grid."""
    curve, grid = np.asarray(curve, dtype=np.float64), np.asarray(grid, dtype=np.float64)
    return float(np.trapezoid(curve, grid) / np.trapezoid(np.ones_like(grid), grid))


def procrustes_transform(gt, pred):
    """FreiHAND's similarity fit of pred (P, 3) to gt (P, 3): returns (R, s, gt_norm, gt_mean, pred_mean, pred_norm).

    Both sets are centred and divided by their Frobenius norm (+1e-8, as eval.py); R, s come from
    scipy.linalg.orthogonal_procrustes(gt, pred) (reflections allowed, s = sum of singular values).
    """
    gt, pred = np.asarray(gt, dtype=np.float64), np.asarray(pred, dtype=np.float64)
    gt_mean, pred_mean = gt.mean(0), pred.mean(0)
    gt_norm = np.linalg.norm(gt - gt_mean) + 1e-8
    pred_norm = np.linalg.norm(pred - pred_mean) + 1e-8
    R, s = orthogonal_procrustes((gt - gt_mean) / gt_norm, (pred - pred_mean) / pred_norm, check_finite=False)
    return R, s, gt_norm, gt_mean, pred_mean, pred_norm


def apply_procrustes(points, transform) -> np.ndarray:
    """Apply a procrustes_transform fitted on keypoints to points of the same prediction (e.g. its vertices).

    Points move exactly as the keypoints did: ((points - pred_mean) / pred_norm) R^T s gt_norm + gt_mean.
    eval.py's align_by_trafo (used only for non-MANO meshes) centres on the vertex mean and omits the
    division by pred_norm, which does not map the keypoints onto their alignment; we do not copy that.
    """
    R, s, gt_norm, gt_mean, pred_mean, pred_norm = transform
    points = np.asarray(points, dtype=np.float64)
    return (points - pred_mean) / pred_norm @ R.T * s * gt_norm + gt_mean


def procrustes_align(gt, pred) -> np.ndarray:
    """Prediction aligned to GT as FreiHAND's official evaluation does, for (P, 3) or batched (N, P, 3).

    pred' = ((pred - mean(pred)) / |pred|) R^T s |gt| + mean(gt), norms of the centred sets.
    """
    gt, pred = np.asarray(gt, dtype=np.float64), np.asarray(pred, dtype=np.float64)
    if gt.shape != pred.shape or gt.shape[-1] != 3:
        raise ValueError(f"procrustes_align needs equal (..., P, 3) shapes, got {gt.shape} and {pred.shape}")
    if gt.ndim == 3:
        return np.stack([procrustes_align(g, p) for g, p in zip(gt, pred)])
    return apply_procrustes(pred, procrustes_transform(gt, pred))


def pa_errors(pred, gt) -> np.ndarray:
    """Per-point errors (N, P) after FreiHAND Procrustes alignment of each sample (PA-MPJPE/PA-MPVPE rows)."""
    return keypoint_errors(procrustes_align(gt, pred), gt)


def fscore(pred, gt, thresholds):
    """F-score, precision and recall (each (N, T)) of point sets (N, P, 3) vs (N, Q, 3) at each threshold.

    Precision: fraction of predicted points whose nearest GT point is closer than the threshold;
    recall: fraction of GT points whose nearest predicted point is; F = 2 p r / (p + r), 0 when both are 0.
    (eval.py names the two the other way round; F is symmetric.) Vertex counts may differ. Nearest
    neighbours are searched once per sample for all thresholds (KD-trees, bounded by the largest one).
    """
    pred, gt = np.asarray(pred, dtype=np.float64), np.asarray(gt, dtype=np.float64)
    if pred.ndim != 3 or gt.ndim != 3 or len(pred) != len(gt) or pred.shape[2] != 3 or gt.shape[2] != 3:
        raise ValueError(f"fscore needs (N, P, 3) and (N, Q, 3) point sets, got {pred.shape} and {gt.shape}")
    t = np.asarray(thresholds, dtype=np.float64).reshape(-1)
    precision, recall = np.zeros((len(pred), len(t))), np.zeros((len(pred), len(t)))
    for i, (p, g) in enumerate(zip(pred, gt)):
        d_pred = cKDTree(g, balanced_tree=False).query(p, distance_upper_bound=t.max())[0]
        d_gt = cKDTree(p, balanced_tree=False).query(g, distance_upper_bound=t.max())[0]
        precision[i] = (d_pred[:, None] < t).mean(0)
        recall[i] = (d_gt[:, None] < t).mean(0)
    total = precision + recall
    f = np.divide(2 * precision * recall, total, out=np.zeros_like(total), where=total > 0)
    return f, precision, recall

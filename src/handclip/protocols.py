"""Named evaluation protocols (synth, freihand, rhd, stb, realworld, coco_2d, coco_3d): one batch of predictions and GT -> metric rows.

A protocol is called with numpy dicts: pred {'xyz' (B, 21, 3) mm wrist-relative, optional 'verts'
(B, V, 3) mm relative to the same wrist, optional 'uv' (B, 21, 2) px} and gt {'xyz' (B, 21, 3) mm camera
frame, optional 'valid' (B, 21), 'verts' (B, V', 3) mm camera frame, 'uv' (B, 21, 2) px}. It returns rows:
an array (B, 21) holds per-joint errors, NaN where the joint is not valid (summarised as mean/median EPE
and AUC on the protocol's grids, handclip.evaluator); an array (B,) holds one value per sample (averaged).
Row names: mpjpe, pa_mpjpe (mm), epe_2d (px), mpvpe, pa_mpvpe (mm, per-sample mean vertex error),
epe_2d_box (px over gt 'box_side' (B,), a hand box's longer side in px: the coco protocols),
f5, f15 (unaligned F-scores) and pa_f5, pa_f15 (after Procrustes; the "F@5mm / F@15mm" of the papers);
depth_error (mm): |z_pred - z_gt| per joint after the protocol's root alignment (and scale), the depth
part of mpjpe on its own; pa_mpjpe_gt_uv (mm, when gt carries 'uv' and 'K' (B, 3, 3)): a diagnostic, the
predicted wrist-relative depths put on the GT pixels (back-projected from the GT wrist depth) and
Procrustes-aligned, so it isolates the depth a method learned from its 2D error.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from handclip import metrics
from handclip.geometry import backproject, bone_length, palm_from_wrist, root_relative

ROW_UNITS = {"mpjpe": "mm", "pa_mpjpe": "mm", "epe_2d": "px", "mpvpe": "mm", "pa_mpvpe": "mm", "depth_error": "mm",
             "pa_mpjpe_gt_uv": "mm", "epe_2d_box": "box", "epe_2d_image": "px"}
F_THRESHOLDS_MM = (5.0, 15.0)
_MIN_BONE_MM = 1e-6


def _array(d: dict, key: str, who: str) -> np.ndarray:
    """d[key] as float64, with a clear error when missing or non-finite."""
    if key not in d:
        raise KeyError(f"{who} has no {key!r} (keys: {sorted(d)})")
    a = np.asarray(d[key], dtype=np.float64)
    if not np.isfinite(a).all():
        raise ValueError(f"{who} {key!r} contains NaN or inf")
    return a


def _joints(pred: dict, gt: dict):
    """Predicted and GT joints (B, 21, 3) and the GT valid mask (B, 21), shapes checked."""
    p, g = _array(pred, "xyz", "prediction"), _array(gt, "xyz", "ground truth")
    if p.shape != g.shape or p.shape[1:] != (21, 3):
        raise ValueError(f"expected prediction and ground truth 'xyz' of shape (B, 21, 3), got {p.shape} and {g.shape}")
    valid = np.asarray(gt["valid"], dtype=bool) if "valid" in gt else np.ones(g.shape[:2], dtype=bool)
    if valid.shape != g.shape[:2]:
        raise ValueError(f"ground truth 'valid' has shape {valid.shape}, expected {g.shape[:2]}")
    return p, g, valid


def _masked(errors: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Errors with NaN where the joint is not valid."""
    return np.where(valid, errors, np.nan)


def _rows_2d(pred: dict, gt: dict, valid: np.ndarray) -> dict:
    """2D pixel errors when both sides carry 'uv'."""
    if "uv" not in pred or "uv" not in gt:
        return {}
    errors = metrics.keypoint_errors(_array(pred, "uv", "prediction"), _array(gt, "uv", "ground truth"))
    return {"epe_2d": _masked(errors, valid)}


def _rows_depth(pred_rel: np.ndarray, gt_rel: np.ndarray, gt_abs: np.ndarray, gt: dict, valid: np.ndarray) -> dict:
    """depth_error of root-aligned joints and, when gt has 'uv' and 'K', pa_mpjpe_gt_uv: the predicted
    depths relative to the wrist, added to the GT wrist depth, back-projected through the GT pixels."""
    rows = {"depth_error": _masked(np.abs(pred_rel[..., 2] - gt_rel[..., 2]), valid)}
    if "uv" in gt and "K" in gt:
        uv, K = _array(gt, "uv", "ground truth"), _array(gt, "K", "ground truth")
        if K.shape != (len(gt_abs), 3, 3):
            raise ValueError(f"ground truth 'K' has shape {K.shape}, expected ({len(gt_abs)}, 3, 3)")
        z = gt_abs[:, :1, 2] + pred_rel[..., 2] - pred_rel[:, :1, 2]
        rows["pa_mpjpe_gt_uv"] = _masked(metrics.pa_errors(backproject(uv, z, K), gt_abs), valid)
    return rows


def _rows_mesh(pred: dict, gt: dict, pred_xyz: np.ndarray, gt_xyz: np.ndarray) -> dict:
    """Vertex errors and F-scores of meshes made relative to their joints' wrists, as FreiHAND's eval.py.

    Same vertex count: MPVPE and PA-MPVPE, the mesh aligned by its own Procrustes fit. Different counts
    (e.g. a 778-vertex prediction against another template): no vertex errors, and the mesh is aligned
    with the keypoints' fit. F-scores compare nearest neighbours, unaligned (f5, f15) and aligned.
    """
    if "verts" not in pred or "verts" not in gt:
        return {}
    pv = _array(pred, "verts", "prediction") - pred_xyz[:, :1]
    gv = _array(gt, "verts", "ground truth") - gt_xyz[:, :1]
    pred_xyz, gt_xyz = pred_xyz - pred_xyz[:, :1], gt_xyz - gt_xyz[:, :1]
    rows = {}
    if pv.shape == gv.shape:
        aligned = metrics.procrustes_align(gv, pv)
        rows["mpvpe"] = metrics.keypoint_errors(pv, gv).mean(1)
        rows["pa_mpvpe"] = metrics.keypoint_errors(aligned, gv).mean(1)
    else:
        aligned = np.stack(
            [metrics.apply_procrustes(v, metrics.procrustes_transform(g, p)) for v, g, p in zip(pv, gt_xyz, pred_xyz)]
        )
    f, f_aligned = metrics.fscore(pv, gv, F_THRESHOLDS_MM)[0], metrics.fscore(aligned, gv, F_THRESHOLDS_MM)[0]
    for k, t in enumerate(F_THRESHOLDS_MM):
        rows[f"f{t:g}"], rows[f"pa_f{t:g}"] = f[:, k], f_aligned[:, k]
    return rows


class Protocol:
    """An evaluation preset: `curves` maps each per-joint row to the named threshold grids of its AUCs,
    `pck` to the thresholds at which its PCK is reported."""

    name: str = ""
    curves: dict[str, tuple[str, ...]] = {}
    pck: dict[str, tuple[float, ...]] = {}

    def settings(self) -> dict:
        """The choices that define this protocol, written next to its results."""
        return {"curves": {k: list(v) for k, v in self.curves.items()}}

    def __call__(self, pred: dict, gt: dict) -> dict[str, np.ndarray]:
        """Metric rows of one batch (see the module docstring)."""
        raise NotImplementedError


class WristProtocol(Protocol):
    """Wrist-relative joints and meshes, unaligned and Procrustes-aligned (the synth and freihand presets).

    FreiHAND's official unaligned error compares absolute camera coordinates; a crop fixes no absolute
    depth, so our unaligned rows compare wrist-relative coordinates (both wrists at the origin).
    The aligned rows are exactly eval.py's (scale, rotation with reflections, translation per sample).
    All 21 joints are averaged, the wrist included (its unaligned error is 0 by construction), visible
    or not: eval.py scores every joint, and the synthetic labels of occluded joints are exact ('valid'
    marks visibility there), so occluded joints, the hard ones, stay in the score.
    """

    def __init__(self, name: str, grids: tuple[str, ...]):
        for grid in grids:
            metrics.thresholds(grid)
        self.name = name
        self.curves = {"mpjpe": grids, "pa_mpjpe": grids, "epe_2d": ("zb_2d_px",)}

    def __call__(self, pred: dict, gt: dict) -> dict[str, np.ndarray]:
        p_abs, g_abs, _ = _joints(pred, gt)
        p, g = root_relative(p_abs, "wrist"), root_relative(g_abs, "wrist")
        rows = {"mpjpe": metrics.keypoint_errors(p, g), "pa_mpjpe": metrics.pa_errors(p, g)}
        everything = np.ones(g.shape[:2], dtype=bool)
        rows.update(_rows_depth(p, g, g_abs, gt, everything))
        rows.update(_rows_2d(pred, gt, everything))
        rows.update(_rows_mesh(pred, gt, p_abs, g_abs))
        return rows


class RootScaleProtocol(Protocol):
    """Zimmermann & Brox's RHD/STB protocol: root-relative joints at the GT scale.

    GT: joints minus the GT root. Prediction: joints minus its own root; with scale='own' (default) also
    divided by its own middle MCP-PIP bone and multiplied by the GT bone. This reproduces hand3d's
    eval, where the PosePrior outputs root-relative joints normalised to a unit bone and the script
    multiplies them by the GT bone length (`keypoint_scale`): for a prediction in mm, normalising by its
    own bone first is the same thing. scale='none' compares the root-relative mm prediction as it is.
    root: 'palm' (wrist + palm_k (middle MCP - wrist); k = 0.5 is hand3d's default, and STB's labelled
    palm when the reader used the same palm_k) or 'wrist'.
    All 21 canonical joints are scored (with root='wrist' the wrist row is 0, as hand3d scores its root).
    """

    def __init__(
        self,
        name: str,
        root: str = "palm",
        scale: str = "own",
        grid: str = "zb_20_50",
        procrustes: bool = False,
        palm_k: float = 0.5,
    ):
        if root not in ("palm", "wrist"):
            raise ValueError(f"{name}: root must be 'palm' or 'wrist', got {root!r}")
        if scale not in ("own", "none"):
            raise ValueError(f"{name}: scale must be 'own' or 'none', got {scale!r}")
        metrics.thresholds(grid)
        self.name, self.root, self.scale, self.grid, self.palm_k = name, root, scale, grid, float(palm_k)
        self.curves = {"mpjpe": (grid,), "epe_2d": ("zb_2d_px",)}
        if procrustes:
            self.curves["pa_mpjpe"] = (grid,)

    def settings(self) -> dict:
        return {**super().settings(), "root": self.root, "scale": self.scale, "grid": self.grid, "palm_k": self.palm_k}

    def _relative(self, xyz: np.ndarray) -> np.ndarray:
        """Joints minus the protocol's root."""
        if self.root == "wrist":
            return root_relative(xyz, "wrist")
        return xyz - palm_from_wrist(xyz, self.palm_k)[:, :1]

    def __call__(self, pred: dict, gt: dict) -> dict[str, np.ndarray]:
        p, g_abs, valid = _joints(pred, gt)
        p, g = self._relative(p), self._relative(g_abs)
        if self.scale == "own":
            p = p * (bone_length(g) / np.maximum(bone_length(p), _MIN_BONE_MM))[:, None, None]
        rows = {"mpjpe": _masked(metrics.keypoint_errors(p, g), valid)}
        if "pa_mpjpe" in self.curves:
            rows["pa_mpjpe"] = _masked(metrics.pa_errors(p, g), valid)
        rows.update(_rows_depth(p, g, g_abs, gt, valid))
        rows.update(_rows_2d(pred, gt, valid))
        return rows


class BoxProtocol(Protocol):
    """2D keypoints of hand boxes (COCO hand sets, as mmpose scores them), plus WristProtocol's 3D rows when asked.

    epe_2d: pixel error in the crop (labelled joints only), AUC over 0-30 px; epe_2d_box: the error over
    the labelled box's longer side (gt 'box_side', crop px), reported as PCK@0.2 of the box; epe_2d_image: the
    error in the photo's own pixels (gt 'image_px', photo px per crop px), the unit of full-frame peers such as
    MediaPipe, whose crops are not resampled to one size.
    """

    def __init__(self, name: str, three_d: bool = False, pck_box: float = 0.2):
        self.name = name
        self.wrist = WristProtocol(name, ("freihand",)) if three_d else None
        self.curves = {**(self.wrist.curves if self.wrist else {}), "epe_2d": ("zb_2d_px",)}
        self.pck = {"epe_2d_box": (float(pck_box),)}

    def settings(self) -> dict:
        return {**super().settings(), "pck": {k: list(v) for k, v in self.pck.items()}}

    def __call__(self, pred: dict, gt: dict) -> dict[str, np.ndarray]:
        rows = self.wrist(pred, gt) if self.wrist else {}
        p_uv, g_uv = _array(pred, "uv", "prediction"), _array(gt, "uv", "ground truth")
        valid = np.asarray(gt["valid"], dtype=bool) if "valid" in gt else np.ones(g_uv.shape[:2], dtype=bool)
        errors = metrics.keypoint_errors(p_uv, g_uv)
        rows["epe_2d"] = _masked(errors, valid)
        rows["epe_2d_box"] = _masked(errors / _array(gt, "box_side", "ground truth")[:, None], valid)
        if "image_px" in gt:
            rows["epe_2d_image"] = _masked(errors * np.asarray(gt["image_px"], np.float64)[:, None], valid)
        return rows


_PRESETS = {
    # Synthetic domains: AUC on both the 20-50 mm grid of RHD/STB tables and FreiHAND's 0-50 mm grid.
    "synth": lambda **kw: WristProtocol("synth", **{"grids": ("zb_20_50", "freihand"), **kw}),
    "freihand": lambda **kw: WristProtocol("freihand", **{"grids": ("freihand",), **kw}),
    "rhd": lambda **kw: RootScaleProtocol("rhd", **kw),
    "stb": lambda **kw: RootScaleProtocol("stb", **kw),
    # Ge et al. (CVPR 2019) assume the global scale and root known, as Zimmermann & Brox; they report the
    # mean joint error in mm. Root = wrist; PA-MPJPE added for comparison with MediaPipe and meshes.
    "realworld": lambda **kw: RootScaleProtocol("realworld", **{"root": "wrist", "procrustes": True, **kw}),
    # COCO hand sets: 2D in the crop and PCK@0.2 of the box; coco_3d adds wrist-relative MPJPE and PA-MPJPE.
    "coco_2d": lambda **kw: BoxProtocol("coco_2d", **kw),
    "coco_3d": lambda **kw: BoxProtocol("coco_3d", **{"three_d": True, **kw}),
}


def get(name: str, **kwargs) -> Protocol:
    """The evaluation protocol `name` (synth, freihand, rhd, stb, realworld, coco_2d, coco_3d), options as keyword arguments."""
    if name not in _PRESETS:
        raise KeyError(f"unknown evaluation protocol {name!r}; known: {sorted(_PRESETS)}")
    return _PRESETS[name](**kwargs)


def write_freihand_pred(path, xyz, verts, root=None) -> Path:
    """Write FreiHAND's official submission file pred.json = [xyz (N, 21, 3) m, verts (N, V, 3) m].

    Inputs in mm: wrist-relative predictions plus `root` (N, 3), the absolute wrist position in mm if the
    method estimates one (the unaligned scores of the benchmark need absolute coordinates; the aligned
    scores, the ones papers report, do not). V = 778 for MANO meshes; eval.py accepts other counts.
    """
    xyz, verts = np.asarray(xyz, dtype=np.float64), np.asarray(verts, dtype=np.float64)
    if xyz.ndim != 3 or xyz.shape[1:] != (21, 3):
        raise ValueError(f"{path}: xyz must have shape (N, 21, 3), got {xyz.shape}")
    if verts.ndim != 3 or verts.shape[0] != xyz.shape[0] or verts.shape[2] != 3:
        raise ValueError(f"{path}: verts must have shape ({xyz.shape[0]}, V, 3), got {verts.shape}")
    if root is not None:
        root = np.asarray(root, dtype=np.float64).reshape(-1, 1, 3)
        if root.shape[0] != xyz.shape[0]:
            raise ValueError(f"{path}: root must have shape ({xyz.shape[0]}, 3), got {root.shape[0]} rows")
        xyz, verts = xyz + root, verts + root
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([(xyz / 1000.0).tolist(), (verts / 1000.0).tolist()]))
    return path

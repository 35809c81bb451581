"""A 3D view of joints (and the mesh when present) on a matplotlib Axes3D, in the camera frame."""

from __future__ import annotations

import numpy as np

from handclip.skeleton import BONES, NUM_JOINTS
from handclip.viz.colours import joint_rgb, rgb01


def _to_plot(points: np.ndarray) -> np.ndarray:
    """Camera frame (x right, y down, z forward) to plot axes (x right, depth z away, up = -y)."""
    return np.stack([points[..., 0], points[..., 2], -points[..., 1]], -1)


def plot_pose3d(ax, xyz, verts=None, faces=None, title: str | None = None) -> None:
    """Draw the 21 joints `xyz` (mm) with per-finger bones; `verts` as a shaded mesh when `faces` is given,
    else as a light point cloud. Axes get equal scale so hand proportions are true."""
    from mpl_toolkits.mplot3d.art3d import Poly3DCollection

    xyz = np.asarray(xyz, dtype=np.float64)
    if xyz.shape != (NUM_JOINTS, 3):
        raise ValueError(f"plot_pose3d needs xyz of shape ({NUM_JOINTS}, 3), got {xyz.shape}")
    p = _to_plot(xyz)
    extent = [p]
    if verts is not None:
        v = _to_plot(np.asarray(verts, dtype=np.float64))
        extent.append(v)
        if faces is not None:
            mesh = Poly3DCollection(v[np.asarray(faces)], facecolor=(0.85, 0.75, 0.65, 0.35), edgecolor=(0.5, 0.5, 0.5, 0.08), linewidths=0.2)
            ax.add_collection3d(mesh)
        else:
            ax.scatter(v[:, 0], v[:, 1], v[:, 2], s=0.5, c=[(0.5, 0.5, 0.5)], alpha=0.3)
    for parent, child in BONES:
        seg = p[[parent, child]]
        ax.plot(seg[:, 0], seg[:, 1], seg[:, 2], color=rgb01(joint_rgb(child)), linewidth=2)
    ax.scatter(p[:, 0], p[:, 1], p[:, 2], s=8, c=[rgb01(joint_rgb(k)) for k in range(NUM_JOINTS)], depthshade=False)
    pts = np.concatenate(extent)
    centre, half = (pts.max(0) + pts.min(0)) / 2, max((pts.max(0) - pts.min(0)).max() / 2, 1.0)
    ax.set_xlim(centre[0] - half, centre[0] + half)
    ax.set_ylim(centre[1] - half, centre[1] + half)
    ax.set_zlim(centre[2] - half, centre[2] + half)
    ax.set_box_aspect((1, 1, 1))
    ax.set_xlabel("x (mm)")
    ax.set_ylabel("z (mm)")
    ax.set_zlabel("-y (mm)")
    ax.view_init(elev=15, azim=-70)
    if title:
        ax.set_title(title)

"""Figures and numbers of the renderer's pose prior: a pose sheet, joint-angle histograms, the mean pose on real labels.

    python scripts/pose_prior_report.py --out docs/renderer [--n 3000] [--real ../shared/realdev/hxp3d]

writes OUT/pose_sheet.png (every hand shape of pose_prior.KINDS, palm and side view of two draws),
OUT/joint_angles.png (histograms of the drawn angles with the anatomical limits dashed) and
OUT/pose_prior.json (kind frequencies, angle percentiles and, with --real, the PA-MPJPE of the renders'
mean pose and of the real set's own mean pose on the real set's `joint_cam` labels, and where the thumb's
CMC, MCP and tip stand off the wrist -> middle MCP axis in the palm's plane on both; evaluation only).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib
import numpy as np
from PIL import Image, ImageDraw
from tqdm import tqdm

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from handclip.data.synth import pose_prior  # noqa: E402
from handclip.data.synth.mesh import GLTF_TO_VIEW, forward_kinematics, keypoints, load_template, skin  # noqa: E402
from handclip.data.synth.poses import rot_y, sample_pose, sample_shape  # noqa: E402
from handclip.data.synth.scene import pose_hand  # noqa: E402
from handclip.metrics import pa_errors, procrustes_align  # noqa: E402
from handclip.skeleton import angles_off_palm_axis  # noqa: E402
from handclip.viz.mesh_overlay import draw_overlay  # noqa: E402
from handclip.viz.save import save_figure  # noqa: E402

TILE = 100
FINGERS = ("index", "middle", "ring", "little")


def tile(xyz: np.ndarray, verts: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """A white TILE x TILE image of one posed hand (view-frame mm) with its skeleton, scaled to fit."""
    lo, hi = verts[:, :2].min(0), verts[:, :2].max(0)
    s = 0.9 * TILE / (hi - lo).max()
    t = TILE / 2 - s * (lo + hi) / 2
    pred = {"xyz": xyz, "uv": s * xyz[:, :2] + t, "verts": verts - verts[:, 2:].mean()}
    return draw_overlay(np.full((TILE, TILE, 3), 255, np.uint8), pred, faces)


def pose_sheet(out: Path, seed: int = 0) -> Path:
    """Palm and side view of two draws of every hand shape (each on its own hand shape), wrist straight,
    two shapes a row, as a 256-colour PNG."""
    t = load_template()
    rng = np.random.default_rng(seed)
    views = (GLTF_TO_VIEW, rot_y(90.0) @ GLTF_TO_VIEW)
    rows = []
    for kind in pose_prior.kind_names():
        tiles = []
        for _ in range(2):
            shape = sample_shape(t, rng)
            world = forward_kinematics(t, sample_pose(t, rng, kind).local_rot, shape.maps)
            verts, joints = skin(t, world, shape.maps), keypoints(world)
            tiles += [tile(joints @ R.T, verts @ R.T, t.faces) for R in views]
        row = Image.fromarray(np.concatenate(tiles, 1))
        ImageDraw.Draw(row).text((4, 2), kind, fill=(0, 0, 0))
        rows.append(np.asarray(row))
    if len(rows) % 2:
        rows.append(np.full_like(rows[0], 255))
    half = len(rows) // 2
    sheet = np.concatenate([np.concatenate(rows[:half], 0), np.concatenate(rows[half:], 0)], 1)
    path = out / "pose_sheet.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(sheet).quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(path, optimize=True)
    return path


def draw_angles(n: int, seed: int = 1) -> tuple[dict, dict[str, np.ndarray]]:
    """Kind counts and angle samples (deg) of n hands drawn from the prior (as the renderer draws them)."""
    t = load_template()
    rng = np.random.default_rng(seed)
    kinds, fingers, thumb, wrist = {}, [], [], []
    for _ in tqdm(range(n), desc="pose prior", leave=False):
        pose = sample_pose(t, rng)
        kinds[pose.kind] = kinds.get(pose.kind, 0) + 1
        fingers.append(pose.angles.fingers)
        thumb.append(pose.angles.thumb)
        wrist.append(pose_prior.sample_wrist_angles(rng))
    return kinds, {"fingers": np.array(fingers), "thumb": np.array(thumb), "wrist": np.array(wrist)}


def histograms(angles: dict[str, np.ndarray], out: Path) -> Path:
    """Joint-angle histograms: finger MCP/abduction/PIP/DIP (one line per finger), thumb, wrist; limits dashed."""
    panels = [("finger " + name, angles["fingers"][:, :, k], pose_prior.FINGER_LIMITS[:, k], FINGERS)
              for k, name in enumerate(("MCP flexion", "MCP abduction", "PIP flexion", "DIP flexion"))]
    panels += [(f"thumb {name}", angles["thumb"][:, k:k + 1], pose_prior.THUMB_LIMITS[k:k + 1], ("thumb",))
               for k, name in enumerate(("CMC flexion", "CMC abduction", "MCP flexion", "IP flexion"))]
    panels += [(f"wrist {name}", angles["wrist"][:, k:k + 1], pose_prior.WRIST_LIMITS[k:k + 1], ("wrist",))
               for k, name in enumerate(("flexion", "radial deviation"))]
    fig, axes = plt.subplots(2, 5, figsize=(15, 5.2))
    for ax, (title, values, limits, labels) in zip(axes.ravel(), panels):
        bins = np.linspace(limits[:, 0].min() - 5, limits[:, 1].max() + 5, 40)
        for j, label in enumerate(labels):
            ax.hist(values[:, j], bins=bins, histtype="step", label=label)
            for x in limits[j]:
                ax.axvline(x, ls="--", lw=0.8, color=f"C{j}")
        ax.set_title(title + " (deg)", fontsize=9)
        ax.tick_params(labelsize=7)
    axes[0, 0].legend(fontsize=7)
    axes.ravel()[-1].axis("off")
    fig.tight_layout()
    path = save_figure(fig, out / "joint_angles.png", dpi=70, palette=True)
    plt.close(fig)
    return path


def generalised_mean(poses: np.ndarray, iterations: int = 5) -> np.ndarray:
    """Mean shape (21, 3) of wrist-relative poses under similarity alignment (generalised Procrustes)."""
    mean = poses[0]
    for _ in range(iterations):
        mean = procrustes_align(np.broadcast_to(mean, poses.shape), poses).mean(0)
    return mean


THUMB_JOINTS = {"cmc": 1, "mcp": 2, "tip": 4}


def thumb_angles(xyz: np.ndarray) -> dict:
    """Percentiles 10/50/90 of the angle (deg) at the wrist between each THUMB_JOINTS joint and the middle MCP,
    in the palm's plane of each hand (N, 21, 3): skeleton.angles_off_palm_axis."""
    angles = angles_off_palm_axis(xyz, list(THUMB_JOINTS.values()))
    return {name: np.percentile(angles[:, k], [10, 50, 90]).round(1).tolist() for k, name in enumerate(THUMB_JOINTS)}


def mean_pose_scores(n: int, real: Path, seed: int = 2) -> dict:
    """PA-MPJPE (mm) on the real set's labels of the renders' and the real set's own mean pose, both
    as the mean_pose method takes it (mean of wrist-relative camera-frame labels) and as a Procrustes mean."""
    rng = np.random.default_rng(seed)
    renders = np.array([pose_hand(rng).joints for _ in tqdm(range(n), desc="render labels", leave=False)])
    ann = json.loads((real / "annotations.json").read_text())
    gt = np.array([a["joint_cam"] for a in ann["annotations"]], np.float64)
    gt = gt - gt[:, :1]

    def score(mean):
        return float(pa_errors(np.broadcast_to(mean, gt.shape), gt).mean())

    return {
        "real_set": str(real), "real_samples": len(gt), "render_samples": n,
        "renders_mean": score(renders.mean(0)), "real_own_mean": score(gt.mean(0)),
        "renders_procrustes_mean": score(generalised_mean(renders)),
        "real_own_procrustes_mean": score(generalised_mean(gt)),
        "thumb_angle_palm_plane_p10_50_90": {"renders": thumb_angles(renders), "real": thumb_angles(gt)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--n", type=int, default=3000, help="hands drawn for the histograms and the mean pose")
    parser.add_argument("--real", type=Path, help="a COCO-style set with joint_cam labels (e.g. realdev/hxp3d)")
    args = parser.parse_args()
    kinds, angles = draw_angles(args.n)
    report = {
        "n": args.n, "kinds": dict(sorted(kinds.items())),
        "percentiles_5_50_95": {
            "fingers_mcp_abd_pip_dip": np.percentile(angles["fingers"], [5, 50, 95], axis=0).round(1).tolist(),
            "thumb_cmc_flex_cmc_abd_mcp_ip": np.percentile(angles["thumb"], [5, 50, 95], axis=0).round(1).tolist(),
            "wrist_flex_dev": np.percentile(angles["wrist"], [5, 50, 95], axis=0).round(1).tolist(),
        },
        "figures": [str(histograms(angles, args.out)), str(pose_sheet(args.out))],
    }
    if args.real:
        report["mean_pose_pa_mpjpe_mm"] = mean_pose_scores(args.n, args.real)
    (args.out / "pose_prior.json").write_text(json.dumps(report, indent=1))
    print(json.dumps(report.get("mean_pose_pa_mpjpe_mm", {}), indent=1))


if __name__ == "__main__":
    main()

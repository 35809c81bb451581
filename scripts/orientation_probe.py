"""Probe (issue 12): does a pose model read which way a hand faces, on photos and on renders?

Photos: the lstm2d hands of ../shared/realdev at their labelled boxes (x 1.5), scored as given, with the wrong side
(mirrored the other way), and under image changes (greyscale, contrast, gamma, blur, skin smoothing). Renders:
open hands turned palm or back to the camera (the `webcam` domain), scored as rendered, with the wrong side, in
greyscale, with palms and nails painted the back's colour, and under flat frontal light. A model that reads the
hand's facing loses much with the wrong side; one line of JSON per part.

    python scripts/orientation_probe.py clip_hand3d_cpu --n 120
"""
from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

import cv2
import numpy as np

import handclip
from handclip.api import read_image
from handclip.data.coco_hand import coco_hands
from handclip.data.io import load_json
from handclip.data.synth.appearance import photograph
from handclip.data.synth.domains import sample_style
from handclip.data.synth.poses import frame_points, sample_intrinsics, rot_x, rot_y, rot_z
from handclip.data.synth.raster import Light
from handclip.data.synth.scene import PosedHand, limb, pose_hand
from handclip.engine.config import load_config

OPEN_KINDS = ("open", "spread", "five", "relaxed")


def grey(image: np.ndarray) -> np.ndarray:
    return np.repeat(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)[..., None], 3, -1)


PHOTO_CHANGES = {
    "greyscale": grey,
    "contrast x1.5": lambda f: np.clip((f.astype(float) - f.mean()) * 1.5 + f.mean(), 0, 255).astype(np.uint8),
    "gamma 1.6": lambda f: (255 * (f / 255.0) ** 1.6).astype(np.uint8),
    "blur 5 px": lambda f: cv2.GaussianBlur(f, (5, 5), 0),
    "skin smoothed (bilateral)": lambda f: cv2.bilateralFilter(f, 9, 40, 5),
}


def lstm2d_root() -> Path:
    """lstm2d's folder as configs/datasets/realdev.yaml names it (../shared/realdev/lstm2d from the repository root)."""
    return Path(next(e["root"] for e in load_config("datasets/realdev")["data"]["val"] if e["label"] == "lstm2d"))


def photos(predictor, root: Path, step: int) -> dict:
    """lstm2d PCK@0.2 of the box side and EPE at 256 px, as given, with the wrong side, and under each change."""
    path = root / "annotations.json"
    hands = coco_hands(load_json(path), path)[::step]
    frames = [read_image(root / h["image"]["file_name"]) for h in hands]
    gt = np.array([h["kpts"][:, :2] for h in hands])
    side = np.array([max(h["bbox"][2:]) for h in hands])
    boxes = [(x + w / 2 - s * 0.75, y + h / 2 - s * 0.75, s * 1.5, s * 1.5)
             for (x, y, w, h), s in zip((h["bbox"] for h in hands), side)]
    lefts = [h["side"] == "left" for h in hands]

    def score(images, left) -> dict:
        uv = np.array([r["uv"] for r in predictor.predict(images, boxes=boxes, left=left)])
        e = np.linalg.norm(uv - gt, axis=-1)
        return {"pck_0.2": round(float((e < 0.2 * side[:, None]).mean()), 3),
                "epe_px_at_256": round(float((e * 256 / (1.5 * side[:, None])).mean()), 1)}

    out = {"n": len(hands), "as given": score(frames, lefts), "wrong side": score(frames, [not v for v in lefts])}
    for name, change in PHOTO_CHANGES.items():
        out[name] = score([change(f) for f in frames], lefts)
    return out


def facing(posed: PosedHand, rng: np.random.Generator, back: bool) -> PosedHand:
    """The hand turned palm (or back) to the camera, fingers up, with a little tilt and roll; wrist at the origin."""
    j = posed.joints
    normal = np.cross(j[5] - j[0], j[17] - j[0])  # out of a right hand's palm
    up = j[9] - j[0]
    basis = np.stack([np.cross(up, normal), up, normal])
    basis /= np.linalg.norm(basis, axis=1, keepdims=True)
    target = np.diag([-1.0 if back else 1.0, -1.0, 1.0 if back else -1.0])  # palm to -z (camera), fingers up (-y)
    R = rot_z(rng.normal(0, 15)) @ rot_x(rng.uniform(-20, 20)) @ rot_y(rng.normal(0, 20)) @ target @ basis
    return PosedHand(posed.hand @ R.T, j @ R.T, posed.arm @ R.T, posed.arm_normals @ R.T)


def flat_light(style):
    """The style's light made frontal and mostly ambient (no shading to read the shape from)."""
    total = style.light.colors.sum(0) * 0.45 + style.light.ambient
    front = np.array([[0.0, -0.3, -1.0], [0.0, -0.3, -1.0]]) / np.sqrt(1.09)
    return style._replace(light=Light(front, np.stack([total * 0.25, total * 0.0]), total * 0.75))


def renders(predictor, n: int) -> dict:
    """2D EPE (px at 256) on n open hands facing the camera, rendered as they are and with cues removed."""
    variants = {"as rendered": {}, "wrong side": {"flip": True}, "greyscale": {"grey": True},
                "palm and nails in the back's colour": {"plain": True}, "flat frontal light": {"flat": True}}
    out = {"n": n}
    for name, v in variants.items():
        rng = np.random.default_rng(5)
        images, uvs = [], []
        for i in range(n):
            posed = facing(pose_hand(rng, OPEN_KINDS[i % len(OPEN_KINDS)]), rng, back=bool(i % 2))
            K = sample_intrinsics(rng, 256)
            posed = posed.moved(frame_points(posed.hand, K, 256, rng.uniform(0.5, 0.75)))
            style = sample_style("webcam", rng, 256)
            if v.get("plain"):
                style = style._replace(skin=style.skin._replace(palm=style.skin.back, nail=style.skin.back))
            if v.get("flat"):
                style = flat_light(style)
            image = photograph([limb(posed)], style, K, 256, rng).image
            images.append(grey(image) if v.get("grey") else image)
            uvs.append(posed.joints[:, :2] / posed.joints[:, 2:] * K[0, 0] + K[:2, 2])
        pred = predictor.predict(images, left=bool(v.get("flip")))
        out[name] = round(float(np.mean([np.linalg.norm(np.asarray(r["uv"]) - u, axis=1).mean()
                                         for r, u in zip(pred, uvs)])), 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default=None, help="a shipped model's name or a checkpoint (default model)")
    parser.add_argument("--n", type=int, default=120, help="renders per variant")
    parser.add_argument("--step", type=int, default=2, help="every step-th lstm2d hand")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message="box .* reaches past")
    predictor = handclip.load(args.model)
    root = lstm2d_root()
    if root.is_dir():
        print(json.dumps({"part": "photos (lstm2d)", **photos(predictor, root, args.step)}))
    else:
        print(json.dumps({"part": "photos", "skipped": f"{root} not found"}))
    print(json.dumps({"part": "renders (webcam, open hands facing the camera)", **renders(predictor, args.n)}))


if __name__ == "__main__":
    main()

"""Build the small reader fixtures under tests/fixtures in each dataset's official layout.

Pixels and labels come from mmpose's real samples (../shared/fixtures/mmpose): the three RHD renders
carry real 3D joints and intrinsics; the FreiHAND images carry 2D joints only. What cannot come from
them is made here and said so in tests/fixtures/README.md. Run: python scripts/make_fixtures.py
"""

from __future__ import annotations

import argparse
import json
import pickle
import shutil
from pathlib import Path

import cv2
import numpy as np
from scipy.io import savemat

from handclip.data.stb import BB_BASELINE, BB_K, SK_K, SK_ROTATION_VECTOR, SK_TRANSLATION
from handclip.data import build_dataset
from handclip.geometry import axis_angle_to_matrix, bone_length, palm_from_wrist, project, square_box
from handclip.skeleton import BONES, SOURCE_TO_CANONICAL, mirror_image, mirror_K, mirror_xyz, to_canonical
from handclip.viz.grid import save_overlay_grid
from handclip.viz.skeleton2d import draw_skeleton

ROOT = Path(__file__).resolve().parents[1]
MMPOSE = ROOT.parent / "shared" / "fixtures" / "mmpose"
FREIHAND_FOCAL, FREIHAND_CENTRE = 480.0, 111.5  # chosen intrinsics of the FreiHAND fixture (224 px)


def from_canonical(canon: np.ndarray, source: str) -> np.ndarray:
    """Inverse of skeleton.to_canonical for a one-hand layout: source-ordered joints."""
    out = np.empty_like(canon)
    out[..., list(SOURCE_TO_CANONICAL[source]), :] = canon
    return out


def bone_cloud(xyz: np.ndarray, n: int = 778) -> np.ndarray:
    """A stand-in 'mesh' (n, 3): points spread along the 20 bones of `xyz` (not a MANO surface)."""
    steps = int(np.ceil(n / len(BONES)))
    t = np.linspace(0.0, 1.0, steps)
    pts = [xyz[a] + ti * (xyz[b] - xyz[a]) for ti in t for a, b in BONES]
    return np.asarray(pts[:n])


def skeleton_mask(uv: np.ndarray, shape, value_of_joint, thickness: int = 9) -> np.ndarray:
    """A label image with each bone drawn as a thick line (value of its child joint)."""
    mask = np.zeros(shape, np.uint8)
    for a, b in BONES:
        pa, pb = tuple(int(round(x)) for x in uv[a]), tuple(int(round(x)) for x in uv[b])
        cv2.line(mask, pa, pb, int(value_of_joint(b)), thickness)
    return mask


def rotation_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The smallest rotation R with R a/|a| = b/|b| (Rodrigues)."""
    a, b = a / np.linalg.norm(a), b / np.linalg.norm(b)
    axis = np.cross(a, b)
    s, c = np.linalg.norm(axis), float(a @ b)
    if s < 1e-12:
        return np.eye(3)
    return axis_angle_to_matrix(axis / s * np.arctan2(s, c))


def recamera(image: np.ndarray, K_src: np.ndarray, xyz: np.ndarray, K_dst: np.ndarray, size, aim_uv) -> tuple[np.ndarray, np.ndarray]:
    """Re-shoot `image` with camera K_dst rotated so the hand centroid lands at pixel aim_uv.

    A pure rotation R of the camera maps pixels by the homography K_dst R K_src^-1 whatever the
    depth, so the warped photo and the rotated joints xyz R^T stay exactly consistent.
    """
    target = np.linalg.inv(K_dst) @ np.array([aim_uv[0], aim_uv[1], 1.0])
    R = rotation_between(xyz.mean(0), target)
    H = K_dst @ R @ np.linalg.inv(K_src)
    out = cv2.warpPerspective(image, H, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    xyz = xyz @ R.T
    cx, cy, side = square_box(project(xyz, K_dst), 1.6)  # black out the rest: keeps the PNG small
    keep = np.zeros(out.shape[:2], bool)
    keep[max(int(cy - side / 2), 0) : int(cy + side / 2), max(int(cx - side / 2), 0) : int(cx + side / 2)] = True
    out[~keep] = 0
    return out, xyz


def read_rhd_samples(src: Path) -> list[dict]:
    """mmpose's RHD samples: image, K, joints (mm) and 2D joints in canonical order, side."""
    meta = json.loads((src / "rhd" / "test_rhd.json").read_text())
    annos = {a["image_id"]: a for a in meta["annotations"]}
    out = []
    for im in meta["images"]:
        a = annos[im["id"]]
        (fx, fy), (cx, cy) = im["cam_param"]["focal"], im["cam_param"]["princpt"]
        image = cv2.cvtColor(cv2.imread(str(src / "rhd" / im["file_name"])), cv2.COLOR_BGR2RGB)
        out.append(
            {
                "id": im["id"],
                "file": src / "rhd" / im["file_name"],
                "image": image,
                "K": np.array([[fx, 0, cx], [0, fy, cy], [0, 0, 1.0]]),
                "xyz": to_canonical(np.asarray(a["joint_cam"], np.float64), "rhd"),
                "uv": to_canonical(np.asarray(a["keypoints"], np.float64)[:, :2], "rhd"),
                "side": a["hand_type"],
            }
        )
    return out


def write_rhd(samples: list[dict], out: Path) -> None:
    """RHD v2 layout: evaluation = the three samples (original ids), training = the right hand as id 0."""
    splits = {"evaluation": [(s["id"], s) for s in samples], "training": [(0, s) for s in samples if s["side"] == "right"]}
    for split, items in splits.items():
        folder = out / split
        for sub in ("color", "mask"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        anno = {}
        for image_id, s in items:
            shutil.copyfile(s["file"], folder / "color" / f"{image_id:05d}.png")
            own = 0 if s["side"] == "left" else 21
            hand_xyz, hand_uv = from_canonical(s["xyz"], "rhd"), from_canonical(s["uv"], "rhd")
            other_xyz = hand_xyz + np.array([120.0, 0.0, 0.0])  # the unseen other hand, off to the side
            xyz = np.zeros((42, 3))
            uv_vis = np.zeros((42, 3))
            xyz[own : own + 21], xyz[21 - own : 42 - own] = hand_xyz, other_xyz
            uv_vis[own : own + 21, :2], uv_vis[own : own + 21, 2] = hand_uv, 1.0
            uv_vis[21 - own : 42 - own, :2] = project(other_xyz, s["K"])
            anno[image_id] = {"xyz": (xyz / 1000.0).astype(np.float32), "uv_vis": uv_vis.astype(np.float32), "K": s["K"].astype(np.float32)}
            # mask: the labelled hand drawn thick (left 2-17 / right 18-33), a small blob for the other hand
            base, other = (2, 18) if s["side"] == "left" else (18, 2)
            mask = skeleton_mask(s["uv"], s["image"].shape[:2], lambda j: base + min(j // 2, 15))
            other_uv = project(other_xyz[0], s["K"])
            cv2.circle(mask, (int(other_uv[0]), int(other_uv[1])), 3, other, -1)
            cv2.imwrite(str(folder / "mask" / f"{image_id:05d}.png"), mask)
        with open(folder / f"anno_{split}.pickle", "wb") as f:
            pickle.dump(anno, f, protocol=2)


def lift_to_bones(uv: np.ndarray, K: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """3D joints on the rays of pixels `uv` whose bones have the lengths of `reference` (mm).

    Walking the tree from the wrist, each child takes the point of its ray at the bone's length
    from its parent (of the two, the one whose depth is nearer the parent's; the ray's closest
    point when the ray passes too far). The wrist depth (400-1000 mm) is the one whose bones
    deviate least from the reference.
    """
    rays = np.c_[uv, np.ones(len(uv))] @ np.linalg.inv(K).T  # z = 1
    lengths = np.array([bone_length(reference, bone) for bone in BONES])

    def lift(wrist_depth: float) -> np.ndarray:
        xyz = np.zeros((len(uv), 3))
        xyz[0] = rays[0] * wrist_depth
        for (parent, child), L in zip(BONES, lengths):  # parents come before children
            r, P = rays[child], xyz[parent]
            t0 = r @ P / (r @ r)  # closest point of the ray to the parent
            half = np.sqrt(max(L**2 - np.sum((t0 * r - P) ** 2), 0.0)) / np.linalg.norm(r)
            xyz[child] = min((t0 - half, t0 + half), key=lambda t: abs(t - P[2])) * r
        return xyz

    def cost(xyz: np.ndarray) -> float:
        return float(np.sum((np.array([bone_length(xyz, bone) for bone in BONES]) - lengths) ** 2))

    return min((lift(z) for z in np.arange(400.0, 1000.0, 5.0)), key=cost)


def write_freihand(src: Path, out: Path, reference: np.ndarray) -> None:
    """FreiHAND v2 layout with N = 2 labels (mmpose poses 355 and 17620), 4 versions each.

    Only 2D joints exist: K is chosen (FREIHAND_FOCAL, FREIHAND_CENTRE), and depths along each
    labelled pixel's ray are chosen by lift_to_bones so the bones take the lengths of `reference`
    (a real RHD hand); every joint lies on its ray, so reprojection lands on the labelled pixels.
    """
    meta = json.loads((src / "freihand" / "test_freihand.json").read_text())
    uv = {a["image_id"]: np.asarray(a["keypoints"], np.float64).reshape(21, 3)[:, :2] for a in meta["annotations"]}
    poses = (355, 17620)
    K = np.array([[FREIHAND_FOCAL, 0, FREIHAND_CENTRE], [0, FREIHAND_FOCAL, FREIHAND_CENTRE], [0, 0, 1.0]])
    xyz = np.stack([lift_to_bones(uv[p], K, reference) for p in poses]) / 1000.0  # metres
    verts = np.stack([bone_cloud(x) for x in xyz])
    mano = np.stack([np.linspace(-0.5, 0.5, 61) + k for k in range(len(poses))])[:, None, :]  # stand-in values
    for split in ("training", "evaluation"):
        (out / split / "rgb").mkdir(parents=True, exist_ok=True)
    (out / "training" / "mask").mkdir(parents=True, exist_ok=True)
    for version in range(4):
        for label, p in enumerate(poses):
            shutil.copyfile(src / "freihand" / f"{p + version * 32560:08d}.jpg", out / "training" / "rgb" / f"{label + version * len(poses):08d}.jpg")
    for label, p in enumerate(poses):
        shutil.copyfile(src / "freihand" / f"{p + 3 * 32560:08d}.jpg", out / "evaluation" / "rgb" / f"{label:08d}.jpg")
        mask = skeleton_mask(uv[p], (224, 224), lambda j: 255, thickness=11)
        cv2.imwrite(str(out / "training" / "mask" / f"{label:08d}.jpg"), mask)
    dump = {"xyz": xyz, "K": np.stack([K, K]), "verts": verts}
    for split in ("training", "evaluation"):
        for key, arr in dump.items():
            (out / f"{split}_{key}.json").write_text(json.dumps(np.round(arr, 8).tolist()))
    (out / "training_mano.json").write_text(json.dumps(mano.tolist()))
    scale = np.linalg.norm(xyz[:, 9] - xyz[:, 10], axis=-1)
    (out / "evaluation_scale.json").write_text(json.dumps(scale.tolist()))


def left_hand(s: dict) -> dict:
    """The sample as a left hand (mirrored photo, K and joints) if it is a right hand."""
    if s["side"] == "left":
        return s
    w = s["image"].shape[1]
    return dict(s, image=mirror_image(s["image"]), K=mirror_K(s["K"], w), xyz=mirror_xyz(s["xyz"]), side="left")


def write_stb(samples: list[dict], out: Path) -> None:
    """STB layout: B1Counting, B1Random (test) and B2Counting (train), one frame each, SK and BB.

    Each frame is one RHD sample as a left hand, re-shot by a pure camera rotation into the SK
    colour camera and the BB left camera; BB right views (no photo shows them) are skeleton drawings.
    """
    R_sk = axis_angle_to_matrix(SK_ROTATION_VECTOR)
    frames = {"B1Counting": samples[0], "B1Random": samples[2], "B2Counting": samples[1]}
    for seq, s in frames.items():
        s = left_hand(s)
        img_dir = out / "images" / seq
        img_dir.mkdir(parents=True, exist_ok=True)
        (out / "labels").mkdir(parents=True, exist_ok=True)
        sk_img, sk_xyz = recamera(s["image"], s["K"], s["xyz"], SK_K, (640, 480), (SK_K[0, 2], SK_K[1, 2]))
        disparity = BB_K[0, 0] * BB_BASELINE / s["xyz"][:, 2].mean()
        bb_img, bb_xyz = recamera(s["image"], s["K"], s["xyz"], BB_K, (640, 480), (BB_K[0, 2] + disparity / 2, BB_K[1, 2]))
        bb_right = draw_skeleton(np.full((480, 640, 3), 60, np.uint8), project(bb_xyz - [BB_BASELINE, 0, 0], BB_K))
        for name, img in (("SK_color_0", sk_img), ("BB_left_0", bb_img), ("BB_right_0", bb_right)):
            cv2.imwrite(str(img_dir / f"{name}.png"), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
        sk_depth = (sk_xyz - SK_TRANSLATION) @ R_sk  # the inverse of X_colour = R X_depth + t
        for subset, xyz in (("SK", sk_depth), ("BB", bb_xyz)):
            para = from_canonical(palm_from_wrist(xyz), "stb")  # slot 0 holds the palm centre, as STB does
            savemat(out / "labels" / f"{seq}_{subset}.mat", {"handPara": para.T[:, :, None]})


def write_realworld(samples: list[dict], out: Path, size: int = 256) -> None:
    """Real-world layout of Ge et al. from the two left-hand RHD samples: the RHD render plays the
    full frame, the crop box is the keypoints' square box, labels in cm, a bone-point stand-in mesh."""
    (out / "images").mkdir(parents=True, exist_ok=True)
    (out / "real_hand_3D_mesh").mkdir(parents=True, exist_ok=True)
    lefts = [s for s in samples if s["side"] == "left"]
    paths, cams, boxes, poses = [], [], [], []
    for i, s in enumerate(lefts):
        cx, cy, side = square_box(project(s["xyz"], s["K"]), 1.4)
        box = np.array([round(cx - side / 2), round(cy - side / 2), round(side), round(side)], np.float64)
        s_ = size / box[2]
        A = np.array([[s_, 0, -box[0] * s_], [0, s_, -box[1] * s_]])  # the authors' crop convention
        crop = cv2.warpAffine(s["image"], A, (size, size), flags=cv2.INTER_LINEAR)
        paths.append(f"images/{i:05d}.jpg")
        cv2.imwrite(str(out / paths[-1]), cv2.cvtColor(crop, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 95])
        cams.append([s["K"][0, 0], s["K"][1, 1], s["K"][0, 2], s["K"][1, 2]])
        boxes.append(box)
        poses.append(s["xyz"] / 10.0)
        verts = bone_cloud(poses[-1])
        (out / "real_hand_3D_mesh" / f"{i:05d}.obj").write_text("".join(f"v {x:.5f} {y:.5f} {z:.5f}\n" for x, y, z in verts))
    savemat(out / "params.mat", {"image_path": np.array(paths), "cam_param": np.array(cams), "bbox": np.array(boxes)})
    savemat(out / "pose_gt.mat", {"pose_gt": np.stack(poses)})


PREVIEW = {  # row label -> reader arguments (root: the fixture of `name`)
    "FreiHAND train (gs, hom)": {"name": "freihand", "split": "training", "versions": ("gs", "hom")},
    "RHD evaluation": {"name": "rhd", "split": "evaluation"},
    "STB SK test": {"name": "stb", "split": "test", "subset": "SK"},
    "STB BB test": {"name": "stb", "split": "test", "subset": "BB"},
    "real-world": {"name": "realworld"},
    "RHD augmented": {"name": "rhd", "split": "evaluation", "augment": {"rotation": 60.0, "hue": 0.1}},
}


def write_preview(out: Path, size: int = 128) -> Path:
    """preview.png: every reader's samples from the fixtures, crops with their labels drawn."""
    rows = []
    for spec in PREVIEW.values():
        ds = build_dataset(root=out / spec["name"], size=size, **spec)
        rows.append([(s["image"], s["uv"]) for s in (ds[i] for i in range(min(len(ds), 4)))])
    return save_overlay_grid(out / "preview.png", rows, list(PREVIEW))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, default=MMPOSE, help="mmpose sample folder")
    parser.add_argument("--out", type=Path, default=ROOT / "tests" / "fixtures")
    args = parser.parse_args()
    samples = read_rhd_samples(args.src)
    for name in ("rhd", "freihand", "stb", "realworld"):
        shutil.rmtree(args.out / name, ignore_errors=True)
    write_rhd(samples, args.out / "rhd")
    write_freihand(args.src, args.out / "freihand", reference=samples[2]["xyz"])
    write_stb(samples, args.out / "stb")
    write_realworld(samples, args.out / "realworld")
    write_preview(args.out)
    print(f"fixtures written under {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

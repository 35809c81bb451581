"""Reader of the real-world test set of Ge et al. (CVPR 2019), shown by CLIP-Hand3D.

Layout: params.mat (image_path, cam_param [fx, fy, u0, v0] of the full frame, bbox [x, y, w, h]
of the square crop), pose_gt.mat (pose_gt N x 21 x 3, cm, camera frame, canonical order), the
crops under images/, and optionally real_hand_3D_mesh/%05d.obj (cm): the authors distribute the meshes
as a separate download, so a real_hand_3D_mesh/ folder holding no .obj file (only its README) means no
meshes. The crop intrinsics follow the authors' script: focal x s and (principal point - bbox corner)
x s with s = crop height / w. All hands are left hands: they are mirrored.
"""

from __future__ import annotations

import numpy as np

from handclip.data import register
from handclip.data.io import MalformedDataError, check_shape, load_image, load_mat, require_dir, require_file
from handclip.data.reader import HandReader

LAYOUT = """  params.mat (image_path, cam_param, bbox), pose_gt.mat (pose_gt, cm)
  images/%05d.jpg (the paths listed in params.mat), optional real_hand_3D_mesh/%05d.obj"""
CM = 10.0


def _strings(array) -> list[str]:
    """MATLAB strings (char matrix or cell array as loadmat returns them) as stripped Python str."""
    flat = np.asarray(array, dtype=object).ravel()
    return [str(np.squeeze(s) if isinstance(s, np.ndarray) else s).strip() for s in flat]


def load_obj_vertices(path) -> np.ndarray:
    """The 'v x y z' rows of a Wavefront OBJ file as an (V, 3) array."""
    path = require_file(path, "real-world mesh")
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("v "):
                rows.append([float(x) for x in line.split()[1:4]])
    return check_shape(rows, (None, 3), path, "vertices")


class RealWorld(HandReader):
    """The 583 real-world crops of Ge et al. as common samples (mirrored to right hands, mm)."""

    name = "realworld"

    def __init__(self, root, split: str = "test", size: int = 256, verts: bool = True, crop: str = "full", margin: float = 1.5, augment=None, boxes=None):
        super().__init__(size=size, crop=crop, margin=margin, augment=augment, boxes=boxes)
        if split not in ("test", "all"):
            raise ValueError(f"realworld has only a test split, got {split!r}")
        self.root = require_dir(root, "real-world test set", LAYOUT)
        params_path = require_file(self.root / "params.mat", "real-world test set", LAYOUT)
        gt_path = require_file(self.root / "pose_gt.mat", "real-world test set", LAYOUT)
        params = load_mat(params_path, ("image_path", "cam_param", "bbox"))
        self.image_paths = _strings(params["image_path"])
        n = len(self.image_paths)
        self.cam = check_shape(params["cam_param"], (n, 4), params_path, "cam_param")
        self.bbox = check_shape(params["bbox"], (n, 4), params_path, "bbox")
        if (self.bbox[:, 2] <= 0).any():
            raise MalformedDataError(f"{params_path}: bbox widths must be positive")
        self.xyz = check_shape(load_mat(gt_path, ("pose_gt",))["pose_gt"], (n, 21, 3), gt_path, "pose_gt") * CM
        mesh_dir = self.root / "real_hand_3D_mesh"
        has_meshes = mesh_dir.is_dir() and next(mesh_dir.glob("*.obj"), None) is not None
        self.mesh_dir = mesh_dir if verts and has_meshes else None

    def __len__(self) -> int:
        return len(self.image_paths)

    def crop_K(self, index: int, crop_height: int) -> np.ndarray:
        """Intrinsics of crop `index` from the full-frame camera and its bbox."""
        fx, fy, u0, v0 = self.cam[index]
        x, y, w, _ = self.bbox[index]
        s = crop_height / w
        return np.array([[fx * s, 0.0, (u0 - x) * s], [0.0, fy * s, (v0 - y) * s], [0.0, 0.0, 1.0]])

    def load_raw(self, index: int) -> dict:
        """The stored crop, its intrinsics and the left-hand labels in mm."""
        image = load_image(self.root / self.image_paths[index], "real-world test set")
        raw = {
            "image": image,
            "K": self.crop_K(index, image.shape[0]),
            "xyz": self.xyz[index],
            "valid": np.ones(21, bool),
            "side": "left",
            "extra": {},
        }
        if self.mesh_dir is not None:
            frame = int(self.root.joinpath(self.image_paths[index]).stem)
            raw["verts"] = load_obj_vertices(self.mesh_dir / f"{frame:05d}.obj") * CM
        return raw


@register("realworld")
def build(**kwargs) -> RealWorld:
    """Factory for handclip.data.build_dataset('realworld', root=..., size=...)."""
    return RealWorld(**kwargs)

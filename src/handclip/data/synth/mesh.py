"""The skinned WebXR hand template: loading, forward kinematics, linear blend skinning, normals.

The asset (assets/webxr_hand/right_hand.npz, made by scripts/convert_webxr_hand.py) is in mm in
the glTF file's axes: fingers point to -y, the back of the hand faces +x, the thumb lies towards -z.
Every joint's local frame follows the WebXR convention: -z runs along the bone towards the tip,
+y leaves the back of the hand, so a rotation about local x flexes (negative angles bend towards
the palm) and one about local y spreads. The rig is moved to the benchmarks' joint definitions at
load (handclip.data.synth.rig): tip joints are surface vertices, so posed tips are posed vertices.
A hand shape is one linear map per joint (its segment's scaling in the joint's frame), applied alike
to the bone offsets and to the skinned vertices, so labels stay the joints of the deformed mesh.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import NamedTuple

import numpy as np

from handclip.data.synth.rig import benchmark_rest, tip_vertices
from handclip.skeleton import SOURCE_TO_CANONICAL

NUM_RIG_JOINTS = 25
# rotation taking glTF axes to the reference view: palm to the camera, fingers up in the image
GLTF_TO_VIEW = np.array([[0.0, 0.0, -1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])


class HandTemplate(NamedTuple):
    """The rest-pose hand: mesh (mm), skin, 25-joint WebXR rig; `weld` maps seam duplicates to one vertex."""

    vertices: np.ndarray  # (V, 3) float32
    faces: np.ndarray  # (F, 3) int32
    skin_joints: np.ndarray  # (V, 4) uint8
    skin_weights: np.ndarray  # (V, 4) float32, rows sum to 1
    joint_names: tuple[str, ...]
    parents: np.ndarray  # (25,) int, -1 for the wrist
    inverse_bind: np.ndarray  # (25, 4, 4)
    rest_world: np.ndarray  # (25, 4, 4)
    rest_local: np.ndarray  # (25, 4, 4): rest_world[k] = rest_world[parent] @ rest_local[k]
    weld: np.ndarray  # (V,) index of the first vertex at the same position
    tip_vertices: np.ndarray  # (5,) the fingertip vertices (thumb..little) the tip joints sit on


@lru_cache(maxsize=1)
def load_template() -> HandTemplate:
    """The packaged right-hand template, rigged to the benchmarks' joint definitions (read once per process)."""
    path = resources.files("handclip") / "assets" / "webxr_hand" / "right_hand.npz"
    with resources.as_file(path) as p, np.load(p) as d:
        vertices, parents = d["vertices"], d["parents"]
        skin_joints, skin_weights = d["skin_joints"], d["skin_weights"]
        asset_rest = d["rest_world"].astype(np.float64)
        joint_names = tuple(str(n) for n in d["joint_names"])
        faces = d["faces"]
    _, first, inverse = np.unique(np.round(vertices, 3), axis=0, return_index=True, return_inverse=True)
    tips = tip_vertices(vertices, skin_joints, skin_weights, asset_rest)
    rest_world = benchmark_rest(vertices, asset_rest, tips)
    rest_local = np.stack([rest_world[k] if p < 0 else np.linalg.inv(rest_world[p]) @ rest_world[k]
                           for k, p in enumerate(parents)])
    return HandTemplate(
        vertices=vertices, faces=faces, skin_joints=skin_joints, skin_weights=skin_weights,
        joint_names=joint_names, parents=parents, inverse_bind=np.linalg.inv(rest_world),
        rest_world=rest_world, rest_local=rest_local, weld=first[inverse.ravel()], tip_vertices=tips,
    )


def forward_kinematics(template: HandTemplate, local_rot: np.ndarray, shape: np.ndarray | None = None) -> np.ndarray:
    """World transforms (..., 25, 4, 4) of the rig after rotating each joint by local_rot (..., 25, 3, 3) in its frame.

    shape (25, 3, 3), optional: each joint's linear map of its segment (hand shape); a child's offset
    from its parent is mapped by the parent's map, as the parent's vertices are in `skin`.
    """
    if local_rot.shape[-3:] != (NUM_RIG_JOINTS, 3, 3):
        raise ValueError(f"local_rot must be (..., 25, 3, 3), got {local_rot.shape}")
    pose = np.zeros(local_rot.shape[:-2] + (4, 4))
    pose[..., :3, :3] = local_rot
    pose[..., 3, 3] = 1.0
    rest = template.rest_local
    if shape is not None:
        rest = rest.copy()
        parents = np.maximum(template.parents, 0)  # the wrist's offset is its place, not a bone
        rest[1:, :3, 3] = np.einsum("kij,kj->ki", np.asarray(shape)[parents[1:]], rest[1:, :3, 3])
    local = rest @ pose
    world = np.empty_like(local)
    for k, p in enumerate(template.parents):  # parents precede children in WebXR order
        world[..., k, :, :] = local[..., k, :, :] if p < 0 else world[..., p, :, :] @ local[..., k, :, :]
    return world


def skin(template: HandTemplate, world: np.ndarray, shape: np.ndarray | None = None) -> np.ndarray:
    """Linear blend skinning: the template vertices (V, 3) posed by the rig's world transforms (25, 4, 4).

    shape (25, 3, 3), optional: the per-joint segment maps `world` was built with (forward_kinematics).
    """
    rest = template.vertices
    maps = np.tile(np.eye(4), (NUM_RIG_JOINTS, 1, 1))
    if shape is not None:
        maps[:, :3, :3] = shape
    mats = world @ maps @ template.inverse_bind  # (25, 4, 4): rest space -> posed space per joint
    blend = np.einsum("vk,vkij->vij", template.skin_weights, mats[template.skin_joints])
    return np.einsum("vij,vj->vi", blend[:, :3, :3], rest) + blend[:, :3, 3]


def keypoints(world: np.ndarray) -> np.ndarray:
    """The 21 canonical keypoints (..., 21, 3): positions of the rig joints in canonical order."""
    return world[..., :3, 3][..., np.asarray(SOURCE_TO_CANONICAL["webxr"]), :]


def vertex_normals(vertices: np.ndarray, faces: np.ndarray, weld: np.ndarray) -> np.ndarray:
    """Unit area-weighted vertex normals, shared across UV-seam duplicates so shading stays smooth."""
    tri = vertices[faces]
    face_n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    acc = np.zeros_like(vertices)
    for c in range(3):
        np.add.at(acc, weld[faces[:, c]], face_n)
    n = acc[weld]
    return n / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)


# forearm cross-section where the template's wrist ends, measured on the mesh (glTF axes, mm): centre
# offset from the wrist joint in x (back-palm) and z (thumb-little), and half-extents there
_ARM_CENTRE = np.array([-6.0, 0.0, 1.5])
_ARM_RADII = np.array([15.0, 27.0])


def forearm(template: HandTemplate, length: float = 400.0, sides: int = 12, rings: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """An open tapered elliptic tube (vertices, faces) continuing the wrist along +y, for realistic crops.

    Faces wind like the hand's (outward normals by the right-hand rule), so back-face culling applies.
    Its first ring sits 12 mm inside the hand, narrowed so its rim stays hidden under the skin, and
    bending the wrist leaves no gap. It is scenery, not a label.
    """
    origin = template.rest_world[0, :3, 3] + _ARM_CENTRE
    s = np.r_[0.0, np.linspace(0.0, 1.0, rings - 1)][:, None]
    y = origin[1] + np.r_[-12.0, length * s[1:, 0]][:, None]
    narrow = np.r_[0.75, np.ones(rings - 1)][:, None]
    ang = np.linspace(0, 2 * np.pi, sides, endpoint=False)[None]
    rx = _ARM_RADII[0] * (1 + 0.7 * s) * narrow  # the forearm thickens towards the elbow
    rz = _ARM_RADII[1] * (1 + 0.35 * s) * narrow
    verts = np.stack([origin[0] + rx * np.cos(ang), y + 0 * ang, origin[2] + rz * np.sin(ang)], -1).reshape(-1, 3)
    i = np.arange(rings - 1)[:, None] * sides
    j = np.arange(sides)[None]
    a, b = i + j, i + (j + 1) % sides
    faces = np.concatenate([np.stack([a, a + sides, b], -1), np.stack([b, a + sides, b + sides], -1)]).reshape(-1, 3)
    return verts, faces.astype(np.int32)

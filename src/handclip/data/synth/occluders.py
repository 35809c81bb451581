"""Objects between the camera and the fingers: a stick (pen, pencil, chopstick), a ball or a card (phone).

`sample_occluder(joints, rng)` aims an object at one finger joint: it sits on the camera ray through
that joint, 12-50 mm in front of the finger's surface, so it hides part of the fingers (never the
whole hand). It is a closed mesh with outward normals; the z-buffer decides what it covers, and
keypoints behind it are marked not visible.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from handclip.geometry import axis_angle_to_matrix

KINDS = ("stick", "ball", "card")
FINGER_JOINTS = tuple(range(2, 21))  # every joint but the wrist and the thumb's base
FINGER_RADIUS = 10.0  # mm from a finger joint to the skin in front of it


class Mesh(NamedTuple):
    """Vertices (N, 3) mm, faces (F, 3) wound outwards, unit vertex normals (N, 3)."""

    verts: np.ndarray
    faces: np.ndarray
    normals: np.ndarray


def cylinder(radius: float, length: float, sides: int = 10) -> Mesh:
    """A capped cylinder along z, centred at the origin (caps with their own flat normals)."""
    a = np.arange(sides) * 2 * np.pi / sides
    ring = np.stack([radius * np.cos(a), radius * np.sin(a)], 1)
    z = np.array([-length / 2, length / 2])
    side = np.concatenate([np.c_[ring, np.full(sides, zz)] for zz in z])
    side_n = np.concatenate([np.c_[np.cos(a), np.sin(a), np.zeros(sides)]] * 2)
    caps = np.concatenate([side, [[0, 0, z[0]], [0, 0, z[1]]]])
    i, j = np.arange(sides), (np.arange(sides) + 1) % sides
    faces = [np.stack([i, j, i + sides], 1), np.stack([j, j + sides, i + sides], 1)]
    base = 2 * sides
    faces += [np.stack([base + i, base + 2 * sides + np.zeros_like(i), base + j], 1),
              np.stack([base + sides + i, base + sides + j, base + 2 * sides + 1 + np.zeros_like(i)], 1)]
    cap_n = np.r_[np.tile([0.0, 0.0, -1.0], (sides, 1)), np.tile([0.0, 0.0, 1.0], (sides, 1)), [[0, 0, -1.0], [0, 0, 1.0]]]
    return Mesh(np.concatenate([side, caps]), np.concatenate(faces).astype(np.int64), np.concatenate([side_n, cap_n]))


def sphere(radius: float, rings: int = 7, sides: int = 12) -> Mesh:
    """A UV sphere centred at the origin."""
    theta = np.linspace(0, np.pi, rings + 1)[1:-1]
    phi = np.arange(sides) * 2 * np.pi / sides
    n = np.stack([np.sin(theta)[:, None] * np.cos(phi), np.sin(theta)[:, None] * np.sin(phi),
                  np.cos(theta)[:, None] + 0 * phi], -1).reshape(-1, 3)
    n = np.concatenate([[[0, 0, 1.0]], n, [[0, 0, -1.0]]])
    i, j = np.arange(sides), (np.arange(sides) + 1) % sides
    faces = [np.stack([np.zeros(sides, int), 1 + j, 1 + i], 1)]
    for r in range(rings - 2):
        a, b = 1 + r * sides, 1 + (r + 1) * sides
        faces += [np.stack([a + i, a + j, b + i], 1), np.stack([a + j, b + j, b + i], 1)]
    last, bottom = 1 + (rings - 2) * sides, len(n) - 1
    faces.append(np.stack([last + i, last + j, np.full(sides, bottom)], 1))
    return Mesh(radius * n, np.concatenate(faces).astype(np.int64), n)


def box(size) -> Mesh:
    """An axis-aligned box of edge lengths `size` (3,) centred at the origin, flat-shaded."""
    half = np.asarray(size, float) / 2
    verts, faces, normals = [], [], []
    for axis in range(3):
        for sign in (-1.0, 1.0):
            n = np.zeros(3)
            n[axis] = sign
            u, v = np.eye(3)[(axis + 1) % 3], np.eye(3)[(axis + 2) % 3]
            corners = [n * half + su * u * half + sv * v * half for su, sv in ((-1, -1), (1, -1), (1, 1), (-1, 1))]
            k = len(verts)
            verts += corners
            normals += [n] * 4
            quad = [[k, k + 1, k + 2], [k, k + 2, k + 3]]
            faces += quad if sign > 0 else [f[::-1] for f in quad]
    return Mesh(np.array(verts), np.array(faces, np.int64), np.array(normals))


def _outward(mesh: Mesh) -> Mesh:
    """Flip faces whose right-hand normal points against the vertex normals (makes winding outward)."""
    tri = mesh.verts[mesh.faces]
    fn = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    inward = (fn * mesh.normals[mesh.faces].mean(1)).sum(1) < 0
    faces = np.where(inward[:, None], mesh.faces[:, ::-1], mesh.faces)
    return Mesh(mesh.verts, faces, mesh.normals)


def sample_occluder(joints: np.ndarray, rng: np.random.Generator) -> Mesh:
    """An object (camera frame, mm) in front of a random finger joint of `joints` (21, 3)."""
    kind = KINDS[rng.integers(len(KINDS))]
    if kind == "stick":
        mesh = cylinder(rng.uniform(3, 9), rng.uniform(90, 180))
        extent = 0.0
    elif kind == "ball":
        mesh = sphere(rng.uniform(14, 32))
        extent = float(np.abs(mesh.verts[:, 2]).max())
    else:
        mesh = box([rng.uniform(40, 75), rng.uniform(60, 140), rng.uniform(3, 10)])
        extent = 0.0
    mesh = _outward(mesh)
    # sticks and cards lie roughly across the view; any in-plane angle, some tilt
    R = axis_angle_to_matrix(np.array([0.0, 0.0, rng.uniform(0, np.pi)])) @ axis_angle_to_matrix(
        np.array([rng.uniform(-0.4, 0.4), np.pi / 2 + rng.uniform(-0.4, 0.4) if kind == "stick" else rng.uniform(-0.5, 0.5), 0.0]))
    verts, normals = mesh.verts @ R.T, mesh.normals @ R.T
    target = joints[FINGER_JOINTS[rng.integers(len(FINGER_JOINTS))]]
    front = float(np.max(verts[:, 2]))  # the object's far side, relative to its centre
    depth = target[2] - FINGER_RADIUS - rng.uniform(12, 50) - max(front, extent)
    centre = target * depth / target[2] + np.r_[rng.normal(0, 6, 2), 0.0]
    return Mesh(verts + centre, mesh.faces, normals)

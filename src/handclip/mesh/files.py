"""Mesh files of predictions: Wavefront OBJ written and read here; PLY and glTF binary through trimesh if installed.

OBJ and PLY keep handclip's units (mm, camera frame: x right, y down, z forward); GLB is written in
metres, glTF's unit. Faces are 0-based (F, 3) arrays; OBJ stores them 1-based.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from handclip.data.io import MalformedDataError, check_shape, require_file

FORMATS = ("obj", "ply", "glb")


def save_mesh(path, verts, faces=None) -> Path:
    """Write verts (V, 3) mm and faces (F, 3) to `path`, its format from the suffix (.obj, .ply, .glb).

    Without faces an OBJ holds the points alone. PLY and GLB need trimesh (`pip install trimesh`).
    """
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ValueError(f"{path}: mesh format must be one of {FORMATS}")
    verts = np.asarray(verts, dtype=np.float64)
    faces = None if faces is None else np.asarray(faces, dtype=np.int64)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "obj":
        lines = ["# handclip mesh: mm, camera frame (x right, y down, z forward)"]
        lines += [f"v {x:.4f} {y:.4f} {z:.4f}" for x, y, z in verts]
        lines += [] if faces is None else [f"f {a + 1} {b + 1} {c + 1}" for a, b, c in faces]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path
    try:
        import trimesh
    except ImportError as e:
        raise ImportError(f"{path}: writing .{fmt} needs trimesh (pip install trimesh); .obj needs nothing") from e
    if faces is None:
        raise ValueError(f"{path}: .{fmt} needs faces; write .obj for a point set")
    scale = 1e-3 if fmt == "glb" else 1.0
    trimesh.Trimesh(verts * scale, faces, process=False).export(path)
    return path


def load_obj(path) -> tuple[np.ndarray, np.ndarray]:
    """Vertices (V, 3) and triangles (F, 3, 0-based) of an OBJ file; polygons are fanned into triangles."""
    path = require_file(path, "mesh")
    verts, faces = [], []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            parts = line.split()
            if not parts or parts[0] not in ("v", "f"):
                continue
            try:
                if parts[0] == "v":
                    verts.append([float(x) for x in parts[1:4]])
                    continue
                corners = [int(p.split("/")[0]) for p in parts[1:]]
            except ValueError as e:
                raise MalformedDataError(f"{path}: line {number} is not a valid '{parts[0]}' row ({e})") from e
            corners = [c - 1 if c > 0 else len(verts) + c for c in corners]  # negative indices count back
            faces += [[corners[0], corners[k], corners[k + 1]] for k in range(1, len(corners) - 1)]
    verts = check_shape(verts, (None, 3), path, "vertices")
    faces = np.asarray(faces, dtype=np.int64).reshape(-1, 3)
    if faces.size and (faces.min() < 0 or faces.max() >= len(verts)):
        raise MalformedDataError(f"{path}: a face refers to a vertex outside 1..{len(verts)}")
    return verts, faces

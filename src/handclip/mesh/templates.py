"""Template meshes the mesh regressor can be built on: the renderer's hand (default) or a user's MANO."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def load_mesh_template(source: str = "synth") -> dict[str, np.ndarray]:
    """'vertices' (V, 3) mm, 'faces' (F, 3), rest-pose 'joints' (21, 3) mm, 'weld' (V,) seam map.

    source: 'synth' (the renderer's WebXR hand, the topology of synthetic 'verts' labels) or the path of
    a MANO_RIGHT.pkl (778 vertices, the topology of FreiHAND's mesh labels).
    """
    if source == "synth":
        from handclip.data.synth.mesh import keypoints, load_template

        t = load_template()
        return {"vertices": np.asarray(t.vertices, np.float64), "faces": np.asarray(t.faces, np.int64),
                "joints": keypoints(t.rest_world), "weld": np.asarray(t.weld, np.int64)}
    if Path(source).suffix != ".pkl":
        raise ValueError(f"mesh template {source!r}: use 'synth' or the path of a MANO_RIGHT.pkl")
    from handclip.mesh.mano import load_mano

    mano = load_mano(source)
    return {**mano, "weld": np.arange(len(mano["vertices"]))}

"""Coarse-to-fine node hierarchy of CLIP-Hand3D's mesh regressor, computed from any template mesh.

Procedure (deterministic, from the template's vertices, faces and 21 rest-pose joints):
1. Geodesic distances: all-pairs shortest paths along mesh edges weighted by their length, seam
   duplicates welded to one vertex (pairs in disconnected parts fall back to their straight-line distance plus the largest geodesic).
2. Nodes: one farthest-point ordering of all vertices by geodesic distance, started at the vertex
   nearest the wrist; a level of n nodes takes the first n vertices of that ordering, so every level
   contains the coarser ones; the finest level is every vertex in template order. Level 0 is the
   21 joints. Default sizes follow the paper's 21 -> 98 -> 389 -> 778 for MANO: 21, ceil(V/8),
   ceil(V/2), V.
3. Upsampling matrix U_k (n_{k+1} x n_k): a node already in level k copies itself (weight 1);
   any other node averages its `neighbours` nearest level-k nodes with weights proportional to
   1 / distance (geodesic between vertices; straight-line from vertices to joints for level 0).
   Rows sum to 1, so every node of every level, hence every template vertex, is covered.

`cached_hierarchy` keeps each result in a file keyed by its inputs: building one (and importing scipy's graph
routines) takes about half a second, which every `handclip predict` start-up would otherwise pay.
"""

from __future__ import annotations

import hashlib
import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FORMAT = "handclip-mesh-hierarchy/1"  # part of the cache key: a changed procedure changes it


@dataclass
class MeshHierarchy:
    """Node indices per level (level 0: joints, others: template vertex ids) and the upsampling matrices."""

    sizes: list[int]
    nodes: list[np.ndarray]  # nodes[0] = arange(21) joints; nodes[k>0] = template vertex indices
    upsample: list[np.ndarray]  # upsample[k]: (sizes[k+1], sizes[k]), rows sum to 1

    def from_joints(self, level: int) -> np.ndarray:
        """Composite matrix (sizes[level], 21) taking joint features to the nodes of `level`."""
        out = np.eye(self.sizes[0], dtype=np.float32)
        for k in range(level):
            out = self.upsample[k] @ out
        return out


def geodesic_distances(vertices: np.ndarray, faces: np.ndarray, weld: np.ndarray | None = None) -> np.ndarray:
    """All-pairs edge-path distances (V, V); disconnected pairs get Euclidean distance + the largest path.

    weld (V,) maps seam duplicates to one representative vertex, so paths cross texture seams."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import shortest_path

    v = np.asarray(vertices, dtype=np.float64)
    weld = np.arange(len(v)) if weld is None else np.asarray(weld, dtype=np.int64)
    f = weld[np.asarray(faces, dtype=np.int64)]
    edges = np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]])
    edges = np.unique(np.sort(edges, 1), axis=0)
    length = np.linalg.norm(v[edges[:, 0]] - v[edges[:, 1]], axis=1) + 1e-9
    graph = coo_matrix((length, (edges[:, 0], edges[:, 1])), shape=(len(v), len(v))).tocsr()
    dist = shortest_path(graph, method="D", directed=False)
    unreachable = ~np.isfinite(dist)
    if unreachable.any():
        euclid = np.linalg.norm(v[:, None] - v[None], axis=-1)
        dist[unreachable] = euclid[unreachable] + dist[~unreachable].max()
    return dist[np.ix_(weld, weld)]


def farthest_point_order(dist: np.ndarray, start: int) -> np.ndarray:
    """All vertices ordered by farthest-point sampling under the distance matrix, from `start`."""
    order = [start]
    nearest = dist[start].copy()
    for _ in range(len(dist) - 1):
        nxt = int(np.argmax(nearest))
        order.append(nxt)
        nearest = np.minimum(nearest, dist[nxt])
    return np.asarray(order)


def _interp_matrix(dist_to_coarse: np.ndarray, self_index: np.ndarray, neighbours: int) -> np.ndarray:
    """Rows of inverse-distance weights over the `neighbours` nearest coarse nodes; self_index >= 0 copies."""
    n_fine, n_coarse = dist_to_coarse.shape
    k = min(neighbours, n_coarse)
    out = np.zeros((n_fine, n_coarse), dtype=np.float32)
    for i in range(n_fine):
        if self_index[i] >= 0:
            out[i, self_index[i]] = 1.0
            continue
        near = np.argsort(dist_to_coarse[i], kind="stable")[:k]
        w = 1.0 / np.maximum(dist_to_coarse[i, near], 1e-6)
        out[i, near] = w / w.sum()
    return out


def default_sizes(num_vertices: int, num_joints: int = 21) -> list[int]:
    """The paper's proportions: joints, 1/8, 1/2 and all vertices (21, 98, 389, 778 for MANO)."""
    return [num_joints, math.ceil(num_vertices / 8), math.ceil(num_vertices / 2), num_vertices]


def build_hierarchy(vertices: np.ndarray, faces: np.ndarray, joints: np.ndarray,
                    sizes: list[int] | None = None, neighbours: int = 3,
                    weld: np.ndarray | None = None) -> MeshHierarchy:
    """The hierarchy of a template (see the module docstring); sizes[0] must be the joint count."""
    vertices, joints = np.asarray(vertices, np.float64), np.asarray(joints, np.float64)
    num_v = len(vertices)
    sizes = list(sizes) if sizes is not None else default_sizes(num_v, len(joints))
    if sizes[0] != len(joints) or sizes[-1] != num_v or any(b < a for a, b in zip(sizes, sizes[1:])):
        raise ValueError(f"hierarchy sizes {sizes} must start at {len(joints)} joints, grow, and end at {num_v} vertices")
    dist = geodesic_distances(vertices, faces, weld)
    start = int(np.argmin(np.linalg.norm(vertices - joints[0], axis=1)))
    order = farthest_point_order(dist, start)
    nodes = [np.arange(len(joints))] + [order[:n] if n < num_v else np.arange(num_v) for n in sizes[1:]]
    upsample = []
    for k in range(len(sizes) - 1):
        fine = nodes[k + 1]
        if k == 0:
            d = np.linalg.norm(vertices[fine][:, None] - joints[None], axis=-1)
            self_index = np.full(len(fine), -1)
        else:
            coarse = nodes[k]
            d = dist[np.ix_(fine, coarse)]
            position = {int(v): i for i, v in enumerate(coarse)}
            self_index = np.array([position.get(int(v), -1) for v in fine])
        upsample.append(_interp_matrix(d, self_index, neighbours))
    return MeshHierarchy(sizes, nodes, upsample)


def cached_hierarchy(vertices: np.ndarray, faces: np.ndarray, joints: np.ndarray, sizes: list[int] | None = None,
                     neighbours: int = 3, weld: np.ndarray | None = None, cache_dir=None) -> MeshHierarchy:
    """build_hierarchy's result, read from `cache_dir` ($HANDCLIP_CACHE or ~/.cache/handclip)/mesh_hierarchy when
    built before from the same inputs, else built and written there; an unreadable file is rebuilt over."""
    from handclip.atomic import write_atomic
    from handclip.clip.text_cache import default_cache_dir

    key = hashlib.sha256(FORMAT.encode())
    for a in (vertices, faces, joints, np.arange(len(vertices)) if weld is None else weld):
        key.update(np.ascontiguousarray(np.asarray(a, np.float64)).tobytes())
    key.update(repr((list(sizes) if sizes is not None else None, int(neighbours))).encode())
    path = Path(cache_dir or default_cache_dir()) / "mesh_hierarchy" / f"{key.hexdigest()[:20]}.npz"
    if path.is_file():
        try:
            with np.load(path) as f:
                n = int(f["levels"])
                return MeshHierarchy([int(v) for v in f["sizes"]], [f[f"nodes{k}"] for k in range(n)],
                                     [f[f"up{k}"] for k in range(n - 1)])
        except (OSError, KeyError, ValueError):  # a damaged cache file: built again and replaced
            pass
    hierarchy = build_hierarchy(vertices, faces, joints, sizes, neighbours, weld)
    buffer = io.BytesIO()
    np.savez(buffer, levels=len(hierarchy.nodes), sizes=np.array(hierarchy.sizes),
             **{f"nodes{k}": v for k, v in enumerate(hierarchy.nodes)},
             **{f"up{k}": v for k, v in enumerate(hierarchy.upsample)})
    try:
        write_atomic(path, buffer.getvalue())
    except OSError:  # a read-only cache folder: the hierarchy is still right, only not kept
        pass
    return hierarchy

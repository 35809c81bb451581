"""Sleeves and bracelets: cloth tubes around the forearm, built from the forearm tube itself.

The forearm (mesh.forearm) is a tube of rings of equal vertex count along the arm. A sleeve reuses
its topology: ring centres define the arm's axis, rings before the cuff are pulled onto the cuff,
and every ring is widened by the cloth's thickness plus folds (a few mm varying along the arm and
around it), so the sleeve covers the arm from the cuff on. A bracelet (or watch band) is a short,
tight sleeve near the wrist. Normals are the forearm's: the tube only widens.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

SIDES = 12  # vertices per forearm ring (mesh.forearm's default)


def inner_side(n_vertices: int) -> np.ndarray:
    """(A,) in [0, 1]: how much each forearm-tube vertex lies on the palm's side (the tube's -x, glTF axes)."""
    angle = np.arange(n_vertices) % SIDES * 2 * np.pi / SIDES
    return np.clip(-np.cos(angle), 0, 1)


class Sleeve(NamedTuple):
    """A cloth tube: where it starts and ends (mm along the arm from the wrist), how far it stands off the skin."""

    start: float
    end: float
    thickness: float  # mm off the skin at the cuff
    folds: float  # mm of fold relief


def sample_sleeve(rng: np.random.Generator, bracelet: bool) -> Sleeve:
    """A sleeve whose cuff ends 40-150 mm up the forearm, or a bracelet 15-40 mm from the wrist."""
    if bracelet:
        start = rng.uniform(15, 40)
        return Sleeve(start, start + rng.uniform(6, 20), rng.uniform(1.5, 4), 0.0)
    return Sleeve(rng.uniform(40, 150), np.inf, rng.uniform(4, 14), rng.uniform(1, 5))


def sleeve_vertices(arm: np.ndarray, sleeve: Sleeve, rng: np.random.Generator, wrist_offset: float = 12.0) -> np.ndarray:
    """Vertices (A, 3) of `sleeve` on a forearm tube `arm` (A, 3) whose first ring sits `wrist_offset` mm
    inside the hand; the faces and normals are the forearm's."""
    rings = arm.reshape(-1, SIDES, 3)
    centre = rings.mean(1)
    axis = centre[-1] - centre[0]
    axis /= np.linalg.norm(axis)
    along = (centre - centre[0]) @ axis - wrist_offset  # mm from the wrist, per ring
    radial = rings - centre[:, None]
    t = np.clip(along, sleeve.start, sleeve.end)  # rings outside the sleeve collapse onto its ends
    # per-ring centre and radial offsets at t, interpolated along the tube
    k = np.clip(np.searchsorted(along, t) - 1, 0, len(along) - 2)
    f = np.clip((t - along[k]) / np.maximum(along[k + 1] - along[k], 1e-9), 0, 1)[:, None]
    c = centre[k] + f * (centre[k + 1] - centre[k])
    r = radial[k] + f[..., None] * (radial[k + 1] - radial[k])
    size = np.linalg.norm(r, axis=-1, keepdims=True)
    folds = sleeve.folds * np.sin(np.outer(np.arange(len(rings)) * rng.uniform(0.5, 1.5), np.ones(SIDES))
                                  + np.arange(SIDES) * rng.uniform(1.0, 2.5) + rng.uniform(0, 2 * np.pi))
    stand = sleeve.thickness + np.abs(folds)[..., None]
    return (c[:, None] + r * (1 + stand / np.maximum(size, 1e-6))).reshape(-1, 3)

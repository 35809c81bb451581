"""Joint-order text prompts of CLIP-Hand3D (section 3.1, Fig. 2).

N of the 21 joints are sampled once per sample; they are listed in ascending order of the 3D label's
x, y and z (camera frame: x right, y down, z forward), giving the three sentences, e.g.
"From left to right, the joints are index MCP, thumb fingertip, little PIP, middle DIP, and ring fingertip".
The same N joints serve the three axes; ties keep the sampled order (stable sort).
"""

from __future__ import annotations

import numpy as np

from handclip.skeleton import JOINT_NAMES, NUM_JOINTS

# one prefix per axis, in x, y, z order (the paper's wording)
AXIS_PREFIXES = ("From left to right", "From top to bottom", "From near to far")


def join_names(names: list[str]) -> str:
    """English list with an Oxford comma: 'a', 'a and b', 'a, b, and c' (the paper's form)."""
    if len(names) <= 2:
        return " and ".join(names)
    return ", ".join(names[:-1]) + ", and " + names[-1]


def axis_sentences(xyz: np.ndarray, joints) -> tuple[str, str, str]:
    """The three sentences (x, y, z) for one pose (21, 3) and the chosen joint indices."""
    xyz = np.asarray(xyz, dtype=np.float64)
    if xyz.shape != (NUM_JOINTS, 3):
        raise ValueError(f"joint-order prompts need a (21, 3) pose, got shape {xyz.shape}")
    joints = np.asarray(joints, dtype=int)
    out = []
    for axis, prefix in enumerate(AXIS_PREFIXES):
        order = joints[np.argsort(xyz[joints, axis], kind="stable")]
        out.append(f"{prefix}, the joints are {join_names([JOINT_NAMES[j] for j in order])}")
    return tuple(out)


def sample_joints(rng: np.random.Generator, n: int) -> np.ndarray:
    """N distinct joints drawn uniformly from the 21, in random order."""
    if not 1 <= n <= NUM_JOINTS:
        raise ValueError(f"joint-order prompts sample 1..{NUM_JOINTS} joints, got N={n}")
    return rng.permutation(NUM_JOINTS)[:n]


def batch_prompts(xyz: np.ndarray, n: int, rng: np.random.Generator) -> tuple[list[str], list[str], list[str]]:
    """Prompts W_x, W_y, W_z for a batch of poses (B, 21, 3): three lists of B sentences."""
    per_sample = [axis_sentences(pose, sample_joints(rng, n)) for pose in np.asarray(xyz)]
    return tuple(list(axis) for axis in zip(*per_sample))

"""A prior over natural hand articulations: anatomical limits, DIP-PIP coupling, a mixture of everyday hand shapes.

Angles are degrees, rotations of the rig joints relative to the template's rest pose (a flat hand with
nearly straight fingers and the thumb in the palm's plane, about 40 deg from the index). Flexion is
positive towards the palm; finger abduction is positive away from the middle finger (the middle
finger's towards the thumb); thumb CMC flexion moves the thumb across the palm in its plane, CMC
abduction lifts it out of that plane (palmar abduction), and the metacarpal pronates with both, so
that the pad turns to the fingers in opposition (the conjunct rotation of the trapeziometacarpal joint,
Kapandji, "The Physiology of the Joints", vol. 1). Limits (active ranges; ours lie inside them):

- finger MCP flexion -20..90 (hyperextension 20), PIP -5..105, DIP -10..80: AAOS, "Joint motion:
  method of measuring and recording" (1965: MCP 0-90 flexion, 45 extension; PIP 0-100; DIP 0-90,
  10 extension) and Lin, Wu & Huang, "Modeling the constraints of human hand motion" (HUMO 2000:
  MCP 0-90, PIP 0-110, DIP 0-90, MCP abduction -15..15);
- finger MCP abduction: index -10..25, middle -12..12, ring -10..20, little -10..30 (the little
  finger spreads most); spreading shrinks as the MCP flexes (Lin et al. 2000);
- DIP = 2/3 PIP (Rijpkema & Girard, "Computer animation of knowledge-based human grasping",
  SIGGRAPH 1991; Lin et al. 2000), here with 5 deg noise;
- thumb CMC flexion -40..40 and abduction -10..45 (Cooney et al., "The kinesiology of the thumb
  trapeziometacarpal joint", JBJS 1981: flexion-extension arc 53, abduction-adduction arc 42; the
  flexion range reaches further out than the arc, since here it also stands in for the radial abduction
  that keeps a real thumb off the index line: its MCP stands 24-60 deg off the wrist -> middle MCP axis
  on photographed hands, docs/renderer/README.md), the states' means -33..15,
  pronation 0.5 abduction + 0.25 flexion, at most 30;
  thumb MCP -10..60 and IP -15..80 (AAOS 1965: MCP 0-50, IP 0-80 flexion, 20 extension);
- wrist flexion -55..55 and deviation -25..15 (radial 15, ulnar 25): inside AAOS (flexion 80,
  extension 70, radial 20, ulnar 30) and the functional range of Ryu et al., "Functional ranges of
  motion of the wrist joint" (J Hand Surg 1991: 60 flexion/extension, 40 ulnar, 17 radial).

Everyday functional use stays well inside these limits (Hume et al., "Functional range of motion of
the joints of the hand", J Hand Surg 1990: MCP 61, PIP 60, DIP 39 deg of flexion).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

# (low, high) per angle: fingers index..little x (MCP flexion, MCP abduction, PIP, DIP); thumb (CMC
# flexion, CMC abduction, MCP, IP); wrist (flexion, deviation: positive radial)
FINGER_LIMITS = np.array([
    [[-20, 90], [-10, 25], [-5, 105], [-10, 80]],
    [[-20, 90], [-12, 12], [-5, 105], [-10, 80]],
    [[-20, 90], [-10, 20], [-5, 105], [-10, 80]],
    [[-20, 90], [-10, 30], [-5, 105], [-10, 80]],
], float)
THUMB_LIMITS = np.array([[-40, 40], [-10, 45], [-10, 60], [-15, 80]], float)
PRONATION = (0.5, 0.25, 30.0)  # thumb metacarpal pronation per deg of CMC abduction, of flexion; maximum
WRIST_LIMITS = np.array([[-55, 55], [-25, 15]], float)
SPREAD = np.array([18.0, 4.0, 12.0, 25.0])  # MCP abduction of a fully spread flat hand, index..little
DIP_OF_PIP, DIP_NOISE = 2.0 / 3.0, 5.0

# finger states: mean (MCP flexion, PIP flexion) and their standard deviation
FINGER_STATES = {
    "straight": ((3, 3), (6, 4)),
    "relaxed": ((25, 30), (10, 12)),
    "bent": ((55, 45), (10, 10)),
    "curled": ((85, 98), (5, 6)),
    "hook": ((5, 90), (8, 8)),  # claw: knuckle straight, PIP and DIP bent
    "cylinder": ((45, 60), (8, 8)),  # wrapped round a 4-6 cm handle
    "sphere": ((30, 40), (8, 8)),  # over a ball, spread
}
# thumb states: mean (CMC flexion, CMC abduction, MCP, IP) and one standard deviation for all four
THUMB_STATES = {
    "out": ((-33, 10, 0, 0), 6),
    "side": ((0, 5, 5, 5), 5),  # along the index finger
    "relaxed": ((-22, 20, 15, 15), 7),
    "tucked": ((5, 25, 55, 50), 4),  # over the middle phalanges of a fist
    "across": ((15, 20, 45, 40), 4),  # folded into the palm (counting four)
    "up": ((8, 5, 0, -5), 5),  # thumbs-up
    "wrap": ((-8, 35, 20, 25), 6),  # round a handle or a ball
}


class Kind(NamedTuple):
    """One everyday hand shape: a finger state per finger (index..little), a thumb state, a spread range,
    and `touch`: the finger whose tip the thumb tip meets (pinch, OK), or None."""

    fingers: tuple[str, str, str, str]
    thumb: str
    spread: tuple[float, float]
    touch: int | None = None


KINDS: dict[str, Kind] = {
    "relaxed": Kind(("relaxed",) * 4, "relaxed", (-0.1, 0.4)),
    "open": Kind(("straight",) * 4, "side", (0.1, 0.6)),
    "spread": Kind(("straight",) * 4, "out", (0.8, 1.0)),
    "flat": Kind(("straight",) * 4, "side", (-0.3, 0.0)),
    "fist": Kind(("curled",) * 4, "tucked", (-0.2, 0.2)),
    "point": Kind(("straight", "curled", "curled", "curled"), "relaxed", (-0.1, 0.3)),
    "one": Kind(("straight", "curled", "curled", "curled"), "tucked", (-0.1, 0.3)),
    "two": Kind(("straight", "straight", "curled", "curled"), "tucked", (0.5, 1.0)),
    "three": Kind(("straight", "straight", "straight", "curled"), "across", (0.3, 0.8)),
    "four": Kind(("straight",) * 4, "across", (0.2, 0.8)),
    "five": Kind(("straight",) * 4, "out", (0.5, 1.0)),
    "pinch": Kind(("bent", "relaxed", "relaxed", "relaxed"), "wrap", (-0.1, 0.4), touch=0),
    "ok": Kind(("bent", "straight", "straight", "straight"), "wrap", (0.3, 0.8), touch=0),
    "cylinder": Kind(("cylinder",) * 4, "wrap", (-0.2, 0.1)),
    "sphere": Kind(("sphere",) * 4, "wrap", (0.5, 1.0)),
    "claw": Kind(("hook",) * 4, "relaxed", (0.4, 1.0)),
    "thumbs_up": Kind(("curled",) * 4, "up", (-0.2, 0.1)),
    "call": Kind(("curled", "curled", "curled", "straight"), "out", (0.3, 0.8)),
    "horns": Kind(("straight", "curled", "curled", "straight"), "tucked", (0.3, 0.8)),
}
# mixture weights (relative): resting and open hands and grasps are the most common
KIND_WEIGHTS = {"relaxed": 4, "open": 2, "spread": 1, "flat": 1, "fist": 2, "point": 1.5, "one": 1, "two": 1,
                "three": 1, "four": 1, "five": 1, "pinch": 2, "ok": 1, "cylinder": 2, "sphere": 1.5, "claw": 1,
                "thumbs_up": 1, "call": 0.5, "horns": 0.5}
RELAX = 0.3  # at most this share of each sample is a random relaxed hand: shapes blend continuously


class HandAngles(NamedTuple):
    """Joint angles (deg) of one or more hands: fingers (..., 4, 4) and thumb (..., 4), laid out as the limits."""

    fingers: np.ndarray
    thumb: np.ndarray


def kind_names() -> tuple[str, ...]:
    """The known hand-shape names, in table order."""
    return tuple(KINDS)


def get_kind(name: str) -> Kind:
    """The hand shape called `name`; an unknown name raises KeyError listing the known ones."""
    if name not in KINDS:
        raise KeyError(f"unknown pose kind {name!r}; known: {', '.join(KINDS)}")
    return KINDS[name]


def draw_kind(rng: np.random.Generator) -> str:
    """A hand-shape name drawn from the mixture weights."""
    names = list(KIND_WEIGHTS)
    p = np.array([KIND_WEIGHTS[n] for n in names])
    return names[rng.choice(len(names), p=p / p.sum())]


def _state_angles(kind: Kind, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, float]:
    """Finger (MCP, PIP) (4, 2), thumb (4,) and spread drawn around the kind's states."""
    fingers = np.empty((4, 2))
    for f, state in enumerate(kind.fingers):
        mean, sd = FINGER_STATES[state]
        fingers[f] = rng.normal(mean, sd)
    mean, sd = THUMB_STATES[kind.thumb]
    return fingers, rng.normal(mean, sd), rng.uniform(*kind.spread)


def sample_angles(rng: np.random.Generator, kind: str) -> HandAngles:
    """Joint angles of one hand of the named shape, with continuous variation, inside the limits."""
    fingers, thumb, spread = _state_angles(get_kind(kind), rng)
    mix = rng.uniform(0, RELAX)  # blend towards a random relaxed hand
    relaxed_f, relaxed_t, relaxed_s = _state_angles(KINDS["relaxed"], rng)
    fingers = (1 - mix) * fingers + mix * (relaxed_f + np.array([[0.0], [5.0], [10.0], [15.0]]))
    thumb, spread = (1 - mix) * thumb + mix * relaxed_t, (1 - mix) * spread + mix * relaxed_s
    return assemble(fingers, thumb, spread, rng)


def assemble(mcp_pip: np.ndarray, thumb: np.ndarray, spread, rng: np.random.Generator) -> HandAngles:
    """Full angles from finger (MCP, PIP) flexions (..., 4, 2), thumb (..., 4) and spread (...): MCP abduction
    from the spread (less when the knuckle flexes), DIP coupled to PIP, everything clipped to the limits."""
    mcp_pip = np.asarray(mcp_pip, np.float64)
    batch = mcp_pip.shape[:-2]
    mcp = np.clip(mcp_pip[..., 0], *FINGER_LIMITS[:, 0].T)
    pip = np.clip(mcp_pip[..., 1], *FINGER_LIMITS[:, 2].T)
    flexed = np.clip(mcp / 90.0, 0.0, 1.0)
    abd = SPREAD * np.asarray(spread)[..., None] * (1 - 0.6 * flexed) + rng.normal(0, 3, batch + (4,))
    dip = DIP_OF_PIP * pip + rng.normal(0, DIP_NOISE, batch + (4,))
    fingers = np.stack([mcp, abd, pip, dip], -1)
    fingers = np.clip(fingers, FINGER_LIMITS[..., 0], FINGER_LIMITS[..., 1])
    thumb = np.clip(np.asarray(thumb, np.float64), THUMB_LIMITS[:, 0], THUMB_LIMITS[:, 1])
    return HandAngles(fingers, thumb)


def thumb_pronation(thumb: np.ndarray) -> np.ndarray:
    """Axial rotation (deg, ...) of the thumb metacarpal coupled to CMC flexion and abduction (thumb (..., 4))."""
    per_abd, per_flex, most = PRONATION
    return np.clip(per_abd * thumb[..., 1] + per_flex * np.maximum(thumb[..., 0], 0), 0, most)


def sample_wrist_angles(rng: np.random.Generator) -> np.ndarray:
    """Wrist (flexion, deviation) in degrees, uniform inside WRIST_LIMITS."""
    return rng.uniform(WRIST_LIMITS[:, 0], WRIST_LIMITS[:, 1])

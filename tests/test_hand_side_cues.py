"""What the detector's side classifier learns from: a drawn left hand is the exact mirror image of a right one
(points, outward normals, palm skin on the palm side), so its 'left' label matches the pixels (issue 13)."""

from __future__ import annotations

import numpy as np

from handclip.data.synth.frame import mirrored
from handclip.data.synth.scene import limb, pose_hand
from handclip.data.synth.skin import skin_map

MIRROR = np.array([-1.0, 1.0, 1.0])


def test_drawn_left_hands_mirror_right_ones_with_outward_normals_and_palms_on_the_palm_side():
    palm = skin_map()[0] > 0.5
    for k in range(4):
        right_pose = pose_hand(np.random.default_rng(k))
        right, left = limb(right_pose), limb(mirrored(right_pose), mirrored=True)
        assert np.allclose(left.hand, right.hand * MIRROR) and np.allclose(left.arm, right.arm * MIRROR)
        # a mirrored surface keeps its normals outwards: mirrored, not turned inside out by the flipped winding
        assert np.allclose(left.hand_normals, right.hand_normals * MIRROR, atol=1e-6)
        assert np.allclose(left.arm_normals, right.arm_normals * MIRROR, atol=1e-6)
        for hand in (right, left):
            # palm skin faces the palm side: along (index MCP - wrist) x (little MCP - wrist) on a right hand,
            # against it on a left one (the cross product flips in a mirror)
            j = hand.joints
            normal = np.cross(j[5] - j[0], j[17] - j[0])
            facing = hand.hand_normals[palm].mean(0) @ normal / np.linalg.norm(normal)  # 0.23-0.81 on seeds 0-11
            assert (facing if hand is right else -facing) > 0.15, (k, facing)

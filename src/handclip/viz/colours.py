"""One colour per finger (thumb, index, middle, ring, little) so left/right and finger swaps are visible."""

from handclip.skeleton import FINGER_OF_JOINT

# RGB 0-255, thumb to little
FINGER_RGB = ((230, 60, 60), (240, 170, 30), (60, 190, 80), (40, 140, 230), (170, 80, 220))
WRIST_RGB = (240, 240, 240)


def joint_rgb(joint: int) -> tuple[int, int, int]:
    """Colour of a joint (the wrist is white-ish, the rest take their finger's colour)."""
    finger = FINGER_OF_JOINT[joint]
    return WRIST_RGB if finger < 0 else FINGER_RGB[finger]


def rgb01(rgb) -> tuple[float, float, float]:
    """A 0-255 colour as matplotlib's 0-1 floats."""
    return tuple(c / 255.0 for c in rgb)

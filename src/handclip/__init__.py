"""handclip: 3D hand pose from one RGB image guided by CLIP (DG-CLIP and CLIP-Hand3D)."""

__version__ = "0.1.0"

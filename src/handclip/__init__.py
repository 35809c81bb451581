"""handclip: 3D hand pose from one RGB image guided by CLIP (DG-CLIP and CLIP-Hand3D)."""

__version__ = "0.1.0"


def __getattr__(name: str):
    """Lazy `handclip.load` (the Python API in handclip.api), so importing handclip stays light."""
    if name == "load":
        from handclip.api import load

        return load
    raise AttributeError(f"module 'handclip' has no attribute {name!r}")

"""Pictures of predictions: 2D skeleton overlays, 3D views (joints and mesh) and logits matrices, as PNG."""

from handclip.viz.figure import save_prediction_png
from handclip.viz.overlay_png import save_overlay_png
from handclip.viz.skeleton2d import draw_skeleton

__all__ = ["draw_skeleton", "save_overlay_png", "save_prediction_png"]

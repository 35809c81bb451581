"""Registry of trainable methods (DG-CLIP, its baselines, CLIP-Hand3D, the hand detector).

A method module registers a factory with @register("name"); the engine builds it from the
`method:` block of a config via build(name, **kwargs). See handclip.methods.base.Method.
"""

from __future__ import annotations

from handclip.registry import Registry

# method name -> module that registers it, imported on first use
METHODS = Registry(
    "method",
    {
        "dg_clip": "handclip.methods.dg_clip",
        "dg_clip_baseline": "handclip.methods.dg_clip",
        "clip_hand3d": "handclip.methods.clip_hand3d",
        "mean_pose": "handclip.methods.mean_pose",
        "hand_detector": "handclip.methods.hand_detector",
    },
)
register = METHODS.register
build = METHODS.build

"""Loss functions of the methods, one module per paper (handclip.losses.dg_clip, ...)."""

"""Logits matrices of a trained method over one batch, for reports: do features and texts pair up?

CLIP-Hand3D: its three pose-text logits matrices M_lr, M_tb, M_nf (paper Fig. 4/6/10), from joint-order
prompts of the batch's own poses. DG-CLIP: the similarity -|e1'_i - e2'_j|_1 of each image's Branch2
embedding to every image's CLIP embedding (Eq. 4 pulls the diagonal together). Methods without a
text side (the baseline, the mean pose) have none.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

CLIP_HAND3D_AXES = ("left to right (M_lr)", "top to bottom (M_tb)", "near to far (M_nf)")


def _float_image(batch: dict, size: int) -> torch.Tensor:
    """The batch's uint8 images as float (B, 3, size, size) in [0, 1], resized as the methods do."""
    image = batch["image"].permute(0, 3, 1, 2).float() / 255.0
    if image.shape[-1] != size:
        image = F.interpolate(image, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
    return image.clamp(0, 1)


def clip_hand3d(method, batch: dict) -> dict[str, torch.Tensor]:
    """M_lr, M_tb, M_nf (B, B) of a CLIP-Hand3D model trained with its CLIP loss."""
    if method.matching is None:
        return {}
    matrices = method.logits_matrices(batch, method(_float_image(batch, method.input_size)))
    return dict(zip(CLIP_HAND3D_AXES, matrices))


def dg_clip(method, batch: dict) -> dict[str, torch.Tensor]:
    """-L1 distance between Branch2 image embeddings e1' (rows) and CLIP embeddings e2' (columns)."""
    if method.branch2 is None:
        return {}
    x = _float_image(batch, method.input_size)
    e1, e2 = method.branch2(method.hpe.run(x)["feat11"], method.clip_feature(x))
    return {"-|e1' - e2'|_1": -torch.cdist(e1, e2, p=1)}


PROBES = {"clip_hand3d": clip_hand3d, "dg_clip": dg_clip}


@torch.no_grad()
def logits_matrices(method, method_name: str, batch: dict) -> dict[str, torch.Tensor]:
    """{title: (B, B)} for the registered method `method_name`; {} where it has no text side."""
    probe = PROBES.get(method_name)
    if probe is None:
        return {}
    was_training = method.training
    method.eval()
    try:
        return probe(method, batch)
    finally:
        method.train(was_training)

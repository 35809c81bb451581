"""The `hand_detector` method: finds every hand in a letterboxed photo with its box, score and side.

A CenterNet-style single-shot detector (handclip.models.hand_detector, handclip.detection.codec) trained on
full-frame renders ('synth_full_cache'). Batches hold 'image' uint8 (B, S, S, 3) letterboxed frames and the
padded hands of each: 'boxes' (B, M, 4) canvas px, 'left' (B, M), 'hand_valid' (B, M), 'ignore' (B, M).
Photos in and hands out (letterbox, NMS, photo pixels) is handclip.detection.detector.HandDetector.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from handclip.detection.codec import CenterCodec
from handclip.losses.hand_detector import centre_focal_loss, centre_l1, side_loss
from handclip.methods import register
from handclip.methods.base import Method
from handclip.models.hand_detector import HandDetectorNet

TARGETS = ("heat", "heat_weight", "side", "side_weight", "index", "reg", "reg_mask")


@register("hand_detector")
class HandDetectorMethod(Method):
    """Centre heatmap, box regression and side logits at stride 8 of a square input of `input_size` px."""

    def __init__(self, input_size: int = 256, width: float = 1.0, neck: int = 64, candidates: int = 20,
                 heat_weight: float = 1.0, offset_weight: float = 1.0, size_weight: float = 1.0,
                 side_weight: float = 1.0):
        super().__init__()
        self.net = HandDetectorNet(width=width, neck=neck)
        if input_size % self.net.stride:
            raise ValueError(f"hand_detector: input_size must be a multiple of {self.net.stride}, got {input_size}")
        self.input_size, self.candidates = int(input_size), int(candidates)
        self.codec = CenterCodec(self.input_size, self.net.stride)
        self.weights = {"heat": heat_weight, "offset": offset_weight, "size": size_weight, "side": side_weight}

    def maps(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """uint8 (B, S, S, 3) -> heat logits (B, G, G), regression (B, 4, G, G), side logits (B, G, G)."""
        heat, reg, side = self.net(image.permute(0, 3, 1, 2).float() / 255.0)
        return heat[:, 0], reg, side[:, 0]

    def targets(self, batch: dict) -> dict[str, torch.Tensor]:
        """The codec's targets of every image of the batch, stacked on the batch's device."""
        arrays = [batch[k].cpu().numpy() for k in ("boxes", "left", "hand_valid", "ignore")]
        per_image = [self.codec.encode(*(a[i] for a in arrays)) for i in range(len(arrays[0]))]
        device = batch["image"].device
        return {k: torch.from_numpy(np.stack([t[k] for t in per_image])).to(device) for k in TARGETS}

    def training_step(self, batch: dict) -> dict[str, torch.Tensor]:
        """Weighted sum of the focal, offset, size and side losses."""
        t = self.targets(batch)
        heat, reg, side = self.maps(batch["image"])
        terms = {
            "heat": centre_focal_loss(heat.float(), t["heat"], t["heat_weight"]),
            "offset": centre_l1(reg[:, :2].float(), t["index"], t["reg"][..., :2], t["reg_mask"]),
            "size": centre_l1(reg[:, 2:].float(), t["index"], t["reg"][..., 2:], t["reg_mask"]),
            "side": side_loss(side.float(), t["side"], t["side_weight"]),
        }
        loss = sum(self.weights[k] * v for k, v in terms.items())
        return {"loss": loss, **{f"loss_{k}": v.detach() for k, v in terms.items()}}

    @torch.no_grad()
    def predict(self, batch: dict) -> dict[str, torch.Tensor]:
        """The `candidates` best centres of each image before NMS: 'boxes' (B, k, 4) canvas px, 'scores' (B, k),
        'left' (B, k) probability of a left hand."""
        heat, reg, side = self.maps(batch["image"])
        return self.codec.decode(torch.sigmoid(heat), reg, torch.sigmoid(side), self.candidates)

    @torch.no_grad()
    def output_difference(self, other: "HandDetectorMethod", images: list[np.ndarray]) -> float:
        """Largest change (canvas px) of each image's best box between this detector and `other` on square
        images of the input size: the zoo's float16 check (handclip.zoo.weights) for a model without joints."""
        batch = {"image": torch.from_numpy(np.stack(images))}
        ours, theirs = self.predict(batch)["boxes"][:, 0], other.predict(batch)["boxes"][:, 0]
        return float((ours - theirs).abs().max())

    def inference_model(self) -> nn.Module:
        """The network: float image (B, 3, S, S) in [0, 1] -> heat logits, regression, side logits."""
        return self.net

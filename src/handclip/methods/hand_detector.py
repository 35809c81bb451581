"""The `hand_detector` method: finds every hand in a letterboxed photo with its box, score and side.

A CenterNet-style single-shot detector (handclip.models.hand_detector, handclip.detection.codec) trained on
full-frame renders ('synth_full_cache'). The side comes from a dense head at the centres, or (side_crop = N
px) from a classifier of each hand's square crop (handclip.models.hand_side) predicting the side's two cues,
palm towards the camera and the palm triangle's turning sense, each with its own cross-entropy, trained on the
labelled boxes jittered as detections are. `side_only` trains that classifier alone, a second stage that starts
from a trained detector's weights (`init_weights`) and leaves its boxes as they were. Batches hold 'image' uint8
(B, S, S, 3) letterboxed frames and the padded hands of each: 'boxes' (B, M, 4) canvas px, 'left', 'palm',
'hand_valid', 'ignore' (B, M).
Photos in and hands out (letterbox, NMS, photo pixels) is handclip.detection.detector.HandDetector.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from handclip.detection.codec import CenterCodec
from handclip.detection.side_cues import turn_label
from handclip.losses.hand_detector import centre_focal_loss, centre_l1, side_loss
from handclip.methods import register
from handclip.methods.base import Method, StartsFromWeights
from handclip.models.hand_detector import HandDetectorNet
from handclip.models.hand_side import HandSideNet, crop_squares, left_probability

TARGETS = ("heat", "heat_weight", "side", "side_weight", "index", "reg", "reg_mask")
JITTER_SCALE, JITTER_SHIFT = 0.15, 0.1  # side crops in training: box side x U(1 -+ s), centre + U(-+ t) x side


@register("hand_detector")
class HandDetectorMethod(StartsFromWeights, Method):
    """Centre heatmap, box regression and side logits at stride 8 of a square input of `input_size` px."""

    START_FLAG = "initialised"  # the name its checkpoints carry

    def __init__(self, input_size: int = 256, width: float = 1.0, neck: int = 64, candidates: int = 20,
                 heat_weight: float = 1.0, offset_weight: float = 1.0, size_weight: float = 1.0,
                 side_weight: float = 1.0, side_crop: int = 0, side_only: bool = False,
                 init_weights: str | None = None):
        super().__init__()
        if side_only and not side_crop:
            raise ValueError("hand_detector: side_only trains the side crop classifier, so it needs side_crop > 0")
        self.net = HandDetectorNet(width=width, neck=neck, side_head=not side_crop)
        self.side_crop, self.side_only, self.init_weights = int(side_crop), bool(side_only), init_weights
        self.side_net = HandSideNet() if side_crop else None
        self.register_start_flag()
        if input_size % self.net.stride:
            raise ValueError(f"hand_detector: input_size must be a multiple of {self.net.stride}, got {input_size}")
        self.input_size, self.candidates = int(input_size), int(candidates)
        self.codec = CenterCodec(self.input_size, self.net.stride)
        self.weights = {"heat": heat_weight, "offset": offset_weight, "size": size_weight,
                        **dict.fromkeys(("side", "palm", "turn"), side_weight)}

    @staticmethod
    def to_float(image: torch.Tensor) -> torch.Tensor:
        """uint8 (B, S, S, 3) -> float (B, 3, S, S) in [0, 1]."""
        return image.permute(0, 3, 1, 2).float() / 255.0

    def maps(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """Float images (B, 3, S, S) -> heat logits (B, G, G), regression (B, 4, G, G), side logits (B, G, G)
        (None with the crop classifier)."""
        heat, reg, side = self.net(x)
        return heat[:, 0], reg, None if side is None else side[:, 0]

    def side_logits(self, x: torch.Tensor, boxes: torch.Tensor, index: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """(palm, turn) logits (N,) of boxes (N, 4) canvas px in images index (N,) of float images x."""
        return self.side_net(crop_squares(x, boxes.float(), index, self.side_crop))

    def _crop_side_loss(self, x: torch.Tensor, batch: dict) -> dict[str, torch.Tensor]:
        """Binary cross-entropies of the palm and turn cues on every learnt hand, its box jittered like a
        detection's; the turn label is left XOR palm."""
        if "palm" not in batch:
            raise ValueError("hand_detector: the batch has no 'palm' flags, which the side classifier learns from; "
                           "train on synth_full_cache (format 2 or later) or set method.side_crop=0")
        keep = batch["hand_valid"].bool() & ~batch["ignore"].bool()
        if not keep.any():
            return {"palm": x.new_zeros(()), "turn": x.new_zeros(())}
        boxes = batch["boxes"][keep].float()
        index = keep.nonzero()[:, 0]
        side = boxes[:, 2:].max(1, keepdim=True).values
        u = torch.rand(len(boxes), 3, device=x.device) * 2 - 1
        centre = boxes[:, :2] + boxes[:, 2:] / 2 + u[:, :2] * JITTER_SHIFT * side
        wh = boxes[:, 2:] * (1 + JITTER_SCALE * u[:, 2:])
        palm, turn = self.side_logits(x, torch.cat([centre - wh / 2, wh], 1), index)
        palm_label = batch["palm"][keep].bool()
        turn_target = turn_label(batch["left"][keep].bool(), palm_label)
        return {"palm": F.binary_cross_entropy_with_logits(palm, palm_label.float()),
                "turn": F.binary_cross_entropy_with_logits(turn, turn_target.float())}

    @torch.no_grad()
    def sides(self, image: torch.Tensor, boxes: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        """Probabilities (N,) that the hands in boxes (N, 4) canvas px of uint8 images index (N,) are left ones
        (the crop classifier's two cues combined; methods with the dense head give 'left' in predict())."""
        if len(boxes) == 0:
            return torch.zeros(0)
        return left_probability(*self.side_logits(self.to_float(image), boxes, index))

    def targets(self, batch: dict) -> dict[str, torch.Tensor]:
        """The codec's targets of every image of the batch, stacked on the batch's device."""
        arrays = [batch[k].cpu().numpy() for k in ("boxes", "left", "hand_valid", "ignore")]
        per_image = [self.codec.encode(*(a[i] for a in arrays)) for i in range(len(arrays[0]))]
        device = batch["image"].device
        return {k: torch.from_numpy(np.stack([t[k] for t in per_image])).to(device) for k in TARGETS}

    def _load_initial_weights(self) -> None:
        """The first training step's weights: those of the checkpoint `init_weights` (a resumed run has its own)."""
        from handclip.engine.checkpoint import load_init_weights

        load_init_weights(self, self.init_weights, "train the detector first (handclip train --config detector/cpu)",
                          map_location=self.initialised.device)

    def training_step(self, batch: dict) -> dict[str, torch.Tensor]:
        """Weighted sum of the focal, offset, size and side losses (side_weight on each of the crop classifier's
        palm and turn losses); with side_only the palm and turn losses alone."""
        self.load_start_weights_once()
        x = self.to_float(batch["image"])
        if self.side_only:
            terms = self._crop_side_loss(x, batch)
            loss = sum(self.weights[k] * v for k, v in terms.items())
            return {"loss": loss, **{f"loss_{k}": v.detach() for k, v in terms.items()}}
        t = self.targets(batch)
        heat, reg, side = self.maps(x)
        terms = {
            "heat": centre_focal_loss(heat.float(), t["heat"], t["heat_weight"]),
            "offset": centre_l1(reg[:, :2].float(), t["index"], t["reg"][..., :2], t["reg_mask"]),
            "size": centre_l1(reg[:, 2:].float(), t["index"], t["reg"][..., 2:], t["reg_mask"]),
        }
        if self.side_net is not None:
            terms.update(self._crop_side_loss(x, batch))
        else:
            terms["side"] = side_loss(side.float(), t["side"], t["side_weight"])
        loss = sum(self.weights[k] * v for k, v in terms.items())
        return {"loss": loss, **{f"loss_{k}": v.detach() for k, v in terms.items()}}

    @torch.no_grad()
    def predict(self, batch: dict) -> dict[str, torch.Tensor]:
        """The `candidates` best centres of each image before NMS: 'boxes' (B, k, 4) canvas px, 'scores' (B, k),
        and with the dense side head 'left' (B, k), the probability of a left hand (else see sides())."""
        heat, reg, side = self.maps(self.to_float(batch["image"]))
        return self.codec.decode(torch.sigmoid(heat), reg, None if side is None else torch.sigmoid(side), self.candidates)

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

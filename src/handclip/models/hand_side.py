"""The hand detector's side classifier: is the hand in a square crop a left one? Mirror-antisymmetric by
construction, logit(x) = f(x) - f(mirror(x)), so a mirrored crop gets exactly the opposite answer and the
network spends nothing on what left and right hands share (chirality shows only in palm/back appearance and
in which way the fingers bend, as the silhouettes of a right hand's back and a left hand's palm are equal).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from handclip.models.hand_detector import Separable

CONTEXT = 1.3  # the crop's side over the box's longer side
CHANNELS = ((24, 1), (48, 2), (96, 2), (128, 2))  # (channels, blocks) at strides 4, 8, 16, 32 of the crop


def crop_squares(images: torch.Tensor, boxes: torch.Tensor, index: torch.Tensor, size: int) -> torch.Tensor:
    """Bilinear size x size crops (N, C, size, size) of images (B, C, S, S): the square of side CONTEXT x the
    longer side around each box (N, 4) [x, y, w, h] in pixels (centres at integers) of image index[n]; zero
    outside the image."""
    s = images.shape[-1]
    centre = boxes[:, :2] + boxes[:, 2:] / 2
    side = CONTEXT * boxes[:, 2:].max(1).values
    theta = torch.zeros(len(boxes), 2, 3, dtype=images.dtype, device=images.device)
    theta[:, 0, 0] = theta[:, 1, 1] = side / s  # crop [-1, 1] -> image coordinates normalised as align_corners=False
    theta[:, :, 2] = (centre + 0.5) * 2 / s - 1
    grid = F.affine_grid(theta, [len(boxes), images.shape[1], size, size], align_corners=False)
    return F.grid_sample(images[index], grid, mode="bilinear", padding_mode="zeros", align_corners=False)


class HandSideNet(nn.Module):
    """(N, 3, S, S) float crops in [0, 1] -> (N,) logits that the hand is a left one."""

    def __init__(self):
        super().__init__()
        layers, cin = [nn.Conv2d(3, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU(inplace=True)], 16
        for cout, blocks in CHANNELS:
            layers += [Separable(cin, cout, 2)] + [Separable(cout, cout) for _ in range(blocks - 1)]
            cin = cout
        self.features = nn.Sequential(*layers)
        self.logit = nn.Linear(cin, 1)

    def forward(self, crops: torch.Tensor) -> torch.Tensor:
        both = self.features((torch.cat([crops, crops.flip(-1)]) - 0.45) / 0.25)
        score = self.logit(both.mean((2, 3)))[:, 0]
        return score[: len(crops)] - score[len(crops):]

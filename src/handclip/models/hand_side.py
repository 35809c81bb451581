"""The hand detector's side classifier: is the hand in a square crop a left one? It predicts the two cues the
side is made of (handclip.detection.side_cues), each with the symmetry it has under a mirror: the palm facing
the camera, mirror-symmetric by construction (h(x) + h(mirror x)), and the turning sense of wrist -> index MCP
-> little MCP on the image, mirror-antisymmetric by construction (g(x) - g(mirror x)); P(left) is their XOR.
Learnt as one logit, the side never left chance on the renders (issue 13): each cue alone is uncorrelated with
it, so its gradient had no foothold; each cue has its own label and loss here.
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
    """(N, 3, S, S) float crops in [0, 1] -> (palm, turn) logits (N,) each: the palm faces the camera, and wrist ->
    index MCP -> little MCP runs counter-clockwise on the image. One trunk, a head per cue."""

    def __init__(self):
        super().__init__()
        layers, cin = [nn.Conv2d(3, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU(inplace=True)], 16
        for cout, blocks in CHANNELS:
            layers += [Separable(cin, cout, 2)] + [Separable(cout, cout) for _ in range(blocks - 1)]
            cin = cout
        self.features = nn.Sequential(*layers)
        self.palm, self.turn = nn.Linear(cin, 1), nn.Linear(cin, 1)
        self.register_load_state_dict_pre_hook(from_side_logit)

    def forward(self, crops: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        both = self.features((torch.cat([crops, crops.flip(-1)]) - 0.45) / 0.25).mean((2, 3))
        palm, turn, n = self.palm(both)[:, 0], self.turn(both)[:, 0], len(crops)
        return palm[:n] + palm[n:], turn[:n] - turn[n:]


def left_probability(palm: torch.Tensor, turn: torch.Tensor) -> torch.Tensor:
    """P(left) = P(palm XOR turn) of the two cues' logits, taken as independent: p (1 - t) + (1 - p) t."""
    p, t = torch.sigmoid(palm), torch.sigmoid(turn)
    return p * (1 - t) + (1 - p) * t


def from_side_logit(module, state_dict, prefix, *args) -> None:
    """Load hook: a classifier saved before the cues (one antisymmetric left logit, 'logit') becomes the same
    answer in two cues, the palm always towards the camera (palm logit 2 x 50) and turn = -logit."""
    weight, bias = state_dict.pop(prefix + "logit.weight", None), state_dict.pop(prefix + "logit.bias", None)
    if weight is None:
        return
    state_dict[prefix + "turn.weight"], state_dict[prefix + "turn.bias"] = -weight, -bias
    state_dict[prefix + "palm.weight"] = torch.zeros_like(weight)
    state_dict[prefix + "palm.bias"] = torch.full_like(bias, 50.0)

"""DG-CLIP losses and heatmap codec on hand-computed cases."""

import pytest
import torch

from handclip.losses.dg_clip import contrastive_loss, hardest_negatives, heatmap_loss, pose_loss
from handclip.models import heatmap2d


def test_hardest_negative_is_farthest_gt_from_anchor_prediction():
    # one joint, 1x3 maps; predicted maps peak at cells 0, 1, 2; GT maps peak at 0, 2, 1
    pred = torch.tensor([[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0]]).view(3, 1, 1, 3)
    gt = torch.tensor([[1.0, 0, 0], [0, 0, 2.0], [0, 0.5, 0]]).view(3, 1, 1, 3)
    # squared distances pred_i -> gt_j:
    # i=0: j=1: 1+4=5, j=2: 1+0.25=1.25 -> 1
    # i=1: j=0: 1+1=2, j=2: 0.25 -> 0
    # i=2: j=0: 1+1=2, j=1: 1 -> 0
    assert hardest_negatives(pred, gt).tolist() == [1, 0, 0]


def test_hardest_negative_never_picks_itself():
    pred = torch.zeros(2, 1, 2, 2)
    gt = torch.stack([torch.full((1, 2, 2), 9.0), torch.zeros(1, 2, 2)])  # sample 0's own GT is farthest
    assert hardest_negatives(pred, gt).tolist() == [1, 0]
    with pytest.raises(ValueError):
        hardest_negatives(pred[:1], gt[:1])


def test_contrastive_forms_on_hand_computed_vectors():
    anchor = torch.tensor([[1.0, 0.0], [0.0, 0.0]])
    positive = torch.tensor([[0.5, 0.0], [0.0, 1.0]])  # L1 distances 0.5 and 1
    negative = torch.tensor([[1.0, 0.2], [2.0, 0.0]])  # L1 distances 0.2 and 2
    # hinge: d_pos + max(0, 0.5 - d_neg) = 0.5 + 0.3 and 1 + 0 -> mean 0.9
    assert contrastive_loss(anchor, positive, negative, "hinge", 0.5).item() == pytest.approx(0.9)
    # printed Eq. 4: d_pos - max(0.5, d_neg) = 0.5 - 0.5 and 1 - 2 -> mean -0.5
    assert contrastive_loss(anchor, positive, negative, "printed", 0.5).item() == pytest.approx(-0.5)
    with pytest.raises(ValueError):
        contrastive_loss(anchor, positive, negative, "cosine")


def test_heatmap_and_pose_losses_by_hand():
    target = torch.zeros(1, 2, 2, 2)
    pred = torch.zeros(1, 2, 2, 2)
    pred[0, 0, 0, 0] = 2.0  # joint 0: squared error summed over pixels = 4
    pred[0, 1] = 1.0  # joint 1: 4 pixels x 1 = 4, but masked out below
    assert heatmap_loss([pred, pred * 0], target).item() == pytest.approx((8 / 2 + 0) / 2)
    assert heatmap_loss(pred, target, torch.tensor([[True, False]])).item() == pytest.approx(4.0)
    xyz = torch.zeros(1, 2, 3)
    pred_xyz = torch.tensor([[[1.0, 2.0, 2.0], [5.0, 5.0, 5.0]]])
    assert pose_loss(pred_xyz, xyz, torch.tensor([[True, False]])).item() == pytest.approx(9 / 3)


def test_heatmap_codec_roundtrip():
    stride, size = 8, 16
    cells = torch.tensor([[[3.0, 5.0], [0.0, 15.0], [7.0, 7.0]]])
    uv = heatmap2d.to_crop_pixels(cells, stride)
    maps = heatmap2d.encode(uv, size, stride, sigma=1.0, valid=torch.tensor([[True, True, False]]))
    assert maps[0, 0, 5, 3].item() == pytest.approx(1.0)  # row = y, column = x
    assert maps[0, 2].abs().sum().item() == 0.0  # invalid joint -> empty map
    assert torch.allclose(heatmap2d.decode(maps[:, :2], stride), uv[:, :2], atol=0.01)
    # a point between cells decodes exactly (the log of a Gaussian is a quadratic), smoothed or not
    off = heatmap2d.to_crop_pixels(torch.tensor([[[6.4, 7.0], [9.7, 8.35], [7.5, 9.1]]]), stride)
    maps = heatmap2d.encode(off, size, stride, 2.0)
    for blur in (0.0, 1.0):
        assert torch.allclose(heatmap2d.decode(maps, stride, blur), off, atol=1e-3 * stride)
    # two equal cells side by side: their midpoint (the step is clamped to half a cell)
    two = torch.zeros(1, 1, size, size)
    two[0, 0, 6, 3:6] = torch.tensor([0.2, 1.0, 1.0])
    assert torch.allclose(heatmap2d.decode(two, stride, 0.0), heatmap2d.to_crop_pixels(torch.tensor([[[4.5, 6.0]]]), stride))
    # a diagonal ridge (the log is a saddle, not concave): a quarter cell towards the higher neighbour
    ridge = torch.full((1, 1, size, size), 1e-3)
    ridge[0, 0, 5:8, 3:6] = torch.tensor([[0.9, 0.5, 1e-3], [0.5, 1.0, 0.6], [1e-3, 0.5, 0.9]])
    assert torch.allclose(heatmap2d.decode(ridge, stride, 0.0), heatmap2d.to_crop_pixels(torch.tensor([[[4.25, 6.0]]]), stride))

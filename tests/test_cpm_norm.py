"""CPM's optional BatchNorm: after every convolution except the three heatmap outputs; shapes unchanged."""

import torch
from torch import nn

from handclip.models.cpm import CPM, NUM_JOINTS


def test_norm_after_every_conv_but_heatmap_outputs():
    plain, normed = CPM(width=0.0625), CPM(width=0.0625, norm=True)
    convs = [m for m in normed.modules() if isinstance(m, nn.Conv2d)]
    bns = [m for m in normed.modules() if isinstance(m, nn.BatchNorm2d)]
    assert len(convs) == len([m for m in plain.modules() if isinstance(m, nn.Conv2d)])
    assert len(bns) == len(convs) - 3
    outputs = [m for m in convs if m.out_channels == NUM_JOINTS]
    assert len(outputs) == 3 and all(m.bias is not None for m in outputs)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in plain.modules())
    normed.eval()
    heatmaps, feat = normed(torch.rand(2, 3, 64, 64))
    assert [h.shape for h in heatmaps] == [torch.Size([2, NUM_JOINTS, 8, 8])] * 3


def test_linear_heads_leave_outputs_unclipped():
    torch.manual_seed(0)
    lin = CPM(width=0.0625, linear_heads=True)
    heads = [lin.stage1_head[-1], *(stage[-1] for stage in lin.refine)]
    assert all(isinstance(m, nn.Conv2d) and m.out_channels == NUM_JOINTS for m in heads)  # no activation after
    for m in heads:  # biases far below zero: a LeakyReLU head would scale them by 0.01, a linear one keeps them
        nn.init.zeros_(m.weight)
        nn.init.constant_(m.bias, -1.0)
    heatmaps, _ = lin(torch.rand(1, 3, 32, 32))
    assert torch.allclose(heatmaps[-1], torch.full_like(heatmaps[-1], -1.0))

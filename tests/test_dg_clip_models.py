"""DG-CLIP networks at full size: parameter counts and shapes against supplement Tables 1 and 2."""

import torch

from handclip.models.branch2 import Branch2
from handclip.models.cpm import CPM
from handclip.models.hpe import HandPoseEstimator
from handclip.models.poseprior import PosePrior


def conv3(cin, cout):
    """Parameters of a 3x3 convolution with bias."""
    return 9 * cin * cout + cout


def fc(cin, cout):
    """Parameters of a linear layer with bias."""
    return cin * cout + cout


def count(module):
    return sum(p.numel() for p in module.parameters())


def test_cpm_branch1_matches_table1():
    # layers 1-11 (VGG part), 20-28 (stage 1); stage 2: 30-36 seven 128-channel convolutions on 128 + 21
    # channels and 37 the 21-channel one; stage 3: 39-44 six 128-channel convolutions and 45
    backbone = conv3(3, 64) + conv3(64, 64) + conv3(64, 128) + conv3(128, 128) + conv3(128, 256) + 3 * conv3(256, 256)
    stage1 = (conv3(256, 512) + conv3(512, 512) + conv3(512, 256) + 3 * conv3(256, 256) + conv3(256, 128)
              + conv3(128, 512) + conv3(512, 21))
    stage2 = conv3(149, 128) + 6 * conv3(128, 128) + conv3(128, 21)
    stage3 = conv3(149, 128) + 5 * conv3(128, 128) + conv3(128, 21)
    net = CPM(width=1.0)
    convs = [sum(isinstance(m, torch.nn.Conv2d) for m in stage.modules()) for stage in net.refine]
    assert convs == [8, 7]  # Table 1: layers 30-37 and 39-45
    assert count(net) == backbone + stage1 + stage2 + stage3
    assert count(CPM(width=1.0, refine_convs=(7, 7))) == backbone + stage1 + 2 * stage2  # checkpoints before Table 1's count
    with torch.no_grad():
        heatmaps, feat11 = net(torch.zeros(1, 3, 256, 256))
    assert [tuple(h.shape) for h in heatmaps] == [(1, 21, 32, 32)] * 3
    assert tuple(feat11.shape) == (1, 256, 32, 32)


def test_branch2_matches_table1_layers_12_to_19():
    # 12-13: stride-2 3x3 convs; 16: fc 1024->512 (e1); 17-18: fc 1536->512 (e2); head 512->512->128
    expected = conv3(256, 512) + conv3(512, 1024) + fc(1024, 512) + fc(1024 + 512, 512) + fc(512, 512) + fc(512, 128)
    branch = Branch2(256)
    assert count(branch) == expected
    with torch.no_grad():
        e1, e2 = branch(torch.zeros(2, 256, 32, 32), torch.zeros(2, 512))
        pooled = branch.convs(torch.zeros(2, 256, 32, 32))
    assert tuple(pooled.shape) == (2, 1024)
    assert tuple(e1.shape) == tuple(e2.shape) == (2, 128)
    # the authors' release: 1x1 kernels in layers 12-13
    assert count(Branch2(256, kernel=1)) == expected - conv3(256, 512) - conv3(512, 1024) + (256 * 512 + 512) + (512 * 1024 + 1024)


def test_poseprior_matches_table2():
    canonical = (conv3(21, 21) + conv3(21, 32) + conv3(32, 64) + conv3(64, 64) + conv3(64, 128) + conv3(128, 128)
                 + fc(4 * 4 * 128, 512) + fc(512, 512) + fc(512, 63))
    viewpoint = (conv3(21, 64) + conv3(64, 64) + conv3(64, 128) + conv3(128, 128) + conv3(128, 256) + conv3(256, 256)
                 + fc(4 * 4 * 256, 256) + fc(256, 128) + 3 * fc(128, 1))
    net = PosePrior(32, 1.0)
    assert count(net) == canonical + viewpoint
    with torch.no_grad():
        assert tuple(net.canonical(torch.zeros(1, 21, 32, 32)).shape) == (1, 512)
        xyz_c, R = net(torch.randn(2, 21, 32, 32))
    assert tuple(xyz_c.shape) == (2, 21, 3) and tuple(R.shape) == (2, 3, 3)
    eye = torch.eye(3).expand(2, 3, 3)
    assert torch.allclose(R @ R.transpose(1, 2), eye, atol=1e-5)
    assert torch.allclose(torch.linalg.det(R), torch.ones(2), atol=1e-5)


def test_cpu_size_scales_channels_and_heatmaps():
    net = HandPoseEstimator(input_size=64, width=0.25)
    assert net.heatmap_size == 8
    with torch.no_grad():
        out = net.run(torch.rand(2, 3, 64, 64))
        xyz, uv = net(torch.rand(2, 3, 64, 64))
    assert tuple(out["heatmaps"][-1].shape) == (2, 21, 8, 8)
    assert out["feat11"].shape[1] == 64
    assert torch.allclose(out["xyz_n"], out["xyz_c"] @ out["R"])
    assert tuple(xyz.shape) == (2, 21, 3) and tuple(uv.shape) == (2, 21, 2)

"""BatchNorm folded into convolutions (handclip.models.fold): a hand-computed case, whole networks unchanged in
output, and the cases that must not fold."""

import pytest
import torch
from torch import nn

from handclip.models.fold import fold_batchnorm
from handclip.models.hand_detector import HandDetectorNet
from handclip.models.lixel import LixelHead
from handclip.models.resnet import ResNetEncoder


def _randomise_statistics(model: nn.Module, seed: int = 0) -> None:
    """Running statistics and affine parameters far from their initial values, so folding has work to do."""
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            n = m.num_features
            m.running_mean.copy_(torch.randn(n, generator=g))
            m.running_var.copy_(torch.rand(n, generator=g) * 3 + 0.2)
            m.weight.data.copy_(torch.randn(n, generator=g))
            m.bias.data.copy_(torch.randn(n, generator=g))


def test_hand_computed_1x1():
    # y = gamma * (w x - mean) / sqrt(var + eps) + beta = 2 * (3 x - 1) / 2 + 0.5 = 3 x - 0.5
    conv = nn.Conv2d(1, 1, 1, bias=False)
    conv.weight.data.fill_(3.0)
    bn = nn.BatchNorm2d(1, eps=0.0)
    bn.running_mean.fill_(1.0), bn.running_var.fill_(4.0), bn.weight.data.fill_(2.0), bn.bias.data.fill_(0.5)
    model = nn.Sequential(conv, bn, nn.ReLU()).eval()
    assert fold_batchnorm(model) == 1
    assert isinstance(model[1], nn.Identity)
    assert model[0].weight.item() == pytest.approx(3.0) and model[0].bias.item() == pytest.approx(-0.5)
    x = torch.tensor([[[[0.0, 1.0], [-1.0, 2.0]]]])
    assert torch.allclose(model(x), torch.relu(3 * x - 0.5))


@pytest.mark.parametrize("build,shape", [(lambda: ResNetEncoder("tiny"), (2, 3, 64, 64)),
                                         (lambda: HandDetectorNet(), (2, 3, 64, 64)),
                                         (lambda: LixelHead(32, width=16), (2, 32, 4, 4))])  # transposed
def test_networks_compute_the_same(build, shape):
    torch.manual_seed(0)
    model = build().eval()
    _randomise_statistics(model)
    x = torch.rand(*shape)
    with torch.no_grad():
        before = model(x)
        norms = sum(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())
        assert fold_batchnorm(model) == norms > 0  # every BatchNorm of these follows a convolution
        after = model(x)
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())
    def tensors(out):
        out = list(out.values()) if isinstance(out, dict) else out
        return [t for t in (out if isinstance(out, (list, tuple)) else [out]) if t is not None]

    assert len(tensors(before)) == len(tensors(after)) > 0
    for a, b in zip(tensors(before), tensors(after)):
        assert torch.allclose(a, b, atol=1e-4, rtol=1e-4)


def test_leaves_what_does_not_follow_a_convolution():
    model = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4), nn.Conv2d(2, 3, 1), nn.BatchNorm2d(5)).eval()
    assert fold_batchnorm(model) == 0  # a Linear before one, a channel count that does not match
    assert isinstance(model[1], nn.BatchNorm1d) and isinstance(model[3], nn.BatchNorm2d)


def test_refuses_a_model_in_training_mode():
    with pytest.raises(ValueError, match="training mode"):
        fold_batchnorm(nn.Sequential(nn.Conv2d(1, 1, 1), nn.BatchNorm2d(1)))


def test_load_folds_and_predicts_as_before(monkeypatch):
    """handclip.load's Predictor has no BatchNorm left and reads a real photo as the trained model does (the
    package's default model)."""
    from pathlib import Path

    import numpy as np

    import handclip
    from handclip.api import Predictor, reads_either_hand
    from handclip.zoo import load_model

    monkeypatch.delenv("HANDCLIP_ZOO", raising=False)
    image = str(Path(__file__).parent / "fixtures" / "freihand" / "training" / "rgb" / "00000000.jpg")
    folded = handclip.load(None, device="cpu", detector=None)
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in folded.method.modules())
    assert all(m.weight.is_contiguous(memory_format=torch.channels_last)
               for m in folded.method.modules() if isinstance(m, nn.Conv2d))
    method, config = load_model(None)
    plain = Predictor(method, device="cpu", reads_side=reads_either_hand(config))
    [a], [b] = folded.predict(image), plain.predict(image)
    assert np.abs(a["uv"] - b["uv"]).max() < 0.05 and np.abs(a["xyz"] - b["xyz"]).max() < 0.5
    assert a["side"] == b["side"]

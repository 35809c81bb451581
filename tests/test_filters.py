"""handclip.filters.gaussian_blur against hand-computed kernels and its invariants."""

import math

import pytest
import torch

from handclip.filters import gaussian_blur


def test_a_point_spreads_as_the_normalised_gaussian():
    x = torch.zeros(1, 1, 7, 7)
    x[0, 0, 3, 3] = 1.0
    y = gaussian_blur(x, 1.0, radius=1)
    g = [math.exp(-0.5), 1.0, math.exp(-0.5)]
    k = [v / sum(g) for v in g]  # 1D kernel at sigma 1, radius 1
    assert y[0, 0, 3, 3].item() == pytest.approx(k[1] * k[1])
    assert y[0, 0, 2, 4].item() == pytest.approx(k[0] * k[2])
    assert y[0, 0, 3, 5].item() == 0.0  # beyond the radius
    assert y.sum().item() == pytest.approx(1.0)


@pytest.mark.parametrize("mode", ["replicate", "reflect"])
def test_constant_images_stay_and_each_item_has_its_sigma(mode):
    x = torch.full((2, 3, 8, 8), 0.7)
    assert torch.allclose(gaussian_blur(x, torch.tensor([0.5, 2.0]), radius=3, mode=mode), x)
    noise = torch.rand(1, 1, 16, 16).expand(2, 1, 16, 16).contiguous()
    y = gaussian_blur(noise, torch.tensor([0.3, 2.0]), radius=4, mode=mode)
    assert y[1].std() < y[0].std() < noise[0].std()  # the wider Gaussian smooths more
    assert torch.allclose(y[0], gaussian_blur(noise[:1], 0.3, radius=4, mode=mode)[0])

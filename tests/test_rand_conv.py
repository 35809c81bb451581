"""Random convolutions: identity at p = 0, statistics kept, a 1x1 filter is pointwise, shapes survive the mix."""

from __future__ import annotations

import pytest
import torch

from handclip.data.rand_conv import RandConv


def test_p_zero_is_the_identity_and_bad_settings_are_refused():
    x = torch.rand(3, 3, 16, 16)
    assert torch.equal(RandConv(p=0.0)(x), x)
    assert RandConv.from_config(False) is None and RandConv.from_config(True).kernels == (1, 3, 5, 7)
    with pytest.raises(ValueError, match="odd kernel"):
        RandConv(kernels=(2,))
    with pytest.raises(ValueError, match="p in"):
        RandConv(p=1.5)


def test_the_filtered_image_keeps_each_channels_mean_and_spread():
    torch.manual_seed(0)
    x = 0.3 + 0.2 * torch.rand(4, 3, 24, 24)  # far from 0 and 1: no clamping
    y = RandConv(p=1.0, kernels=(3,), mix=False)(x)
    assert not torch.allclose(y, x, atol=1e-3)
    assert torch.allclose(y.mean((2, 3)), x.mean((2, 3)), atol=1e-4)
    assert torch.allclose(y.std((2, 3)), x.std((2, 3)), atol=1e-4)


def test_a_one_by_one_filter_maps_equal_pixels_to_equal_pixels():
    torch.manual_seed(1)
    x = torch.rand(2, 3, 8, 8)
    x[:, :, 0, 0] = x[:, :, 5, 6]  # two pixels of the same colour in each image
    y = RandConv(p=1.0, kernels=(1,), mix=True)(x)
    assert y.shape == x.shape and torch.allclose(y[:, :, 0, 0], y[:, :, 5, 6], atol=1e-6)

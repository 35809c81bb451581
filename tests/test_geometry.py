"""Geometry: projections round-trip, crops keep K consistent, normalisation and canonical frame invert."""

import numpy as np
import pytest
import torch

from handclip import geometry as g

K = np.array([[500.0, 0, 112.5], [0, 490.0, 101.0], [0, 0, 1]])


def _hand(seed=0, n=None):
    rng = np.random.default_rng(seed)
    shape = (21, 3) if n is None else (n, 21, 3)
    return rng.normal(size=shape) * 30 + np.array([5.0, -10.0, 550.0])


def test_project_hand_computed():
    uv = g.project(np.array([[100.0, -50.0, 1000.0]]), K)
    np.testing.assert_allclose(uv, [[500 * 0.1 + 112.5, 490 * -0.05 + 101.0]])


@pytest.mark.parametrize("to", [np.asarray, torch.as_tensor])
def test_backproject_and_uvd_round_trip(to):
    xyz = to(_hand(n=3))
    Kb = to(np.broadcast_to(K, (3, 3, 3)).copy())
    uv = g.project(xyz, Kb)
    np.testing.assert_allclose(np.asarray(g.backproject(uv, xyz[..., 2], Kb)), np.asarray(xyz), atol=1e-9)
    uvd = g.xyz_to_uvd(xyz, Kb)
    assert float(abs(uvd[..., 0, 2]).max()) == 0.0
    np.testing.assert_allclose(np.asarray(g.uvd_to_xyz(uvd, Kb, xyz[:, 0, 2])), np.asarray(xyz), atol=1e-9)


def test_crop_keeps_projection_consistent():
    xyz = _hand()
    uv = g.project(xyz, K)
    box = g.square_box(uv, margin=1.4)
    Kc = g.crop_K(K, box, 224)
    A = g.crop_affine(box, 224)
    np.testing.assert_allclose(g.project(xyz, Kc), g.apply_affine(uv, A), atol=1e-3)
    uv_c = g.project(xyz, Kc)
    assert (uv_c > 0).all() and (uv_c < 223).all()  # margin 1.4 keeps every joint inside
    # the keypoints' box centre lands on the crop centre
    lo, hi = uv_c.min(0), uv_c.max(0)
    np.testing.assert_allclose((lo + hi) / 2, [111.5, 111.5], atol=1e-3)


def test_crop_image_moves_pixels_with_the_affine():
    image = np.zeros((200, 300, 3), np.uint8)
    image[120, 80] = 255  # one bright pixel
    box = (80.0, 120.0, 50.0)  # centred on it; scale 100/50 = 2
    crop, A = g.crop_image(image, box, 100)
    u, v = g.apply_affine(np.array([[80.0, 120.0]]), A)[0]
    assert (u, v) == (49.5, 49.5)
    peak = np.unravel_index(crop[..., 0].astype(int).argmax(), crop.shape[:2])
    assert abs(peak[0] - v) <= 0.5 and abs(peak[1] - u) <= 0.5


def test_square_box_validity_and_errors():
    uv = np.array([[10.0, 20.0], [30.0, 60.0], [1000.0, 1000.0]])
    cx, cy, side = g.square_box(uv, margin=1.0, valid=[True, True, False])
    assert (cx, cy, side) == (20.0, 40.0, 40.0)
    with pytest.raises(ValueError):
        g.square_box(uv, valid=[False, False, False])


def test_normalise_root_and_scale():
    xyz = _hand(3)
    xn, r, s = g.normalise(xyz, root="palm")
    np.testing.assert_allclose(r[0], 0.5 * (xyz[0] + xyz[9]))
    assert np.isclose(np.linalg.norm(xn[10] - xn[9]), 1.0)
    np.testing.assert_allclose(xn * s + r, xyz)


def test_palm_wrist_conversion_inverts():
    xyz = _hand(4)
    for k in (0.3, 0.5):
        palm = g.palm_from_wrist(xyz, k)
        np.testing.assert_allclose(palm[0], xyz[0] + k * (xyz[9] - xyz[0]))
        np.testing.assert_allclose(g.wrist_from_palm(palm, k), xyz)
    with pytest.raises(ValueError):
        g.wrist_from_palm(xyz, 1.0)


def test_canonical_frame_properties():
    xn = g.root_relative(_hand(5, n=6))
    xc, R = g.canonical_frame(xn)
    np.testing.assert_allclose(xc @ R, xn, atol=1e-5)
    np.testing.assert_allclose(np.linalg.det(R), 1.0, atol=1e-6)
    np.testing.assert_allclose(xc[:, 9, [0, 2]], 0.0, atol=1e-5)  # middle MCP on +y
    assert (xc[:, 9, 1] > 0).all()
    np.testing.assert_allclose(xc[:, 17, 2], 0.0, atol=1e-5)  # little MCP in the x-y plane, x > 0
    assert (xc[:, 17, 0] > 0).all()
    # a rotated hand has the same canonical coordinates
    Q = g.axis_angle_to_matrix(np.array([0.3, -1.1, 0.7]))
    xc2, _ = g.canonical_frame(xn @ Q.T)
    np.testing.assert_allclose(xc2, xc, atol=1e-5)


def test_axis_angle_hand_computed():
    R = g.axis_angle_to_matrix(np.array([0.0, 0.0, np.pi / 2]))
    np.testing.assert_allclose(R @ [1.0, 0, 0], [0, 1.0, 0], atol=1e-7)
    Rt = g.axis_angle_to_matrix(torch.tensor([[0.0, 0.0, np.pi / 2]], requires_grad=True))
    Rt.sum().backward()  # differentiable for the PosePrior's viewpoint stream
    np.testing.assert_allclose(Rt.detach().numpy()[0], R, atol=1e-6)

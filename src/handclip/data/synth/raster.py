"""A vectorised numpy z-buffer rasteriser with smooth (per-vertex normal) skin shading.

No display, no GPU, no compiled extension: every triangle's bounding box is expanded into
candidate pixels at once, edge functions keep the covered ones, and the nearest candidate per
pixel wins (a true z-buffer, so crossing fingers occlude correctly). Pixel centres sit at integer
coordinates, as everywhere in handclip; attributes are interpolated perspective-correctly.
"""

from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np


class Fragments(NamedTuple):
    """The visible surface per covered pixel: flat pixel index, face, barycentrics and depth (mm)."""

    pixel: np.ndarray  # (N,) int64 into the size*size image
    face: np.ndarray  # (N,) int64
    bary: np.ndarray  # (N, 3) perspective-correct barycentric weights
    depth: np.ndarray  # (N,) camera z in mm


class Light(NamedTuple):
    """Lighting in the camera frame: directional key lights (towards the light) plus ambient, linear RGB."""

    directions: np.ndarray  # (L, 3) unit vectors from the surface towards each light
    colors: np.ndarray  # (L, 3) linear RGB intensities
    ambient: np.ndarray  # (3,) linear RGB
    specular: float = 0.08  # strength of the Blinn-Phong highlight (skin is mostly diffuse)
    shininess: float = 24.0
    wrap: float = 0.3  # wrap-around diffuse, a cheap stand-in for light scattering under skin


def rasterize(verts: np.ndarray, faces: np.ndarray, K: np.ndarray, size: int, near: float = 1.0,
              cull_back: bool = True) -> Fragments:
    """Visible fragments of a triangle mesh (camera-frame mm) in a size x size image with intrinsics K.

    With cull_back, faces seen from behind (outward normal by the right-hand rule pointing away from
    the camera) are dropped first: same image for a closed mesh, half the work.
    """
    z = verts[:, 2]
    uvw = verts @ K.T
    uv = uvw[:, :2] / np.maximum(uvw[:, 2:3], 1e-9)
    tri = uv[faces]  # (F, 3, 2)
    tz = z[faces]
    lo = np.ceil(tri.min(1)).astype(np.int64)
    hi = np.floor(tri.max(1)).astype(np.int64)
    np.clip(lo, 0, size - 1, out=lo)
    np.clip(hi, 0, size - 1, out=hi)
    w = hi[:, 0] - lo[:, 0] + 1
    h = hi[:, 1] - lo[:, 1] + 1
    x0, y0 = tri[:, 0, 0], tri[:, 0, 1]
    e1 = tri[:, 1] - tri[:, 0]
    e2 = tri[:, 2] - tri[:, 0]
    area = e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]
    facing = area < -1e-9 if cull_back else np.abs(area) > 1e-9  # y points down: front faces have area < 0
    keep = np.flatnonzero((tz.min(1) > near) & facing & (tri.max(1) >= 0).all(1)
                          & (tri.min(1) <= size - 1).all(1) & (w > 0) & (h > 0))
    if keep.size == 0:
        empty = np.zeros(0, np.int64)
        return Fragments(empty, empty, np.zeros((0, 3)), np.zeros(0))
    counts = w[keep] * h[keep]
    f = np.repeat(keep, counts)
    local = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    px = lo[f, 0] + local % w[f]
    py = lo[f, 1] + local // w[f]
    dx = px - x0[f]
    dy = py - y0[f]
    inv_area = 1.0 / area[f]
    b1 = (dx * e2[f, 1] - dy * e2[f, 0]) * inv_area
    b2 = (e1[f, 0] * dy - e1[f, 1] * dx) * inv_area
    b0 = 1.0 - b1 - b2
    inside = (b0 >= 0) & (b1 >= 0) & (b2 >= 0)
    f, px, py, b = f[inside], px[inside], py[inside], np.stack([b0[inside], b1[inside], b2[inside]], 1)
    bz = b / tz[f]  # perspective-correct interpolation goes through 1/z
    inv_depth = bz.sum(1)
    depth = 1.0 / inv_depth
    pixel = py * size + px
    # z-buffer: sort by pixel, then by depth inside each pixel; the first of each run is visible
    order = np.lexsort((depth, pixel))
    pixel = pixel[order]
    first = np.ones(pixel.size, bool)
    first[1:] = pixel[1:] != pixel[:-1]
    sel = order[first]
    return Fragments(pixel[first], f[sel], bz[sel] * depth[sel, None], depth[sel])


def shade(frags: Fragments, verts: np.ndarray, normals: np.ndarray, faces: np.ndarray,
          albedo: np.ndarray, light: Light) -> np.ndarray:
    """Linear RGB (N, 3) of each fragment: wrap-diffuse + ambient + a faint highlight, per-vertex albedo (V, 3)."""
    corners = faces[frags.face]  # (N, 3)
    w = frags.bary
    n = np.einsum("nk,nkc->nc", w, normals[corners])
    n /= np.maximum(np.sqrt(np.einsum("nc,nc->n", n, n)), 1e-12)[:, None]
    view = -np.einsum("nk,nkc->nc", w, verts[corners])
    view /= np.sqrt(np.einsum("nc,nc->n", view, view))[:, None]
    n *= np.where(np.einsum("nc,nc->n", n, view) < 0, -1.0, 1.0)[:, None]  # inner walls seen through openings
    base = np.einsum("nk,nkc->nc", w, albedo[corners])
    diffuse = np.tile(light.ambient, (len(n), 1))
    spec = np.zeros_like(diffuse)
    for d, c in zip(light.directions, light.colors):
        ndl = n @ d
        diffuse += np.clip((ndl + light.wrap) / (1 + light.wrap), 0, None)[:, None] * c
        half = d + view
        half /= np.sqrt(np.einsum("nc,nc->n", half, half))[:, None]
        spec += (np.clip(np.einsum("nc,nc->n", n, half), 0, None) ** light.shininess * (ndl > 0))[:, None] * c
    return base * diffuse + light.specular * spec


def to_srgb8(linear: np.ndarray) -> np.ndarray:
    """Linear RGB in [0, 1] -> uint8 sRGB (gamma 2.2)."""
    return (np.clip(linear, 0, 1) ** (1 / 2.2) * 255 + 0.5).astype(np.uint8)


def to_linear(srgb8) -> np.ndarray:
    """uint8 (or 0-255 float) sRGB -> linear RGB in [0, 1]."""
    return (np.asarray(srgb8, np.float64) / 255.0) ** 2.2


def composite(background: np.ndarray, frags: Fragments, colors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Paint fragment colours (uint8 (N, 3)) over a uint8 background; soften the silhouette; return (rgb, mask)."""
    size = background.shape[0]
    rgb = background.copy()
    flat = rgb.reshape(-1, 3)
    flat[frags.pixel] = colors
    mask = np.zeros(size * size, bool)
    mask[frags.pixel] = True
    mask = mask.reshape(size, size)
    m8 = mask.view(np.uint8)
    edge = (cv2.dilate(m8, None) != cv2.erode(m8, None))
    rgb[edge] = cv2.blur(rgb, (3, 3))[edge]  # a one-pixel blend band in place of anti-aliasing
    return rgb, mask

"""Convert the WebXR generic hand (glTF binary) into the compact asset handclip ships.

Source: npm package @webxr-input-profiles/assets@1.0.20 (MIT, (c) 2019 Amazon), file
dist/profiles/generic-hand/right.glb. Get it with `npm pack @webxr-input-profiles/assets@1.0.20`
and unpack the tarball; then

    python scripts/convert_webxr_hand.py package/dist/profiles/generic-hand/right.glb \
        --license package/LICENSE.md

writes src/handclip/assets/webxr_hand/right_hand.npz (+ LICENSE, README.md). The glTF is parsed
with numpy + json only. Units become millimetres; axes stay those of the glTF file.
"""

from __future__ import annotations

import argparse
import json
import shutil
import struct
from pathlib import Path

import numpy as np

OUT_DIR = Path(__file__).resolve().parents[1] / "src" / "handclip" / "assets" / "webxr_hand"
SOURCE = "@webxr-input-profiles/assets@1.0.20, dist/profiles/generic-hand/right.glb"
# glTF accessor componentType -> numpy dtype; type -> components per element
_DTYPES = {5120: np.int8, 5121: np.uint8, 5122: np.int16, 5123: np.uint16, 5125: np.uint32, 5126: np.float32}
_WIDTHS = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT4": 16}


def read_glb(path: Path) -> tuple[dict, bytes]:
    """Split a .glb file into its JSON document and binary buffer, checking the container header."""
    data = path.read_bytes()
    magic, version, length = struct.unpack_from("<4sII", data, 0)
    if magic != b"glTF" or version != 2 or length != len(data):
        raise ValueError(f"{path}: not a glTF 2.0 binary (magic {magic!r}, version {version}, length {length})")
    json_len, json_type = struct.unpack_from("<I4s", data, 12)
    if json_type != b"JSON":
        raise ValueError(f"{path}: first chunk is {json_type!r}, expected JSON")
    doc = json.loads(data[20 : 20 + json_len])
    offset = 20 + json_len
    bin_len, bin_type = struct.unpack_from("<I4s", data, offset)
    if bin_type != b"BIN\x00":
        raise ValueError(f"{path}: second chunk is {bin_type!r}, expected BIN")
    return doc, data[offset + 8 : offset + 8 + bin_len]


def accessor(doc: dict, blob: bytes, index: int) -> np.ndarray:
    """The array of one glTF accessor (tightly packed buffer views only, as in this file)."""
    acc = doc["accessors"][index]
    view = doc["bufferViews"][acc["bufferView"]]
    if view.get("byteStride") not in (None, 0):
        raise ValueError(f"accessor {index}: interleaved buffer views are not supported")
    dtype = np.dtype(_DTYPES[acc["componentType"]])
    width = _WIDTHS[acc["type"]]
    start = view.get("byteOffset", 0) + acc.get("byteOffset", 0)
    flat = np.frombuffer(blob, dtype=dtype, count=acc["count"] * width, offset=start)
    return flat.reshape(acc["count"], width) if width > 1 else flat.copy()


def quat_to_matrix(q) -> np.ndarray:
    """Rotation matrix of a glTF quaternion (x, y, z, w)."""
    x, y, z, w = np.asarray(q, dtype=np.float64) / np.linalg.norm(q)
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


def node_matrix(node: dict, unit: float) -> np.ndarray:
    """4x4 transform of a node's translation/rotation (scale is 1 up to float noise and is dropped)."""
    m = np.eye(4)
    m[:3, :3] = quat_to_matrix(node.get("rotation", [0, 0, 0, 1]))
    m[:3, 3] = np.asarray(node.get("translation", [0, 0, 0])) * unit
    return m


def webxr_parent(name: str, names: list[str]) -> int:
    """Parent joint in the WebXR hand hierarchy: wrist -> metacarpal -> proximal -> ... -> tip."""
    if name == "wrist":
        return -1
    k = names.index(name)
    return 0 if name.endswith("metacarpal") else k - 1


def convert(glb: Path) -> dict[str, np.ndarray]:
    """Arrays of the asset: mesh in mm, skin, joint hierarchy and rest transforms."""
    doc, blob = read_glb(glb)
    (skin,) = doc["skins"]
    (mesh,) = doc["meshes"]
    (prim,) = mesh["primitives"]
    attrs = prim["attributes"]
    unit = 1000.0  # metres -> millimetres
    joint_nodes = skin["joints"]
    names = [doc["nodes"][j]["name"] for j in joint_nodes]
    # in this file every joint node is a direct child of the armature: node transforms are rest world poses
    for n in doc["nodes"]:
        if n.get("children") and n.get("name") != "Armature":
            raise ValueError(f"{glb}: unexpected node hierarchy under {n.get('name')!r}")
    rest_world = np.stack([node_matrix(doc["nodes"][j], unit) for j in joint_nodes])
    parents = np.array([webxr_parent(n, names) for n in names], dtype=np.int64)
    rest_local = np.stack(
        [rest_world[k] if p < 0 else np.linalg.inv(rest_world[p]) @ rest_world[k] for k, p in enumerate(parents)]
    )
    inverse_bind = accessor(doc, blob, skin["inverseBindMatrices"]).reshape(-1, 4, 4).transpose(0, 2, 1).astype(np.float64)
    inverse_bind[:, :3, 3] *= unit
    err = np.abs(inverse_bind @ rest_world - np.eye(4)).max()
    if err > 1e-3:
        raise ValueError(f"{glb}: inverse bind matrices disagree with the joint nodes (max error {err:.2e})")
    weights = accessor(doc, blob, attrs["WEIGHTS_0"]).astype(np.float32)
    weights /= weights.sum(1, keepdims=True)
    return {
        "vertices": (accessor(doc, blob, attrs["POSITION"]) * unit).astype(np.float32),
        "faces": accessor(doc, blob, prim["indices"]).reshape(-1, 3).astype(np.int32),
        "skin_joints": accessor(doc, blob, attrs["JOINTS_0"]).astype(np.uint8),
        "skin_weights": weights,
        "joint_names": np.array(names),
        "parents": parents,
        "inverse_bind": inverse_bind.astype(np.float32),
        "rest_world": rest_world.astype(np.float32),
        "rest_local": rest_local.astype(np.float32),
    }


def main() -> int:
    """Command line: convert the .glb and copy the licence next to the asset."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("glb", type=Path, help="path to generic-hand/right.glb")
    p.add_argument("--license", type=Path, required=True, help="the package's LICENSE.md")
    p.add_argument("--out", type=Path, default=OUT_DIR)
    args = p.parse_args()
    arrays = convert(args.glb)
    args.out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out / "right_hand.npz", **arrays)
    shutil.copyfile(args.license, args.out / "LICENSE")
    (args.out / "README.md").write_text(
        f"# WebXR generic hand\n\nConverted from `{SOURCE}` (MIT, (c) 2019 Amazon; see LICENSE) by\n"
        "`scripts/convert_webxr_hand.py`. Millimetres, axes of the glTF file. Arrays: vertices (V, 3),\n"
        "faces (F, 3), skin_joints / skin_weights (V, 4), joint_names (25, WebXR order), parents (25),\n"
        "inverse_bind, rest_world, rest_local (25, 4, 4).\n"
    )
    print(f"wrote {args.out} ({len(arrays['vertices'])} vertices, {len(arrays['faces'])} faces)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Which looks to blend, and how: 2D error of look sets and confidence powers on held-out renders and realdev.

Reads every hand of each set (renders of seed 1 per domain at 128 px, as `handclip eval` scores them; realdev's
lstm2d and hxp3d at 256 px of the labelled box x 1.5) once as given, then from the upright crop (handclip.refine)
turned and zoomed every way listed in LOOKS (for a model that reads both hands, `--mirrored` adds the same looks at
the crop mirrored, read back through the mirror: flip test as mmpose's), and scores each look alone, the surer of the first and upright looks
(`--upright-look`), and sets of looks blended joint by joint with weights confidence ** p. The set and p of
`--look-around` were chosen on the renders. One JSON line: 2D EPE (crop px) per set, look and blend.

    python scripts/look_around_probe.py --model clip_hand3d_cpu_both
    python scripts/look_around_probe.py --model clip_hand3d_cpu_both --mirrored
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np
import torch

from handclip.data import collate
from handclip.data.crop import hand_tilt
from handclip.engine.evaluate import build_entry
from handclip.refine import mirror_back, mirror_view, read_turned
from handclip.zoo import load_model

LOOKS = {"first": (False, 0.0, 1.0), "upright": (True, 0.0, 1.0), "up+15": (True, 15.0, 1.0), "up-15": (True, -15.0, 1.0),
         "up_zoom_in": (True, 0.0, 1.15), "up_zoom_out": (True, 0.0, 0.87), "up+30": (True, 30.0, 1.0),
         "up-30": (True, -30.0, 1.0), "zoom_in": (False, 0.0, 1.15), "zoom_out": (False, 0.0, 0.87)}
SETS = {"upright five (--look-around)": ["upright", "up+15", "up-15", "up_zoom_in", "up_zoom_out"],
        "upright five and the first": ["first", "upright", "up+15", "up-15", "up_zoom_in", "up_zoom_out"],
        "upright seven": ["upright", "up+15", "up-15", "up_zoom_in", "up_zoom_out", "up+30", "up-30"],
        "upright turned three": ["upright", "up+15", "up-15"], "upright zoomed three": ["upright", "up_zoom_in", "up_zoom_out"],
        "first and upright": ["first", "upright"], "all ten": list(LOOKS)}
MIRRORED_SETS = {"upright five and the mirrored upright": SETS["upright five (--look-around)"] + ["m_upright"],
                 "upright five and their mirrors": SETS["upright five (--look-around)"]
                 + ["m_" + k for k in SETS["upright five (--look-around)"]],
                 "upright and the mirrored upright": ["upright", "m_upright"], "first and the mirrored first": ["first", "m_first"]}
POWERS = (0, 1, 2, 4, 8, 16)


def read_looks(method, dataset, batch_size: int = 32, mirrored: bool = False) -> dict:
    """Per look, every hand's 2D joints (N, J, 2) and confidence (N, J); the labels and their validity. mirrored:
    also each look of the mirrored crop ('m_' + its name), its uv mirrored back."""
    names = list(LOOKS) + (["m_" + k for k in LOOKS] if mirrored else [])
    uv = {k: [] for k in names}
    conf = {k: [] for k in names}
    labels, valid = [], []
    for start in range(0, len(dataset), batch_size):
        batch = collate([dataset[i] for i in range(start, min(len(dataset), start + batch_size))])
        images, Ks = batch["image"].numpy(), batch["K"].double().numpy()
        labels.append(batch["uv"].double().numpy())
        valid.append(batch.get("uv_valid", torch.ones(batch["uv"].shape[:2])).numpy() > 0)
        first = method.predict(batch)["uv"].double().numpy()
        views = [("", images, Ks, first, lambda look: look)]
        if mirrored:
            views.append(("m_", *mirror_view(images, Ks, first), lambda look: mirror_back(look, images.shape[2])))
        for prefix, pictures, intrinsics, seen, back in views:
            tilts = [hand_tilt(u) for u in seen]
            for key, (upright, angle, zoom) in LOOKS.items():
                look = back(read_turned(method, pictures, intrinsics,
                                        [(tilt if upright else 0.0) + angle for tilt in tilts], zoom, ("uv", "confidence")))
                uv[prefix + key].append(look["uv"])
                conf[prefix + key].append(look["confidence"])
    return {"uv": {k: np.concatenate(v) for k, v in uv.items()}, "conf": {k: np.concatenate(v) for k, v in conf.items()},
            "labels": np.concatenate(labels), "valid": np.concatenate(valid)}


def scores(looks: dict) -> dict:
    """2D EPE of each look, of the surer of first and upright, and of each set blended at each power."""
    def epe(uv):
        return round(float((np.linalg.norm(uv - looks["labels"], axis=-1) * looks["valid"]).sum() / looks["valid"].sum()), 3)

    uv, conf = looks["uv"], looks["conf"]
    out = {k: epe(v) for k, v in uv.items()}
    surer = conf["upright"].mean(-1) > conf["first"].mean(-1)
    out["surer of first and upright (--upright-look, side unknown)"] = epe(np.where(surer[:, None, None], uv["upright"], uv["first"]))
    for name, keys in (SETS | (MIRRORED_SETS if "m_first" in uv else {})).items():
        for p in POWERS:
            w = np.stack([conf[k] for k in keys])[..., None] ** p
            out[f"{name}, p {p}"] = epe((np.stack([uv[k] for k in keys]) * w).sum(0) / w.sum(0))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="pose model name or file (default: the default model)")
    parser.add_argument("--realdev", type=Path, default=Path(os.environ.get("HANDCLIP_REALDEV", "../shared/realdev")))
    parser.add_argument("--mirrored", action="store_true", help="also every look of the mirrored crop (both-hands models)")
    parser.add_argument("--n", type=int, default=200, help="renders per domain")
    args = parser.parse_args()
    torch.set_grad_enabled(False)
    method, _ = load_model(args.model, map_location="cpu")
    method.eval()
    entries = [{"label": d, "name": "synth_cache", "domains": {d: 1}, "n": args.n, "size": 128, "render_size": 256,
                "seed": 1} for d in ("source", "texture", "webcam", "lowlight")]
    entries += [{"label": s, "name": "coco_hand", "root": str(args.realdev / s), "size": 256, "margin": 1.5}
                for s in ("lstm2d", "hxp3d") if (args.realdev / s).is_dir()]
    print(json.dumps({"model": args.model or "default", "sets": {e["label"]: scores(read_looks(method, build_entry(e), mirrored=args.mirrored))
                                                                 for e in entries}}))


if __name__ == "__main__":
    main()

"""Which looks to blend, and how: 2D error of look sets and confidence powers on held-out renders and realdev.

Reads every hand of each set (renders of seed 1 per domain at 128 px, as `handclip eval` scores them; realdev's
lstm2d and hxp3d at 256 px of the labelled box x 1.5) once as given, then from the upright crop (handclip.refine)
turned and zoomed every way listed in LOOKS, and scores each look alone, the surer of the first and upright looks
(`--upright-look`), and sets of looks blended joint by joint with weights confidence ** p. The set and p of
`--look-around` were chosen on the renders. One JSON line: 2D EPE (crop px) per set, look and blend.

    python scripts/look_around_probe.py --model clip_hand3d_cpu_both
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
from handclip.refine import read_turned
from handclip.zoo import load_model

LOOKS = {"first": (False, 0.0, 1.0), "upright": (True, 0.0, 1.0), "up+15": (True, 15.0, 1.0), "up-15": (True, -15.0, 1.0),
         "up_zoom_in": (True, 0.0, 1.15), "up_zoom_out": (True, 0.0, 0.87), "up+30": (True, 30.0, 1.0),
         "up-30": (True, -30.0, 1.0), "zoom_in": (False, 0.0, 1.15), "zoom_out": (False, 0.0, 0.87)}
SETS = {"upright five (--look-around)": ["upright", "up+15", "up-15", "up_zoom_in", "up_zoom_out"],
        "upright five and the first": ["first", "upright", "up+15", "up-15", "up_zoom_in", "up_zoom_out"],
        "upright seven": ["upright", "up+15", "up-15", "up_zoom_in", "up_zoom_out", "up+30", "up-30"],
        "upright turned three": ["upright", "up+15", "up-15"], "upright zoomed three": ["upright", "up_zoom_in", "up_zoom_out"],
        "first and upright": ["first", "upright"], "all ten": list(LOOKS)}
POWERS = (0, 1, 2, 4, 8, 16)


def read_looks(method, dataset, batch_size: int = 32) -> dict:
    """Per look, every hand's 2D joints (N, J, 2) and confidence (N, J); the labels and their validity."""
    uv = {k: [] for k in LOOKS}
    conf = {k: [] for k in LOOKS}
    labels, valid = [], []
    for start in range(0, len(dataset), batch_size):
        batch = collate([dataset[i] for i in range(start, min(len(dataset), start + batch_size))])
        images, Ks = batch["image"].numpy(), batch["K"].double().numpy()
        labels.append(batch["uv"].double().numpy())
        valid.append(batch.get("uv_valid", torch.ones(batch["uv"].shape[:2])).numpy() > 0)
        tilts = [hand_tilt(u) for u in method.predict(batch)["uv"].double().numpy()]
        for key, (upright, angle, zoom) in LOOKS.items():
            look = read_turned(method, images, Ks, [(tilt if upright else 0.0) + angle for tilt in tilts], zoom,
                               ("uv", "confidence"))
            uv[key].append(look["uv"])
            conf[key].append(look["confidence"])
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
    for name, keys in SETS.items():
        for p in POWERS:
            w = np.stack([conf[k] for k in keys])[..., None] ** p
            out[f"{name}, p {p}"] = epe((np.stack([uv[k] for k in keys]) * w).sum(0) / w.sum(0))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="pose model name or file (default: the default model)")
    parser.add_argument("--realdev", type=Path, default=Path(os.environ.get("HANDCLIP_REALDEV", "../shared/realdev")))
    args = parser.parse_args()
    torch.set_grad_enabled(False)
    method, _ = load_model(args.model, map_location="cpu")
    method.eval()
    entries = [{"label": d, "name": "synth_cache", "domains": {d: 1}, "n": 200, "size": 128, "render_size": 256,
                "seed": 1} for d in ("source", "texture", "webcam", "lowlight")]
    entries += [{"label": s, "name": "coco_hand", "root": str(args.realdev / s), "size": 256, "margin": 1.5}
                for s in ("lstm2d", "hxp3d") if (args.realdev / s).is_dir()]
    print(json.dumps({"model": args.model or "default", "sets": {e["label"]: scores(read_looks(method, build_entry(e)))
                                                                 for e in entries}}))


if __name__ == "__main__":
    main()

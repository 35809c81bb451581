"""Can a hand-presence check fit on renders tell the detector's hands from its false boxes on photos? JSON lines.

A linear probe (logistic regression, classes weighted equally) on the pose model's pooled encoder features of each
detector box's pose crop (mean and max of the last stage, mean of the one before), fit on the detector's boxes over
rendered frames (min_score 0.1, up to 4 a frame; hits: IoU >= 0.5 with a rendered hand) with face negatives drawn
in (`--face-style`, handclip.data.face_negatives), then scored against the pose model's own confidence (the shipped
hand check) by ROC AUC between hits and false boxes: on held-out renders (seed 777) and on realdev's frames at the
operating point (min_score 0.3, 2 hands). One line per L2 weight.

    python scripts/hand_presence_probe.py --face-style shaded
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np
import torch
from hand_check_probe import auc  # scripts/ is on the path when a script runs

import handclip
from handclip.api import read_image
from handclip.commands.eval_detector import labelled_set
from handclip.data import build_dataset
from handclip.detection import detector as detection
from handclip.detection.evaluate import greedy_hits
from handclip.engine.config import load_config


def features(method, crops: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Pooled encoder features (N, F) of pose crops and the pose's mean u/v lixel peak probability (N,)."""
    batch = {"image": torch.from_numpy(np.stack(crops)), "K": torch.eye(3).expand(len(crops), 3, 3)}
    out = method(method.prepare_batch(batch)[0])
    feats = out["features"]
    conf = torch.stack([out[axis].softmax(-1).max(-1).values for axis in ("px", "py")]).mean((0, 2))
    return torch.cat([feats[4].mean((2, 3)), feats[4].amax((2, 3)), feats[3].mean((2, 3))], 1).numpy(), conf.numpy()


def boxes(predictor, pictures, truths, min_score: float, max_hands: int):
    """Features, confidences and hit flags of the detector's boxes over pictures with their true boxes."""
    X, C, Y = [], [], []
    for start in range(0, len(pictures), 16):
        chunk = pictures[start:start + 16]
        for picture, truth, found in zip(chunk, truths[start:start + 16],
                                         predictor.detector.detect(chunk, max_hands, min_score)):
            if found:
                crops = [predictor.crop(picture, detection.pose_box(det["box"]))["image"] for det in found]
                x, c = features(predictor.method, crops)
                X.append(x), C.append(c)
                Y += greedy_hits(truth, [det["box"] for det in found])
    return np.concatenate(X), np.concatenate(C), np.array(Y, bool)


def rendered(predictor, n: int, seed: int, faces: float, style: str):
    """boxes() over `n` rendered frames of the detector's domains with face negatives."""
    domains = load_config("detector/cpu")["data"]["train"]["domains"]
    frames = build_dataset("synth_full_cache", domains=domains, n=n, seed=seed,
                           augment={"faces": faces, "face_style": style})
    samples = [frames[i] for i in range(len(frames))]
    truths = [[box for box, valid, ignore in zip(s["boxes"], s["hand_valid"], s["ignore"]) if valid and not ignore]
              for s in samples]
    return boxes(predictor, [s["image"] for s in samples], truths, 0.1, 4)


def fit(X: np.ndarray, Y: np.ndarray, weight_decay: float) -> tuple[np.ndarray, float]:
    """Logistic regression on standardised X, hits and false boxes weighted equally, L2 `weight_decay`."""
    x, y = torch.tensor(X, dtype=torch.float32), torch.tensor(Y, dtype=torch.float32)
    balance = torch.where(y > 0, 0.5 / y.mean(), 0.5 / (1 - y.mean()))
    w, b = torch.zeros(X.shape[1], requires_grad=True), torch.zeros((), requires_grad=True)
    opt = torch.optim.LBFGS([w, b], max_iter=500, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = (torch.nn.functional.binary_cross_entropy_with_logits(x @ w + b, y, reduction="none") * balance).mean()
        loss = loss + weight_decay * (w ** 2).sum()
        loss.backward()
        return loss

    with torch.enable_grad():
        opt.step(closure)
    return w.detach().numpy(), float(b)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="a lixel pose model (name or file; default: the default model)")
    parser.add_argument("--face-style", default="flat", choices=("flat", "shaded"))
    parser.add_argument("--faces", type=float, default=0.7, help="share of rendered frames given a face (0.7)")
    parser.add_argument("--n", type=int, default=3000, help="rendered frames to fit on (3000, seed 4242)")
    parser.add_argument("--realdev", type=Path, default=Path(os.environ.get("HANDCLIP_REALDEV", "../shared/realdev")))
    args = parser.parse_args()
    torch.set_grad_enabled(False)
    torch.manual_seed(0)
    predictor = handclip.load(args.model, device="cpu", min_confidence=0.0)
    train = rendered(predictor, args.n, 4242, args.faces, args.face_style)
    mean, std = train[0].mean(0), train[0].std(0) + 1e-6
    sets = {"renders_seed777": rendered(predictor, 400, 777, args.faces, args.face_style)}
    for name in ("lstm2d", "hxp3d"):
        _, images = labelled_set(name, args.realdev)
        sets[name] = boxes(predictor, [read_image(path) for path, _ in images],
                           [[label["box"] for label in labels] for _, labels in images], detection.MIN_SCORE,
                           detection.MAX_HANDS)
    for weight_decay in (1e-3, 1e-2, 3e-2):
        w, b = fit((train[0] - mean) / std, train[2], weight_decay)
        row = {"face_style": args.face_style, "fit_boxes": len(train[2]), "fit_hits": int(train[2].sum()),
               "weight_decay": weight_decay}
        for name, (X, C, Y) in sets.items():
            score = (X - mean) / std @ w + b
            row[name] = {"hits": int(Y.sum()), "false": int((~Y).sum()), "auc_probe": round(auc(score[Y], score[~Y]), 3),
                         "auc_confidence": round(auc(C[Y], C[~Y]), 3),
                         "false_dropped_keeping_95pct_hits_probe": round(float((score[~Y] < np.quantile(score[Y], 0.05)).mean()), 3),
                         "false_dropped_keeping_95pct_hits_confidence": round(float((C[~Y] < np.quantile(C[Y], 0.05)).mean()), 3)}
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()

"""Can drawn faces teach a network to tell photographed faces from hands? A small CNN on rendered crops, scored on photos.

Every hand check measured so far reads the pose model's own outputs (docs/detector.md), and photographed faces pass
them. This trains a dedicated classifier end to end instead, on 64 px crops framed as predict frames a detected box
(detection.pose_box): positives around the rendered hands of full frames (boxes jittered like detections, a third
cut by a black band as at a photo's edge), negatives around the head of a lit, textured person
(handclip.data.shaded_person) drawn into the same frames, often cut by the frame's edge as webcam heads are. Then it
scores the shipped detector's boxes on held-out renders (seed 777) and on `--sets` (../shared/realdev) against the
default pose model's confidence (ROC AUC, hits against false boxes). One JSON line. Measured in stop 26
(docs/detector.md, "Faces: a classifier trained on drawn faces"), not adopted.

    python scripts/face_crop_probe.py --sets lstm2d hxp3d
"""

from __future__ import annotations

import argparse
import json
import os
import warnings
from pathlib import Path

import numpy as np
import torch
from hand_check_calibrate import held_out_frames  # scripts/ is on the path when a script runs
from hand_check_probe import auc
from torch import nn

import handclip
from handclip.api import box_to_square, read_image
from handclip.commands.eval_detector import labelled_set
from handclip.data.shaded_person import draw_shaded_person
from handclip.data.synth.people import shirt
from handclip.data.synth.skin import TONES, sample_tone
from handclip.detection import detector as detection
from handclip.detection.evaluate import greedy_hits
from handclip.geometry import crop_image

SIZE = 64


def square(image: np.ndarray, box, rng=None) -> np.ndarray:
    """The SIZE px crop of the square predict reads around box [x, y, w, h] (jittered like a detection with rng)."""
    x, y, w, h = map(float, box)
    if rng is not None:
        w, h = w * rng.uniform(0.85, 1.15), h * rng.uniform(0.85, 1.15)
        x, y = x + rng.uniform(-0.1, 0.1) * w, y + rng.uniform(-0.1, 0.1) * h
    with warnings.catch_warnings():  # a square reaching past the frame is black there, as in predict
        warnings.simplefilter("ignore")
        return crop_image(image, box_to_square(detection.pose_box([x, y, w, h]), image.shape), SIZE)[0]


def edge_band(crop: np.ndarray, rng) -> np.ndarray:
    """The crop with a black band on one side, as where a photo's edge cuts the square."""
    band, crop = int(rng.uniform(0.05, 0.4) * SIZE), crop.copy()
    side = rng.integers(4)
    if side == 0:
        crop[:, :band] = 0
    elif side == 1:
        crop[:, SIZE - band:] = 0
    elif side == 2:
        crop[:band] = 0
    else:
        crop[SIZE - band:] = 0
    return crop


def head_crop(frame: np.ndarray, rng):
    """A shaded person drawn into the frame and the crop around its head's visible part; None if it fell outside."""
    height, width = frame.shape[:2]
    fig_h = int(height * np.exp(rng.uniform(np.log(0.6), np.log(1.6))))
    fig_w = int(fig_h * rng.uniform(0.7, 1.2))
    x0, y0 = int(rng.uniform(-0.45 * fig_w, width - 0.55 * fig_w)), int(rng.uniform(-0.15 * fig_h, height - 0.4 * fig_h))
    seen = np.s_[max(y0, 0):min(y0 + fig_h, height), max(x0, 0):min(x0 + fig_w, width)]
    inner = np.s_[max(y0, 0) - y0:min(y0 + fig_h, height) - y0, max(x0, 0) - x0:min(x0 + fig_w, width) - x0]
    figure = np.zeros((fig_h, fig_w, 3), np.float32)
    figure[inner] = frame[seen]
    before = figure.copy()
    draw_shaded_person(figure, rng, sample_tone(list(TONES)[rng.integers(len(TONES))], rng).back, shirt(rng))
    drawn = np.abs(figure - before).max(-1) > 8
    drawn[int(0.36 * fig_h):] = False  # the head lies above the neck and shirt
    drawn[:, :int(0.2 * fig_w)] = drawn[:, int(0.8 * fig_w):] = False
    visible = np.zeros_like(drawn)
    visible[inner] = drawn[inner]
    ys, xs = np.nonzero(visible)
    if len(ys) < 40:
        return None
    out = frame.copy()
    out[seen] = np.clip(figure[inner], 0, 255).astype(np.uint8)
    box = [xs.min() + x0, ys.min() + y0, xs.max() - xs.min() + 1, ys.max() - ys.min() + 1]
    return square(out, box, rng)


def training_crops(n_frames: int, seed: int):
    """(crops (N, SIZE, SIZE, 3), labels (N,): 1 hand, 0 head) from n_frames rendered full frames of `seed`."""
    rng, frames = np.random.default_rng(seed), held_out_frames(n_frames, seed)
    crops, labels = [], []
    for i in range(len(frames)):
        sample = frames[i]
        for box, valid in zip(sample["boxes"], sample["hand_valid"]):
            if valid:
                crop = square(sample["image"], box, rng)
                crops.append(edge_band(crop, rng) if rng.random() < 0.35 else crop)
                labels.append(1.0)
        for _ in range(2):
            crop = head_crop(sample["image"], rng)
            if crop is not None:
                crops.append(crop)
                labels.append(0.0)
    return np.stack(crops), np.array(labels, np.float32)


def classifier() -> nn.Module:
    """Four stride-2 stages of two 3x3 convolutions (16-64 channels), pooled to one logit (hand)."""
    def stage(cin, cout):
        return nn.Sequential(nn.Conv2d(cin, cout, 3, 2, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
                             nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())
    return nn.Sequential(stage(3, 16), stage(16, 32), stage(32, 64), stage(64, 64), nn.AdaptiveAvgPool2d(1),
                         nn.Flatten(), nn.Linear(64, 1))


def jitter(crops: np.ndarray, gen: torch.Generator) -> torch.Tensor:
    """Float crops (B, 3, S, S) mirrored half the time, with brightness, colour cast, greyscale and noise."""
    x = torch.from_numpy(crops).permute(0, 3, 1, 2).float() / 255
    n = len(x)
    flip = torch.rand(n, generator=gen) < 0.5
    x[flip] = x[flip].flip(-1)
    x = x * (0.6 + 0.8 * torch.rand(n, 1, 1, 1, generator=gen)) + (torch.rand(n, 3, 1, 1, generator=gen) - 0.5) * 0.15
    grey = torch.rand(n, generator=gen) < 0.1
    x[grey] = x[grey].mean(1, keepdim=True).expand(-1, 3, -1, -1)
    return (x + 0.02 * torch.randn(x.shape, generator=gen)).clamp(0, 1)


def scored(predictor, model, images: list, truths: list) -> dict:
    """AUC of the classifier's logit and of the pose model's confidence over the detector's boxes."""
    hits, logits, confidences = [], [], []
    for start in range(0, len(images), 16):
        chunk = images[start:start + 16]
        found = predictor.detector.detect(chunk, detection.MAX_HANDS, detection.MIN_SCORE)
        posed = predictor.pose_hands(chunk, found, min_confidence=0.0)
        for image, truth, hands in zip(chunk, truths[start:start + 16], posed):
            hits += greedy_hits(truth, [hand["box"] for hand in hands])
            confidences += [float(np.mean(hand["confidence"])) for hand in hands]
            if hands:
                crops = np.stack([square(image, hand["box"]) for hand in hands])
                logits += model(torch.from_numpy(crops).permute(0, 3, 1, 2).float() / 255)[:, 0].tolist()
    hit, logits, confidences = np.array(hits, bool), np.array(logits), np.array(confidences)
    return {"boxes": len(hit), "hits": int(hit.sum()), "classifier_auc": round(auc(logits[hit], logits[~hit]), 3),
            "confidence_auc": round(auc(confidences[hit], confidences[~hit]), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=1500, help="rendered frames the crops come from (1500)")
    parser.add_argument("--seed", type=int, default=4242, help="their seed (4242; the scored renders are seed 777)")
    parser.add_argument("--steps", type=int, default=2000, help="Adam steps of 64 crops (2000)")
    parser.add_argument("--sets", nargs="*", default=[], help="realdev sets scored too")
    parser.add_argument("--realdev", type=Path, default=Path(os.environ.get("HANDCLIP_REALDEV", "../shared/realdev")))
    args = parser.parse_args()
    torch.manual_seed(0)
    crops, labels = training_crops(args.frames, args.seed)
    model, gen = classifier(), torch.Generator().manual_seed(0)
    optimiser = torch.optim.Adam(model.parameters(), 2e-3)
    losses = []
    for _ in range(args.steps):
        pick = torch.randint(len(crops), (64,), generator=gen).numpy()
        loss = nn.functional.binary_cross_entropy_with_logits(model(jitter(crops[pick], gen))[:, 0],
                                                              torch.from_numpy(labels[pick]))
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    model.eval()
    torch.set_grad_enabled(False)
    predictor = handclip.load(None, device="cpu", min_confidence=0.0)
    frames = held_out_frames(400, 777)
    samples = [frames[i] for i in range(len(frames))]
    report = {"crops": {"hands": int(labels.sum()), "heads": int((labels == 0).sum())}, "steps": args.steps,
              "final_loss": round(float(np.mean(losses[-100:])), 4),
              "renders": scored(predictor, model, [s["image"] for s in samples],
                                [[b for b, v in zip(s["boxes"], s["hand_valid"]) if v] for s in samples])}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in args.sets:
            label, images = labelled_set(name, args.realdev)
            report[label] = scored(predictor, model, [read_image(path) for path, _ in images],
                                   [[hand["box"] for hand in labels_] for _, labels_ in images])
    print(json.dumps(report))


if __name__ == "__main__":
    main()

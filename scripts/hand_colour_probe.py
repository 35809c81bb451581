"""Probe (issue 14): how well can a hand colour word be read from a render at all? Fits a linear classifier of the
7 hand-colour words on (a) colour statistics of the hand's own pixels and of the rest of the image (the mask: an
oracle that knows where the skin is) and (b) a CLIP's image features, on `train` renders of one seed, and scores
both on the renders `handclip clip-eval` uses (seed 90001); (c) a 25-nearest-neighbour classifier of the word
from the skin's albedo itself (handclip.data.synth.skin.sample_tone: the tones before light and camera). If (c)
is perfect and (a) stays near the CLIP's zero-shot accuracy, the renderer's light and camera make the tones
ambiguous in the pixels; if (b) is far above the zero-shot accuracy, the text side is what is missing. With
`--cnn-train N`, also (d): a small convolutional network trained supervised on N renders of another seed (the word
as its label, flips and shifts as its only augmentation), an estimate from above of what any image tower of this
size could read from these pixels.

    python scripts/hand_colour_probe.py --clip style-cpu --train 1500
    python scripts/hand_colour_probe.py --clip style-cpu --train 3000 --cnn-train 12000
"""
from __future__ import annotations

import argparse
import json

import numpy as np
import torch
from tqdm import tqdm

from handclip.clip.feature_figures import image_features
from handclip.clip.towers import load_towers
from handclip.data.synth.dataset import SynthHands
from handclip.data.synth.raster import to_linear
from handclip.data.synth.skin import TONES, sample_tone
from handclip.data.synth.words import VOCABULARY


def renders(n: int, seed: int, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(images (n, S, S, 3) uint8, colour statistics (n, 24), hand colour codes (n,)) of texture renders: the
    skin's mean linear RGB, its log-chromaticity and quartiles, the background's mean and the ratio of the two."""
    data = SynthHands(domain="texture", n=n, size=size, seed=seed, mask=True)
    images, stats, codes = [], [], []
    for i in tqdm(range(n), desc=f"render seed {seed}", leave=False):
        s = data[i]
        linear = to_linear(s["image"].astype(np.float64))
        skin, rest = linear[s["mask"]], linear[~s["mask"]]
        mean, back = skin.mean(0), rest.mean(0)
        log = np.log(mean + 1e-3)
        quartiles = np.percentile(skin, [25, 50, 75, 90], axis=0).ravel()
        images.append(s["image"])
        stats.append(np.r_[mean, log - log.mean(), quartiles[:9], back, mean / (back + 1e-3)])
        codes.append(VOCABULARY["hand_color"].index(s["style"]["hand_color"]))
    return np.stack(images), np.array(stats, np.float32), np.array(codes)


def linear_accuracy(train_x, train_y, test_x, test_y, steps: int = 500) -> float:
    """Top-1 accuracy on the test set of a softmax classifier fitted by L-BFGS (standardised inputs, L2 1e-3)."""
    mean, std = train_x.mean(0), train_x.std(0) + 1e-6
    x, xt = torch.tensor((train_x - mean) / std), torch.tensor((test_x - mean) / std)
    y = torch.tensor(train_y)
    layer = torch.nn.Linear(x.shape[1], int(max(train_y.max(), test_y.max())) + 1)
    opt = torch.optim.LBFGS(layer.parameters(), max_iter=steps)

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(layer(x), y) + 1e-3 * layer.weight.pow(2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        return float((layer(xt).argmax(1).numpy() == test_y).mean())


def cnn_accuracy(train_images, train_y, test_images, test_y, epochs: int = 12, batch: int = 64) -> float:
    """Top-1 accuracy on the test images of a small CNN trained on the train images (AdamW, cosine, random flips and
    shifts of up to 8 px; no colour augmentation, the colour being the label)."""
    def block(cin, cout):
        return [torch.nn.Conv2d(cin, cout, 3, 2, 1, bias=False), torch.nn.BatchNorm2d(cout), torch.nn.ReLU(inplace=True),
                torch.nn.Conv2d(cout, cout, 3, 1, 1, bias=False), torch.nn.BatchNorm2d(cout), torch.nn.ReLU(inplace=True)]

    net = torch.nn.Sequential(*block(3, 32), *block(32, 64), *block(64, 96), *block(96, 128),
                              torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(128, 7))
    x = torch.from_numpy(train_images).permute(0, 3, 1, 2)
    y = torch.from_numpy(train_y)
    steps = epochs * (len(x) // batch)
    opt = torch.optim.AdamW(net.parameters(), 2e-3, weight_decay=0.05)
    schedule = torch.optim.lr_scheduler.OneCycleLR(opt, 2e-3, total_steps=steps, pct_start=0.1)
    gen = torch.Generator().manual_seed(0)
    bar = tqdm(total=steps, desc="cnn", leave=False)
    for _ in range(epochs):
        for idx in torch.randperm(len(x), generator=gen)[: steps // epochs * batch].view(-1, batch):
            images = x[idx].float() / 255
            images = torch.where(torch.rand(len(idx), 1, 1, 1, generator=gen) < 0.5, images.flip(-1), images)
            dx, dy = (int(v) for v in torch.randint(-8, 9, (2,), generator=gen))
            images = torch.roll(images, (dy, dx), (2, 3))
            loss = torch.nn.functional.cross_entropy(net(images - 0.5), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            schedule.step()
            bar.update()
            bar.set_postfix(loss=f"{loss.item():.3f}")
    bar.close()
    net.eval()
    with torch.no_grad():
        test = torch.from_numpy(test_images).permute(0, 3, 1, 2).float() / 255
        pred = torch.cat([net(chunk - 0.5).argmax(1) for chunk in test.split(128)])
    return float((pred.numpy() == test_y).mean())


def albedo_accuracy(n: int = 2000, k: int = 25) -> float:
    """Accuracy of a k-nearest-neighbour classifier of the word from the log albedo of the back of the hand."""
    rng = np.random.default_rng(0)
    words = list(TONES)

    def draw(m: int) -> tuple[np.ndarray, np.ndarray]:
        return np.log([sample_tone(w, rng).back for w in words for _ in range(m)]), np.repeat(np.arange(len(words)), m)

    (train_x, train_y), (test_x, test_y) = draw(n), draw(n // 4)
    nearest = np.argsort(((test_x[:, None] - train_x[None]) ** 2).sum(-1), 1)[:, :k]
    votes = np.array([np.bincount(train_y[row], minlength=len(words)).argmax() for row in nearest])
    return float((votes == test_y).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", default="style-cpu")
    parser.add_argument("--train", type=int, default=1500)
    parser.add_argument("--test", type=int, default=300)
    parser.add_argument("--cnn-train", type=int, default=0, help="also a supervised CNN on this many renders (seed 6)")
    parser.add_argument("--cnn-epochs", type=int, default=12)
    args = parser.parse_args()
    torch.manual_seed(0)
    towers = load_towers(args.clip).eval()
    size = 128
    train_images, train_stats, train_y = renders(args.train, 5, size)
    test_images, test_stats, test_y = renders(args.test, 90001, size)
    feats = [image_features(towers, im).numpy() for im in (train_images, test_images)]
    out = {"n_train": args.train, "n_test": args.test, "chance": round(1 / len(VOCABULARY["hand_color"]), 4),
           "albedo_knn": round(albedo_accuracy(), 4),
           "pixel_colour_statistics": round(linear_accuracy(train_stats, train_y, test_stats, test_y), 4),
           "clip_features_linear": round(linear_accuracy(feats[0], train_y, feats[1], test_y), 4), "clip": args.clip}
    if args.cnn_train:
        cnn_images, _, cnn_y = renders(args.cnn_train, 6, size)
        out |= {"cnn_train": args.cnn_train, "cnn_epochs": args.cnn_epochs,
                "cnn_supervised": round(cnn_accuracy(cnn_images, cnn_y, test_images, test_y, args.cnn_epochs), 4)}
    print(json.dumps(out))


if __name__ == "__main__":
    main()

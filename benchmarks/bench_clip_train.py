"""What `handclip clip-train` will cost for a recipe: CPU seconds per training step and per render, projected wall time.

Times a few training steps of the recipe's CLIP (real captions, random pixels: the cost does not depend on
them) in CPU seconds of this process, with 1 and with 2 torch threads, and a few renders of each kind in
CPU seconds; CPU time is what a shared machine cannot blur (waiting for a busy core is not counted). The
projection for 2 idle cores takes the 2-thread CPU time per step as the wall time of a step (an upper
bound: idle threads spin) and splits rendering over the recipe's workers. Prints one JSON document.

    python benchmarks/bench_clip_train.py --config clip/style_cpu --steps 4 --renders 8
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from _output import emit

from handclip.clip import compact, contrastive, recipe
from handclip.clip.caption_cache import decode_words, render_job
from handclip.clip.captions import all_captions, caption
from handclip.clip.fit import CaptionTokens, batch_pixels, logits, param_groups, word_keys
from handclip.engine.trainer import build_optimizer


def step_cpu_seconds(config: dict, threads: int, steps: int) -> float:
    """Median CPU seconds of one training step (batch of the recipe) after one warm-up step."""
    torch.set_num_threads(threads)
    bs, size = config["train"]["batch_size"], config["data"]["size"]
    model = compact.build_model(config["clip"]).train()
    optimizer = build_optimizer(param_groups(model, 0.1), config["train"]["optimizer"])
    tokens = CaptionTokens(all_captions())
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (bs, size, size, 3), dtype=np.uint8)
    codes = np.stack([rng.integers(0, 7, bs), rng.integers(0, 19, bs), rng.integers(0, 2, bs)], 1)
    times = []
    for _ in range(steps + 1):
        tic = time.process_time()
        pixels = batch_pixels(images, rng, config["data"]["crop"], config["clip"]["image_size"])
        scores = logits(model, pixels, tokens([caption(decode_words(c), rng) for c in codes]))
        loss = contrastive.info_nce(scores, word_keys(codes))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        times.append(time.process_time() - tic)
    return float(np.median(times[1:]))


def render_cpu_seconds(config: dict, kind: str, count: int) -> float:
    """Mean CPU seconds of one render of `kind` ('hand' or 'scene') over the recipe's domains."""
    domains = list(config["data"]["domains"])
    render_job((0, kind, domains[0], config["data"]["size"], 12345, 0))  # warm-up: meshes and tables load once
    tic = time.process_time()
    for i in range(count):
        render_job((0, kind, domains[i % len(domains)], config["data"]["size"], 12345, i + 1))
    return (time.process_time() - tic) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="clip/style_cpu")
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--renders", type=int, default=8)
    parser.add_argument("--out", type=Path)
    parser.add_argument("overrides", nargs="*")
    args = parser.parse_args()
    config = recipe.load(args.config, args.overrides)
    data, train = config["data"], config["train"]
    per_epoch = (data["hands"] + data["scenes"]) // train["batch_size"]
    total_steps = per_epoch * train["epochs"]
    step = {t: round(step_cpu_seconds(config, t, args.steps), 3) for t in (1, 2)}
    render = {k: round(render_cpu_seconds(config, k, args.renders), 4) for k in ("hand", "scene")}
    render_wall = (data["hands"] * render["hand"] + data["scenes"] * render["scene"]) / max(1, data["workers"])
    train_wall = total_steps * step[2]
    emit({"config": args.config, "overrides": args.overrides, "steps": total_steps, "batch_size": train["batch_size"],
          "step_cpu_s": {f"{t}_thread": v for t, v in step.items()}, "render_cpu_s": render,
          "projected_min_2_idle_cores": {"render": round(render_wall / 60, 1), "train": round(train_wall / 60, 1),
                                         "total": round((render_wall + train_wall) / 60 + 1, 1)}}, args.out)


if __name__ == "__main__":
    main()

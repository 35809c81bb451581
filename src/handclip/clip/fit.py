"""Training a compact CLIP on captioned renders (`handclip clip-train`): symmetric InfoNCE, resumable.

Each step takes a batch of cached renders (handclip.clip.caption_cache), one random crop size per batch (a
crop of data.crop of the side, resized to the image tower's input as frozen towers resize any image), and a
fresh caption per image (handclip.clip.captions: a random head and hand word over the true words). Batch
order, crops and captions are seeded by (train.seed, epoch, step), so a resumed run continues the same
stream. The run folder holds config.yaml, train_log.jsonl (one line per log_every steps; curves.json/png drawn
from it at the end), state.pt (for --resume)
and at the end clip.safetensors (float16, handclip.clip.compact) and eval.json (zero-shot on held-out renders).
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from handclip.clip import caption_cache, compact, contrastive
from handclip.clip.captions import all_captions, caption
from handclip.clip.tokenizer import build_tokenizer
from handclip.clip.towers import preprocess_images
from handclip.engine.config import ConfigError, save_config
from handclip.engine.curves import TRAIN_LOG, write_curves
from handclip.engine.trainer import build_optimizer, build_scheduler

RUN_FILES = ("config.yaml", TRAIN_LOG, "state.pt", "clip.safetensors", "eval.json")
NO_DECAY = ("bias", "norm", "embedding", "logit_scale")  # parameter names left out of weight decay


class CaptionTokens:
    """Every caption tokenised once: row ids (S, L) and masks, padded to the longest caption."""

    def __init__(self, sentences: list[str]):
        enc = build_tokenizer()(sentences, padding=True, return_tensors="pt")
        self.ids, self.mask = enc["input_ids"], enc["attention_mask"]
        self.row = {s: i for i, s in enumerate(sentences)}

    def __call__(self, texts: list[str]) -> dict[str, torch.Tensor]:
        rows = torch.tensor([self.row[t] for t in texts])
        return {"input_ids": self.ids[rows], "attention_mask": self.mask[rows]}


def param_groups(model, weight_decay: float) -> list[dict]:
    """Weight decay on the weight matrices only (not on embeddings, norms, biases or the temperature)."""
    decay, keep = [], []
    for name, p in model.named_parameters():
        (keep if p.ndim < 2 or any(k in name for k in NO_DECAY) else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": keep, "weight_decay": 0.0}]


def batch_pixels(images: np.ndarray, rng: np.random.Generator, crop, size: int) -> torch.Tensor:
    """uint8 (B, S, S, 3) -> CLIP input (B, 3, size, size): one crop side per batch, a random place per image."""
    full = images.shape[1]
    side = max(1, round(rng.uniform(*crop) * full))
    at = rng.integers(0, full - side + 1, (len(images), 2))
    crops = np.stack([im[y:y + side, x:x + side] for im, (y, x) in zip(images, at)])
    return preprocess_images(torch.from_numpy(crops).permute(0, 3, 1, 2).float() / 255.0, size)


def word_keys(codes: np.ndarray) -> torch.Tensor:
    """One integer per render for its words (hand colour, colour, context): equal keys, equal captions' words."""
    c = torch.as_tensor(codes, dtype=torch.long)
    return ((c[:, 0] + 1) * 100 + c[:, 1]) * 10 + c[:, 2]


def logits(model, pixels: torch.Tensor, tokens: dict) -> torch.Tensor:
    """(B, B) scaled cosine similarities of images (rows) and captions (columns), as frozen towers encode them."""
    img = model.visual_projection(model.vision_model(pixel_values=pixels).pooler_output)
    txt = model.text_projection(model.text_model(**tokens).pooler_output)
    return model.logit_scale.exp() * F.normalize(img, dim=-1) @ F.normalize(txt, dim=-1).T


def prepare_run(out: Path, resume: bool, overwrite: bool) -> None:
    """Refuse to write into a folder holding a run unless resuming or told to overwrite (then clear its files)."""
    held = [out / f for f in RUN_FILES if (out / f).exists()]
    if held and not (resume or overwrite):
        raise FileExistsError(f"{out} holds a CLIP run ({', '.join(p.name for p in held)}); pass --resume to continue "
                              f"it or --overwrite to start again")
    if resume and not (out / "state.pt").is_file():
        raise FileNotFoundError(f"{out / 'state.pt'}: nothing to resume; run without --resume to start")
    if overwrite and not resume:
        for p in held:
            p.unlink()
    out.mkdir(parents=True, exist_ok=True)


def _save_state(path: Path, model, optimizer, scheduler, step: int, config: dict, wall_s: float) -> None:
    """state.pt for --resume; wall_s: the run's seconds so far, earlier sessions included."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict() if scheduler else None, "step": step, "config": config,
                "wall_s": wall_s}, tmp)
    os.replace(tmp, path)


def train(config: dict, out, resume: bool = False, overwrite: bool = False) -> dict:
    """Render (or reuse) the captioned set, train, save clip.safetensors and eval.json; returns the summary."""
    out, started = Path(out), time.perf_counter()
    prepare_run(out, resume, overwrite)
    data, tcfg = config["data"], config["train"]
    root = caption_cache.build(data["root"], data["domains"], data["hands"], data["scenes"], data["size"],
                               data["seed"], data["workers"])
    cache = caption_cache.CaptionCache(root)
    bs, seed = int(tcfg["batch_size"]), int(tcfg["seed"])
    per_epoch = len(cache) // bs
    if per_epoch < 1:
        raise ConfigError(f"train.batch_size {bs} exceeds the {len(cache)} captioned renders; lower it or render more")
    total = per_epoch * int(tcfg["epochs"])
    model = compact.build_model(config["clip"], seed=seed).train()
    optimizer = build_optimizer(param_groups(model, float(tcfg["optimizer"].get("weight_decay", 0.0))), tcfg["optimizer"])
    scheduler = build_scheduler(optimizer, tcfg["scheduler"], total)
    if scheduler is not None and not getattr(scheduler, "per_step", False):
        raise ConfigError("train.scheduler.name: a CLIP run steps its schedule per update; use warmup_cosine or none")
    start, before = 0, 0.0  # before: seconds of earlier sessions of this run
    if resume:
        state = torch.load(out / "state.pt", map_location="cpu", weights_only=False)
        if state["config"] != config:
            raise ConfigError(f"{out / 'state.pt'} was trained with another config; resume with the same config "
                              f"(see {out / 'config.yaml'}) or pass --overwrite")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        if scheduler is not None:
            scheduler.load_state_dict(state["scheduler"])
        start, before = int(state["step"]), float(state.get("wall_s", 0.0))

    def elapsed() -> float:
        """The run's seconds so far, earlier sessions included."""
        return before + time.perf_counter() - started

    save_config(config, out / "config.yaml")
    tokens = CaptionTokens(all_captions())
    log_path, log_every, save_every = out / TRAIN_LOG, int(tcfg["log_every"]), int(tcfg["save_every_steps"])
    kept = [line for line in (log_path.read_text().splitlines() if resume and log_path.exists() else [])
            if json.loads(line)["step"] <= start]
    log_path.write_text("".join(line + "\n" for line in kept))
    tic, seen, last = time.perf_counter(), 0, {}
    bar = tqdm(range(start, total), initial=start, total=total, desc="clip-train", unit="step")
    for step in bar:
        epoch, i = divmod(step, per_epoch)
        if i == 0 or step == start:  # the epoch's order, drawn once (a pure function of seed and epoch)
            order = np.random.default_rng([seed, epoch]).permutation(len(cache))
        idx = np.sort(order[i * bs:(i + 1) * bs])
        rng = np.random.default_rng([seed, epoch, i, 1])
        codes = cache.codes[idx]
        pixels = batch_pixels(np.asarray(cache.images[idx]), rng, data["crop"], model.config.vision_config.image_size)
        texts = [caption(caption_cache.decode_words(c), rng) for c in codes]
        keys = word_keys(codes)
        scores = logits(model, pixels, tokens(texts))
        loss = contrastive.info_nce(scores, keys)
        if not torch.isfinite(loss):
            raise FloatingPointError(f"clip-train: loss is {loss.item()} at step {step}; lower train.optimizer.lr")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if tcfg["grad_clip"]:
            torch.nn.utils.clip_grad_norm_(model.parameters(), float(tcfg["grad_clip"]))
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        with torch.no_grad():
            model.logit_scale.clamp_(0.0, math.log(100.0))
        seen += bs
        if (step + 1) % log_every == 0 or step + 1 == total:
            wall = time.perf_counter() - tic
            last = {"step": step + 1, "epoch": epoch, "loss": round(loss.item(), 4),
                    "top1_true": round(contrastive.top1_true(scores.detach(), keys), 4),
                    "lr": optimizer.param_groups[0]["lr"], "scale": round(model.logit_scale.exp().item(), 2),
                    "img_per_s": round(seen / wall, 1), "wall_s": round(wall, 1)}
            with log_path.open("a") as f:
                f.write(json.dumps(last) + "\n")
            bar.set_postfix(loss=last["loss"], top1=last["top1_true"])
        if save_every and (step + 1) % save_every == 0 and step + 1 < total:
            _save_state(out / "state.pt", model, optimizer, scheduler, step + 1, config, elapsed())
    _save_state(out / "state.pt", model, optimizer, scheduler, total, config, elapsed())
    info = {"data": cache.meta, "recipe": config, "steps": total, "train_wall_s": round(elapsed(), 1),
            "last": last}
    saved = compact.save(model.eval(), out / "clip.safetensors", info)
    write_curves(out)  # loss, top-1 of the true caption, lr and temperature against steps (PNG + JSON)
    return {"out": str(out), "weights": str(out / "clip.safetensors"), **saved, "steps": total, "last": last,
            "cache": str(root), "earlier_wall_s": round(before, 1)}

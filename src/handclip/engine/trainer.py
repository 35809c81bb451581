"""One training loop for every method: a Method supplies training_step and predict, the loop does the rest.

Optimiser and scheduler come from the config; checkpoints hold everything needed to continue exactly
(model, optimiser, scheduler, grad scaler, RNG states, epoch, step and the position inside the epoch,
whose data order is a pure function of seed and epoch); mixed precision, gradient clipping, a guard
that stops on a non-finite loss or gradient, periodic validation, TensorBoard and tqdm.
"""

from __future__ import annotations

import contextlib
import math
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, DistributedSampler, Sampler
from tqdm import tqdm

from handclip.data import build_dataset, collate
from handclip.engine import distributed
from handclip.engine.checkpoint import (
    build_method, capture_rng, load_checkpoint, load_weights, remove_stale_temporaries, restore_rng, save_checkpoint,
)
from handclip.engine.config import ConfigError, save_config, with_defaults
from handclip.engine.evaluate import build_entry, dataset_label, evaluate
from handclip.engine.logs import RunLogger
from handclip.engine.run_folder import RunLock
from handclip.engine.schema import check_config
from handclip.errors import UserError


class NonFiniteError(UserError, RuntimeError):
    """The loss or the gradient became NaN or infinite; training stopped before the weights changed."""


class _StepModule(nn.Module):
    """Routes forward() to Method.training_step, so DistributedDataParallel sees the call it hooks."""

    def __init__(self, method: nn.Module):
        super().__init__()
        self.method = method

    def forward(self, batch: dict) -> dict:
        return self.method.training_step(batch)


class _SkipSampler(Sampler):
    """Yields the wrapped sampler's indices after dropping the first `skip` (resuming inside an epoch)."""

    def __init__(self, sampler: Sampler, skip: int):
        self.sampler, self.skip = sampler, skip

    def __iter__(self):
        for position, index in enumerate(self.sampler):
            if position >= self.skip:
                yield index

    def __len__(self) -> int:
        return max(0, len(self.sampler) - self.skip)


def build_optimizer(params, cfg: dict) -> torch.optim.Optimizer:
    """Adam or AdamW from the `train.optimizer` block."""
    name = cfg.get("name", "adam").lower()
    kwargs = {"lr": float(cfg.get("lr", 1e-3)), "betas": tuple(cfg.get("betas", (0.9, 0.999))),
              "weight_decay": float(cfg.get("weight_decay", 0.0))}
    if name == "adam":
        return torch.optim.Adam(params, **kwargs)
    if name == "adamw":
        return torch.optim.AdamW(params, **kwargs)
    raise ConfigError(f"train.optimizer.name must be adam or adamw, got {name!r}")


def warmup_cosine(step: int, warmup: int, total: int, floor: float) -> float:
    """Learning-rate factor: linear warm-up over `warmup` steps, then a cosine from 1 down to `floor` at `total`."""
    if step < warmup:
        return (step + 1) / warmup
    t = min(1.0, (step - warmup) / max(1, total - warmup))
    return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * t))


def build_scheduler(optimizer: torch.optim.Optimizer, cfg: dict, total_steps: int = 0):
    """A per-epoch StepLR, a per-step warm-up + cosine (`warmup_cosine`, stepped every update: `per_step`),
    or None for a constant learning rate (`train.scheduler.name: none`)."""
    name = (cfg.get("name") or "none").lower()
    if name == "none":
        return None
    if name == "step":
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=int(cfg.get("step_size", 1)),
                                               gamma=float(cfg.get("gamma", 0.1)))
    if name == "warmup_cosine":
        warmup, floor = int(cfg.get("warmup_steps", 0)), float(cfg.get("min_factor", 0.01))
        sched = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: warmup_cosine(step, warmup, total_steps, floor))
        sched.per_step = True
        return sched
    raise ConfigError(f"train.scheduler.name must be step, warmup_cosine or none, got {name!r}")


def autocast(mode: str, device: torch.device):
    """The autocast context of `train.amp`: none, bf16 (CPU or CUDA) or fp16 (CUDA only)."""
    if mode in (None, "none"):
        return contextlib.nullcontext()
    if mode == "fp16" and device.type != "cuda":
        raise ConfigError("train.amp=fp16 needs CUDA; use train.amp=bf16 on CPU")
    if mode not in ("bf16", "fp16"):
        raise ConfigError(f"train.amp must be none, bf16 or fp16, got {mode!r}")
    return torch.autocast(device.type, dtype=torch.bfloat16 if mode == "bf16" else torch.float16)


def to_device(batch: dict, device: torch.device) -> dict:
    """Move the tensors of a collated batch to `device`; lists (styles, names) stay as they are."""
    return {k: v.to(device, non_blocking=True) if torch.is_tensor(v) else v for k, v in batch.items()}


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (all devices)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


class Trainer:
    """Trains the method of a resolved config into `run_dir`: config.yaml, checkpoints/, tb/, train_log.jsonl,
    val/ (per-set JSON + PCK PNG, history.jsonl) and curves.json + curves.png (learning curves)."""

    def __init__(self, config: dict, run_dir: str | Path, resume: bool | str | Path = False,
                 device: str | None = None):
        """`resume`: True continues from run_dir/checkpoints/last.pt, a path from that checkpoint."""
        self.config = with_defaults(config)
        check_config(self.config)  # an unknown key or a bad value fails here, before any work
        self.tcfg = self.config["train"]
        self.run_dir = Path(run_dir)
        self.ckpt_dir = self.run_dir / "checkpoints"
        self.resume_from = None if not resume else self.ckpt_dir / "last.pt" if resume is True else Path(resume)
        self.info = distributed.setup(device)
        self.device = self.info.device

    # ---------------------------------------------------------------- checkpoints
    def _state(self, epoch: int, batch_in_epoch: int) -> dict:
        """Everything needed to continue: see the module docstring."""
        return {
            "model": self.method.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": None if self.scheduler is None else self.scheduler.state_dict(),
            "scaler": None if self.scaler is None else self.scaler.state_dict(),
            "rng": capture_rng(),
            "epoch": epoch,
            "batch_in_epoch": batch_in_epoch,
            "step": self.step,
            "config": self.config,
        }

    def save(self, epoch: int, batch_in_epoch: int) -> Path:
        """Rank 0 writes last.pt (and epoch_XXX.pt at the end of an epoch) atomically; with
        train.keep_epochs = k > 0 only the k newest epoch_XXX.pt files are kept."""
        path = self.ckpt_dir / "last.pt"
        if self.info.is_main:
            state = self._state(epoch, batch_in_epoch)
            if batch_in_epoch == 0:
                save_checkpoint(state, self.ckpt_dir / f"epoch_{epoch:03d}.pt")
                keep = int(self.tcfg["keep_epochs"] or 0)
                for old in sorted(self.ckpt_dir.glob("epoch_*.pt"))[:-keep] if keep > 0 else []:
                    old.unlink()
            save_checkpoint(state, path)
        distributed.barrier(self.info)
        return path

    def _restore(self) -> tuple[int, int]:
        """Load the resume checkpoint into every component; returns (epoch, batch_in_epoch)."""
        state = load_checkpoint(self.resume_from, map_location=self.device)
        load_weights(self.method, state["model"], self.resume_from)
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler is not None and state.get("scheduler") is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        if self.scaler is not None and state.get("scaler") is not None:
            self.scaler.load_state_dict(state["scaler"])
        restore_rng(state["rng"])
        self.step = int(state["step"])
        return int(state["epoch"]), int(state.get("batch_in_epoch", 0))

    # ---------------------------------------------------------------- setup
    def setup(self) -> None:
        """Method, DDP wrapper, optimiser, scheduler, scaler, training data."""
        seed = int(self.tcfg["seed"])
        seed_everything(seed)
        self.method = build_method(self.config).to(self.device)
        self.module = distributed.wrap(_StepModule(self.method), self.info,
                                       sync_batchnorm=bool(self.tcfg["sync_batchnorm"]),
                                       find_unused=bool(self.tcfg["find_unused_parameters"]))
        self.params = [p for p in self.method.parameters() if p.requires_grad]
        self.optimizer = build_optimizer(self.params, self.tcfg["optimizer"])
        amp = self.tcfg["amp"]
        autocast(amp, self.device)  # a bad train.amp fails here, before any data is built
        self.scaler = torch.amp.GradScaler("cuda") if amp == "fp16" and self.device.type == "cuda" else None
        self.dataset = build_dataset(**self.config["data"]["train"])
        self.sampler = DistributedSampler(self.dataset, num_replicas=self.info.world_size, rank=self.info.rank,
                                          shuffle=True, seed=seed)
        self.batch_size = int(self.tcfg["batch_size"])
        self.steps_per_epoch = len(self.sampler) // self.batch_size
        if self.steps_per_epoch == 0:
            raise ConfigError(f"training set has {len(self.dataset)} samples per {self.info.world_size} process(es): "
                             f"fewer than one batch of train.batch_size={self.batch_size}")
        self.scheduler = build_scheduler(self.optimizer, self.tcfg["scheduler"],
                                         int(self.tcfg["epochs"]) * self.steps_per_epoch)
        self.step = 0
        seed_everything(seed + self.info.rank)  # per-rank randomness (dropout) after identical initialisation

    def loader(self, epoch: int, skip_batches: int) -> DataLoader:
        """The epoch's batches in the order fixed by (seed, epoch), the first `skip_batches` left out."""
        self.sampler.set_epoch(epoch)
        workers = int(self.tcfg["num_workers"])
        return DataLoader(self.dataset, batch_size=self.batch_size, drop_last=True, collate_fn=collate,
                          sampler=_SkipSampler(self.sampler, skip_batches * self.batch_size),
                          num_workers=workers, pin_memory=self.device.type == "cuda",
                          generator=torch.Generator().manual_seed(int(self.tcfg["seed"]) * 100003 + epoch))

    # ---------------------------------------------------------------- one step
    def train_step(self, batch: dict, epoch: int) -> dict[str, float]:
        """Forward, guard, backward, clip, update; returns the loss terms as floats."""
        with autocast(self.tcfg["amp"], self.device):
            out = self.module(batch)
        loss = out["loss"]
        if not distributed.all_true(bool(torch.isfinite(loss.detach()).item()), self.info):
            self._stop("loss", out, epoch)
        self.optimizer.zero_grad(set_to_none=True)
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            self.scaler.unscale_(self.optimizer)
        else:
            loss.backward()
        clip = float(self.tcfg["grad_clip"] or 0.0)
        norm = torch.nn.utils.clip_grad_norm_(self.params, clip if clip > 0 else math.inf)
        if self.scaler is not None:  # fp16 overflow: the scaler skips this step and lowers its scale
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            if not distributed.all_true(bool(torch.isfinite(norm).item()), self.info):
                self._stop("gradient", out, epoch)
            self.optimizer.step()
        if getattr(self.scheduler, "per_step", False):
            self.scheduler.step()
        self.step += 1
        terms = {k: float(v.detach().float().item()) for k, v in out.items() if torch.is_tensor(v) and v.numel() == 1}
        terms["grad_norm"] = float(norm.item())
        return terms

    def _stop(self, what: str, out: dict, epoch: int) -> None:
        """Raise NonFiniteError naming where it happened and the checkpoint that stays good."""
        terms = {k: float(v.detach().float().item()) for k, v in out.items() if torch.is_tensor(v) and v.numel() == 1}
        last = self.ckpt_dir / "last.pt"
        kept = f"the last good checkpoint {last} is kept" if last.exists() else "no checkpoint was written yet"
        raise NonFiniteError(
            f"non-finite {what} at epoch {epoch + 1}, step {self.step + 1} (loss terms {terms}); training "
            f"stopped before the update, {kept}. Lower the learning rate, enable train.grad_clip, or check "
            f"the data of this batch."
        )

    # ---------------------------------------------------------------- loop
    def fit(self) -> dict:
        """Train to train.epochs (continuing from last.pt when resuming); returns the last validation.

        Rank 0 holds the run folder's lock meanwhile and first deletes temporary checkpoints left by killed runs."""
        if not self.info.is_main:
            return self._fit()
        with RunLock(self.run_dir):
            stale = remove_stale_temporaries(self.ckpt_dir)
            if stale:
                print(f"handclip: removed {len(stale)} temporary checkpoint file(s) left by an interrupted run "
                      f"in {self.ckpt_dir}", file=sys.stderr)
            return self._fit()

    def _fit(self) -> dict:
        """fit() without the lock."""
        self.setup()
        start_epoch, skip = self._restore() if self.resume_from else (0, 0)
        if self.info.is_main:
            save_config(self.config, self.run_dir / "config.yaml")
        self.log = RunLogger(self.run_dir, enabled=self.info.is_main,
                             resumed_at=self.step if self.resume_from else None)
        epochs = int(self.tcfg["epochs"])
        budget = float(self.tcfg["max_minutes"] or 0) * 60.0
        self.deadline = time.perf_counter() + budget if budget > 0 else math.inf
        results: dict = {}
        try:
            for epoch in range(start_epoch, epochs):
                if not self._run_epoch(epoch, skip if epoch == start_epoch else 0):
                    print(f"handclip: train.max_minutes={self.tcfg['max_minutes']} reached at step {self.step}; "
                          f"--resume continues from {self.ckpt_dir / 'last.pt'}", file=sys.stderr)
                    results = self._validate(epoch)
                    break
                if self.scheduler is not None and not getattr(self.scheduler, "per_step", False):
                    self.scheduler.step()
                self.save(epoch + 1, 0)
                if (epoch + 1) % max(1, int(self.tcfg["val_every"])) == 0 or epoch + 1 == epochs:
                    results = self._validate(epoch + 1)
        finally:
            curves = self.log.close()
        return {"epoch": epochs, "step": self.step, "checkpoint": str(self.ckpt_dir / "last.pt"),
                "curves": None if curves is None else str(curves), "val": results}

    def _run_epoch(self, epoch: int, skip: int) -> bool:
        """One pass over the epoch's batches from position `skip`, with tqdm (the bar's ETA is the epoch's,
        run_eta that of the whole run at this epoch's pace), logs and step checkpoints. Returns False when
        train.max_minutes ran out first: last.pt then holds the position inside the epoch."""
        self.method.train()
        every = int(self.tcfg["save_every_steps"] or 0)
        log_every = max(1, int(self.tcfg["log_every"]))
        bar = tqdm(total=self.steps_per_epoch, initial=skip, disable=not self.info.is_main,
                   desc=f"epoch {epoch + 1}/{self.tcfg['epochs']}", unit="batch", dynamic_ncols=True)
        tic = time.perf_counter()
        with bar:
            for position, batch in enumerate(self.loader(epoch, skip), start=skip):
                terms = self.train_step(to_device(batch, self.device), epoch)
                bar.update(1)
                done = position + 1 - skip
                left = (int(self.tcfg["epochs"]) - epoch) * self.steps_per_epoch - position - 1
                eta = tqdm.format_interval((time.perf_counter() - tic) / done * left)
                bar.set_postfix(loss=f"{terms['loss']:.4g}", run_eta=eta)
                if self.step % log_every == 0:
                    elapsed = max(time.perf_counter() - tic, 1e-9)
                    speed = done * self.batch_size * self.info.world_size / elapsed
                    self.log.train(self.step, epoch, terms | {"lr": self.optimizer.param_groups[0]["lr"],
                                                              "samples_per_s": speed})
                if every and self.step % every == 0 and position + 1 < self.steps_per_epoch:
                    self.save(epoch, position + 1)
                if (self.step % log_every == 0 and position + 1 < self.steps_per_epoch
                        and not distributed.all_true(time.perf_counter() < self.deadline, self.info)):
                    self.save(epoch, position + 1)
                    return False
        return True

    def _validate(self, epoch: int) -> dict:
        """Rank 0 scores every `data.val` set, writing run_dir/val/<label>/ (JSON + PCK PNG) and the logs.
        Returns {label: metrics}."""
        results: dict = {}
        rng = capture_rng()  # validation must not shift the training RNG streams, or resume would diverge
        if self.info.is_main and self.config["data"].get("val"):
            default = (self.config.get("eval") or {}).get("protocol", "synth")
            for spec in self.config["data"]["val"]:
                label = dataset_label(spec)
                evaluator = evaluate(self.method, build_entry(spec), spec.get("protocol", default), self.device,
                                     self.batch_size, desc=f"val {label}")
                summary = evaluator.compute()
                evaluator.write(self.run_dir / "val" / label, summary)
                results[label] = summary["metrics"]
            self.log.val(self.step, epoch, results)
        distributed.barrier(self.info)
        restore_rng(rng)
        return results

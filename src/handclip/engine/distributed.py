"""Data-parallel training with torch DDP, launched by `torchrun` (which sets RANK, WORLD_SIZE, LOCAL_RANK).

One process per device; gloo on CPU, nccl on CUDA. Rank 0 alone logs and writes checkpoints.
Without those environment variables everything runs in one process and these helpers do nothing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

from handclip import preflight
from handclip.engine.config import ConfigError


@dataclass(frozen=True)
class DistInfo:
    """Where this process sits: its rank, the world size, its local rank and its device."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")

    @property
    def enabled(self) -> bool:
        """Whether more than one process trains together."""
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Whether this process logs and writes checkpoints (rank 0)."""
        return self.rank == 0


def setup(device: str | None = None) -> DistInfo:
    """Join the process group described by torchrun's environment variables (if any) and pick the device.

    `device` 'cpu' forces CPU; by default CUDA is used when present (cuda:LOCAL_RANK under torchrun).
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if device is not None:
        preflight.device(device)  # --device cuda where there is none: a one-line error, not a silent CPU run
    use_cuda = torch.cuda.is_available() and device != "cpu"
    if not use_cuda:
        dev = torch.device("cpu")
    elif world_size > 1:
        dev = torch.device("cuda", local_rank)
    else:  # an explicit index: torch.cuda.set_device refuses a bare 'cuda' in some torch releases (2.11)
        dev = torch.device(device or "cuda")
        dev = dev if dev.index is not None else torch.device("cuda", torch.cuda.current_device())
    if dev.type == "cuda":
        torch.cuda.set_device(dev)
    if world_size > 1 and not dist.is_initialized():
        dist.init_process_group(backend="nccl" if use_cuda else "gloo", rank=rank, world_size=world_size)
    return DistInfo(rank=rank, world_size=world_size, local_rank=local_rank, device=dev)


def cleanup(info: DistInfo) -> None:
    """Leave the process group (after training, on every rank)."""
    if info.enabled and dist.is_initialized():
        dist.destroy_process_group()


def wrap(module: nn.Module, info: DistInfo, sync_batchnorm: bool = False, find_unused: bool = False) -> nn.Module:
    """DistributedDataParallel around `module` (already on info.device); unchanged in a single process.

    sync_batchnorm converts BatchNorm layers to SyncBatchNorm (CUDA only, as in torch)."""
    if not info.enabled:
        return module
    if sync_batchnorm:
        if info.device.type != "cuda":
            raise ConfigError("train.sync_batchnorm=true needs CUDA processes: torch's SyncBatchNorm has no CPU "
                             "implementation; set train.sync_batchnorm=false for gloo/CPU runs")
        module = nn.SyncBatchNorm.convert_sync_batchnorm(module)
    device_ids = [info.device.index] if info.device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(module, device_ids=device_ids, find_unused_parameters=find_unused)


def all_true(flag: bool, info: DistInfo) -> bool:
    """True on every rank only if `flag` is true on every rank (so all ranks stop together)."""
    if not info.enabled:
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=info.device)
    dist.all_reduce(t, op=dist.ReduceOp.MIN)
    return bool(t.item() > 0.5)


def barrier(info: DistInfo) -> None:
    """Wait for every rank (no-op in one process)."""
    if info.enabled:
        dist.barrier()

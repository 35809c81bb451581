"""Two CPU processes on the gloo backend train one model: both ranks end with identical parameters."""

import os
import socket

import torch
import torch.multiprocessing as mp

import engine_toy


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, world_size: int, port: int, run_dir: str) -> None:
    torch.set_num_threads(1)
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
                      LOCAL_RANK=str(rank), WORLD_SIZE=str(world_size))
    from handclip.engine import distributed
    from handclip.engine.trainer import Trainer

    trainer = Trainer(engine_toy.toy_config(epochs=1), run_dir, device="cpu")
    try:
        trainer.fit()
        torch.save({k: v.detach().clone() for k, v in trainer.method.state_dict().items()},
                   os.path.join(run_dir, f"rank{rank}.pt"))
        torch.save(len(trainer.sampler), os.path.join(run_dir, f"shard{rank}.pt"))
        try:  # torch's SyncBatchNorm is CUDA-only: the option must say so instead of failing deep in DDP
            distributed.wrap(torch.nn.BatchNorm1d(1), trainer.info, sync_batchnorm=True)
        except ValueError as err:
            torch.save(str(err), os.path.join(run_dir, f"syncbn{rank}.pt"))
    finally:
        distributed.cleanup(trainer.info)


def test_two_process_gloo_ranks_stay_identical(tmp_path):
    # fork: the children reuse the parent's imports (spawn would re-import torch, seconds each)
    mp.start_processes(_worker, args=(2, _free_port(), str(tmp_path)), nprocs=2, join=True, start_method="fork")
    p0, p1 = (torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    assert torch.load(tmp_path / "shard0.pt") == 20  # each rank saw its own half of the 40 samples
    for key in p0:
        assert torch.equal(p0[key], p1[key]), key
    assert p0["xyz"].abs().max() > 0.05  # trained away from the zero initialisation
    assert "needs CUDA" in torch.load(tmp_path / "syncbn0.pt")
    # rank 0 alone wrote the checkpoints and the resolved config
    assert (tmp_path / "checkpoints" / "last.pt").is_file() and (tmp_path / "config.yaml").is_file()


def test_one_process_on_cuda_picks_an_indexed_device(monkeypatch):
    """A lone process on a CUDA machine asks set_device for cuda:0, not a bare 'cuda' (refused by torch 2.11)."""
    from handclip.engine import distributed

    chosen = []

    def set_device(dev):
        if dev.index is None:
            raise ValueError("Expected a torch.device with a specified index or an integer, but got:cuda")
        chosen.append(dev)

    for var in ("WORLD_SIZE", "RANK", "LOCAL_RANK"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(distributed.torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(distributed.torch.cuda, "set_device", set_device)
    monkeypatch.setattr(distributed.torch.cuda, "current_device", lambda: 0)
    monkeypatch.setattr(distributed.preflight, "device", lambda name: None)
    assert distributed.setup().device == torch.device("cuda", 0)
    assert distributed.setup("cuda").device == torch.device("cuda", 0)
    assert distributed.setup("cpu").device.type == "cpu" and len(chosen) == 2

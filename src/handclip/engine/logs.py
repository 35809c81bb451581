"""Run logs written by rank 0: TensorBoard scalars, JSON lines, and the learning curves (JSON + PNG).

`run_dir/train_log.jsonl` holds one line per logged step (loss terms, lr, grad norm, samples/s) and
`run_dir/val/history.jsonl` one line per validation; `run_dir/curves.json` and `curves.png` are drawn
from both at every validation and at the end (handclip.engine.curves). A resumed run appends: the
records after the resume checkpoint's step, from the abandoned timeline, are dropped first, and a step
logged twice counts once.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from handclip.engine.curves import TRAIN_LOG, VAL_HISTORY, drop_after, write_curves


class _NoBoard:
    """Stands in for TensorBoard's SummaryWriter when tensorboard (the 'logs' extra) is not installed."""

    def add_scalar(self, *args) -> None:
        pass

    def close(self) -> None:
        pass


def _tensorboard(folder: Path):
    """A TensorBoard SummaryWriter into `folder`, or a no-op after a one-line note when tensorboard is missing."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        print("handclip: no TensorBoard logs (pip install 'handclip[logs]'); the JSON logs and curves are written",
              file=sys.stderr)
        return _NoBoard()
    return SummaryWriter(str(folder))


class RunLogger:
    """Logs of one run; every method is a no-op when `enabled` is false (ranks other than 0)."""

    def __init__(self, run_dir: str | Path, enabled: bool = True, resumed_at: int | None = None):
        """`resumed_at`: the step of the checkpoint a resumed run continues from (None for a fresh run)."""
        self.run_dir = Path(run_dir)
        self.enabled = enabled
        self.writer = None
        if enabled:
            if resumed_at is not None:
                for log in (TRAIN_LOG, VAL_HISTORY):
                    drop_after(self.run_dir / log, resumed_at)
            self.writer = _tensorboard(self.run_dir / "tb")

    def train(self, step: int, epoch: int, scalars: dict[str, float]) -> None:
        """Training scalars of one step (loss terms, lr, grad norm, samples/s)."""
        if not self.enabled:
            return
        for key, value in scalars.items():
            self.writer.add_scalar(f"train/{key}", value, step)
        self._append(self.run_dir / TRAIN_LOG, {"step": step, "epoch": epoch, **scalars})

    def val(self, step: int, epoch: int, results: dict[str, dict]) -> None:
        """Validation summaries {dataset label: metrics} after `epoch` epochs."""
        if not self.enabled:
            return
        for label, metrics in results.items():
            for key, value in metrics.items():
                self.writer.add_scalar(f"val/{label}/{key}", value, step)
        self._append(self.run_dir / VAL_HISTORY, {"step": step, "epoch": epoch, "results": results})
        write_curves(self.run_dir)

    def close(self) -> Path | None:
        """Flush TensorBoard and write run_dir/curves.json and curves.png; returns the PNG's path."""
        if not self.enabled:
            return None
        self.writer.close()
        written = write_curves(self.run_dir)
        return None if written is None else written[1]

    @staticmethod
    def _append(path: Path, record: dict) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a") as f:
            f.write(json.dumps(record) + "\n")


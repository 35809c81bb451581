"""Run logs written by rank 0: TensorBoard scalars, JSON lines, and a PNG of the training curves.

`run_dir/train_log.jsonl` holds one line per logged step (loss terms, lr, samples/s) and
`run_dir/val/history.jsonl` one line per validation; `run_dir/curves.png` plots both (a resumed run
appends; a step logged twice, before a crash and after the resume, is plotted once, the later value).
"""

from __future__ import annotations

import json
from pathlib import Path

CURVE_METRIC = "mpjpe"  # the validation number plotted per dataset


class RunLogger:
    """Logs of one run; every method is a no-op when `enabled` is false (ranks other than 0)."""

    def __init__(self, run_dir: str | Path, enabled: bool = True):
        self.run_dir = Path(run_dir)
        self.enabled = enabled
        self.writer = None
        if enabled:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(str(self.run_dir / "tb"))

    def train(self, step: int, epoch: int, scalars: dict[str, float]) -> None:
        """Training scalars of one step (loss terms, lr, grad norm, samples/s)."""
        if not self.enabled:
            return
        for key, value in scalars.items():
            self.writer.add_scalar(f"train/{key}", value, step)
        self._append(self.run_dir / "train_log.jsonl", {"step": step, "epoch": epoch, **scalars})

    def val(self, step: int, epoch: int, results: dict[str, dict]) -> None:
        """Validation summaries {dataset label: metrics} after `epoch` epochs."""
        if not self.enabled:
            return
        for label, metrics in results.items():
            for key, value in metrics.items():
                self.writer.add_scalar(f"val/{label}/{key}", value, step)
        self._append(self.run_dir / "val" / "history.jsonl", {"step": step, "epoch": epoch, "results": results})

    def close(self) -> Path | None:
        """Flush TensorBoard and draw run_dir/curves.png; returns its path."""
        if not self.enabled:
            return None
        self.writer.close()
        return plot_curves(self.run_dir)

    @staticmethod
    def _append(path: Path, record: dict) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a") as f:
            f.write(json.dumps(record) + "\n")


def _read_jsonl(path: Path) -> list[dict]:
    """Records of a JSON-lines file, the last one per step kept, in step order; [] when absent."""
    if not path.is_file():
        return []
    by_step = {}
    for line in path.read_text().splitlines():
        if line.strip():
            record = json.loads(line)
            by_step[record["step"]] = record
    return [by_step[s] for s in sorted(by_step)]


def plot_curves(run_dir: str | Path) -> Path | None:
    """Training loss terms per step and validation MPJPE per dataset -> run_dir/curves.png."""
    from matplotlib.figure import Figure

    run_dir = Path(run_dir)
    train = _read_jsonl(run_dir / "train_log.jsonl")
    val = _read_jsonl(run_dir / "val" / "history.jsonl")
    if not train and not val:
        return None
    fig = Figure(figsize=(11, 4))
    ax_train, ax_val = fig.subplots(1, 2)
    steps = [r["step"] for r in train]
    for key in [k for k in (train[0] if train else {}) if k == "loss" or k.startswith("loss_")]:
        ax_train.plot(steps, [r.get(key, float("nan")) for r in train], label=key)
    ax_train.set(xlabel="step", ylabel="training loss", title="training")
    if train and min(r["loss"] for r in train) > 0:
        ax_train.set_yscale("log")
    labels = sorted({label for r in val for label in r["results"]})
    for label in labels:
        points = [(r["epoch"], r["results"][label].get(CURVE_METRIC)) for r in val if label in r["results"]]
        ax_val.plot(*zip(*points), marker="o", label=label)
    ax_val.set(xlabel="epoch", ylabel=f"{CURVE_METRIC} (mm)", title="validation")
    for ax in (ax_train, ax_val):
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    fig.suptitle(run_dir.name)
    fig.tight_layout()
    path = run_dir / "curves.png"
    fig.savefig(path, dpi=100)
    return path

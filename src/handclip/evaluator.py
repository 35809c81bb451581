"""Evaluator: accumulates one protocol's metric rows over batches, prints one table, writes JSON and a PCK PNG."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import numpy as np

from handclip import metrics
from handclip.protocols import ROW_UNITS, Protocol, get


_KEYS = ("xyz", "uv", "verts", "valid", "K", "box_side", "image_px")  # what protocols read; images and strings are left alone


def _to_numpy(batch: dict) -> dict:
    """The protocol inputs of a batch as numpy (torch tensors detached to CPU; floats as float64)."""
    out = {}
    for key in _KEYS:
        value = batch.get(key)
        if hasattr(value, "detach"):
            value = value.detach().cpu()
            value = value.double().numpy() if value.is_floating_point() else value.numpy()
        if value is not None:
            out[key] = np.asarray(value)
    return out


class Evaluator:
    """Collects per-sample rows with process(pred, gt); compute() summarises them, write() saves them.

    Per-joint rows (N, 21) give '<row>' (mean EPE), '<row>_median', '<row>_pck_<t>' at each PCK threshold
    and '<row>_auc_<grid>' for each grid the protocol names, plus the PCK curves; per-sample rows (N,) give their mean.
    """

    def __init__(self, protocol: str | Protocol = "synth", **protocol_kwargs):
        self.protocol = get(protocol, **protocol_kwargs) if isinstance(protocol, str) else protocol
        self._rows: dict[str, list[np.ndarray]] = defaultdict(list)

    def reset(self) -> None:
        """Forget the accumulated samples."""
        self._rows.clear()

    def process(self, pred: dict, gt: dict) -> None:
        """Add one batch: method predictions and the GT batch (tensors or numpy arrays)."""
        for key, value in self.protocol(_to_numpy(pred), _to_numpy(gt)).items():
            self._rows[key].append(value)

    def compute(self) -> dict:
        """Summary {'protocol', 'settings', 'num_samples', 'metrics', 'curves'} of all processed samples."""
        if not self._rows:
            raise RuntimeError("Evaluator.compute() called before any process()")
        rows = {key: np.concatenate(parts) for key, parts in self._rows.items()}
        summary: dict[str, float] = {}
        curves: dict[str, dict] = {}
        for key, values in rows.items():
            if values.ndim == 1:
                summary[key] = float(np.mean(values))
                continue
            summary[key] = metrics.mean_epe(values)
            summary[f"{key}_median"] = metrics.median_epe(values)
            for t in self.protocol.pck.get(key, ()):
                summary[f"{key}_pck_{t:g}"] = metrics.pck(values, t)
            for grid_name in self.protocol.curves.get(key, ()):
                grid = metrics.thresholds(grid_name)
                curve = metrics.pck_curve(values, grid)
                summary[f"{key}_auc_{grid_name}"] = metrics.auc(curve, grid)
                curves.setdefault(key, {})[grid_name] = {"thresholds": grid.tolist(), "pck": curve.tolist()}
        return {
            "protocol": self.protocol.name,
            "settings": self.protocol.settings(),
            "num_samples": int(len(next(iter(rows.values())))),
            "metrics": summary,
            "curves": curves,
        }

    def table(self, results: dict | None = None) -> str:
        """One plain-text table of the summary metrics."""
        results = results or self.compute()
        lines = [f"protocol {results['protocol']}  ({results['num_samples']} samples)", f"{'metric':<32}{'value':>12}"]
        for key, value in results["metrics"].items():
            unit = ROW_UNITS.get(key.removesuffix("_median"), "") if "_auc_" not in key else ""
            lines.append(f"{key + (f' ({unit})' if unit else ''):<32}{value:>12.4f}")
        return "\n".join(lines)

    def write(self, out_dir, results: dict | None = None) -> dict[str, Path]:
        """Write <out_dir>/metrics.json and <out_dir>/pck.png (one panel per unit); returns their paths."""
        results = results or self.compute()
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        json_path = out_dir / "metrics.json"
        json_path.write_text(json.dumps(results, indent=2))
        png_path = out_dir / "pck.png"
        _plot_curves(results, png_path)
        return {"json": json_path, "png": png_path}


def _plot_curves(results: dict, path: Path) -> None:
    """PCK curves of the results, one panel per unit (mm, px); one line per row, on its longest grid,
    labelled with the row's AUC on every grid (curves of one row on several grids would overlap)."""
    from matplotlib.figure import Figure  # a bare Figure renders with Agg and leaves pyplot's backend alone

    by_unit: dict[str, list] = defaultdict(list)
    for key, grids in results["curves"].items():
        longest = max(grids.values(), key=lambda c: c["thresholds"][-1] - c["thresholds"][0])
        aucs = ", ".join(f"{g} {results['metrics'][f'{key}_auc_{g}']:.3f}" for g in grids)
        by_unit[ROW_UNITS.get(key, "")].append((f"{key} (AUC {aucs})", longest))
    panels = max(len(by_unit), 1)
    fig = Figure(figsize=(5.5 * panels, 4.2))
    axes = fig.subplots(1, panels, squeeze=False)
    for ax, (unit, items) in zip(axes[0], sorted(by_unit.items())):
        for label, curve in items:
            ax.plot(curve["thresholds"], curve["pck"], label=label)
        ax.set_xlabel(f"error threshold ({unit})")
        ax.set_ylabel("PCK")
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right", fontsize=8)
    fig.suptitle(f"{results['protocol']}: {results['num_samples']} samples")
    fig.tight_layout()
    fig.savefig(path, dpi=100)

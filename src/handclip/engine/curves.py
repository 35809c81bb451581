"""Learning curves of a run as data: every logged training scalar per step, every validation metric per set.

Built from the run's logs (train_log.jsonl, val/history.jsonl), where the last record per step wins, so a
step logged twice around a crash and a resume counts once. Written as run_dir/curves.json, the data behind
run_dir/curves.png (handclip.viz.training_curves).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from handclip.atomic import write_atomic

CURVES_JSON = "curves.json"
CURVES_PNG = "curves.png"
TRAIN_LOG = "train_log.jsonl"
VAL_HISTORY = Path("val") / "history.jsonl"
_RECORD_KEYS = ("step", "epoch")  # bookkeeping of a training record, not a curve


def read_jsonl(path: str | Path) -> list[dict]:
    """Records of a JSON-lines log, the last one per step kept, in step order; [] when absent."""
    path = Path(path)
    if not path.is_file():
        return []
    by_step = {}
    lines = path.read_text().splitlines()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            if number == len(lines):
                continue  # a line cut by a crash mid-write: the records before it stand
            raise ValueError(f"{path}: line {number} is not JSON") from None
        by_step[record["step"]] = record
    return [by_step[s] for s in sorted(by_step)]


def drop_after(path: str | Path, step: int) -> None:
    """Remove the records after `step` from a JSON-lines log (atomically): they belong to the timeline a resume
    from an earlier checkpoint abandons."""
    path = Path(path)
    records = read_jsonl(path)
    if all(r["step"] <= step for r in records):
        return
    write_atomic(path, "".join(json.dumps(r) + "\n" for r in records if r["step"] <= step))


def _number(value):
    """A finite float to 7 significant digits (float32's precision, a compact file), else None (JSON has no NaN)."""
    return float(f"{value:.7g}") if isinstance(value, (int, float)) and math.isfinite(value) else None


def collect(run_dir: str | Path) -> dict:
    """{'run', 'train': {'step', 'epoch', 'series': {key: [...]}}, 'val': {label: {'step', 'epoch',
    'metrics': {key: [...]}}}} from the run's logs; a value a record lacks is None."""
    run_dir = Path(run_dir)
    train = read_jsonl(run_dir / TRAIN_LOG)
    keys = list(dict.fromkeys(k for r in train for k in r if k not in _RECORD_KEYS))
    curves = {
        "run": run_dir.name,
        "train": {"step": [r["step"] for r in train], "epoch": [r.get("epoch") for r in train],
                  "series": {k: [_number(r.get(k)) for r in train] for k in keys}},
        "val": {},
    }
    for record in read_jsonl(run_dir / VAL_HISTORY):
        for label, metrics in record["results"].items():
            entry = curves["val"].setdefault(label, {"step": [], "epoch": [], "metrics": {}})
            for key in metrics:
                entry["metrics"].setdefault(key, [None] * len(entry["step"]))
            entry["step"].append(record["step"])
            entry["epoch"].append(record.get("epoch"))
            for key, values in entry["metrics"].items():
                values.append(_number(metrics.get(key)))
    return curves


def load_curves(source: str | Path) -> dict:
    """The curves of a run folder (from its logs, else its curves.json) or of a curves.json file."""
    source = Path(source)
    if source.is_dir() and ((source / TRAIN_LOG).is_file() or (source / VAL_HISTORY).is_file()):
        return collect(source)
    path = source / CURVES_JSON if source.is_dir() else source
    if not path.is_file():
        raise FileNotFoundError(f"{source}: neither a run folder with {TRAIN_LOG} nor a {CURVES_JSON}")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not a curves JSON file ({err})") from None


def write_curves(run_dir: str | Path) -> tuple[Path, Path] | None:
    """Write run_dir/curves.json and run_dir/curves.png from the logs; None when nothing is logged yet."""
    from handclip.viz.training_curves import plot_curves

    run_dir = Path(run_dir)
    curves = collect(run_dir)
    if not curves["train"]["step"] and not curves["val"]:
        return None
    json_path = write_atomic(run_dir / CURVES_JSON, json.dumps(curves))
    return json_path, plot_curves([curves], run_dir / CURVES_PNG, title=run_dir.name)

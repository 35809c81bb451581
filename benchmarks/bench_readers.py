"""Real-dataset reader throughput on the committed fixtures, and FreiHAND's vertex-JSON parsing speed.

Per reader: samples per CPU-second of decode + mirror + crop (+ augmentation), one process, looping
over the fixture's few images (the OS file cache makes this the decode/crop cost, not disk speed).
JSON: handclip.data.io.load_json_array against json.load on a synthetic FreiHAND-style vertex file.
Prints one JSON document (--out writes it).

    python benchmarks/bench_readers.py --out benchmarks/results/readers.json
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
from _output import emit

from handclip.data import build_dataset
from handclip.data.io import load_json_array

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
READERS = {
    "freihand": {"split": "training", "size": 224},
    "rhd": {"split": "evaluation", "size": 256},
    "stb": {"split": "test", "subset": "SK", "size": 256},
    "realworld": {"size": 256},
}


def reader_rate(name: str, kwargs: dict, n: int, augment: bool) -> dict:
    """Samples per CPU-second and per wall-second of reader `name` over n samples."""
    ds = build_dataset(name, root=FIXTURES / name, augment=augment, **kwargs)
    ds[0]  # warm-up
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(n):
        ds[i % len(ds)]
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"reader": name, "augment": augment, "samples": n, "samples_per_cpu_s": round(n / cpu, 1), "samples_per_s": round(n / wall, 1)}


def json_rate(rows: int) -> dict:
    """CPU seconds of json.load vs load_json_array on a rows x 778 x 3 vertex file."""
    verts = np.random.default_rng(0).random((rows, 778, 3)) * 0.1
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "training_verts.json"
        path.write_text(json.dumps(verts.tolist()))
        cpu = time.process_time()
        ref = np.asarray(json.loads(path.read_text()))
        t_json = time.process_time() - cpu
        cpu = time.process_time()
        out = load_json_array(path, (None, 778, 3), "verts")
        t_stream = time.process_time() - cpu
        size_mb = path.stat().st_size / 1e6
    assert np.array_equal(ref, out)
    return {"rows": rows, "file_mb": round(size_mb, 1), "json_load_cpu_s": round(t_json, 2), "streamed_cpu_s": round(t_stream, 2),
            "speedup": round(t_json / t_stream, 2), "full_freihand_estimate_s": round(t_stream * 32560 / rows, 1)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=100, help="samples per reader measurement")
    p.add_argument("--json-rows", type=int, default=1000, help="rows of the synthetic vertex file")
    p.add_argument("--out", type=Path)
    args = p.parse_args()
    result = {
        "benchmark": "readers",
        "machine": {"cpu": platform.processor() or platform.machine(), "python": platform.python_version()},
        "readers": [reader_rate(name, kw, args.n, aug) for name, kw in READERS.items() for aug in (False, True)],
        "json": json_rate(args.json_rows),
    }
    emit(result, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

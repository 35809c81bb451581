"""What scoring the shipped models on the real photos adds to the quickstart: seconds per model and real set.

For each shipped pose model (handclip.zoo, hand detectors left out) and each set of a real-photo config
(default datasets/realdev, the quickstart's) found on disk, times handclip.quickstart.score, the quickstart's own
scoring (predict, metrics, their files, overlay samples), and once per set a pass that only reads and crops
every photo. Wall and process CPU seconds; on a busy machine read the CPU seconds, which with one thread
approximate an idle machine's wall time. Run from the repository root (the config's paths are relative):

    python benchmarks/bench_quickstart_shipped.py --threads 1 --out benchmarks/results/quickstart_shipped.json
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import torch
from _output import emit

from handclip.engine.evaluate import build_entry, dataset_label
from handclip.quickstart import new_record, score, shipped_pose_models
from handclip.realdev import present_sets
from handclip.zoo import load_model


def clocked(fn) -> dict:
    """{'wall_s', 'cpu_s'} of one call of fn()."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return {"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--realdev", default="datasets/realdev", help="real-photo config (default: the quickstart's)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    specs, missing = present_sets(args.realdev)
    if not specs:
        raise SystemExit(f"no real photos found ({', '.join(missing)} missing); run from the repository root")
    result = {"machine": f"{platform.machine()}, {os.cpu_count()} cores", "threads": args.threads,
              "torch": torch.__version__, "realdev": args.realdev, "missing": missing,
              "read_and_crop": {}, "models": {}}
    for spec in specs:
        dataset = build_entry(spec)
        result["read_and_crop"][dataset_label(spec)] = {"images": len(dataset),
                                                        **clocked(lambda: [dataset[i] for i in range(len(dataset))])}
    with tempfile.TemporaryDirectory() as out_dir:
        for entry in shipped_pose_models():
            method, config = load_model(entry["name"])
            record = new_record(entry["name"], entry["name"], entry["config"], entry["name"], method)
            times = {dataset_label(spec): clocked(lambda: score(method, record, [spec], config, {"overlays": 4},
                                                                Path(out_dir), torch.device("cpu")))
                     for spec in specs}
            result["models"][entry["name"]] = {"input_size": record["input_size"], "sets": times,
                                               "cpu_s_all_sets": sum(t["cpu_s"] for t in times.values())}
    emit(result, args.out)


if __name__ == "__main__":
    main()

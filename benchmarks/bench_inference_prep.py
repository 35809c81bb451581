"""How the default pose network runs fastest in `predict` on this CPU (issue 13, item 0), one process, one thread.

The default shipped model's network (image -> lixel logits, joints, mesh) at batches 1, 8 and 16 as trained, after
`handclip.models.fold.for_inference` (BatchNorm folded, channels-last: what `handclip.load` does), that under
bfloat16 autocast (fast only where the CPU has AMX / AVX-512 BF16), and through onnxruntime (the for_inference
graph exported with its lixel logits). Rates are per second of process CPU time (robust to other jobs); rounds
alternate the variants so that load drifts hit all alike. Each variant's largest difference from the trained
network on the same images is recorded (joints in crop px). Prints one JSON document.

    python benchmarks/bench_inference_prep.py --out benchmarks/results/inference_prep.json
"""

from __future__ import annotations

import argparse
import copy
import platform
import statistics
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

from _output import emit

OUTPUTS = ("uvd", "verts", "px", "py")


class Outputs(nn.Module):
    """The network's dict as the tuple OUTPUTS (what onnxruntime returns)."""

    def __init__(self, method):
        super().__init__()
        self.method = method

    def forward(self, image):
        out = self.method(image)
        return tuple(out[k] for k in OUTPUTS)


def cpu_rate(fn, batch: int, calls: int) -> float:
    """Images per CPU-second of fn(), the median of `calls` timed calls after one warm-up call."""
    fn()
    times = []
    for _ in range(calls):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return batch / max(statistics.median(times), 1e-9)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--calls", type=int, default=6)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(1)
    from handclip.export import _export, ort_session
    from handclip.models.fold import for_inference
    from handclip.zoo import default_name, load_model

    trained = load_model(None)[0].eval()
    ready = for_inference(copy.deepcopy(trained))
    size, scale = int(trained.input_size), trained.input_size / trained.codec.bins_xy  # crop px per lixel bin
    x = torch.rand(16, 3, size, size, generator=torch.Generator().manual_seed(0))
    with tempfile.TemporaryDirectory() as tmp:
        onnx = Path(tmp) / "pose.onnx"
        _export(Outputs(ready).eval(), x[:2], onnx, list(OUTPUTS), 17, dynamo=False)
        session = ort_session(onnx, threads=1)

    def autocast(image):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            return ready(image)

    variants = {"as trained": lambda image: trained(image), "for_inference": lambda image: ready(image),
                "for_inference + bfloat16 autocast": autocast,
                "onnxruntime (for_inference graph)": lambda image: dict(zip(OUTPUTS, map(
                    torch.from_numpy, session.run(None, {"image": image.numpy()}))))}
    with torch.inference_mode():
        reference = trained(x)
        parity = {name: {"joints_px": float((fn(x)["uvd"].float() - reference["uvd"]).abs().max() * scale),
                         "verts_normalised": float((fn(x)["verts"].float() - reference["verts"]).abs().max())}
                  for name, fn in variants.items()}
        rates = {name: {b: [] for b in (1, 8, 16)} for name in variants}
        for _ in range(args.rounds):
            for b in (1, 8, 16):
                for name, fn in variants.items():
                    rates[name][b].append(cpu_rate(lambda: fn(x[:b]), b, args.calls))
    best = {name: {f"batch{b}": round(max(r), 1) for b, r in per.items()} for name, per in rates.items()}
    base = best["as trained"]
    emit({"benchmark": "inference_prep", "model": default_name(), "input_size": size, "threads": 1,
          "cpu": platform.processor() or platform.machine(), "torch": torch.__version__,
          "clock": "images per second of process CPU time, best of the rounds (median of the calls in each)",
          "images_per_cpu_s": best,
          "speedup_vs_as_trained": {name: {k: round(v / base[k], 2) for k, v in per.items()} for name, per in best.items()},
          "max_difference_from_as_trained": parity}, args.out)


if __name__ == "__main__":
    main()

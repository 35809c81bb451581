"""ONNX export of a method's inference path, with an onnxruntime parity check and a speed comparison.

The exported graph is `method.inference_model()`: float image (B, 3, S, S) in [0, 1] -> tensors,
batch dimension dynamic. Exporter 'auto' tries PyTorch's TorchScript-based exporter first (seconds)
and falls back to the torch.export-based one (needs `onnxscript`; slower to export, but it handles
operators the old one cannot, such as CLIP-Hand3D's adaptive pooling to a non-divisor size).
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from handclip.errors import require_extra
from handclip.timing import images_per_second

PARITY_TOLERANCE = 1e-4
ORT_LEVELS = ("disable", "basic", "extended", "all")


class _TupleOutputs(nn.Module):
    """Wraps an inference model so its outputs are a flat tuple in a fixed order (ONNX needs one)."""

    def __init__(self, model: nn.Module, names: list[str]):
        super().__init__()
        self.model, self.names = model, names

    def forward(self, image):
        out = self.model(image)
        if isinstance(out, dict):
            return tuple(out[n] for n in self.names)
        return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def output_names(model: nn.Module, image: torch.Tensor) -> list[str]:
    """Names of the model's outputs: dict keys, else its `output_names` attribute, else output0, output1, ..."""
    with torch.no_grad():
        out = model(image)
    if isinstance(out, dict):
        return list(out)
    count = len(out) if isinstance(out, (tuple, list)) else 1
    names = list(getattr(model, "output_names", None) or [f"output{i}" for i in range(count)])
    if len(names) != count:
        raise ValueError(f"{type(model).__name__}.output_names has {len(names)} names for {count} outputs")
    return names


def sample_images(size: int, batch: int, seed: int = 0) -> torch.Tensor:
    """A deterministic float batch (B, 3, S, S) in [0, 1] for parity and speed runs."""
    g = torch.Generator().manual_seed(seed)
    return torch.rand(batch, 3, size, size, generator=g)


EXPORTERS = ("auto", "torchscript", "dynamo")


@contextlib.contextmanager
def _quiet_stdout():
    """Send file descriptor 1 (C++ prints included) to /dev/null for the duration."""
    sys.stdout.flush()
    saved, devnull = os.dup(1), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def _export(wrapped: nn.Module, example: torch.Tensor, path: Path, names: list[str], opset: int, dynamo: bool) -> None:
    """One torch.onnx.export call with input 'image' and a dynamic batch axis on every tensor."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecation and tracer warnings; parity is checked afterwards
        if dynamo:
            batch = torch.export.Dim("batch", min=1, max=4096)
            torch.onnx.export(wrapped, (example,), str(path), dynamo=True, input_names=["image"], output_names=names,
                              dynamic_shapes=({0: batch},), opset_version=max(opset, 18), external_data=False,
                              verbose=False)
        else:
            dynamic = {n: {0: "batch"} for n in ["image", *names]}
            torch.onnx.export(wrapped, (example,), str(path), dynamo=False, input_names=["image"], output_names=names,
                              dynamic_axes=dynamic, opset_version=opset, do_constant_folding=True)


def export_onnx(method, path: str | Path, opset: int = 17, exporter: str = "auto") -> tuple[Path, list[str]]:
    """Export method.inference_model() to `path` (input 'image', dynamic batch); returns (path, output names).

    exporter: 'torchscript', 'dynamo', or 'auto' (torchscript, then dynamo where torchscript cannot).
    """
    if exporter not in EXPORTERS:
        raise ValueError(f"exporter must be one of {EXPORTERS}, got {exporter!r}")
    require_extra("export", "ONNX export", "onnx")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model = method.inference_model().eval()
    example = sample_images(int(method.input_size), 2)
    names = output_names(model, example)
    wrapped = _TupleOutputs(model, names).eval()
    if exporter in ("auto", "torchscript"):
        try:
            with _quiet_stdout():  # on failure the exporter prints the whole TorchScript graph
                _export(wrapped, example, path, names, opset, dynamo=False)
            return path, names
        except (torch.onnx.errors.OnnxExporterError, RuntimeError) as err:
            if exporter == "torchscript":
                raise
            print(f"TorchScript ONNX export failed ({type(err).__name__}: {str(err).splitlines()[0][:160]}); "
                  "using the torch.export-based exporter")
    require_extra("export", "the torch.export-based ONNX exporter", "onnxscript")
    _export(wrapped, example, path, names, opset, dynamo=True)
    return path, names


def ort_session(path: str | Path, threads: int | None = None, level: str = "all"):
    """An onnxruntime CPU session with graph optimisation `level` and `threads` intra-op threads."""
    require_extra("export", "the onnxruntime parity check", "onnxruntime")
    import onnxruntime as ort

    if level not in ORT_LEVELS:
        raise ValueError(f"graph optimisation level must be one of {ORT_LEVELS}, got {level!r}")
    opts = ort.SessionOptions()
    opts.graph_optimization_level = {
        "disable": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
        "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
        "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
        "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
    }[level]
    opts.intra_op_num_threads = threads or torch.get_num_threads()
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def parity(method, session, names: list[str], batch: int = 2) -> dict[str, dict[str, float]]:
    """Per output, PyTorch (eager) vs onnxruntime on the same images: 'max_abs' difference and 'max_excess',
    the largest |diff| / (1 + |reference|); parity holds when max_excess <= PARITY_TOLERANCE, i.e. numpy's
    allclose with atol = rtol = 1e-4 (outputs in mm of a deep network differ by float rounding ~1e-6 x value)."""
    images = sample_images(int(method.input_size), batch, seed=1)
    with torch.no_grad():
        ref = _TupleOutputs(method.inference_model().eval(), names)(images)
    got = session.run(names, {"image": images.numpy()})
    out = {}
    for name, r, g in zip(names, ref, got):
        r = r.float().numpy()
        diff = np.abs(r - g)
        out[name] = {"max_abs": float(diff.max(initial=0.0)), "max_excess": float((diff / (1 + np.abs(r))).max(initial=0.0))}
    return out


def parity_ok(diffs: dict[str, dict[str, float]]) -> bool:
    """True when every output of parity() is within PARITY_TOLERANCE (absolute + relative)."""
    return all(d["max_excess"] <= PARITY_TOLERANCE for d in diffs.values())


def compare_speed(method, session, batch: int = 1, min_seconds: float = 2.0, max_iters: int = 50) -> dict:
    """Images/s (wall and CPU clocks, see handclip.timing) of eager PyTorch vs onnxruntime at one batch size,
    same images and thread count; speedup = onnxruntime / eager per clock."""
    images = sample_images(int(method.input_size), batch, seed=2)
    model = method.inference_model().eval()
    feed = {"image": images.numpy()}

    def eager():
        with torch.inference_mode():
            model(images)

    eager_ips = images_per_second(eager, batch, min_seconds, max_iters)
    ort_ips = images_per_second(lambda: session.run(None, feed), batch, min_seconds, max_iters)
    return {"batch": batch, "eager_images_per_s": eager_ips, "onnxruntime_images_per_s": ort_ips,
            "speedup": {clock: ort_ips[clock] / eager_ips[clock] for clock in eager_ips}}

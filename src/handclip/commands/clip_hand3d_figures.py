"""`handclip clip-hand3d-figures`: a CLIP-Hand3D model's logits matrices of one batch (paper Fig. 4/6/10)
and its joint heatmap projections on the xy, xz, yz planes (Fig. 9), each as PNG next to JSON."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from handclip.errors import UserError

HELP = "CLIP-Hand3D figures for one synthetic batch: logits matrices (Fig. 4/6/10) and xy/xz/yz heatmaps (Fig. 9)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", type=Path, help="a clip_hand3d checkpoint (default: an untrained model)")
    parser.add_argument("--config", default="clip_hand3d/cpu", help="config of the untrained model (no --checkpoint)")
    parser.add_argument("--domain", default="source", help="synthetic domain of the batch (source, texture, lowlight)")
    parser.add_argument("--n", type=int, default=8, help="batch size of the logits matrices (default 8, as Fig. 4)")
    parser.add_argument("--rows", type=int, default=4, help="samples shown in the heatmap figure")
    parser.add_argument("--size", type=int, default=256, help="synthetic crop size")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("figures/clip_hand3d"), help="output folder")


def _model(args):
    """The method from a checkpoint, or built untrained from a config."""
    if args.checkpoint is not None:
        from handclip.engine.checkpoint import load_model

        return load_model(args.checkpoint), f"checkpoint {args.checkpoint.name}"
    from handclip.engine.checkpoint import build_method
    from handclip.engine.config import load_config

    return build_method(load_config(args.config)).eval(), f"untrained {args.config}"


def run(args) -> int:
    import numpy as np
    import torch

    from handclip.data import build_dataset, collate
    from handclip.models.mesh_regressor import plane_heatmaps
    from handclip.viz.heatmap_planes import save_heatmap_planes_png
    from handclip.viz.logits import save_logits_png
    from handclip.viz.skeleton2d import draw_skeleton

    model, origin = _model(args)
    if not hasattr(model, "joint_prompts"):
        raise UserError(f"{origin}: not a clip_hand3d model; give a checkpoint trained with method clip_hand3d")
    data = build_dataset("synth", domain=args.domain, n=args.n, size=args.size, seed=args.seed)
    batch = collate([data[i] for i in range(args.n)])
    args.out.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        out = model(model.prepare_batch(batch)[0])
        pred = model.predict(batch)
        report = {"source": origin, "domain": args.domain, "n": args.n}
        if model.matching is not None:
            prompts = model.joint_prompts(batch)
            mats = model.logits_matrices(batch, out, prompts).numpy()
            names = ("M_lr (left to right)", "M_tb (top to bottom)", "M_nf (near to far)")
            png = save_logits_png(args.out / "logits.png", dict(zip(names, mats)), f"CLIP-Hand3D logits, {origin}")
            report["logits"] = {"png": str(png), "matrices": dict(zip(("M_lr", "M_tb", "M_nf"), mats.tolist())),
                                "prompts": {"x": prompts[0], "y": prompts[1], "z": prompts[2]}}
        xy, xz, yz = (p.max(1).values.numpy() for p in plane_heatmaps(out["uvd"], model.codec.bins_xy, model.codec.bins_z))
    rows = min(args.rows, args.n)
    images = [draw_skeleton(batch["image"][i].numpy(), pred["uv"][i].numpy()) for i in range(rows)]
    planes = [{"xy": xy[i], "xz": xz[i], "yz": yz[i]} for i in range(rows)]
    png = save_heatmap_planes_png(args.out / "heatmaps.png", images, planes, f"joint heatmap projections, {origin}")
    report["heatmaps"] = {"png": str(png), "uvd_bins": out["uvd"][:rows].numpy().round(3).tolist()}
    (args.out / "figures.json").write_text(json.dumps(report, indent=1))
    print(json.dumps({k: v["png"] for k, v in report.items() if isinstance(v, dict)}))
    return 0 if np.isfinite(xy).all() else 1

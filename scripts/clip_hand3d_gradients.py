"""Gradient norms of CLIP-Hand3D's weighted loss terms on one small batch of renders, over the first steps.

Shows which term drives which part of the network early in training (docs/clip_hand3d.md, "CLIP warm-up"):
the batch is trained on for --steps Adam steps with the config's learning rate; at each step of --at the
L2 norm of each weighted term's gradient is taken over the whole model, the encoder, the uv head (lixel
x and y) and the depth head (lixel z), beside the unweighted loss values. Prints one JSON document.

    python scripts/clip_hand3d_gradients.py --config clip_hand3d/cpu method.clip_warmup_steps=0 method.clip_detach_steps=0
"""

from __future__ import annotations

import argparse
import json

import torch

from handclip.data import build_dataset, collate
from handclip.engine.checkpoint import build_method
from handclip.engine.config import load_config

# weighted terms measured apart (Eq. 8): names of ClipHand3D.loss_terms summed into each
GROUPS = {"joints": ("joints",), "mesh": ("verts", "normal", "edge"), "consistency": ("c2d", "c3d"), "clip": ("clip",)}


def parts(method) -> dict[str, list[torch.nn.Parameter]]:
    """Parameter groups whose gradient norms are reported."""
    return {
        "all": [p for p in method.parameters() if p.requires_grad],
        "encoder": list(method.encoder.parameters()),
        "uv_head": [*method.lixel.conv_x.parameters(), *method.lixel.conv_y.parameters()],
        "depth_head": [*method.lixel.spread_z.parameters(), *method.lixel.conv_z.parameters()],
    }


def grad_norms(loss: torch.Tensor, groups: dict[str, list]) -> dict[str, float]:
    """L2 norm of d loss / d params over each parameter group (0 where the loss does not reach it)."""
    if not loss.requires_grad:
        return {name: 0.0 for name in groups}
    params = groups["all"]
    grads = torch.autograd.grad(loss, params, retain_graph=True, allow_unused=True)
    by_param = {id(p): g for p, g in zip(params, grads)}
    out = {}
    for name, group in groups.items():
        squares = [by_param[id(p)].pow(2).sum() for p in group if by_param.get(id(p)) is not None]
        out[name] = round(float(torch.stack(squares).sum().sqrt()) if squares else 0.0, 5)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="clip_hand3d/cpu")
    parser.add_argument("--batch", type=int, default=16, help="renders in the batch")
    parser.add_argument("--steps", type=int, default=30, help="Adam steps on the batch")
    parser.add_argument("--at", type=int, nargs="+", default=[0, 5, 10, 20, 29], help="steps whose gradients are measured")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("overrides", nargs="*", help="config overrides key=value")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    config = load_config(args.config, args.overrides)
    method = build_method(config).train()
    size = int(config["data"]["train"].get("size", 256))
    data = build_dataset(name="synth", domain="source", n=args.batch, size=size, seed=0)
    batch = collate([data[i] for i in range(args.batch)])
    lr = float(config["train"]["optimizer"]["lr"])
    optimizer = torch.optim.AdamW(method.parameters(), lr=lr)
    groups, rows = parts(method), []
    for step in range(args.steps):
        terms, weights = method.loss_terms(batch), method.term_weights()
        weighted = {g: sum(weights[k] * terms[k] for k in keys) for g, keys in GROUPS.items()}
        if step in args.at:
            rows.append({"step": step, "clip_weight": weights["clip"],
                         "losses": {k: round(float(v.detach()), 5) for k, v in terms.items()},
                         "grad_norms": {g: grad_norms(v, groups) for g, v in weighted.items()}})
        optimizer.zero_grad()
        sum(weighted.values()).backward()  # the total of training_step, from the same forward pass
        optimizer.step()
        method.clip_steps += 1  # counted as training_step counts
    print(json.dumps({"config": args.config, "overrides": args.overrides, "batch": args.batch, "lr": lr,
                      "method": {k: config["method"].get(k) for k in ("clip_warmup_steps", "clip_detach_steps")},
                      "rows": rows}, indent=1))


if __name__ == "__main__":
    main()

"""The long runs of issue 14 (items 4-5) as commands: every variant x seed trained with the converged CPU recipe,
evaluated on its config's validation domains and on ../shared/realdev.

- dg: DG-CLIP's domain-generalisation experiment on renders (dg_clip/dg_source: trained on the narrow `source`
  domain, judged on unseen ones): baseline, normal augmentation, DG-CLIP with the style CLIP, and its ablations
  (image features only, text only, r = 0.6).
- clip_hand3d: CLIP-Hand3D with the style CLIP's text tower, with and without the CLIP loss; stage 1
  (cpu_joints) once per seed, then stage 2 (cpu) from it; the logits matrices of each stage-2 run as a figure.

Both need the trained style CLIP (`handclip clip-train --config clip/style_cpu --ship style-cpu`). About
35 minutes per DG run and 20 + 20 per CLIP-Hand3D stage on 2 idle cores (the configs' notes): dg with 3 seeds
is 18 runs, about 10.5 hours; clip_hand3d 9 runs, about 3 hours. Finished steps are skipped (a training is
finished when the script wrote its TRAINED marker; an interrupted one is continued with --resume), so the
script picks up after an interruption. Then: python scripts/seeded_table.py (see its docstring).

    python scripts/issue14_experiments.py dg --dry-run
    python scripts/issue14_experiments.py dg --seeds 0 1 2 --runs runs/issue14
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
from pathlib import Path

STYLE_CLIP = ["method.clip=style-cpu"]
EXPERIMENTS = {
    "dg": {"config": "dg_clip/dg_source", "variants": {
        "baseline": ["method.name=dg_clip_baseline"],
        "normal_aug": ["method.name=dg_clip_baseline", "method.normal_aug={p: 0.5}"],
        "dg_clip": STYLE_CLIP,
        "dg_clip_ie": STYLE_CLIP + ["method.clip_mode=ie"],
        "dg_clip_te": STYLE_CLIP + ["method.clip_mode=te"],
        "dg_clip_r0.6": STYLE_CLIP + ["method.ratio=0.6"],
    }},
    "clip_hand3d": {"config": "clip_hand3d/cpu", "stage1": "clip_hand3d/cpu_joints", "variants": {
        "clip": STYLE_CLIP + ["method.clip_width=48"],
        "no_clip": ["method.clip_loss=false"],
    }},
}
REAL = "datasets/realdev"
TRAINED = "TRAINED"  # written into a run folder by this script once its training command has finished


def commands(name: str, seeds: list[int], runs: Path, config: str | None = None,
             variants: list[str] | None = None, stage1: Path | None = None) -> list[tuple[Path, list[str]]]:
    """(file whose presence means done, command) for every step of experiment `name` (its `variants`, all by
    default; `config` in place of the experiment's; `stage1`: one trained stage-1 checkpoint shared by every
    seed instead of a stage 1 per seed), in order."""
    spec, steps = EXPERIMENTS[name], []
    chosen = {v: o for v, o in spec["variants"].items() if variants is None or v in variants}
    for seed in seeds:
        first = stage1
        if "stage1" in spec and stage1 is None:
            folder = runs / name / f"stage1_seed{seed}"
            first = folder / "checkpoints" / "last.pt"
            steps.append((folder / TRAINED,
                          ["handclip", "train", "--config", spec["stage1"], "--out", str(folder), f"train.seed={seed}"]))
        for variant, overrides in chosen.items():
            run = runs / name / f"{variant}_seed{seed}"
            extra = [f"method.init_weights={first}"] if "stage1" in spec else []
            ckpt = str(run / "checkpoints" / "last.pt")
            steps.append((run / TRAINED, ["handclip", "train", "--config", config or spec["config"], "--out",
                                                            str(run), f"train.seed={seed}", *overrides, *extra]))
            steps.append((run / "eval_synth" / "summary.json",
                          ["handclip", "eval", "--checkpoint", ckpt, "--out", str(run / "eval_synth")]))
            steps.append((run / "eval_real" / "summary.json",
                          ["handclip", "eval", "--checkpoint", ckpt, "--config", REAL, "--out", str(run / "eval_real")]))
            if name == "clip_hand3d" and variant == "clip":
                steps.append((run / "figures" / "logits.png",
                              ["handclip", "clip-hand3d-figures", "--checkpoint", ckpt, "--domain", "texture",
                               "--out", str(run / "figures")]))
    return steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("experiment", choices=sorted(EXPERIMENTS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--runs", type=Path, default=Path("runs/issue14"), help="folder of the run folders")
    parser.add_argument("--config", help="recipe in place of the experiment's (e.g. dg_clip/dg_source_128)")
    parser.add_argument("--variants", nargs="+", help="only these variants (all by default)")
    parser.add_argument("--stage1", type=Path, help="clip_hand3d: a trained stage-1 checkpoint shared by every seed")
    parser.add_argument("--threads", type=int, help="CPU threads per command (OMP_NUM_THREADS); 1 runs two at once")
    parser.add_argument("--dry-run", action="store_true", help="print the commands, run nothing")
    args = parser.parse_args()
    unknown = set(args.variants or []) - set(EXPERIMENTS[args.experiment]["variants"])
    if unknown:
        parser.error(f"unknown variants {sorted(unknown)}; choose from {sorted(EXPERIMENTS[args.experiment]['variants'])}")
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads)) if args.threads else None
    for done, cmd in commands(args.experiment, args.seeds, args.runs, args.config, args.variants, args.stage1):
        if done.exists():
            print(f"# done: {shlex.join(cmd)}")
            continue
        if done.name == TRAINED and (done.parent / "checkpoints" / "last.pt").exists():
            cmd = cmd + ["--resume"]  # an interrupted training continues
        print(shlex.join(cmd), flush=True)
        if not args.dry_run:
            subprocess.run(cmd, check=True, env=env)
            if done.name == TRAINED:
                done.write_text("trained\n")


if __name__ == "__main__":
    main()

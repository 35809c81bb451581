"""`handclip clip-train`: train a compact CLIP on captioned renders (configs/clip/*.yaml), check it zero-shot on
held-out renders, and with --ship NAME put it into handclip's shipped CLIPs with its card."""

from __future__ import annotations

import argparse
import json
import shlex
import time
from pathlib import Path

HELP = "train a compact CLIP on captioned renders (e.g. clip/style_cpu); --ship NAME ships it with its card"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", default="clip/style_cpu", help="recipe name in handclip/configs or a YAML path "
                        "(default clip/style_cpu)")
    parser.add_argument("--out", type=Path, help="run folder (default runs/<config name>)")
    parser.add_argument("--resume", action="store_true", help="continue the run in --out from its state.pt")
    parser.add_argument("--overwrite", action="store_true", help="start again in an --out that holds a run")
    parser.add_argument("--ship", metavar="NAME", help="copy the trained CLIP into handclip's shipped CLIPs as NAME")
    parser.add_argument("--force", action="store_true", help="with --ship: replace a shipped CLIP of that name")
    parser.add_argument("--clip-zoo", type=Path, help="folder of shipped CLIPs (default $HANDCLIP_CLIP_ZOO, else the package's)")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's own choice); 1 on a shared "
                        "machine, where idle threads spin: measured 0.6 CPU s per step with 1 thread, 4 with 2")
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="recipe overrides, e.g. train.epochs=2")


def _command(args) -> str:
    """The command line that reproduces this run (for the card)."""
    parts = ["handclip", "clip-train", "--config", args.config, "--ship", args.ship]
    if args.out:
        parts += ["--out", str(args.out)]
    if args.threads is not None:
        parts += ["--threads", str(args.threads)]
    return " ".join(shlex.quote(p) for p in parts + list(args.overrides))


def run(args) -> int:
    from handclip import preflight
    from handclip.clip import card, compact, fit, recipe, shipped
    from handclip.clip.zero_shot import evaluate
    from handclip.errors import UserError
    from handclip.zoo.index import NAME_PATTERN

    import torch

    tic = time.perf_counter()
    config = recipe.load(args.config, args.overrides)
    if args.threads is not None:
        preflight.at_least(args.threads, 1, "--threads")
        torch.set_num_threads(args.threads)
    out = preflight.out_folder(args.out or Path("runs") / Path(args.config).with_suffix("").as_posix().replace("/", "_"))
    if args.ship:
        if not NAME_PATTERN.match(args.ship):
            raise UserError(f"--ship {args.ship!r}: a name of lower-case letters, digits, '_' or '-'")
        if not args.force and any(e["name"] == args.ship for e in shipped.list_clips(args.clip_zoo)):
            raise UserError(f"--ship {args.ship}: a CLIP of that name is shipped already; pass --force to replace it")
    summary = fit.train(config, out, resume=args.resume, overwrite=args.overwrite)
    ev = config["eval"]
    metrics = evaluate(summary["weights"], ev["domain"], ev["n"], config["data"]["size"], ev["seed"])
    (out / "eval.json").write_text(json.dumps(metrics, indent=1) + "\n")
    summary["eval"] = {k: metrics[k] for k in ("hand_color", "color", "background", "chance", "n")}
    summary["wall_s"] = round(time.perf_counter() - tic + summary.pop("earlier_wall_s"), 1)  # all sessions
    if args.ship:
        command = _command(args)
        entry = {"bytes": summary["bytes"], "params": summary["params"], "metrics": summary["eval"], "command": command}
        text = card.render(args.ship, entry, config, command, metrics, ev, summary["wall_s"])
        summary["shipped"] = shipped.ship(summary["weights"], args.ship, text, entry, args.clip_zoo, force=args.force)
        compact.read_header(shipped.resolve(args.ship, args.clip_zoo))  # the shipped copy reads back
    print(json.dumps(summary))
    return 0

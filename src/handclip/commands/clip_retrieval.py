"""`handclip clip-retrieval`: for text queries, the held-out renders a CLIP ranks highest, as a PNG next to JSON."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

HELP = "text query -> top renders of a CLIP (PNG next to JSON), e.g. --query 'a photo of black hand with purple room'"
DEFAULT_QUERIES = ("a photo of dark brown hand with green background", "a photo of pale yellow hand with blue room",
                   "a photo of white hand with flower background", "a photo of purple room")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--clip", default="style-cpu", help="CLIP spec as for clip-eval (default style-cpu)")
    parser.add_argument("--query", action="append", help="a text query (repeat for more rows; default: four examples)")
    parser.add_argument("--k", type=int, default=6, help="renders per query")
    parser.add_argument("--n", type=int, default=300, help="hand renders in the gallery")
    parser.add_argument("--scenes", type=int, default=60, help="hand-free scenes in the gallery")
    parser.add_argument("--domain", default="texture", help="renderer domain of the gallery")
    parser.add_argument("--size", type=int, default=128, help="render size in px")
    parser.add_argument("--seed", type=int, default=90002, help="render seed (the CLIP's training seed is refused)")
    parser.add_argument("--out", type=Path, default=Path("figures/clip"), help="output folder")


def run(args) -> int:
    from handclip import preflight
    from handclip.clip import text_retrieval as tr
    from handclip.clip.towers import load_towers
    from handclip.clip.zero_shot import training_seed
    from handclip.data.synth.domains import get
    from handclip.errors import UserError
    from handclip.viz.save import save_figure

    preflight.at_least(args.k, 1, "--k")
    preflight.at_least(args.n + args.scenes, args.k, "--n + --scenes")
    preflight.out_folder(args.out)
    get(args.domain)
    if training_seed(args.clip) == args.seed:
        raise UserError(f"--seed {args.seed} is the seed CLIP {args.clip!r} was trained on; give another")
    queries = args.query or list(DEFAULT_QUERIES)
    towers = load_towers(args.clip)
    images, codes = tr.gallery(args.domain, args.n, args.scenes, args.size, args.seed)
    hits = tr.search(towers, queries, images, args.k)
    fig = tr.figure(queries, images, codes, hits, title=f"CLIP {args.clip}: text query -> top {args.k} of "
                    f"{len(images)} held-out renders ({args.domain}, seed {args.seed})")
    png = save_figure(fig, args.out / "retrieval.png", palette=True)
    report = {"clip": args.clip, "domain": args.domain, "seed": args.seed, "gallery": len(images), "png": str(png),
              "queries": [{"query": q, "indices": i, "cosine": [round(s, 4) for s in s_], "words": [tr.short_words(codes[j]) for j in i]}
                          for q, (i, s_) in zip(queries, hits)]}
    (args.out / "retrieval.json").write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps({"png": str(png), "json": str(args.out / "retrieval.json")}))
    return 0

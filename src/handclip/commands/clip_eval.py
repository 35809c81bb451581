"""`handclip clip-eval`: zero-shot top-1 accuracy of a CLIP on held-out renders, per word of DG-CLIP's prompts
(hand colour, colour word, background word); the JSON summary is the last line."""

from __future__ import annotations

import argparse
import json

HELP = "zero-shot accuracy of a CLIP on held-out renders: hand colour, colour word, background word (JSON last)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--clip", default="style-cpu", help="a shipped CLIP name, a clip-train .safetensors file, a hub "
                        "id, an HF folder, ViT-B-32.pt or random-tiny (default: style-cpu)")
    parser.add_argument("--n", type=int, default=300, help="renders (default 300)")
    parser.add_argument("--domain", default="texture", help="renderer domain (default texture: every word equally likely)")
    parser.add_argument("--size", type=int, default=128, help="render size in px (default 128)")
    parser.add_argument("--seed", type=int, default=90001, help="render seed; the CLIP's training seed is refused")
    parser.add_argument("--json", action="store_true", help="print only the JSON summary")


def run(args) -> int:
    from handclip import preflight
    from handclip.clip.zero_shot import evaluate
    from handclip.data.synth.domains import get

    preflight.at_least(args.n, 1, "--n")
    preflight.at_least(args.size, 32, "--size")
    get(args.domain)
    result = evaluate(args.clip, args.domain, args.n, args.size, args.seed)
    if not args.json:
        print(f"CLIP {args.clip}: zero-shot top-1 on {result['n']} {args.domain} renders (seed {args.seed})")
        for key in ("hand_color", "color", "background"):
            print(f"  {key:<11} {result[key]:.3f}   chance {result['chance'][key]:.3f}")
    print(json.dumps(result))
    return 0

"""`handclip synth`: render a synthetic domain to disk (images, annotations.json, contact_sheet.png)."""

from __future__ import annotations

import argparse

HELP = "render N synthetic hand crops or full frames of a domain to a folder with a contact sheet"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `handclip synth`."""
    parser.add_argument("--domain", default="source",
                        help="domain preset: source, texture, lowlight, harsh, webcam, sleeve_clutter (docs/renderer)")
    parser.add_argument("--frame", choices=["crop", "full"], default="crop",
                        help="crop: one right hand framed like FreiHAND; full: one or two hands, left or right, with "
                             "boxes, in a whole frame (for a hand detector)")
    parser.add_argument("--n", type=int, required=True, help="number of images")
    parser.add_argument("--out", required=True, help="output folder (created)")
    parser.add_argument("--size", type=int, default=None,
                        help="crop size in pixels (default 224: CLIP-Hand3D; 256 DG-CLIP), or with --frame full the "
                             "frame width, 320-640 (default 480; height 3/4 of it)")
    parser.add_argument("--seed", type=int, default=0, help="images are a pure function of (domain, seed, index)")
    parser.add_argument("--side", choices=["right", "left", "both"], default=None,
                        help="hands of this side (default: right for crops, both for full frames)")
    parser.add_argument("--workers", type=int, default=0, help="rendering processes besides the main one")
    parser.add_argument("--style", action="append", default=[], metavar="COLUMN=WORD",
                        help="fix a style word instead of drawing it, e.g. --style color=flower --style "
                             "'hand_color=dark brown' (columns hand_color, color, background; DG-CLIP's words)")


def run(args) -> int:
    """Render and export; the heavy imports stay here so `handclip --help` is fast."""
    from handclip import preflight
    from handclip.data.synth.dataset import SynthHands
    from handclip.data.synth.full import SynthFrames
    from handclip.data.synth.export import ANNOTATIONS, CONTACT_SHEET, export
    from handclip.errors import UserError

    style = {}
    for item in args.style:
        column, sep, word = item.partition("=")
        if not sep:
            raise UserError(f"--style {item!r}: give COLUMN=WORD, e.g. --style color=flower")
        style[column.strip()] = word.strip()
    try:  # the export records z-buffer visibility; readers choose valid="all" (default) or "visible"
        if args.frame == "full":
            dataset = SynthFrames(domain=args.domain, n=args.n, width=args.size or 480, seed=args.seed,
                                  side=args.side or "both", valid="visible", style=style)
        else:
            dataset = SynthHands(domain=args.domain, n=args.n, size=args.size or 224, seed=args.seed,
                                 side=args.side or "right", valid="visible", style=style)
    except (KeyError, ValueError) as e:  # unknown domain or style word: the message lists the known ones
        raise UserError(str(e).strip('"')) from None
    out = preflight.out_folder(args.out)
    if (out / ANNOTATIONS).exists():
        raise UserError(f"--out {out}: already holds a rendered set ({ANNOTATIONS}); give another --out or delete "
                        f"the folder first")
    preflight.at_least(args.workers, 0, "--workers")
    path = export(dataset, args.out, workers=args.workers)
    print(f"wrote {args.n} images, {path} and {path.parent / CONTACT_SHEET}")
    return 0

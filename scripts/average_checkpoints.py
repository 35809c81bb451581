"""Average the weights of several checkpoints of one run (the tail of its trajectory) into one checkpoint.

handclip.engine.average: floating tensors averaged, integer ones and the config from the last checkpoint; the file
holds no optimizer, so it initialises a run (`method.init_weights=...`) or is evaluated, not resumed.

    python scripts/average_checkpoints.py RUN/checkpoints/epoch_007.pt ... RUN/checkpoints/epoch_012.pt --out AVG.pt
    python scripts/average_checkpoints.py clip_hand3d_cpu_both RUN/checkpoints/epoch_0{07,...,12}.pt --weights 12 1 1 1 1 1 1 --keep-last matching. --out AVG.pt
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from handclip.engine.average import write_average
from handclip.engine.checkpoint import CheckpointError


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoints", nargs="+", type=Path, help="checkpoints (.pt) of one run, the last one's config kept; "
                        "the others may be packed models (.safetensors) or shipped models' names")
    parser.add_argument("--keep-last", nargs="+", default=(), metavar="PREFIX",
                        help="weights named so are the last checkpoint's, unaveraged (e.g. matching.)")
    parser.add_argument("--weights", nargs="+", type=float, help="one positive weight per checkpoint (default: equal)")
    parser.add_argument("--out", type=Path, required=True, help="the averaged checkpoint (.pt); never overwritten")
    args = parser.parse_args()
    try:
        out = write_average(args.checkpoints, args.out, args.weights, tuple(args.keep_last))
    except CheckpointError as err:
        print(f"average_checkpoints: {err}", file=sys.stderr)
        return 1
    print(f"wrote {out}: the {'weighted ' if args.weights else ''}mean of {len(args.checkpoints)} checkpoints")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Model cards: the skeleton `handclip pack` writes beside a shipped model, for its author to complete.

A template is Markdown with {field} slots (see FIELDS); what only the author knows is left as 'TODO'
lines, and the shipped-zoo test fails while any card still holds one. The line '- Parameters: N' is
read back by the tests (PARAMS_LINE) and must match the weights.
"""

from __future__ import annotations

import re
from pathlib import Path

from handclip.zoo.index import ZooError

FIELDS = ("name", "method", "params", "file", "config", "dtype", "size_mb", "fp16_diff", "tolerance", "step",
          "epoch", "checkpoint", "metrics")
PARAMS_LINE = re.compile(r"^- Parameters: ([\d,]+)", re.MULTILINE)
SKIPPED_SUFFIXES = ("_median",)  # summary keys left out of the card's table (AUCs too)

DEFAULT_TEMPLATE = """# {name}

- Method: `{method}`
- Parameters: {params:,}
- Weights: `{file}` ({dtype}, {size_mb:.2f} MB); float16 weights change the outputs by at most {fp16_diff:.3g}
  (mm for joints, px for keypoints) on a fixed batch, tolerance {tolerance:g}
- Config: `{config}` (the resolved training config)
- Trained for {step} steps ({epoch} epochs); packed from `{checkpoint}`

## Use

    handclip predict IMAGE --checkpoint {name}
    handclip eval --checkpoint {name} --dataset NAME --root PATH

## Data

TODO: training data (renderer domains, number of samples, augmentation) and held-out sets.

## Recipe

TODO: the config it was trained from and the exact command that reproduces it, with wall time and machine.

## Metrics

{metrics}

TODO: the mean pose's numbers on the same sets, and where the targets of issue 12 are met or missed.

## Limits

TODO: what the model does not handle (left hands are mirrored; crops must come from a hand box; ...).
"""


def metrics_table(metrics: dict) -> str:
    """A Markdown table of {label: {'protocol', 'num_samples', 'metrics': {key: value}}}, one row per set."""
    if not metrics:
        return "TODO: no evaluation given to handclip pack (--metrics SUMMARY.json from handclip eval)."
    keys = list(dict.fromkeys(k for m in metrics.values() for k in m["metrics"]
                              if "_auc_" not in k and not k.endswith(SKIPPED_SUFFIXES)))
    lines = ["| set | protocol | samples | " + " | ".join(keys) + " |", "|---" * (3 + len(keys)) + "|"]
    for label, m in metrics.items():
        values = [f"{m['metrics'][k]:.2f}" if k in m["metrics"] else "" for k in keys]
        lines.append(f"| {label} | {m.get('protocol', '')} | {m.get('num_samples', '')} | " + " | ".join(values) + " |")
    return "\n".join(lines)


def render_card(fields: dict, template: str | Path | None = None) -> str:
    """The card text: `template` (a file path, default DEFAULT_TEMPLATE) filled with `fields`."""
    if template is not None and not Path(template).is_file():
        raise ZooError(f"{template}: card template not found")
    text = DEFAULT_TEMPLATE if template is None else Path(template).read_text()
    try:
        return text.format_map({**fields, "metrics": metrics_table(fields.get("metrics") or {})})
    except (KeyError, ValueError, IndexError) as err:
        raise ZooError(f"{template}: card template has a bad slot {err}; known fields: {', '.join(FIELDS)}") from None


def card_parameters(text: str) -> int | None:
    """The parameter count a card states on its '- Parameters: N' line (None when absent)."""
    match = PARAMS_LINE.search(text)
    return None if match is None else int(match.group(1).replace(",", ""))

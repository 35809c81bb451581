"""DG-CLIP's style prompts (paper Table 2 = supplement Table 3): "<head> <hand colour> <hand> <colour> <background>".

The word lists are kept exactly as printed: 7 heads x 7 hand colours x 2 hand words x 20 colour words
x 2 background words = 3,920 combinations, the number the paper counts. The printed colour column holds
"yellow" twice, so only 3,724 sentences are distinct. Sampling is uniform over the distinct sentences:
sampling the combinations instead would give the "yellow" sentences twice the weight of every other
colour, a bias the paper does not describe. Supplement Table 4's 35 examples are all among them.
"""

from __future__ import annotations

import itertools

import torch

HEADS = ("a cropped image of", "a image of", "a cropped photo of", "a picture of", "one", "a photo of",
         "a photo of right")
HAND_COLORS = ("white", "dark brown", "peach", "brown", "pale yellow", "light beige", "black")
HANDS = ("hand with", "right hand with")
# the two printed colour columns, read column by column ("yellow" appears twice in the second)
COLORS = ("mountain", "bright", "green", "white", "sky blue", "orange", "blue", "gray", "pink", "dotted",
          "lake", "dark", "purple", "yellow", "black", "red", "yellow", "beige", "brown", "flower")
BACKGROUNDS = ("room", "background")
COLUMNS = (HEADS, HAND_COLORS, HANDS, COLORS, BACKGROUNDS)


def sentence(head: str, hand_color: str, hand: str, color: str, background: str) -> str:
    """One prompt from one word of each column."""
    return f"{head} {hand_color} {hand} {color} {background}"


def combinations() -> list[tuple[str, ...]]:
    """All 3,920 word combinations, in table order."""
    return list(itertools.product(*COLUMNS))


def distinct_sentences() -> list[str]:
    """The 3,724 distinct prompts, in order of first appearance among the combinations."""
    return list(dict.fromkeys(sentence(*c) for c in combinations()))


def sample_indices(n: int, num_sentences: int, generator: torch.Generator | None = None,
                   device: torch.device | str = "cpu") -> torch.Tensor:
    """n indices drawn uniformly (with replacement) from range(num_sentences): one prompt per image."""
    return torch.randint(num_sentences, (n,), generator=generator).to(device)

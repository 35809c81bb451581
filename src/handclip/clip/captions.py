"""Captions of renders in the grammar of DG-CLIP's prompts (supplement Table 3), written from a render's true words.

A hand render with style {'hand_color', 'color', 'background'} gets "<head> <hand colour> <hand> <colour>
<background>" with a head and a hand word drawn afresh each time (the renders are right hands, so "hand" and
"right hand" are both true), i.e. one of the 3,724 distinct sentences DG-CLIP samples. A hand-free scene
(no 'hand_color') drops the hand columns: "<head> <colour> <background>", e.g. "a photo of purple room"; the
head "a photo of right" speaks of a hand and is not used there.
"""

from __future__ import annotations

import numpy as np

from handclip.clip.style_prompts import BACKGROUNDS, HANDS, HEADS, distinct_sentences, sentence
from handclip.data.synth.words import COLOR_WORDS

SCENE_HEADS = tuple(h for h in HEADS if not h.endswith(" right"))


def scene_sentence(head: str, color: str, background: str) -> str:
    """A hand-free scene's caption."""
    return f"{head} {color} {background}"


def scene_sentences() -> list[str]:
    """Every hand-free caption (6 heads x 19 colour words x 2 contexts)."""
    return [scene_sentence(h, c, b) for h in SCENE_HEADS for c in COLOR_WORDS for b in BACKGROUNDS]


def all_captions() -> list[str]:
    """Every caption a render can get: DG-CLIP's 3,724 distinct sentences, then the hand-free ones."""
    return distinct_sentences() + scene_sentences()


def caption(words: dict, rng: np.random.Generator) -> str:
    """A true caption of a render's words, head (and hand word) drawn from `rng`; no 'hand_color': a scene."""
    if words.get("hand_color") is None:
        return scene_sentence(SCENE_HEADS[rng.integers(len(SCENE_HEADS))], words["color"], words["background"])
    return sentence(HEADS[rng.integers(len(HEADS))], words["hand_color"], HANDS[rng.integers(len(HANDS))],
                    words["color"], words["background"])

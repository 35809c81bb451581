"""The renderer's style vocabulary: DG-CLIP's prompt words (supplement Table 3), one source of truth.

A sample's `style` is {'hand_color': one of HAND_COLORS, 'color': one of COLOR_WORDS, 'background': one
of CONTEXTS}; the words are taken from handclip.clip.style_prompts, so a prompt written from a render's
style is one of DG-CLIP's sentences. What each word means in a render: docs/renderer/README.md.
"""

from __future__ import annotations

from handclip.clip import style_prompts

HAND_COLORS = style_prompts.HAND_COLORS  # 7 skin colours
COLOR_WORDS = tuple(dict.fromkeys(style_prompts.COLORS))  # 19 distinct ("yellow" is printed twice)
CONTEXTS = style_prompts.BACKGROUNDS  # 'room' (a furnished room) or 'background' (a backdrop)
VOCABULARY = {"hand_color": HAND_COLORS, "color": COLOR_WORDS, "background": CONTEXTS}


def check(key: str, word: str) -> str:
    """`word` if it is a known word of style column `key`, else a ValueError listing the known words."""
    if key not in VOCABULARY:
        raise ValueError(f"unknown style column {key!r}; known: {sorted(VOCABULARY)}")
    if word not in VOCABULARY[key]:
        raise ValueError(f"unknown {key} word {word!r}; known: {list(VOCABULARY[key])}")
    return word

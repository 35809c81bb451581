"""CLIP's BPE tokenizer built offline from the vocabulary shipped in handclip/assets/clip/."""

from __future__ import annotations

import gzip
from functools import lru_cache
from importlib import resources

# The merge file's first line is a header; CLIP uses the next 49152 - 256 - 2 merges.
_NUM_MERGES = 49152 - 256 - 2


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2/CLIP byte -> printable character table, in CLIP's order: printable bytes first, then the rest
    mapped to 256, 257, ...; this order fixes the ids of the 512 single-character tokens."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    table = {b: chr(b) for b in keep}
    for extra, b in enumerate(b for b in range(256) if b not in table):
        table[b] = chr(256 + extra)
    return table


def vocab_and_merges() -> tuple[dict[str, int], list[tuple[str, str]]]:
    """CLIP's 49,408-token vocabulary and BPE merges read from the packaged bpe_simple_vocab_16e6.txt.gz."""
    path = resources.files("handclip") / "assets" / "clip" / "bpe_simple_vocab_16e6.txt.gz"
    if not path.is_file():
        raise FileNotFoundError(f"CLIP BPE vocabulary missing: {path} (reinstall handclip with its assets)")
    with path.open("rb") as fh:
        lines = gzip.decompress(fh.read()).decode("utf-8").split("\n")
    merges = [tuple(line.split()) for line in lines[1 : 1 + _NUM_MERGES]]
    chars = list(_bytes_to_unicode().values())
    tokens = chars + [c + "</w>" for c in chars] + ["".join(m) for m in merges] + ["<|startoftext|>", "<|endoftext|>"]
    return {tok: i for i, tok in enumerate(tokens)}, merges


@lru_cache(maxsize=1)
def build_tokenizer():
    """transformers CLIPTokenizer built in memory (no hub access); shared by real and random towers."""
    from transformers import CLIPTokenizer

    vocab, merges = vocab_and_merges()
    return CLIPTokenizer(vocab=vocab, merges=merges)

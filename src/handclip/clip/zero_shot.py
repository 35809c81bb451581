"""Zero-shot reading of a render's words by a CLIP: per attribute, top-1 accuracy against the true style.

Every image is scored against DG-CLIP's 3,724 distinct prompts; an attribute's class score is the log of the
summed softmax probability of the prompts stating that class (the other columns marginalised), and its
prediction the best class. Renders come from a seed the CLIP never saw (`handclip clip-eval`).
"""

from __future__ import annotations

import numpy as np
import torch
from tqdm import tqdm

from handclip.clip.caption_cache import COLUMNS, encode_words
from handclip.clip.feature_figures import image_features
from handclip.clip.style_prompts import combinations, sentence
from handclip.data.synth.words import VOCABULARY


def prompt_table() -> tuple[list[str], np.ndarray]:
    """The distinct style prompts and their word codes (S, 3) in handclip.clip.caption_cache.COLUMNS order."""
    table: dict[str, tuple[int, ...]] = {}
    for head, hand_color, hand, color, background in combinations():
        words = {"hand_color": hand_color, "color": color, "background": background}
        table.setdefault(sentence(head, hand_color, hand, color, background), encode_words(words))
    return list(table), np.array(list(table.values()))


def attribute_scores(image_feats: torch.Tensor, text_feats: torch.Tensor, codes: np.ndarray,
                     scale: float) -> dict[str, torch.Tensor]:
    """{attribute: (N, K) log-probabilities of its K classes} from unit features and the prompts' codes."""
    logp = torch.log_softmax(scale * image_feats @ text_feats.T, dim=1)
    out = {}
    for j, key in enumerate(COLUMNS):
        column = torch.as_tensor(codes[:, j])
        out[key] = torch.stack([torch.logsumexp(logp[:, column == c], dim=1) for c in range(len(VOCABULARY[key]))], 1)
    return out


def render_eval_set(domain: str, n: int, size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n right-hand renders (n, S, S, 3) of `domain` and seed and their word codes (n, 3)."""
    from handclip.data.synth.dataset import SynthHands

    renders = SynthHands(domain=domain, n=n, size=size, seed=seed)
    images, codes = [], []
    for i in tqdm(range(n), desc=f"render {domain} seed {seed}", unit="img", leave=False):
        sample = renders[i]
        images.append(sample["image"])
        codes.append(encode_words(sample["style"]))
    return np.stack(images), np.array(codes)


@torch.no_grad()
def accuracy(towers, images: np.ndarray, codes: np.ndarray, cache_dir=None) -> dict:
    """{'hand_color', 'color', 'background': top-1 accuracy, 'chance': 1/K each, 'majority': the most frequent
    class's share in this sample, 'n'} of towers on uint8 images with their true word codes."""
    from handclip.clip.text_cache import text_features

    sentences, prompt_codes = prompt_table()
    text = text_features(towers, sentences, cache_dir=cache_dir)
    feats = image_features(towers, images)
    scores = attribute_scores(feats, text, prompt_codes, float(towers.model.logit_scale.exp()))
    out = {}
    for j, key in enumerate(COLUMNS):
        out[key] = round(float((scores[key].argmax(1).numpy() == codes[:, j]).mean()), 4)
    out["chance"] = {k: round(1 / len(VOCABULARY[k]), 4) for k in COLUMNS}
    out["majority"] = {k: round(float(np.bincount(codes[:, j]).max() / len(codes)), 4) for j, k in enumerate(COLUMNS)}
    out["n"] = int(len(images))
    return out


def training_seed(spec: str) -> int | None:
    """The render seed a CLIP of handclip's own (a shipped name or a clip-train .safetensors) was trained on;
    None for other CLIPs."""
    from handclip.clip import compact, shipped

    if str(spec).endswith(".safetensors"):
        path = spec
    elif not str(spec).startswith("random-") and shipped.is_name(spec):
        path = shipped.resolve(spec)
    else:
        return None
    return compact.read_header(path)["info"].get("data", {}).get("seed")


def evaluate(spec: str, domain: str = "texture", n: int = 300, size: int = 128, seed: int = 90001,
             cache_dir=None) -> dict:
    """accuracy() of CLIP `spec` (any handclip.clip.towers.load_towers spec) on n held-out renders; a seed the
    CLIP was trained on is refused."""
    from handclip.clip.towers import load_towers

    trained = training_seed(spec)
    if trained is not None and int(trained) == int(seed):
        raise ValueError(f"--seed {seed} is the seed CLIP {spec!r} was trained on; give another (held-out renders)")
    towers = load_towers(spec)
    images, codes = render_eval_set(domain, n, size, seed)
    return {"clip": str(spec), "domain": domain, "seed": int(seed), **accuracy(towers, images, codes, cache_dir)}

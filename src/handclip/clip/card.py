"""The card of a CLIP trained by `handclip clip-train`: what it is, its data, the command that reproduces it, its
zero-shot accuracy on held-out renders and its limits, all filled in from the run (nothing left to write by hand)."""

from __future__ import annotations

import os
import platform


def accuracy_table(metrics: dict) -> str:
    """Markdown rows: attribute, top-1, chance, majority share."""
    rows = ["| attribute | top-1 | chance (1/K) | most frequent class |", "|---|---|---|---|"]
    for key in ("hand_color", "color", "background"):
        rows.append(f"| {key} | {metrics[key]:.3f} | {metrics['chance'][key]:.3f} | {metrics['majority'][key]:.3f} |")
    return "\n".join(rows)


def render(name: str, entry: dict, config: dict, command: str, metrics: dict, eval_spec: dict, wall_s: float) -> str:
    """The card text of shipped CLIP `name` (entry: bytes, params; config: the resolved recipe)."""
    clip, data, train = config["clip"], config["data"], config["train"]
    vision, text = clip["vision"], clip["text"]
    domains = ", ".join(f"{k} {v}" for k, v in data["domains"].items())
    return f"""# {name}: a compact CLIP that knows the renders' words

- Architecture: transformers `CLIPModel`; image tower ViT {vision['hidden_size']} wide x {vision['num_hidden_layers']} layers
  at {clip['image_size']} px, patch {clip['patch_size']}; text tower {text['hidden_size']} wide x {text['num_hidden_layers']}
  layers over CLIP's BPE tokenizer (49,408 tokens, shipped in handclip/assets/clip); features {clip['projection_dim']}-d
- Parameters: {entry['params']:,}
- Weights: `{name}.safetensors` (float16, {entry['bytes'] / 1e6:.2f} MB); loaded back to float32

## Use

    handclip train --config dg_clip/cpu method.clip={name}
    handclip train --config clip_hand3d/cpu method.clip={name} method.clip_width={text['hidden_size']}
    handclip clip-eval --clip {name}

## Data

{data['hands']} right-hand renders and {data['scenes']} hand-free scenes (`handclip.data.synth.scenery`) at
{data['size']} px, domain weights {domains}, seed {data['seed']}, rendered once into a cache. Each step captions
every image afresh from its true words in the grammar of DG-CLIP's Table 3 ("a photo of right peach hand with
purple room"; scenes "a photo of purple room"), crops {data['crop'][0]}-{data['crop'][1]} of the side at random.

## Recipe

    {command}

{train['epochs']} epochs of batch {train['batch_size']}, {train['optimizer']['name']} at {train['optimizer']['lr']},
{train['scheduler']['name']} schedule; symmetric InfoNCE with every same-words pair of a batch a positive
(handclip.clip.contrastive). {wall_s / 60:.1f} minutes in all (rendering, training, evaluation) on
{platform.machine()} with {os.cpu_count()} CPUs.

## Zero-shot on held-out renders

{metrics['n']} renders of domain `{eval_spec['domain']}`, seed {eval_spec['seed']} (training used seed {data['seed']});
each attribute read by marginalising the 3,724 style prompts (handclip.clip.zero_shot):

{accuracy_table(metrics)}

## Limits

Trained on renders only: it knows the renderer's skin tones, backdrops, rooms and cameras, not real photographs.
Its vocabulary is Table 3's; other words (joint names of CLIP-Hand3D's prompts, say) pass through token
embeddings that never trained. Right hands only ("right hand" is always true in its captions).
"""

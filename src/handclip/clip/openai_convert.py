"""Rename OpenAI's original CLIP state dict (ViT-B-32.pt) to the layout of transformers' CLIPModel."""

from __future__ import annotations

import re

import torch

# OpenAI name (after the tower prefix) -> HF name, for one residual block
_BLOCK = {
    "ln_1": "layer_norm1",
    "ln_2": "layer_norm2",
    "mlp.c_fc": "mlp.fc1",
    "mlp.c_proj": "mlp.fc2",
    "attn.out_proj": "self_attn.out_proj",
}
_TOP = {
    "visual.class_embedding": "vision_model.embeddings.class_embedding",
    "visual.conv1.weight": "vision_model.embeddings.patch_embedding.weight",
    "visual.positional_embedding": "vision_model.embeddings.position_embedding.weight",
    "visual.ln_pre.weight": "vision_model.pre_layrnorm.weight",
    "visual.ln_pre.bias": "vision_model.pre_layrnorm.bias",
    "visual.ln_post.weight": "vision_model.post_layernorm.weight",
    "visual.ln_post.bias": "vision_model.post_layernorm.bias",
    "token_embedding.weight": "text_model.embeddings.token_embedding.weight",
    "positional_embedding": "text_model.embeddings.position_embedding.weight",
    "ln_final.weight": "text_model.final_layer_norm.weight",
    "ln_final.bias": "text_model.final_layer_norm.bias",
    "logit_scale": "logit_scale",
}
# OpenAI keeps projections as (in, out) matrices used as x @ P; HF Linear weights are (out, in)
_PROJ = {"visual.proj": "visual_projection.weight", "text_projection": "text_projection.weight"}
_SKIP = {"input_resolution", "context_length", "vocab_size"}
_BLOCK_RE = re.compile(r"^(visual\.)?transformer\.resblocks\.(\d+)\.(.+?)[._](weight|bias)$")  # in_proj_weight has "_"


def openai_to_hf_state_dict(state: dict[str, torch.Tensor], source: str = "checkpoint") -> dict[str, torch.Tensor]:
    """Map every tensor of an OpenAI CLIP state dict to its CLIPModel name; fused q/k/v are split in three."""
    out: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        if key in _SKIP:
            continue
        if key in _TOP:
            out[_TOP[key]] = value
        elif key in _PROJ:
            out[_PROJ[key]] = value.t().contiguous()
        elif m := _BLOCK_RE.match(key):
            visual, layer, name, kind = m.groups()
            prefix = f"{'vision_model' if visual else 'text_model'}.encoder.layers.{layer}"
            if name == "attn.in_proj":
                for part, chunk in zip(("q_proj", "k_proj", "v_proj"), value.chunk(3, dim=0)):
                    out[f"{prefix}.self_attn.{part}.{kind}"] = chunk.contiguous()
            elif name in _BLOCK:
                out[f"{prefix}.{_BLOCK[name]}.{kind}"] = value
            else:
                raise ValueError(f"{source}: unexpected CLIP tensor {key!r}")
        else:
            raise ValueError(f"{source}: unexpected CLIP tensor {key!r} (not an OpenAI ViT CLIP checkpoint?)")
    return out

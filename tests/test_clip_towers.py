"""Frozen CLIP towers: the offline tokenizer, shapes, frozen state, weight hash, loading errors, conversion."""

import pytest
import torch

from handclip.clip.openai_convert import openai_to_hf_state_dict
from handclip.clip.text_cache import text_features
from handclip.clip.tokenizer import build_tokenizer
from handclip.clip.towers import CLIPTowers


@pytest.fixture(scope="module")
def towers():
    return CLIPTowers.random("tiny", seed=0)


def test_tokenizer_matches_clip_ids():
    tok = build_tokenizer()
    assert len(tok) == 49408
    assert tok("a picture of")["input_ids"] == [49406, 320, 1674, 539, 49407]


def test_shapes_and_frozen(towers):
    texts = ["a picture of peach hand with sky blue background", "one hand"]
    assert tuple(towers.encode_image(torch.rand(2, 3, 256, 256)).shape) == (2, 512)
    feats = towers.encode_text(texts)
    assert tuple(feats.shape) == (2, 512)
    assert torch.allclose(feats.norm(dim=-1), torch.ones(2), atol=1e-5)
    tokens, mask = towers.text_token_features(texts)
    assert tokens.shape[:2] == mask.shape and tokens.shape[-1] == 32
    assert mask.sum(1).tolist() == [len(build_tokenizer()(t)["input_ids"]) for t in texts]
    assert not any(p.requires_grad for p in towers.parameters())
    towers.train()
    assert not towers.training and not towers.model.training
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        towers.encode_image(torch.rand(2, 256, 256, 3))


def test_weight_hash_tracks_weights():
    a, b, c = CLIPTowers.random("tiny", 0), CLIPTowers.random("tiny", 0), CLIPTowers.random("tiny", 1)
    assert a.weights_hash() == b.weights_hash() != c.weights_hash()


def test_text_feature_cache(tmp_path, towers):
    sentences = ["one white hand with orange room", "a photo of black hand with lake background"]
    first = text_features(towers, sentences, cache_dir=tmp_path)
    files = list((tmp_path / "clip_text").glob("*.pt"))
    assert len(files) == 1
    torch.save(first * 0 + 7, files[0])  # a cached file is read back, not recomputed
    assert torch.equal(text_features(towers, sentences, cache_dir=tmp_path), first * 0 + 7)
    files[0].write_bytes(b"truncated")  # a corrupt file is recomputed
    assert torch.allclose(text_features(towers, sentences, cache_dir=tmp_path), first)


def test_missing_weights_name_the_problem(tmp_path):
    with pytest.raises(FileNotFoundError, match="config.json"):
        CLIPTowers.from_pretrained(str(tmp_path))
    with pytest.raises(FileNotFoundError, match="ViT-B-32.pt"):
        CLIPTowers.from_pretrained(str(tmp_path / "ViT-B-32.pt"))


def _to_openai_layout(hf: dict) -> dict:
    """OpenAI's names for a CLIPModel state dict, written out independently of the converter."""
    out = {}
    for prefix, tower in (("vision_model", "visual."), ("text_model", "")):
        layers = sorted({int(k.split(".")[3]) for k in hf if k.startswith(f"{prefix}.encoder.layers.")})
        for i in layers:
            src, dst = f"{prefix}.encoder.layers.{i}", f"{tower}transformer.resblocks.{i}"
            for kind in ("weight", "bias"):
                out[f"{dst}.attn.in_proj_{kind}"] = torch.cat([hf[f"{src}.self_attn.{p}_proj.{kind}"] for p in "qkv"])
                out[f"{dst}.attn.out_proj.{kind}"] = hf[f"{src}.self_attn.out_proj.{kind}"]
                out[f"{dst}.ln_1.{kind}"] = hf[f"{src}.layer_norm1.{kind}"]
                out[f"{dst}.ln_2.{kind}"] = hf[f"{src}.layer_norm2.{kind}"]
                out[f"{dst}.mlp.c_fc.{kind}"] = hf[f"{src}.mlp.fc1.{kind}"]
                out[f"{dst}.mlp.c_proj.{kind}"] = hf[f"{src}.mlp.fc2.{kind}"]
    for kind in ("weight", "bias"):
        out[f"visual.ln_pre.{kind}"] = hf[f"vision_model.pre_layrnorm.{kind}"]
        out[f"visual.ln_post.{kind}"] = hf[f"vision_model.post_layernorm.{kind}"]
        out[f"ln_final.{kind}"] = hf[f"text_model.final_layer_norm.{kind}"]
    out["visual.class_embedding"] = hf["vision_model.embeddings.class_embedding"]
    out["visual.conv1.weight"] = hf["vision_model.embeddings.patch_embedding.weight"]
    out["visual.positional_embedding"] = hf["vision_model.embeddings.position_embedding.weight"]
    out["visual.proj"] = hf["visual_projection.weight"].t()
    out["token_embedding.weight"] = hf["text_model.embeddings.token_embedding.weight"]
    out["positional_embedding"] = hf["text_model.embeddings.position_embedding.weight"]
    out["text_projection"] = hf["text_projection.weight"].t()
    out["logit_scale"] = hf["logit_scale"]
    out["input_resolution"] = torch.tensor(224)
    return out


def test_openai_conversion_restores_every_tensor(towers):
    hf = {k: v for k, v in towers.model.state_dict().items() if not k.endswith("position_ids")}
    converted = openai_to_hf_state_dict(_to_openai_layout(hf))
    assert set(converted) == set(hf)
    assert all(torch.equal(converted[k], hf[k]) for k in hf)
    with pytest.raises(ValueError, match="unexpected CLIP tensor"):
        openai_to_hf_state_dict({"visual.unknown": torch.zeros(1)}, source="x.pt")

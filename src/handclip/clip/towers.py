"""Frozen CLIP image and text towers (ViT-B/32 architecture through HF transformers), shared by both methods.

Weights come from a hub id, a local HF directory, or OpenAI's original `ViT-B-32.pt`; from a compact CLIP
trained here on captioned renders (`handclip clip-train`: a shipped name such as 'style-cpu' or its
.safetensors file, handclip.clip.compact); tests use `CLIPTowers.random`, randomly initialised towers with
the real tokenizer. The towers never
train: parameters have requires_grad=False, the module stays in eval mode, encoders run under no_grad.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from handclip.clip.tokenizer import build_tokenizer

# CLIP's image normalisation (OpenAI preprocessing)
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
DEFAULT_HUB_ID = "openai/clip-vit-base-patch32"

# widths/depths of the random towers; 'base' is ViT-B/32 (text 512x12, vision 768x12, projection 512)
_SIZES = {
    "base": dict(text=dict(hidden_size=512, intermediate_size=2048, num_hidden_layers=12, num_attention_heads=8),
                 vision=dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12)),
    "tiny": dict(text=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2),
                 vision=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2)),
}


def clip_config(text: dict, vision: dict, image_size: int = 224, patch_size: int = 32, projection_dim: int = 512):
    """CLIPConfig of the given tower widths and depths; token ids and vocabulary are always CLIP's (49,408
    tokens, 77 positions), so every tower reads the shipped BPE tokenizer."""
    from transformers import CLIPConfig

    text = dict(vocab_size=49408, max_position_embeddings=77, projection_dim=projection_dim, hidden_act="quick_gelu",
                pad_token_id=1, bos_token_id=49406, eos_token_id=49407, **text)
    vision = dict(image_size=image_size, patch_size=patch_size, projection_dim=projection_dim, hidden_act="quick_gelu",
                  **vision)
    return CLIPConfig(text_config=text, vision_config=vision, projection_dim=projection_dim)


def _clip_config(size: str):
    """CLIPConfig of the named size of _SIZES."""
    if size not in _SIZES:
        raise ValueError(f"unknown CLIP tower size {size!r}; choose one of {sorted(_SIZES)}")
    return clip_config(**_SIZES[size])


def preprocess_images(images: torch.Tensor, size: int) -> torch.Tensor:
    """Float (B, 3, H, W) in [0, 1] -> resized to size x size (bicubic, antialiased) and CLIP-normalised;
    the one image path of frozen towers and of training a CLIP here."""
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"encode_image expects float (B, 3, H, W) in [0, 1], got shape {tuple(images.shape)}")
    x = images.float()
    if x.shape[-2:] != (size, size):
        x = F.interpolate(x, size=(size, size), mode="bicubic", align_corners=False, antialias=True).clamp(0, 1)
    mean = x.new_tensor(CLIP_MEAN).view(1, 3, 1, 1)
    return (x - mean) / x.new_tensor(CLIP_STD).view(1, 3, 1, 1)


class CLIPTowers(nn.Module):
    """Frozen CLIP: encode_image / encode_text give (B, D) features, text_token_features token states."""

    def __init__(self, model, tokenizer=None):
        super().__init__()
        self.model = model
        self.tokenizer = tokenizer if tokenizer is not None else build_tokenizer()
        self.dim = int(model.config.projection_dim)
        self.image_size = int(model.config.vision_config.image_size)
        # CLIP's mean, kept as a buffer so that .to(device) moves it: the towers' device (see `device`)
        self.register_buffer("mean", torch.tensor(CLIP_MEAN).view(1, 3, 1, 1), persistent=False)
        for p in self.parameters():
            p.requires_grad_(False)
        self._hash: str | None = None
        super().train(False)

    # ---- construction -------------------------------------------------------------------------
    @classmethod
    def random(cls, size: str = "tiny", seed: int = 0) -> "CLIPTowers":
        """Randomly initialised towers of the ViT-B/32 architecture ('base') or a tiny one for tests."""
        from transformers import CLIPModel

        config = _clip_config(size)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = CLIPModel(config)
        return cls(model)

    @classmethod
    def from_pretrained(cls, source: str = DEFAULT_HUB_ID) -> "CLIPTowers":
        """Load real weights: a local HF directory, a hub id, or OpenAI's original `ViT-B-32.pt` file."""
        from transformers import CLIPModel

        path = Path(source).expanduser()
        if path.suffix == ".pt":
            if not path.is_file():
                raise FileNotFoundError(f"CLIP checkpoint {path} does not exist (expected OpenAI's ViT-B-32.pt)")
            return cls.from_openai(path)
        if path.is_dir() and not (path / "config.json").is_file():
            raise FileNotFoundError(f"CLIP directory {path} has no config.json (expected a saved HF CLIPModel)")
        try:
            model = CLIPModel.from_pretrained(str(path) if path.is_dir() else source)
        except (OSError, ValueError) as err:
            raise FileNotFoundError(
                f"cannot load CLIP weights {source!r}: not a local directory with config.json + weights, and the "
                f"hub is unreachable or lacks it (offline?). Download {DEFAULT_HUB_ID} elsewhere and pass its "
                f"directory, or pass OpenAI's ViT-B-32.pt. Cause: {err}"
            ) from err
        return cls(model)

    @classmethod
    def from_openai(cls, path: str | Path) -> "CLIPTowers":
        """Convert OpenAI's original ViT-B/32 checkpoint (TorchScript archive or plain state dict)."""
        from transformers import CLIPModel

        from handclip.clip.openai_convert import openai_to_hf_state_dict

        path = Path(path)
        try:
            state = torch.jit.load(str(path), map_location="cpu").state_dict()
        except RuntimeError:
            state = torch.load(str(path), map_location="cpu", weights_only=True)
        model = CLIPModel(_clip_config("base"))
        converted = openai_to_hf_state_dict(state, source=str(path))
        missing, unexpected = model.load_state_dict(converted, strict=False)
        missing = [k for k in missing if not k.endswith("position_ids")]
        if missing or unexpected:
            raise ValueError(f"{path}: not a ViT-B/32 CLIP checkpoint (missing {missing[:5]}, unexpected {unexpected[:5]})")
        return cls(model)

    # ---- frozen behaviour ---------------------------------------------------------------------
    def train(self, mode: bool = True) -> "CLIPTowers":
        """Ignore train(): the towers are frozen and always in eval mode."""
        return super().train(False)

    def weights_hash(self) -> str:
        """SHA-256 (16 hex digits) of the config and all weights: the key of cached text features."""
        if self._hash is None:
            h = hashlib.sha256(self.model.config.to_json_string().encode())
            for name, tensor in sorted(self.model.state_dict().items()):
                h.update(name.encode())
                h.update(tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
            self._hash = h.hexdigest()[:16]
        return self._hash

    @property
    def device(self) -> torch.device:
        return self.mean.device

    # ---- encoders -----------------------------------------------------------------------------
    @torch.no_grad()
    def preprocess(self, images: torch.Tensor) -> torch.Tensor:
        """Float (B, 3, H, W) in [0, 1] -> resized to the tower's input size and CLIP-normalised."""
        return preprocess_images(images.to(self.device), self.image_size)

    @torch.no_grad()
    def encode_image(self, images: torch.Tensor, normalize: bool = True) -> torch.Tensor:
        """f^CI: projected image features (B, D), unit length unless normalize=False."""
        pooled = self.model.vision_model(pixel_values=self.preprocess(images)).pooler_output
        feats = self.model.visual_projection(pooled)
        return F.normalize(feats, dim=-1) if normalize else feats

    def tokenize(self, texts: list[str]) -> dict[str, torch.Tensor]:
        """Token ids and attention mask (padded to the longest, at most 77 tokens) on the towers' device."""
        if isinstance(texts, str):
            texts = [texts]
        enc = self.tokenizer(list(texts), padding=True, truncation=True, max_length=77, return_tensors="pt")
        return {k: v.to(self.device) for k, v in enc.items() if k in ("input_ids", "attention_mask")}

    @torch.no_grad()
    def encode_text(self, texts: list[str], normalize: bool = True) -> torch.Tensor:
        """f^CT: projected text features (B, D) at the end-of-text token, unit length unless normalize=False."""
        pooled = self.model.text_model(**self.tokenize(texts)).pooler_output
        feats = self.model.text_projection(pooled)
        return F.normalize(feats, dim=-1) if normalize else feats

    @torch.no_grad()
    def text_token_features(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Token-level last hidden states (B, T, W) and their validity mask (B, T) bool."""
        enc = self.tokenize(texts)
        tokens = self.model.text_model(**enc).last_hidden_state
        return tokens, enc["attention_mask"].bool()


def load_towers(spec: str = "random-tiny", seed: int = 0) -> CLIPTowers:
    """Towers from a config string: 'random-tiny' / 'random-base' (random weights, `seed`), the name of a CLIP
    shipped with handclip (e.g. 'style-cpu') or a `.safetensors` file written by `handclip clip-train`,
    otherwise a hub id, a local HF directory or an OpenAI `.pt` file for CLIPTowers.from_pretrained."""
    from handclip.clip import compact, shipped

    if spec.startswith("random-"):
        return CLIPTowers.random(spec.split("-", 1)[1], seed=seed)
    if str(spec).endswith(".safetensors"):
        return CLIPTowers(compact.load_model(spec))
    if shipped.is_name(spec):
        return CLIPTowers(compact.load_model(shipped.resolve(spec)))
    return CLIPTowers.from_pretrained(spec)

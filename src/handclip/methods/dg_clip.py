"""DG-CLIP (Lee et al., image-free domain generalisation via CLIP) and its baseline as handclip methods.

`dg_clip`: f^HPE (CPM Branch1 + PosePrior) trained with L^Heat + L^Pose, the PosePrior's two streams each
supervised as Zimmermann & Brox train them (canonical coordinates and viewpoint rotation of
handclip.geometry.canonical_frame, weights lambda_canonical / lambda_viewpoint), plus Branch2 and L^Con on
f^CLIP(x, t) = r f^CI(x) + (1 - r) f^CT(t) from frozen CLIP towers and one style prompt per image.
`dg_clip_baseline`: the same f^HPE without Branch2 and CLIP; `normal_aug` turns it into the paper's
'normal augmentation' baseline (Table 6). Switches cover the ablations of Tables 4-6: clip_mode
(ie / te / ie+te), ratio r, combine (concat / sum), lambda_con, con_form (hinge / printed).

The CLIP towers and prompt features are built lazily at the first training step and kept outside the
module tree, so state_dict (and every checkpoint) holds no CLIP weight and a rebuilt model predicts
without loading CLIP.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from handclip.data.normal_augment import NormalAugment
from handclip.geometry import canonical_frame, normalise
from handclip.losses.dg_clip import contrastive_loss, hardest_negatives, heatmap_loss, pose_loss, viewpoint_loss
from handclip.methods import register
from handclip.methods.base import Method, StartsFromWeights
from handclip.models import heatmap2d
from handclip.models.branch2 import Branch2
from handclip.models.cpm import STRIDE
from handclip.models.hpe import HandPoseEstimator
from handclip.skeleton import LITTLE_MCP, MIDDLE_MCP, MIDDLE_PIP, WRIST

CLIP_MODES = ("ie", "te", "ie+te")


def images_to_float(image: torch.Tensor, size: int) -> torch.Tensor:
    """uint8 (B, S, S, 3) -> float (B, 3, size, size) in [0, 1] (bilinear resize when S != size)."""
    x = image.permute(0, 3, 1, 2).float() / 255.0
    if x.shape[-1] != size or x.shape[-2] != size:
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
    return x


def rescale_uv(uv: torch.Tensor, src: int, dst: int) -> torch.Tensor:
    """Crop pixels of an src-sized image -> those of its dst-sized resize (pixel centres at integers)."""
    return (uv + 0.5) * (dst / src) - 0.5


class DGCLIP(StartsFromWeights, Method):
    """DG-CLIP; with use_clip=False the baseline f^HPE alone."""

    def __init__(self, input_size: int = 256, width: float = 1.0, sigma: float = 1.0, use_clip: bool = True,
                 clip: str = "random-tiny", clip_seed: int = 0, clip_mode: str = "ie+te", ratio: float = 0.9,
                 combine: str = "concat", branch2_kernel: int = 3, lambda_heat: float = 1.0,
                 lambda_pose: float = 1.0, lambda_con: float = 0.1, con_form: str = "hinge", margin: float = 0.5,
                 normal_aug: bool | dict = False, text_cache: str | None = None, lambda_canonical: float = 1.0,
                 lambda_viewpoint: float = 1.0, refine_convs=(7, 7), norm: bool = False,
                 linear_heads: bool = False, init_weights: str | None = None):
        super().__init__()
        if clip_mode not in CLIP_MODES:
            raise ValueError(f"clip_mode must be one of {CLIP_MODES}, got {clip_mode!r}")
        if not 0.0 <= ratio <= 1.0:
            raise ValueError(f"ratio r must lie in [0, 1], got {ratio}")
        self.input_size = int(input_size)
        # (7, 6) is Table 1 (base.yaml); the default (7, 7) rebuilds checkpoints saved before it was an option
        self.hpe = HandPoseEstimator(input_size, width, refine_convs=tuple(refine_convs), norm=bool(norm),
                                     linear_heads=bool(linear_heads))
        self.register_buffer("bone_count", torch.tensor(0.0))
        # a run started from earlier weights (`init_weights`: a checkpoint, packed file or shipped name) loads
        # them at its first step (StartsFromWeights)
        self.init_weights = init_weights
        self.register_start_flag()
        self.sigma = float(sigma)
        self.use_clip = bool(use_clip)
        self.clip_spec, self.clip_seed, self.clip_mode, self.ratio = clip, int(clip_seed), clip_mode, float(ratio)
        self.text_cache = text_cache
        self.lambdas = (float(lambda_heat), float(lambda_pose), float(lambda_con))
        self.lambda_canonical, self.lambda_viewpoint = float(lambda_canonical), float(lambda_viewpoint)
        self.con_form, self.margin = con_form, float(margin)
        self.augment = NormalAugment.from_config(normal_aug)
        self.branch2 = None
        if self.use_clip:
            self.branch2 = Branch2(self.hpe.cpm.feature_channels, width, kernel=branch2_kernel, combine=combine)
        # frozen CLIP pieces, outside the module tree (never in state_dict): built on first use
        object.__setattr__(self, "_towers", None)
        object.__setattr__(self, "_text_features", None)

    # ---- CLIP --------------------------------------------------------------------------------
    def clip_towers(self):
        """The frozen CLIP towers, loaded on first use from the `clip` spec."""
        if self._towers is None:
            from handclip.clip.towers import load_towers

            object.__setattr__(self, "_towers", load_towers(self.clip_spec, seed=self.clip_seed))
        return self._towers

    def prompt_features(self) -> torch.Tensor:
        """f^CT of the 3,724 distinct style prompts (N, D), computed once per CLIP weights and cached."""
        if self._text_features is None:
            from handclip.clip.style_prompts import distinct_sentences
            from handclip.clip.text_cache import text_features

            feats = text_features(self.clip_towers(), distinct_sentences(), cache_dir=self.text_cache)
            object.__setattr__(self, "_text_features", feats)
        return self._text_features

    def clip_feature(self, x: torch.Tensor) -> torch.Tensor:
        """f^CLIP(x, t) for a batch, with one uniformly sampled style prompt t per image."""
        towers = self.clip_towers()
        if towers.device != x.device:
            towers.to(x.device)
        parts = []
        if self.clip_mode in ("ie", "ie+te"):
            parts.append(towers.encode_image(x))
        if self.clip_mode in ("te", "ie+te"):
            from handclip.clip.style_prompts import sample_indices

            table = self.prompt_features()
            parts.append(table[sample_indices(x.shape[0], table.shape[0])].to(x.device))
        if self.clip_mode == "ie+te":
            return self.ratio * parts[0] + (1.0 - self.ratio) * parts[1]
        return parts[0]

    # ---- Method interface --------------------------------------------------------------------
    def _update_bone(self, bone: torch.Tensor) -> None:
        """Running mean of the training poses' middle MCP-PIP length: predict's mm scale."""
        total = self.bone_count + bone.numel()
        self.hpe.bone_mm.copy_((self.hpe.bone_mm * self.bone_count + bone.sum()) / total)
        self.bone_count.copy_(total)

    def _load_initial_weights(self) -> None:
        """The first training step's weights: those of `init_weights`. Branch2 is trained only with L^Con, so
        a baseline's weights start a DG-CLIP run (its Branch2 keeps its initial values) and DG-CLIP's a baseline."""
        from handclip.engine.checkpoint import load_init_weights

        def select(weights: dict) -> dict:
            own = self.state_dict()
            kept = {k: v for k, v in weights.items() if k in own and k != self.START_FLAG}
            return {**{k: v for k, v in own.items() if k.startswith("branch2.")}, **kept}

        load_init_weights(self, self.init_weights, "train a DG-CLIP run first (e.g. dg_clip/cpu)", select,
                          self.bone_count.device)

    def training_step(self, batch: dict) -> dict[str, torch.Tensor]:
        """L = l1 L^Heat + l2 L^Pose + l_can L^canonical + l_view L^viewpoint (+ l3 L^Con with Branch2 and CLIP).
        The first step of a run with `init_weights` loads them."""
        self.load_start_weights_once()
        size = batch["image"].shape[1]
        x = images_to_float(batch["image"], self.input_size)
        uv = rescale_uv(batch["uv"].float(), size, self.input_size)
        xyz = batch["xyz"].float()
        valid = batch.get("valid")
        valid = torch.ones(xyz.shape[:2], dtype=torch.bool, device=xyz.device) if valid is None else valid.bool()
        xyz_n, _, bone = normalise(xyz, "wrist")
        pose_valid = valid & valid[:, WRIST : WRIST + 1] & valid[:, MIDDLE_MCP : MIDDLE_MCP + 1] & valid[:, MIDDLE_PIP : MIDDLE_PIP + 1]
        with torch.no_grad():
            good = pose_valid.all(1)
            if good.any():
                self._update_bone(bone[good])
            xyz_n = torch.where(pose_valid.unsqueeze(-1), xyz_n, torch.zeros_like(xyz_n))
            # the canonical frame needs the wrist, middle MCP and little MCP (geometry.canonical_frame)
            frame_valid = pose_valid[:, WRIST] & pose_valid[:, MIDDLE_MCP] & pose_valid[:, LITTLE_MCP]
            xyz_c, R = canonical_frame(xyz_n)

        out = self.hpe.run(self.augment(x) if self.augment is not None and self.training else x)
        target = heatmap2d.encode(uv, self.hpe.heatmap_size, STRIDE, self.sigma, valid)
        l_heat = heatmap_loss(out["heatmaps"], target, valid)
        l_pose = pose_loss(out["xyz_n"], xyz_n, pose_valid)
        l_canonical = pose_loss(out["xyz_c"], xyz_c, pose_valid & frame_valid[:, None])
        l_viewpoint = viewpoint_loss(out["R"], R, frame_valid)
        w_heat, w_pose, w_con = self.lambdas
        terms = {"loss_heat": l_heat, "loss_pose": l_pose, "loss_canonical": l_canonical, "loss_viewpoint": l_viewpoint}
        loss = w_heat * l_heat + w_pose * l_pose + self.lambda_canonical * l_canonical + self.lambda_viewpoint * l_viewpoint
        if self.branch2 is not None:
            e1, e2 = self.branch2(out["feat11"], self.clip_feature(x))
            if x.shape[0] >= 2:
                neg = hardest_negatives(out["heatmaps"][-1], target)
                l_con = contrastive_loss(e1, e2, e1[neg], self.con_form, self.margin)
            else:  # a lone sample has no negative: only its positive term
                l_con = (e1 - e2).abs().sum(-1).mean()
            terms["loss_con"] = l_con
            loss = loss + w_con * l_con
        return {"loss": loss, **{k: v.detach() for k, v in terms.items()}}

    @torch.no_grad()
    def predict(self, batch: dict) -> dict[str, torch.Tensor]:
        """Branch1 + PosePrior: wrist-relative xyz (mm, scaled by the training bone length), uv and each joint's
        heatmap-peak confidence."""
        size = batch["image"].shape[1]
        out = self.hpe.read(images_to_float(batch["image"], self.input_size))
        return {**out, "uv": rescale_uv(out["uv"], self.input_size, size)}

    def inference_model(self) -> nn.Module:
        """f^HPE alone: no Branch2, no CLIP."""
        return self.hpe


@register("dg_clip")
def build_dg_clip(**kwargs) -> DGCLIP:
    """DG-CLIP with Branch2 and CLIP."""
    return DGCLIP(use_clip=True, **kwargs)


@register("dg_clip_baseline")
def build_baseline(**kwargs) -> DGCLIP:
    """The baseline f^HPE (no Branch2, no CLIP); with normal_aug, the 'normal augmentation' baseline."""
    clip_keys = {"clip", "clip_seed", "clip_mode", "ratio", "combine", "branch2_kernel", "lambda_con",
                 "con_form", "margin", "text_cache"}
    return DGCLIP(use_clip=False, **{k: v for k, v in kwargs.items() if k not in clip_keys})

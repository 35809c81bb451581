"""CLIP-Hand3D (Guo et al.): ResNet pyramid, lixel uvd joints, coarse-to-fine mesh, joint-order CLIP supervision.

Images of another size than input_size are resized inside (crop intrinsics and uv follow).
Units inside: joints in lixel bins (the joint loss compares bins divided by bin counts, so every axis
spans [0, 1]); vertices wrist-relative in mm divided by `depth_range_mm` (the same normalisation as
the lixel depth axis). predict() returns mm: the wrist's absolute depth, unobservable from a crop, is
solved so that the back-projected skeleton's 20 bones best fit the template's (least squares), the
template scaled so its middle MCP-PIP bone is `ref_bone_mm` long (default: as it is).
The frozen CLIP text tower is held outside the module tree, so checkpoints carry no CLIP weights; it and
the ImageNet weights (`pretrained`) load on the first training step only (a persistent flag keeps a
resumed run from loading them again), so inference, export and benchmarks need neither.
Two stages (section 4.2): `pretrain_joints=true` trains the encoder and the joint uvd regressor alone
(joint loss only); `init_weights=<checkpoint>` then starts the end-to-end run from that stage's weights
(loaded at the first training step in place of the ImageNet ones, under the same flag).
CLIP warm-up (ours, docs/clip_hand3d.md): at the start the CLIP term's gradient is two orders above the
joint loss's and swamps the depth head; `clip_detach_steps` keeps it off the joint regressor (the text
side and projections still learn) and `clip_warmup_steps` ramps its weight from 0, both counted in
end-to-end steps (the persistent `clip_steps`; stage 1 does not count).
`freeze_pose` (ours, a CPU-budget deviation from the paper's end-to-end stage 2): stage 2 keeps the stage-1
encoder and joint regressor fixed (weights and BatchNorm statistics) and trains the mesh regressor and the
CLIP matching on top, so the joints stay stage 1's (docs/models/README.md: end to end, stage 2 cost real
photos 0.01-0.03 PCK).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch
from torch import nn

from handclip.data.normal_augment import NormalAugment
from handclip.data.rand_conv import RandConv
from handclip.methods import register
from handclip.methods.base import Method, StartsFromWeights
from handclip.geometry import uvd_to_xyz
from handclip.losses import clip_hand3d as losses
from handclip.models.lixel import LixelCodec, LixelHead, root_depth_from_bones
from handclip.models.mesh_regressor import MeshRegressor
from handclip.models.resnet import ResNetEncoder, deepen, widen
from handclip.skeleton import BONES, MIDDLE_MCP, MIDDLE_PIP, NUM_JOINTS

MATCHING = "matching."  # the pose-text matching (CLIP loss), untrained in stage 1
MESH = "mesh."  # the mesh regressor, untrained in stage 1 too


@lru_cache(maxsize=4)
def _template_and_hierarchy(source: str, sparse_to_dense: bool):
    """The template mesh and its node hierarchy (cached in memory and on disk: building it takes half a second)."""
    from handclip.mesh.hierarchy import cached_hierarchy, default_sizes
    from handclip.mesh.templates import load_mesh_template

    t = load_mesh_template(source)
    num_v = len(t["vertices"])
    sizes = default_sizes(num_v) if sparse_to_dense else [NUM_JOINTS, num_v, num_v, num_v]
    return t, cached_hierarchy(t["vertices"], t["faces"], t["joints"], sizes, weld=t["weld"])


def rotate_images(image: torch.Tensor, angle: torch.Tensor, centre: torch.Tensor) -> torch.Tensor:
    """Images (B, 3, S, S) rotated by `angle` (B,) rad about pixel `centre` (B, 2): p' = R (p - c) + c."""
    size = image.shape[-1]
    cos, sin = angle.cos(), angle.sin()
    coords = torch.arange(size, device=image.device, dtype=image.dtype)
    v, u = torch.meshgrid(coords, coords, indexing="ij")
    du, dv = u[None] - centre[:, 0, None, None], v[None] - centre[:, 1, None, None]
    src_u = cos[:, None, None] * du + sin[:, None, None] * dv + centre[:, 0, None, None]  # R^T (p' - c) + c
    src_v = -sin[:, None, None] * du + cos[:, None, None] * dv + centre[:, 1, None, None]
    grid = torch.stack([src_u, src_v], -1) * (2.0 / (size - 1)) - 1
    return torch.nn.functional.grid_sample(image, grid, mode="bilinear", padding_mode="zeros", align_corners=True)


def rotation_z(angle: torch.Tensor) -> torch.Tensor:
    """Rotations (B, 3, 3) about the camera's optical axis: the 3D counterpart of rotating the image."""
    c, s, z, o = angle.cos(), angle.sin(), torch.zeros_like(angle), torch.ones_like(angle)
    return torch.stack([c, -s, z, s, c, z, z, z, o], -1).view(-1, 3, 3)


class _InferenceModel(nn.Module):
    """Export wrapper: float image (B, 3, S, S) in [0, 1] -> (uvd bins (B, 21, 3), normalised vertices (B, V, 3))."""

    def __init__(self, method: "ClipHand3D"):
        super().__init__()
        self.method = method

    def forward(self, image: torch.Tensor):
        out = self.method(image)
        return out["uvd"], out["verts"]


@register("clip_hand3d")
class ClipHand3D(StartsFromWeights, Method):
    """The full model with the ablation switches of Tables 3-4 (clip_loss, feature_projection, sparse_to_dense,
    contrastive_batch) and the release's batch-attention behaviour behind batch_attention_quirk."""

    START_FLAG = "pretrained_loaded"  # the name its checkpoints carry

    def __init__(self, input_size: int = 224, backbone: str = "resnet50", pretrained: str | None = None,
                 bins_xy: int = 32, bins_z: int = 64, depth_range_mm: float = 400.0, deconv_width: int = 256,
                 num_deconv: int = 2, widths=(256, 128, 64, 32), mesh_depth: int = 1, heads: int = 4,
                 template: str = "synth", sparse_to_dense: bool = True, feature_projection: bool = True,
                 clip: str = "random-tiny", clip_width: int = 32, clip_loss: bool = True, prompt_joints: int = NUM_JOINTS,
                 embed_dim: int = 128, text_width: int = 128, text_depth: int = 1, contrastive_batch: int = 0,
                 consistency: bool = True, max_rotation_deg: float = 30.0, loss_weights=(1.0, 0.05, 0.1, 0.1),
                 ref_bone_mm: float | None = None, batch_attention_quirk: bool = False,
                 mesh_attention_max_nodes: int | None = None, pretrain_joints: bool = False,
                 init_weights: str | None = None, clip_warmup_steps: int = 0, clip_detach_steps: int = 0,
                 normal_aug: bool | dict = False, rand_conv: bool | dict = False, freeze_pose: bool = False,
                 lixel_weight: float = 0.0, lixel_sigma: float = 1.0, seed: int = 0):
        super().__init__()
        self.input_size = input_size
        self.codec = LixelCodec(input_size, bins_xy, bins_z, depth_range_mm)
        self.encoder = ResNetEncoder(backbone)
        self.pretrained, self.init_weights, self.pretrain_joints = pretrained, init_weights, pretrain_joints
        self.register_start_flag()
        self.clip_warmup_steps, self.clip_detach_steps = int(clip_warmup_steps), int(clip_detach_steps)
        self.register_buffer("clip_steps", torch.zeros((), dtype=torch.long))  # end-to-end steps taken
        ch = self.encoder.channels
        self.lixel = LixelHead(ch[4], deconv_width, bins_xy, bins_z, num_deconv)
        tmpl, hierarchy = _template_and_hierarchy(template, sparse_to_dense)
        self.mesh = MeshRegressor(hierarchy, ch, input_size, bins_xy, bins_z, tuple(widths),
                                  feature_projection=feature_projection, depth=mesh_depth, heads=heads,
                                  batch_attention_quirk=batch_attention_quirk,
                                  attention_max_nodes=mesh_attention_max_nodes)
        self.register_buffer("faces", torch.as_tensor(tmpl["faces"], dtype=torch.long), persistent=False)
        bone = np.linalg.norm(tmpl["joints"][MIDDLE_MCP] - tmpl["joints"][MIDDLE_PIP])
        self.ref_bone_mm = float(ref_bone_mm or bone)
        parents, children = [p for p, _ in BONES], [c for _, c in BONES]
        lengths = np.linalg.norm(tmpl["joints"][children] - tmpl["joints"][parents], axis=-1) * self.ref_bone_mm / bone
        self.register_buffer("ref_lengths", torch.as_tensor(lengths, dtype=torch.float32), persistent=False)
        self.weights = tuple(float(w) for w in loss_weights)
        self.lixel_weight, self.lixel_sigma = float(lixel_weight), float(lixel_sigma)  # ours: losses.lixel_distribution_loss
        self.augment = NormalAugment.from_config(normal_aug)  # DG-CLIP's photometric set, training batches only
        self.rand_conv = RandConv.from_config(rand_conv)  # random-convolution texture scrambling, training only
        self.freeze_pose = bool(freeze_pose)
        if self.freeze_pose:
            self.encoder.requires_grad_(False)
            self.lixel.requires_grad_(False)
        self.consistency, self.max_rotation = consistency, math.radians(max_rotation_deg)
        self.prompt_joints, self.contrastive_batch = prompt_joints, contrastive_batch
        self._rng = np.random.default_rng(seed)
        self.matching = None
        self.clip_source, self._towers = clip, []  # towers kept out of the module tree (and the state_dict)
        if clip_loss:
            from handclip.models.text_side import PoseTextMatching

            self.matching = PoseTextMatching(clip_width, NUM_JOINTS, bins_xy, bins_z, embed_dim, text_width,
                                             text_depth, heads, batch_attention_quirk)

    # ---- network -------------------------------------------------------------------------------
    def train(self, mode: bool = True) -> "ClipHand3D":
        """As nn.Module.train; with freeze_pose the encoder and the joint regressor stay in eval mode (their
        BatchNorm statistics are stage 1's)."""
        super().train(mode)
        if self.freeze_pose:
            self.encoder.eval()
            self.lixel.eval()
        return self

    def forward(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        """Float (B, 3, S, S) in [0, 1] -> lixel logits 'px','py','pz', 'uvd' bins, normalised 'verts', 'features'."""
        feats = self.encoder(image)
        out = self.lixel(feats[4])
        uv_px = self.codec.decode(out["uvd"])[..., :2]
        out["verts"] = self.mesh(feats, out["uvd"], uv_px)
        out["features"] = feats
        return out

    def prepare_batch(self, batch: dict):
        """(float image at input_size, crop intrinsics and uv rescaled with it, the scale factor) of a batch."""
        image = batch["image"].permute(0, 3, 1, 2).float() / 255.0
        size = image.shape[-1]
        K = batch["K"].float()
        uv = batch["uv"].float() if "uv" in batch else None
        if size == self.input_size:
            return image, K, uv, 1.0
        s = self.input_size / size
        image = torch.nn.functional.interpolate(image, size=(self.input_size,) * 2, mode="bilinear",
                                                align_corners=False, antialias=True).clamp(0, 1)
        scale = torch.diag(K.new_tensor([s, s, 1.0]))
        K = scale @ K
        K[:, :2, 2] += 0.5 * s - 0.5  # pixel centres at integers: u' = (u + 0.5) s - 0.5
        return image, K, None if uv is None else (uv + 0.5) * s - 0.5, s

    def text_tower(self):
        """The frozen CLIP towers on this module's device, loaded on first use."""
        if not self._towers:
            from handclip.clip.towers import load_towers

            towers = load_towers(self.clip_source)
            width = int(towers.model.config.text_config.hidden_size)
            if width != self.matching.token_width:
                raise ValueError(f"CLIP {self.clip_source!r} has {width}-wide token states; set method.clip_width={width}")
            self._towers.append(towers)
        towers = self._towers[0]
        if towers.device != self.faces.device:
            towers.to(self.faces.device)
        return towers

    # ---- losses --------------------------------------------------------------------------------
    def joint_prompts(self, batch: dict) -> tuple[list[str], list[str], list[str]]:
        """W_x, W_y, W_z for the batch's GT poses, N joints sampled afresh per sample (section 3.1)."""
        from handclip.clip.joint_prompts import batch_prompts

        return batch_prompts(batch["xyz"].detach().cpu().numpy(), self.prompt_joints, self._rng)

    def logits_matrices(self, batch: dict, out: dict | None = None, prompts=None) -> torch.Tensor:
        """M_lr, M_tb, M_nf (3, B, B) of the batch (rows: pose features, columns: texts); `out` is this
        model's forward output when already computed, `prompts` the (W_x, W_y, W_z) to use."""
        if self.matching is None:
            raise ValueError("this clip_hand3d model was built with clip_loss=false: it has no text side")
        if out is None:
            out = self(self.prepare_batch(batch)[0])
        wx, wy, wz = prompts if prompts is not None else self.joint_prompts(batch)
        tokens, mask = self.text_tower().text_token_features(list(wx) + list(wy) + list(wz))
        return self.matching(out, tokens.float(), mask)

    def training_step(self, batch: dict) -> dict[str, torch.Tensor]:
        """Eq. 8: w1 (L_P + L_V) + w2 (L_N + L_E) + w3 (L_C2d + L_C3d) + w4 L_CLIP (w4 warmed up, clip_weight)."""
        terms, weights = self.loss_terms(batch), self.term_weights()
        total = sum(weights[k] * v for k, v in terms.items())
        if self.training and torch.is_grad_enabled() and not self.pretrain_joints:
            self.clip_steps += 1
        return {"loss": total, **{f"loss_{k}": v.detach() for k, v in terms.items()}}

    def term_weights(self) -> dict[str, float]:
        """The weight of each loss term of Eq. 8 at this step (stage 1: the joint loss alone)."""
        w1, w2, w3, _ = self.weights
        lixel = w1 * self.lixel_weight
        if self.pretrain_joints:
            return {"joints": w1, "lixel": lixel, "verts": 0.0, "normal": 0.0, "edge": 0.0, "c2d": 0.0, "c3d": 0.0,
                    "clip": 0.0}
        return {"joints": w1, "lixel": lixel, "verts": w1, "normal": w2, "edge": w2, "c2d": w3, "c3d": w3,
                "clip": self.clip_weight()}

    def loss_terms(self, batch: dict) -> dict[str, torch.Tensor]:
        """The unweighted terms of Eq. 8 (joints, verts, normal, edge, c2d, c3d, clip) with their graphs;
        switched-off terms are zero. The first call of a run loads its initial weights."""
        self.load_start_weights_once()
        image, K, uv, _ = self.prepare_batch(batch)
        if self.augment is not None and self.training:
            image = self.augment(image)
        if self.rand_conv is not None and self.training:
            image = self.rand_conv(image)
        out = self.lixel(self.encoder(image)[4]) if self.pretrain_joints else self(image)
        xyz = batch["xyz"].float()
        d = xyz[..., 2:] - xyz[:, :1, 2:]
        gt_bins = self.codec.encode(torch.cat([uv, d], -1))
        gt = self.codec.normalise(gt_bins)
        valid = batch["valid"].float() if "valid" in batch else torch.ones_like(xyz[..., 0])
        per_joint = (self.codec.normalise(out["uvd"]) - gt).abs().sum(-1)
        terms = {"joints": (per_joint * valid).sum() / valid.sum().clamp_min(1)}
        zero = per_joint.new_zeros(())
        terms["lixel"] = zero if self.lixel_weight <= 0 else self._lixel_term(out, gt_bins, valid)
        terms.update(verts=zero, normal=zero, edge=zero, c2d=zero, c3d=zero, clip=zero)
        if self.pretrain_joints:
            return terms
        if "verts" in batch:
            gt_v = (batch["verts"].float() - xyz[:, :1]) / self.codec.depth_range
            if gt_v.shape[1] != out["verts"].shape[1]:
                raise ValueError(f"batch 'verts' have {gt_v.shape[1]} vertices but the mesh template has "
                                 f"{out['verts'].shape[1]}: set method.template (MANO_RIGHT.pkl for 778-vertex labels)")
            terms["verts"] = (out["verts"] - gt_v).abs().sum(-1).mean()
            terms["normal"] = losses.normal_loss(out["verts"], gt_v, self.faces)
            terms["edge"] = losses.edge_loss(out["verts"], gt_v, self.faces)
        if self.consistency:
            terms["c2d"], terms["c3d"] = self._consistency(image, K, out)
        if self.matching is not None:
            pose = out
            if int(self.clip_steps) < self.clip_detach_steps:  # the CLIP gradient stays off the joint regressor
                pose = {k: out[k].detach() for k in ("px", "py", "pz")}
            terms["clip"] = losses.clip_loss(self.logits_matrices(batch, pose), self.contrastive_batch)
        return terms

    def _lixel_term(self, out: dict, target: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """The lixel distribution term (losses.lixel_distribution_loss), summed over the u, v and d axes."""
        return sum(losses.lixel_distribution_loss(out[key], target[..., i], self.lixel_sigma, valid)
                   for i, key in enumerate(("px", "py", "pz")))

    def clip_weight(self) -> float:
        """The CLIP term's weight now: w4 ramped linearly from 0 over the first `clip_warmup_steps` end-to-end steps."""
        if self.clip_warmup_steps <= 0:
            return self.weights[3]
        return self.weights[3] * min(1.0, int(self.clip_steps) / self.clip_warmup_steps)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        """Checkpoints written before the CLIP warm-up existed lack `clip_steps`: they load with the count at 0."""
        state_dict.setdefault(prefix + "clip_steps", torch.zeros((), dtype=torch.long))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def _load_initial_weights(self) -> None:
        """The first training step's weights: a previous stage's checkpoint (`init_weights`) or ImageNet."""
        if self.init_weights:
            from handclip.engine.checkpoint import load_init_weights

            load_init_weights(self, self.init_weights, "train the previous stage first (e.g. clip_hand3d/cpu_joints)",
                              self._stage_weights, self.faces.device)
            self.clip_steps.zero_()  # a new run: its warm-up starts afresh
        else:
            self.encoder.load_pretrained(self.pretrained)

    def start_source(self):
        """A previous stage's checkpoint (`init_weights`), else ImageNet weights (`pretrained`)."""
        return self.init_weights or self.pretrained

    def _stage_weights(self, weights: dict) -> dict:
        """A previous stage's weights for this run. Stage 1 never trains the pose-text matching (joint loss only), so
        the next stage may drop the CLIP loss (its matching weights are left out) or use another CLIP (matching
        layers whose width no longer fits keep their initial values); nor the mesh regressor, so the next stage may
        leave attention out of more mesh levels (the transformers it lacks are left out). A deeper encoder of the same
        widths (backbone tiny -> tiny_deep) starts from a shallower one's with its extra blocks as identities, a
        wider one (tiny_deep -> tiny_wide) with its added channels disconnected."""
        own = self.state_dict()
        kept = {k: own[k] if k.startswith(MATCHING) and own[k].shape != v.shape else v
                for k, v in weights.items() if not k.startswith((MATCHING, MESH)) or k in own}
        return deepen(widen(kept, own, "encoder.net."), own, "encoder.net.")

    def _consistency(self, image: torch.Tensor, K: torch.Tensor, out: dict):
        """Eq. 6: a second view rotated about the principal point; Aff(P1) vs P2 (bins), Rot(V1) vs V2."""
        angle = (torch.rand(image.shape[0], device=image.device) * 2 - 1) * self.max_rotation
        centre = K[:, :2, 2]
        out2 = self(rotate_images(image, angle, centre))
        p1 = self.codec.decode(out["uvd"])
        rot2d = rotation_z(angle)[:, :2, :2]
        uv1 = (p1[..., :2] - centre[:, None]) @ rot2d.transpose(1, 2) + centre[:, None]
        p1_aff = self.codec.normalise(self.codec.encode(torch.cat([uv1, p1[..., 2:]], -1)))
        c2d = (p1_aff - self.codec.normalise(out2["uvd"])).abs().sum(-1).mean()
        c3d = (out["verts"] @ rotation_z(angle).transpose(1, 2) - out2["verts"]).abs().sum(-1).mean()
        return c2d, c3d

    # ---- inference -----------------------------------------------------------------------------
    @torch.no_grad()
    def predict(self, batch: dict) -> dict[str, torch.Tensor]:
        """Wrist-relative 'xyz' and 'verts' in mm, 'uv' crop pixels (see the module docstring for the depth) and
        each joint's 'confidence' (B, 21): the peak probability of its u and v lixel distributions, averaged."""
        image, K, _, s = self.prepare_batch(batch)
        out = self(image)
        uvd = self.codec.decode(out["uvd"])
        xyz = uvd_to_xyz(uvd, K, root_depth_from_bones(uvd, K, self.ref_lengths))
        uv = (uvd[..., :2] + 0.5) / s - 0.5  # back to the batch's crop pixels
        confidence = (out["px"].softmax(-1).amax(-1) + out["py"].softmax(-1).amax(-1)) / 2
        return {"xyz": xyz - xyz[:, :1], "uv": uv, "verts": out["verts"] * self.codec.depth_range,
                "confidence": confidence}

    def inference_model(self) -> nn.Module:
        """Image -> (uvd bins, normalised vertices); decode with self.codec as in predict()."""
        return _InferenceModel(self)

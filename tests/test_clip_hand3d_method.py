"""The clip_hand3d method end to end on tiny models: overfitting, loss terms, sample independence, augmentation geometry."""

import numpy as np
import pytest
import torch

from handclip.geometry import project
from handclip.methods import build
from handclip.methods.clip_hand3d import rotate_images, rotation_z

SIZE = 64
TINY = dict(input_size=SIZE, backbone="tiny", deconv_width=32, widths=(32, 16, 16, 8), heads=2, text_width=16,
            embed_dim=16, max_rotation_deg=20.0)


def template_batch(batch_size=2, seed=0, tilt=0.0):
    """Posed copies of the renderer's hand (rotated about the optical axis, 450 mm away) with noise images;
    tilt > 0 also turns each copy about the x axis by a random angle in [-tilt, tilt] rad (wrist-relative depths differ)."""
    from handclip.data.synth.mesh import GLTF_TO_VIEW, keypoints, load_template

    t = load_template()
    rng = np.random.default_rng(seed)
    rest_v = t.vertices @ GLTF_TO_VIEW.T
    rest_j = keypoints(t.rest_world) @ GLTF_TO_VIEW.T
    centre = rest_v.mean(0)
    K = np.array([[110.0, 0, (SIZE - 1) / 2], [0, 110.0, (SIZE - 1) / 2], [0, 0, 1]])
    out = {"image": [], "K": [], "xyz": [], "uv": [], "verts": []}
    for _ in range(batch_size):
        R = rotation_z(torch.tensor([rng.uniform(-1, 1)])).numpy()[0]
        if tilt:
            c, s = np.cos(a := rng.uniform(-tilt, tilt)), np.sin(a)
            R = R @ np.array([[1, 0, 0], [0, c, -s], [0, s, c]])
        place = lambda p: (p - centre) @ R.T + [0, 0, 450.0]  # noqa: E731
        xyz, verts = place(rest_j), place(rest_v)
        out["xyz"].append(xyz)
        out["verts"].append(verts)
        out["uv"].append(project(xyz, K))
        out["K"].append(K)
        out["image"].append(rng.integers(0, 256, (SIZE, SIZE, 3)))
    batch = {k: torch.tensor(np.stack(v), dtype=torch.uint8 if k == "image" else torch.float32) for k, v in out.items()}
    batch["valid"] = torch.ones(batch_size, 21, dtype=torch.bool)
    return batch


def test_overfit_joints_and_mesh():
    torch.manual_seed(0)
    torch.set_num_threads(1)
    model = build("clip_hand3d", clip_loss=False, consistency=False, mesh_attention_max_nodes=200, **TINY)
    batch = template_batch(2, tilt=0.8)  # depths differ between samples: the depth axis must read the image
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    first = model.training_step(batch)
    for _ in range(90):  # 40-50 steps sat near the bound (4.6-6.2 against 4.5 mm, by thread count); 90: 1.0
        terms = model.training_step(batch)
        opt.zero_grad()
        terms["loss"].backward()
        opt.step()
    assert terms["loss_joints"] < 0.2 * first["loss_joints"]
    assert terms["loss_verts"] < 0.25 * first["loss_verts"]
    with torch.no_grad():
        depth = model.codec.decode(model(model.prepare_batch(batch)[0])["uvd"])[..., 2]
    xyz = batch["xyz"]
    gt = xyz[..., 2] - xyz[:, :1, 2]
    constant = (gt - gt.median(0).values).abs().mean()  # the best image-blind depth per joint
    assert constant > 10 and (depth - gt).abs().mean() < 0.3 * constant


def test_training_step_has_every_term_and_keeps_clip_out_of_the_checkpoint():
    torch.manual_seed(0)
    model = build("clip_hand3d", clip="random-tiny", contrastive_batch=2, **TINY)
    terms = model.training_step(template_batch(4))
    for key in ("joints", "verts", "normal", "edge", "c2d", "c3d", "clip"):
        assert torch.isfinite(terms[f"loss_{key}"]) and terms[f"loss_{key}"] > 0, key
    w = model.weights
    expected = (w[0] * (terms["loss_joints"] + terms["loss_verts"]) + w[1] * (terms["loss_normal"] + terms["loss_edge"])
                + w[2] * (terms["loss_c2d"] + terms["loss_c3d"]) + w[3] * terms["loss_clip"])
    assert terms["loss"].item() == pytest.approx(expected.item(), rel=1e-5)
    terms["loss"].backward()
    assert model.matching.log_scale.grad is not None and model.matching.text["z"].inp.weight.grad is not None
    assert model.encoder.net.embedder.embedder.convolution.weight.grad.abs().sum() > 0
    assert model.matching.scales().tolist() == pytest.approx([100.0] * 3)
    assert not any("text_model" in k or "vision_model" in k for k in model.state_dict())


@pytest.mark.parametrize("quirk", [False, True])
def test_predictions_of_one_sample_ignore_the_others(quirk):
    torch.manual_seed(0)
    model = build("clip_hand3d", clip_loss=False, batch_attention_quirk=quirk, **TINY).eval()
    batch = template_batch(3)
    first = model.predict(batch)
    batch["image"][1] = 255 - batch["image"][1]
    second = model.predict(batch)
    same = torch.allclose(first["verts"][0], second["verts"][0], atol=1e-5)
    assert same != quirk
    assert torch.allclose(first["xyz"][0], second["xyz"][0], atol=1e-4)  # the lixel head has no attention
    assert first["xyz"].shape == (3, 21, 3) and torch.all(first["xyz"][:, 0] == 0)
    assert first["verts"].shape[0] == 3 and first["uv"].shape == (3, 21, 2)


def test_rotated_view_is_the_camera_rolled_about_its_axis():
    K = torch.tensor([[[80.0, 0, 30.0], [0, 80.0, 34.0], [0, 0, 1]]])
    point = torch.tensor([[[20.0, -15.0, 300.0]]])
    u, v = project(point, K)[0, 0].round().long().tolist()
    image = torch.zeros(1, 3, SIZE, SIZE)
    image[0, :, v, u] = 1.0
    angle = torch.tensor([0.5])
    rotated = rotate_images(image, angle, K[:, :2, 2])
    expected = project(point @ rotation_z(angle).transpose(1, 2), K)[0, 0]
    peak = torch.nonzero(rotated[0, 0] == rotated[0, 0].max())[0].flip(0).float()
    assert torch.linalg.norm(peak - expected) < 1.0


def test_cpu_config_resolves_to_the_method():
    from handclip.engine.config import load_config

    cfg = load_config("clip_hand3d/cpu")
    assert cfg["method"]["name"] == "clip_hand3d" and cfg["train"]["optimizer"]["name"] == "adamw"
    # two stages (section 4.2): cpu_joints trains the joint regressor, cpu starts from its last checkpoint
    joints = load_config("clip_hand3d/cpu_joints")["method"]
    assert joints.pop("pretrain_joints") and joints.pop("init_weights") is None and joints.pop("consistency") is False
    full = dict(cfg["method"])
    assert full.pop("init_weights") == "runs/clip_hand3d_cpu_joints/checkpoints/last.pt" and full.pop("consistency")
    assert {k: v for k, v in full.items() if v is not None} == {k: v for k, v in joints.items() if v is not None}
    assert full["depth_range_mm"] >= 340  # the renders' +-170 mm wrist-relative depth fits the lixel bins


def test_imagenet_weights_load_once_at_the_first_training_step(tmp_path):
    from transformers import ResNetConfig, ResNetModel

    from handclip.models.resnet import SIZES

    torch.manual_seed(1)
    ResNetModel(ResNetConfig(layer_type="bottleneck", **SIZES["tiny"])).save_pretrained(tmp_path / "r")
    reference = ResNetModel.from_pretrained(tmp_path / "r").state_dict()
    key = "encoder.stages.0.layers.0.shortcut.convolution.weight"
    model = build("clip_hand3d", pretrained=str(tmp_path / "r"), clip_loss=False, consistency=False, **TINY)
    assert not torch.equal(model.encoder.net.state_dict()[key], reference[key])  # building loads nothing
    model.training_step(template_batch(2))
    assert torch.equal(model.encoder.net.state_dict()[key], reference[key]) and bool(model.pretrained_loaded)
    resumed = build("clip_hand3d", pretrained=str(tmp_path / "missing"), clip_loss=False, consistency=False, **TINY)
    resumed.load_state_dict(model.state_dict())
    resumed.training_step(template_batch(2))  # the saved flag stops a second (here impossible) load


def test_figure_command_writes_pngs_and_json(tmp_path):
    import json

    from handclip.cli import main

    assert main(["clip-hand3d-figures", "--n", "2", "--rows", "1", "--out", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "figures.json").read_text())
    assert np.asarray(report["logits"]["matrices"]["M_nf"]).shape == (2, 2)
    assert report["logits"]["prompts"]["z"][0].startswith("From near to far, the joints are ")
    assert (tmp_path / "logits.png").stat().st_size > 0 and (tmp_path / "heatmaps.png").stat().st_size > 0


@pytest.mark.parametrize("switch", [{"sparse_to_dense": False}, {"feature_projection": False}])
def test_ablation_switches_build_and_train(switch):
    torch.manual_seed(0)
    model = build("clip_hand3d", clip_loss=False, consistency=False, mesh_attention_max_nodes=200, **TINY, **switch)
    terms = model.training_step(template_batch(2))
    terms["loss"].backward()
    assert torch.isfinite(terms["loss"]) and model.mesh.head[-1].weight.grad.abs().sum() > 0
    if not switch.get("feature_projection", True):
        assert all(p.grad is None for p in model.mesh.pyramid.parameters())
    if not switch.get("sparse_to_dense", True):
        assert model.mesh.up1.shape == (1360, 1360) and torch.equal(model.mesh.up1, torch.eye(1360))


def test_prepare_batch_resizes_crops_with_their_intrinsics():
    model = build("clip_hand3d", clip_loss=False, **{**TINY, "input_size": 32})
    batch = template_batch(2)  # 64 px crops
    image, K, uv, scale = model.prepare_batch(batch)
    assert image.shape == (2, 3, 32, 32) and scale == 0.5
    assert torch.allclose(project(batch["xyz"], K), uv, atol=1e-4)  # labels follow the resized crop
    assert torch.allclose(uv, (batch["uv"] + 0.5) / 2 - 0.5, atol=1e-5)


def test_two_stages_joint_pretraining_then_init_weights(tmp_path):
    from handclip.engine.config import load_config

    torch.manual_seed(0)
    cfg, full = load_config("clip_hand3d/paper_joints")["method"], load_config("clip_hand3d/paper")["method"]
    assert cfg.pop("pretrain_joints") and cfg.pop("consistency") is False and full.pop("consistency")
    assert cfg == full  # the same architecture: the stage-1 checkpoint fits stage 2
    stage1 = build("clip_hand3d", pretrain_joints=True, clip_loss=False, **TINY)
    terms = stage1.training_step(template_batch(2))
    terms["loss"].backward()
    assert terms["loss"].item() == pytest.approx(terms["loss_joints"].item()) and terms["loss_joints"] > 0
    assert all(terms[f"loss_{k}"] == 0 for k in ("verts", "normal", "edge", "c2d", "c3d", "clip"))
    assert stage1.lixel.conv_z[-1].weight.grad.abs().sum() > 0
    assert all(p.grad is None for p in stage1.mesh.parameters())
    torch.save({"model": stage1.state_dict()}, tmp_path / "stage1.pt")
    # stage 2 loads stage 1 at its first step, in place of ImageNet weights (that path does not exist)
    stage2 = build("clip_hand3d", clip_loss=False, pretrained=str(tmp_path / "missing"),
                   init_weights=str(tmp_path / "stage1.pt"), **TINY)
    assert not torch.equal(stage2.lixel.conv_z[-1].weight, stage1.lixel.conv_z[-1].weight)
    stage2.training_step(template_batch(2))
    assert torch.equal(stage2.lixel.conv_z[-1].weight, stage1.lixel.conv_z[-1].weight)
    assert bool(stage2.pretrained_loaded)


def test_clip_warmup_ramps_the_weight_and_detach_keeps_the_gradient_off_the_joint_regressor():
    torch.manual_seed(0)
    model = build("clip_hand3d", contrastive_batch=0, clip_warmup_steps=4, clip_detach_steps=2, consistency=False,
                  mesh_attention_max_nodes=200, **TINY)
    model.weights = (0.0, 0.0, 0.0, 0.1)  # the CLIP term alone
    batch = template_batch(3)
    seen = []
    for step in range(5):
        model.zero_grad()
        terms = model.training_step(batch)
        assert terms["loss"].item() == pytest.approx(0.1 * min(1.0, step / 4) * terms["loss_clip"].item(), rel=1e-5)
        if step in (1, 2):  # weight > 0: detached at step 1, flowing at step 2
            terms["loss"].backward()
            grad = model.lixel.conv_z[-1].weight.grad
            seen.append(0.0 if grad is None else grad.abs().sum().item())
            assert model.matching.pose["z"][0].weight.grad.abs().sum() > 0  # the projection learns either way
    assert seen[0] == 0.0 and seen[1] > 0
    assert int(model.clip_steps) == 5 and model.clip_weight() == pytest.approx(0.1)
    with torch.no_grad():
        model.eval().training_step(batch)  # evaluation and stage 1 do not count
    stage1 = build("clip_hand3d", pretrain_joints=True, clip_loss=False, **TINY)
    stage1.training_step(batch)
    assert int(model.clip_steps) == 5 and int(stage1.clip_steps) == 0


def test_init_weights_missing_file_and_checkpoints_without_the_step_count(tmp_path):
    from handclip.engine.checkpoint import load_weights

    model = build("clip_hand3d", clip_loss=False, init_weights=str(tmp_path / "stage1.pt"), **TINY)
    with pytest.raises(FileNotFoundError, match="stage1.pt.*clip_hand3d/cpu_joints"):
        model.training_step(template_batch(2))
    old = {k: v for k, v in build("clip_hand3d", clip_loss=False, **TINY).state_dict().items() if k != "clip_steps"}
    load_weights(model, old, "old.pt")  # written before the warm-up existed: loads, count at 0
    assert int(model.clip_steps) == 0


def test_stage_two_may_swap_or_drop_the_clip_the_matching_keeps_its_initial_layers(tmp_path):
    torch.manual_seed(0)
    stage1 = build("clip_hand3d", pretrain_joints=True, clip_width=32, **TINY)
    torch.save({"model": stage1.state_dict()}, tmp_path / "stage1.pt")
    for clip_loss in (True, False):  # another CLIP width, or no CLIP loss at all (no matching module)
        stage2 = build("clip_hand3d", clip_loss=clip_loss, clip_width=48, contrastive_batch=0,
                       init_weights=str(tmp_path / "stage1.pt"), **TINY)
        if clip_loss:
            fresh = stage2.matching.text["x"].inp.weight.detach().clone()
            assert fresh.shape[1] == 48 and stage1.matching.text["x"].inp.weight.shape[1] == 32
        stage2._load_initial_weights()  # what the first training step does; refuses neither
        assert torch.equal(stage2.lixel.conv_z[-1].weight, stage1.lixel.conv_z[-1].weight)
        if clip_loss:
            assert torch.equal(stage2.matching.text["x"].out.weight, stage1.matching.text["x"].out.weight)
            assert torch.equal(stage2.matching.text["x"].inp.weight, fresh)
    with pytest.raises(Exception, match="stage1.pt"):  # elsewhere a shape that does not fit still fails, naming the file
        build("clip_hand3d", init_weights=str(tmp_path / "stage1.pt"), **{**TINY, "deconv_width": 16})._load_initial_weights()
    fewer = build("clip_hand3d", clip_loss=False, mesh_attention_max_nodes=30, init_weights=str(tmp_path / "stage1.pt"),
                  **TINY)  # attention on the joint level only: stage 1's other mesh transformers are left out
    assert any(k.startswith("mesh.blocks.1.") for k in stage1.state_dict())
    assert not any(k.startswith("mesh.blocks.1.") for k in fewer.state_dict())
    fewer._load_initial_weights()
    assert torch.equal(fewer.mesh.fj_mlp[0].weight, stage1.mesh.fj_mlp[0].weight)


def test_a_deeper_encoder_starts_as_the_shallower_one_and_its_new_blocks_learn(tmp_path):
    """backbone tiny -> tiny_deep from a stage's weights: the 12 blocks it adds start as identities (their last
    BatchNorm zero), so the grown model predicts what the trained one did, in train and eval mode; then a step's
    gradient reaches those BatchNorms and the next step moves the new blocks off the identity."""
    torch.manual_seed(0)
    small = build("clip_hand3d", pretrain_joints=True, clip_loss=False, **TINY)
    small.training_step(template_batch(2))["loss"].backward()  # running statistics away from their defaults
    torch.save({"model": small.state_dict()}, tmp_path / "stage1.pt")
    deep = build("clip_hand3d", pretrain_joints=True, clip_loss=False, init_weights=str(tmp_path / "stage1.pt"),
                 **{**TINY, "backbone": "tiny_deep"})
    deep._load_initial_weights()
    added = [k for k in deep.state_dict() if k not in small.state_dict()]
    assert len({k.split(".layer.")[0] for k in added}) == 12 and all(k.startswith("encoder.net.encoder.") for k in added)
    new_bn = deep.encoder.net.encoder.stages[2].layers[5].layer[2].normalization
    assert new_bn.weight.abs().sum() == 0 and new_bn.bias.abs().sum() == 0
    image = torch.rand(3, 3, TINY["input_size"], TINY["input_size"])
    for mode in ("eval", "train"):
        small.train(mode == "train"), deep.train(mode == "train")
        with torch.no_grad():
            assert torch.allclose(small.lixel(small.encoder(image)[4])["uvd"], deep.lixel(deep.encoder(image)[4])["uvd"],
                                  atol=1e-5)
    deep.training_step(template_batch(2))["loss"].backward()
    assert new_bn.weight.grad.abs().sum() > 0
    torch.optim.SGD(deep.parameters(), lr=0.1).step()
    assert new_bn.weight.abs().sum() > 0
    damaged = {k: v for k, v in small.state_dict().items() if "stages.1.layers.0.layer.1" not in k}
    torch.save({"model": damaged}, tmp_path / "damaged.pt")  # a block it has, cut: still refused, naming the file
    with pytest.raises(Exception, match="damaged.pt"):
        build("clip_hand3d", pretrain_joints=True, clip_loss=False, init_weights=str(tmp_path / "damaged.pt"),
              **{**TINY, "backbone": "tiny_deep"})._load_initial_weights()


def test_a_wider_encoder_loads_a_deeper_stage_and_its_added_channels_learn(tmp_path):
    """backbone tiny_deep -> tiny_wide from a stage's weights: the grown model predicts what the trained one did;
    the zero weights from the added channels get a gradient at once and move with the first step."""
    torch.manual_seed(0)
    deep = build("clip_hand3d", pretrain_joints=True, clip_loss=False, **{**TINY, "backbone": "tiny_deep"})
    deep.training_step(template_batch(2))["loss"].backward()
    torch.save({"model": deep.state_dict()}, tmp_path / "stage1.pt")
    wide = build("clip_hand3d", pretrain_joints=True, clip_loss=False, init_weights=str(tmp_path / "stage1.pt"),
                 **{**TINY, "backbone": "tiny_wide"})
    wide._load_initial_weights()
    image = torch.rand(3, 3, TINY["input_size"], TINY["input_size"])
    deep.eval(), wide.eval()
    with torch.no_grad():
        assert torch.allclose(deep.lixel(deep.encoder(image)[4])["uvd"], wide.lixel(wide.encoder(image)[4])["uvd"],
                              atol=1e-5)
    expand = wide.encoder.net.encoder.stages[1].layers[2].layer[2].convolution.weight
    assert expand.shape[1] == 32 and expand[:, 16:].abs().sum() == 0
    wide.train()
    wide.training_step(template_batch(2))["loss"].backward()
    assert expand.grad[:, 16:].abs().sum() > 0
    torch.optim.SGD(wide.parameters(), lr=0.1).step()
    assert expand[:, 16:].abs().sum() > 0


def test_normal_augmentation_reaches_the_encoder_in_training_only():
    """method.normal_aug (DG-CLIP's photometric set) changes the training images the encoder sees, never eval's."""
    model = build("clip_hand3d", pretrain_joints=True, clip_loss=False,
                  normal_aug={"p": 1.0, "ops": ["color_drop"]}, **TINY)
    seen = []
    model.encoder.register_forward_hook(lambda module, args, out: seen.append(args[0].detach()))
    batch = template_batch()
    model.train()
    model.training_step(batch)
    grey = seen[-1]
    assert torch.allclose(grey[:, 0], grey[:, 1]) and torch.allclose(grey[:, 1], grey[:, 2])
    model.eval()
    model.predict(batch)
    colour = seen[-1]
    assert not torch.allclose(colour[:, 0], colour[:, 1])  # noise images: the channels differ
    assert build("clip_hand3d", clip_loss=False, **TINY).augment is None


def test_freeze_pose_trains_the_mesh_and_keeps_the_stage1_joints():
    torch.manual_seed(0)
    model = build("clip_hand3d", clip_loss=False, freeze_pose=True, **TINY)
    batch = template_batch(2)
    model.eval()
    with torch.no_grad():
        before = model(model.prepare_batch(batch)[0])
    pose = {k: v.clone() for k, v in {**model.encoder.state_dict(prefix="encoder."),
                                       **model.lixel.state_dict(prefix="lixel.")}.items()}
    mesh = {k: v.clone() for k, v in model.mesh.state_dict().items()}
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    model.train()
    assert not model.encoder.training and not model.lixel.training and model.mesh.training
    for _ in range(3):
        terms = model.training_step(batch)
        opt.zero_grad()
        terms["loss"].backward()
        opt.step()
    now = {**model.encoder.state_dict(prefix="encoder."), **model.lixel.state_dict(prefix="lixel.")}
    assert all(torch.equal(now[k], v) for k, v in pose.items())  # weights and BatchNorm statistics alike
    assert any(not torch.equal(model.mesh.state_dict()[k], v) for k, v in mesh.items())
    model.eval()
    with torch.no_grad():
        after = model(model.prepare_batch(batch)[0])
    assert torch.equal(after["uvd"], before["uvd"]) and not torch.equal(after["verts"], before["verts"])


def test_lixel_term_is_weighted_into_the_joint_stage():
    """method.lixel_weight adds the lixel distribution term (0 by default, as the paper), weighted like the joints."""
    torch.manual_seed(0)
    batch = template_batch(2)
    plain = build("clip_hand3d", pretrain_joints=True, clip_loss=False, **TINY)
    assert plain.training_step(batch)["loss_lixel"] == 0
    model = build("clip_hand3d", pretrain_joints=True, clip_loss=False, lixel_weight=0.5, **TINY)
    terms = model.training_step(batch)
    assert terms["loss_lixel"] > 0
    assert terms["loss"].item() == pytest.approx((terms["loss_joints"] + 0.5 * terms["loss_lixel"]).item(), rel=1e-5)
    terms["loss"].backward()
    assert model.lixel.conv_x[-1].weight.grad.abs().sum() > 0

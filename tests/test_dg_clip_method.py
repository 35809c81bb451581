"""DG-CLIP as a handclip method: frozen CLIP outside the weights, ablation switches, a tiny overfit."""

import pytest
import torch

from handclip.data.normal_augment import OPS, NormalAugment
from handclip.geometry import bone_length, canonical_frame, normalise
from handclip.methods import build

SIZE = 32
CACHE = ""


@pytest.fixture(scope="module", autouse=True)
def text_cache(tmp_path_factory):
    """One prompt-feature cache for the module (the 3,724 tiny-tower features are computed once)."""
    global CACHE
    CACHE = str(tmp_path_factory.mktemp("clip_cache"))


def tiny(name="dg_clip", **kw):
    """A CPU-tiny DG-CLIP (or baseline) with random tiny CLIP towers and the module's feature cache."""
    torch.manual_seed(0)
    kw.setdefault("text_cache", CACHE)
    return build(name, input_size=SIZE, width=0.0625, **kw)


def dots_batch(n=2, size=SIZE, seed=1):
    """Synthetic images: 21 coloured dots at the joints' pixels over a dark ground, with matching labels."""
    g = torch.Generator().manual_seed(seed)
    uv = 2 + torch.rand(n, 21, 2, generator=g) * (size - 4)
    image = torch.full((n, size, size, 3), 40, dtype=torch.uint8)
    ys, xs = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    for b in range(n):
        for j in range(21):
            dot = (xs - uv[b, j, 0]) ** 2 + (ys - uv[b, j, 1]) ** 2 < 3
            image[b][dot] = torch.tensor([200, 50 + 9 * j, 255 - 10 * j], dtype=torch.uint8)
    xyz = torch.cat([uv - size / 2, 400 + 20 * torch.rand(n, 21, 1, generator=g)], -1)
    return {"image": image, "uv": uv, "xyz": xyz, "valid": torch.ones(n, 21, dtype=torch.bool)}


def test_clip_frozen_and_outside_the_weights():
    method = tiny()
    batch = dots_batch()
    opt = torch.optim.Adam(method.parameters(), lr=1e-3)
    out = method.training_step(batch)
    towers = method.clip_towers()
    before = {k: v.clone() for k, v in towers.state_dict().items()}
    b2_before = method.branch2.fc_e2.weight.clone()
    opt.zero_grad()
    out["loss"].backward()
    opt.step()
    assert set(out) == {"loss", "loss_heat", "loss_pose", "loss_canonical", "loss_viewpoint", "loss_con"}
    assert all(p.grad is None and not p.requires_grad for p in towers.parameters())
    assert all(torch.equal(v, towers.state_dict()[k]) for k, v in before.items())
    assert not torch.equal(b2_before, method.branch2.fc_e2.weight)  # Branch2 does learn
    assert not any("towers" in k or "text_model" in k or "vision_model" in k for k in method.state_dict())
    inference = method.inference_model()
    assert not any(k.startswith("branch2") for k in inference.state_dict())
    assert sum(p.numel() for p in inference.parameters()) < sum(p.numel() for p in method.parameters())


def test_rebuilt_method_predicts_without_clip():
    method = tiny()
    method.training_step(dots_batch(seed=1))  # the mm scale: running mean of the labels' middle MCP-PIP bone
    method.training_step(dots_batch(seed=2))
    bones = torch.cat([bone_length(dots_batch(seed=s)["xyz"]) for s in (1, 2)])
    assert method.hpe.bone_mm.item() == pytest.approx(bones.mean().item(), rel=1e-5)
    fresh = tiny()
    fresh.load_state_dict(method.state_dict())
    assert fresh._towers is None
    pred = fresh.eval().predict(dots_batch())
    assert fresh._towers is None  # prediction never loads CLIP
    assert tuple(pred["xyz"].shape) == (2, 21, 3) and tuple(pred["uv"].shape) == (2, 21, 2)
    assert torch.equal(fresh.hpe.bone_mm, method.hpe.bone_mm)


@pytest.mark.parametrize("kw", [dict(clip_mode="ie"), dict(clip_mode="te", combine="sum"),
                                dict(con_form="printed", ratio=0.6, branch2_kernel=1)])
def test_ablation_switches_train(kw):
    out = tiny(**kw).training_step(dots_batch())
    assert torch.isfinite(out["loss"]) and "loss_con" in out


def test_baseline_has_no_branch2_and_normal_augmentation():
    base = tiny("dg_clip_baseline", ratio=0.9)  # CLIP keys of a shared config are ignored
    assert base.branch2 is None and base.augment is None
    out = base.training_step(dots_batch())
    assert set(out) == {"loss", "loss_heat", "loss_pose", "loss_canonical", "loss_viewpoint"}
    aug = tiny("dg_clip_baseline", normal_aug={"p": 1.0})
    assert aug.augment is not None and aug.augment.ops == OPS
    assert torch.isfinite(aug.training_step(dots_batch())["loss"])


def test_normal_augmentation_ops():
    torch.manual_seed(0)
    x = torch.rand(3, 3, 16, 16)
    assert torch.equal(NormalAugment(p=0.0)(x), x)
    aug = NormalAugment(p=1.0)
    for name in OPS:
        y = getattr(aug, name)(x)
        assert y.shape == x.shape and not torch.allclose(y, x), name
    grey = aug.color_drop(x)
    assert torch.equal(grey[:, 0], grey[:, 1]) and torch.equal(grey[:, 1], grey[:, 2])
    assert aug.sobel(torch.full((1, 3, 8, 8), 0.3)).abs().max() < 1e-6  # flat image: no edges
    out = aug(x)
    assert out.min() >= 0 and out.max() <= 1
    with pytest.raises(ValueError, match="unknown normal augmentations"):
        NormalAugment(ops=("mixup",))


class FixedPrior(torch.nn.Module):
    """A PosePrior stand-in that outputs given canonical coordinates and rotations, whatever the heatmaps."""

    def __init__(self, xyz_c, R):
        super().__init__()
        self.xyz_c, self.R = xyz_c, R

    def forward(self, heatmaps):
        return self.xyz_c, self.R


def test_poseprior_streams_are_supervised_in_the_canonical_frame():
    method = tiny("dg_clip_baseline", lambda_canonical=2.0, lambda_viewpoint=3.0)
    batch = dots_batch(seed=3)
    xyz_c, R = canonical_frame(normalise(batch["xyz"], "wrist")[0])
    method.hpe.poseprior = FixedPrior(xyz_c, R)  # both streams exact: every 3D term vanishes
    out = method.training_step(batch)
    assert out["loss_canonical"] < 1e-10 and out["loss_viewpoint"] < 1e-10 and out["loss_pose"] < 1e-10
    # the right camera pose from a wrong split (canonical = camera pose, R = I) is penalised in both streams
    method.hpe.poseprior = FixedPrior(xyz_c @ R, torch.eye(3).expand(2, 3, 3))
    out = method.training_step(batch)
    assert out["loss_pose"] < 1e-10
    expected_view = ((torch.eye(3) - R) ** 2).sum((-1, -2)).mean() / 9
    expected_can = ((xyz_c @ R - xyz_c) ** 2).sum(-1).mean() / 3
    assert out["loss_viewpoint"].item() == pytest.approx(expected_view.item(), rel=1e-5)
    assert out["loss_canonical"].item() == pytest.approx(expected_can.item(), rel=1e-5)
    assert out["loss"].item() == pytest.approx(out["loss_heat"].item() + 2 * expected_can.item()
                                               + 3 * expected_view.item(), rel=1e-5)


def test_paper_configs_pick_r_per_target():
    from handclip.engine.config import load_config

    for name, ratio, target in (("dg_clip/paper_stb", 0.6, "stb"), ("dg_clip/paper_rhd", 0.9, "rhd")):
        cfg = load_config(name)
        assert cfg["method"]["ratio"] == ratio and cfg["eval"]["protocol"] == target
        assert [v["protocol"] for v in cfg["data"]["val"]] == [target]
        assert cfg["data"]["train"]["name"] == "freihand"
        assert cfg["method"]["refine_convs"] == [7, 6]  # CPM stages 2 and 3 as Table 1 prints them


def test_tiny_overfit_loss_falls_tenfold():
    torch.set_num_threads(1)
    method = tiny()
    batch = dots_batch()
    opt = torch.optim.Adam(method.parameters(), lr=3e-3, betas=(0.9, 0.999))
    first = None
    for _ in range(160):
        loss = method.training_step(batch)["loss"]
        first = loss.item() if first is None else first
        if loss.item() < first / 10:
            break
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < first / 10


def test_init_weights_start_a_run_once_and_resume_never_reloads(tmp_path):
    from handclip.engine.checkpoint import load_weights

    first = tiny("dg_clip_baseline")
    torch.save({"model": first.state_dict()}, tmp_path / "first.pt")
    run = tiny("dg_clip", init_weights=str(tmp_path / "first.pt"))  # adds Branch2: its layers keep their own values
    torch.manual_seed(5)
    run.hpe.cpm.backbone[0].weight.data.normal_()
    assert not torch.equal(run.hpe.cpm.backbone[0].weight, first.hpe.cpm.backbone[0].weight)
    run.training_step(dots_batch())
    assert torch.equal(run.hpe.cpm.backbone[0].weight, first.hpe.cpm.backbone[0].weight) and bool(run.init_loaded)
    # a resumed run holds the flag: its trained weights are not replaced by init_weights again
    resumed = tiny("dg_clip", init_weights=str(tmp_path / "first.pt"))
    trained = {k: v.clone() for k, v in run.state_dict().items()}
    trained["hpe.cpm.backbone.0.weight"] += 1.0
    load_weights(resumed, trained, "last.pt")
    resumed.training_step(dots_batch())
    assert torch.equal(resumed.hpe.cpm.backbone[0].weight, trained["hpe.cpm.backbone.0.weight"])
    # weights written before the flag existed are trained weights: they load with it set
    old = tiny("dg_clip", init_weights=str(tmp_path / "first.pt"))
    load_weights(old, {k: v for k, v in run.state_dict().items() if k != "init_loaded"}, "old.pt")
    assert bool(old.init_loaded)


def test_init_weights_missing_file_names_it(tmp_path):
    run = tiny("dg_clip", init_weights=str(tmp_path / "nowhere.pt"))
    with pytest.raises(FileNotFoundError, match="nowhere.pt.*dg_clip/cpu"):
        run.training_step(dots_batch())

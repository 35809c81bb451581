"""Config keys checked against the code's own defaults and signatures: every shipped config passes, a
misspelling fails naming the closest known key, typed values are checked with the key named."""

from __future__ import annotations

import pytest

from handclip.engine.config import PACKAGE_CONFIGS, ConfigError, apply_overrides, load_config
from handclip.engine.schema import check_config, suggest
from handclip.methods import METHODS

SHIPPED = sorted(str(p.relative_to(PACKAGE_CONFIGS)) for p in PACKAGE_CONFIGS.rglob("*.yaml")
                 if p.name != "quickstart.yaml"  # the quickstart plan is not a training config
                 and p.parent.name != "clip")  # CLIP recipes have their own check (handclip.clip.recipe)


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_config_passes(name):
    config = load_config(name)
    check_config(config, training="method" in config and "train" in (config.get("data") or {}))


@pytest.mark.parametrize("override, message", [
    ("optim.lrr=1", "unknown config key optim.lrr; did you mean train.optimizer.lr?"),
    ("train.optimzer.lr=5", "unknown config key train.optimzer.lr; did you mean train.optimizer.lr?"),
    ("train.lr=1e-4", "did you mean train.optimizer.lr?"),
    ("evl.protocol=synth", "did you mean eval.protocol?"),
    ("method.mm_scal=10", "did you mean method.mm_scale?"),
    ("data.val=[{name: synth, protocl: synth}]", "unknown config key data.val[0].protocl; did you mean data.val[0].protocol?"),
    ("train.epochs=2.5", "train.epochs must be an integer >= 1, got 2.5"),
    ("train.scheduler.gamma=0", "train.scheduler.gamma must be a number > 0"),
    ("train.optimizer.betas=[0.9]", "train.optimizer.betas must be two numbers in [0, 1)"),
    ("train.grad_clip=.nan", "train.grad_clip must be a number >= 0"),
    ("method.input_size=big", "method.input_size must be an integer, got 'big'"),
    ("train.scheduler.name=cosine", "train.scheduler.name must be"),
])
def test_mistakes_name_the_key(override, message):
    with pytest.raises(ConfigError) as err:
        check_config(apply_overrides(load_config("mean_pose/cpu"), [override]))
    assert message in str(err.value)


def test_known_keys_come_from_the_code():
    params = METHODS.parameters("dg_clip")  # a **kwargs factory seen through to the DGCLIP class it returns
    assert {"ratio", "clip_mode", "input_size"} <= set(params)
    assert suggest("data.train.nn", ["data.train.n", "data.train.name", "train.epochs"])[0] == "data.train.n"
    assert suggest("train.stepsize", ["train.scheduler.step_size", "train.epochs"]) == ["train.scheduler.step_size"]

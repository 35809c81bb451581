"""Registries build registered factories, import known modules lazily, and name the known ones on a typo."""

import sys

import pytest

from handclip import data, methods
from handclip.registry import Registry


def test_register_and_build():
    reg = Registry("thing", {})
    reg.register("pair")(lambda a, b=2: (a, b))
    assert reg.build("pair", a=1) == (1, 2)
    with pytest.raises(KeyError, match=r"unknown thing 'pear'.*\['pair'\]"):
        reg.build("pear")


def test_known_module_is_imported_on_first_use():
    sys.modules.pop("handclip.methods.mean_pose", None)
    methods.METHODS.factories.pop("mean_pose", None)
    assert methods.build("mean_pose").__class__.__name__ == "MeanPose"
    assert "mean_pose" in methods.METHODS.factories
    assert "realworld" in data.DATASETS.names() and "clip_hand3d" in methods.METHODS.names()

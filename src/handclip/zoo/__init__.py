"""Trained models shipped with handclip: list them, resolve a name to a file, load one, pack a checkpoint.

    handclip.zoo.list_models()            # index entries of the shipped models
    handclip.zoo.resolve("name")          # -> local .safetensors path (checked)
    handclip.load("name").predict(image)  # names work wherever a checkpoint path does
    handclip.zoo.pack("runs/x/checkpoints/last.pt", "name", method="dg_clip")
    handclip.zoo.default_detector()       # the shipped hand detector's name (predict finds hands with it)
    handclip.zoo.hand_check("name")       # its calibrated min_confidence for Predictor.hands (0: none)

The zoo folder is handclip/models_zoo, or $HANDCLIP_ZOO, or a `zoo` argument (see handclip.zoo.index).
"""

from handclip.zoo.index import (ZooError, default_detector, default_name, hand_check, is_detector, list_models, resolve,
                                zoo_dir)
from handclip.zoo.load import load_model
from handclip.zoo.pack import pack

__all__ = ["ZooError", "default_detector", "default_name", "hand_check", "is_detector", "list_models", "load_model", "pack",
           "resolve", "zoo_dir"]

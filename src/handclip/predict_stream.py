"""The image pipeline of `handclip predict`: files read and cropped ahead in a worker thread, the hands of
consecutive images predicted together in one forward pass, each image handed on in the files' order."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from handclip.api import read_image
from handclip.errors import UserError
from handclip.prefetch import ordered_map

SAID = {"left": True, "right": False}  # a hand's side as Predictor.crop's `left`; no side (None): not known


@dataclass
class Item:
    """One image on its way: its hands ({'box', 'side', 'score'}; None until the detector finds them), then one
    result per hand, or the error that stopped it (an unreadable file, a box that does not fit the image)."""

    path: Path
    hands: list[dict] | None
    image: np.ndarray | None = None
    crops: list[dict] = field(default_factory=list)
    results: list[dict] = field(default_factory=list)
    error: Exception | None = None


def _prepare(predictor, item: Item) -> Item:
    """Read the image and crop its hands (run in the worker thread); what stops it goes to item.error."""
    try:
        item.image = read_image(item.path)
        item.crops = [predictor.crop(item.image, hand["box"], SAID.get(hand["side"])) for hand in item.hands or []]
    except (UserError, OSError, ValueError) as err:
        item.image, item.crops, item.error = None, [], err
    return item


def _predict(predictor, items: list[Item], detect: dict | None) -> list[Item]:
    """Fill in the results of a group of read items: one detector call, or one pose pass over all their crops."""
    ready = [item for item in items if item.error is None]
    if detect is not None and ready:
        for item, results in zip(ready, predictor.hands([item.image for item in ready], **detect)):
            item.results = results
            item.hands = [{"box": r["box"], "side": r["side"], "score": r["score"]} for r in results]
    elif ready:
        results = iter(predictor.predict_crops([crop for item in ready for crop in item.crops]))
        for item in ready:
            item.results = [next(results) for _ in item.crops]
    for item in ready:
        item.crops = []
    return items


def predict_stream(predictor, files: list[Path], hands_of: Callable[[Path], list[dict] | None],
                   detect: dict | None = None) -> Iterator[Item]:
    """Each file's Item, in the files' order, with its results. hands_of(path): the hands to crop, None to let
    the predictor's detector find them (detect: its max_hands and min_score). Files are read and cropped up to
    two batches ahead; images are grouped until they hold predictor.batch_size hands (images when detecting)."""
    items = (Item(path, hands_of(path)) for path in files)
    group, count = [], 0
    for item in ordered_map(partial(_prepare, predictor), items, ahead=2 * predictor.batch_size):
        group.append(item)
        count += 1 if detect is not None else len(item.crops)
        if count >= predictor.batch_size:
            yield from _predict(predictor, group, detect)
            group, count = [], 0
    yield from _predict(predictor, group, detect)

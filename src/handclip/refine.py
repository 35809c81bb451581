"""A second, upright look at each hand: the crop turned so the first skeleton's wrist stands below its middle MCP.

The pose models are trained on crops mostly turned upright; a hand photographed at a tilt is read worse. A first
prediction gives the hand's tilt, so the same crop is turned upright about its centre and predicted anew, the
answer turned back (the rotated region of interest MediaPipe Hands derives from its landmarks). Of the two looks
each hand keeps the one the model is surer of (the higher mean joint confidence), since photos already upright
can read worse turned by a few degrees; a method with no confidence keeps the upright look. Where the crop is known
to show a right hand (its side was given and a left hand mirrored in), a look whose skeleton is right-handed
(handclip.detection.side_cues.curl_chirality) wins over one that is not: a left-handed reading of a right hand has
its thumb on the wrong edge or its depth turned over.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
from torch import nn

from handclip.data.crop import crop_transform, hand_tilt
from handclip.detection.side_cues import curl_chirality

_LOOK_KEYS = ("uv", "xyz", "verts", "confidence")  # what a look answers per hand; the rest is the first look's


def turn_crop(image: np.ndarray, K, angle_deg: float) -> dict:
    """A square crop turned by angle_deg (crop_transform's roll) about its centre, at its own size: the image,
    its intrinsics A K R^T (as handclip.data.crop.crop_hand), the 2x3 affine A and the roll R (3, 3)."""
    size = image.shape[0]
    A, R = crop_transform(((size - 1) / 2, (size - 1) / 2, size), size, angle_deg)
    A3 = np.vstack([A, [0.0, 0.0, 1.0]])
    turned = cv2.warpAffine(image, A, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    return {"image": turned, "K": A3 @ np.asarray(K, np.float64) @ R.T, "A": A, "R": R}


def turn_back(pred: dict, turn: dict) -> dict:
    """One hand's prediction in a turn_crop crop, back in the crop it was turned from: uv through A's inverse, xyz
    and verts turned back by R (they were predicted in the rolled camera: xyz' = xyz R^T)."""
    back = np.linalg.inv(np.vstack([turn["A"], [0.0, 0.0, 1.0]]))[:2]
    out = {key: value for key, value in pred.items() if key not in ("uv", "xyz", "verts")}
    out["uv"] = pred["uv"] @ back[:, :2].T + back[:, 2]
    for key in ("xyz", "verts"):
        if key in pred:
            out[key] = pred[key] @ turn["R"]
    return out


class UprightLook(nn.Module):
    """A pose method whose predict() also reads every hand turned upright (turn_crop by hand_tilt of its first
    skeleton) and keeps, per hand, the look with the higher mean 'confidence', or the only right-handed look of a
    crop known to show a right hand. right_hands: every crop does (the dataset readers mirror left hands in); a
    batch's 'right_hand' (B,) bools say it per crop instead. Everything else is the method's."""

    def __init__(self, method: nn.Module, right_hands: bool = False):
        super().__init__()
        self.method, self.right_hands = method, bool(right_hands)

    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self._modules["method"], name)

    @torch.no_grad()
    def predict(self, batch: dict) -> dict[str, torch.Tensor]:
        """The method's predict() dict, each hand's 'uv' (batch crop pixels), 'xyz', 'verts' and 'confidence'
        from its chosen look, and 'upright' (B,): whether that is the upright one."""
        first = self.method.predict(batch)
        keys = [k for k in _LOOK_KEYS if k in first]
        images, Ks = batch["image"].cpu().numpy(), batch["K"].double().cpu().numpy()
        uv = first["uv"].double().cpu().numpy()
        turns = [turn_crop(images[i], Ks[i], hand_tilt(uv[i])) for i in range(len(images))]
        second = self.method.predict({
            "image": torch.from_numpy(np.stack([t["image"] for t in turns])).to(batch["image"].device),
            "K": torch.from_numpy(np.stack([t["K"] for t in turns]).astype(np.float32)).to(batch["image"].device)})
        second = {k: second[k].double().cpu().numpy() for k in keys}
        back = [turn_back({k: second[k][i] for k in keys}, t) for i, t in enumerate(turns)]
        upright = {k: torch.from_numpy(np.stack([b[k] for b in back])).to(first[k]) for k in keys}
        take = self._take_upright(first, upright, batch.get("right_hand", [self.right_hands] * len(images)))
        chosen = {k: torch.where(take.view(-1, *[1] * (first[k].ndim - 1)), upright[k], first[k]) for k in keys}
        return {**first, **chosen, "upright": take}

    @staticmethod
    def _take_upright(first: dict, upright: dict, right_hand) -> torch.Tensor:
        """(B,) True where the upright look wins: the only right-handed one of a known right hand, else the surer
        one (always, for a method with no confidence)."""
        device = first["uv"].device
        if "confidence" in first:
            take = upright["confidence"].mean(-1) > first["confidence"].mean(-1)
        else:
            take = torch.ones(len(first["uv"]), dtype=torch.bool, device=device)
        right = torch.as_tensor(np.asarray(right_hand, bool), device=device)
        if right.any() and "xyz" in first:
            turned_right, first_right = (torch.from_numpy(curl_chirality(look["xyz"].double().cpu().numpy()) > 0)
                                         .to(device) for look in (upright, first))
            take = torch.where(right & (turned_right != first_right), turned_right, take)
        return take

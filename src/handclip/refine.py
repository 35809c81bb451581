"""A second, upright look at each hand: the crop turned so the first skeleton's wrist stands below its middle MCP.

The pose models are trained on crops mostly turned upright; a hand photographed at a tilt is read worse. A first
prediction gives the hand's tilt, so the same crop is turned upright about its centre and predicted anew, the
answer turned back (the rotated region of interest MediaPipe Hands derives from its landmarks). Of the two looks
each hand keeps the one the model is surer of (the higher mean joint confidence), since photos already upright
can read worse turned by a few degrees; a method with no confidence keeps the upright look. Where the crop is known
to show a right hand (its side was given and a left hand mirrored in), a look whose skeleton is right-handed
(handclip.detection.side_cues.curl_chirality) wins over one that is not: a left-handed reading of a right hand has
its thumb on the wrong edge or its depth turned over.

Looking around (`around=True`, test-time augmentation as mmpose's flip and multi-scale tests): the upright crop is
also read turned 15 degrees either way and zoomed in and out, and each joint is the mean of the five looks' readings
weighted by their confidence to the fourth power (the set and power chosen on held-out renders, docs/models/README.md
"Looking around (stop 23)"); a known right hand's left-handed looks weigh nothing when another look is right-handed.
A model that reads either hand also reads the five looks of the crop mirrored (`mirrored=True`, mmpose's flip test),
their answers mirrored back, and blends all ten (chosen on held-out renders too: "Mirrored looks (stop 24)").

A second look where the hand check is unsure (SecondLook): the crop mirrored and turned upright, blended with the first
look. Of the single extra looks it is the one whose blended confidence tells photographed hands from faces best
(docs/detector.md, stop 26), and predict takes it only at boxes whose first confidence is near the check.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
from torch import nn

from handclip.api import LOOK_KEYS  # what a look answers per hand; the rest is the first look's
from handclip.data.crop import crop_transform, hand_tilt
from handclip.detection.side_cues import curl_chirality
from handclip.skeleton import mirror_K, mirror_uv, mirror_xyz

AROUND = ((15.0, 1.0), (-15.0, 1.0), (0.0, 1.15), (0.0, 0.87))  # (degrees, zoom) of the looks beside the upright one
SURE_POWER = 4  # a joint's reading weighs its confidence to this power when looks are blended


def turn_crop(image: np.ndarray, K, angle_deg: float, zoom: float = 1.0) -> dict:
    """A square crop turned by angle_deg (crop_transform's roll) about its centre and magnified by zoom, at its own
    size: the image, its intrinsics A K R^T (as handclip.data.crop.crop_hand), the 2x3 affine A and the roll R (3, 3)."""
    size = image.shape[0]
    A, R = crop_transform(((size - 1) / 2, (size - 1) / 2, size / zoom), size, angle_deg)
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


def read_turned(method, images: np.ndarray, Ks: np.ndarray, angles, zoom: float, keys, device="cpu") -> dict:
    """A method's answers (keys, as float64 arrays) on every crop (B, S, S, 3) turned by its angle and magnified by
    zoom (turn_crop), turned back into the crop they came from (turn_back)."""
    turns = [turn_crop(image, K, angle, zoom) for image, K, angle in zip(images, Ks, angles)]
    out = method.predict({
        "image": torch.from_numpy(np.stack([t["image"] for t in turns])).to(device),
        "K": torch.from_numpy(np.stack([t["K"] for t in turns]).astype(np.float32)).to(device)})
    out = {k: out[k].double().cpu().numpy() for k in keys}
    back = [turn_back({k: out[k][i] for k in keys}, t) for i, t in enumerate(turns)]
    return {k: np.stack([b[k] for b in back]) for k in keys}


class _Looks(nn.Module):
    """A pose method read in more than one look: every attribute but its own is the method's."""

    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self._modules["method"], name)


class UprightLook(_Looks):
    """A pose method whose predict() also reads every hand turned upright (turn_crop by hand_tilt of its first
    skeleton) and keeps, per hand, the look with the higher mean 'confidence', or the only right-handed look of a
    crop known to show a right hand; with around=True it blends the upright look and the AROUND looks instead.
    right_hands: every crop shows a right hand (the dataset readers mirror left hands in); a batch's 'right_hand'
    (B,) bools say it per crop instead. mirrored (with around, for a model trained on mirrored crops as well): also
    the five looks of the mirrored crop, read back through the mirror. Everything else is the method's."""

    def __init__(self, method: nn.Module, right_hands: bool = False, around: bool = False, mirrored: bool = False):
        super().__init__()
        if mirrored and not around:
            raise ValueError("UprightLook: mirrored looks are blended with the looks around (around=True)")
        self.method, self.right_hands, self.around, self.mirrored = method, bool(right_hands), bool(around), bool(mirrored)

    @torch.no_grad()
    def predict(self, batch: dict) -> dict[str, torch.Tensor]:
        """The method's predict() dict, each hand's 'uv' (batch crop pixels), 'xyz', 'verts' and 'confidence'
        from its chosen (or blended) look, and 'upright' (B,): whether that is upright-based."""
        first = self.method.predict(batch)
        keys = [k for k in LOOK_KEYS if k in first]
        images, Ks = batch["image"].cpu().numpy(), batch["K"].double().cpu().numpy()
        right_hand = batch.get("right_hand", [self.right_hands] * len(images))
        seen = first["uv"].double().cpu().numpy()
        views = [(images, Ks, seen, lambda look: look)]
        if self.mirrored:
            views.append((*mirror_view(images, Ks, seen), lambda look: mirror_back(look, images.shape[2])))
        looks = []
        for pictures, intrinsics, uv, back in views:
            tilts = [hand_tilt(u) for u in uv]
            looks += [back(read_turned(self.method, pictures, intrinsics, [tilt + turn for tilt in tilts], zoom, keys,
                                       batch["image"].device))
                      for turn, zoom in ((0.0, 1.0), *(AROUND if self.around else ()))]
        looks = [{k: torch.from_numpy(look[k]).to(first[k]) for k in keys} for look in looks]
        if self.around:
            return {**first, **_blend(looks, right_hand), "upright": torch.ones(len(images), dtype=torch.bool,
                                                                                device=first["uv"].device)}
        upright = looks[0]
        take = self._take_upright(first, upright, right_hand)
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
            turned_right, first_right = (_right_handed(look) for look in (upright, first))
            take = torch.where(right & (turned_right != first_right), turned_right, take)
        return take


class SecondLook(_Looks):
    """A method that reads either hand, each crop read twice: as given and mirrored and turned upright (turn_crop by
    hand_tilt of the first skeleton, mirrored back), the two looks blended joint by joint (_blend). again() takes the
    second look of crops whose first look is known; predict() both. Everything else is the method's."""

    def __init__(self, method: nn.Module):
        super().__init__()
        self.method = method

    @torch.no_grad()
    def predict(self, batch: dict) -> dict[str, torch.Tensor]:
        """The method's predict() dict with 'uv', 'xyz', 'verts' and 'confidence' blended from the two looks."""
        return self.again(batch, self.method.predict(batch))

    @torch.no_grad()
    def again(self, batch: dict, first: dict) -> dict[str, torch.Tensor]:
        """`first` (the method's predict() on `batch`) blended with the mirrored upright look of the batch's crops."""
        keys = [k for k in LOOK_KEYS if k in first]
        images, Ks = batch["image"].cpu().numpy(), batch["K"].double().cpu().numpy()
        pictures, intrinsics, uv = mirror_view(images, Ks, first["uv"].double().cpu().numpy())
        look = mirror_back(read_turned(self.method, pictures, intrinsics, [hand_tilt(u) for u in uv], 1.0, keys,
                                       batch["image"].device), images.shape[2])
        look = {k: torch.from_numpy(look[k]).to(first[k]) for k in keys}
        return {**first, **_blend([{k: first[k] for k in keys}, look], [False] * len(images))}


def mirror_view(images: np.ndarray, Ks: np.ndarray, uv: np.ndarray) -> tuple:
    """The crops (B, S, S, 3) mirrored, with their intrinsics (B, 3, 3) and a first skeleton (B, J, 2) mirrored
    alike: a second view of each hand for a model that reads either hand (mirror_back maps its answers back)."""
    size = images.shape[2]
    return np.ascontiguousarray(images[:, :, ::-1]), mirror_K(Ks, size), mirror_uv(uv, size)


def mirror_back(look: dict, size: int) -> dict:
    """Answers (numpy) read at mirror_view's crops, in the crops as given: uv mirrored back, xyz and verts through
    x = 0, the rest (confidence) as it is."""
    return {k: mirror_uv(v, size) if k == "uv" else mirror_xyz(v) if k in ("xyz", "verts") else v for k, v in look.items()}


def _right_handed(look: dict) -> torch.Tensor:
    """(B,) whether each hand of a look reads as a right hand (its 3D skeleton's curl)."""
    return torch.from_numpy(curl_chirality(look["xyz"].double().cpu().numpy()) > 0).to(look["uv"].device)


def _blend(looks: list[dict], right_hand) -> dict[str, torch.Tensor]:
    """Per hand, the looks' 'uv', 'xyz' and 'confidence' averaged joint by joint with weights confidence **
    SURE_POWER (equal without confidence), 'verts' with each look's mean joint weight; a known right hand's
    left-handed looks weigh nothing where one of its looks is right-handed."""
    first = looks[0]
    n, joints = first["uv"].shape[:2]
    if "confidence" in first:
        weight = torch.stack([look["confidence"].clamp_min(1e-6) ** SURE_POWER for look in looks])  # (L, B, J)
    else:
        weight = torch.ones(len(looks), n, joints, dtype=first["uv"].dtype, device=first["uv"].device)
    right = torch.as_tensor(np.asarray(right_hand, bool), device=weight.device)
    if right.any() and "xyz" in first:
        righty = torch.stack([_right_handed(look) for look in looks])  # (L, B)
        keep = ~right | ~righty.any(0) | righty  # a known right hand with a right-handed look drops its others
        weight = weight * keep[..., None].to(weight)
    out = {}
    for key in ("uv", "xyz", "confidence"):
        if key in first:
            stack = torch.stack([look[key] for look in looks])
            w = weight if stack.ndim == 3 else weight[..., None]
            out[key] = (stack * w).sum(0) / w.sum(0)
    if "verts" in first:
        w = weight.mean(-1)[..., None, None]
        out["verts"] = (torch.stack([look["verts"] for look in looks]) * w).sum(0) / w.sum(0)
    return out

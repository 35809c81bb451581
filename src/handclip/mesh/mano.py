"""Reader of a user's MANO_RIGHT.pkl without chumpy (MANO is licence-restricted: never shipped here).

The official pickle (Python 2, latin-1) stores some arrays as chumpy `Ch` objects; the reader
replaces every chumpy class by a stand-in that keeps the pickled state, then takes each stand-in's
value array `x`. scipy sparse classes are resolved from scipy.sparse whatever their old module path.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from handclip.skeleton import to_canonical

# vertex ids of the fingertips on MANO's 778-vertex mesh, in MANO's finger order (index, middle,
# little, ring, thumb): they become joints 16-20 of the "mano" map of handclip.skeleton
MANO_TIP_VERTICES = (317, 444, 673, 556, 745)


class _ChumpyStandIn:
    """Holds the pickled state of a chumpy object; its array value is state['x']."""

    def __init__(self, *args, **kwargs):
        self.state = {}

    def __setstate__(self, state):
        self.state = state if isinstance(state, dict) else {"x": state}


class _ManoUnpickler(pickle.Unpickler):
    """Unpickler mapping chumpy classes to _ChumpyStandIn and old scipy.sparse paths to scipy.sparse."""

    def find_class(self, module, name):
        if module.split(".")[0] == "chumpy":
            return _ChumpyStandIn
        if module.startswith("scipy.sparse"):
            import scipy.sparse

            return getattr(scipy.sparse, name)
        return super().find_class(module, name)


def _array(value, key: str, path: Path) -> np.ndarray:
    """A plain array from an ndarray, a sparse matrix or a chumpy stand-in."""
    if isinstance(value, _ChumpyStandIn):
        if "x" not in value.state:
            raise ValueError(f"{path}: '{key}' is a chumpy object without a value array 'x'")
        value = value.state["x"]
    if hasattr(value, "toarray"):
        value = value.toarray()
    return np.asarray(value)


def load_mano(path: str | Path) -> dict[str, np.ndarray]:
    """MANO right-hand template: 'vertices' (778, 3) mm, 'faces' (1538, 3), 'joints' (21, 3) mm canonical order."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(
            f"MANO model {path} not found: register at https://mano.is.tue.mpg.de, download MANO_RIGHT.pkl "
            "and pass its path (it cannot be shipped with handclip)"
        )
    with open(path, "rb") as fh:
        try:
            data = _ManoUnpickler(fh, encoding="latin1").load()
        except (pickle.UnpicklingError, EOFError, AttributeError) as err:
            raise ValueError(f"{path}: not a readable MANO pickle ({err})") from err
    missing = [k for k in ("v_template", "f", "J_regressor") if k not in data]
    if missing:
        raise ValueError(f"{path}: MANO pickle lacks {missing}")
    vertices = _array(data["v_template"], "v_template", path).astype(np.float64) * 1000.0
    faces = _array(data["f"], "f", path).astype(np.int64)
    regressor = _array(data["J_regressor"], "J_regressor", path).astype(np.float64)
    if vertices.shape[0] <= max(MANO_TIP_VERTICES) or regressor.shape != (16, vertices.shape[0]):
        raise ValueError(f"{path}: expected 778 vertices and a 16 x 778 J_regressor, got {vertices.shape}, {regressor.shape}")
    mano21 = np.concatenate([regressor @ vertices, vertices[list(MANO_TIP_VERTICES)]])
    return {"vertices": vertices, "faces": faces, "joints": to_canonical(mano21, "mano")}

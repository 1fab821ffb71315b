"""A float32 array as the file `torch.save` writes for a tensor, written without torch (the API's image has none):
Kokoro's voice packs are such `.pt` files, and `torch.load(..., weights_only=True)` reads this one.

The format is a zip archive, stored uncompressed: `data.pkl`, a pickle that rebuilds the tensor from a storage
it names by key; the storage's bytes (little-endian) under `data/<key>`; the byte order and format version. The
pickle is written opcode by opcode, since pickling torch's functions by name would import torch."""
from __future__ import annotations

import io
import pickle
import struct
import zipfile

import numpy as np

FORMAT_VERSION = "3\n"  # torch's serialization format version, as torch.save writes it today


def tensor_file(array: np.ndarray, archive: str) -> bytes:
    """The `.pt` file of `array` (as float32); `archive` names the folder inside the zip."""
    values = np.ascontiguousarray(array, dtype="<f4")
    strides = [stride // values.itemsize for stride in values.strides]
    storage = pickle.MARK + _text("storage") + _global("torch", "FloatStorage") + _text("0") + _text("cpu") \
        + _int(values.size) + pickle.TUPLE + pickle.BINPERSID
    no_hooks = _global("collections", "OrderedDict") + pickle.EMPTY_TUPLE + pickle.REDUCE
    data_pkl = pickle.PROTO + bytes([2]) + _global("torch._utils", "_rebuild_tensor_v2") + pickle.MARK + storage \
        + _int(0) + _ints(values.shape) + _ints(strides) + pickle.NEWFALSE + no_hooks + pickle.TUPLE \
        + pickle.REDUCE + pickle.STOP
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive_file:
        archive_file.writestr(f"{archive}/data.pkl", data_pkl)
        archive_file.writestr(f"{archive}/byteorder", "little")
        archive_file.writestr(f"{archive}/data/0", values.tobytes())
        archive_file.writestr(f"{archive}/version", FORMAT_VERSION)
    return out.getvalue()


def _global(module: str, name: str) -> bytes:
    return pickle.GLOBAL + f"{module}\n{name}\n".encode()


def _text(value: str) -> bytes:
    encoded = value.encode()
    return pickle.BINUNICODE + struct.pack("<I", len(encoded)) + encoded


def _int(value: int) -> bytes:
    return pickle.BININT + struct.pack("<i", value)


def _ints(values) -> bytes:
    return pickle.MARK + b"".join(_int(value) for value in values) + pickle.TUPLE

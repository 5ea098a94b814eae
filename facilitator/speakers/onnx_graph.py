"""A minimal ONNX model writer: protobuf wire format by hand, so building a graph for
onnxruntime needs neither the `onnx` package nor torch.

Only what `campplus.py` needs: float32 / int64 initializers, nodes with int, float and
ints attributes, inputs and outputs with symbolic dimensions.
"""

from __future__ import annotations

import struct

import numpy as np

FLOAT = 1
INT64 = 7
_DTYPES = {np.dtype(np.float32): FLOAT, np.dtype(np.int64): INT64}


def _varint(n: int) -> bytes:
    out = bytearray()
    n &= (1 << 64) - 1
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _key(field: int, wire: int) -> bytes:
    return _varint((field << 3) | wire)


def _int(field: int, value: int) -> bytes:
    return _key(field, 0) + _varint(int(value))


def _bytes(field: int, value: bytes | str) -> bytes:
    if isinstance(value, str):
        value = value.encode()
    return _key(field, 2) + _varint(len(value)) + value


def _float(field: int, value: float) -> bytes:
    return _key(field, 5) + struct.pack("<f", value)


def tensor(name: str, array: np.ndarray) -> bytes:
    """TensorProto: dims, data_type, name, raw_data."""
    array = np.ascontiguousarray(array)
    body = b"".join(_int(1, d) for d in array.shape)
    return body + _int(2, _DTYPES[array.dtype]) + _bytes(8, name) + _bytes(9, array.tobytes())


def _attribute(name: str, value: int | float | list[int]) -> bytes:
    if isinstance(value, float):
        return _bytes(1, name) + _float(2, value) + _int(20, 1)
    if isinstance(value, int):
        return _bytes(1, name) + _int(3, value) + _int(20, 2)
    return _bytes(1, name) + b"".join(_int(8, v) for v in value) + _int(20, 7)


def node(op: str, inputs: list[str], outputs: list[str], **attrs: int | float | list[int]) -> bytes:
    """NodeProto: inputs, outputs, op_type, attributes."""
    body = b"".join(_bytes(1, i) for i in inputs) + b"".join(_bytes(2, o) for o in outputs)
    body += _bytes(4, op)
    return body + b"".join(_bytes(5, _attribute(k, v)) for k, v in attrs.items())


def value_info(name: str, elem_type: int, dims: list[int | str]) -> bytes:
    """ValueInfoProto of a tensor; a str dimension is symbolic."""
    shape = b"".join(_bytes(1, _int(1, d) if isinstance(d, int) else _bytes(2, d)) for d in dims)
    tensor_type = _int(1, elem_type) + _bytes(2, shape)
    return _bytes(1, name) + _bytes(2, _bytes(1, tensor_type))


def model(nodes: list[bytes], initializers: list[bytes], inputs: list[bytes],
          outputs: list[bytes], opset: int = 17) -> bytes:
    """Serialized ModelProto (IR version 8) of one graph."""
    graph = b"".join(_bytes(1, n) for n in nodes) + _bytes(2, "graph")
    graph += b"".join(_bytes(5, t) for t in initializers)
    graph += b"".join(_bytes(11, v) for v in inputs) + b"".join(_bytes(12, v) for v in outputs)
    return _int(1, 8) + _bytes(8, _bytes(1, "") + _int(2, opset)) + _bytes(7, graph)


class GraphBuilder:
    """Collects nodes and initializers, naming their outputs."""

    def __init__(self) -> None:
        self.nodes: list[bytes] = []
        self.initializers: list[bytes] = []
        self.count = 0

    def _name(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def const(self, array: np.ndarray) -> str:
        name = self._name("c")
        self.initializers.append(tensor(name, np.asarray(array)))
        return name

    def op(self, op_type: str, inputs: list[str], output: str | None = None,
           **attrs: int | float | list[int]) -> str:
        out = output or self._name(op_type.lower())
        self.nodes.append(node(op_type, inputs, [out], **attrs))
        return out

    def model(self, inputs: list[bytes], outputs: list[bytes]) -> bytes:
        return model(self.nodes, self.initializers, inputs, outputs)

"""Building ONNX graphs for onnxruntime from numpy weights (with the `onnx` package).

`campplus.py` and `segmentation.py` rebuild networks whose weights come as PyTorch
checkpoints; this names the nodes and initializers so those modules only say what is
computed.
"""

from __future__ import annotations

import numpy as np
from onnx import TensorProto, ValueInfoProto, helper, numpy_helper

FLOAT = TensorProto.FLOAT
OPSET = 17


def value_info(name: str, elem_type: int, dims: list[int | str]) -> ValueInfoProto:
    """An input or output; a str dimension is symbolic."""
    return helper.make_tensor_value_info(name, elem_type, dims)


class GraphBuilder:
    """Collects nodes and initializers, naming their outputs."""

    def __init__(self) -> None:
        self.nodes: list = []
        self.initializers: list = []
        self.count = 0

    def _name(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def const(self, array: np.ndarray) -> str:
        name = self._name("c")
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def op(self, op_type: str, inputs: list[str], output: str | None = None,
           **attrs: object) -> str:
        out = output or self._name(op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], **attrs))
        return out

    def model(self, inputs: list[ValueInfoProto], outputs: list[ValueInfoProto]) -> bytes:
        """The serialized model (IR version 8, opset 17)."""
        graph = helper.make_graph(self.nodes, "graph", inputs, outputs, self.initializers)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
        model.ir_version = 8
        return model.SerializeToString()

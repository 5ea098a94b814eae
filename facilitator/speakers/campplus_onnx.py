"""CAM++'s frame-level network (`campplus.CAMPPlus.frames`) written out as an ONNX graph
for onnxruntime: the same arithmetic as the numpy forward pass, from the same folded
weights, about twice as fast on onnxruntime's convolutions.
"""

from __future__ import annotations

import numpy as np

from facilitator.speakers.kaldi_fbank import N_MELS
from facilitator.speakers.onnx_graph import FLOAT, GraphBuilder, value_info


def frames_graph(model) -> bytes:  # noqa: ANN001 (a campplus.CAMPPlus)
    """`model.frames` as a serialized ONNX model: input "fbank" (B, 1, 80, T), output
    "frames" (B, 512, T')."""
    g = GraphBuilder()
    i64 = lambda *v: g.const(np.array(v, np.int64))  # noqa: E731

    def conv2d(x: str, w: np.ndarray, b: np.ndarray, stride: int, k: int = 3) -> str:
        weight = w.reshape(w.shape[0], -1, k, k)
        pads = [k // 2] * 4
        return g.op("Conv", [x, g.const(weight), g.const(b)], kernel_shape=[k, k],
                    strides=[stride, 1], pads=pads)

    def affine_relu(x: str, scale: np.ndarray, shift: np.ndarray) -> str:
        y = g.op("Mul", [x, g.const(scale.reshape(1, -1, 1))])
        return g.op("Relu", [g.op("Add", [y, g.const(shift.reshape(1, -1, 1))])])

    x = g.op("Relu", [conv2d("fbank", *model.head_conv1, 1)])
    for (w1, b1), (w2, b2), short, stride in model.head:
        out = g.op("Relu", [conv2d(x, w1, b1, stride)])
        out = conv2d(out, w2, b2, 1)
        sc = x if short is None else conv2d(x, short[0], short[1], stride, k=1)
        x = g.op("Relu", [g.op("Add", [out, sc])])
    x = g.op("Relu", [conv2d(x, *model.head_conv2, 2)])
    x = g.op("Reshape", [x, i64(0, model.tdnn[0].shape[1], -1)])
    w, b = model.tdnn
    x = g.op("Relu", [g.op("Conv", [x, g.const(w), g.const(b)], kernel_shape=[5], strides=[2],
                           pads=[2, 2])])
    for block, dilation, (tscale, tshift), transit_w in model.blocks:
        for (scale, shift), (w1, b1), local, (c1w, c1b), (c2w, c2b) in block:
            h = affine_relu(x, scale, shift)
            h = g.op("Relu", [g.op("Conv", [h, g.const(w1[:, :, None]), g.const(b1)],
                                   kernel_shape=[1])])
            y = g.op("Conv", [h, g.const(local)], kernel_shape=[3], dilations=[dilation],
                     pads=[dilation, dilation])
            whole = g.op("ReduceMean", [h], axes=[2], keepdims=1)
            context = _segment_context(g, h, whole, w1.shape[0], i64)
            gate = g.op("Relu", [g.op("Conv", [context, g.const(c1w[:, :, None]),
                                               g.const(c1b)], kernel_shape=[1])])
            gate = g.op("Sigmoid", [g.op("Conv", [gate, g.const(c2w[:, :, None]),
                                                  g.const(c2b)], kernel_shape=[1])])
            x = g.op("Concat", [x, g.op("Mul", [y, gate])], axis=1)
        x = g.op("Conv", [affine_relu(x, tscale, tshift), g.const(transit_w[:, :, None])],
                 kernel_shape=[1])
    scale, shift = model.out_bn
    y = g.op("Mul", [x, g.const(scale.reshape(1, -1, 1))])
    y = g.op("Add", [y, g.const(shift.reshape(1, -1, 1))])
    g.op("Relu", [y], output="frames")
    return g.model([value_info("fbank", FLOAT, ["B", 1, N_MELS, "T"])],
                   [value_info("frames", FLOAT, ["B", model.channels, "T2"])])


def _segment_context(g, h: str, whole: str, channels: int, i64) -> str:  # noqa: ANN001
    """Whole mean + mean of the 100-frame segment each frame is in (CAM context)."""
    seg = g.op("AveragePool", [h], kernel_shape=[100], strides=[100], ceil_mode=1)
    seg = g.op("Unsqueeze", [seg, i64(3)])
    lead = g.op("Slice", [g.op("Shape", [seg]), i64(0), i64(3)])
    target = g.op("Concat", [lead, i64(100)], axis=0)
    seg = g.op("Reshape", [g.op("Expand", [seg, target]), i64(0, channels, -1)])
    length = g.op("Slice", [g.op("Shape", [h]), i64(2), i64(3)])
    seg = g.op("Slice", [seg, i64(0), length, i64(2)])
    return g.op("Add", [whole, seg])

